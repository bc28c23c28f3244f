"""MATLAB's conversion of ``[0, 1]`` images to 8 bits, the one rounding every level shares."""

from __future__ import annotations

from typing import Any
from typing import TypeVar

Array = TypeVar("Array", bound=Any)  # a numpy array or a torch tensor


def uint8_levels(x: Array) -> Array:
    """The 8-bit level (0 to 255, as floats) of each ``[0, 1]`` value, as MATLAB's ``uint8`` makes it.

    Clamp, scale by 255, then round halves upwards (``floor(v + 0.5)``), not to even as numpy and
    torch round. Works on numpy arrays and torch tensors alike (``clip`` and ``//`` are both's).

    Example:
        >>> import numpy as np
        >>> uint8_levels(np.array([-0.1, 0.5, 1.2, 0.5 / 255]))
        array([  0., 128., 255.,   1.])
    """
    return (x.clip(0.0, 1.0) * 255.0 + 0.5) // 1
