"""Hand-designed real-time SR networks, written from their papers, on RGB in [0, 1] (NCHW).

- ESPCN (Shi et al., CVPR 2016): 5x5 64, 3x3 32, 3x3 to 3*s^2, tanh, pixel shuffle.
- FSRCNN (Dong et al., ECCV 2016), d=56, s=12, m=4: feature extraction, shrinking, mapping,
  expanding (PReLU after each), 9x9 transposed convolution of stride s.
- ECBSR-M4C16 (Zhang et al., ACM MM 2021): four edge-oriented convolution blocks of 16 channels
  between a head and a tail ECB, PReLU, the input repeated s^2 times added before the pixel shuffle.
  Each ECB trains as five parallel branches and is re-parameterised into one plain 3x3 convolution
  for inference (:meth:`ECBSR.reparameterize`).

The papers work on the Y channel; these take and give RGB, like the searched networks, so that both
follow the same export contract and are measured on the same data. FSRCNN and ECBSR take ``act``:
``"prelu"`` as published, or ``"relu"``, which ONNX Runtime fuses into the convolution (it does not fuse
PReLU: each one costs a separate pass over the feature map plus layout reorders).
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from optuna_srprune.config import SubnetConfig
from optuna_srprune.supernet import SRNet
from optuna_srprune.supernet import SRSupernet


class ESPCN(nn.Module):
    def __init__(self, scale: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 64, 5, padding=2),
            nn.Tanh(),
            nn.Conv2d(64, 32, 3, padding=1),
            nn.Tanh(),
            nn.Conv2d(32, 3 * scale * scale, 3, padding=1),
            nn.PixelShuffle(scale),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


ACTIVATIONS = ("prelu", "relu")


def _activation(kind: str, channels: int) -> nn.Module:
    if kind not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {kind!r}; choose one of {ACTIVATIONS}.")
    return nn.PReLU(channels) if kind == "prelu" else nn.ReLU(inplace=True)


class FSRCNN(nn.Module):
    def __init__(self, scale: int, d: int = 56, s: int = 12, m: int = 4, act: str = "prelu") -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(3, d, 5, padding=2), _activation(act, d)]
        layers += [nn.Conv2d(d, s, 1), _activation(act, s)]
        for _ in range(m):
            layers += [nn.Conv2d(s, s, 3, padding=1), _activation(act, s)]
        layers += [nn.Conv2d(s, d, 1), _activation(act, d)]
        self.body = nn.Sequential(*layers)
        # Output size exactly s times the input: (n-1)*s - 2*4 + 9 + (s-1) = n*s.
        self.deconv = nn.ConvTranspose2d(d, 3, 9, stride=scale, padding=4, output_padding=scale - 1)
        nn.init.normal_(self.deconv.weight, std=1e-3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.deconv(self.body(x))


def _edge_filters(channels: int) -> torch.Tensor:
    """Sobel-x, Sobel-y and Laplacian 3x3 kernels, one group of ``channels`` each: (3, C, 1, 3, 3)."""
    sobel_x = torch.tensor([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    laplacian = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    kernels = torch.stack([sobel_x, sobel_x.t(), laplacian])
    return kernels[:, None, None].expand(3, channels, 1, 3, 3).clone()


def _pad_with_bias(y: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Pad a 1x1 conv's output by one pixel of its bias (not zeros): then a 3x3 conv after it equals
    one zero-padded 3x3 conv of the input, which is what makes the branches fusable."""
    t = F.pad(y, (1, 1, 1, 1))
    border = bias.view(1, -1, 1, 1)
    t[..., :1, :] = t[..., -1:, :] = t[..., :, :1] = t[..., :, -1:] = border
    return t


