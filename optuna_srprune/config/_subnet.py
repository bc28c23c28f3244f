"""``SubnetConfig``: the one description of a candidate network's shape."""

from __future__ import annotations

from collections.abc import Mapping
import dataclasses
import json
from typing import Any

from optuna_srprune.exceptions import ConfigError

SCALES = (2, 3, 4)

# Number of prunable (output-channel) layers inside each block family, and what they are.
#   edsr: 3x3 conv (width -> c0) + ReLU, 3x3 conv (c0 -> width), residual add.
#   wdsr: 1x1 conv (width -> c0) + ReLU, 1x1 conv (c0 -> c1), 3x3 conv (c1 -> width), residual add
#         (WDSR-B: wide activation then a linear low-rank bottleneck).
BLOCK_KINDS: dict[str, int] = {"edsr": 1, "wdsr": 2}


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
    """A candidate SR network: trunk width, residual blocks with kept channels, and scale.

    The network is ``head (3x3, 3 -> width)``, the ``blocks``, and ``tail (3x3, width -> 3*scale^2)``
    followed by a global skip (the input repeated ``scale^2`` times, i.e. nearest upsampling) and a
    pixel shuffle. :func:`~optuna_srprune.config.layer_specs` turns it into the layers it executes.

    Example:

        .. code::

            from optuna_srprune.config import BlockConfig, SubnetConfig

            config = SubnetConfig(
                scale=2, width=32, blocks=(BlockConfig("edsr", (24,)), BlockConfig("wdsr", (96, 24)))
            )
            assert SubnetConfig.from_json(config.to_json()) == config

    Args:
        scale: Upscaling factor, 2, 3 or 4.
        width: Channels on the residual path (every residual add forces the same width).
        blocks: The residual blocks, at least one.
    """

    scale: int
    width: int
    blocks: tuple[BlockConfig, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.scale, int) or isinstance(self.scale, bool) or self.scale not in SCALES:
            raise ConfigError(f"scale must be one of {SCALES} (an integer), got {self.scale!r}.")
        if not isinstance(self.width, int) or isinstance(self.width, bool) or self.width < 1:
            raise ConfigError(f"width must be a positive integer, got {self.width!r}.")
        blocks = tuple(b if isinstance(b, BlockConfig) else BlockConfig(**b) for b in self.blocks)
        if not blocks:
            raise ConfigError("A network needs at least one residual block (depth >= 1), got 0.")
        object.__setattr__(self, "blocks", blocks)

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
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SubnetConfig:
        """Build a config from :meth:`to_dict`'s output, with a clear error on bad input."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"A subnet config must be a JSON object, got {type(data).__name__}.")
        missing = {"scale", "width", "blocks"} - set(data)
        if missing:
            raise ConfigError(f"Subnet config is missing key(s) {sorted(missing)}.")
        unknown = set(data) - {"scale", "width", "blocks"}
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
        return cls(scale=data["scale"], width=data["width"], blocks=parsed)

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
        """A short human-readable description, e.g. ``x2 w32 [edsr24 wdsr96/24]``."""
        blocks = " ".join(b.kind + "/".join(str(c) for c in b.channels) for b in self.blocks)
        return f"x{self.scale} w{self.width} [{blocks}]"
