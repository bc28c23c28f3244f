"""Block shapes: the unpruned channels of each block kind, full-width networks, the trunk's width."""

from __future__ import annotations

from optuna_srprune.config._subnet import BlockConfig
from optuna_srprune.config._subnet import SubnetConfig

# The wide activation of a wdsr block is this many times the trunk (WDSR-B's default).
WDSR_EXPANSION = 4


def unpruned_channels(
    kind: str, width: int, current: int | None = None, wdsr_expansion: int = WDSR_EXPANSION
) -> tuple[int, ...]:
    """Output channels of the prunable layers of a ``kind`` block before pruning.

    An ``ecb`` conv has the head's width (its kept count becomes the trunk's width); an ``edsr`` conv0
    the channels entering the block; a ``wdsr`` block's conv0 (the wide activation) ``wdsr_expansion``
    times them and its conv1 (the linear bottleneck) as many as enter.

    Args:
        kind: Block family.
        width: The network's head width.
        current: Channels entering the block (default: ``width``).
        wdsr_expansion: Expansion of the ``wdsr`` block's wide activation.
    """
    c = width if current is None else current
    if kind == "ecb":
        return (width,)
    return (c,) if kind == "edsr" else (wdsr_expansion * c, c)


def full_config(
    scale: int, kind: str, width: int, depth: int, tail: str = "conv3x3", wdsr_expansion: int = WDSR_EXPANSION
) -> SubnetConfig:
    """The unpruned network of ``depth`` ``kind`` blocks at head width ``width``."""
    block = BlockConfig(kind, unpruned_channels(kind, width, wdsr_expansion=wdsr_expansion))
    return SubnetConfig(scale, width, (block,) * depth, tail)


def trunk_after(block: BlockConfig, current: int) -> int:
    """The trunk's width after ``block`` when ``current`` channels enter it (only ``ecb`` changes it)."""
    return block.channels[0] if block.kind == "ecb" else current
