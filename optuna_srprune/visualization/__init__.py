"""Pareto fronts of a study as plotly figures, the HTML report, and optuna-dashboard (no torch).

Example:

    .. code::

        import optuna
        from optuna_srprune.visualization import plot_pareto_front, save_to_dashboard, write_report

        study = optuna.load_study(study_name="x2", storage="sqlite:///srprune.db")
        plot_pareto_front(study).show()
        write_report(study, "report.html")
        save_to_dashboard(study)
"""

from __future__ import annotations

from optuna_srprune.visualization._dashboard import save_to_dashboard
from optuna_srprune.visualization._pareto import plot_pareto_front
from optuna_srprune.visualization._report import check_output_path
from optuna_srprune.visualization._report import choose_crops
from optuna_srprune.visualization._report import ImageComparison
from optuna_srprune.visualization._report import write_report
from optuna_srprune.visualization._study import pareto_front
from optuna_srprune.visualization._study import spread_over_latency
from optuna_srprune.visualization._study import trial_points
from optuna_srprune.visualization._study import TrialPoint

__all__ = [
    "ImageComparison",
    "TrialPoint",
    "check_output_path",
    "choose_crops",
    "pareto_front",
    "plot_pareto_front",
    "save_to_dashboard",
    "spread_over_latency",
    "trial_points",
    "write_report",
]
