"""Running a chain of :class:`LayerSpec` convolutions, and the stand-alone :class:`SRNet`."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
import functools

import torch
from torch import nn
import torch.nn.functional as F

from optuna_srprune.config import layer_specs
from optuna_srprune.config import LayerSpec
from optuna_srprune.config import SubnetConfig

ConvFn = Callable[[LayerSpec, torch.Tensor], torch.Tensor]


@functools.lru_cache(maxsize=4096)
def cached_specs(config: SubnetConfig) -> tuple[LayerSpec, ...]:
    """The layers of ``config`` (their feature-map size is irrelevant to building a network)."""
    return tuple(layer_specs(config, 1, 1))


def run_layers(x: torch.Tensor, specs: Sequence[LayerSpec], conv: ConvFn) -> torch.Tensor:
    """Execute ``specs`` on the LR batch ``x`` (NCHW), with ``conv`` applying each convolution.

    This is the one interpreter of a layer list: the supernet's active path and the extracted network
    both run through it, so they cannot disagree on the graph.
    """
    feat, block_input = x, x
    for spec in specs:
        if spec.opens_block:  # remember the block's input for its residual add
            block_input = feat
        out = conv(spec, feat)
        if spec.activation == "relu":
            out = F.relu(out)
        if spec.residual == "block":
            out = out + block_input
        elif spec.residual == "global" and spec.op == "deconv":
            out = out + F.interpolate(x, scale_factor=spec.upscale, mode="nearest")
        elif spec.residual == "global":  # before the shuffle: nearest upsampling, channel-wise
            out = out + x.repeat_interleave(spec.pixel_shuffle**2, dim=1)
        if spec.pixel_shuffle > 1:
            out = F.pixel_shuffle(out, spec.pixel_shuffle)
        feat = out
    return feat


def module_name(layer_name: str) -> str:
    """``"block3.conv1"`` -> ``"block3_conv1"`` (module names cannot contain dots)."""
    return layer_name.replace(".", "_")


class SRNet(nn.Module):
    """A stand-alone SR network of one :class:`SubnetConfig`, with physically sized convolutions.

    This is what :meth:`SRSupernet.extract` returns; built directly, its weights are freshly initialised
    (for training a subnet alone). Input and output are RGB in ``[0, 1]``, NCHW.

    Example:

        .. code::

            import torch
            from optuna_srprune.search_space import SRSearchSpace
            from optuna_srprune.supernet import SRNet

            net = SRNet(SRSearchSpace(scale=2).smallest())
            assert net(torch.rand(1, 3, 8, 8)).shape == (1, 3, 16, 16)

    Args:
        config: The network's shape.
    """

    def __init__(self, config: SubnetConfig) -> None:
        super().__init__()
        self.config = config
        self.specs = cached_specs(config)
        self.convs = nn.ModuleDict({module_name(s.name): _conv(s) for s in self.specs})

    def conv(self, name: str) -> nn.Conv2d | nn.ConvTranspose2d:
        """The convolution of layer ``name`` (a :attr:`LayerSpec.name`)."""
        module = self.convs[module_name(name)]
        assert isinstance(module, (nn.Conv2d, nn.ConvTranspose2d))
        return module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return run_layers(x, self.specs, lambda s, f: self.convs[module_name(s.name)](f))


def _conv(spec: LayerSpec) -> nn.Conv2d | nn.ConvTranspose2d:
    if spec.op == "deconv":
        return nn.ConvTranspose2d(spec.in_channels, spec.out_channels, spec.kernel, spec.stride)
    return nn.Conv2d(spec.in_channels, spec.out_channels, spec.kernel, spec.stride, spec.kernel // 2)