class EdgeOrientedConv(nn.Module):
    """ECB: 3x3 + (1x1 expand -> 3x3) + three (1x1 -> fixed edge filter with learned scale) + identity.

    Every branch is linear, so their sum is one 3x3 convolution (:meth:`fuse`).
    """

    def __init__(self, in_channels: int, out_channels: int, depth_multiplier: int = 2) -> None:
        super().__init__()
        mid = in_channels * depth_multiplier
        self.conv3x3 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.expand = nn.Conv2d(in_channels, mid, 1)
        self.expand_3x3 = nn.Conv2d(mid, out_channels, 3)  # padded with the 1x1's bias, below
        self.edge_1x1 = nn.ModuleList(nn.Conv2d(in_channels, out_channels, 1) for _ in range(3))
        self.edge_scale = nn.Parameter(torch.randn(3, out_channels, 1, 1, 1) * 1e-3)
        self.edge_bias = nn.Parameter(torch.zeros(3, out_channels))
        self.register_buffer("edge_kernels", _edge_filters(out_channels))
        self.identity = in_channels == out_channels

    def _edge_weights(self) -> torch.Tensor:
        return self.edge_scale * self.edge_kernels  # (3, C_out, 1, 3, 3): depthwise

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The branches folded into one kernel on every pass: the same outputs and gradients as running
        # them in parallel, at the cost of one 3x3 convolution.
        weight, bias = self.fused_weight()
        return F.conv2d(x, weight, bias, padding=1)

    def forward_branches(self, x: torch.Tensor) -> torch.Tensor:
        """The five branches run separately (what :meth:`fused_weight` must equal)."""
        y = self.conv3x3(x) + self.expand_3x3(_pad_with_bias(self.expand(x), self.expand.bias))
        edges = self._edge_weights()
        for i, conv in enumerate(self.edge_1x1):
            t = _pad_with_bias(conv(x), conv.bias)
            y = y + F.conv2d(t, edges[i], self.edge_bias[i], groups=t.shape[1])
        return y + x if self.identity else y

    def fused_weight(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The 3x3 kernel and bias of the sum of the branches (differentiable)."""
        weight = self.conv3x3.weight
        bias = self.conv3x3.bias
        w_1x1, b_1x1 = self.expand.weight, self.expand.bias
        w_3x3, b_3x3 = self.expand_3x3.weight, self.expand_3x3.bias
        weight = weight + F.conv2d(w_3x3, w_1x1.permute(1, 0, 2, 3))
        bias = bias + (w_3x3 * b_1x1.view(1, -1, 1, 1)).sum(dim=(1, 2, 3)) + b_3x3
        edges = self._edge_weights()
        for i, conv in enumerate(self.edge_1x1):
            k = edges[i]  # (C_out, 1, 3, 3), depthwise
            weight = weight + conv.weight * k  # (C_out, C_in, 1, 1) * (C_out, 1, 3, 3)
            bias = bias + conv.bias * k.sum(dim=(1, 2, 3)) + self.edge_bias[i]
        if self.identity:
            eye = torch.zeros_like(weight)
            eye[torch.arange(weight.shape[0]), torch.arange(weight.shape[0]), 1, 1] = 1.0
            weight = weight + eye
        return weight, bias

    @torch.no_grad()
    def fuse(self) -> nn.Conv2d:
        """One plain 3x3 convolution computing exactly what :meth:`forward` computes."""
        weight, bias = self.fused_weight()
        fused = nn.Conv2d(weight.shape[1], weight.shape[0], 3, padding=1)
        fused.weight.copy_(weight)
        fused.bias.copy_(bias)
        return fused


class ECBSR(nn.Module):
    """ECBSR-M{blocks}C{channels}; call :meth:`reparameterize` before deploying."""

    def __init__(self, scale: int, blocks: int = 4, channels: int = 16, act: str = "prelu") -> None:
        super().__init__()
        self.scale = scale
        sizes = [3] + [channels] * (blocks + 1)
        layers: list[nn.Module] = []
        for c_in, c_out in zip(sizes[:-1], sizes[1:]):
            layers += [EdgeOrientedConv(c_in, c_out), _activation(act, c_out)]
        layers.append(EdgeOrientedConv(channels, 3 * scale * scale))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x) + x.repeat_interleave(self.scale * self.scale, dim=1)
        return F.pixel_shuffle(y, self.scale)

    def reparameterize(self) -> ECBSR:
        """Replace every ECB by its single 3x3 convolution (in place; returns ``self``)."""
        self.body = nn.Sequential(*(m.fuse() if isinstance(m, EdgeOrientedConv) else m for m in self.body))
        return self


class SearchedNet(nn.Module):
    """A searched network trained by the baselines' recipe, inside a copy of its supernet.

    It starts from the weights the network inherits, and its ``ecb`` layers keep their
    re-parameterisable branches while training (ECBSR trains that way too); :meth:`reparameterize`
    gives the plain network that is exported and timed (:meth:`SRSupernet.extract`).
    """

    def __init__(self, supernet: SRSupernet, config: SubnetConfig) -> None:
        super().__init__()
        self.supernet, self.config = supernet, config

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.supernet(x, self.config)

    def reparameterize(self) -> SRNet:
        return self.supernet.extract(self.config).eval()


BASELINES = {"espcn": ESPCN, "fsrcnn": FSRCNN, "ecbsr_m4c16": ECBSR}
