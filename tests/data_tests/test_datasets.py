"""ValidationSet, PairedDataset and make_lr."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image as PILImage
import pytest
import torch

from optuna_srprune.data import default_validation_dir
from optuna_srprune.data import imresize
from optuna_srprune.data import make_lr
from optuna_srprune.data import PairedDataset
from optuna_srprune.data import read_image
from optuna_srprune.data import ValidationSet
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.exceptions import DataError

SET14 = Path(__file__).resolve().parents[1] / "data" / "Set14"


def _save(path: Path, h: int, w: int, seed: int = 0) -> np.ndarray:
    array = np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    PILImage.fromarray(array).save(path)
    return array


def _on_8bit_grid(x: torch.Tensor) -> bool:
    return bool(torch.allclose(x * 255, torch.round(x * 255), atol=1e-4))


def test_default_validation_set_is_set5() -> None:
    val = ValidationSet(None, scale=3)
    assert val.folder == default_validation_dir()
    assert len(val) == 5
    assert [pair.name for pair in val] == ["baby", "bird", "butterfly", "head", "woman"]
    for pair in val:
        assert pair.hr.dtype == torch.float32 and pair.lr.dtype == torch.float32
        assert pair.hr.shape[1] % 3 == 0 and pair.hr.shape[2] % 3 == 0
        assert pair.lr.shape == (3, pair.hr.shape[1] // 3, pair.hr.shape[2] // 3)
        assert _on_8bit_grid(pair.lr)
        assert not pair.is_gray
    woman = val[4]
    assert woman.hr.shape == (3, 342, 228)  # 344 rows mod-cropped to 342


def test_validation_set_is_deterministic_and_matches_imresize() -> None:
    first, second = ValidationSet(None, 2), ValidationSet(default_validation_dir(), 2)
    for a, b in zip(first, second):
        assert torch.equal(a.lr, b.lr) and torch.equal(a.hr, b.hr)
    pair = first[1]
    assert torch.equal(pair.lr, imresize(pair.hr, scale=0.5, quantize=True))
    assert list(first) == list(first)


def test_gray_image_is_flagged(tmp_path: Path) -> None:
    (tmp_path / "bridge.png").write_bytes((SET14 / "bridge.png").read_bytes())
    pair = ValidationSet(tmp_path, 4)[0]
    assert pair.is_gray
    assert torch.equal(pair.hr[0], pair.hr[2])


@pytest.mark.parametrize("scale", [0, 1, 5, 2.0, True, "2"])
def test_bad_scale(scale: object) -> None:
    with pytest.raises(ConfigError, match="scale must be 2, 3 or 4"):
        ValidationSet(None, scale)  # type: ignore[arg-type]


def test_image_smaller_than_scale_names_the_file(tmp_path: Path) -> None:
    _save(tmp_path / "ok.png", 8, 8)
    _save(tmp_path / "tiny.png", 2, 9)
    with pytest.raises(DataError, match="tiny.png.*smaller than the scale 3"):
        ValidationSet(tmp_path, 3)


def test_make_lr_numpy_and_tensor_agree_and_modcrop() -> None:
    hr = read_image(default_validation_dir() / "bird.png").pixels[:101, :98]
    from_numpy = make_lr(hr, 4)
    from_tensor = make_lr(torch.from_numpy(hr).permute(2, 0, 1), 4)
    assert from_numpy.shape == (3, 25, 24)
    assert torch.equal(from_numpy, from_tensor)
    assert torch.equal(
        from_numpy, imresize(torch.from_numpy(hr[:100, :96]).permute(2, 0, 1), 0.25, quantize=True)
    )
    assert make_lr(hr[:, :, 0], 2).shape == (1, 50, 49)
    with pytest.raises(DataError, match="smaller than the scale"):
        make_lr(np.zeros((1, 5, 3)), 2)


def test_paired_dataset_over_two_folders(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    hr = _save(first / "one.png", 21, 30)
    _save(second / "two.bmp", 12, 12, seed=1)
    data = PairedDataset([first, second], scale=2)
    assert len(data) == 2 and data.names == ["one", "two"] and data.is_gray == [False, False]
    pair = data[0]
    assert pair.hr.shape == (3, 20, 30) and pair.lr.shape == (3, 10, 15)
    expected_hr = torch.from_numpy(hr[:20]).permute(2, 0, 1).float() / 255
    assert torch.allclose(pair.hr, expected_hr)
    assert torch.allclose(pair.lr, imresize(expected_hr, scale=0.5, quantize=True), atol=1e-6)
    lr_u8, hr_u8 = data.uint8_pair(1)
    assert lr_u8.dtype == torch.uint8 and hr_u8.shape == (3, 12, 12)
    assert len(PairedDataset(first, scale=3)) == 1  # one folder given as a plain path


def test_paired_dataset_reads_lr_folder(tmp_path: Path) -> None:
    hr_dir, lr_dir = tmp_path / "hr", tmp_path / "lr"
    hr_dir.mkdir()
    lr_dir.mkdir()
    _save(hr_dir / "img.png", 16, 18)
    lr = _save(lr_dir / "imgx2.png", 8, 9, seed=5)
    pair = PairedDataset([hr_dir], 2, lr_folder=lr_dir)[0]
    assert torch.allclose(pair.lr, torch.from_numpy(lr).permute(2, 0, 1).float() / 255)
    _save(lr_dir / "imgx2.png", 8, 8)
    with pytest.raises(DataError, match="imgx2.png.*expected 9x8"):
        PairedDataset([hr_dir], 2, lr_folder=lr_dir)
    with pytest.raises(DataError, match="no LR image for"):
        PairedDataset([hr_dir], 3, lr_folder=lr_dir)


def test_paired_dataset_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        PairedDataset([], 2)
    with pytest.raises(ConfigError):
        PairedDataset([default_validation_dir()], 6)
    with pytest.raises(DataError, match="does not exist"):
        PairedDataset([tmp_path / "missing"], 2)
