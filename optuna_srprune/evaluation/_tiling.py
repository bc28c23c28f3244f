"""Running a network on overlapping tiles, so large images fit in bounded memory."""

from __future__ import annotations

from collections.abc import Callable

import torch

Network = Callable[[torch.Tensor], torch.Tensor]


def _starts(length: int, tile: int, overlap: int) -> list[int]:
    if length <= tile:
        return [0]
    step = tile - 2 * overlap
    starts = list(range(0, length - tile, step))
    return starts + [length - tile]


def upscale_tiled(net: Network, lr: torch.Tensor, scale: int, tile: int, overlap: int) -> torch.Tensor:
    """Apply ``net`` to NCHW ``lr`` in tiles of ``tile`` LR pixels overlapping by ``2 * overlap``.

    With ``overlap`` at least the network's receptive-field radius, every kept output pixel saw exactly
    the inputs it sees in one untiled pass, so the result equals the untiled output (up to float
    rounding): each tile's output keeps only its centre, trimmed by ``overlap`` wherever a
    neighbouring tile covers the border.
    """
    if tile <= 2 * overlap:
        raise ValueError(f"tile ({tile}) must exceed twice the overlap ({overlap}).")
    n, _, height, width = lr.shape
    out = lr.new_empty(n, 3, height * scale, width * scale)
    for top in _starts(height, tile, overlap):
        for left in _starts(width, tile, overlap):
            bottom, right = min(top + tile, height), min(left + tile, width)
            sr = net(lr[:, :, top:bottom, left:right])
            # Keep the centre; at the image border keep everything up to the border.
            y0 = 0 if top == 0 else overlap
            x0 = 0 if left == 0 else overlap
            y1 = bottom - top if bottom == height else bottom - top - overlap
            x1 = right - left if right == width else right - left - overlap
            rows = slice((top + y0) * scale, (top + y1) * scale)
            cols = slice((left + x0) * scale, (left + x1) * scale)
            out[:, :, rows, cols] = sr[:, :, y0 * scale : y1 * scale, x0 * scale : x1 * scale]
    return out
