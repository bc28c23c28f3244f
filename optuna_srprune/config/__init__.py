"""Network shape: :class:`SubnetConfig`, its blocks, and the layers it executes (no torch here)."""

from __future__ import annotations

from optuna_srprune.config._blocks import full_config
from optuna_srprune.config._blocks import trunk_after
from optuna_srprune.config._blocks import unpruned_channels
from optuna_srprune.config._blocks import WDSR_EXPANSION
from optuna_srprune.config._layers import count_macs
from optuna_srprune.config._layers import count_params
from optuna_srprune.config._layers import layer_shapes
from optuna_srprune.config._layers import layer_specs
from optuna_srprune.config._layers import LayerShape
from optuna_srprune.config._layers import LayerSpec
from optuna_srprune.config._layers import lr_size
from optuna_srprune.config._layers import receptive_radius
from optuna_srprune.config._subnet import BLOCK_KINDS
from optuna_srprune.config._subnet import BlockConfig
from optuna_srprune.config._subnet import SCALES
from optuna_srprune.config._subnet import SubnetConfig
from optuna_srprune.config._subnet import TAILS

__all__ = [
    "BLOCK_KINDS",
    "SCALES",
    "TAILS",
    "WDSR_EXPANSION",
    "BlockConfig",
    "LayerShape",
    "LayerSpec",
    "SubnetConfig",
    "count_macs",
    "count_params",
    "full_config",
    "layer_shapes",
    "layer_specs",
    "lr_size",
    "receptive_radius",
    "trunk_after",
    "unpruned_channels",
]
