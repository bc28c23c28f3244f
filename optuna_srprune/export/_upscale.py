"""Upscaling images with an exported ``model.onnx`` on ONNX Runtime, tile by tile.

Large images are cut into overlapping tiles (:func:`~optuna_srprune.evaluation.tile_windows`) with
a margin of the model's receptive radius, so the result equals one untiled pass, and each tile's
output goes straight into a preallocated 8-bit output: memory is the input, the output and one tile's
feature maps, whatever the image size.

Modes: RGB runs through the model. Gray images (``L``, ``1``, 16-bit gray) are repeated to RGB, run
through the model, and the mean of the three output channels is written as an 8-bit gray image (the
network is trained on colour images; on a gray input its three channels agree to a few 8-bit levels,
and the mean is the least noisy of them). An alpha channel (``RGBA``, ``LA``, palette transparency)
bypasses the model and is upscaled with MATLAB's bicubic :func:`~optuna_srprune.data.imresize`.
Outputs are rounded to 8 bits as MATLAB's ``uint8`` does (clamp, then round halves up), the rounding
the PSNR protocol applies.
"""

from __future__ import annotations

from collections.abc import Callable
import os
from pathlib import Path
import sys
import time
from typing import Any
import warnings

import numpy as np
import onnx
from PIL import Image as PILImage

from optuna_srprune._matlab import uint8_levels
from optuna_srprune.data import imresize
from optuna_srprune.data import is_gray_mode
from optuna_srprune.data import open_image
from optuna_srprune.evaluation import tile_windows
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.exceptions import DataError
from optuna_srprune.export._onnx import META_RADIUS
from optuna_srprune.export._onnx import META_SCALE
from optuna_srprune.export._onnx import MODEL_ONNX
from optuna_srprune.export._outputs import check_suffix
from optuna_srprune.export._outputs import plan_outputs
from optuna_srprune.export._outputs import write_atomically
from optuna_srprune.latency import OnnxRuntimeBackend

PathLike = str | os.PathLike[str]

DEFAULT_TILE = 256
# MATLAB's bicubic kernel reads two input pixels either side: the alpha channel's margin.
_BICUBIC_RADIUS = 2
_FORMATS = {".png": "PNG", ".bmp": "BMP", ".jpg": "JPEG", ".jpeg": "JPEG"}
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})

TileFn = Callable[[slice, slice], np.ndarray]


def _resolve_model(model: PathLike) -> Path:
    path = Path(model)
    if path.is_dir():
        path = path / MODEL_ONNX
    if not path.is_file():
        raise ConfigError(
            f"No ONNX model at {str(path)!r}; give a model.onnx or the folder `optuna-srprune export` wrote."
        )
    return path


def _receptive_radius(model: onnx.ModelProto) -> int:
    """An upper bound of a conv network's receptive radius: half of every conv kernel, summed."""
    radius = 0
    for node in model.graph.node:
        if node.op_type == "Conv":
            for attr in node.attribute:
                if attr.name == "kernel_shape":
                    radius += max(attr.ints) // 2
    return radius


