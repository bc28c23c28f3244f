"""Exporting a trial of a study: extract, fine-tune, score, time, and write the files."""

from __future__ import annotations

from collections.abc import Sequence
import datetime
import json
import math
import os
from pathlib import Path
import shutil
import tempfile
from typing import Any
import warnings

import optuna
from optuna.trial import FrozenTrial
from optuna.trial import TrialState
import torch

import optuna_srprune
from optuna_srprune import _names
from optuna_srprune.config import count_macs
from optuna_srprune.config import count_params
from optuna_srprune.config import layer_specs
from optuna_srprune.config import lr_size
from optuna_srprune.config import receptive_radius
from optuna_srprune.data import list_images
from optuna_srprune.data import ValidationSet
from optuna_srprune.evaluation import evaluate_network
from optuna_srprune.evaluation import Quality
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.exceptions import DataError
from optuna_srprune.exceptions import StudyError
from optuna_srprune.export._finetune import finetune
from optuna_srprune.export._finetune import FinetuneSettings
from optuna_srprune.export._onnx import METRICS_JSON
from optuna_srprune.export._onnx import save_network
from optuna_srprune.latency import make_backend
from optuna_srprune.objective import config_of
from optuna_srprune.orchestration import load_settings
from optuna_srprune.orchestration import load_supernet
from optuna_srprune.orchestration import SearchSettings

PathLike = str | os.PathLike[str]

# Study user attribute ``srprune:export:<trial number>``: what the export of that trial measured.
# (Optuna refuses to change a finished trial, so the record lives on the study.)
EXPORT_ATTR_PREFIX = _names.EXPORT_PREFIX


def find_trial(study: optuna.Study, number: int) -> FrozenTrial:
    """The complete trial ``number`` of ``study``, with a clear error if there is none."""
    trials = study.get_trials(deepcopy=False)
    matches = [t for t in trials if t.number == number]
    if not matches:
        span = f"its trials are numbered 0 to {len(trials) - 1}" if trials else "it has no trials"
        raise StudyError(f"Study {study.study_name!r} has no trial {number} ({span}).")
    trial = matches[0]
    if trial.state != TrialState.COMPLETE:
        raise StudyError(
            f"Trial {number} of study {study.study_name!r} is {trial.state.name}, not COMPLETE; only a "
            "complete trial can be exported (pick one from the Pareto front `optuna-srprune search` prints)."
        )
    if _names.CONFIG not in trial.user_attrs:
        raise StudyError(
            f"Trial {number} of study {study.study_name!r} has no {_names.CONFIG!r} attribute; "
            "it was not run by optuna-srprune's objective."
        )
    return trial


def check_output(out: PathLike, force: bool) -> Path:
    """Refuse an existing output folder unless ``force``; refuse a file in its place always.

    Also refuse, before any work, an output whose nearest existing parent is not a writable folder.
    """
    out = Path(out)
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise DataError(f"Cannot create the output {str(out)!r}: {str(parent)!r} is not a writable folder.")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"Output {str(out)!r} is a file; give a folder to write the model into.")
    if out.exists() and not force:
        raise ConfigError(
            f"Output folder {str(out)!r} exists; pass --force to overwrite its files, "
            "or choose another folder."
        )
    return out


