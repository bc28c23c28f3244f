"""``plot_pareto_front``: PSNR against latency, the front joined, the budget drawn (no torch)."""

from __future__ import annotations

from types import ModuleType
from typing import Any
from typing import TYPE_CHECKING

import optuna

from optuna_srprune._imports import try_import
from optuna_srprune.visualization._study import pareto_front
from optuna_srprune.visualization._study import trial_points
from optuna_srprune.visualization._study import TrialPoint

if TYPE_CHECKING:
    import plotly.graph_objects as go

_FEASIBLE = "#1f77b4"
_INFEASIBLE = "#b0b0b0"
_FRONT = "#d62728"


def _si(value: float, unit: str) -> str:
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.2f} {prefix}{unit}".rstrip()
    return f"{value:g} {unit}".rstrip()


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def hover_text(point: TrialPoint) -> str:
    """The hover label of one trial (HTML, as plotly shows it)."""
    lines = [
        f"<b>Trial {point.number}</b>" + ("" if point.feasible else " (over budget)"),
        point.summary or "(no config recorded)",
        f"PSNR: {point.psnr:.3f} dB" + (f", SSIM {point.ssim:.4f}" if point.ssim is not None else ""),
        f"Predicted latency: {point.latency_ms:.3f} ms",
    ]
    if point.measured_ms is not None:
        lines.append(f"Measured latency: {point.measured_ms:.3f} ms")
    if point.macs is not None:
        lines.append(f"MACs: {_si(point.macs, '')}")
    if point.params is not None:
        lines.append(f"Params: {_si(point.params, '')}")
    return "<br>".join(lines)


def _scatter(go: ModuleType, points: list[TrialPoint], name: str, **style: Any) -> Any:
    return go.Scatter(
        x=[p.latency_ms for p in points],
        y=[p.psnr for p in points],
        customdata=[p.number for p in points],
        hovertext=[hover_text(p) for p in points],
        hoverinfo="text",
        name=name,
        **style,
    )


def plot_pareto_front(study: optuna.Study, budget_ms: float | None = None) -> go.Figure:
    """Plot PSNR against latency for the complete trials of a study made by optuna-srprune.

    Feasible trials (within the latency budget) are blue, infeasible ones grey crosses; the Pareto
    front of the feasible trials is joined by a staircase (each step is the best PSNR for any latency
    up to the next point); the budget is a dashed vertical line. Hovering a point shows the trial
    number, its network, PSNR, predicted and (when ``export`` measured it) measured latency, MACs and
    parameters. Needs plotly, not torch.

    Example:

        .. code::

            import optuna
            from optuna_srprune.visualization import plot_pareto_front

            study = optuna.load_study(study_name="x2", storage="sqlite:///srprune.db")
            plot_pareto_front(study).show()

    Args:
        study: A study made by ``optuna-srprune search`` (PSNR maximised, latency minimised).
        budget_ms: The budget to draw and judge feasibility by; ``None``: the study's own budget (as its
            trials recorded it), if it has one.

    Returns:
        A :class:`plotly.graph_objects.Figure`.

    Raises:
        StudyError: The study was not made by optuna-srprune, or has no complete trial.
    """
    go = try_import("plotly.graph_objects")
    points, budget = trial_points(study, budget_ms)
    feasible = [p for p in points if p.feasible]
    infeasible = [p for p in points if not p.feasible]
    front = pareto_front(points)

    fig = go.Figure()
    fig.add_trace(_scatter(go, feasible, "Feasible", mode="markers", marker={"color": _FEASIBLE, "size": 7}))
    if infeasible:
        fig.add_trace(
            _scatter(
                go,
                infeasible,
                "Infeasible (over budget)",
                mode="markers",
                marker={"color": _INFEASIBLE, "size": 7, "symbol": "x"},
            )
        )
    if front:
        fig.add_trace(
            _scatter(
                go,
                front,
                "Pareto front",
                mode="lines+markers",
                line={"color": _FRONT, "shape": "hv", "width": 2},
                marker={"color": _FRONT, "size": 9, "line": {"color": "white", "width": 1}},
            )
        )
    if budget is not None:
        fig.add_vline(
            x=budget,
            line={"color": "black", "dash": "dash", "width": 1.5},
            annotation_text=f"budget {budget:g} ms",
            annotation_position="top left",
        )
    fig.update_layout(
        title=f"{study.study_name}: {_plural(len(front), 'trial')} on the Pareto front, "
        + (
            f"{len(feasible)} of {len(points)} within the budget"
            if budget is not None
            else f"{len(points)} complete"
        ),
        xaxis_title="Latency (ms, predicted)",
        yaxis_title="PSNR (dB)",
        hovermode="closest",
        template="plotly_white",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
    )
    return fig
