"""``SRSearchSpace``: architecture and per-layer pruning ratios as Optuna distributions."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
import dataclasses
import itertools
import math
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

from optuna_srprune.config import BLOCK_KINDS
from optuna_srprune.config import BlockConfig
from optuna_srprune.config import full_config
from optuna_srprune.config import layer_shapes
from optuna_srprune.config import layer_specs
from optuna_srprune.config import LayerSpec
from optuna_srprune.config import SCALES
from optuna_srprune.config import SubnetConfig
from optuna_srprune.config import TAILS
from optuna_srprune.config import trunk_after
from optuna_srprune.config import unpruned_channels
from optuna_srprune.exceptions import ConfigError


@dataclasses.dataclass(frozen=True)
class SRSearchSpace:
    """The search space of SR subnets: depth, block types, width, tail and per-layer pruning.

    Parameters (all always present, so samplers see one flat, fixed-length space):

    - ``{prefix}depth``: number of blocks, ``min_depth..max_depth``;
    - ``{prefix}width``: output channels of the head, one of ``widths``;
    - ``{prefix}tail``: the upscaling tail, one of ``tails`` (only when there are several);
    - ``{prefix}block{i}.kind``: block family of block ``i`` (``"ecb"``, ``"edsr"`` or ``"wdsr"``);
    - ``{prefix}block{i}.ratio{j}``: fraction of output channels pruned from prunable layer ``j`` of
      block ``i``, on a grid of ``ratio_step`` up to ``max_ratio``.

    The parameters of blocks at or beyond the chosen depth, and ``ratio1`` of one-layer blocks, are
    ignored by :meth:`decode`. A kept count is the unpruned count times ``1 - ratio``, rounded to a
    multiple of ``channel_multiple`` (at least one multiple, at most the unpruned count): set it to the
    back-end's channel blocking (ONNX Runtime on AVX-512 blocks channels by 16, so 24 channels cost what
    32 cost) and every choice in the space changes latency.

    Unpruned channels of the prunable layers, for head width ``w`` and a block entered with ``c``
    channels: ``ecb`` conv0 ``w`` (its kept count becomes the trunk's width); ``edsr`` conv0 ``c``;
    ``wdsr`` conv0 (wide activation) ``wdsr_expansion * c`` and conv1 (linear bottleneck) ``c``.

    Example:

        .. code::

            import optuna
            from optuna_srprune.search_space import SRSearchSpace

            space = SRSearchSpace(scale=2)

            def objective(trial):
                config = space.suggest(trial)
                return float(config.width)

            optuna.create_study().optimize(objective, n_trials=3)

    Args:
        scale: Upscaling factor, 2, 3 or 4.
        min_depth: Fewest blocks.
        max_depth: Most blocks.
        widths: Head widths to choose from.
        block_kinds: Block families to choose from.
        tails: Tails to choose from (``"conv3x3"``, ``"deconv"``).

    :meth:`for_backend` gives a space made for a back-end's channel blocking.
        max_ratio: Largest pruning ratio of a layer.
        ratio_step: Grid step of the pruning ratios.
        channel_multiple: Kept channel counts are multiples of this.
        wdsr_expansion: Expansion of the ``wdsr`` block's wide activation.
        prefix: Prefix of every parameter name, so the space can sit beside a user's own parameters.
    """

    scale: int = 2
    min_depth: int = 1
    max_depth: int = 6
    widths: tuple[int, ...] = (16, 24, 32, 40)
    block_kinds: tuple[str, ...] = ("edsr", "wdsr")
    max_ratio: float = 0.75
    ratio_step: float = 0.125
    channel_multiple: int = 4
    wdsr_expansion: int = 4
    prefix: str = "srprune:"
    tails: tuple[str, ...] = ("conv3x3",)

    def __post_init__(self) -> None:
        object.__setattr__(self, "widths", tuple(sorted(set(self.widths))))
        object.__setattr__(self, "block_kinds", tuple(self.block_kinds))
        object.__setattr__(self, "tails", tuple(self.tails))
        if not self.tails or set(self.tails) - set(TAILS):
            raise ConfigError(f"tails must be a non-empty subset of {list(TAILS)}, got {self.tails}.")
        if self.scale not in SCALES:
            raise ConfigError(f"scale must be one of {SCALES}, got {self.scale!r}.")
        if not 1 <= self.min_depth <= self.max_depth:
            raise ConfigError(
                f"Need 1 <= min_depth <= max_depth, got min_depth={self.min_depth}, "
                f"max_depth={self.max_depth}."
            )
        if not self.widths or any(w < 1 for w in self.widths):
            raise ConfigError(f"widths must be positive integers, got {self.widths}.")
        unknown = set(self.block_kinds) - set(BLOCK_KINDS)
        if not self.block_kinds or unknown:
            raise ConfigError(
                f"block_kinds must be a non-empty subset of {sorted(BLOCK_KINDS)}, got {self.block_kinds}."
            )
        if not 0.0 <= self.max_ratio < 1.0:
            raise ConfigError(f"max_ratio must be in [0, 1), got {self.max_ratio}.")
        if self.ratio_step <= 0 or not _is_multiple(self.max_ratio, self.ratio_step):
            raise ConfigError(
                f"ratio_step must be positive and divide max_ratio, got ratio_step="
                f"{self.ratio_step}, max_ratio={self.max_ratio}."
            )
        if self.channel_multiple < 1:
            raise ConfigError(f"channel_multiple must be >= 1, got {self.channel_multiple}.")
        if self.wdsr_expansion < 1:
            raise ConfigError(f"wdsr_expansion must be >= 1, got {self.wdsr_expansion}.")

    @classmethod
    def for_backend(cls, scale: int, channel_multiple: int = 16, **overrides: Any) -> SRSearchSpace:
        """A space made for a back-end that blocks channels by ``channel_multiple``.

        Widths are one and two blocks, every kept channel count is a whole number of blocks (so every
        choice changes latency: ONNX Runtime on AVX-512 blocks by 16, on AVX2 by 8), the blocks are
        ``ecb`` (plain re-parameterisable convs, each prunable) and ``edsr``, and both tails are
        searched. ``overrides`` replace any other setting.

        Example:

            .. code::

                from optuna_srprune.search_space import SRSearchSpace

                space = SRSearchSpace.for_backend(scale=2, channel_multiple=16)
                assert space.widths == (16, 32) and space.tails == ("conv3x3", "deconv")
        """
        m = channel_multiple
        settings: dict[str, Any] = {
            "widths": (m, 2 * m),
            "block_kinds": ("ecb", "edsr"),
            "max_ratio": 0.5,
            "ratio_step": 0.5,
            "channel_multiple": m,
            "tails": TAILS,
        }
        return cls(scale=scale, **{**settings, **overrides})

    # ----------------------------------------------------------------- Optuna side
    def distributions(self) -> dict[str, BaseDistribution]:
        """The flat, fixed-length dict of distributions (same on every call and process)."""
        p = self.prefix
        dists: dict[str, BaseDistribution] = {
            f"{p}depth": IntDistribution(self.min_depth, self.max_depth),
            f"{p}width": CategoricalDistribution(self.widths),
        }
        if len(self.tails) > 1:
            dists[f"{p}tail"] = CategoricalDistribution(self.tails)
        for i in range(self.max_depth):
            dists[self.kind_name(i)] = CategoricalDistribution(self.block_kinds)
            for j in range(self._max_prunable):
                dists[self.ratio_name(i, j)] = FloatDistribution(0.0, self.max_ratio, step=self.ratio_step)
        return dists

    def kind_name(self, block: int) -> str:
        """The parameter of block ``block``'s kind."""
        return f"{self.prefix}block{block}.kind"

    def ratio_name(self, block: int, layer: int) -> str:
        """The parameter of the pruning ratio of prunable layer ``layer`` of block ``block``."""
        return f"{self.prefix}block{block}.ratio{layer}"

    def ratio_names(self, params: Mapping[str, Any]) -> list[str]:
        """The pruning ratios ``params`` uses: those of its blocks within its depth, per their kind."""
        return [name for block in self._block_names(params) for name in block[1:]]

    def suggest(self, trial: optuna.trial.BaseTrial) -> SubnetConfig:
        """Suggest every parameter of the space on ``trial`` and decode the config."""
        params = {name: _suggest(trial, name, dist) for name, dist in self.distributions().items()}
        return self.decode(params)

    def decode(self, params: Mapping[str, Any]) -> SubnetConfig:
        """Turn a dict of parameter values (e.g. ``trial.params``) into a config."""
        p = self.prefix
        missing = [name for name in self._needed_names(params) if name not in params]
        if missing:
            raise ConfigError(
                f"Parameters {missing} are missing; was the trial made with this search space (prefix {p!r})?"
            )
        depth, width = int(params[f"{p}depth"]), int(params[f"{p}width"])
        self._check_choice("depth", depth, range(self.min_depth, self.max_depth + 1))
        self._check_choice("width", width, self.widths)
        tail = params.get(f"{p}tail", self.tails[0])
        self._check_choice("tail", tail, self.tails)
        blocks, current = [], width
        for i in range(depth):
            kind = params[self.kind_name(i)]
            self._check_choice(f"block{i}.kind", kind, self.block_kinds)
            ratios = [float(params[self.ratio_name(i, j)]) for j in range(BLOCK_KINDS[kind])]
            for ratio in ratios:
                if not 0.0 <= ratio <= self.max_ratio + 1e-9:
                    raise ConfigError(f"Pruning ratio {ratio} is outside [0, {self.max_ratio}].")
            full = self.unpruned_channels(kind, width, current)
            kept = tuple(self.kept_channels(c, r) for c, r in zip(full, ratios))
            blocks.append(BlockConfig(kind, kept))
            current = trunk_after(blocks[-1], current)
        return SubnetConfig(scale=self.scale, width=width, blocks=tuple(blocks), tail=tail)

    def encode(self, config: SubnetConfig) -> dict[str, Any]:
        """Parameters that :meth:`decode` maps back to ``config`` (unused ones set to defaults).

        Kept counts are mapped to the smallest ratio that yields them.
        """
        self.validate(config)
        p = self.prefix
        params: dict[str, Any] = {f"{p}depth": config.depth, f"{p}width": config.width}
        if len(self.tails) > 1:
            params[f"{p}tail"] = config.tail
        current = config.width
        for i in range(self.max_depth):
            block = config.blocks[i] if i < config.depth else None
            params[self.kind_name(i)] = block.kind if block else self.block_kinds[0]
            full = self.unpruned_channels(block.kind, config.width, current) if block else ()
            if block is not None:
                current = trunk_after(block, current)
            for j in range(self._max_prunable):
                ratio = 0.0
                if block is not None and j < len(block.channels):
                    ratio = next(
                        r for r in self.ratios() if self.kept_channels(full[j], r) == block.channels[j]
                    )
                params[self.ratio_name(i, j)] = ratio
        return params

    # ----------------------------------------------------------------- configs
    def unpruned_channels(self, kind: str, width: int, current: int | None = None) -> tuple[int, ...]:
        """Output channels of the prunable layers of a ``kind`` block before pruning.

        Args:
            kind: Block family.
            width: The network's head width.
            current: Channels entering the block (default: ``width``).
        """
        return unpruned_channels(kind, width, current, self.wdsr_expansion)

    def kept_channels(self, unpruned: int, ratio: float) -> int:
        """Channels kept from ``unpruned`` at pruning ``ratio``, rounded to ``channel_multiple``."""
        m = self.channel_multiple
        rounded = m * math.floor(unpruned * (1.0 - ratio) / m + 0.5)
        return min(unpruned, max(m, rounded))

    def ratios(self) -> list[float]:
        """The pruning-ratio grid."""
        n = round(self.max_ratio / self.ratio_step)
        return [round(k * self.ratio_step, 10) for k in range(n + 1)]

    def largest(self) -> SubnetConfig:
        """Deepest, widest, unpruned subnet (all blocks of the widest kind, the 3x3 tail if allowed)."""
        kind = max(self.block_kinds, key=lambda k: self._block_macs(k, max(self.widths)))
        return self.full(kind)

    def full(self, kind: str, width: int | None = None, depth: int | None = None) -> SubnetConfig:
        """The unpruned subnet of ``depth`` ``kind`` blocks at ``width`` (default: deepest, widest)."""
        width = max(self.widths) if width is None else width
        depth = self.max_depth if depth is None else depth
        tail = "conv3x3" if "conv3x3" in self.tails else self.tails[0]
        return full_config(self.scale, kind, width, depth, tail, self.wdsr_expansion)

    def smallest(self) -> SubnetConfig:
        """Shallowest, narrowest, most pruned subnet (blocks of the cheapest kind, cheapest tail)."""
        width = min(self.widths)
        kind = min(self.block_kinds, key=lambda k: self._block_macs(k, width, self.max_ratio))
        kept = tuple(self.kept_channels(c, self.max_ratio) for c in self.unpruned_channels(kind, width))
        tail = "deconv" if "deconv" in self.tails else self.tails[0]
        return SubnetConfig(self.scale, width, (BlockConfig(kind, kept),) * self.min_depth, tail)

    def sample(self, rng: np.random.Generator) -> SubnetConfig:
        """A config drawn uniformly per parameter."""
        params: dict[str, Any] = {}
        for name, dist in self.distributions().items():
            if isinstance(dist, IntDistribution):
                params[name] = int(rng.integers(dist.low, dist.high + 1))
            elif isinstance(dist, CategoricalDistribution):
                params[name] = dist.choices[int(rng.integers(len(dist.choices)))]
            else:
                assert isinstance(dist, FloatDistribution)
                grid = self.ratios()
                params[name] = grid[int(rng.integers(len(grid)))]
        return self.decode(params)

    def validate(self, config: SubnetConfig) -> None:
        """Raise :class:`ConfigError` unless ``config`` is a subnet of this space."""
        if config.scale != self.scale:
            raise ConfigError(f"Config is for x{config.scale}, the space for x{self.scale}.")
        self._check_choice("depth", config.depth, range(self.min_depth, self.max_depth + 1))
        self._check_choice("width", config.width, self.widths)
        self._check_choice("tail", config.tail, self.tails)
        current = config.width
        for i, block in enumerate(config.blocks):
            self._check_choice(f"block{i}.kind", block.kind, self.block_kinds)
            full = self.unpruned_channels(block.kind, config.width, current)
            current = trunk_after(block, current)
            for j, (kept, limit) in enumerate(zip(block.channels, full)):
                allowed = sorted({self.kept_channels(limit, r) for r in self.ratios()})
                if kept not in allowed:
                    raise ConfigError(
                        f"block{i} ({block.kind}) layer {j} keeps {kept} channels; at width "
                        f"{config.width} this space allows {allowed} (at most {limit} exist)."
                    )

    def layer_universe(self, lr_height: int, lr_width: int) -> list[LayerSpec]:
        """Every distinct layer (by :meth:`LayerSpec.key`) any subnet of the space can execute.

        This is what a latency table must cover.
        """
        seen: dict[str, LayerSpec] = {}

        def add(layers: Sequence[LayerSpec]) -> None:
            for layer in layers:
                seen.setdefault(layer.key(), layer)

        for width in self.widths:
            trunk_widths = self._trunk_widths(width)
            for current, kind in itertools.product(trunk_widths, self.block_kinds):
                full = self.unpruned_channels(kind, width, current)
                options = [sorted({self.kept_channels(c, r) for r in self.ratios()}) for c in full]
                for kept in itertools.product(*options):
                    # A one-block network entered with `current` channels; its head and tail are
                    # collected separately below.
                    config = SubnetConfig(self.scale, current, (BlockConfig(kind, tuple(kept)),))
                    add(layer_specs(config, lr_height, lr_width)[1:-1])
            for current, tail in itertools.product(trunk_widths, self.tails):
                config = SubnetConfig(self.scale, current, (BlockConfig("edsr", (current,)),), tail)
                layers = layer_specs(config, lr_height, lr_width)
                add(layers[-1:] if current != width else layers[:1] + layers[-1:])
        return [seen[k] for k in sorted(seen)]

    def _trunk_widths(self, width: int) -> list[int]:
        """Channel counts the trunk can have in a network of head width ``width``."""
        counts = {width}
        if "ecb" in self.block_kinds:
            counts |= {self.kept_channels(width, r) for r in self.ratios()}
        return sorted(counts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable settings; ``SRSearchSpace(**d)`` rebuilds the space."""
        d = dataclasses.asdict(self)
        d["widths"], d["block_kinds"], d["tails"] = (
            list(self.widths),
            list(self.block_kinds),
            list(self.tails),
        )
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SRSearchSpace:
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - fields
        if unknown:
            raise ConfigError(f"Unknown search-space setting(s) {sorted(unknown)}.")
        values = dict(data)
        for key in ("widths", "block_kinds", "tails"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)

    # ----------------------------------------------------------------- helpers
    @property
    def _max_prunable(self) -> int:
        return max(BLOCK_KINDS[k] for k in self.block_kinds)

    def _needed_names(self, params: Mapping[str, Any]) -> list[str]:
        p = self.prefix
        names = [f"{p}depth", f"{p}width"] + ([f"{p}tail"] if len(self.tails) > 1 else [])
        if params.get(f"{p}depth") is None:
            return names
        return names + [name for block in self._block_names(params) for name in block]

    def _block_names(self, params: Mapping[str, Any]) -> list[list[str]]:
        """Per block within ``params``' depth: its kind's parameter, then its kind's pruning ratios'."""
        blocks = []
        for i in range(int(params[f"{self.prefix}depth"])):
            kind = params.get(self.kind_name(i))
            prunable = BLOCK_KINDS[kind] if kind in BLOCK_KINDS else 0
            blocks.append([self.kind_name(i), *(self.ratio_name(i, j) for j in range(prunable))])
        return blocks

    def _block_macs(self, kind: str, width: int, ratio: float = 0.0) -> int:
        """MACs per LR pixel of one ``kind`` block at ``width``, pruned by ``ratio`` (to rank kinds)."""
        kept = tuple(self.kept_channels(c, ratio) for c in self.unpruned_channels(kind, width))
        config = SubnetConfig(self.scale, width, (BlockConfig(kind, kept),))
        return sum(layer.kernel_macs for layer in layer_shapes(config)[1:-1])

    @staticmethod
    def _check_choice(name: str, value: Any, allowed: Sequence[Any] | range) -> None:
        if value not in allowed:
            shown = f"{allowed.start}..{allowed.stop - 1}" if isinstance(allowed, range) else list(allowed)
            raise ConfigError(f"{name}={value!r} is not in this search space; allowed: {shown}.")


def _suggest(trial: optuna.trial.BaseTrial, name: str, dist: BaseDistribution) -> Any:
    """Suggest ``name`` from ``dist`` through the public ``suggest_*`` call that makes that distribution."""
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
    assert isinstance(dist, CategoricalDistribution)
    return trial.suggest_categorical(name, dist.choices)


def _is_multiple(value: float, step: float) -> bool:
    return abs(value / step - round(value / step)) < 1e-9