def _meta_int(text: str, key: str, where: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0 or value > 10_000:
        raise ConfigError(f"{where} has an invalid metadata value {key}={text!r}; the file was altered.")
    return value


def to_uint8(x: np.ndarray) -> np.ndarray:
    """``[0, 1]`` floats to 8 bits as MATLAB does: clamp, scale, round halves up."""
    return uint8_levels(x).astype(np.uint8)


class OnnxUpscaler:
    """An exported SR model on ONNX Runtime (CPU) that upscales whole images in bounded memory.

    The scale is measured on a small probe and the receptive radius bounded by summing the conv
    kernels; the model's ``metadata_props`` (written by :func:`~optuna_srprune.export.to_onnx`) must
    agree with them (a scale that differs, or a radius below that bound, means an altered file).

    Example:

        .. code::

            import numpy as np
            from optuna_srprune.export import OnnxUpscaler

            upscaler = OnnxUpscaler("exported/model.onnx", threads=2)
            rgb = np.zeros((300, 400, 3), np.uint8)
            assert upscaler.upscale(rgb).shape == (300 * upscaler.scale, 400 * upscaler.scale, 3)

    Args:
        model: ``model.onnx`` or the folder holding it.
        threads: ONNX Runtime intra-op threads (default: all cores).

    Raises:
        ConfigError: No model there, an empty or invalid file, metadata that contradicts the model,
            or a model that is not an image upscaler.
    """

    def __init__(self, model: PathLike, threads: int | None = None) -> None:
        self.path = _resolve_model(model)
        where = repr(str(self.path))
        if self.path.stat().st_size == 0:
            raise ConfigError(f"{where} is empty (0 bytes), not an ONNX model; export it again.")
        try:
            proto = onnx.load(str(self.path))
        except Exception as err:  # noqa: BLE001 - protobuf raises several types on a bad file
            raise ConfigError(f"{where} is not a valid ONNX model ({type(err).__name__}).") from None
        if not proto.graph.node or not proto.graph.input or not proto.graph.output:
            raise ConfigError(f"{where} is not an ONNX model of a network (it has no graph).")
        meta = {prop.key: prop.value for prop in proto.metadata_props}
        try:
            self._session = OnnxRuntimeBackend(threads).session(proto)
        except Exception as err:  # noqa: BLE001 - ONNX Runtime raises its own types on a bad model
            first = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
            raise ConfigError(f"ONNX Runtime cannot load {where}: {first}") from None
        self._input = self._session.get_inputs()[0].name
        self.scale = self._probe_scale()
        if META_SCALE in meta and _meta_int(meta[META_SCALE], META_SCALE, where) != self.scale:
            raise ConfigError(
                f"{where} says in its metadata {META_SCALE}={meta[META_SCALE]!r}, but it upscales "
                f"x{self.scale}; the file was altered or mislabelled."
            )
        bound = _receptive_radius(proto)
        self.radius = bound
        if META_RADIUS in meta:
            self.radius = _meta_int(meta[META_RADIUS], META_RADIUS, where)
            if self.radius < bound:
                raise ConfigError(
                    f"{where} says in its metadata {META_RADIUS}={meta[META_RADIUS]!r}, less than its "
                    f"convolutions reach ({bound} pixels): tiles would show seams. The file was altered."
                )

    def _probe_scale(self) -> int:
        probe = np.zeros((1, 3, 8, 8), np.float32)
        try:
            (out,) = self._session.run(None, {self._input: probe})
        except Exception as err:  # noqa: BLE001 - ONNX Runtime raises its own types on a bad model
            raise ConfigError(
                f"{str(self.path)!r} does not run on an NCHW RGB image ({type(err).__name__})."
            ) from None
        if (
            out.ndim != 4
            or out.shape[:2] != (1, 3)
            or out.shape[2] % 8
            or out.shape[2] // 8 < 1
            or out.shape[3] != out.shape[2]
        ):
            raise ConfigError(f"{str(self.path)!r} does not map NCHW RGB images to larger RGB images.")
        return int(out.shape[2] // 8)

    def run(self, lr: np.ndarray) -> np.ndarray:
        """The model's raw output on an NCHW float32 batch in ``[0, 1]`` (not clamped)."""
        (out,) = self._session.run(None, {self._input: np.ascontiguousarray(lr, dtype=np.float32)})
        return np.asarray(out)

    def _rgb_tile(self, pixels: np.ndarray, rows: slice, cols: slice) -> np.ndarray:
        tile = pixels[rows, cols]
        if tile.ndim == 2:  # gray: repeat to RGB
            tile = np.repeat(tile[:, :, None], 3, axis=2)
        x = tile.transpose(2, 0, 1)[None].astype(np.float32)
        if pixels.dtype == np.uint8:
            x /= 255.0
        sr = self.run(x)[0].transpose(1, 2, 0)
        if not np.isfinite(sr).all():
            raise ConfigError(
                f"The model {str(self.path)!r} outputs NaN or inf: its weights are corrupt or diverged; "
                "nothing was written."
            )
        return sr.mean(axis=2, keepdims=True) if pixels.ndim == 2 else sr

    def _alpha_tile(self, alpha: np.ndarray, rows: slice, cols: slice) -> np.ndarray:
        import torch

        tile = torch.from_numpy(alpha[rows, cols].astype(np.float32) / 255.0)[None]
        return imresize(tile, scale=self.scale).numpy().transpose(1, 2, 0)

    def upscale(
        self, pixels: np.ndarray, alpha: np.ndarray | None = None, tile: int = DEFAULT_TILE
    ) -> np.ndarray:
        """Upscale an image held in memory; returns an 8-bit array ``scale`` times larger.

        Args:
            pixels: ``H x W x 3`` RGB or ``H x W`` gray; ``uint8``, or floats in ``[0, 1]``.
            alpha: Optional ``H x W`` ``uint8`` alpha channel, upscaled bicubically and appended.
            tile: Side of the LR tiles in pixels, margins included (0: one pass over the whole image,
                for small images only).

        Returns:
            ``uint8`` ``sH x sW x C``: ``C`` is 3 for RGB, 1 for gray, plus one for alpha; gray without
            alpha comes back ``sH x sW``.
        """
        if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] != 3):
            raise DataError(f"Expected an H x W x 3 or H x W image, got shape {pixels.shape}.")
        height, width = pixels.shape[:2]
        if alpha is not None and alpha.shape != (height, width):
            raise DataError(f"Alpha channel {alpha.shape} does not match the image {height}x{width}.")
        if tile < 0:
            raise ConfigError(f"tile must be >= 0 (0: no tiling), got {tile}.")
        overlap = max(self.radius, _BICUBIC_RADIUS if alpha is not None else 0)
        if tile == 0:
            tile = max(height, width, 2 * overlap + 1)
        if tile <= 2 * overlap:
            raise ConfigError(
                f"tile {tile} is too small for this model: tiles need more than twice its receptive "
                f"radius ({overlap} pixels); use --tile {2 * overlap + 1} or more (larger tiles are faster)."
            )
        fns: list[TileFn] = [lambda r, c: self._rgb_tile(pixels, r, c)]
        if alpha is not None:
            fns.append(lambda r, c: self._alpha_tile(alpha, r, c))
        channels = (1 if pixels.ndim == 2 else 3) + (alpha is not None)
        s = self.scale
        out = np.empty((height * s, width * s, channels)[: 2 if channels == 1 else 3], np.uint8)
        for window in tile_windows(height, width, tile, overlap):
            rows, cols, tile_rows, tile_cols = window.out_slices(s)
            parts = [fn(window.rows, window.cols)[tile_rows, tile_cols] for fn in fns]
            sr = np.concatenate(parts, axis=2) if len(parts) > 1 else parts[0]
            out[rows, cols] = to_uint8(sr[:, :, 0] if channels == 1 else sr)
        return out


