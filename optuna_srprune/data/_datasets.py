"""LR/HR pairs: the validation iterator and the paired training dataset."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Sequence
import os
from pathlib import Path
from typing import NamedTuple
from typing import overload

import numpy as np
import torch
from tqdm.auto import tqdm

from optuna_srprune._matlab import uint8_levels
from optuna_srprune.config import SCALES
from optuna_srprune.data._image_io import list_images
from optuna_srprune.data._image_io import modcrop
from optuna_srprune.data._image_io import read_image
from optuna_srprune.data._imresize import imresize
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.exceptions import DataError

__all__ = [
    "SCALES",
    "Pair",
    "PairedDataset",
    "ValidationSet",
    "check_scale",
    "default_validation_dir",
    "make_lr",
]


PathLike = str | os.PathLike[str]


class Pair(NamedTuple):
    """One LR/HR image pair.

    Attributes:
        name: File name of the HR image, without suffix.
        lr: ``float32`` tensor ``(3, H / scale, W / scale)`` in ``[0, 1]``, rounded to 8 bits.
        hr: ``float32`` tensor ``(3, H, W)`` in ``[0, 1]``, mod-cropped to a multiple of the scale.
        is_gray: Whether the HR file held a single channel (scored on its gray values).
    """

    name: str
    lr: torch.Tensor
    hr: torch.Tensor
    is_gray: bool


def check_scale(scale: object) -> int:
    """Return ``scale`` if it is one of the supported SR scales (2, 3, 4), else raise ConfigError."""
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or int(scale) not in SCALES:
        raise ConfigError(f"scale must be 2, 3 or 4, got {scale!r}")
    return int(scale)


def default_validation_dir() -> Path:
    """The folder of the validation set shipped with the package (Set5's five HR images)."""
    return Path(__file__).resolve().parent / "assets" / "Set5"


def _hr_to_chw(hr: np.ndarray | torch.Tensor) -> torch.Tensor:
    """HR as a float32 CHW tensor: numpy arrays are ``H x W [x C]``, tensors ``[C x] H x W``."""
    if isinstance(hr, np.ndarray):
        array = hr[:, :, None] if hr.ndim == 2 else hr
        if array.ndim != 3:
            raise ValueError(f"expected an H x W [x C] array, got shape {hr.shape}")
        return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1), dtype=np.float32))
    tensor = hr[None] if hr.dim() == 2 else hr
    if tensor.dim() != 3:
        raise ValueError(f"expected a [C x] H x W tensor, got shape {tuple(hr.shape)}")
    return tensor.float()


