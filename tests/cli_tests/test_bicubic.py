"""``optuna-srprune bicubic``: the published bicubic table, output formats and bad input."""

from __future__ import annotations

import json
from pathlib import Path
import re
import subprocess
import sys
from typing import Any

import numpy as np
from PIL import Image as PILImage
import pytest

from optuna_srprune.cli import main
from optuna_srprune.data import default_validation_dir

SET14 = Path(__file__).resolve().parents[1] / "data" / "Set14"

# The published bicubic baselines (../shared/data/SOURCES.md): (PSNR dB, SSIM) on Y, border = scale.
PUBLISHED = {
    ("Set5", 2): (33.66, 0.9299),
    ("Set5", 3): (30.39, 0.8682),
    ("Set5", 4): (28.42, 0.8104),
    ("Set14", 2): (30.24, 0.8688),
    ("Set14", 3): (27.55, 0.7742),
    ("Set14", 4): (26.00, 0.7027),
}
FOLDERS = {"Set5": default_validation_dir(), "Set14": SET14}


def _run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(["bicubic", *argv, "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1  # --json: nothing but the JSON object
    return json.loads(lines[-1])


@pytest.mark.parametrize("dataset,scale", sorted(PUBLISHED))
def test_reproduces_published_bicubic_table(
    capsys: pytest.CaptureFixture[str], dataset: str, scale: int
) -> None:
    result = _run_json(capsys, "--data", str(FOLDERS[dataset]), "--scale", str(scale))
    published_psnr, published_ssim = PUBLISHED[dataset, scale]
    assert result["images"] == (5 if dataset == "Set5" else 14)
    assert abs(result["psnr"] - published_psnr) <= 0.03
    assert abs(result["ssim"] - published_ssim) <= 0.002
    assert len(result["per_image"]) == result["images"]
    assert result["psnr"] == pytest.approx(np.mean([row["psnr"] for row in result["per_image"]]))


def test_human_table_on_default_data(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bicubic", "--scale", "4"]) == 0
    out = capsys.readouterr().out
    assert "Set5" in out and "butterfly" in out and "228x344" in out
    assert out.strip().splitlines()[-1].split()[-2:] == ["28.43", "0.8113"]
    assert "{" not in out


def test_gray_image_is_reported_and_json_fields(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "bridge.png").write_bytes((SET14 / "bridge.png").read_bytes())
    result = _run_json(capsys, "--data", str(tmp_path), "--scale", "2")
    assert result["images"] == 1 and result["scale"] == 2 and result["data"] == str(tmp_path)
    row = result["per_image"][0]
    assert row["gray"] is True and row["name"] == "bridge" and (row["width"], row["height"]) == (512, 512)
    assert row["psnr"] == result["psnr"] and row["ssim"] == result["ssim"]


def _save_png(path: Path, h: int, w: int) -> None:
    PILImage.fromarray(np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)).save(path)


def _bad_data(tmp_path: Path, case: str) -> tuple[list[str], str]:
    """argv and the expected message for each kind of bad input."""
    folder = tmp_path / "data"
    folder.mkdir()
    if case == "empty folder":
        (folder / "readme.txt").write_text("no images here")
        return ["--data", str(folder), "--scale", "2"], "holds no image"
    if case == "non-image file":
        _save_png(folder / "good.png", 32, 32)
        (folder / "notes.png").write_text("this is text, not a PNG")
        return ["--data", str(folder), "--scale", "2"], "notes.png' is not an image file"
    if case == "truncated png":
        data = (SET14 / "comic.png").read_bytes()
        (folder / "comic.png").write_bytes(data[: len(data) // 3])
        return ["--data", str(folder), "--scale", "2"], "cannot read image .*comic.png.*truncated"
    if case in ("scale 0", "scale 5"):
        return ["--scale", case[-1]], "scale must be 2, 3 or 4, got " + case[-1]
    if case == "image smaller than scale":
        _save_png(folder / "tiny.png", 3, 40)
        return ["--data", str(folder), "--scale", "4"], "tiny.png' \\(40x3\\) is smaller than the scale 4"
    if case == "too small to score":
        _save_png(folder / "small.png", 12, 12)
        return ["--data", str(folder), "--scale", "4"], "small: image of 12x12 pixels is too small to score"
    if case == "missing folder":
        return ["--data", str(tmp_path / "nowhere"), "--scale", "2"], "nowhere' does not exist"
    if case == "file instead of folder":
        _save_png(folder / "one.png", 8, 8)
        return ["--data", str(folder / "one.png"), "--scale", "2"], "is not a folder"
    raise AssertionError(case)


BAD_CASES = [
    "empty folder",
    "non-image file",
    "truncated png",
    "scale 0",
    "scale 5",
    "image smaller than scale",
    "too small to score",
    "missing folder",
    "file instead of folder",
]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_gives_a_message_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str
) -> None:
    argv, message = _bad_data(tmp_path, case)
    assert main(["bicubic", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert err.startswith("optuna-srprune: error: ") and len(err.splitlines()) == 1
    assert re.search(message, err), err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [["--scale", "two"], [], ["--scale", "2", "--bogus"]])
def test_argparse_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["bicubic", *argv])
    assert exc.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_console_script_exit_status_without_traceback(tmp_path: Path) -> None:
    """The real process: a non-zero status and one line on stderr, in a fresh interpreter."""
    (tmp_path / "cut.png").write_bytes((SET14 / "comic.png").read_bytes()[:500])
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "optuna_srprune",
            "bicubic",
            "--data",
            str(tmp_path),
            "--scale",
            "3",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "cut.png" in done.stderr and "Traceback" not in done.stderr
