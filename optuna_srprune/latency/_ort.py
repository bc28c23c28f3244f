"""The ONNX Runtime CPU back-end: networks run as they are deployed, from ONNX graphs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from optuna_srprune._imports import try_import
from optuna_srprune.config import LayerSpec
from optuna_srprune.latency._backend import check_threads
from optuna_srprune.latency._backend import cpu_model
from optuna_srprune.latency._backend import LatencyBackend
from optuna_srprune.latency._backend import Runner
from optuna_srprune.latency._onnx_graph import build_layer_model
from optuna_srprune.latency._onnx_graph import build_onnx_model
from optuna_srprune.latency._onnx_graph import build_ops_model
from optuna_srprune.latency._onnx_graph import IMAGE_CHANNELS
from optuna_srprune.latency._onnx_graph import layer_input_shapes
from optuna_srprune.latency._ort_profile import profile_runs
from optuna_srprune.latency._timing import summarize
from optuna_srprune.latency._timing import Timing


class OnnxRuntimeBackend(LatencyBackend):
    """ONNX Runtime's CPU execution provider, all graph optimisations on, float32.

    A layer's latency is the sum of the kernel times ORT's profiler reports for the nodes it becomes
    (the conv with what fused into it, DepthToSpace, the skip), without the NCHWc layout conversions
    that a one-layer graph needs at its borders but a network needs only once, at its ends.
    Fusion probes time graphs through an ``IOBinding`` with inputs and output bound once. Whole
    networks are timed as deployed: ``session.run`` on a NumPy input, which adds the per-run overhead
    (layout conversions at the ends, output copy, thread-pool wake-up) that the predictor fits per
    network.

    Example:

        .. code::

            from optuna_srprune.config import LayerSpec
            from optuna_srprune.latency import OnnxRuntimeBackend

            backend = OnnxRuntimeBackend(threads=1)
            layer = LayerSpec("head", "conv", 3, 8, 3, 1, 16, 16)
            (timing,) = backend.measure_layers([layer], warmup=1, repeats=3)
            assert timing.median_ms > 0

    Args:
        threads: Intra-op threads (default: all cores).
        spin: Let idle pool threads spin between runs, ORT's default and how most deployments run;
            ``False`` frees the cores at once, which suits a machine shared with other work but
            makes each run pay for waking the pool.
    """

    name = "onnxruntime"

    def __init__(self, threads: int | None = None, spin: bool = True) -> None:
        self.threads = check_threads(threads)
        self.spin = bool(spin)
        self._ort: Any = try_import("onnxruntime")

    def fingerprint(self) -> str:
        # "kernels=profiled" and "spin": how layers are timed; tables timed another way must not mix.
        return (
            f"onnxruntime-{self._ort.__version__}|kernels=profiled|spin={'on' if self.spin else 'off'}"
            f"|cpu={cpu_model()}|threads={self.threads}|float32"
        )

    def session(self, model: Any, profile_prefix: str | None = None) -> Any:
        """An ``InferenceSession`` for ``model`` (a ``ModelProto``) with this back-end's settings.

        With ``profile_prefix``, ORT's per-node profiler writes there.
        """
        ort = self._ort
        options = ort.SessionOptions()
        if profile_prefix is not None:
            options.enable_profiling = True
            options.profile_file_prefix = profile_prefix
        options.intra_op_num_threads = self.threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if self.spin else "0")
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])

    def _bound_runner(self, session: Any, feeds: dict[str, np.ndarray]) -> Runner:
        ort = self._ort
        binding = session.io_binding()
        for name, array in feeds.items():
            binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(array))
        # One run to learn the output shape, then bind a buffer that every later run reuses.
        (out,) = session.run(None, feeds)
        binding.bind_ortvalue_output("output", ort.OrtValue.ortvalue_from_numpy(np.empty_like(out)))

        def run() -> object:
            session.run_with_iobinding(binding)
            return None

        return run

    def measure_layers(
        self,
        layers: Sequence[LayerSpec],
        *,
        warmup: int = 3,
        repeats: int = 10,
        max_repeats: int | None = None,
    ) -> list[Timing]:
        """Each layer's own kernel time, from ORT's profiler (see ``_ort_profile``).

        With ``max_repeats``, each layer is timed until its median is stable (see
        :meth:`LatencyBackend.measure_layers`).
        """
        timings = []
        for layer in layers:
            model = build_layer_model(layer)
            rng = np.random.default_rng(0)
            feeds = {n: rng.random(s, dtype=np.float32) for n, s in layer_input_shapes(layer).items()}

            def make_session(profile_prefix: str, model: Any = model) -> Any:
                return self.session(model, profile_prefix)

            timings.append(summarize(profile_runs(make_session, feeds, warmup, repeats, max_repeats)))
        return timings

    def prepare_ops(self, ops: Sequence[str], channels: int, height: int, width: int) -> Runner:
        x = np.random.default_rng(0).random((1, channels, height, width), dtype=np.float32)
        return self._bound_runner(self.session(build_ops_model(ops, channels)), {"x": x})

    def prepare_network(self, layers: Sequence[LayerSpec], scale: int) -> Runner:
        session = self.session(build_onnx_model(layers, scale))
        shape = (1, IMAGE_CHANNELS, layers[0].height, layers[0].width)
        feeds = {"input": np.random.default_rng(0).random(shape, dtype=np.float32)}

        def run() -> object:
            return session.run(None, feeds)

        return run
