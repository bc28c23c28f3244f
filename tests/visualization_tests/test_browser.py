"""In real headless Chromium: a searched study in optuna-dashboard, and the HTML report.

Chromium runs with ``--dump-dom`` after a virtual-time budget (the page's scripts and its requests to
the local server have run by then) and ``--screenshot``; nothing is fetched beyond 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
from pathlib import Path
import re
import socketserver
import subprocess
import threading
from wsgiref.simple_server import make_server
from wsgiref.simple_server import WSGIRequestHandler
from wsgiref.simple_server import WSGIServer

import optuna
import pytest

from optuna_srprune.cli import main

pytestmark = pytest.mark.browser


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def _dashboard(storage_url: str) -> Iterator[str]:
    """optuna-dashboard (the app ``optuna-dashboard URL`` serves) on a free port of 127.0.0.1."""
    optuna_dashboard = pytest.importorskip("optuna_dashboard")
    server = make_server(
        "127.0.0.1", 0, optuna_dashboard.wsgi(storage_url), server_class=_Server, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _chromium(chromium: str, url: str, profile: Path, *args: str) -> str:
    command = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}", "--window-size=1400,2200",
        "--virtual-time-budget=20000", *args, url,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _rendered(chromium: str, url: str, profile: Path, expected: str) -> str:
    """The DOM after the page's scripts ran; tried again (up to 3 times) while ``expected`` is missing."""
    dom = ""
    for _ in range(3):
        dom = _chromium(chromium, url, profile, "--dump-dom")
        if expected in dom:
            break
    return dom


def _text(dom: str) -> str:
    return re.sub(r"<[^>]+>", " ", dom)


def test_searched_study_in_optuna_dashboard(chromium: str, searched_study, tmp_path: Path) -> None:
    study = optuna.load_study(study_name=searched_study.name, storage=searched_study.url)
    infeasible = [t.number for t in study.trials if max(t.constraints.values()) > 0]
    assert infeasible and len(infeasible) < len(study.trials)
    profile = tmp_path / "profile"
    with _dashboard(searched_study.url) as base:
        page = f"{base}/dashboard/studies/{study._study_id}"
        dom = _rendered(chromium, page, profile, "Best Trials")
        text = _text(dom)
        assert f"{searched_study.name} (id={study._study_id})" in text  # the breadcrumb names it
        assert "PSNR (dB)" in text and "Latency (ms)" in text  # objectives named
        assert "Pareto Front" in text and "Infeasible" in text  # the dashboard's front, legend included
        for trial in study.best_trials:
            assert f"Trial {trial.number}" in text
        assert f"{searched_study.name}: " in text and "on the Pareto front" in text  # our figure
        assert dom.count("js-plotly-plot") >= 2

        trials = _text(_rendered(chromium, f"{page}/trials", profile, "Trial 0"))
        for trial in study.trials:
            assert f"Trial {trial.number}" in trials

        screenshot = tmp_path / "dashboard.png"
        _chromium(chromium, page, profile, f"--screenshot={screenshot}")
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 20_000


def test_report_renders_in_chromium(chromium: str, searched_study, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    argv = ["report", "--storage", searched_study.url, "--study", searched_study.name, "--out", str(out)]
    assert main(argv) == 0
    dom = _rendered(chromium, out.as_uri(), tmp_path / "profile", "main-svg")
    assert "js-plotly-plot" in dom and "main-svg" in dom  # plotly drew the figure
    study = optuna.load_study(study_name=searched_study.name, storage=searched_study.url)
    assert len(re.findall(r'class="point[ "]', dom)) >= len(study.trials)  # every trial is a point
    assert "Image comparison" in dom
    screenshot = tmp_path / "report.png"
    _chromium(chromium, out.as_uri(), tmp_path / "profile", f"--screenshot={screenshot}")
    assert screenshot.stat().st_size > 20_000
