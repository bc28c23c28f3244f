"""Network shape: :class:`SubnetConfig` and the layers it executes (no torch here)."""

from __future__ import annotations

from optuna_srprune.config._layers import count_macs
from optuna_srprune.config._layers import count_params
from optuna_srprune.config._layers import layer_specs
from optuna_srprune.config._layers import LayerSpec
from optuna_srprune.config._layers import lr_size
from optuna_srprune.config._subnet import BLOCK_KINDS
from optuna_srprune.config._subnet import BlockConfig
from optuna_srprune.config._subnet import SCALES
from optuna_srprune.config._subnet import SubnetConfig
from optuna_srprune.config._subnet import TAILS

__all__ = [
    "BLOCK_KINDS",
    "SCALES",
    "TAILS",
    "BlockConfig",
    "LayerSpec",
    "SubnetConfig",
    "count_macs",
    "count_params",
    "layer_specs",
    "lr_size",
]
