"""LatencyAwareSampler on a MACs-based latency model: runs in seconds, no torch, no calibration.

Every trial is a super-resolution network (depth, block types, trunk width, per-layer pruning) that
the sampler proposes only if its predicted latency fits the budget. The latency model here is
linear in the network's multiply-accumulates at 720p output; in real use it is optuna-srprune's
``LatencyPredictor``, calibrated on the back-end you deploy to, and the first objective is the
PSNR that the weight-sharing supernet gives the network (``optuna_srprune.objective``).
"""

from __future__ import annotations

import optuna
import optunahub

from optuna_srprune.config import count_macs
from optuna_srprune.config import count_params
from optuna_srprune.config import lr_size
from optuna_srprune.config import SubnetConfig
from optuna_srprune.search_space import SRSearchSpace

BUDGET_MS = 100.0


class MacsLatency:
    """Latency in ms at 720p output: a fixed overhead plus a cost per GMAC.

    The constants are of the order of ONNX Runtime on 2 CPU cores, where the median network of the
    x2 space takes about 100 ms. Anything with ``predict(config) -> milliseconds`` works as the
    sampler's latency model.
    """

    def __init__(self, ms_per_gmac: float = 15.0, overhead_ms: float = 5.0) -> None:
        self.ms_per_gmac = ms_per_gmac
        self.overhead_ms = overhead_ms

    def predict(self, config: SubnetConfig) -> float:
        macs = count_macs(config, *lr_size(720, 1280, config.scale))
        return self.overhead_ms + self.ms_per_gmac * macs / 1e9


def main() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    module = optunahub.load_module("samplers/srprune_latency_aware")
    space = SRSearchSpace(scale=2)
    latency = MacsLatency()
    sampler = module.LatencyAwareSampler(space, latency, budget_ms=BUDGET_MS, seed=0)

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        config = space.suggest(trial)
        # A stand-in for PSNR that needs no supernet: bigger networks score higher.
        return float(count_params(config)), latency.predict(config)

    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    study.optimize(objective, n_trials=30)

    slowest = max(trial.values[1] for trial in study.trials)
    print(f"{len(study.trials)} trials, the slowest predicted at {slowest:.1f} ms", end="")
    print(f" (budget {BUDGET_MS:.0f} ms)")
    print("largest networks found:")
    for trial in sorted(study.trials, key=lambda t: -t.values[0])[:3]:
        config = space.decode(trial.params)
        print(f"  {config.summary()}: {trial.values[0]:.0f} params, {trial.values[1]:.1f} ms")


if __name__ == "__main__":
    main()
