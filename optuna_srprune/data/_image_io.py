"""Reading images into float RGB arrays, listing image folders, mod-cropping."""

from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from optuna_srprune.exceptions import DataError

__all__ = [
    "IMAGE_SUFFIXES",
    "Image",
    "is_gray_mode",
    "list_images",
    "modcrop",
    "open_image",
    "read_image",
]

IMAGE_SUFFIXES = frozenset({".png", ".bmp", ".jpg", ".jpeg"})

# Modes whose file holds one channel: the protocol scores these on their own values, not on Y.
_GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N"})
_SIXTEEN_BIT_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})


@dataclass(frozen=True, eq=False)  # eq on arrays is ambiguous: compare pixels explicitly
class Image:
    """An image read from disk.

    Attributes:
        pixels: ``float32`` array of shape ``(H, W, 3)``, RGB in ``[0, 1]``. Single-channel files are
            repeated over the three channels; alpha is dropped.
        is_gray: Whether the file held a single channel (modes ``1``, ``L``, ``LA``, 16-bit gray).
        name: File name without its suffix.

    Example:
        >>> from optuna_srprune.data import default_validation_dir, list_images, read_image
        >>> image = read_image(list_images(default_validation_dir())[0])
        >>> image.name, image.pixels.shape, image.is_gray
        ('baby', (512, 512, 3), False)
    """

    pixels: np.ndarray
    is_gray: bool
    name: str


def _to_float_rgb(image: PILImage.Image) -> np.ndarray:
    mode = image.mode
    if mode in _SIXTEEN_BIT_MODES:
        # Pillow reads 16-bit gray PNGs as I;16 (or I): values 0..65535.
        wide = np.clip(np.asarray(image, dtype=np.float64) / 65535.0, 0.0, 1.0)
        return np.repeat(wide[:, :, None], 3, axis=2).astype(np.float32)
    if mode in ("1", "L", "LA", "La"):
        gray = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")  # Pillow warns when a palette with transparency goes to RGB
    # RGB, RGBA (alpha dropped), P, CMYK and YCbCr JPEGs: all convert to RGB.
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def open_image(path: str | os.PathLike[str]) -> PILImage.Image:
    """Open and decode an image file with Pillow, in its own mode (alpha and 16 bits kept).

    Args:
        path: The image file.

    Returns:
        The decoded Pillow image (a truncated file fails here, not later).

    Raises:
        DataError: The file is missing, is not an image, or is truncated or corrupt.

    Example:
        >>> from optuna_srprune.data import default_validation_dir, open_image
        >>> open_image(default_validation_dir() / "bird.png").mode
        'RGB'
    """
    path = Path(path)
    try:
        with PILImage.open(path) as image:
            image.load()
            return image
    except FileNotFoundError:
        raise DataError(f"image file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise DataError(f"{str(path)!r} is a directory, not an image file") from None
    except UnidentifiedImageError:
        raise DataError(f"{str(path)!r} is not an image file Pillow can read (PNG, BMP, JPEG)") from None
    except (OSError, SyntaxError, ValueError, PILImage.DecompressionBombError) as err:
        raise DataError(f"cannot read image {str(path)!r} (truncated or corrupt?): {err}") from None


def is_gray_mode(mode: str) -> bool:
    """Whether a Pillow mode holds one channel of values (``1``, ``L``, ``LA``, 16-bit gray)."""
    return mode in _GRAY_MODES


def read_image(path: str | os.PathLike[str]) -> Image:
    """Read a PNG, BMP or JPEG file into float RGB in ``[0, 1]``.

    Args:
        path: The image file.

    Returns:
        The :class:`Image`.

    Raises:
        DataError: The file is missing, is not an image, or is truncated or corrupt.
    """
    path = Path(path)
    image = open_image(path)
    try:
        pixels = _to_float_rgb(image)
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read image {str(path)!r} (truncated or corrupt?): {err}") from None
    if pixels.ndim != 3 or pixels.shape[0] == 0 or pixels.shape[1] == 0:
        raise DataError(f"image {str(path)!r} is empty")
    return Image(pixels=pixels, is_gray=is_gray_mode(image.mode), name=path.stem)


def list_images(folder: str | os.PathLike[str]) -> list[Path]:
    """List the PNG, BMP and JPEG files of a folder (not its sub-folders), sorted by name.

    Args:
        folder: The folder.

    Returns:
        The image paths, sorted.

    Raises:
        DataError: The folder does not exist, is not a folder, or holds no image file.
    """
    folder = Path(folder)
    if not folder.exists():
        raise DataError(f"data folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise DataError(f"{str(folder)!r} is not a folder; give a folder of PNG, BMP or JPEG images")
    paths = sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()
    )
    if not paths:
        raise DataError(f"data folder {str(folder)!r} holds no image (PNG, BMP or JPEG) file")
    return paths


def modcrop(array: np.ndarray, scale: int) -> np.ndarray:
    """Crop the bottom and right edges of an ``H x W [x C]`` array to multiples of ``scale``.

    This is the literature's ``modcrop``: the HR image must be exactly ``scale`` times its LR image.

    Args:
        array: ``H x W`` or ``H x W x C`` array.
        scale: The SR scale factor.

    Returns:
        A view of ``array``, ``H - H % scale`` by ``W - W % scale`` (possibly empty).

    Example:
        >>> import numpy as np
        >>> modcrop(np.zeros((7, 10, 3)), 3).shape
        (6, 9, 3)
    """
    if array.ndim not in (2, 3):
        raise ValueError(f"expected an H x W [x C] array, got shape {array.shape}")
    if scale < 1:
        raise ValueError(f"scale must be positive, got {scale}")
    height = array.shape[0] - array.shape[0] % scale
    width = array.shape[1] - array.shape[1] % scale
    return array[:height, :width]
