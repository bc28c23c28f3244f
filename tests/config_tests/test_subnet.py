from __future__ import annotations

import dataclasses

import pytest

from optuna_srprune.config import BlockConfig
from optuna_srprune.config import count_macs
from optuna_srprune.config import count_params
from optuna_srprune.config import layer_specs
from optuna_srprune.config import LayerSpec
from optuna_srprune.config import SubnetConfig
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.search_space import SRSearchSpace


def _config() -> SubnetConfig:
    return SubnetConfig(scale=3, width=24, blocks=(BlockConfig("edsr", (16,)), BlockConfig("wdsr", (64, 12))))


def test_json_round_trip() -> None:
    config = _config()
    assert SubnetConfig.from_json(config.to_json()) == config
    assert SubnetConfig.from_dict(config.to_dict()) == config
    assert hash(SubnetConfig.from_json(config.to_json())) == hash(config)


def test_depth_zero_is_rejected() -> None:
    with pytest.raises(ConfigError, match="depth >= 1"):
        SubnetConfig(scale=2, width=16, blocks=())


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"scale": 2, "width": 16}',
        '{"scale": 2, "width": 16, "blocks": [{"kind": "edsr", "channels": [8]}], "extra": 1}',
        '{"scale": 2, "width": 16, "blocks": [{"kind": "edsr", "channels": [8, 8]}]}',
        '{"scale": 5, "width": 16, "blocks": [{"kind": "edsr", "channels": [8]}]}',
        '{"scale": 2, "width": 16, "blocks": [{"kind": "resnet", "channels": [8]}]}',
        '{"scale": 2, "width": 16, "blocks": [{"kind": "edsr", "channels": [0]}]}',
    ],
)
def test_bad_json_gets_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError):
        SubnetConfig.from_json(text)


def test_macs_and_params_of_the_largest_subnet_match_a_hand_count() -> None:
    largest = SRSearchSpace(scale=2).largest()  # 6 edsr blocks, width 40, unpruned
    assert largest.summary() == "x2 w40 [" + " ".join(["edsr40"] * 6) + "]"
    head, block, tail = 3 * 3 * 3 * 40, 2 * (3 * 3 * 40 * 40), 3 * 3 * 40 * 12
    assert count_macs(largest, 10, 20) == 10 * 20 * (head + 6 * block + tail)
    biases = 40 + 6 * (40 + 40) + 12
    assert count_params(largest) == head + 6 * block + tail + biases


def test_layer_specs_describe_the_graph() -> None:
    specs = layer_specs(_config(), 5, 7)
    assert [s.name for s in specs] == [
        "head",
        "block0.conv0",
        "block0.conv1",
        "block1.conv0",
        "block1.conv1",
        "block1.conv2",
        "tail",
    ]
    assert [(s.in_channels, s.out_channels, s.kernel) for s in specs] == [
        (3, 24, 3),
        (24, 16, 3),
        (16, 24, 3),
        (24, 64, 1),
        (64, 12, 1),
        (12, 24, 3),
        (24, 27, 3),
    ]
    assert specs[-1].pixel_shuffle == 3 and specs[-1].residual == "global"


def test_ecb_blocks_set_the_trunk_width_and_the_deconv_tail_upsamples() -> None:
    config = SubnetConfig(
        2, 32, (BlockConfig("ecb", (16,)), BlockConfig("edsr", (16,)), BlockConfig("ecb", (32,))), "deconv"
    )
    specs = layer_specs(config, 5, 7)
    assert [(s.in_channels, s.out_channels) for s in specs] == [
        (3, 32),
        (32, 16),
        (16, 16),
        (16, 16),
        (16, 32),
        (32, 3),
    ]
    assert [s.opens_block for s in specs] == [False, True, True, False, True, False]
    tail = specs[-1]
    assert (tail.op, tail.kernel, tail.stride, tail.upscale, tail.residual) == ("deconv", 2, 2, 2, "global")
    assert tail.macs == 5 * 7 * 2 * 2 * 32 * 3  # every LR pixel writes a 2x2 patch
    assert LayerSpec.from_key(tail.key()) == dataclasses.replace(tail, name="", opens_block=False)
    assert config.summary() == "x2 w32 [ecb16 edsr16 ecb32] +deconv"
    assert SubnetConfig.from_json(config.to_json()) == config


def test_configs_written_before_tails_were_searchable_read_as_the_3x3_tail() -> None:
    old = {"scale": 2, "width": 8, "blocks": [{"kind": "edsr", "channels": [8]}]}
    assert SubnetConfig.from_dict(old).tail == "conv3x3"
    with pytest.raises(ConfigError, match="Unknown tail"):
        SubnetConfig.from_dict({**old, "tail": "bilinear"})
