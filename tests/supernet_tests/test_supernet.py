from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from optuna_srprune.config import BlockConfig
from optuna_srprune.config import count_params
from optuna_srprune.config import SubnetConfig
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.search_space import SRSearchSpace
from optuna_srprune.supernet import ElasticConv2d
from optuna_srprune.supernet import ElasticDeconv2d
from optuna_srprune.supernet import ReparamConv2d
from optuna_srprune.supernet import SRNet
from optuna_srprune.supernet import SRSupernet


def _randomised(space: SRSearchSpace, seed: int = 0) -> SRSupernet:
    torch.manual_seed(seed)
    supernet = SRSupernet(space).eval()
    with torch.no_grad():  # non-trivial weights everywhere, the tail included
        for p in supernet.parameters():
            p.normal_(0.0, 0.2)
    return supernet


def test_extract_equals_active_path_for_100_random_configs(tiny_space: SRSearchSpace) -> None:
    supernet = _randomised(tiny_space)
    rng = np.random.default_rng(0)
    x = torch.rand(2, 3, 9, 11)
    for _ in range(100):
        config = tiny_space.sample(rng)
        net = supernet.extract(config)
        with torch.no_grad():
            diff = (net(x) - supernet(x, config)).abs().max().item()
        assert diff < 1e-5, config.summary()


def test_extracted_net_is_physically_small(tiny_space: SRSearchSpace) -> None:
    config = SubnetConfig(2, 8, (BlockConfig("wdsr", (12, 4)), BlockConfig("edsr", (2,))))
    net = _randomised(tiny_space).extract(config)
    assert sum(p.numel() for p in net.parameters()) == count_params(config)
    assert all(type(m) in (SRNet, nn.ModuleDict, nn.Conv2d) for m in net.modules())
    assert net.conv("block0.conv0").weight.shape == (12, 8, 1, 1)
    deconv = _randomised(tiny_space).extract(SubnetConfig(2, 16, (BlockConfig("ecb", (8,)),), "deconv"))
    assert sum(p.numel() for p in deconv.parameters()) == count_params(deconv.config)
    assert deconv.conv("tail").weight.shape == (8, 3, 2, 2)  # ConvTranspose2d: (in, out, k, k)


@pytest.mark.parametrize("tail", ["conv3x3", "deconv"])
def test_output_shape_and_global_skip(tail: str) -> None:
    space = SRSearchSpace(scale=3, max_depth=1, widths=(8,), channel_multiple=4, tails=("conv3x3", "deconv"))
    supernet = SRSupernet(space)
    config = dataclasses.replace(space.largest(), tail=tail)
    with torch.no_grad():
        supernet.convs["tail" if tail == "conv3x3" else "tail_deconv"].weight.zero_()
    x = torch.rand(1, 3, 4, 5)
    y = supernet(x, config)
    assert y.shape == (1, 3, 12, 15)
    nearest = torch.nn.functional.interpolate(x, scale_factor=3, mode="nearest")
    assert torch.allclose(y, nearest)


@pytest.mark.parametrize("trunk", [False, True])
def test_sort_channels_preserves_the_full_networks(tiny_space: SRSearchSpace, trunk: bool) -> None:
    if trunk:  # trunk sorting is defined for residual blocks and the 3x3 tail only
        tiny_space = dataclasses.replace(tiny_space, block_kinds=("edsr", "wdsr"), tails=("conv3x3",))
    supernet = _randomised(tiny_space)
    full = {kind: tiny_space.unpruned_channels(kind, 16) for kind in ("edsr", "wdsr")}
    mixed = SubnetConfig(2, 16, tuple(BlockConfig(k, full[k]) for k in ("wdsr", "edsr", "wdsr")))
    wdsr = SubnetConfig(2, 16, (BlockConfig("wdsr", full["wdsr"]),) * 3)
    configs = [tiny_space.largest(), wdsr, mixed]
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        before = [supernet(x, c) for c in configs]
        supernet.sort_channels(trunk=trunk)
        after = [supernet(x, c) for c in configs]
    for b, a in zip(before, after):  # equal up to float re-association of the sums
        assert (a - b).abs().max().item() < 1e-6 * b.abs().max().item()
    # Afterwards, each prunable layer's filters are in descending L1 order.
    for i in range(3):
        layer = supernet.convs[f"block{i}_wdsr_conv0"]
        norms = layer.weight.abs().sum(dim=(1, 2, 3))
        assert torch.all(norms[:-1] >= norms[1:])
    if trunk:
        head = supernet.convs["head"]
        assert head.weight.abs().sum(dim=(1, 2, 3)).shape == (16,)


