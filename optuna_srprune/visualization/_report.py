"""``write_report``: one self-contained HTML page of a study (no torch, nothing fetched)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
import dataclasses
import html
import io
import os
from pathlib import Path

import numpy as np
import optuna

from optuna_srprune.exceptions import DataError
from optuna_srprune.metrics import luma
from optuna_srprune.metrics import psnr
from optuna_srprune.orchestration import read_settings
from optuna_srprune.visualization._pareto import plot_pareto_front
from optuna_srprune.visualization._study import pareto_front
from optuna_srprune.visualization._study import trial_points
from optuna_srprune.visualization._study import TrialPoint

_PANEL_PX = 220  # shown size of one crop; pixels are enlarged without smoothing


@dataclasses.dataclass(frozen=True, eq=False)  # eq on arrays is ambiguous
class ImageComparison:
    """One validation image: the original, its bicubic upscaling and each model's output.

    Every image is an ``H x W x 3`` array, RGB in ``[0, 1]``, of the same size (the HR image
    mod-cropped to a multiple of the scale).

    Example:
        >>> import numpy as np
        >>> hr = np.zeros((64, 64, 3))
        >>> comparison = ImageComparison("black", 2, hr, hr, {"Trial 0": hr})
        >>> list(comparison.outputs)
        ['Trial 0']

    Attributes:
        name: The image's name (its file name without suffix).
        scale: The SR scale factor (PSNR crops that many border pixels).
        hr: The original (HR) image.
        bicubic: The LR image upscaled with bicubic interpolation.
        outputs: Each model's output by label (e.g. ``"Trial 12"``), in the order to show.
        is_gray: The image file held one channel (PSNR on gray values instead of Y).
    """

    name: str
    scale: int
    hr: np.ndarray
    bicubic: np.ndarray
    outputs: Mapping[str, np.ndarray]
    is_gray: bool = False

    def __post_init__(self) -> None:
        shape = np.shape(self.hr)
        if len(shape) != 3 or shape[2] != 3:
            raise DataError(f"The HR image must be H x W x 3, got shape {shape}.")
        for label, image in [("bicubic", self.bicubic), *self.outputs.items()]:
            if np.shape(image) != shape:
                raise DataError(f"The {label!r} image has shape {np.shape(image)}, the HR image {shape}.")

    def panels(self) -> list[tuple[str, np.ndarray]]:
        """``(label, image)`` in the order shown: HR, bicubic, then the models."""
        return [("HR (original)", self.hr), ("Bicubic", self.bicubic), *self.outputs.items()]


def choose_crops(comparison: ImageComparison, n_crops: int, size: int) -> list[tuple[int, int]]:
    """``(top, left)`` of up to ``n_crops`` non-overlapping ``size``-pixel squares worth looking at.

    They are where bicubic upscaling loses most (the largest squared error on the scored channel):
    edges and texture, where SR networks differ.

    Example:
        >>> import numpy as np
        >>> hr = np.zeros((64, 64, 3))
        >>> hr[40:, 40:] = 1.0  # a corner bicubic blurs
        >>> choose_crops(ImageComparison("corner", 2, hr, hr * 0.5, {}), 1, 16)
        [(40, 40)]
    """
    height, width = comparison.hr.shape[:2]
    size = min(size, height, width)
    error = (luma(comparison.hr, comparison.is_gray) - luma(comparison.bicubic, comparison.is_gray)) ** 2
    integral = np.pad(error.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    stride = max(1, size // 4)
    candidates = []
    for top in sorted({*range(0, height - size + 1, stride), height - size}):
        for left in sorted({*range(0, width - size + 1, stride), width - size}):
            b, r = top + size, left + size
            total = integral[b, r] - integral[top, r] - integral[b, left] + integral[top, left]
            candidates.append((float(total), top, left))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    chosen: list[tuple[int, int]] = []
    for _, top, left in candidates:
        if len(chosen) == n_crops:
            break
        if all(abs(top - t) >= size or abs(left - x) >= size for t, x in chosen):
            chosen.append((top, left))
    return chosen


def _png_data_uri(image: np.ndarray) -> str:
    from PIL import Image

    levels = np.floor(np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(levels, mode="RGB").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _db(value: float) -> str:
    return f"{value:.2f} dB" if np.isfinite(value) else "identical"


def _comparison_html(comparison: ImageComparison, n_crops: int, crop_size: int) -> str:
    scale, gray = comparison.scale, comparison.is_gray
    whole = {label: psnr(image, comparison.hr, scale, gray) for label, image in comparison.panels()[1:]}
    rows = []
    for top, left in choose_crops(comparison, n_crops, crop_size):
        size = min(crop_size, *comparison.hr.shape[:2])
        window = (slice(top, top + size), slice(left, left + size))
        hr_crop = comparison.hr[window]
        cells = []
        for index, (label, image) in enumerate(comparison.panels()):
            crop = image[window]
            if index == 0:
                caption = "reference"
            else:
                caption = f"crop {_db(psnr(crop, hr_crop, 0, gray))}<br>image {_db(whole[label])}"
            cells.append(
                f'<figure><img src="{_png_data_uri(crop)}" width="{_PANEL_PX}" height="{_PANEL_PX}" '
                f'alt="{html.escape(label)}"><figcaption><b>{html.escape(label)}</b><br>{caption}'
                "</figcaption></figure>"
            )
        where = f"{html.escape(comparison.name)}, {size}x{size} pixels at ({left}, {top})"
        rows.append(f'<div class="crops" title="{where}">{"".join(cells)}</div><p class="where">{where}</p>')
    return (
        f"<h2>Image comparison (x{scale})</h2>"
        f"<p>Crops of <b>{html.escape(comparison.name)}</b> where bicubic upscaling loses most; PSNR on "
        f"the Y channel ({scale} border pixels cropped for the whole image).</p>" + "".join(rows)
    )


def _number(value: float | None, fmt: str) -> str:
    return "" if value is None else format(value, fmt)


def _front_table(front: list[TrialPoint]) -> str:
    head = (
        "<tr><th>Trial</th><th>PSNR (dB)</th><th>SSIM</th><th>Latency (ms)</th><th>Measured (ms)</th>"
        "<th>MACs</th><th>Params</th><th>Network</th></tr>"
    )
    rows = [
        f"<tr><td>{p.number}</td><td>{p.psnr:.3f}</td><td>{_number(p.ssim, '.4f')}</td>"
        f"<td>{p.latency_ms:.3f}</td><td>{_number(p.measured_ms, '.3f')}</td>"
        f"<td>{_number(p.macs, ',')}</td><td>{_number(p.params, ',')}</td>"
        f"<td><code>{html.escape(p.summary)}</code></td></tr>"
        for p in front
    ]
    if not rows:
        rows = ['<tr><td colspan="8">No trial is within the budget.</td></tr>']
    return f'<table class="front">{head}{"".join(rows)}</table>'


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
table.front { border-collapse: collapse; margin: 1em 0; }
table.front th, table.front td { border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: right; }
table.front td:last-child, table.front th:last-child { text-align: left; }
.crops { display: flex; flex-wrap: wrap; gap: 8px; }
.crops figure { margin: 0; text-align: center; font-size: 0.85em; }
.crops img { image-rendering: pixelated; border: 1px solid #ccc; display: block; }
p.where, p.meta { color: #666; font-size: 0.85em; }
"""


