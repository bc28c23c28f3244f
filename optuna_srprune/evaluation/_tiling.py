"""Running a network on overlapping tiles, so large images fit in bounded memory."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from typing import NamedTuple

import torch

Network = Callable[[torch.Tensor], torch.Tensor]


class TileWindow(NamedTuple):
    """One tile of an LR image: the window a network reads and the part of its output that is kept.

    ``rows``/``cols`` are the LR window (``slice(top, bottom)``); ``keep_rows``/``keep_cols`` are the
    LR rows/columns of that window whose output is kept, relative to the window. Multiply both by the
    scale for the output. Kept parts of all windows cover the whole image.
    """

    rows: slice
    cols: slice
    keep_rows: slice
    keep_cols: slice

    def out_slices(self, scale: int) -> tuple[slice, slice, slice, slice]:
        """``(rows, cols)`` of the output image, then ``(rows, cols)`` of the tile's output, to copy."""
        top, left, kr, kc = self.rows.start, self.cols.start, self.keep_rows, self.keep_cols
        return (
            slice((top + kr.start) * scale, (top + kr.stop) * scale),
            slice((left + kc.start) * scale, (left + kc.stop) * scale),
            slice(kr.start * scale, kr.stop * scale),
            slice(kc.start * scale, kc.stop * scale),
        )


def _starts(length: int, tile: int, overlap: int) -> list[int]:
    if length <= tile:
        return [0]
    step = tile - 2 * overlap
    starts = list(range(0, length - tile, step))
    return starts + [length - tile]


def _spans(length: int, tile: int, overlap: int) -> list[tuple[slice, slice]]:
    spans = []
    for start in _starts(length, tile, overlap):
        stop = min(start + tile, length)
        # Keep the centre; at the image border keep everything up to the border.
        first = 0 if start == 0 else overlap
        last = stop - start if stop == length else stop - start - overlap
        spans.append((slice(start, stop), slice(first, last)))
    return spans


def tile_windows(height: int, width: int, tile: int, overlap: int) -> Iterator[TileWindow]:
    """The windows of ``tile x tile`` LR pixels (fewer for a smaller image) that cover an image.

    Neighbouring windows overlap by ``2 * overlap``; each keeps its centre, trimmed by ``overlap``
    wherever a neighbour covers the border. With ``overlap`` at least the network's receptive-field
    radius, every kept output pixel saw exactly the inputs it sees in one untiled pass. Every window
    but the image's own size is ``tile`` pixels a side (the last one of a row or column is shifted
    back to end at the border), so a runtime sees few distinct shapes.

    Example:
        >>> windows = list(tile_windows(100, 60, tile=64, overlap=8))
        >>> len(windows), windows[0].rows, windows[0].keep_rows
        (2, slice(0, 64, None), slice(0, 56, None))
    """
    if tile <= 2 * overlap:
        raise ValueError(f"tile ({tile}) must exceed twice the overlap ({overlap}).")
    for rows, keep_rows in _spans(height, tile, overlap):
        for cols, keep_cols in _spans(width, tile, overlap):
            yield TileWindow(rows, cols, keep_rows, keep_cols)


def upscale_tiled(net: Network, lr: torch.Tensor, scale: int, tile: int, overlap: int) -> torch.Tensor:
    """Apply ``net`` to NCHW ``lr`` in tiles of ``tile`` LR pixels overlapping by ``2 * overlap``.

    With ``overlap`` at least the network's receptive-field radius, the result equals the untiled
    output (up to float rounding); see :func:`tile_windows`.
    """
    n, _, height, width = lr.shape
    out = lr.new_empty(n, 3, height * scale, width * scale)
    for window in tile_windows(height, width, tile, overlap):
        rows, cols, tile_rows, tile_cols = window.out_slices(scale)
        sr = net(lr[:, :, window.rows, window.cols])
        out[:, :, rows, cols] = sr[:, :, tile_rows, tile_cols]
    return out
