"""Training, evaluation and ONNX export of the baselines, by the same rules as the searched networks.

Same data (the 291 images), same patches (:class:`~optuna_srprune.data.PatchSampler`), same L1 loss,
Adam, warm-up and cosine schedule (:func:`~optuna_srprune.supernet.warmup_cosine`), same number of
steps as the fine-tuning of a searched network; the searched networks also start from the supernet's
weights and distil from its largest subnet, which is what the method brings.
"""

from __future__ import annotations

from collections.abc import Sequence
import io
import os
from pathlib import Path
import time
from typing import Any

import onnx
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from optuna_srprune.data import PairedDataset
from optuna_srprune.data import PatchSampler
from optuna_srprune.data import ValidationSet
from optuna_srprune.evaluation import evaluate_network
from optuna_srprune.supernet import warmup_cosine


def train(
    net: torch.nn.Module,
    scale: int,
    folders: Sequence[str | os.PathLike[str]],
    steps: int,
    *,
    batch_size: int = 16,
    patch_size: int = 32,
    lr: float = 1e-3,
    seed: int = 0,
) -> dict[str, Any]:
    """Train ``net`` in place with L1 on random patches; returns steps, seconds and the final loss."""
    sampler = PatchSampler(PairedDataset(list(folders), scale), patch_size, batch_size, seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    start, smooth = time.perf_counter(), None
    net.train()
    for step in tqdm(range(steps), desc=f"train {type(net).__name__} x{scale}", mininterval=30):
        lr_batch, hr_batch = next(sampler)
        for group in optimizer.param_groups:
            group["lr"] = warmup_cosine(step, steps, lr, min(200, steps // 10), 0.01)
        loss = F.l1_loss(net(lr_batch), hr_batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        smooth = loss.item() if smooth is None else 0.98 * smooth + 0.02 * loss.item()
    net.eval()
    return {"steps": steps, "elapsed_s": round(time.perf_counter() - start, 1), "l1": smooth}


def evaluate(net: torch.nn.Module, data: str | os.PathLike[str] | None, scale: int) -> dict[str, float]:
    """PSNR/SSIM on a validation folder by the project's protocol (whole images, no tiling)."""
    quality = evaluate_network(net, ValidationSet(data, scale), radius=0, tile=4096)
    return {"psnr": quality.psnr, "ssim": quality.ssim}


def export_onnx(net: torch.nn.Module, scale: int, path: Path) -> onnx.ModelProto:
    """ONNX with the export contract: ``input`` NCHW float32 RGB in [0, 1], dynamic size, ``output``."""
    buffer = io.BytesIO()
    dims = {0: "batch", 2: "height", 3: "width"}
    torch.onnx.export(
        net,
        (torch.rand(1, 3, 32, 32),),
        buffer,
        dynamo=False,  # the TorchScript exporter needs no onnxscript
        input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": dims, "output": dims},
        opset_version=17,
    )
    model = onnx.load_from_string(buffer.getvalue())
    onnx.helper.set_model_props(model, {"srprune.scale": str(scale)})
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return model
