"""``search`` and ``worker``: run a shared study of PSNR against latency."""

from __future__ import annotations

import argparse
import os
from typing import Any

from optuna_srprune import orchestration
from optuna_srprune._defaults import DEFAULT_HR_SIZE
from optuna_srprune._defaults import DEFAULT_STORAGE
from optuna_srprune._device import resolve_device
from optuna_srprune._redact import mask_url
from optuna_srprune.cli._common import add_json_flag
from optuna_srprune.cli._common import budget_ms
from optuna_srprune.cli._common import hr_size
from optuna_srprune.cli._common import log
from optuna_srprune.cli._common import positive_int
from optuna_srprune.cli._common import seed
from optuna_srprune.cli._common import study_name
from optuna_srprune.cli._common import threads
from optuna_srprune.cli._common import trial_count
from optuna_srprune.cli._common import warnings_as_messages
from optuna_srprune.config import SCALES
from optuna_srprune.latency import BACKENDS
from optuna_srprune.orchestration import SAMPLERS


def register(subparsers: Any) -> None:
    search = subparsers.add_parser("search", help="create or join a study and search PSNR against latency")
    _add_study_args(search)
    search.add_argument("--scale", type=int, required=True, choices=SCALES)
    search.add_argument("--budget-ms", type=budget_ms, help="latency budget in milliseconds")
    search.add_argument("--trials", type=trial_count, default=50, help="complete trials the study aims for")
    search.add_argument("--sampler", default="latency-aware", choices=SAMPLERS)
    search.add_argument("--seed", type=seed, help="sampler seed")
    search.add_argument("--backend", default="onnxruntime", choices=tuple(BACKENDS))
    search.add_argument("--threads", type=threads, default=2)
    search.add_argument("--hr-size", type=hr_size, default=DEFAULT_HR_SIZE, metavar="HxW")
    search.add_argument("--supernet", default="default", help="'default' or a checkpoint path")
    search.add_argument("--data", help="folder of HR validation images (default: embedded Set5)")
    search.add_argument("--heartbeat", type=positive_int, default=10, help="seconds between heartbeats")
    search.set_defaults(handler=_with_warnings(_search))

    worker = subparsers.add_parser("worker", help="add a worker to an existing study")
    _add_study_args(worker)
    worker.add_argument("--trials", type=positive_int, help="most trials this process runs")
    worker.add_argument("--seed", type=seed, help="sampler seed (default: random per worker)")
    worker.set_defaults(handler=_with_warnings(_worker))


def _with_warnings(handler: Any) -> Any:
    """``handler`` with its warnings (e.g. a trial slot given up) printed as one-line messages."""

    def run(args: argparse.Namespace) -> dict[str, Any]:
        with warnings_as_messages():
            return handler(args)

    return run


def _add_study_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--storage", default=DEFAULT_STORAGE, help="SQLAlchemy database URL")
    parser.add_argument("--study", type=study_name, required=True, help="study name")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument(
        "--device",
        default="cpu",
        help="where this worker's supernet scores subnets: cpu, cuda[:N], mps, auto",
    )
    add_json_flag(parser)


def _settings(args: argparse.Namespace) -> orchestration.SearchSettings:
    return orchestration.SearchSettings(
        scale=args.scale,
        budget_ms=args.budget_ms,
        n_trials=args.trials,
        sampler=args.sampler,
        seed=args.seed,
        backend=args.backend,
        threads=args.threads,
        hr_size=args.hr_size,
        supernet=args.supernet if args.supernet == "default" else os.path.abspath(args.supernet),
        val_data=os.path.abspath(args.data) if args.data else None,
        heartbeat_s=args.heartbeat,
    )


def _search(args: argparse.Namespace) -> dict[str, Any]:
    device = resolve_device(args.device)  # before anything is written
    settings = _settings(args)
    _check_inputs(settings)  # before the storage is opened: a typo must not leave a database behind
    storage = orchestration.open_storage(args.storage, settings.heartbeat_s)
    existing = orchestration.existing_settings(storage, args.study)
    if existing is not None:
        orchestration.check_joinable(args.study, existing, settings)
    # Built (and the latency table calibrated) before the study is created: a failure here leaves
    # no study behind.
    objective, sampler = orchestration.build_search(
        settings, args.storage, settings.seed, progress=not args.no_progress, device=device
    )
    study = orchestration.create_or_join(storage, args.study, settings, exists=existing is not None)
    verb = "Created" if existing is None else "Joined"
    log(args, f"{verb} study {args.study!r} in {mask_url(args.storage)}.")
    result, _ = _run(args, study, settings, objective, sampler)
    return result


