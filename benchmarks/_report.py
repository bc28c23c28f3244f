"""What every benchmark writes beside its figures: the command, the machine and the date."""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path
import platform
import sys
from typing import Any

from optuna_srprune.latency import cpu_model

RESULTS = Path(__file__).resolve().parent / "results"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def provenance() -> dict[str, Any]:
    """Command line, machine, load and date of this run."""
    import torch

    return {
        "command": "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:]),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{cpu_model()}, {os.cpu_count()} logical CPUs",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }


def write_json(name: str, figures: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps({**provenance(), **figures}, indent=2, sort_keys=True) + "\n")
    return path
