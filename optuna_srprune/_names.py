"""Names of the study and trial attributes optuna-srprune records, and the objectives' directions.

Torch-free, so every level reads them from here: the objective and the orchestration write them, the
visualization and export read them. Names are namespaced (``srprune:...``) so they sit beside a
user's own.
"""

from __future__ import annotations

from typing import Literal

# Study user attributes.
SETTINGS = "srprune:settings"  # the search settings (JSON)
EXPORT_PREFIX = "srprune:export:"  # + trial number: what ``export`` measured of that trial (JSON)

# Trial user attributes.
CONFIG = "srprune:config"
SUMMARY = "srprune:summary"
PSNR = "srprune:psnr"
SSIM = "srprune:ssim"
LATENCY_MS = "srprune:latency_ms"
MEASURED_MS = "srprune:measured_ms"
MACS = "srprune:macs"
PARAMS = "srprune:params"
BUDGET_MS = "srprune:budget_ms"
DUPLICATE_OF = "srprune:duplicate_of"  # number of the trial whose evaluation of this network was reused

OBJECTIVE_NAMES = ("PSNR (dB)", "Latency (ms)")
DIRECTIONS: tuple[Literal["maximize", "minimize"], ...] = ("maximize", "minimize")
