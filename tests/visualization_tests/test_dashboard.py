"""``save_to_dashboard``: our Pareto figure stored where optuna-dashboard reads it."""

from __future__ import annotations

import json
import sys

import pytest

from optuna_srprune.exceptions import MissingDependencyError
from optuna_srprune.visualization import save_to_dashboard

POINTS = [(30.0, 2.0), (31.0, 5.0), (33.0, 12.0)]
_PREFIX = "dashboard:plot_data:"


def _saved_figures(study: object) -> dict[str, dict[str, object]]:
    attrs = study._storage.get_study_system_attrs(study._study_id)  # type: ignore[attr-defined]
    chunks: dict[str, list[tuple[int, str]]] = {}
    for key, value in attrs.items():
        if key.startswith(_PREFIX):
            graph_id, index = key[len(_PREFIX) :].rsplit(":", 1)
            chunks.setdefault(graph_id, []).append((int(index), value))
    return {g: json.loads("".join(v for _, v in sorted(c))) for g, c in chunks.items()}


def test_the_figure_is_saved_once(make_study) -> None:
    pytest.importorskip("optuna_dashboard")
    study = make_study(POINTS, budget_ms=10.0)
    graph_id = save_to_dashboard(study)
    save_to_dashboard(study)  # again: replaced, not added
    figures = _saved_figures(study)
    assert list(figures) == [graph_id]
    names = [trace.get("name") for trace in figures[graph_id]["data"]]  # type: ignore[union-attr]
    assert names == ["Feasible", "Infeasible (over budget)", "Pareto front"]


def test_without_optuna_dashboard(make_study, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "optuna_dashboard", None)  # makes the import fail
    with pytest.raises(MissingDependencyError, match=r"pip install optuna-srprune\[dashboard\]"):
        save_to_dashboard(make_study(POINTS))
