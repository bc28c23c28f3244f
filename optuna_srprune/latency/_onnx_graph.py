"""ONNX graphs built directly from :class:`~optuna_srprune.config.LayerSpec` lists (no torch).

Graph semantics (the same as the supernet's): the layers run in order; ``activation="relu"`` follows
its conv; ``residual="block"`` adds the input of the last layer that ``opens_block``;
``residual="global"`` adds the network input upsampled by nearest neighbour (for a conv, the input
repeated ``pixel_shuffle^2`` times per channel before the depth-to-space; for a deconv, a nearest
``Resize``); a ``pixel_shuffle`` factor ends the layer with a depth-to-space. A ``"deconv"`` layer is a
``ConvTranspose`` of kernel = stride (the 1x1 sub-pixel conv as one op).

PyTorch's ``pixel_shuffle`` is ONNX ``DepthToSpace`` in CRD mode, and the global skip is
``repeat_interleave`` on the channel axis. We emit the equivalent DCR form instead: the conv's output
channels are permuted from CRD to DCR order once, at build time, so the skip becomes a plain
``Concat`` of the input with itself (no dynamic ``Reshape``/``Shape`` ops, and ONNX Runtime can fuse the
add into the conv). Weights are given in PyTorch layout and order; the permutation is internal.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
import importlib
import math
from types import ModuleType
from typing import Any
from typing import TYPE_CHECKING

import numpy as np

from optuna_srprune.config import LayerShape
from optuna_srprune.config import LayerSpec
from optuna_srprune.exceptions import ConfigError

if TYPE_CHECKING:
    import onnx

OPSET = 17
IMAGE_CHANNELS = 3


def _onnx() -> ModuleType:
    """The ``onnx`` package, imported on first use: reading studies and building the command line's
    parser import this package's names but never build a graph."""
    onnx = importlib.import_module("onnx")
    importlib.import_module("onnx.numpy_helper")
    return onnx


