"""Saving our Pareto figure into a study, where optuna-dashboard shows it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import optuna

from optuna_srprune._imports import try_import
from optuna_srprune.visualization._pareto import plot_pareto_front

if TYPE_CHECKING:
    import plotly.graph_objects as go

# A fixed id, so that saving again replaces the figure instead of adding one more.
DASHBOARD_FIGURE_ID = "srprune-pareto-front"


def save_to_dashboard(study: optuna.Study, figure: go.Figure | None = None) -> str:
    """Save the Pareto figure into the study, so ``optuna-dashboard`` shows it on the study's page.

    ``search``, ``worker`` and ``report`` call it at the end of a run; saving again replaces the
    figure. The dashboard also shows the study's own Pareto front with the objectives named and
    over-budget trials as infeasible (from what the objective records).

    Example:

        .. code::

            import optuna
            from optuna_srprune.visualization import save_to_dashboard

            study = optuna.load_study(study_name="x2", storage="sqlite:///srprune.db")
            save_to_dashboard(study)  # then: optuna-dashboard sqlite:///srprune.db

    Args:
        study: A study made by ``optuna-srprune search``.
        figure: The figure to save; ``None``: :func:`plot_pareto_front` of the study.

    Returns:
        The id of the saved figure in the study.

    Raises:
        MissingDependencyError: optuna-dashboard is not installed (``pip install
            'optuna-srprune[dashboard]'``).
        StudyError: The study was not made by optuna-srprune, or has no complete trial.
    """
    dashboard = try_import("optuna_dashboard")
    if figure is None:
        figure = plot_pareto_front(study)
    graph_id: str = dashboard.save_plotly_graph_object(study, figure, graph_object_id=DASHBOARD_FIGURE_ID)
    return graph_id
