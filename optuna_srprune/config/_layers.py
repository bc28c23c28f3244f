"""Config -> the list of layers the network executes, and the costs summed from it."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from optuna_srprune.config._blocks import trunk_after
from optuna_srprune.config._subnet import BlockConfig
from optuna_srprune.config._subnet import SubnetConfig
from optuna_srprune.exceptions import ConfigError


@dataclasses.dataclass(frozen=True)
class LayerShape:
    """One convolution of a network, with what runs right after it, at no particular feature-map size.

    Every network is a chain of convolutions; element-wise work is attached to the conv it follows:
    ``activation`` (``"relu"`` or ``None``), ``residual`` (``"block"``: add the input of the block,
    i.e. the input of the last layer that ``opens_block``; ``"global"``: add the network input
    upsampled by nearest neighbour to this layer's output size) and ``pixel_shuffle`` (the upscaling
    factor of a depth-to-space after the conv, or 1). Whether a back-end actually fuses them is the
    latency package's business, decided by measurement. :meth:`at` gives the layer at a size
    (a :class:`LayerSpec`).

    Attributes:
        name: Position in the network, e.g. ``"head"``, ``"block3.conv1"``, ``"tail"``.
        op: ``"conv"`` (same padding) or ``"deconv"`` (transposed conv, kernel = stride, no padding:
            it upsamples by ``stride``).
        in_channels: Input channels.
        out_channels: Output channels.
        kernel: Square kernel size.
        stride: Stride (1 for convs here; the upsampling factor of a deconv).
        activation: ``"relu"`` or ``None``.
        residual: ``"block"``, ``"global"`` or ``None``.
        pixel_shuffle: Depth-to-space factor after the conv (1: none).
        opens_block: The layer's input is a block's input (what a later ``"block"`` residual adds).
            Structure only: not part of :meth:`LayerSpec.key`, since it does not change the kernel.
        block: Index of the block the layer belongs to (``None``: the head or the tail). Structure
            only, like ``opens_block``, and not part of equality.
    """

    name: str
    op: str
    in_channels: int
    out_channels: int
    kernel: int
    stride: int
    # Keyword-only, so that LayerSpec's height and width follow stride in its positional order.
    activation: str | None = dataclasses.field(default=None, kw_only=True)
    residual: str | None = dataclasses.field(default=None, kw_only=True)
    pixel_shuffle: int = dataclasses.field(default=1, kw_only=True)
    opens_block: bool = dataclasses.field(default=False, kw_only=True)
    # Not compared: equal kernels stay equal wherever they sit (a key's round trip cannot know it).
    block: int | None = dataclasses.field(default=None, kw_only=True, compare=False)

    @property
    def upscale(self) -> int:
        """How much larger the layer's output is than its input (pixel shuffle or deconv stride)."""
        return self.stride if self.op == "deconv" else self.pixel_shuffle

    @property
    def kernel_macs(self) -> int:
        """Multiply-accumulates each time the kernel is applied (per output pixel of a conv, per input
        pixel of a deconv)."""
        return self.kernel * self.kernel * self.in_channels * self.out_channels

    @property
    def params(self) -> int:
        """Weights plus biases."""
        return self.kernel * self.kernel * self.in_channels * self.out_channels + self.out_channels

    def at(self, height: int, width: int) -> LayerSpec:
        """This layer on an input feature map of ``height x width``."""
        shape = {f.name: getattr(self, f.name) for f in dataclasses.fields(LayerShape)}
        return LayerSpec(**shape, height=height, width=width)