def export_trial(
    study: optuna.Study,
    trial_number: int,
    out: PathLike,
    *,
    finetune_settings: FinetuneSettings | None = None,
    data: Sequence[PathLike] | None = None,
    force: bool = False,
    artifact_store: Any | None = None,
    progress: bool = True,
    device: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Extract a trial's network from the study's supernet, fine-tune it, score it, time it, save it.

    Writes into ``out``: ``model.onnx`` (see :func:`~optuna_srprune.export.to_onnx` for its
    contract), ``model.pt`` (state dict, ``weights_only`` loadable), ``config.json`` (the
    :class:`~optuna_srprune.config.SubnetConfig`) and ``metrics.json`` (PSNR/SSIM on the study's
    validation set before and after fine-tuning, by the search's protocol, and the latency measured
    end to end on the study's back-end at its HR size, beside the predicted one). Nothing is written
    until everything has succeeded; the files appear together.

    The export is recorded in the study user attribute ``srprune:export:<trial number>``. With an
    ``artifact_store`` (e.g. :class:`optuna.artifacts.FileSystemArtifactStore`), the four files are
    also uploaded as artifacts named ``trial<N>-<file>``. They are *study* artifacts: Optuna refuses
    to change a finished trial, artifacts included.

    Example:

        .. code::

            import optuna
            from optuna_srprune.export import FinetuneSettings, export_trial

            study = optuna.load_study(study_name="x2", storage="sqlite:///srprune.db")
            result = export_trial(
                study, 12, "exported/", finetune_settings=FinetuneSettings(steps=500),
                data=["data/T91", "data/BSD200"],
            )
            print(result["psnr"], result["latency"]["measured_ms"])

    Args:
        study: A study made by ``optuna-srprune search``.
        trial_number: The complete trial to export.
        out: Output folder; it must not exist unless ``force``.
        finetune_settings: Fine-tuning hyper-parameters (default :class:`FinetuneSettings`).
        data: Folders of HR training images for fine-tuning. Without them the validation images are
            used, with a warning: the metrics are then optimistic.
        force: Overwrite the files of an existing output folder.
        artifact_store: An Optuna artifact store to upload the files to.
        progress: Show progress bars.
        device: Where to fine-tune and score (e.g. ``"cuda"``); what is written is the same.

    Returns:
        The content of ``metrics.json``, plus ``out``, ``files`` and ``artifacts`` (ids by file).

    Raises:
        StudyError: The study is not an optuna-srprune study, or the trial does not exist or is not
            complete.
        ConfigError: The output folder exists (without ``force``).
        DataError: A data folder is missing or holds no image.
    """
    settings = load_settings(study)
    trial = find_trial(study, trial_number)
    config = config_of(trial)
    out = check_output(out, force)
    finetune_settings = finetune_settings or FinetuneSettings()
    val = ValidationSet(settings.val_data, settings.scale)
    folders = _training_folders(data, val, finetune_settings.steps)

    supernet = load_supernet(settings.scale, settings.supernet).eval().to(device)
    net = supernet.extract(config).eval()
    radius = receptive_radius(config)
    inherited = evaluate_network(net, val, radius)
    largest = supernet.space.largest()
    report = finetune(net, lambda x: supernet(x, largest), folders, finetune_settings, progress)
    final = evaluate_network(net, val, radius) if report["steps"] else inherited
    net = net.cpu()

    metrics = _metrics(study, trial, settings, val, inherited, final)
    metrics["latency"] = _measure_latency(settings, config, trial)
    metrics["finetune"] = {**finetune_settings.to_dict(), "data": [str(f) for f in folders], **report}
    _check_finite(net, metrics, finetune_settings)

    files = _write(net, metrics, out)
    artifacts = _upload(study, trial_number, files, artifact_store) if artifact_store is not None else {}
    record = {
        "out": str(out.resolve()),
        "psnr": metrics["psnr"],
        "ssim": metrics["ssim"],
        "measured_ms": metrics["latency"]["measured_ms"],
        "finetune_steps": report["steps"],
        "artifacts": artifacts,
    }
    study.set_user_attr(
        f"{EXPORT_ATTR_PREFIX}{trial_number}",
        json.dumps(_json_numbers(record), sort_keys=True, allow_nan=False),
    )
    return {
        **metrics,
        "out": str(out),
        "files": {k: str(v) for k, v in files.items()},
        "artifacts": artifacts,
    }


def _training_folders(data: Sequence[PathLike] | None, val: ValidationSet, steps: int) -> list[Path]:
    if steps == 0:
        return []
    if not data:
        warnings.warn(
            f"No training data given (--data): fine-tuning on the validation images of {str(val.folder)!r}, "
            "so the exported PSNR is optimistic. Pass folders of HR training images, e.g. T91 and BSD200.",
            stacklevel=3,
        )
        return [val.folder]
    folders = [Path(f) for f in data]
    for folder in folders:
        list_images(folder)  # a clear error now, not after the evaluation
    return folders


def _quality(quality: Quality) -> dict[str, float]:
    return {"psnr": quality.psnr, "ssim": quality.ssim}


def _metrics(
    study: optuna.Study,
    trial: FrozenTrial,
    settings: SearchSettings,
    val: ValidationSet,
    inherited: Quality,
    final: Quality,
) -> dict[str, Any]:
    config = config_of(trial)
    values = trial.values or [float("nan"), float("nan")]
    return {
        "study": study.study_name,
        "trial": trial.number,
        "scale": config.scale,
        "summary": config.summary(),
        "config": config.to_dict(),
        "params": count_params(config),
        "macs": count_macs(config, *lr_size(*settings.hr_size, config.scale)),
        **_quality(final),
        "per_image": {name: {"psnr": p, "ssim": s} for name, (p, s) in final.per_image.items()},
        "inherited": _quality(inherited),
        "search": {"psnr": values[0], "latency_ms": values[1]},
        "validation": {
            "data": str(val.folder),
            "images": len(val),
            "protocol": "Y of BT.601 (gray images: their value), scale-pixel border crop, "
            "SR clamped to [0, 1] and rounded to 8 bits",
        },
        "onnx": {
            "input": "input: float32 NCHW RGB in [0, 1], dynamic batch, height, width",
            "output": f"output: float32 NCHW RGB, x{config.scale} height and width, not clamped",
            "global_skip": "inside the model",
        },
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "optuna_srprune": optuna_srprune.__version__,
    }


def _measure_latency(settings: SearchSettings, config: Any, trial: FrozenTrial) -> dict[str, Any]:
    """The network timed end to end on the study's back-end and threads at its HR size."""
    backend = make_backend(settings.backend, settings.threads)
    layers = layer_specs(config, *lr_size(*settings.hr_size, config.scale))
    timing = backend.measure_network(layers, config.scale)
    return {
        "backend": settings.backend,
        "fingerprint": backend.fingerprint(),
        "threads": settings.threads,
        "hr_size": list(settings.hr_size),
        "measured_ms": timing.median_ms,
        "spread_ms": timing.spread_ms,
        "repeats": timing.repeats,
        "predicted_ms": trial.values[1] if trial.values else None,
    }


def _check_finite(net: Any, metrics: dict[str, Any], settings: FinetuneSettings) -> None:
    """A network with NaN or inf weights, or metrics that are not numbers, is an error, not a model."""
    bad = [name for name, tensor in net.state_dict().items() if not bool(tensor.isfinite().all())]
    if bad:
        raise ConfigError(
            f"The network's weights are not finite after fine-tuning ({bad[0]} and {len(bad) - 1} more) "
            f"with lr {settings.lr:g}; nothing was written. Use a smaller --lr."
        )
    for key in ("psnr", "ssim"):
        for where in (metrics, metrics["inherited"]):
            if not math.isfinite(where[key]) and not where[key] == math.inf:
                raise ConfigError(
                    f"The exported network's {key} is {where[key]}: its outputs are not numbers; "
                    "nothing was written."
                )


def _write(net: Any, metrics: dict[str, Any], out: Path) -> dict[str, Path]:
    """Write every file into a temporary sibling folder, then move them into ``out`` together."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as err:
        raise DataError(
            f"Cannot write into {str(out.parent)!r}: {err.strerror or type(err).__name__}."
        ) from None
    try:
        text = json.dumps(_json_numbers(metrics), indent=2, sort_keys=True, allow_nan=False) + "\n"
        written = save_network(net, tmp)
        written[METRICS_JSON] = tmp / METRICS_JSON
        written[METRICS_JSON].write_text(text)
        if out.exists():  # --force: replace our files, leave anything else there alone
            for name, path in written.items():
                os.replace(path, out / name)
            tmp.rmdir()
        else:
            os.replace(tmp, out)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DataError(f"Cannot write the export into {str(out)!r}: {err.strerror or err}.") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {name: out / name for name in written}


def _json_numbers(value: Any) -> Any:
    """Strict JSON: an infinite PSNR (identical images) is written as the string ``"inf"``."""
    if isinstance(value, float) and math.isinf(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_numbers(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_numbers(v) for v in value]
    return value


def _upload(study: optuna.Study, number: int, files: dict[str, Path], store: Any) -> dict[str, str]:
    from optuna.artifacts import upload_artifact

    ids = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in files.items():
            named = Path(tmp) / f"trial{number}-{name}"
            shutil.copyfile(path, named)
            ids[name] = upload_artifact(artifact_store=store, file_path=str(named), study_or_trial=study)
    return ids