class _Graph:
    """Accumulates nodes, initializers and fresh tensor names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def node(self, op: str, inputs: list[str], hint: str, **attrs: Any) -> str:
        out = self.fresh(hint)
        self.nodes.append(_onnx().helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(
            _onnx().numpy_helper.from_array(np.ascontiguousarray(value, np.float32), name)
        )
        return name


def _layer_name(layer: LayerShape, index: int) -> str:
    return layer.name or f"layer{index}"


def weight_shape(layer: LayerShape) -> tuple[int, int, int, int]:
    """PyTorch (and ONNX) layout of a weight: ``(out, in, k, k)``; ``(in, out, k, k)`` for a deconv."""
    if layer.op == "deconv":
        return (layer.in_channels, layer.out_channels, layer.kernel, layer.kernel)
    return (layer.out_channels, layer.in_channels, layer.kernel, layer.kernel)


def _random_weights(layer: LayerShape, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    # He-scaled so activations stay in the normal float range (denormals would distort timings).
    fan_in = layer.in_channels * (1 if layer.op == "deconv" else layer.kernel * layer.kernel)
    shape = weight_shape(layer)
    weight = rng.normal(0.0, math.sqrt(1.0 / fan_in), shape).astype(np.float32)
    bias = rng.normal(0.0, 0.01, layer.out_channels).astype(np.float32)
    return weight, bias


def _layer_weights(
    layer: LayerShape, name: str, weights: Mapping[str, np.ndarray] | None, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    if weights is None:
        return _random_weights(layer, rng)
    try:
        weight, bias = np.asarray(weights[f"{name}.weight"]), np.asarray(weights[f"{name}.bias"])
    except KeyError as err:
        raise ConfigError(f"Weights for layer {name!r} are missing: no {err.args[0]!r}.") from None
    shape = weight_shape(layer)
    if weight.shape != shape or bias.shape != (layer.out_channels,):
        raise ConfigError(
            f"Layer {name!r} expects weight {shape} and bias ({layer.out_channels},), "
            f"got {weight.shape} and {bias.shape}."
        )
    return weight, bias


def _crd_to_dcr(array: np.ndarray, factor: int) -> np.ndarray:
    """Reorder output channels ``c*f^2 + k`` (PyTorch/CRD) to ``k*C + c`` (DCR)."""
    groups = array.shape[0] // (factor * factor)
    rest = array.shape[1:]
    return array.reshape(groups, factor * factor, *rest).swapaxes(0, 1).reshape(array.shape)


def _check_layer(layer: LayerShape, name: str) -> None:
    if layer.op not in ("conv", "deconv"):
        raise ConfigError(f"Layer {name!r} has op {layer.op!r}; only 'conv' and 'deconv' are supported.")
    if layer.op == "deconv" and (layer.kernel != layer.stride or layer.pixel_shuffle != 1):
        raise ConfigError(f"Layer {name!r}: a deconv needs kernel = stride and no pixel shuffle.")
    if layer.activation not in (None, "relu"):
        raise ConfigError(f"Layer {name!r} has unsupported activation {layer.activation!r}.")
    if layer.residual not in (None, "block", "global"):
        raise ConfigError(f"Layer {name!r} has unsupported residual {layer.residual!r}.")
    ps = layer.pixel_shuffle
    if ps < 1 or layer.out_channels % (ps * ps):
        raise ConfigError(f"Layer {name!r}: {layer.out_channels} channels cannot pixel-shuffle by {ps}.")
    if layer.residual == "global" and layer.out_channels != IMAGE_CHANNELS * ps * ps:
        raise ConfigError(
            f"Layer {name!r} adds the global skip, so it needs {IMAGE_CHANNELS * ps * ps} output "
            f"channels, got {layer.out_channels}."
        )


def _emit_layer(
    g: _Graph,
    layer: LayerShape,
    name: str,
    x: str,
    trunk: str | None,
    image: str | None,
    weight: np.ndarray,
    bias: np.ndarray,
) -> str:
    """Append the nodes of one layer; return the name of its output tensor."""
    _check_layer(layer, name)
    ps = layer.pixel_shuffle
    if ps > 1:
        weight, bias = _crd_to_dcr(weight, ps), _crd_to_dcr(bias, ps)
    w = g.constant(f"{name}.weight", weight)
    b = g.constant(f"{name}.bias", bias)
    k, stride = [layer.kernel] * 2, [layer.stride] * 2
    if layer.op == "deconv":
        y = g.node("ConvTranspose", [x, w, b], f"{name}.deconv", kernel_shape=k, strides=stride)
    else:
        pad = (layer.kernel - 1) // 2
        y = g.node("Conv", [x, w, b], f"{name}.conv", kernel_shape=k, strides=stride, pads=[pad] * 4)
    if layer.activation == "relu":
        y = g.node("Relu", [y], f"{name}.relu")
    if layer.residual == "block":
        if trunk is None:
            raise ConfigError(f"Layer {name!r} adds a block residual but no trunk tensor precedes it.")
        y = g.node("Add", [y, trunk], f"{name}.add")
    elif layer.residual == "global":
        assert image is not None
        if layer.op == "deconv":
            up = float(layer.upscale)
            scales = g.constant(f"{name}.skip_scales", np.array([1.0, 1.0, up, up]))
            skip = g.node(
                "Resize",
                [image, "", scales],
                f"{name}.skip",
                mode="nearest",
                coordinate_transformation_mode="asymmetric",
                nearest_mode="floor",
            )
        else:
            skip = image if ps == 1 else g.node("Concat", [image] * (ps * ps), f"{name}.skip", axis=1)
        y = g.node("Add", [y, skip], f"{name}.add")
    if ps > 1:
        y = g.node("DepthToSpace", [y], f"{name}.d2s", blocksize=ps, mode="DCR")
    return y


def _value_info(name: str, channels: int, scale: int = 1) -> onnx.ValueInfoProto:
    dims: list[int | str] = ["batch", channels, "height" if scale == 1 else f"height*{scale}"]
    dims.append("width" if scale == 1 else f"width*{scale}")
    onnx = _onnx()
    return onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, dims)


def _finish(
    g: _Graph, inputs: list[onnx.ValueInfoProto], output: onnx.ValueInfoProto, out: str
) -> onnx.ModelProto:
    onnx = _onnx()
    helper = onnx.helper
    g.nodes.append(helper.make_node("Identity", [out], [output.name], name="output_identity"))
    graph = helper.make_graph(g.nodes, "srprune", inputs, [output], initializer=g.initializers)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="optuna-srprune"
    )
    onnx.checker.check_model(model)
    return model


def build_onnx_model(
    layers: Sequence[LayerShape],
    scale: int,
    weights: Mapping[str, np.ndarray] | None = None,
    *,
    seed: int = 0,
) -> onnx.ModelProto:
    """An ONNX model executing ``layers`` (e.g. from :func:`~optuna_srprune.config.layer_shapes`).

    The model has one input ``"input"`` (NCHW float32, 3 channels, dynamic batch, height and width) and
    one output ``"output"`` (``scale`` times larger): the graph accepts any size, so ``layers`` need
    none (sized :class:`~optuna_srprune.config.LayerSpec` lists are accepted as they are).

    Args:
        layers: The network's layers, in order.
        scale: Upscaling factor; the product of the layers' ``pixel_shuffle`` factors must equal it.
        weights: PyTorch-layout arrays named ``"{layer.name}.weight"`` (out, in, k, k) and
            ``"{layer.name}.bias"`` (out,); random (He-scaled, seeded by ``seed``) when ``None``.
        seed: Seed of the random weights.

    Returns:
        A checked ``onnx.ModelProto``.
    """
    if not layers:
        raise ConfigError("A network needs at least one layer.")
    if math.prod(layer.upscale for layer in layers) != scale:
        raise ConfigError(f"The layers' upscaling factors do not multiply to scale {scale}.")
    if layers[0].in_channels != IMAGE_CHANNELS:
        raise ConfigError(
            f"The first layer must read {IMAGE_CHANNELS} channels, got {layers[0].in_channels}."
        )
    rng = np.random.default_rng(seed)
    g = _Graph()
    x, trunk = "input", None
    for i, layer in enumerate(layers):
        name = _layer_name(layer, i)
        weight, bias = _layer_weights(layer, name, weights, rng)
        if layer.opens_block:
            trunk = x
        x = _emit_layer(g, layer, name, x, trunk, "input", weight, bias)
    return _finish(g, [_value_info("input", IMAGE_CHANNELS)], _value_info("output", IMAGE_CHANNELS, scale), x)


def layer_input_shapes(layer: LayerSpec) -> dict[str, tuple[int, int, int, int]]:
    """The inputs of :func:`build_layer_model`'s graph for ``layer``, by name."""
    shapes = {"x": (1, layer.in_channels, layer.height, layer.width)}
    if layer.residual == "block":
        shapes["trunk"] = (1, layer.out_channels, layer.height, layer.width)
    elif layer.residual == "global":
        shapes["input"] = (1, IMAGE_CHANNELS, layer.height, layer.width)
    return shapes


