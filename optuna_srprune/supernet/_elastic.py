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

    def _check(self, cin: int, out_channels: int) -> None:
        if cin > self.max_in or out_channels > self.max_out:
            raise ValueError(
                f"Elastic conv holds at most {self.max_in}->{self.max_out} channels, "
                f"asked for {cin}->{out_channels}."
            )

    def forward(self, x: torch.Tensor, out_channels: int) -> torch.Tensor:
        self._check(x.shape[1], out_channels)
        weight = self.weight[:out_channels, : x.shape[1]]
        return F.conv2d(x, weight, self.bias[:out_channels], padding=self.kernel // 2)

    def sliced(self, in_channels: int, out_channels: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The weight and bias of the active layer ``in_channels -> out_channels``."""
        return self.weight[:out_channels, :in_channels], self.bias[:out_channels]

    def extra_repr(self) -> str:
        return f"max_in={self.max_in}, max_out={self.max_out}, kernel={self.kernel}"


def _edge_filters() -> torch.Tensor:
    """Sobel-x, Sobel-y and Laplacian 3x3 kernels, (3, 3, 3)."""
    sobel_x = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    laplacian = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    return torch.stack([sobel_x, sobel_x.t(), laplacian])


class ReparamConv2d(ElasticConv2d):
    """An elastic 3x3 convolution trained as an edge-oriented block (ECB, Zhang et al. 2021).

    Besides the plain 3x3 kernel (``weight``, ``bias``) it learns four more linear branches: a 1x1
    expansion to ``2 * max_in`` channels followed by a 3x3 conv, and three 1x1 convs each followed by
    a fixed Sobel-x, Sobel-y or Laplacian filter with a learned per-channel scale; plus the identity
    when input and output can match. Their sum is one 3x3 convolution, so it is folded into one kernel
    on every pass (:meth:`effective`): the outputs and gradients of the multi-branch form at the cost of
    one conv, and what is sliced, extracted, timed and exported is that plain conv.

    Args:
        max_in: Most input channels.
        max_out: Most output channels.
    """

    edge_filters: torch.Tensor

    def __init__(self, max_in: int, max_out: int) -> None:
        super().__init__(max_in, max_out, 3)
        mid = 2 * max_in
        self.expand_weight = nn.Parameter(torch.empty(mid, max_in, 1, 1))
        self.expand_bias = nn.Parameter(torch.zeros(mid))
        self.squeeze_weight = nn.Parameter(torch.empty(max_out, mid, 3, 3))
        self.squeeze_bias = nn.Parameter(torch.zeros(max_out))
        self.edge_weight = nn.Parameter(torch.empty(3, max_out, max_in))
        self.edge_in_bias = nn.Parameter(torch.zeros(3, max_out))
        self.edge_scale = nn.Parameter(torch.randn(3, max_out) * 1e-3)
        self.edge_bias = nn.Parameter(torch.zeros(3, max_out))
        self.register_buffer("edge_filters", _edge_filters(), persistent=False)
        nn.init.kaiming_uniform_(self.expand_weight, a=math.sqrt(5))
        nn.init.kaiming_uniform_(self.squeeze_weight, a=math.sqrt(5))
        nn.init.kaiming_uniform_(self.edge_weight, a=math.sqrt(5))
        self.identity = max_in == max_out

    def effective(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The full-size 3x3 kernel and bias equal to the sum of the branches (differentiable).

        Every branch's bias term depends only on output channels, so a slice ``[:out, :in]`` of the
        folded kernel is exactly the folded kernel of the sliced branches.
        """
        weight = self.weight + F.conv2d(self.squeeze_weight, self.expand_weight.permute(1, 0, 2, 3))
        # The expansion's bias passes through the 3x3 (its padding holds the bias, as in ECBSR).
        bias = self.bias + self.squeeze_bias + (self.squeeze_weight.sum((2, 3)) @ self.expand_bias)
        # (3, out, 1, 3, 3): each edge filter scaled per output channel.
        filters = self.edge_scale[:, :, None, None, None] * self.edge_filters[:, None, None]
        weight = weight + (self.edge_weight[..., None, None] * filters).sum(0)
        bias = bias + (self.edge_in_bias * filters.sum((2, 3, 4))).sum(0) + self.edge_bias.sum(0)
        if self.identity:
            eye = torch.eye(self.max_out, dtype=weight.dtype, device=weight.device)
            weight = weight + F.pad(eye[:, :, None, None], (1, 1, 1, 1))
        return weight, bias

    def forward(self, x: torch.Tensor, out_channels: int) -> torch.Tensor:
        self._check(x.shape[1], out_channels)
        weight, bias = self.effective()
        return F.conv2d(x, weight[:out_channels, : x.shape[1]], bias[:out_channels], padding=1)

    def sliced(self, in_channels: int, out_channels: int) -> tuple[torch.Tensor, torch.Tensor]:
        weight, bias = self.effective()
        return weight[:out_channels, :in_channels], bias[:out_channels]


class ElasticDeconv2d(nn.Module):
    """A transposed convolution of kernel = stride = ``factor`` with elastic input channels.

    It is the 1x1 sub-pixel tail (each LR pixel writes a ``factor x factor`` patch) with one bias per
    output channel; the active layer uses ``weight[:cin]``.

    Args:
        max_in: Most input channels.
        out_channels: Output channels (3, RGB).
        factor: Upscaling factor (kernel size and stride).
    """

    def __init__(self, max_in: int, out_channels: int, factor: int) -> None:
        super().__init__()
        self.max_in, self.max_out, self.factor = max_in, out_channels, factor
        self.weight = nn.Parameter(torch.empty(max_in, out_channels, factor, factor))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))

    def forward(self, x: torch.Tensor, out_channels: int) -> torch.Tensor:
        if x.shape[1] > self.max_in or out_channels != self.max_out:
            raise ValueError(
                f"Elastic deconv holds at most {self.max_in}->{self.max_out} channels, "
                f"asked for {x.shape[1]}->{out_channels}."
            )
        return F.conv_transpose2d(x, self.weight[: x.shape[1]], self.bias, stride=self.factor)

    def sliced(self, in_channels: int, out_channels: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.weight[:in_channels], self.bias

    def extra_repr(self) -> str:
        return f"max_in={self.max_in}, out={self.max_out}, factor={self.factor}"