def make_lr(hr: np.ndarray | torch.Tensor, scale: int) -> torch.Tensor:
    """Make the LR image of an HR image as the SR literature does.

    The HR image is mod-cropped here (a no-op when the caller has already done it), shrunk by
    ``1 / scale`` with MATLAB's bicubic :func:`imresize`, and rounded to 8 bits.

    Args:
        hr: HR image in ``[0, 1]``: a numpy ``H x W [x C]`` array (as :attr:`Image.pixels`) or a torch
            ``[C x] H x W`` tensor.
        scale: The SR scale factor.

    Returns:
        The LR image, a ``float32`` ``C x H/scale x W/scale`` tensor on the 8-bit grid.

    Example:
        >>> import numpy as np
        >>> make_lr(np.random.rand(65, 64, 3), 2).shape
        torch.Size([3, 32, 32])
    """
    chw = _hr_to_chw(hr)
    height = chw.shape[1] - chw.shape[1] % scale
    width = chw.shape[2] - chw.shape[2] % scale
    if height == 0 or width == 0:
        raise DataError(f"HR image of size {chw.shape[1]}x{chw.shape[2]} is smaller than the scale {scale}")
    cropped = chw[:, :height, :width]
    return imresize(cropped, size=(height // scale, width // scale), quantize=True)


def _load_hr(path: Path, scale: int) -> tuple[np.ndarray, bool, str]:
    image = read_image(path)
    hr = modcrop(image.pixels, scale)
    if hr.shape[0] == 0 or hr.shape[1] == 0:
        height, width = image.pixels.shape[:2]
        raise DataError(
            f"image {str(path)!r} ({width}x{height}) is smaller than the scale {scale}; "
            "remove it or use a smaller scale"
        )
    return hr, image.is_gray, image.name


def _progress(paths: Sequence[Path], description: str) -> Iterator[Path]:
    # disable=None: a bar on a terminal, silence in logs and tests.
    return iter(tqdm(paths, desc=description, unit="img", disable=None, leave=False))


class ValidationSet:
    """A deterministic, in-memory validation set: HR images mod-cropped, LR made by bicubic shrinking.

    Images are read and their LR made once, at construction, so a bad file fails early; iteration
    yields the same :class:`Pair` objects in file-name order every time.

    Args:
        folder: Folder of HR images (PNG, BMP, JPEG); ``None`` for the embedded Set5.
        scale: The SR scale factor, 2, 3 or 4.

    Raises:
        ConfigError: ``scale`` is not 2, 3 or 4.
        DataError: The folder is missing or empty, or an image is unreadable or smaller than the scale.

    Example:
        >>> from optuna_srprune.data import ValidationSet
        >>> val = ValidationSet(None, scale=4)
        >>> len(val), val[0].name, tuple(val[0].lr.shape), tuple(val[0].hr.shape)
        (5, 'baby', (3, 128, 128), (3, 512, 512))
    """

    def __init__(self, folder: PathLike | None, scale: int) -> None:
        self.scale = check_scale(scale)
        self.folder = Path(folder) if folder is not None else default_validation_dir()
        self._pairs = [self._load(path) for path in _progress(list_images(self.folder), "validation")]

    def _load(self, path: Path) -> Pair:
        hr, is_gray, name = _load_hr(path, self.scale)
        hr_tensor = _hr_to_chw(hr)
        return Pair(name=name, lr=make_lr(hr_tensor, self.scale), hr=hr_tensor, is_gray=is_gray)

    def __len__(self) -> int:
        return len(self._pairs)

    @overload
    def __getitem__(self, index: int) -> Pair: ...

    @overload
    def __getitem__(self, index: slice) -> list[Pair]: ...

    def __getitem__(self, index: int | slice) -> Pair | list[Pair]:
        return self._pairs[index]

    def __iter__(self) -> Iterator[Pair]:
        return iter(self._pairs)

    def __repr__(self) -> str:
        return f"ValidationSet(folder={str(self.folder)!r}, scale={self.scale}, images={len(self)})"


def _to_uint8(chw: torch.Tensor) -> torch.Tensor:
    # numpy: single-threaded element-wise work is faster than torch's thread pool on a busy CPU.
    levels = uint8_levels(chw.numpy())
    return torch.from_numpy(levels.astype(np.uint8))


def _lr_lookup(lr_folder: Path, scale: int) -> dict[str, Path]:
    """LR files by the HR name they belong to: ``name``, ``namex2`` and ``name_x2`` all match ``name``."""
    lookup: dict[str, Path] = {}
    for path in list_images(lr_folder):
        stem = path.stem
        for suffix in (f"_x{scale}", f"x{scale}"):
            if stem.lower().endswith(suffix):
                stem = stem[: -len(suffix)]
                break
        lookup.setdefault(stem, path)
    return lookup


class PairedDataset:
    """LR/HR training pairs over one or more folders of HR images, held in memory as 8-bit tensors.

    The LR image of each HR image is made by MATLAB-compatible bicubic shrinking (rounded to 8 bits)
    when the dataset is built, or read from ``lr_folder``. Both are kept in memory as ``uint8`` (an
    8-bit copy of 16-bit sources), so 291 training images take about 100 MB; ``dataset[i]`` converts
    one pair to float.

    Args:
        folders: Folders of HR images (PNG, BMP, JPEG), e.g. T91 and BSD200.
        scale: The SR scale factor, 2, 3 or 4.
        lr_folder: Optional folder of ready-made LR images, matched to HR images by file name
            (``name.png``, ``namex2.png`` or ``name_x2.png`` for scale 2).

    Raises:
        ConfigError: ``scale`` is not 2, 3 or 4, or no folder is given.
        DataError: A folder is missing or empty, an image is unreadable or smaller than the scale, or an
            LR image is missing or has the wrong size.

    Example:
        >>> from optuna_srprune.data import PairedDataset, default_validation_dir
        >>> train = PairedDataset([default_validation_dir()], scale=2)
        >>> len(train), train.names[:2]
        (5, ['baby', 'bird'])
    """

    def __init__(
        self, folders: Sequence[PathLike] | PathLike, scale: int, lr_folder: PathLike | None = None
    ) -> None:
        self.scale = check_scale(scale)
        folder_list = [folders] if isinstance(folders, (str, os.PathLike)) else list(folders)
        if not folder_list:
            raise ConfigError("PairedDataset needs at least one folder of HR images")
        paths = [path for folder in folder_list for path in list_images(folder)]
        lr_paths = _lr_lookup(Path(lr_folder), self.scale) if lr_folder is not None else None
        self.names: list[str] = []
        self.is_gray: list[bool] = []
        self._hr: list[torch.Tensor] = []
        self._lr: list[torch.Tensor] = []
        for path in _progress(paths, f"loading x{self.scale} pairs"):
            self._add(path, lr_paths)

    def _add(self, path: Path, lr_paths: dict[str, Path] | None) -> None:
        hr, is_gray, name = _load_hr(path, self.scale)
        hr_chw = _hr_to_chw(hr)
        lr = make_lr(hr_chw, self.scale) if lr_paths is None else self._read_lr(path, name, hr, lr_paths)
        self.names.append(name)
        self.is_gray.append(is_gray)
        self._hr.append(_to_uint8(hr_chw))
        self._lr.append(_to_uint8(lr))

    def _read_lr(self, hr_path: Path, name: str, hr: np.ndarray, lr_paths: dict[str, Path]) -> torch.Tensor:
        if name not in lr_paths:
            raise DataError(f"no LR image for {str(hr_path)!r} in the LR folder")
        lr = read_image(lr_paths[name]).pixels
        expected = (hr.shape[0] // self.scale, hr.shape[1] // self.scale)
        if lr.shape[:2] != expected:
            raise DataError(
                f"LR image {str(lr_paths[name])!r} is {lr.shape[1]}x{lr.shape[0]}, expected "
                f"{expected[1]}x{expected[0]} (HR {str(hr_path)!r} mod-cropped, divided by {self.scale})"
            )
        return _hr_to_chw(lr)

    def __len__(self) -> int:
        return len(self._hr)

    def __getitem__(self, index: int) -> Pair:
        lr, hr = self.uint8_pair(index)
        return Pair(self.names[index], lr.float() / 255.0, hr.float() / 255.0, self.is_gray[index])

    def uint8_pair(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The stored ``(lr, hr)`` ``uint8`` CHW tensors of one pair (shared, do not modify)."""
        return self._lr[index], self._hr[index]

    def __repr__(self) -> str:
        return f"PairedDataset(images={len(self)}, scale={self.scale})"
