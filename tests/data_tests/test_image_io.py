"""Reading images of every mode, listing folders, mod-cropping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image as PILImage
import pytest

from optuna_srprune.data import default_validation_dir
from optuna_srprune.data import list_images
from optuna_srprune.data import modcrop
from optuna_srprune.data import read_image
from optuna_srprune.exceptions import DataError

SET14 = Path(__file__).resolve().parents[1] / "data" / "Set14"


def _rgb(h: int = 6, w: int = 5) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def test_rgb_png_values_and_name(tmp_path: Path) -> None:
    array = _rgb()
    PILImage.fromarray(array).save(tmp_path / "pic.png")
    image = read_image(tmp_path / "pic.png")
    assert image.name == "pic"
    assert image.pixels.dtype == np.float32 and image.pixels.shape == (6, 5, 3)
    assert not image.is_gray
    np.testing.assert_allclose(image.pixels * 255, array, atol=1e-4)


def test_gray_modes_are_flagged_and_repeated(tmp_path: Path) -> None:
    gray = _rgb()[:, :, 0]
    PILImage.fromarray(gray, mode="L").save(tmp_path / "l.png")
    PILImage.fromarray(np.stack([gray, gray], axis=2), mode="LA").save(tmp_path / "la.png")
    for name in ("l.png", "la.png"):
        image = read_image(tmp_path / name)
        assert image.is_gray
        np.testing.assert_allclose(image.pixels[:, :, 1] * 255, gray, atol=1e-4)
        assert np.array_equal(image.pixels[:, :, 0], image.pixels[:, :, 2])


def test_sixteen_bit_gray(tmp_path: Path) -> None:
    wide = np.array([[0, 65535], [32768, 1000]], dtype=np.uint16)
    PILImage.fromarray(wide).save(tmp_path / "g16.png")
    image = read_image(tmp_path / "g16.png")
    assert image.is_gray
    np.testing.assert_allclose(image.pixels[:, :, 0], wide / 65535.0, atol=1e-7)


def test_rgba_drops_alpha(tmp_path: Path) -> None:
    array = _rgb()
    alpha = np.zeros(array.shape[:2] + (1,), dtype=np.uint8)
    PILImage.fromarray(np.concatenate([array, alpha], axis=2), mode="RGBA").save(tmp_path / "a.png")
    image = read_image(tmp_path / "a.png")
    assert not image.is_gray
    np.testing.assert_allclose(image.pixels * 255, array, atol=1e-4)


def test_palette_with_and_without_transparency(tmp_path: Path) -> None:
    rgb = PILImage.fromarray(_rgb())
    palette = rgb.convert("P", palette=PILImage.Palette.ADAPTIVE, colors=16)
    palette.save(tmp_path / "p.png")
    palette.save(tmp_path / "pt.png", transparency=0)
    expected = np.asarray(palette.convert("RGB"), dtype=np.float32) / 255
    for name in ("p.png", "pt.png"):
        image = read_image(tmp_path / name)
        assert not image.is_gray
        np.testing.assert_allclose(image.pixels, expected, atol=1e-6)


def test_bmp_and_jpeg(tmp_path: Path) -> None:
    array = _rgb(16, 16)
    PILImage.fromarray(array).save(tmp_path / "b.bmp")
    PILImage.fromarray(array).save(tmp_path / "j.jpg", quality=95)
    np.testing.assert_allclose(read_image(tmp_path / "b.bmp").pixels * 255, array, atol=1e-4)
    jpeg = read_image(tmp_path / "j.jpg")
    assert jpeg.pixels.shape == (16, 16, 3) and 0 <= jpeg.pixels.min() and jpeg.pixels.max() <= 1


def test_set14_gray_and_rgb_gray_files() -> None:
    bridge = read_image(SET14 / "bridge.png")  # mode L
    man = read_image(SET14 / "man.png")  # RGB with R = G = B: a colour file, scored on Y
    assert bridge.is_gray and bridge.pixels.shape == (512, 512, 3)
    assert not man.is_gray
    assert np.array_equal(man.pixels[:, :, 0], man.pixels[:, :, 1])


def test_truncated_png_names_the_file(tmp_path: Path) -> None:
    source = (SET14 / "comic.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(source[: len(source) // 2])
    with pytest.raises(DataError, match="cut.png"):
        read_image(tmp_path / "cut.png")


def test_non_image_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "fake.png").write_text("not an image")
    with pytest.raises(DataError, match="fake.png.*not an image"):
        read_image(tmp_path / "fake.png")
    with pytest.raises(DataError, match="does not exist"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(DataError, match="directory"):
        read_image(tmp_path)


def test_list_images_sorted_and_filtered(tmp_path: Path) -> None:
    for name in ("b.PNG", "a.jpg", "c.bmp", "notes.txt", ".hidden.png"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub.png").mkdir()
    assert [p.name for p in list_images(tmp_path)] == ["a.jpg", "b.PNG", "c.bmp"]
    assert [p.stem for p in list_images(default_validation_dir())] == [
        "baby",
        "bird",
        "butterfly",
        "head",
        "woman",
    ]


def test_list_images_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        list_images(tmp_path / "nope")
    with pytest.raises(DataError, match="no image"):
        list_images(tmp_path)
    (tmp_path / "file.png").write_bytes(b"")
    with pytest.raises(DataError, match="not a folder"):
        list_images(tmp_path / "file.png")


def test_modcrop() -> None:
    assert modcrop(np.zeros((7, 10, 3)), 3).shape == (6, 9, 3)
    assert modcrop(np.zeros((8, 12)), 4).shape == (8, 12)
    assert modcrop(np.zeros((1, 5)), 2).shape == (0, 4)
    array = np.arange(35).reshape(5, 7)
    assert np.array_equal(modcrop(array, 2), array[:4, :6])
    with pytest.raises(ValueError):
        modcrop(np.zeros((2, 2, 2, 2)), 2)
