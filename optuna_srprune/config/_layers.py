"""Config -> the list of layers the network executes, and the costs summed from it."""

from __future__ import annotations

import dataclasses

from optuna_srprune.config._subnet import SubnetConfig
from optuna_srprune.exceptions import ConfigError


@dataclasses.dataclass(frozen=True)
class LayerSpec:
    """One convolution of a network, with what runs right after it.

    Every network is a chain of convolutions; element-wise work is attached to the conv it follows:
    ``activation`` (``"relu"`` or ``None``), ``residual`` (``"block"``: add the input of the block,
    i.e. the input of the last layer that ``opens_block``; ``"global"``: add the network input
    upsampled by nearest neighbour to this layer's output size) and ``pixel_shuffle`` (the upscaling
    factor of a depth-to-space after the conv, or 1). Whether a back-end actually fuses them is the
    latency package's business, decided by measurement.

    Attributes:
        name: Position in the network, e.g. ``"head"``, ``"block3.conv1"``, ``"tail"``.
        op: ``"conv"`` (same padding) or ``"deconv"`` (transposed conv, kernel = stride, no padding:
            it upsamples by ``stride``).
        in_channels: Input channels.
        out_channels: Output channels.
        kernel: Square kernel size.
        stride: Stride (1 for convs here; the upsampling factor of a deconv).
        height: Height of the input feature map.
        width: Width of the input feature map.
        activation: ``"relu"`` or ``None``.
        residual: ``"block"``, ``"global"`` or ``None``.
        pixel_shuffle: Depth-to-space factor after the conv (1: none).
        opens_block: The layer's input is a block's input (what a later ``"block"`` residual adds).
            Structure only: not part of :meth:`key`, since it does not change the kernel.
    """

    name: str
    op: str
    in_channels: int
    out_channels: int
    kernel: int
    stride: int
    height: int
    width: int
    activation: str | None = None
    residual: str | None = None
    pixel_shuffle: int = 1
    opens_block: bool = False

    @property
    def upscale(self) -> int:
        """How much larger the layer's output is than its input (pixel shuffle or deconv stride)."""
        return self.stride if self.op == "deconv" else self.pixel_shuffle

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the conv (element-wise ops are not counted)."""
        if self.op == "deconv":  # every input pixel scatters a k x k patch
            return self.height * self.width * self.kernel * self.kernel * self.in_channels * self.out_channels
        out_h, out_w = self.height // self.stride, self.width // self.stride
        return out_h * out_w * self.kernel * self.kernel * self.in_channels * self.out_channels

    @property
    def params(self) -> int:
        """Weights plus biases."""
        return self.kernel * self.kernel * self.in_channels * self.out_channels + self.out_channels

    def key(self) -> str:
        """A stable string naming this kernel configuration (everything but ``name``)."""
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


def layer_specs(config: SubnetConfig, lr_height: int, lr_width: int) -> list[LayerSpec]:
    """The convolutions ``config`` executes on an LR input of ``lr_height x lr_width``, in order.

    This is the single source of truth for a network's shape: the supernet's active path, the
    extracted network, the latency lookup table and the MACs/params counts all read it.
    """
    if lr_height < 1 or lr_width < 1:
        raise ConfigError(f"LR size must be positive, got {lr_height}x{lr_width}.")
    h, w, c = lr_height, lr_width, config.width

    def conv(name: str, cin: int, cout: int, k: int, **extra: object) -> LayerSpec:
        return LayerSpec(name, "conv", cin, cout, k, 1, h, w, **extra)  # type: ignore[arg-type]

    layers = [conv("head", 3, c, 3)]
    for i, block in enumerate(config.blocks):
        p = f"block{i}"
        if block.kind == "edsr":
            (mid,) = block.channels
            layers += [
                conv(f"{p}.conv0", c, mid, 3, activation="relu", opens_block=True),
                conv(f"{p}.conv1", mid, c, 3, residual="block"),
            ]
        elif block.kind == "wdsr":
            expand, reduce = block.channels
            layers += [
                conv(f"{p}.conv0", c, expand, 1, activation="relu", opens_block=True),
                conv(f"{p}.conv1", expand, reduce, 1),
                conv(f"{p}.conv2", reduce, c, 3, residual="block"),
            ]
        else:  # ecb: a plain conv that sets the trunk's width
            (out,) = block.channels
            layers.append(conv(f"{p}.conv0", c, out, 3, activation="relu", opens_block=True))
            c = out
    s = config.scale
    if config.tail == "deconv":
        layers.append(LayerSpec("tail", "deconv", c, 3, s, s, h, w, residual="global"))
    else:
        layers.append(conv("tail", c, 3 * s * s, 3, residual="global", pixel_shuffle=s))
    return layers


def count_macs(config: SubnetConfig, lr_height: int, lr_width: int) -> int:
    """Multiply-accumulates of one forward pass on an LR input of the given size."""
    return sum(layer.macs for layer in layer_specs(config, lr_height, lr_width))


def count_params(config: SubnetConfig) -> int:
    """Parameters (weights and biases) of the network."""
    return sum(layer.params for layer in layer_specs(config, 1, 1))


def lr_size(hr_height: int, hr_width: int, scale: int) -> tuple[int, int]:
    """The LR input size that produces an HR output of ``hr_height x hr_width``."""
    if hr_height % scale or hr_width % scale:
        raise ConfigError(
            f"HR size {hr_height}x{hr_width} is not a multiple of scale {scale}; "
            "choose a size divisible by the scale."
        )
    return hr_height // scale, hr_width // scale
