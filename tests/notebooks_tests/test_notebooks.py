"""The notebooks run from top to bottom, with small settings put in their ``parameters`` cell."""

from __future__ import annotations

from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _run(name: str, parameters: str, workdir: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    cells = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{name} needs exactly one cell tagged 'parameters'"
    cells[0].source = parameters
    nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    ).execute()
    return notebook


def _text(notebook: nbformat.NotebookNode) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


@pytest.mark.slow
def test_quickstart_notebook(tmp_path: Path) -> None:
    parameters = f'HR_SIZE = (48, 64)\nBUDGET_MS = 1.0\nN_TRIALS = 6\nSTORAGE = "sqlite:///{tmp_path}/nb.db"'
    text = _text(_run("01_quickstart.ipynb", parameters, tmp_path))
    assert "latency-aware: 0 of 6 trials over the budget" in text


@pytest.mark.slow
def test_pareto_and_export_notebook(tmp_path: Path) -> None:
    parameters = (
        f'STORAGE = "sqlite:///{tmp_path}/nb.db"\nSTUDY = "nb"\nHR_SIZE = "48x64"\nBUDGET_MS = 1.0\n'
        f'N_TRIALS = 6\nFINETUNE_STEPS = 2\nDATA = []\nOUT = "{tmp_path}/exported"'
    )
    notebook = _run("02_pareto_and_export.ipynb", parameters, tmp_path)
    text = _text(notebook)
    assert "after fine-tuning" in text and "measured_ms" in text
    assert "bicubic | exported network | original" in text
    assert (tmp_path / "exported" / "model.onnx").is_file()
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the upscaled crops are shown"
    assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs), "the front is plotted"


@pytest.mark.slow
def test_distributed_notebook(tmp_path: Path) -> None:
    parameters = (
        f'STORAGE = "sqlite:///{tmp_path}/nb.db"\nSTUDY = "nb"\nHR_SIZE = "48x64"\nBUDGET_MS = 1.0\n'
        "N_TRIALS = 8\nN_WORKERS = 2"
    )
    text = _text(_run("03_distributed.ipynb", parameters, tmp_path))
    assert "'COMPLETE': 8" in text
    assert "8 complete in the study" in text
