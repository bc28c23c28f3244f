"""Running a chain of :class:`LayerShape` convolutions in torch, and a network of plain convs."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence

import torch
from torch import nn
import torch.nn.functional as F

from optuna_srprune.config import LayerShape

ConvFn = Callable[[LayerShape, torch.Tensor], torch.Tensor]


def finish_layer(
    spec: LayerShape,
    out: torch.Tensor,
    block_input: torch.Tensor | None,
    image: torch.Tensor | None,
    *,
    inplace: bool = False,
) -> torch.Tensor:
    """What runs after ``spec``'s conv output ``out``: activation, residual add, depth-to-space.

    Args:
        spec: The layer.
        out: Its conv's output.
        block_input: The input of its block (needed for a ``"block"`` residual).
        image: The network's input (needed for a ``"global"`` residual).
        inplace: Write into ``out`` (inference only: autograd needs ``out`` kept, and an in-place add
            keeps ``out``'s dtype where autocast would promote).
    """
    if spec.activation == "relu":
        out = F.relu(out, inplace=inplace)
    if spec.residual == "block":
        assert block_input is not None
        out = out.add_(block_input) if inplace else out + block_input
    elif spec.residual == "global":
        assert image is not None
        out = out.add_(_skip(spec, image)) if inplace else out + _skip(spec, image)
    if spec.pixel_shuffle > 1:
        out = F.pixel_shuffle(out, spec.pixel_shuffle)
    return out


def _skip(spec: LayerShape, image: torch.Tensor) -> torch.Tensor:
    """The global skip at ``spec``'s output: nearest upsampling of the input (before a pixel shuffle,
    channel-wise repetition is that)."""
    if spec.op == "deconv":
        return F.interpolate(image, scale_factor=spec.upscale, mode="nearest")
    return image.repeat_interleave(spec.pixel_shuffle**2, dim=1)


def run_layers(
    x: torch.Tensor, specs: Sequence[LayerShape], conv: ConvFn, *, inplace: bool = False
) -> torch.Tensor:
    """Execute ``specs`` on the LR batch ``x`` (NCHW), with ``conv`` applying each convolution.

    This is the one interpreter of a layer list: the supernet's active path, the extracted network and
    the torch latency back-end all run through it, so they cannot disagree on the graph.
    """
    feat, block_input = x, x
    for spec in specs:
        if spec.opens_block:  # remember the block's input for its residual add
            block_input = feat
        feat = finish_layer(spec, conv(spec, feat), block_input, x, inplace=inplace)
    return feat


def module_name(layer_name: str) -> str:
    """``"block3.conv1"`` -> ``"block3_conv1"`` (module names cannot contain dots)."""
    return layer_name.replace(".", "_")


def make_conv(spec: LayerShape) -> nn.Conv2d | nn.ConvTranspose2d:
    """A freshly initialised torch conv of ``spec`` (same padding; a deconv has none)."""
    if spec.op == "deconv":
        return nn.ConvTranspose2d(spec.in_channels, spec.out_channels, spec.kernel, spec.stride)
    return nn.Conv2d(spec.in_channels, spec.out_channels, spec.kernel, spec.stride, spec.kernel // 2)


class LayerNet(nn.Module):
    """A network of physically sized convolutions executing ``specs`` through :func:`run_layers`.

    Its state dict names a layer's weights ``convs.<name with "_" for ".">.weight``.

    Args:
        specs: The layers, in order (names must be distinct).
        inplace: Run the element-wise ops in place (for inference-only runners).
    """

    def __init__(self, specs: Sequence[LayerShape], *, inplace: bool = False) -> None:
        super().__init__()
        self.specs = tuple(specs)
        self.inplace = inplace
        self.convs = nn.ModuleDict({module_name(s.name): make_conv(s) for s in self.specs})

    def conv(self, name: str) -> nn.Conv2d | nn.ConvTranspose2d:
        """The convolution of layer ``name`` (a :attr:`LayerShape.name`)."""
        module = self.convs[module_name(name)]
        assert isinstance(module, (nn.Conv2d, nn.ConvTranspose2d))
        return module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        convs = self.convs
        return run_layers(x, self.specs, lambda s, f: convs[module_name(s.name)](f), inplace=self.inplace)