def _split_modes(image: PILImage.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """``(pixels, alpha)`` of a Pillow image: RGB ``uint8`` or gray (``uint8`` or float)."""
    mode = image.mode
    has_alpha = mode in _ALPHA_MODES or (mode == "P" and "transparency" in image.info)
    if is_gray_mode(mode):
        if mode.startswith("I"):  # 16-bit gray: values 0..65535
            gray = np.clip(np.asarray(image, dtype=np.float32) / 65535.0, 0.0, 1.0)
        else:
            gray = np.asarray(image.convert("L"))
        alpha = np.asarray(image.getchannel("A")) if has_alpha else None
        return gray, alpha
    if has_alpha:
        rgba = np.asarray(image.convert("RGBA"))
        return rgba[:, :, :3], rgba[:, :, 3]
    return np.asarray(image.convert("RGB")), None


def upscale_image(
    upscaler: OnnxUpscaler, source: PathLike, target: PathLike, tile: int = DEFAULT_TILE
) -> dict[str, Any]:
    """Upscale one image file into ``target`` (format from its suffix: PNG, BMP or JPEG).

    Gray stays gray, an alpha channel is upscaled bicubically (dropped, with a warning, for JPEG).

    Example:

        .. code::

            from optuna_srprune.export import OnnxUpscaler, upscale_image

            upscaler = OnnxUpscaler("exported/")
            upscale_image(upscaler, "photo.png", "photo_x2.png")

    Returns:
        ``input``, ``output``, ``mode``, ``size`` and ``out_size`` (width, height), ``seconds``.

    Raises:
        DataError: The image cannot be read, or ``target`` has no image suffix.
    """
    source, target = Path(source), Path(target)
    check_suffix(target)
    start = time.perf_counter()
    image = open_image(source)
    mode, size = image.mode, image.size
    pixels, alpha = _split_modes(image)
    del image
    if alpha is not None and target.suffix.lower() in (".jpg", ".jpeg"):
        warnings.warn(f"JPEG has no alpha channel: the alpha of {source.name!r} is dropped.", stacklevel=2)
        alpha = None
    out = upscaler.upscale(pixels, alpha, tile)
    del pixels, alpha
    picture = PILImage.fromarray(out)
    write_atomically(target, lambda tmp: picture.save(tmp, format=_FORMATS[target.suffix.lower()]))
    return {
        "input": str(source),
        "output": str(target),
        "mode": mode,
        "size": list(size),
        "out_size": [out.shape[1], out.shape[0]],
        "seconds": round(time.perf_counter() - start, 3),
    }


def upscale_path(
    model: PathLike | OnnxUpscaler,
    source: PathLike,
    target: PathLike,
    *,
    tile: int = DEFAULT_TILE,
    scale: int | None = None,
    threads: int | None = None,
    progress: bool = True,
    force: bool = False,
) -> dict[str, Any]:
    """Upscale an image file, or every image of a folder, with an exported model.

    Nothing is destroyed: an output that is an input, or lies in the input folder, two inputs that
    would write the same output, and (without ``force``) an existing output are refused before any
    work (:func:`~optuna_srprune.export._outputs.plan_outputs`).

    ``source`` a file: ``target`` is the output file, or an existing folder to write
    ``<name>.png`` into. ``source`` a folder: ``target`` is a folder (created if needed) that receives
    ``<name>.png`` for every PNG, BMP and JPEG image of ``source`` (PNG keeps it lossless).

    Example:

        .. code::

            from optuna_srprune.export import upscale_path

            result = upscale_path("exported/", "photos/", "photos_x2/", scale=2)
            print(len(result["images"]), "images upscaled")

    Args:
        model: ``model.onnx``, the export folder, or a ready :class:`OnnxUpscaler`.
        source: Image file or folder of images.
        target: Output file or folder.
        tile: LR tile side in pixels, margins included (0: no tiling).
        scale: The scale expected of the model, if any: a model of another scale is an error.
        threads: ONNX Runtime threads (default: all cores).
        progress: Show a progress bar over a folder's images.
        force: Overwrite existing outputs (never an input).

    Returns:
        ``model``, ``scale``, ``tile`` and ``images`` (one :func:`upscale_image` result each).

    Raises:
        ConfigError: No model, or a model of another ``scale`` than asked.
        DataError: An image cannot be read, a folder holds no image, or an output path is unusable.
    """
    jobs = plan_outputs(source, target, force)
    upscaler = model if isinstance(model, OnnxUpscaler) else OnnxUpscaler(model, threads)
    if scale is not None and scale != upscaler.scale:
        raise ConfigError(
            f"The model {str(upscaler.path)!r} upscales x{upscaler.scale}, not x{scale} as asked; "
            f"export a x{scale} model or ask for --scale {upscaler.scale}."
        )
    from tqdm.auto import tqdm

    images = [
        upscale_image(upscaler, src, out, tile)
        for src, out in tqdm(
            jobs,
            desc=f"upscale x{upscaler.scale}",
            unit="img",
            disable=None if progress else True,
            file=sys.stderr,
        )
    ]
    return {"model": str(upscaler.path), "scale": upscaler.scale, "tile": tile, "images": images}
