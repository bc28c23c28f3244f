"""The PyTorch eager back-end (torch is imported only when this back-end is used)."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import numpy as np

from optuna_srprune._imports import try_import
from optuna_srprune.config import LayerShape
from optuna_srprune.config import LayerSpec
from optuna_srprune.latency._backend import check_threads
from optuna_srprune.latency._backend import cpu_model
from optuna_srprune.latency._backend import LatencyBackend
from optuna_srprune.latency._backend import Runner
from optuna_srprune.latency._malloc import can_keep_freed_memory
from optuna_srprune.latency._malloc import keep_freed_memory
from optuna_srprune.latency._onnx_graph import IMAGE_CHANNELS
from optuna_srprune.latency._onnx_graph import layer_input_shapes


def build_torch_model(
    layers: Sequence[LayerShape], scale: int, weights: Mapping[str, np.ndarray] | None = None
) -> Any:
    """The ``torch.nn.Module`` the torch back-end times: ``layers`` run by the one torch runner.

    It is an :class:`optuna_srprune.nn.LayerNet` (what ``SRNet`` is, and what the supernet's active
    path runs), in eval mode, with in-place element-wise ops. ``weights`` are by ONNX initializer
    name (``"<layer name>.weight"``, ``".bias"``; random if ``None``). See
    :func:`~optuna_srprune.latency.build_onnx_model` for the semantics; ``scale`` is accepted for
    symmetry (the layers carry their pixel-shuffle factors).
    """
    torch = try_import("torch")
    from optuna_srprune.nn import LayerNet  # imports torch, which this package does only when used

    net = LayerNet(layers, inplace=True)
    if weights is not None:
        with torch.no_grad():
            for layer in layers:
                conv = net.conv(layer.name)
                assert conv.bias is not None  # make_conv's convs have biases
                conv.weight.copy_(torch.from_numpy(np.asarray(weights[f"{layer.name}.weight"])))
                conv.bias.copy_(torch.from_numpy(np.asarray(weights[f"{layer.name}.bias"])))
    return net.eval()


class TorchBackend(LatencyBackend):
    """PyTorch eager execution in ``torch.inference_mode``, float32, on the CPU.

    Example:

        .. code::

            from optuna_srprune.config import LayerSpec
            from optuna_srprune.latency import TorchBackend

            backend = TorchBackend(threads=1)
            layer = LayerSpec("head", "conv", 3, 8, 3, 1, 16, 16)
            (timing,) = backend.measure_layers([layer], warmup=1, repeats=3)
            assert timing.median_ms > 0

    Args:
        threads: Intra-op threads (default: all cores); set process-wide with
            ``torch.set_num_threads`` when a kernel or network is prepared.
        keep_memory: Run as a tuned deployment does, with freed memory kept for reuse (glibc's
            ``mmap`` and heap trimming turned off process-wide when a kernel or network is prepared;
            see ``_malloc``). ``False`` measures glibc's defaults, where 720p networks spend more
            than half their time in page faults and a kernel's timing depends on what ran before
            it. The fingerprint says which (``malloc=kept`` or ``malloc=default``).
    """

    name = "torch"

    def __init__(self, threads: int | None = None, keep_memory: bool = True) -> None:
        self.threads = check_threads(threads)
        self.keep_memory = bool(keep_memory) and can_keep_freed_memory()

    def _torch(self) -> Any:
        torch = try_import("torch")
        if self.keep_memory:
            keep_freed_memory()
        if torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)
        return torch

    def fingerprint(self) -> str:
        torch = try_import("torch")
        malloc = "kept" if self.keep_memory else "default"
        return f"torch-{torch.__version__}|malloc={malloc}|cpu={cpu_model()}|threads={self.threads}|float32"

    def prepare_layer(self, layer: LayerSpec) -> Runner:
        torch = self._torch()
        from optuna_srprune.nn import finish_layer
        from optuna_srprune.nn import make_conv

        conv = make_conv(layer).eval()
        gen = torch.Generator().manual_seed(0)
        feeds = {n: torch.rand(s, generator=gen) for n, s in layer_input_shapes(layer).items()}

        def run() -> object:
            with torch.inference_mode():
                out = conv(feeds["x"])
                return finish_layer(layer, out, feeds.get("trunk"), feeds.get("input"), inplace=True)

        return run

    def prepare_network(self, layers: Sequence[LayerSpec], scale: int) -> Runner:
        torch = self._torch()
        model = build_torch_model(layers, scale)
        image = torch.rand((1, IMAGE_CHANNELS, layers[0].height, layers[0].width))

        def run() -> object:
            with torch.inference_mode():
                return model(image)

        return run

    def prepare_ops(self, ops: Sequence[str], channels: int, height: int, width: int) -> Runner:
        torch = self._torch()
        convs = {
            op: torch.nn.Conv2d(channels, channels, int(op[4]), padding=int(op[4]) // 2)
            for op in ops
            if op.startswith("conv")
        }
        x = torch.rand((1, channels, height, width))

        def run() -> object:
            with torch.inference_mode():
                y = x
                for op in ops:
                    if op.startswith("conv"):
                        y = convs[op](y)
                    elif op == "relu":
                        y = torch.relu(y)
                    elif op == "add":
                        y = y + x
                    else:
                        y = torch.nn.functional.pixel_shuffle(y, 2)
                return y

        return run
