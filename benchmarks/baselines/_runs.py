"""Where a baseline's training run lives and how a trained baseline is loaded back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from baselines._models import BASELINES
from baselines._models import SearchedNet
from optuna_srprune.config import SubnetConfig
from optuna_srprune.supernet import SRSupernet

CHECKPOINTS = Path(__file__).resolve().parents[1] / "results" / "baselines"
PLATEAU_DB = 0.02


def run_name(model: str, scale: int, act: str, searched: dict[str, str] | None = None) -> str:
    """``ecbsr_m4c16_relu_x2``; ESPCN has one activation (tanh), so none in its name; a searched
    network is ``searched_<name>_x2``."""
    if model == "searched":
        return f"searched_{_searched(searched)['name']}_x{scale}"
    return f"{model}_x{scale}" if model == "espcn" else f"{model}_{act}_x{scale}"


def build(model: str, scale: int, act: str, searched: dict[str, str] | None = None) -> torch.nn.Module:
    """A fresh baseline, or a searched network with its inherited weights.

    ``searched`` names the network: ``name`` (for the run), ``config`` (a ``SubnetConfig`` as JSON)
    and ``supernet`` (the checkpoint it inherits from; a training checkpoint's moving average is used).
    """
    if model == "searched":
        spec = _searched(searched)
        supernet = SRSupernet.load(spec["supernet"], scale=scale)
        ckpt = torch.load(spec["supernet"], weights_only=True, map_location="cpu")
        if "ema" in ckpt:
            supernet.load_weights(ckpt["ema"], spec["supernet"])
        return SearchedNet(supernet, SubnetConfig.from_json(spec["config"]))
    model_class = BASELINES[model]
    return model_class(scale) if model == "espcn" else model_class(scale, act=act)


def _searched(searched: dict[str, str] | None) -> dict[str, str]:
    if not searched or not all(searched.get(k) for k in ("name", "config", "supernet")):
        raise ValueError("A searched network needs its name, config (JSON) and supernet checkpoint.")
    return searched


def plateau_gain(history: list[dict[str, Any]], steps: int) -> float | None:
    """Set5 PSNR gained over the last fifth of the schedule (None until the schedule is complete)."""
    if not history or history[-1]["step"] < steps:
        return None
    before = [h for h in history if h["step"] <= 0.8 * steps]
    return round(history[-1]["set5"] - before[-1]["set5"], 4) if before else None


def load_trained(
    model: str, scale: int, act: str, searched_name: str | None = None
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The network of a finished (or stopped) run of ``train_baselines.py`` and its record.

    A searched network is found by its run's name (``searched_name``); its config and supernet are
    read from the run's checkpoint.

    Raises:
        FileNotFoundError: The run has no checkpoint yet; the message says how to make one.
    """
    name = f"searched_{searched_name}_x{scale}" if model == "searched" else run_name(model, scale, act)
    path = CHECKPOINTS / f"{name}.pt"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist: train it with `python benchmarks/train_baselines.py --model {model} "
            f"--scale {scale} --act {act}`."
        )
    state = torch.load(path, weights_only=True)
    net = build(model, scale, act, state["settings"].get("searched"))
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