def _run(
    args: argparse.Namespace,
    study: Any,
    settings: orchestration.SearchSettings,
    objective: Any,
    sampler: Any,
    max_trials: int | None = None,
) -> tuple[dict[str, Any], int]:
    """Run the study's queued trials in this process; its Pareto front, and the trials run here."""
    from optuna_srprune.objective import name_objectives

    name_objectives(study)
    study.sampler = sampler
    ran = orchestration.run_trials(
        study,
        objective,
        max_trials=max_trials,
        heartbeat_s=settings.heartbeat_s,
        show_progress_bar=not args.no_progress,
        storage_url=args.storage,
    )
    return _report(args, study, settings), ran


def _check_inputs(settings: orchestration.SearchSettings) -> None:
    """The cheap checks of the supernet and data paths, before anything is created."""
    from pathlib import Path

    from optuna_srprune.data import list_images
    from optuna_srprune.exceptions import CheckpointError

    if settings.supernet != "default" and not Path(settings.supernet).is_file():
        raise CheckpointError(f"Supernet checkpoint {settings.supernet!r} does not exist.")
    if settings.val_data is not None:
        list_images(settings.val_data)


def _worker(args: argparse.Namespace) -> dict[str, Any]:
    device = resolve_device(args.device)  # before anything is written
    settings = orchestration.load_settings(orchestration.open_study(args.storage, args.study))
    # Opened again with the study's heartbeat, which this worker's trials must keep.
    study = orchestration.open_study(args.storage, args.study, settings.heartbeat_s)
    objective, sampler = orchestration.build_search(
        settings, args.storage, args.seed, progress=not args.no_progress, device=device
    )
    result, ran = _run(args, study, settings, objective, sampler, max_trials=args.trials)
    result["trials_run"] = ran
    return result


def _report(args: argparse.Namespace, study: Any, settings: Any) -> dict[str, Any]:
    from optuna.trial import TrialState

    from optuna_srprune.cli._report import save_figure
    from optuna_srprune.objective import config_of
    from optuna_srprune.objective import distinct_networks

    save_figure(study)  # for optuna-dashboard; skipped where it is not installed

    # Each network once: a trial that repeated a network (reusing its result) is not listed again.
    front = distinct_networks(sorted(study.best_trials, key=lambda t: (t.values[1], t.number)))
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    distinct = len(distinct_networks(sorted(complete, key=lambda t: t.number)))
    rows = [
        {
            "trial": t.number,
            "psnr": t.values[0],
            "latency_ms": t.values[1],
            "config": config_of(t).to_dict(),
        }
        for t in front
    ]
    _warn_if_short(study, settings, len(complete))
    if not args.json:
        budget = f" under {settings.budget_ms:g} ms" if settings.budget_ms else ""
        print(
            f"Pareto front{budget} ({len(front)} networks; {len(complete)} complete trials evaluated "
            f"{distinct} distinct networks):"
        )
        print(f"{'trial':>6} {'PSNR (dB)':>10} {'latency (ms)':>13}  network")
        for t in front:
            print(f"{t.number:>6} {t.values[0]:>10.3f} {t.values[1]:>13.2f}  {config_of(t).summary()}")
    return {
        "study": study.study_name,
        "complete_trials": len(complete),
        "distinct_networks": distinct,
        "budget_ms": settings.budget_ms,
        "pareto_front": rows,
    }


def _warn_if_short(study: Any, settings: Any, n_complete: int) -> None:
    """Say so when the study is over with fewer complete trials than it aims for."""
    import warnings

    from optuna.trial import TrialState

    if n_complete >= settings.n_trials:
        return
    if study.get_trials(deepcopy=False, states=(TrialState.WAITING, TrialState.RUNNING)):
        return  # other workers are still on it
    warnings.warn(
        f"Study {study.study_name!r} has {n_complete} complete trials of the {settings.n_trials} it "
        "aims for, and none queued: some trials failed too often. Run `optuna-srprune search` again "
        "with the same settings to queue the missing ones.",
        stacklevel=2,
    )
