from __future__ import annotations

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


def test_output_shape_and_global_skip() -> None:
    space = SRSearchSpace(scale=3, max_depth=1, widths=(8,))
    supernet = SRSupernet(space)
    with torch.no_grad():
        supernet.convs["tail"].weight.zero_()
    x = torch.rand(1, 3, 4, 5)
    y = supernet(x, space.largest())
    assert y.shape == (1, 3, 12, 15)
    nearest = torch.nn.functional.interpolate(x, scale_factor=3, mode="nearest")
    assert torch.allclose(y, nearest)


@pytest.mark.parametrize("trunk", [False, True])
def test_sort_channels_preserves_the_full_networks(tiny_space: SRSearchSpace, trunk: bool) -> None:
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


def test_elastic_conv_slices_and_exports() -> None:
    conv = ElasticConv2d(max_in=6, max_out=10, kernel=3)
    x = torch.rand(1, 4, 5, 5)
    exported = conv.export(4, 7)
    assert torch.allclose(exported(x), conv(x, 7), atol=1e-6)
    with pytest.raises(ValueError, match="at most 6->10"):
        conv(torch.rand(1, 8, 5, 5), 4)
