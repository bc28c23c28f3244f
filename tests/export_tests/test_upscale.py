"""``upscale`` with an exported model: the published PSNR, seamless tiles, modes, bounded memory."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys
import textwrap

import numpy as np
from PIL import Image
import pytest
import torch

from optuna_srprune.cli import main
from optuna_srprune.data import imresize
from optuna_srprune.data import read_image
from optuna_srprune.data import ValidationSet
from optuna_srprune.export import OnnxUpscaler
from optuna_srprune.metrics import psnr

from .conftest import expect_error
from .conftest import last_json


def _smooth_image(height: int, width: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width] / 7.0
    planes = [
        0.5 + 0.3 * np.sin(xx * rng.uniform(0.5, 2) + yy * rng.uniform(0.5, 2)) for _ in range(channels)
    ]
    noisy = np.stack(planes, axis=-1) + rng.normal(0, 0.05, (height, width, channels))
    return (np.clip(noisy, 0, 1) * 255).round().astype(np.uint8)


def test_upscaling_set5_reproduces_the_exported_psnr(
    exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    val = ValidationSet(None, 2)
    (tmp_path / "lr").mkdir()
    for pair in val:  # the LR images of the protocol, which are 8-bit
        lr = (pair.lr.numpy().transpose(1, 2, 0) * 255).round().astype(np.uint8)
        Image.fromarray(lr).save(tmp_path / "lr" / f"{pair.name}.png")
    assert (
        main(["upscale", str(exported), str(tmp_path / "lr"), str(tmp_path / "sr"), "--tile", "64", "--json"])
        == 0
    )
    result = last_json(capsys)
    assert len(result["images"]) == 5 and result["scale"] == 2
    metrics = json.loads((exported / "metrics.json").read_text())
    values = {}
    for pair in val:
        sr = read_image(tmp_path / "sr" / f"{pair.name}.png").pixels
        values[pair.name] = psnr(sr, pair.hr.numpy().transpose(1, 2, 0), 2)
        assert values[pair.name] == pytest.approx(metrics["per_image"][pair.name]["psnr"], abs=0.01)
    assert np.mean(list(values.values())) == pytest.approx(metrics["psnr"], abs=0.01)


def test_tiled_output_matches_untiled(exported: Path) -> None:
    upscaler = OnnxUpscaler(exported, threads=1)
    image = _smooth_image(70, 93)
    whole = upscaler.upscale(image, tile=0)
    for tile in (2 * upscaler.radius + 1, 32, 50):
        tiled = upscaler.upscale(image, tile=tile)
        assert tiled.shape == whole.shape == (140, 186, 3)
        assert np.abs(tiled.astype(int) - whole.astype(int)).max() <= 1  # within 1/255


def test_gray_stays_gray_and_alpha_is_bicubic(exported: Path, tmp_path: Path) -> None:
    gray = _smooth_image(30, 41, channels=1)[:, :, 0]
    alpha = _smooth_image(30, 41, channels=1, seed=1)[:, :, 0]
    rgb = _smooth_image(30, 41)
    (tmp_path / "in").mkdir()
    Image.fromarray(gray).save(tmp_path / "in" / "gray.png")
    Image.fromarray(np.dstack([gray, alpha])).save(tmp_path / "in" / "gray_alpha.png")
    Image.fromarray(np.dstack([rgb, alpha])).save(tmp_path / "in" / "rgba.png")
    assert main(["upscale", str(exported), str(tmp_path / "in"), str(tmp_path / "out"), "--tile", "24"]) == 0
    modes = {name: Image.open(tmp_path / "out" / f"{name}.png") for name in ("gray", "gray_alpha", "rgba")}
    assert {name: image.mode for name, image in modes.items()} == {
        "gray": "L",
        "gray_alpha": "LA",
        "rgba": "RGBA",
    }
    assert all(image.size == (82, 60) for image in modes.values())
    expected_alpha = imresize(torch.from_numpy(alpha / 255.0)[None].float(), scale=2).numpy()[0]
    expected_alpha = np.floor(np.clip(expected_alpha, 0, 1) * 255 + 0.5)
    for name in ("gray_alpha", "rgba"):
        got = np.asarray(modes[name].getchannel("A")).astype(int)
        assert np.abs(got - expected_alpha).max() <= 1
    # Gray in, gray out: the mean of the model's channels on the gray image repeated to RGB.
    rgb_of_gray = OnnxUpscaler(exported).upscale(np.repeat(gray[:, :, None], 3, axis=2))
    assert np.abs(np.asarray(modes["gray"]).astype(int) - rgb_of_gray.mean(axis=2)).max() <= 1
    # The RGB of an RGBA image is upscaled as the RGB image alone.
    rgb_alone = OnnxUpscaler(exported).upscale(rgb)
    assert np.abs(np.asarray(modes["rgba"])[:, :, :3].astype(int) - rgb_alone).max() <= 1


def test_single_file_into_a_folder(exported: Path, tmp_path: Path) -> None:
    Image.fromarray(_smooth_image(20, 20)).save(tmp_path / "a.jpg")
    (tmp_path / "out").mkdir()
    assert (
        main(["upscale", str(exported / "model.onnx"), str(tmp_path / "a.jpg"), str(tmp_path / "out")]) == 0
    )
    assert Image.open(tmp_path / "out" / "a.png").size == (40, 40)


def test_bad_input(exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Image.fromarray(_smooth_image(20, 20)).save(tmp_path / "ok.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    model, ok, out = str(exported), str(tmp_path / "ok.png"), str(tmp_path / "o.png")
    expect_error(["upscale", model, ok, out, "--scale", "4"], capsys, "upscales x2, not x4 as asked")
    expect_error(["upscale", model, str(tmp_path / "broken.png"), out], capsys, "broken.png")
    expect_error(["upscale", model, str(tmp_path / "none.png"), out], capsys, "does not exist")
    expect_error(["upscale", model, ok, str(tmp_path / "o.txt")], capsys, "image suffix")
    expect_error(["upscale", str(tmp_path), ok, out], capsys, "No ONNX model")
    expect_error(["upscale", model, ok, out, "--tile", "4"], capsys, "too small")
    assert not (tmp_path / "o.png").exists()


@pytest.mark.slow
def test_large_image_in_bounded_memory(exported: Path, tmp_path: Path) -> None:
    """A 4000x3000 upscale peaks at its input, its output and the image library's copy of it."""
    height, width, scale = 3000, 4000, 2
    rows = _smooth_image(1, width)  # cheap to make: one noisy row, shifted per line
    image = np.stack([np.roll(rows[0], 3 * i, axis=0) for i in range(height)])
    Image.fromarray(image).save(tmp_path / "big.bmp")
    del image
    script = textwrap.dedent(
        f"""
        import json, resource
        from optuna_srprune.export import OnnxUpscaler, upscale_path
        upscaler = OnnxUpscaler({str(exported)!r}, threads=1)
        upscaler.upscale(__import__("numpy").zeros((300, 300, 3), "uint8"))  # warm up ORT's arena
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        upscale_path(upscaler, {str(tmp_path / "big.bmp")!r}, {str(tmp_path / "x2.bmp")!r}, progress=False)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"before_mb": before / 1024, "after_mb": after / 1024}}))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    peak = json.loads(done.stdout.strip().splitlines()[-1])
    growth_mb = peak["after_mb"] - peak["before_mb"]
    mb = 1024 * 1024
    input_mb, output_mb = height * width * 3 / mb, height * width * scale * scale * 3 / mb
    # The output array, Pillow's 4-byte-per-pixel copy of it for saving, the input, and tile-sized slack.
    bound = input_mb + output_mb * (1 + 4 / 3) + 150
    assert growth_mb < bound, f"peak grew by {growth_mb:.0f} MB (bound {bound:.0f} MB)"
    # Without tiles the feature maps alone would take far more: 16 channels of float32 per LR pixel.
    assert bound < height * width * 16 * 4 / mb
    with Image.open(tmp_path / "x2.bmp") as out:
        assert out.size == (width * scale, height * scale)
