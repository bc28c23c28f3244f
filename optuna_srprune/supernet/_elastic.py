"""Elastic convolution: one weight tensor sized for the largest layer, sliced for smaller ones."""

from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F


class ElasticConv2d(nn.Module):
    """A convolution whose input and output channels are prefixes of shared maximal weights.

    The active layer with ``cin`` inputs and ``cout`` outputs uses ``weight[:cout, :cin]`` and
    ``bias[:cout]``; ``cin`` is read from the input, ``cout`` is given per call.

    Example:

        .. code::

            import torch
            from optuna_srprune.supernet import ElasticConv2d

            conv = ElasticConv2d(max_in=8, max_out=16, kernel=3)
            assert conv(torch.rand(1, 4, 5, 5), out_channels=12).shape == (1, 12, 5, 5)

    Args:
        max_in: Most input channels.
        max_out: Most output channels.
        kernel: Square kernel size (odd; "same" padding).
    """

    def __init__(self, max_in: int, max_out: int, kernel: int) -> None:
        super().__init__()
        self.max_in, self.max_out, self.kernel = max_in, max_out, kernel
        self.weight = nn.Parameter(torch.empty(max_out, max_in, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(max_out))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Initialise like :class:`torch.nn.Conv2d`."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        bound = 1.0 / math.sqrt(self.max_in * self.kernel * self.kernel)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor, out_channels: int) -> torch.Tensor:
        cin = x.shape[1]
        if cin > self.max_in or out_channels > self.max_out:
            raise ValueError(
                f"Elastic conv holds at most {self.max_in}->{self.max_out} channels, "
                f"asked for {cin}->{out_channels}."
            )
        weight = self.weight[:out_channels, :cin]
        return F.conv2d(x, weight, self.bias[:out_channels], padding=self.kernel // 2)

    def export(self, in_channels: int, out_channels: int) -> nn.Conv2d:
        """A physically sized :class:`torch.nn.Conv2d` holding a copy of the active slice."""
        conv = nn.Conv2d(in_channels, out_channels, self.kernel, padding=self.kernel // 2)
        with torch.no_grad():
            conv.weight.copy_(self.weight[:out_channels, :in_channels])
            assert conv.bias is not None
            conv.bias.copy_(self.bias[:out_channels])
        return conv

    def extra_repr(self) -> str:
        return f"max_in={self.max_in}, max_out={self.max_out}, kernel={self.kernel}"
