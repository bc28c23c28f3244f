from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import optuna
import pytest

from optuna_srprune.config import BlockConfig
from optuna_srprune.config import layer_specs
from optuna_srprune.config import SubnetConfig
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.search_space import SRSearchSpace

_DUMP = (
    "from optuna_srprune.search_space import SRSearchSpace;"
    "from optuna.distributions import distribution_to_json as j;"
    "print([(k, j(v)) for k, v in SRSearchSpace(scale=4).distributions().items()])"
)


def test_distributions_are_equal_across_processes() -> None:
    from optuna.distributions import distribution_to_json

    here = str([(k, distribution_to_json(v)) for k, v in SRSearchSpace(scale=4).distributions().items()])
    there = subprocess.run([sys.executable, "-c", _DUMP], capture_output=True, text=True, check=True).stdout
    assert there.strip() == here
    assert SRSearchSpace(scale=4).distributions() == SRSearchSpace(scale=4).distributions()


def test_suggest_decode_encode_round_trip() -> None:
    space = SRSearchSpace(scale=2, prefix="sr:")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        trial = study.ask()
        trial.suggest_float("user_param", 0, 1)
        config = space.suggest(trial)
        study.tell(trial, 0.0)
        space.validate(config)
        assert space.decode(trial.params) == config
        assert space.decode(space.encode(config)) == config


def test_sample_largest_smallest_are_in_the_space() -> None:
    space = SRSearchSpace(scale=3)
    rng = np.random.default_rng(0)
    for config in [space.largest(), space.smallest(), *(space.sample(rng) for _ in range(50))]:
        space.validate(config)


def test_width_not_in_the_space_is_rejected() -> None:
    space = SRSearchSpace(scale=2)
    with pytest.raises(ConfigError, match="width=20 is not in this search space"):
        space.validate(SubnetConfig(2, 20, (BlockConfig("edsr", (20,)),)))
    params = space.encode(space.smallest())
    params["srprune:width"] = 20
    with pytest.raises(ConfigError, match="width"):
        space.decode(params)


def test_kept_channels_above_what_exists_are_rejected() -> None:
    space = SRSearchSpace(scale=2)
    with pytest.raises(ConfigError, match="at most 16 exist"):
        space.validate(SubnetConfig(2, 16, (BlockConfig("edsr", (24,)),)))
    wdsr = SRSearchSpace(scale=2, block_kinds=("edsr", "wdsr"), channel_multiple=4)
    with pytest.raises(ConfigError, match="at most 64 exist"):
        wdsr.validate(SubnetConfig(2, 16, (BlockConfig("wdsr", (80, 16)),)))


def test_depth_outside_the_space_is_rejected() -> None:
    space = SRSearchSpace(scale=2, max_depth=2)
    block = BlockConfig("edsr", (16,))
    with pytest.raises(ConfigError, match="depth=3"):
        space.validate(SubnetConfig(2, 16, (block,) * 3))
    with pytest.raises(ConfigError):
        SRSearchSpace(min_depth=0)


def test_ecb_pruning_follows_the_trunk_and_widths_follow_the_channel_multiple() -> None:
    space = SRSearchSpace.for_backend(scale=2, channel_multiple=16)  # widths 16/32, multiples of 16
    config = SubnetConfig(
        2, 32, (BlockConfig("ecb", (16,)), BlockConfig("edsr", (16,)), BlockConfig("ecb", (32,)))
    )
    space.validate(config)
    assert space.decode(space.encode(config)) == config
    with pytest.raises(ConfigError, match="at most 16 exist"):  # the edsr block is entered with 16
        space.validate(SubnetConfig(2, 32, (BlockConfig("ecb", (16,)), BlockConfig("edsr", (32,)))))
    with pytest.raises(ConfigError, match="tail"):
        SRSearchSpace(scale=2, tails=("conv3x3",)).validate(dataclasses.replace(config, tail="deconv"))
    # Every kept count of the space is a multiple of 16, so each choice changes ONNX Runtime's blocking.
    rng = np.random.default_rng(0)
    for _ in range(200):
        sampled = space.sample(rng)
        assert all(c % 16 == 0 for b in sampled.blocks for c in b.channels)


def test_layer_universe_covers_every_sampled_network() -> None:
    space = SRSearchSpace.for_backend(scale=3, channel_multiple=8, block_kinds=("ecb", "edsr", "wdsr"))
    universe = {layer.key() for layer in space.layer_universe(6, 5)}
    rng = np.random.default_rng(1)
    for _ in range(300):
        assert {layer.key() for layer in layer_specs(space.sample(rng), 6, 5)} <= universe


def test_one_tail_spaces_have_no_tail_parameter() -> None:
    assert "srprune:tail" not in SRSearchSpace(scale=2, tails=("conv3x3",)).distributions()
    assert "srprune:tail" not in SRSearchSpace(scale=2).distributions()  # the classic space
    tails = SRSearchSpace.for_backend(scale=2).distributions()["srprune:tail"]
    assert tails.choices == ("conv3x3", "deconv")
