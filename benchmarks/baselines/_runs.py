"""Where a baseline's training run lives and how a trained baseline is loaded back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from baselines._models import BASELINES

CHECKPOINTS = Path(__file__).resolve().parents[1] / "results" / "baselines"
PLATEAU_DB = 0.02


def run_name(model: str, scale: int, act: str) -> str:
    """``ecbsr_m4c16_relu_x2``; ESPCN has one activation (tanh), so none in its name."""
    return f"{model}_x{scale}" if model == "espcn" else f"{model}_{act}_x{scale}"


def build(model: str, scale: int, act: str) -> torch.nn.Module:
    model_class = BASELINES[model]
    return model_class(scale) if model == "espcn" else model_class(scale, act=act)


def plateau_gain(history: list[dict[str, Any]], steps: int) -> float | None:
    """Set5 PSNR gained over the last fifth of the schedule (None until the schedule is complete)."""
    if not history or history[-1]["step"] < steps:
        return None
    before = [h for h in history if h["step"] <= 0.8 * steps]
    return round(history[-1]["set5"] - before[-1]["set5"], 4) if before else None


def load_trained(model: str, scale: int, act: str) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The network of a finished (or stopped) run of ``train_baselines.py`` and its record.

    Raises:
        FileNotFoundError: The run has no checkpoint yet; the message says how to make one.
    """
    name = run_name(model, scale, act)
    path = CHECKPOINTS / f"{name}.pt"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist: train it with `python benchmarks/train_baselines.py --model {model} "
            f"--scale {scale} --act {act}`."
        )
    state = torch.load(path, weights_only=True)
    net = build(model, scale, act)
    net.load_state_dict(state["model"])
    steps = state["settings"]["steps"]
    record = {
        "run": name,
        "step": state["step"],
        "steps": steps,
        "train_s": state["elapsed_s"],
        "converged": state["step"] >= steps,
        "plateau_gain_db": plateau_gain(state["history"], steps),
        "curve": state["history"],
    }
    return net.eval(), record