def write_report(
    study: optuna.Study,
    path: str | os.PathLike[str],
    comparison: ImageComparison | None = None,
    *,
    n_crops: int = 2,
    crop_size: int = 96,
    budget_ms: float | None = None,
) -> Path:
    """Write one self-contained HTML page about a study: its Pareto front, plotted and as a table, and
    crops of a validation image upscaled by bicubic and by the chosen models.

    plotly.js and the images are inside the page (no network needed to open it). The images are
    computed by the caller (``optuna-srprune report`` runs the models with the supernet), so this
    function needs no torch.

    Example:

        .. code::

            import optuna
            from optuna_srprune.visualization import write_report

            study = optuna.load_study(study_name="x2", storage="sqlite:///srprune.db")
            write_report(study, "report.html")

    Args:
        study: A study made by ``optuna-srprune search``.
        path: The HTML file to write (its folder must exist).
        comparison: A validation image and the models' outputs; ``None``: no image section.
        n_crops: Number of crops of the image to show.
        crop_size: Side of a crop, in HR pixels.
        budget_ms: The budget to judge feasibility by; ``None``: the study's own.

    Returns:
        The path written.

    Raises:
        StudyError: The study was not made by optuna-srprune, or has no complete trial.
        DataError: The output folder does not exist.
    """
    out = Path(path)
    check_output_path(out)
    settings = read_settings(study)
    points, budget = trial_points(study, budget_ms)
    front = pareto_front(points)
    figure = plot_pareto_front(study, budget_ms)
    figure_html = figure.to_html(
        full_html=False, include_plotlyjs=True, config={"displaylogo": False, "responsive": True}
    )
    feasible = sum(p.feasible for p in points)
    budget_text = f"{budget:g} ms" if budget is not None else "none"
    meta = (
        f"x{settings.get('scale')} &middot; back-end {html.escape(str(settings.get('backend')))} "
        f"({settings.get('threads')} threads) &middot; latency predicted for "
        f"{'x'.join(str(v) for v in settings.get('hr_size', ()))} HR output &middot; budget {budget_text} "
        f"&middot; {len(points)} complete trials, {feasible} within the budget &middot; sampler "
        f"{html.escape(str(settings.get('sampler')))}"
    )
    title = f"optuna-srprune report: {study.study_name}"
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">{meta}</p>',
        figure_html,
        f"<h2>Pareto front ({len(front)} {'trial' if len(front) == 1 else 'trials'})</h2>",
        _front_table(front),
    ]
    if comparison is not None:
        body.append(_comparison_html(comparison, n_crops, crop_size))
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, out)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise DataError(f"Cannot write {str(out)!r}: {err.strerror or type(err).__name__}.") from None
    return out


def check_output_path(path: str | os.PathLike[str]) -> None:
    """Raise :class:`DataError` unless ``path`` can be written as a file (its folder exists).

    Example:
        >>> try:
        ...     check_output_path("/no/dir/report.html")
        ... except DataError as err:
        ...     print(err)
        The folder of the output '/no/dir/report.html' does not exist; create it first.
    """
    out = Path(path)
    if out.is_dir():
        raise DataError(f"The output {str(out)!r} is a folder; give a file name such as report.html.")
    if not out.parent.is_dir():
        raise DataError(f"The folder of the output {str(out)!r} does not exist; create it first.")
    if not os.access(out.parent, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise DataError(f"The output {str(out)!r} cannot be written (no permission).")
