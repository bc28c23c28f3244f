"""SR data: image reading, MATLAB-compatible bicubic resizing, LR/HR pairs and training patches.

The evaluation protocol of the SR literature: HR images are mod-cropped to a multiple of the scale, LR
images are made by MATLAB's bicubic ``imresize`` (antialiased) and rounded to 8 bits.

Example:
    >>> from optuna_srprune.data import ValidationSet, imresize
    >>> pair = ValidationSet(None, scale=2)[0]  # embedded Set5
    >>> tuple(imresize(pair.lr, scale=2).shape) == tuple(pair.hr.shape)
    True
"""

from __future__ import annotations

from optuna_srprune.data._datasets import check_scale
from optuna_srprune.data._datasets import default_validation_dir
from optuna_srprune.data._datasets import make_lr
from optuna_srprune.data._datasets import Pair
from optuna_srprune.data._datasets import PairedDataset
from optuna_srprune.data._datasets import SCALES
from optuna_srprune.data._datasets import ValidationSet
from optuna_srprune.data._image_io import Image
from optuna_srprune.data._image_io import IMAGE_SUFFIXES
from optuna_srprune.data._image_io import is_gray_mode
from optuna_srprune.data._image_io import list_images
from optuna_srprune.data._image_io import modcrop
from optuna_srprune.data._image_io import open_image
from optuna_srprune.data._image_io import read_image
from optuna_srprune.data._imresize import imresize
from optuna_srprune.data._imresize import to_uint8_range
from optuna_srprune.data._patches import PatchSampler

__all__ = [
    "IMAGE_SUFFIXES",
    "SCALES",
    "Image",
    "Pair",
    "PairedDataset",
    "PatchSampler",
    "ValidationSet",
    "check_scale",
    "default_validation_dir",
    "imresize",
    "is_gray_mode",
    "list_images",
    "make_lr",
    "modcrop",
    "open_image",
    "read_image",
    "to_uint8_range",
]
