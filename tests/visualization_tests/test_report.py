"""``write_report``: one self-contained page (plotly and images inline), the front's table, crops."""

from __future__ import annotations

import base64
from html.parser import HTMLParser
import io
from pathlib import Path
import re

import numpy as np
from PIL import Image
import pytest

from optuna_srprune.exceptions import DataError
from optuna_srprune.visualization import check_output_path
from optuna_srprune.visualization import choose_crops
from optuna_srprune.visualization import ImageComparison
from optuna_srprune.visualization import write_report

POINTS = [(30.0, 2.0), (29.0, 3.0), (31.0, 5.0), (33.0, 12.0)]  # front within 10 ms: 0, 2


class _Page(HTMLParser):
    """Every src/href and every tag of a page (script bodies are text, not tags)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.table_cells: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_cell = tag == "td"
        self.links += [(tag, key, value) for key, value in attrs if key in ("src", "href") and value]

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.table_cells.append(data)
            self._in_cell = False


def _comparison() -> ImageComparison:
    rng = np.random.default_rng(0)
    hr = rng.random((120, 160, 3))
    return ImageComparison(
        "noise", 2, hr, np.clip(hr * 0.8, 0, 1), {"Trial 0 (2 ms)": hr * 0.9, "Trial 2 (5 ms)": hr * 0.95}
    )


def _parse(path: Path) -> tuple[str, _Page]:
    text = path.read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    return text, page


def test_report_is_self_contained(make_study, tmp_path: Path) -> None:
    out = write_report(make_study(POINTS), tmp_path / "report.html", _comparison(), n_crops=2, crop_size=48)
    text, page = _parse(out)
    external = [link for link in page.links if re.match(r"^\s*(https?:)?//", link[2], re.IGNORECASE)]
    assert external == []
    assert "link" not in page.tags  # no stylesheet to fetch
    assert "plotly.js v" in text  # the library itself, inline
    images = [value for tag, key, value in page.links if tag == "img"]
    assert len(images) == 2 * 4  # 2 crops x (HR, bicubic, 2 models)
    assert all(src.startswith("data:image/png;base64,") for src in images)
    crop = Image.open(io.BytesIO(base64.b64decode(images[0].split(",", 1)[1])))
    assert crop.size == (48, 48) and crop.mode == "RGB"


def test_report_content(make_study, tmp_path: Path) -> None:
    out = write_report(make_study(POINTS, name="x2"), tmp_path / "r.html", _comparison(), n_crops=1)
    text, page = _parse(out)
    assert "optuna-srprune report: x2" in text and "Pareto front (2 trials)" in text
    assert page.table_cells[:2] == ["0", "30.000"]  # first row of the front's table, fastest first
    assert "x2 w10 [edsr4]" in text  # trial 2's network
    for label in ("HR (original)", "Bicubic", "Trial 0 (2 ms)", "Trial 2 (5 ms)"):
        assert label in text
    assert re.search(r"crop \d+\.\d\d dB<br>image \d+\.\d\d dB", text)


def test_report_without_images_or_feasible_trials(make_study, tmp_path: Path) -> None:
    out = write_report(make_study(POINTS), tmp_path / "r.html", budget_ms=1.0)
    text, page = _parse(out)
    assert "img" not in page.tags and "Image comparison" not in text
    assert "No trial is within the budget." in text


def test_choose_crops_finds_where_bicubic_loses() -> None:
    hr = np.full((128, 192, 3), 0.5)
    hr[40:72, 96:128] = np.random.default_rng(0).random((32, 32, 3))
    comparison = ImageComparison("flat", 2, hr, np.full_like(hr, 0.5), {})
    crops = choose_crops(comparison, 3, 32)
    assert crops[0] == (40, 96)
    assert len(crops) == 3
    for i, (t1, l1) in enumerate(crops):  # no two overlap
        for t2, l2 in crops[i + 1 :]:
            assert abs(t1 - t2) >= 32 or abs(l1 - l2) >= 32
    assert choose_crops(comparison, 1, 500) == [(0, 0)]  # a crop larger than the image: the image


def test_comparison_images_must_match() -> None:
    hr = np.zeros((32, 32, 3))
    with pytest.raises(DataError, match="'Trial 1' image has shape"):
        ImageComparison("x", 2, hr, hr, {"Trial 1": np.zeros((16, 16, 3))})
    with pytest.raises(DataError, match="H x W x 3"):
        ImageComparison("x", 2, np.zeros((32, 32)), hr, {})


def test_output_path(tmp_path: Path) -> None:
    check_output_path(tmp_path / "report.html")
    with pytest.raises(DataError, match="does not exist; create it first"):
        check_output_path(tmp_path / "missing" / "report.html")
    with pytest.raises(DataError, match="is a folder"):
        check_output_path(tmp_path)
