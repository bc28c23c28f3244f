"""``plot_pareto_front``: feasible and infeasible trials, the front as a staircase, the budget, hover."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys
import textwrap

import optuna
import pytest

from optuna_srprune.exceptions import StudyError
from optuna_srprune.visualization import pareto_front
from optuna_srprune.visualization import plot_pareto_front
from optuna_srprune.visualization import spread_over_latency
from optuna_srprune.visualization import trial_points
from optuna_srprune.visualization import TrialPoint

# (PSNR, latency): with a 10 ms budget, 0, 2 and 4 make the front; 1 and 3 are dominated (3 ties 2's
# PSNR but is slower); 5 and 6 are over budget (5 would lead the front without a budget).
POINTS = [(30.0, 2.0), (29.0, 3.0), (31.0, 5.0), (31.0, 6.0), (32.0, 9.0), (33.0, 12.0), (28.0, 15.0)]


def _trace(figure: object, name: str) -> object:
    traces = [t for t in figure.data if t.name == name]  # type: ignore[attr-defined]
    assert len(traces) == 1, [t.name for t in figure.data]  # type: ignore[attr-defined]
    return traces[0]


def test_feasible_infeasible_front_and_budget(make_study) -> None:
    study = make_study(POINTS, budget_ms=10.0)
    figure = plot_pareto_front(study)

    feasible = _trace(figure, "Feasible")
    assert list(feasible.customdata) == [0, 1, 2, 3, 4]
    assert list(feasible.x) == [p[1] for p in POINTS[:5]] and list(feasible.y) == [p[0] for p in POINTS[:5]]
    assert list(_trace(figure, "Infeasible (over budget)").customdata) == [5, 6]
    front = _trace(figure, "Pareto front")
    assert list(front.customdata) == [0, 2, 4]
    assert front.line.shape == "hv"  # a staircase: best PSNR for any latency up to the next point
    assert [t.number for t in sorted(study.best_trials, key=lambda t: t.values[1])] == [0, 2, 4]

    (line,) = figure.layout.shapes
    assert line.x0 == line.x1 == 10.0 and line.line.dash == "dash"
    assert any("budget 10 ms" in a.text for a in figure.layout.annotations)
    assert (
        figure.layout.xaxis.title.text.startswith("Latency") and figure.layout.yaxis.title.text == "PSNR (dB)"
    )


def test_hover_names_the_trial_and_its_network(make_study) -> None:
    study = make_study(POINTS, budget_ms=10.0, measured_ms={2: 4.5})
    figure = plot_pareto_front(study)
    hover = dict(zip(_trace(figure, "Pareto front").customdata, _trace(figure, "Pareto front").hovertext))
    assert "Trial 2" in hover[2] and "x2 w10 [edsr4]" in hover[2]
    assert "Predicted latency: 5.000 ms" in hover[2] and "Measured latency: 4.500 ms" in hover[2]
    assert "MACs:" in hover[2] and "Params:" in hover[2] and "PSNR: 31.000 dB" in hover[2]
    assert "Measured" not in hover[4]  # only where export measured it
    infeasible = _trace(figure, "Infeasible (over budget)").hovertext
    assert all("over budget" in text for text in infeasible)


def test_an_explicit_budget_judges_by_latency(make_study) -> None:
    figure = plot_pareto_front(make_study(POINTS, budget_ms=10.0), budget_ms=5.5)
    assert list(_trace(figure, "Pareto front").customdata) == [0, 2]
    assert list(_trace(figure, "Infeasible (over budget)").customdata) == [3, 4, 5, 6]
    assert figure.layout.shapes[0].x0 == 5.5
    with pytest.raises(StudyError, match="must be positive"):
        plot_pareto_front(make_study(POINTS), budget_ms=0)


def test_a_study_without_budget(make_study) -> None:
    figure = plot_pareto_front(make_study(POINTS, budget_ms=None))
    assert list(_trace(figure, "Pareto front").customdata) == [0, 2, 4, 5]
    assert "Infeasible (over budget)" not in [t.name for t in figure.data]
    assert not figure.layout.shapes


def test_a_study_not_made_by_srprune() -> None:
    study = optuna.create_study(study_name="plain", directions=["maximize", "minimize"])
    study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=2)
    with pytest.raises(StudyError, match="'plain' was not made by `optuna-srprune search`"):
        plot_pareto_front(study)
    single = optuna.create_study(study_name="single")
    with pytest.raises(StudyError, match="not made by"):
        plot_pareto_front(single)


def test_a_study_without_complete_trials(make_study) -> None:
    study = make_study([], budget_ms=10.0, name="empty")
    study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)
    with pytest.raises(StudyError, match="'empty' has no complete trials yet"):
        plot_pareto_front(study)


def test_pareto_front_keeps_exact_ties() -> None:
    points = [TrialPoint(i, psnr, lat, True, "") for i, (psnr, lat) in enumerate([(30, 1), (30, 1), (29, 2)])]
    assert [p.number for p in pareto_front(points)] == [0, 1]


def test_spread_over_latency(make_study) -> None:
    points, _ = trial_points(make_study(POINTS, budget_ms=None))
    front = pareto_front(points)
    assert [p.number for p in spread_over_latency(front, 3)] == [0, 4, 5]
    assert [p.number for p in spread_over_latency(front, 1)] == [5]  # the best within the budget
    assert [p.number for p in spread_over_latency(front, 9)] == [0, 2, 4, 5]
    assert spread_over_latency(front, 0) == []


def test_measured_latency_from_an_export_record(make_study) -> None:
    """``export`` records what it measured on the study (a finished trial cannot change)."""
    study = make_study(POINTS, budget_ms=10.0)
    study.set_user_attr("srprune:export:4", json.dumps({"measured_ms": 8.25, "psnr": 32.5}))
    study.set_user_attr("srprune:export:oops", "not json")  # ignored
    points = {p.number: p for p in trial_points(study)[0]}
    assert points[4].measured_ms == 8.25 and points[2].measured_ms is None
    hover = dict(
        zip(
            _trace(plot_pareto_front(study), "Feasible").customdata,
            _trace(plot_pareto_front(study), "Feasible").hovertext,
        )
    )
    assert "Measured latency: 8.250 ms" in hover[4]


def test_works_without_torch(make_study, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    make_study(POINTS, budget_ms=10.0, storage=url, name="s")
    code = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        import optuna
        from optuna_srprune.visualization import ImageComparison, plot_pareto_front
        from optuna_srprune.visualization import save_to_dashboard, write_report

        study = optuna.load_study(study_name="s", storage={url!r})
        plot_pareto_front(study)
        image = np.random.default_rng(0).random((64, 64, 3))
        comparison = ImageComparison("noise", 2, image, image * 0.9, {{"Trial 0": image * 0.95}})
        write_report(study, {str(tmp_path / "report.html")!r}, comparison)
        save_to_dashboard(study)
        assert "torch" not in sys.modules, "torch was imported"
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "report.html").stat().st_size > 1_000_000  # plotly.js inline
