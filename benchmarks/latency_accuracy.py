"""Accuracy of the latency predictor against end-to-end measurements, beside a MACs-based model.

For each back-end and scale: calibrate the default search space (timed), draw ``--subnets`` random
subnets, measure each end to end (chunks of subnets interleaved round-robin, ``--repeats`` runs each),
and compare with ``LatencyPredictor`` and with a linear MACs model fitted on the same measurements.
Also measures the fusion probes and the prediction time. Writes JSON, Markdown and plotly HTML to
``--out`` with the command, machine and date.

Issue 14's acceptance, point 5: at 1 thread (where a network's median repeats within ~1%), the
share of predictions within +-10% and +-5% of the measured median and Spearman's rank correlation;
at 2 threads (where it repeats within 10% for only 90-93% of networks here), the ground truth's own
test-retest rate beside the predictor's: the same networks timed in a second, independent pass
(fresh sessions, another order), and the share of networks whose two medians agree within 10% / 5%.
``--retest auto`` does the second pass at more than one thread; ``on``/``off`` force it. Residuals
(predicted / measured - 1) are correlated with depth, width, MACs and block kinds, to say what a
configuration that falls short misses.

Run (the acceptance setting, on a quiet machine; each thread count gets its own files)::

    python benchmarks/latency_accuracy.py --subnets 100 --threads 1 2 --note "quiet"

A tiny smoke run (seconds to minutes; writes to a scratch folder)::

    python benchmarks/latency_accuracy.py --subnets 6 --hr-size 96x160 --scales 2 \
        --backends onnxruntime --threads 1 2 --no-fusion --accept-noise --out /tmp/acc --storage sqlite://
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
from pathlib import Path
import platform
import shlex
import sys
import time
from typing import Any

import numpy as np
from scipy import stats

from optuna_srprune.config import count_macs
from optuna_srprune.config import layer_specs
from optuna_srprune.config import lr_size
from optuna_srprune.latency import calibrate
from optuna_srprune.latency import cpu_model
from optuna_srprune.latency import detect_fusion
from optuna_srprune.latency import fit_overhead
from optuna_srprune.latency import LatencyPredictor
from optuna_srprune.latency import LatencyTable
from optuna_srprune.latency import make_backend
from optuna_srprune.search_space import SRSearchSpace

# Acceptance of issue 14 (point 5) at 1 thread, for ONNX Runtime; torch: >= 95% within 10%.
TARGETS_1_THREAD = {"within_10pct": 99.0, "within_5pct": 90.0, "spearman": 0.99}
# At 2 threads the predictor must be within this many points of the ground truth's test-retest rate.
RETEST_MARGIN_POINTS = 3.0


def _within(pred: np.ndarray, meas: np.ndarray, tol: float = 0.10) -> float:
    return float(np.mean(np.abs(pred - meas) <= tol * meas) * 100)


def _scores(pred: np.ndarray, meas: np.ndarray) -> dict[str, float]:
    return {
        "within_10pct": _within(pred, meas),
        "within_5pct": _within(pred, meas, 0.05),
        "spearman": float(stats.spearmanr(pred, meas).statistic),
        "rmspe_pct": float(np.sqrt(np.mean(((pred - meas) / meas) ** 2)) * 100),
    }


def _measure(
    backend: Any, configs: list, lr: tuple[int, int], repeats: int, chunk: int, order_seed: int | None = None
) -> list[Any]:
    """End-to-end timings of ``configs`` (in their order), measured in chunks interleaved round-robin.

    With ``order_seed`` the networks are measured in a shuffled order (an independent pass: other
    neighbours, fresh sessions), and the timings returned in the order of ``configs``.
    """
    order = list(range(len(configs)))
    if order_seed is not None:
        np.random.default_rng(order_seed).shuffle(order)
    timings: dict[int, Any] = {}
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        networks = [layer_specs(configs[i], *lr) for i in part]
        measured = backend.measure_networks(networks, configs[0].scale, warmup=2, repeats=repeats)
        timings.update(zip(part, measured))
        print(f"  measured {start + len(part)}/{len(configs)}", file=sys.stderr, flush=True)
    return [timings[i] for i in range(len(configs))]


def _residual_correlations(configs: list, lr: tuple[int, int], pred: np.ndarray, meas: np.ndarray) -> dict:
    """Spearman correlation of the residual (pred / meas - 1) with what a network is made of."""
    residual = pred / meas - 1
    features: dict[str, list[float]] = {
        "depth": [len(c.blocks) for c in configs],
        "width": [c.width for c in configs],
        "macs": [count_macs(c, *lr) for c in configs],
        "measured_ms": list(meas),
    }
    for kind in sorted({b.kind for c in configs for b in c.blocks}):
        features[f"blocks_{kind}"] = [sum(b.kind == kind for b in c.blocks) for c in configs]
    out = {}
    for name, values in features.items():
        rho = stats.spearmanr(values, residual).statistic if len(set(values)) > 1 else float("nan")
        out[name] = None if np.isnan(rho) else round(float(rho), 3)
    return out


def _retest(first: list[Any], second: list[Any], pred: np.ndarray) -> dict[str, Any]:
    """The ground truth's own repeatability beside the predictor's agreement with it."""
    a = np.array([t.median_ms for t in first])
    b = np.array([t.median_ms for t in second])
    return {
        "retest_within_10pct": _within(b, a),
        "retest_within_5pct": _within(b, a, 0.05),
        "retest_spearman": float(stats.spearmanr(a, b).statistic),
        "predictor_vs_second_pass": _scores(pred, b),
        "predictor_vs_mean_of_passes": _scores(pred, (a + b) / 2),
    }


def _prediction_time_us(predictor: LatencyPredictor, space: SRSearchSpace) -> float:
    rng = np.random.default_rng(123)
    configs = [space.sample(rng) for _ in range(1000)]
    samples = []
    for config in configs:  # distinct configs: no per-config cache hit
        start = time.perf_counter()
        predictor.predict(config)
        samples.append((time.perf_counter() - start) * 1e6)
    return float(np.median(samples))


def run_case(args: argparse.Namespace, backend_name: str, scale: int, threads: int) -> dict[str, Any]:
    backend = make_backend(backend_name, threads)
    space = SRSearchSpace(scale=scale)
    table = LatencyTable(args.storage, backend.fingerprint())
    lr = lr_size(*args.hr_size, scale)
    extra = {} if args.calib_repeats is None else {"repeats": args.calib_repeats}
    max_noise = math.inf if args.accept_noise else None
    report = calibrate(backend, table, space, args.hr_size, refit=True, max_noise=max_noise, **extra)
    predictor = LatencyPredictor(table, hr_size=args.hr_size, backend=backend)
    rng = np.random.default_rng(args.seed + scale)
    configs = [space.sample(rng) for _ in range(args.subnets)]
    timings = _measure(backend, configs, lr, args.repeats, args.chunk)
    retest = args.retest == "on" or (args.retest == "auto" and threads > 1)
    second = (
        _measure(backend, configs, lr, args.repeats, args.chunk, order_seed=args.seed + 1) if retest else None
    )
    meas = np.array([t.median_ms for t in timings])
    pred = np.array([predictor.predict(c) for c in configs])
    macs = np.array([count_macs(c, *lr) for c in configs], float)
    intercept, slope = fit_overhead(list(macs), list(meas))  # same relative least squares
    macs_pred = intercept + slope * macs
    noise = np.array([t.spread_ms / t.median_ms for t in timings]) * 100
    return {
        "backend": backend_name,
        "fingerprint": backend.fingerprint(),
        "threads": threads,
        "scale": scale,
        "lr_size": list(lr),
        "subnets": len(configs),
        "calibration": {
            "seconds": report.seconds,
            "kernels": report.kernels,
            "measured": report.measured,
            "overhead_intercept_ms": report.overhead[0] if report.overhead else None,
            "overhead_slope": report.overhead[1] if report.overhead else None,
            "noise": report.noise,
            "phases_s": report.phases,
            "repeats_mean": report.repeats_mean,
        },
        "predictor": _scores(pred, meas),
        "retest": None if second is None else _retest(timings, second, pred),
        "residual_spearman": _residual_correlations(configs, lr, pred, meas),
        "macs_linear": _scores(macs_pred, meas),
        "noise_iqr_over_median_pct": {
            "median": float(np.median(noise)),
            "p90": float(np.percentile(noise, 90)),
        },
        "prediction_us_median_of_1000": _prediction_time_us(predictor, space),
        "points": [
            {
                "config": c.summary(),
                "measured_ms": m,
                "predicted_ms": p,
                "macs_ms": q,
                "iqr_ms": t.spread_ms,
                "second_pass_ms": None if second is None else second[i].median_ms,
            }
            for i, (c, m, p, q, t) in enumerate(zip(configs, meas, pred, macs_pred, timings))
        ],
    }


def _fusion(args: argparse.Namespace, backend_name: str) -> list[dict[str, Any]]:
    results = detect_fusion(make_backend(backend_name, max(args.threads)), repeats=args.repeats)
    return [
        dict(
            pair=f"{r.first}+{r.second}",
            t_a=r.t_first,
            t_b=r.t_second,
            t_ab=r.t_both,
            gain=r.gain_ms,
            fused=r.fused,
        )
        for r in results
    ]


def _markdown(meta: dict[str, Any], cases: list[dict[str, Any]], fusion: dict[str, list]) -> str:
    lines = [
        "# Latency predictor accuracy",
        "",
        f"- command: `{meta['command']}`",
        f"- machine: {meta['machine']}",
    ]
    lines += [f"- date: {meta['date']}", f"- note: {meta['note']}"]
    lines += [f"- load average before / after: {meta['load_average']} / {meta['load_average_after']}", ""]
    lines += [
        f"Targets at 1 thread (ONNX Runtime): within 10% >= {TARGETS_1_THREAD['within_10pct']:.0f}%, "
        f"within 5% >= {TARGETS_1_THREAD['within_5pct']:.0f}%, Spearman >= {TARGETS_1_THREAD['spearman']}"
        f" (torch: >= 95% within 10%). At more threads: the predictor within {RETEST_MARGIN_POINTS:.0f} "
        "points of the ground truth's test-retest rate.",
        "",
        "| back-end | threads | scale | n | model | within 10% | within 5% | Spearman | RMSPE % |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in cases:
        for model in ("predictor", "macs_linear"):
            s = c[model]
            lines.append(
                f"| {c['backend']} | {c['threads']} | x{c['scale']} | {c['subnets']} | {model} | "
                f"{s['within_10pct']:.0f}% | {s['within_5pct']:.0f}% | {s['spearman']:.3f} | "
                f"{s['rmspe_pct']:.1f} |"
            )
    retests = [c for c in cases if c["retest"]]
    if retests:
        lines += [
            "",
            "Test-retest: the same networks timed in a second, independent pass.",
            "",
            "| back-end | threads | scale | retest within 10% / 5% | predictor within 10% / 5% "
            "(vs pass 1) | gap (points, 10%) |",
            "|---|---|---|---|---|---|",
        ]
        for c in retests:
            r, s = c["retest"], c["predictor"]
            lines.append(
                f"| {c['backend']} | {c['threads']} | x{c['scale']} | {r['retest_within_10pct']:.0f}% / "
                f"{r['retest_within_5pct']:.0f}% | {s['within_10pct']:.0f}% / {s['within_5pct']:.0f}% | "
                f"{r['retest_within_10pct'] - s['within_10pct']:+.0f} |"
            )
    lines += [
        "",
        "| back-end | threads | scale | calibration s | machine noise | kernels | overhead (ms, slope) | "
        "noise IQR/median (median, p90) | predict µs |",
    ]
    lines += ["|---|---|---|---|---|---|---|---|---|"]
    for c in cases:
        cal, n = c["calibration"], c["noise_iqr_over_median_pct"]
        noise = "n/a" if cal["noise"] is None else f"{cal['noise']:.1%}"
        lines.append(
            f"| {c['backend']} | {c['threads']} | x{c['scale']} | {cal['seconds']:.0f} | {noise} | "
            f"{cal['kernels']} | {cal['overhead_intercept_ms']:.2f}, {cal['overhead_slope']:.3f} | "
            f"{n['median']:.1f}%, {n['p90']:.1f}% | "
            f"{c['prediction_us_median_of_1000']:.0f} |"
        )
    lines += ["", "Residuals (predicted / measured - 1), Spearman with:", ""]
    for c in cases:
        pairs = ", ".join(f"{k} {v}" for k, v in c["residual_spearman"].items())
        lines.append(f"- {c['backend']} {c['threads']} thread(s) x{c['scale']}: {pairs}")
    for name, rows in fusion.items():
        lines += ["", f"## Fusion probes: {name} (32 ch, 180x320; nn-Meter rule gain > 0.5 min)", ""]
        lines += ["| pair | T(a) ms | T(b) ms | T(ab) ms | gain ms | fused |", "|---|---|---|---|---|---|"]
        lines += [
            f"| {r['pair']} | {r['t_a']:.2f} | {r['t_b']:.2f} | {r['t_ab']:.2f} | {r['gain']:.2f} "
            f"| {r['fused']} |"
            for r in rows
        ]
    return "\n".join(lines) + "\n"


def _figure(cases: list[dict[str, Any]], path: Path) -> None:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1,
        cols=len(cases),
        subplot_titles=[f"{c['backend']} x{c['scale']} {c['threads']}t" for c in cases],
    )
    for i, c in enumerate(cases, start=1):
        meas = [p["measured_ms"] for p in c["points"]]
        for key, name in (("predicted_ms", "predictor"), ("macs_ms", "MACs linear")):
            y = [p[key] for p in c["points"]]
            text = [p["config"] for p in c["points"]]
            fig.add_trace(
                go.Scatter(x=meas, y=y, mode="markers", name=name, text=text, showlegend=i == 1), 1, i
            )
        lo, hi = min(meas), max(meas)
        for f in (0.9, 1.0, 1.1):
            line = dict(dash="dot", color="gray")
            trace = go.Scatter(x=[lo, hi], y=[f * lo, f * hi], mode="lines", line=line, showlegend=False)
            fig.add_trace(trace, 1, i)
        fig.update_xaxes(title_text="measured ms", row=1, col=i)
    fig.update_yaxes(title_text="predicted ms", row=1, col=1)
    fig.write_html(path, include_plotlyjs="cdn")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["onnxruntime", "torch"])
    parser.add_argument("--scales", nargs="+", type=int, default=[2, 4])
    parser.add_argument("--subnets", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument(
        "--calib-repeats", type=int, default=None, help="per kernel at least (default: calibrate's)"
    )
    parser.add_argument("--chunk", type=int, default=10, help="subnets measured interleaved at a time")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts, each a case")
    parser.add_argument(
        "--retest",
        choices=("auto", "on", "off"),
        default="auto",
        help="2nd pass (auto: >1 thread)",
    )
    parser.add_argument("--no-fusion", action="store_true", help="skip the fusion probes")
    parser.add_argument("--accept-noise", action="store_true", help="calibrate even on a noisy machine")
    parser.add_argument("--stem", default=None, help="file name stem (default latency_accuracy_n<N>_t<T>)")
    parser.add_argument("--hr-size", type=lambda s: tuple(int(v) for v in s.split("x")), default=(720, 1280))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--storage", default="sqlite:///benchmarks/results/latency_tables.db")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--note", default="", help="free text stored with the results (e.g. machine load)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {
        "command": "python " + shlex.join(sys.argv),
        "machine": f"{cpu_model()}, {platform.platform()}, python {platform.python_version()}",
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "note": args.note,
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }
    fusion = {} if args.no_fusion else {name: _fusion(args, name) for name in args.backends}
    cases = [run_case(args, b, s, t) for t in args.threads for b in args.backends for s in args.scales]
    meta["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    threads = "-".join(str(t) for t in args.threads)
    stem = args.stem or f"latency_accuracy_n{args.subnets}_t{threads}"
    (args.out / f"{stem}.json").write_text(json.dumps({**meta, "fusion": fusion, "cases": cases}, indent=1))
    (args.out / f"{stem}.md").write_text(_markdown(meta, cases, fusion))
    _figure(cases, args.out / f"{stem}.html")
    print(_markdown(meta, cases, fusion))


if __name__ == "__main__":
    main()
