"""Compiler-aware latency: back-ends, kernel profiling, SQL lookup tables and ``LatencyPredictor``.

A network is the chain of :class:`~optuna_srprune.config.LayerSpec` it executes. Each layer (a conv
with what follows it: ReLU, residual add, global skip, depth-to-space) is one lookup-table kernel,
keyed by ``LayerSpec.key()`` and timed inside a graph that runs exactly what the deployed network runs
for it. A network's latency is ``intercept + slope * sum(kernels)``, the overhead fitted per device,
scale and size from a few end-to-end runs.

Kernel fusion rules, measured with :func:`detect_fusion` (nn-Meter's rule
``T(a) + T(b) - T(ab) > 0.5 * min(T(a), T(b))``; figures in ``benchmarks/results/fusion_*.md``):

- ONNX Runtime 1.32 CPU (graph optimisations on): Conv+Relu fuse (``FusedConv``), Conv+Add fuse
  (the residual becomes the conv's ``Z`` input), so a layer's conv, activation and block residual are
  one kernel; Add+DepthToSpace and Conv+DepthToSpace do not fuse (DepthToSpace is a separate copy);
  conv->conv never fuses.
- PyTorch eager: nothing fuses (every op is its own kernel launch).

Neither back-end fuses across consecutive convolutions, the only place where the table cuts a network,
so summing per-layer kernels is sound; whatever fuses *within* a layer is measured together.

Importing this package does not import torch (the torch back-end imports it lazily).
"""

from __future__ import annotations

from optuna_srprune.latency._backend import cpu_model
from optuna_srprune.latency._backend import default_threads
from optuna_srprune.latency._backend import LatencyBackend
from optuna_srprune.latency._fusion import detect_fusion
from optuna_srprune.latency._fusion import FusionResult
from optuna_srprune.latency._onnx_graph import build_layer_model
from optuna_srprune.latency._onnx_graph import build_onnx_model
from optuna_srprune.latency._ort import OnnxRuntimeBackend
from optuna_srprune.latency._predictor import DEFAULT_HR_SIZE
from optuna_srprune.latency._predictor import LatencyPredictor
from optuna_srprune.latency._predictor import LayerLatency
from optuna_srprune.latency._profile import calibrate
from optuna_srprune.latency._profile import CalibrationReport
from optuna_srprune.latency._profile import fit_overhead
from optuna_srprune.latency._table import DEFAULT_STORAGE
from optuna_srprune.latency._table import LatencyTable
from optuna_srprune.latency._table import mask_url
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
    "BACKENDS",
    "DEFAULT_HR_SIZE",
    "DEFAULT_STORAGE",
    "CalibrationReport",
    "FusionResult",
    "LatencyBackend",
    "LatencyPredictor",
    "LatencyTable",
    "LayerLatency",
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
    "mask_url",
]
