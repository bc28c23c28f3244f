"""Compiler-aware latency: back-ends, kernel profiling, SQL lookup tables and ``LatencyPredictor``.

A network is the chain of :class:`~optuna_srprune.config.LayerSpec` it executes. Each layer (a conv
with what follows it: ReLU, residual add, global skip, depth-to-space) is one lookup-table kernel,
keyed by ``LayerSpec.key()`` and timed inside a graph that runs exactly what the deployed network runs
for it. A network's latency is ``intercept + slope * sum(kernels)``, the overhead fitted per device,
scale and size from a few end-to-end runs.

Kernel fusion, measured with :func:`detect_fusion` (nn-Meter's rule
``T(a) + T(b) - T(ab) > 0.5 * min(T(a), T(b))``; tables in ``benchmarks/results/latency_accuracy_*.md``).
The table never relies on an assumed rule: everything that follows a conv inside one layer (ReLU,
residual add, global skip, DepthToSpace) is timed *together*, in the same graph form the deployed
network uses, so a fusion there is captured whether or not it happens. The table only cuts a network
between consecutive convolutions, which is valid when conv->conv pairs do not fuse; that holds for
both back-ends by construction (ONNX Runtime has no conv+conv fusion; PyTorch eager fuses nothing).
What the probes found with the trainers paused (32 channels at 180x320, 2 threads;
``benchmarks/results/latency_accuracy_n100.md``):

- ONNX Runtime 1.32 CPU: Conv+ReLU fuse (the activation runs inside the blocked-layout NCHWc conv,
  3x3 and 1x1). The residual Add is folded into the conv as its ``Sum`` input but keeps its memory
  cost, so by the rule it does not fuse; nor do Add+DepthToSpace or Conv+DepthToSpace. 3x3 convs do
  not fuse with each other; chains of 1x1 convs pass the rule (their intermediate map stays in
  cache), an effect a per-layer table cannot see. ORT converts to and from its blocked layout at a
  graph's ends (``ReorderInput``/``ReorderOutput``): layers are timed from ORT's per-node profile
  without those conversions, and the fitted per-network overhead holds the one a network does.
- PyTorch eager: nothing fuses (every op is its own kernel launch; all gains near 0).

Importing this package does not import torch (the torch back-end imports it lazily).
"""

from __future__ import annotations

from optuna_srprune._defaults import DEFAULT_HR_SIZE
from optuna_srprune._defaults import DEFAULT_STORAGE
from optuna_srprune._redact import mask_url
from optuna_srprune.latency._backend import cpu_model
from optuna_srprune.latency._backend import default_threads
from optuna_srprune.latency._backend import LatencyBackend
from optuna_srprune.latency._fusion import detect_fusion
from optuna_srprune.latency._fusion import FusionResult
from optuna_srprune.latency._model import LatencyModel
from optuna_srprune.latency._noise import ACCEPT_NOISE_ENV
from optuna_srprune.latency._noise import DEFAULT_MAX_NOISE
from optuna_srprune.latency._noise import NoisyMachineError
from optuna_srprune.latency._onnx_graph import build_layer_model
from optuna_srprune.latency._onnx_graph import build_onnx_model
from optuna_srprune.latency._ort import OnnxRuntimeBackend
from optuna_srprune.latency._predictor import LatencyPredictor
from optuna_srprune.latency._predictor import LayerLatency
from optuna_srprune.latency._profile import calibrate
from optuna_srprune.latency._profile import CalibrationReport
from optuna_srprune.latency._profile import fit_overhead
from optuna_srprune.latency._table import LatencyTable
from optuna_srprune.latency._timing import time_networks
from optuna_srprune.latency._timing import Timing
from optuna_srprune.latency._torch import build_torch_model
from optuna_srprune.latency._torch import TorchBackend

BACKENDS: dict[str, type[LatencyBackend]] = {"onnxruntime": OnnxRuntimeBackend, "torch": TorchBackend}


def make_backend(name: str, threads: int | None = None) -> LatencyBackend:
    """A built-in back-end by name (``"onnxruntime"`` or ``"torch"``)."""
    from optuna_srprune.exceptions import ConfigError

    if name not in BACKENDS:
        raise ConfigError(f"Unknown latency back-end {name!r}; choose one of {sorted(BACKENDS)}.")
    return BACKENDS[name](threads=threads)  # type: ignore[call-arg]


__all__ = [
    "ACCEPT_NOISE_ENV",
    "BACKENDS",
    "DEFAULT_MAX_NOISE",
    "DEFAULT_HR_SIZE",
    "DEFAULT_STORAGE",
    "CalibrationReport",
    "FusionResult",
    "LatencyBackend",
    "LatencyModel",
    "LatencyPredictor",
    "LatencyTable",
    "LayerLatency",
    "NoisyMachineError",
    "OnnxRuntimeBackend",
    "Timing",
    "TorchBackend",
    "build_layer_model",
    "build_onnx_model",
    "build_torch_model",
    "calibrate",
    "cpu_model",
    "default_threads",
    "detect_fusion",
    "fit_overhead",
    "make_backend",
    "time_networks",
    "mask_url",
]
