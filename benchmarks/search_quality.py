"""Search quality of the latency-aware sampler against Random, NSGA-II, TPE and GP.

100 trials on the x2 space at 720p output, the latency predicted on ONNX Runtime (2 threads), with a
budget at the median predicted latency of random subnets (so about half of the space violates it),
3 seeds. Samplers: ``latency-aware`` (this package), ``random``, ``nsga2`` (population 20), ``tpe``
(multivariate), ``tpe-default`` (Optuna 5's default TPE: constant liar on) and ``gp`` (GPSampler,
constrained multi-objective since Optuna 4.5; it reads the constraint from ``trial.set_constraint``).
For each sampler: the share of trials over budget, the share of trials that repeated a network an
earlier trial of the run had (decoded configs, so ratios that round alike are one network; a
repeat costs no evaluation, see ``SRPruneObjective``, but buys nothing either), and the hypervolume
of the feasible Pareto front (PSNR up, latency down) against the reference point (bicubic PSNR on
the validation set, the budget). All samplers share one evaluator cache, so a config is scored once.

Needs a quiet machine at full size. A tiny run, to check that it works (a few minutes):

    python benchmarks/search_quality.py --trials 6 --seeds 0 --hr-size 32x32 \
        --storage sqlite:////tmp/sq.db --out search_quality_tiny.json

Usage:
    python benchmarks/search_quality.py [--trials 100] [--seeds 0 1 2] [--supernet default|CKPT]
        [--storage sqlite:///benchmarks/results/latency_tables.db] [--samplers NAME...]
        [--hr-size 720x1280] [--data DIR] [--out search_quality.json]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from _report import write_json
import numpy as np
import optuna

from optuna_srprune.cli._common import hr_size
from optuna_srprune.config import SubnetConfig
from optuna_srprune.data import imresize
from optuna_srprune.data import ValidationSet
from optuna_srprune.evaluation import SupernetEvaluator
from optuna_srprune.metrics import psnr_torch
from optuna_srprune.objective import config_of
from optuna_srprune.objective import SRPruneObjective
from optuna_srprune.orchestration import load_predictor
from optuna_srprune.orchestration import load_supernet
from optuna_srprune.samplers import LatencyAwareSampler


def hypervolume(points: list[tuple[float, float]], ref_psnr: float, budget: float) -> float:
    """Area dominated by (psnr, latency) points within psnr >= ref_psnr, latency <= budget."""
    inside = sorted((lat, p) for p, lat in points if p > ref_psnr and lat < budget)
    area, best = 0.0, ref_psnr
    # Sweep by increasing latency; between two points the dominated height is the best PSNR so far.
    edges = [lat for lat, _ in inside] + [budget]
    for (lat, p), next_lat in zip(inside, edges[1:]):
        best = max(best, p)
        area += (next_lat - lat) * (best - ref_psnr)
    return area


def bicubic_psnr(val: ValidationSet) -> float:
    values = [
        psnr_torch(imresize(pair.lr, scale=val.scale).clamp(0, 1), pair.hr, val.scale, pair.is_gray)
        for pair in val
    ]
    return statistics.mean(values)


SAMPLERS = ("latency-aware", "random", "nsga2", "tpe", "tpe-default", "gp")


def make_sampler(name: str, seed: int, objective: SRPruneObjective, budget: float) -> Any:
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(population_size=20, seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    if name == "tpe-default":  # Optuna 5's defaults, constant liar included
        return optuna.samplers.TPESampler(seed=seed)
    if name == "gp":  # constraints from trial.set_constraint (recorded by the objective)
        return optuna.samplers.GPSampler(seed=seed)
    return LatencyAwareSampler(objective.space, objective.predictor, budget, seed=seed)


def repeated_share(networks: list[SubnetConfig]) -> float:
    """Share of ``networks`` (in trial order) that an earlier one already was."""
    return (len(networks) - len(set(networks))) / len(networks) if networks else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--supernet", default="default")
    parser.add_argument("--storage", default="sqlite:///benchmarks/results/latency_tables.db")
    parser.add_argument("--samplers", nargs="+", default=list(SAMPLERS), choices=SAMPLERS)
    parser.add_argument("--hr-size", type=hr_size, default=(720, 1280), metavar="HxW")
    parser.add_argument("--data", help="folder of HR validation images (default: embedded Set5)")
    parser.add_argument("--out", default="search_quality.json", help="file name in benchmarks/results")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    supernet = load_supernet(2, args.supernet)
    space = supernet.space
    predictor = load_predictor(space, args.storage, hr_size=args.hr_size)
    rng = np.random.default_rng(12345)
    sampled = [predictor.predict(space.sample(rng)) for _ in range(2000)]
    budget = float(np.median(sampled))
    evaluator = SupernetEvaluator(supernet, args.data)
    reference = bicubic_psnr(evaluator.val_data)
    objective = SRPruneObjective(space, evaluator, predictor, budget_ms=budget)

    runs: dict[str, list[dict[str, float]]] = {name: [] for name in args.samplers}
    for seed in args.seeds:
        for name in args.samplers:
            start = time.perf_counter()
            sampler = make_sampler(name, seed, objective, budget)
            study = optuna.create_study(directions=objective.directions, sampler=sampler)
            study.optimize(objective, n_trials=args.trials)
            trials = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
            values = [tuple(t.values) for t in trials]
            over = sum(lat > budget for _, lat in values) / len(values)
            repeated = repeated_share([config_of(t) for t in trials])
            feasible = [(p, lat) for p, lat in values if lat <= budget]
            hv = hypervolume(feasible, reference, budget)
            runs[name].append(
                {
                    "seed": seed,
                    "over_budget": over,
                    "repeated": repeated,
                    "hypervolume": hv,
                    "seconds": time.perf_counter() - start,
                }
            )
            print(
                f"seed {seed} {name:>13}: over budget {over:6.1%}  repeated {repeated:6.1%}  HV {hv:8.3f}",
                flush=True,
            )

    summary = {
        name: {
            "over_budget_mean": statistics.mean(r["over_budget"] for r in rs),
            "repeated_mean": statistics.mean(r["repeated"] for r in rs),
            "hypervolume_mean": statistics.mean(r["hypervolume"] for r in rs),
        }
        for name, rs in runs.items()
    }
    path = write_json(
        args.out,
        {
            "trials": args.trials,
            "hr_size": list(args.hr_size),
            "samplers": args.samplers,
            "seeds": args.seeds,
            "budget_ms": budget,
            "reference_psnr": reference,
            "space_over_budget": float(np.mean(np.array(sampled) > budget)),
            "summary": summary,
            "runs": runs,
        },
    )
    for name, s in summary.items():
        print(
            f"{name:>13}: over budget {s['over_budget_mean']:6.1%}  repeated {s['repeated_mean']:6.1%}  "
            f"HV {s['hypervolume_mean']:8.3f}"
        )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
