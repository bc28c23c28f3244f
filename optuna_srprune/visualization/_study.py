"""The complete trials of a study made by optuna-srprune, as plotted (no torch)."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import optuna
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from optuna_srprune import _names
from optuna_srprune.exceptions import StudyError
from optuna_srprune.orchestration import read_settings


@dataclasses.dataclass(frozen=True)
class TrialPoint:
    """One complete trial of a study, as plotted: PSNR against latency and what the hover shows.

    Attributes:
        number: The trial number.
        psnr: PSNR (dB), the first objective.
        latency_ms: Predicted latency (ms), the second objective.
        feasible: Whether the trial meets the latency budget.
        summary: The network's short description (e.g. ``x2 w32 [edsr24]``).
        config: The network's config as JSON (``srprune:config``), or ``None``.
        ssim: SSIM, where recorded.
        macs: Multiply-accumulates per forward pass, where recorded.
        params: Parameter count, where recorded.
        measured_ms: Latency measured on the back-end (recorded by ``export``), where known.
    """

    number: int
    psnr: float
    latency_ms: float
    feasible: bool
    summary: str
    config: str | None = None
    ssim: float | None = None
    macs: int | None = None
    params: int | None = None
    measured_ms: float | None = None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _measured_ms(study_attrs: dict[str, Any]) -> dict[int, float]:
    """Measured latency by trial number, from the records ``export`` leaves on the study."""
    measured = {}
    for key, text in study_attrs.items():
        if not key.startswith(_names.EXPORT_PREFIX):
            continue
        try:
            number, value = int(key[len(_names.EXPORT_PREFIX) :]), json.loads(text).get("measured_ms")
        except (ValueError, TypeError, AttributeError):
            continue  # not a record we can read: show no measured latency rather than fail
        if _number(value) is not None:
            measured[number] = float(value)
    return measured


def _feasible(trial: FrozenTrial, budget_ms: float | None, explicit: bool) -> bool:
    assert trial.values is not None
    if explicit and budget_ms is not None:  # "what if the budget were...": judge by latency alone
        return trial.values[1] <= budget_ms
    constraints = trial.constraints
    if constraints:
        return all(value <= 0.0 for value in constraints.values())
    return budget_ms is None or trial.values[1] <= budget_ms


def trial_points(
    study: optuna.Study, budget_ms: float | None = None
) -> tuple[list[TrialPoint], float | None]:
    """The complete trials of a study made by optuna-srprune, and the budget they are judged by.

    Args:
        study: A study made by ``optuna-srprune search``.
        budget_ms: A budget to judge feasibility by; ``None``: the study's own (its recorded
            constraints).

    Returns:
        The points, in trial order, and the budget (``None`` if the study has none).

    Example:

        .. code::

            import optuna
            from optuna_srprune.visualization import pareto_front, trial_points

            study = optuna.load_study(study_name="x2", storage="sqlite:///srprune.db")
            points, budget_ms = trial_points(study)
            for point in pareto_front(points):
                print(point.number, point.psnr, point.latency_ms, point.summary)

    Raises:
        StudyError: The study was not made by optuna-srprune or has no complete trial.
    """
    settings = read_settings(study)
    explicit = budget_ms is not None
    if budget_ms is None:
        budget_ms = _number(settings.get("budget_ms"))
    elif not budget_ms > 0:
        raise StudyError(f"The latency budget must be positive, got {budget_ms} ms.")
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not trials:
        raise StudyError(
            f"Study {study.study_name!r} has no complete trials yet; run `optuna-srprune search` or "
            "`optuna-srprune worker` on it first."
        )
    measured = _measured_ms(study.user_attrs)
    points = []
    for trial in trials:
        assert trial.values is not None
        attrs = trial.user_attrs
        macs, params = _number(attrs.get(_names.MACS)), _number(attrs.get(_names.PARAMS))
        points.append(
            TrialPoint(
                number=trial.number,
                psnr=float(trial.values[0]),
                latency_ms=float(trial.values[1]),
                feasible=_feasible(trial, budget_ms, explicit),
                summary=str(attrs.get(_names.SUMMARY, "")),
                config=attrs.get(_names.CONFIG),
                ssim=_number(attrs.get(_names.SSIM)),
                macs=None if macs is None else int(macs),
                params=None if params is None else int(params),
                measured_ms=_number(attrs.get(_names.MEASURED_MS)) or measured.get(trial.number),
            )
        )
    return points, budget_ms


def pareto_front(points: list[TrialPoint]) -> list[TrialPoint]:
    """The feasible points no other feasible point dominates, fastest first.

    A point dominates another if its PSNR is no lower and its latency no higher, one of them strictly
    (as :attr:`optuna.Study.best_trials`, which also keeps exact ties).

    Example:
        >>> pts = [TrialPoint(0, 30.0, 1.0, True, ""), TrialPoint(1, 29.0, 2.0, True, "")]
        >>> [p.number for p in pareto_front(pts + [TrialPoint(2, 31.0, 3.0, True, "")])]
        [0, 2]
    """
    feasible = sorted((p for p in points if p.feasible), key=lambda p: (p.latency_ms, -p.psnr))
    front: list[TrialPoint] = []
    for point in feasible:
        last = front[-1] if front else None
        if last is None or point.psnr > last.psnr:
            front.append(point)
        elif (point.psnr, point.latency_ms) == (last.psnr, last.latency_ms):
            front.append(point)
    return front


def spread_over_latency(front: list[TrialPoint], k: int) -> list[TrialPoint]:
    """Up to ``k`` points of a front (fastest first), spread evenly over it from fastest to best.

    Example:
        >>> pts = [TrialPoint(i, 30.0 + i, 1.0 + i, True, "") for i in range(7)]
        >>> [p.number for p in spread_over_latency(pts, 3)]
        [0, 3, 6]
    """
    if k < 1:
        return []
    if len(front) <= k:
        return list(front)
    if k == 1:
        return [front[-1]]  # the best PSNR within the budget
    picked = sorted({int(i * (len(front) - 1) / (k - 1) + 0.5) for i in range(k)})
    return [front[i] for i in picked]
