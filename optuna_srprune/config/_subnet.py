"""``SubnetConfig``: the one description of a candidate network's shape."""

from __future__ import annotations

from collections.abc import Mapping
import dataclasses
import json
from typing import Any

from optuna_srprune.exceptions import ConfigError

SCALES = (2, 3, 4)

# Number of prunable (output-channel) layers inside each block family, and what they are, for a block
# entered with ``c`` channels:
#   edsr: 3x3 conv (c -> c0) + ReLU, 3x3 conv (c0 -> c), residual add.
#   wdsr: 1x1 conv (c -> c0) + ReLU, 1x1 conv (c0 -> c1), 3x3 conv (c1 -> c), residual add
#         (WDSR-B: wide activation then a linear low-rank bottleneck).
#   ecb:  3x3 conv (c -> c0) + ReLU, no residual: the block changes the trunk's width to c0. Trained as
#         an edge-oriented re-parameterisable block (ECBSR), deployed as this one plain conv.
BLOCK_KINDS: dict[str, int] = {"edsr": 1, "wdsr": 2, "ecb": 1}

# How the network turns features into the upscaled image (the global skip is added in both):
#   conv3x3: 3x3 conv (c -> 3*s^2), depth-to-space;
#   deconv:  transposed conv of kernel s and stride s (c -> 3), i.e. a 1x1 sub-pixel conv.
TAILS = ("conv3x3", "deconv")


@dataclasses.dataclass(frozen=True)
class BlockConfig:
    """One residual block of the trunk.

    Args:
        kind: Block family, ``"edsr"`` or ``"wdsr"``.
        channels: Kept output channels of the block's prunable layers, one per layer
            (one for ``edsr``, two for ``wdsr``). The block's last conv always outputs the trunk width.
    """

    kind: str
    channels: tuple[int, ...]

    def __post_init__(self) -> None:
        if self.kind not in BLOCK_KINDS:
            raise ConfigError(f"Unknown block kind {self.kind!r}; choose one of {sorted(BLOCK_KINDS)}.")
        object.__setattr__(self, "channels", tuple(self.channels))
        expected = BLOCK_KINDS[self.kind]
        if len(self.channels) != expected:
            raise ConfigError(
                f"A {self.kind!r} block has {expected} prunable layer(s), "
                f"but {len(self.channels)} channel count(s) were given: {self.channels}."
            )
        for c in self.channels:
            if not isinstance(c, int) or isinstance(c, bool) or c < 1:
                raise ConfigError(
                    f"Kept channels must be positive integers, got {c!r} in a {self.kind!r} block."
                )


@dataclasses.dataclass(frozen=True)
class SubnetConfig:
    """A candidate SR network: head width, blocks with kept channels, tail, and scale.

    The network is ``head (3x3, 3 -> width)``, the ``blocks``, and the ``tail`` (``"conv3x3"``: 3x3
    conv to ``3*scale^2`` channels and a pixel shuffle; ``"deconv"``: a transposed conv of kernel and
    stride ``scale``), plus a global skip (the input upsampled by nearest neighbour). Residual blocks
    keep the trunk's width; an ``ecb`` block sets it to its kept channels.
    :func:`~optuna_srprune.config.layer_specs` turns a config into the layers it executes.

    Example:

        .. code::

            from optuna_srprune.config import BlockConfig, SubnetConfig

            config = SubnetConfig(
                scale=2, width=32, blocks=(BlockConfig("edsr", (24,)), BlockConfig("wdsr", (96, 24)))
            )
            assert SubnetConfig.from_json(config.to_json()) == config

    Args:
        scale: Upscaling factor, 2, 3 or 4.
        width: Output channels of the head (the trunk's width until an ``ecb`` block changes it).
        blocks: The blocks, at least one.
        tail: ``"conv3x3"`` or ``"deconv"``.
    """

    scale: int
    width: int
    blocks: tuple[BlockConfig, ...]
    tail: str = "conv3x3"

    def __post_init__(self) -> None:
        if not isinstance(self.scale, int) or isinstance(self.scale, bool) or self.scale not in SCALES:
            raise ConfigError(f"scale must be one of {SCALES} (an integer), got {self.scale!r}.")
        if not isinstance(self.width, int) or isinstance(self.width, bool) or self.width < 1:
            raise ConfigError(f"width must be a positive integer, got {self.width!r}.")
        blocks = tuple(b if isinstance(b, BlockConfig) else BlockConfig(**b) for b in self.blocks)
        if not blocks:
            raise ConfigError("A network needs at least one residual block (depth >= 1), got 0.")
        object.__setattr__(self, "blocks", blocks)
        if self.tail not in TAILS:
            raise ConfigError(f"Unknown tail {self.tail!r}; choose one of {list(TAILS)}.")

    @property
    def depth(self) -> int:
        """Number of residual blocks."""
        return len(self.blocks)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict; :meth:`from_dict` inverts it."""
        return {
            "scale": self.scale,
            "width": self.width,
            "blocks": [{"kind": b.kind, "channels": list(b.channels)} for b in self.blocks],
            "tail": self.tail,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SubnetConfig:
        """Build a config from :meth:`to_dict`'s output, with a clear error on bad input."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"A subnet config must be a JSON object, got {type(data).__name__}.")
        missing = {"scale", "width", "blocks"} - set(data)
        if missing:
            raise ConfigError(f"Subnet config is missing key(s) {sorted(missing)}.")
        unknown = set(data) - {"scale", "width", "blocks", "tail"}
        if unknown:
            raise ConfigError(f"Subnet config has unknown key(s) {sorted(unknown)}.")
        blocks = data["blocks"]
        if not isinstance(blocks, (list, tuple)):
            raise ConfigError("Subnet config 'blocks' must be a list of {kind, channels} objects.")
        try:
            parsed = tuple(BlockConfig(kind=b["kind"], channels=tuple(b["channels"])) for b in blocks)
        except (KeyError, TypeError, IndexError) as err:
            raise ConfigError(
                f"Each block must be an object with 'kind' and 'channels', got {blocks!r}."
            ) from err
        # Configs written before the tail was searchable have none: theirs was the 3x3 one.
        return cls(scale=data["scale"], width=data["width"], blocks=parsed, tail=data.get("tail", "conv3x3"))

    def to_json(self) -> str:
        """Compact, key-sorted JSON (stable, so it can key caches and trial attributes)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> SubnetConfig:
        """Inverse of :meth:`to_json`."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigError(f"Subnet config is not valid JSON: {err}.") from err
        except RecursionError:
            raise ConfigError("Subnet config is nested too deeply to be a config.") from None
        return cls.from_dict(data)

    def summary(self) -> str:
        """A short human-readable description, e.g. ``x2 w32 [edsr24 wdsr96/24]`` (``+deconv`` tail)."""
        blocks = " ".join(b.kind + "/".join(str(c) for c in b.channels) for b in self.blocks)
        tail = "" if self.tail == "conv3x3" else f" +{self.tail}"
        return f"x{self.scale} w{self.width} [{blocks}]{tail}"