@dataclasses.dataclass(frozen=True)
class LayerSpec(LayerShape):
    """A :class:`LayerShape` on an input feature map of a given size: one kernel of a latency table.

    Positional arguments are ``name, op, in_channels, out_channels, kernel, stride, height, width``;
    the rest are keyword-only.

    Attributes:
        height: Height of the input feature map.
        width: Width of the input feature map.
    """

    height: int
    width: int

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the conv (element-wise ops are not counted)."""
        if self.op == "deconv":  # every input pixel scatters a k x k patch
            return self.height * self.width * self.kernel_macs
        return (self.height // self.stride) * (self.width // self.stride) * self.kernel_macs

    def key(self) -> str:
        """A stable string naming this kernel configuration (all but ``name`` and the structure fields)."""
        return (
            f"{self.op}:k{self.kernel}s{self.stride}:{self.in_channels}>{self.out_channels}"
            f":{self.height}x{self.width}:act={self.activation or '-'}"
            f":res={self.residual or '-'}:ps={self.pixel_shuffle}"
        )

    @classmethod
    def from_key(cls, key: str, name: str = "") -> LayerSpec:
        """Inverse of :meth:`key`."""
        try:
            op, ks, chans, size, act, res, ps = key.split(":")
            kernel, stride = ks[1:].split("s")
            cin, cout = chans.split(">")
            height, width = size.split("x")
            activation = act.removeprefix("act=")
            residual = res.removeprefix("res=")
            return cls(
                name=name,
                op=op,
                in_channels=int(cin),
                out_channels=int(cout),
                kernel=int(kernel),
                stride=int(stride),
                height=int(height),
                width=int(width),
                activation=None if activation == "-" else activation,
                residual=None if residual == "-" else residual,
                pixel_shuffle=int(ps.removeprefix("ps=")),
            )
        except ValueError as err:
            raise ConfigError(f"Malformed layer key {key!r}.") from err


@functools.lru_cache(maxsize=4096)
def layer_shapes(config: SubnetConfig) -> tuple[LayerShape, ...]:
    """The convolutions ``config`` executes, in order, at no particular size (cached: read often).

    This is the single source of truth for a network's shape: the supernet's active path, the
    extracted network, the latency lookup table and the MACs/params counts all read it.
    """
    c = config.width
    layers = [LayerShape("head", "conv", 3, c, 3, 1)]
    for i, block in enumerate(config.blocks):
        layers += _block_layers(i, block, c)
        c = trunk_after(block, c)
    s = config.scale
    if config.tail == "deconv":
        layers.append(LayerShape("tail", "deconv", c, 3, s, s, residual="global"))
    else:
        layers.append(LayerShape("tail", "conv", c, 3 * s * s, 3, 1, residual="global", pixel_shuffle=s))
    return tuple(layers)


def _block_layers(index: int, block: BlockConfig, c: int) -> list[LayerShape]:
    """The convs of ``block``, the ``index``-th, entered with ``c`` channels."""

    def conv(j: int, cin: int, cout: int, k: int, **extra: Any) -> LayerShape:
        # The first conv's input is the block's input, what a closing "block" residual adds.
        name = f"block{index}.conv{j}"
        return LayerShape(name, "conv", cin, cout, k, 1, opens_block=j == 0, block=index, **extra)

    if block.kind == "edsr":
        (mid,) = block.channels
        return [conv(0, c, mid, 3, activation="relu"), conv(1, mid, c, 3, residual="block")]
    if block.kind == "wdsr":
        expand, reduce = block.channels
        return [
            conv(0, c, expand, 1, activation="relu"),
            conv(1, expand, reduce, 1),
            conv(2, reduce, c, 3, residual="block"),
        ]
    (out,) = block.channels  # ecb: a plain conv that sets the trunk's width
    return [conv(0, c, out, 3, activation="relu")]


def layer_specs(config: SubnetConfig, lr_height: int, lr_width: int) -> list[LayerSpec]:
    """The convolutions ``config`` executes on an LR input of ``lr_height x lr_width``, in order."""
    if lr_height < 1 or lr_width < 1:
        raise ConfigError(f"LR size must be positive, got {lr_height}x{lr_width}.")
    return [shape.at(lr_height, lr_width) for shape in layer_shapes(config)]


def count_macs(config: SubnetConfig, lr_height: int, lr_width: int) -> int:
    """Multiply-accumulates of one forward pass on an LR input of the given size."""
    return sum(layer.macs for layer in layer_specs(config, lr_height, lr_width))


def count_params(config: SubnetConfig) -> int:
    """Parameters (weights and biases) of the network."""
    return sum(layer.params for layer in layer_shapes(config))


def receptive_radius(config: SubnetConfig) -> int:
    """How many LR pixels beyond a pixel can influence its output (one per 3x3 conv; a deconv of kernel
    = stride reads one LR pixel per output pixel)."""
    return sum(layer.kernel // 2 for layer in layer_shapes(config) if layer.op == "conv")


def lr_size(hr_height: int, hr_width: int, scale: int) -> tuple[int, int]:
    """The LR input size that produces an HR output of ``hr_height x hr_width``."""
    if hr_height % scale or hr_width % scale:
        raise ConfigError(
            f"HR size {hr_height}x{hr_width} is not a multiple of scale {scale}; "
            "choose a size divisible by the scale."
        )
    return hr_height // scale, hr_width // scale