def build_layer_model(layer: LayerSpec, *, seed: int = 0) -> onnx.ModelProto:
    """A one-layer ONNX model: the kernel ``layer`` runs inside a network, with the same extra inputs.

    Inputs are ``"x"`` (the conv input), ``"trunk"`` for a block residual and ``"input"`` for the
    global skip (see :func:`layer_input_shapes`); the output is ``"output"``.
    """
    g = _Graph()
    weight, bias = _random_weights(layer, np.random.default_rng(seed))
    shapes = layer_input_shapes(layer)
    trunk = "trunk" if "trunk" in shapes else None
    image = "input" if "input" in shapes else None
    out = _emit_layer(g, layer, "layer", "x", trunk, image, weight, bias)
    inputs = [_value_info(n, s[1]) for n, s in shapes.items()]
    channels = layer.out_channels // layer.pixel_shuffle**2
    return _finish(g, inputs, _value_info("output", channels, layer.upscale), out)


PROBE_OPS = ("conv3x3", "conv1x1", "relu", "add", "depth_to_space")


def build_ops_model(ops: Sequence[str], channels: int, *, seed: int = 0) -> onnx.ModelProto:
    """A chain of elementary ops on one ``channels``-wide input ``"x"`` (for fusion probes).

    ``conv3x3``/``conv1x1`` keep the width, ``relu`` is in place, ``add`` adds ``"x"`` itself (a
    residual), ``depth_to_space`` (factor 2) must come last.
    """
    rng = np.random.default_rng(seed)
    g = _Graph()
    y = "x"
    for i, op in enumerate(ops):
        if op not in PROBE_OPS:
            raise ConfigError(f"Unknown probe op {op!r}; choose from {PROBE_OPS}.")
        if op.startswith("conv"):
            k = int(op[4])
            layer = LayerShape(f"p{i}", "conv", channels, channels, k, 1)
            weight, bias = _random_weights(layer, rng)
            y = _emit_layer(g, layer, f"p{i}", y, None, None, weight, bias)
        elif op == "relu":
            y = g.node("Relu", [y], "relu")
        elif op == "add":
            y = g.node("Add", [y, "x"], "add")
        else:
            if i != len(ops) - 1:
                raise ConfigError("depth_to_space must be the last probe op.")
            y = g.node("DepthToSpace", [y], "d2s", blocksize=2, mode="DCR")
    scale = 2 if ops and ops[-1] == "depth_to_space" else 1
    return _finish(g, [_value_info("x", channels)], _value_info("output", channels // scale**2, scale), y)