def test_set_active_and_bad_configs(tiny_space: SRSearchSpace) -> None:
    supernet = SRSupernet(tiny_space)
    assert supernet.active == tiny_space.largest()
    supernet.set_active(tiny_space.smallest())
    assert supernet(torch.rand(1, 3, 4, 4)).shape == (1, 3, 8, 8)
    with pytest.raises(ConfigError, match="width=24"):
        supernet.set_active(SubnetConfig(2, 24, (BlockConfig("edsr", (24,)),)))
    with pytest.raises(ConfigError, match="at most 8 exist"):
        supernet.extract(SubnetConfig(2, 8, (BlockConfig("edsr", (16,)),)))
    with pytest.raises(ConfigError, match="x4"):
        supernet(torch.rand(1, 3, 4, 4), SubnetConfig(4, 8, (BlockConfig("edsr", (8,)),)))


def test_trunk_sorting_refuses_folded_branches(tiny_space: SRSearchSpace) -> None:
    with pytest.raises(ConfigError, match="ecb"):
        SRSupernet(tiny_space).sort_channels(trunk=True)


def test_elastic_conv_slices() -> None:
    conv = ElasticConv2d(max_in=6, max_out=10, kernel=3)
    x = torch.rand(1, 4, 5, 5)
    weight, bias = conv.sliced(4, 7)
    assert torch.allclose(torch.nn.functional.conv2d(x, weight, bias, padding=1), conv(x, 7), atol=1e-6)
    with pytest.raises(ValueError, match="at most 6->10"):
        conv(torch.rand(1, 8, 5, 5), 4)


def _edge_branch(x: torch.Tensor, conv: ReparamConv2d, e: int, cout: int) -> torch.Tensor:
    """1x1 conv, its output padded with its bias, then the scaled fixed edge filter (depthwise)."""
    cin = x.shape[1]
    t = torch.nn.functional.conv2d(
        x, conv.edge_weight[e, :cout, :cin, None, None], conv.edge_in_bias[e, :cout]
    )
    t = torch.nn.functional.pad(t, (1, 1, 1, 1))
    border = conv.edge_in_bias[e, :cout].view(1, -1, 1, 1).expand_as(t)
    inside = torch.zeros_like(t, dtype=torch.bool)
    inside[..., 1:-1, 1:-1] = True
    t = torch.where(inside, t, border)
    kernel = conv.edge_scale[e, :cout, None, None, None] * conv.edge_filters[e]
    return torch.nn.functional.conv2d(t, kernel, conv.edge_bias[e, :cout], groups=cout)


@pytest.mark.parametrize(("cin", "cout"), [(6, 6), (4, 6), (6, 3)])
def test_reparam_conv_equals_its_branches_run_separately(cin: int, cout: int) -> None:
    torch.manual_seed(0)
    conv = ReparamConv2d(max_in=6, max_out=6)
    with torch.no_grad():
        for p in conv.parameters():
            p.normal_(0.0, 0.3)
    x = torch.rand(2, cin, 7, 9)
    F = torch.nn.functional
    # The branches, run one by one as ECBSR trains them (a 1x1 output padded with its own bias).
    y = F.conv2d(x, conv.weight[:cout, :cin], conv.bias[:cout], padding=1)
    mid = F.conv2d(x, conv.expand_weight[:, :cin], conv.expand_bias)
    padded = F.pad(mid, (1, 1, 1, 1))
    border = conv.expand_bias.view(1, -1, 1, 1)
    padded[..., :1, :] = padded[..., -1:, :] = padded[..., :, :1] = padded[..., :, -1:] = border
    y = y + F.conv2d(padded, conv.squeeze_weight[:cout], conv.squeeze_bias[:cout])
    for e in range(3):
        y = y + _edge_branch(x, conv, e, cout)
    n = min(cin, cout)
    y[:, :n] = y[:, :n] + x[:, :n]  # identity (max_in == max_out)
    assert torch.allclose(conv(x, cout), y, atol=1e-5)
    weight, bias = conv.sliced(cin, cout)
    assert torch.allclose(F.conv2d(x, weight, bias, padding=1), y, atol=1e-5)


def test_elastic_deconv_is_a_one_by_one_subpixel_conv() -> None:
    torch.manual_seed(0)
    deconv = ElasticDeconv2d(max_in=8, out_channels=3, factor=2)
    x = torch.rand(1, 5, 4, 6)
    y = deconv(x, 3)
    # Each LR pixel writes a 2x2 patch: a 1x1 conv to 3*4 channels and a pixel shuffle.
    w = deconv.weight[:5].permute(1, 2, 3, 0).reshape(12, 5, 1, 1)
    b = deconv.bias.repeat_interleave(4)
    expected = torch.nn.functional.pixel_shuffle(torch.nn.functional.conv2d(x, w, b), 2)
    assert y.shape == (1, 3, 8, 12) and torch.allclose(y, expected, atol=1e-6)
    with pytest.raises(ValueError, match="at most 8->3"):
        deconv(torch.rand(1, 9, 2, 2), 3)
