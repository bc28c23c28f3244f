"""The one torch runner of a layer list: what the supernet, ``SRNet`` and the torch back-end execute.

It sits below both ``supernet`` and ``latency`` (which never imports the supernet), so that the
network the torch back-end times is the network that is trained and shipped.
"""

from __future__ import annotations

from optuna_srprune.nn._runner import ConvFn
from optuna_srprune.nn._runner import finish_layer
from optuna_srprune.nn._runner import LayerNet
from optuna_srprune.nn._runner import make_conv
from optuna_srprune.nn._runner import module_name
from optuna_srprune.nn._runner import run_layers

__all__ = ["ConvFn", "LayerNet", "finish_layer", "make_conv", "module_name", "run_layers"]
