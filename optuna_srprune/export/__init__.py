"""Fine-tune and export a chosen network; upscale images with the exported model.

:func:`export_trial` turns a trial of a study into deployable files (``model.onnx``, ``model.pt``,
``config.json``, ``metrics.json``); :func:`upscale_path` and :class:`OnnxUpscaler` run the exported
``model.onnx`` on ONNX Runtime, tile by tile.

The ONNX contract: input ``"input"`` float32 NCHW RGB in ``[0, 1]`` with dynamic batch, height and
width; output ``"output"`` float32 NCHW RGB, ``scale`` times the height and width, *not* clamped
(clamp and round to 8 bits for display, as the PSNR protocol does); the global skip is inside the
model. The scale, receptive radius and config are in the model's ``metadata_props``.
"""

from __future__ import annotations

from optuna_srprune.export._export import check_output
from optuna_srprune.export._export import EXPORT_ATTR_PREFIX
from optuna_srprune.export._export import export_trial
from optuna_srprune.export._export import find_trial
from optuna_srprune.export._finetune import finetune
from optuna_srprune.export._finetune import FinetuneSettings
from optuna_srprune.export._onnx import load_network
from optuna_srprune.export._onnx import save_network
from optuna_srprune.export._onnx import to_onnx
from optuna_srprune.export._upscale import OnnxUpscaler
from optuna_srprune.export._upscale import upscale_image
from optuna_srprune.export._upscale import upscale_path

__all__ = [
    "EXPORT_ATTR_PREFIX",
    "FinetuneSettings",
    "OnnxUpscaler",
    "check_output",
    "export_trial",
    "find_trial",
    "finetune",
    "load_network",
    "save_network",
    "to_onnx",
    "upscale_image",
    "upscale_path",
]
