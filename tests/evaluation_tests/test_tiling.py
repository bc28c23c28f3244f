from __future__ import annotations

import numpy as np
import pytest

from optuna_srprune.evaluation import tile_windows


def _length(span: slice) -> int:
    return span.stop - span.start


@pytest.mark.parametrize("size", [(1, 1), (10, 64), (64, 65), (100, 37), (257, 300)])
@pytest.mark.parametrize(("tile", "overlap"), [(16, 3), (64, 8), (9, 4)])
def test_kept_parts_cover_the_whole_output(size: tuple[int, int], tile: int, overlap: int) -> None:
    height, width, scale = *size, 3
    covered = np.zeros((height * scale, width * scale), int)
    for window in tile_windows(height, width, tile, overlap):
        assert (_length(window.rows), _length(window.cols)) == (min(tile, height), min(tile, width))
        rows, cols, tile_rows, tile_cols = window.out_slices(scale)
        covered[rows, cols] += 1
        assert _length(rows) == _length(tile_rows) and _length(cols) == _length(tile_cols)
        # Kept pixels are at least `overlap` from every window border inside the image.
        for span, keep, length in (
            (window.rows, window.keep_rows, height),
            (window.cols, window.keep_cols, width),
        ):
            assert keep.start >= (0 if span.start == 0 else overlap)
            assert keep.stop <= _length(span) - (0 if span.stop == length else overlap)
    assert (covered >= 1).all()  # the last window, shifted back to the border, may redo a few


def test_tile_must_exceed_twice_the_overlap() -> None:
    with pytest.raises(ValueError, match="twice the overlap"):
        list(tile_windows(100, 100, 16, 8))
