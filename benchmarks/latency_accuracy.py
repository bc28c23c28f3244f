"""Accuracy of the latency predictor against end-to-end measurements, beside a MACs-based model.

For each back-end and scale: calibrate the default search space (timed), draw ``--subnets`` random
subnets, measure each end to end (chunks of subnets interleaved round-robin, ``--repeats`` runs each),
and compare with ``LatencyPredictor`` and with a linear MACs model fitted on the same measurements.
Also measures the fusion probes and the prediction time. Writes JSON, Markdown and plotly HTML to
``--out`` with the command, machine and date.

Run (the acceptance setting)::

    python benchmarks/latency_accuracy.py --subnets 100 --repeats 10 --threads 2
"""

from __future__ import annotations

import argparse
import datetime
import json
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


def _within(pred: np.ndarray, meas: np.ndarray, tol: float = 0.10) -> float:
    return float(np.mean(np.abs(pred - meas) <= tol * meas) * 100)


def _scores(pred: np.ndarray, meas: np.ndarray) -> dict[str, float]:
    return {
        "within_10pct": _within(pred, meas),
        "within_5pct": _within(pred, meas, 0.05),
        "spearman": float(stats.spearmanr(pred, meas).statistic),
        "rmspe_pct": float(np.sqrt(np.mean(((pred - meas) / meas) ** 2)) * 100),
    }


def _measure(backend: Any, configs: list, lr: tuple[int, int], repeats: int, chunk: int) -> list[Any]:
    timings = []
    for start in range(0, len(configs), chunk):
        part = configs[start : start + chunk]
        networks = [layer_specs(c, *lr) for c in part]
        timings += backend.measure_networks(networks, part[0].scale, warmup=2, repeats=repeats)
        print(f"  measured {start + len(part)}/{len(configs)}", file=sys.stderr, flush=True)
    return timings


def _prediction_time_us(predictor: LatencyPredictor, space: SRSearchSpace) -> float:
    rng = np.random.default_rng(123)
    configs = [space.sample(rng) for _ in range(1000)]
    samples = []
    for config in configs:  # distinct configs: no per-config cache hit
        start = time.perf_counter()
        predictor.predict(config)
        samples.append((time.perf_counter() - start) * 1e6)
    return float(np.median(samples))


def run_case(args: argparse.Namespace, backend_name: str, scale: int) -> dict[str, Any]:
    backend = make_backend(backend_name, args.threads)
    space = SRSearchSpace(scale=scale)
    table = LatencyTable(args.storage, backend.fingerprint())
    lr = lr_size(*args.hr_size, scale)
    report = calibrate(backend, table, space, args.hr_size, repeats=args.calib_repeats, refit=True)
    predictor = LatencyPredictor(table, hr_size=args.hr_size, backend=backend)
    rng = np.random.default_rng(args.seed + scale)
    configs = [space.sample(rng) for _ in range(args.subnets)]
    timings = _measure(backend, configs, lr, args.repeats, args.chunk)
    meas = np.array([t.median_ms for t in timings])
    pred = np.array([predictor.predict(c) for c in configs])
    macs = np.array([count_macs(c, *lr) for c in configs], float)
    intercept, slope = fit_overhead(list(macs), list(meas))  # same relative least squares
    macs_pred = intercept + slope * macs
    noise = np.array([t.spread_ms / t.median_ms for t in timings]) * 100
    return {
        "backend": backend_name,
        "fingerprint": backend.fingerprint(),
        "scale": scale,
        "lr_size": list(lr),
        "subnets": len(configs),
        "calibration": {
            "seconds": report.seconds,
            "kernels": report.kernels,
            "measured": report.measured,
            "overhead_intercept_ms": report.overhead[0] if report.overhead else None,
            "overhead_slope": report.overhead[1] if report.overhead else None,
        },
        "predictor": _scores(pred, meas),
        "macs_linear": _scores(macs_pred, meas),
        "noise_iqr_over_median_pct": {
            "median": float(np.median(noise)),
            "p90": float(np.percentile(noise, 90)),
        },
        "prediction_us_median_of_1000": _prediction_time_us(predictor, space),
        "points": [
            {"config": c.summary(), "measured_ms": m, "predicted_ms": p, "macs_ms": q, "iqr_ms": t.spread_ms}
            for c, m, p, q, t in zip(configs, meas, pred, macs_pred, timings)
        ],
    }


def _fusion(args: argparse.Namespace, backend_name: str) -> list[dict[str, Any]]:
    results = detect_fusion(make_backend(backend_name, args.threads), repeats=args.repeats)
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
    lines += [f"- date: {meta['date']}", f"- note: {meta['note']}", ""]
    lines += [
        "| back-end | scale | n | model | within 10% | within 5% | Spearman | RMSPE % |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in cases:
        for model in ("predictor", "macs_linear"):
            s = c[model]
            lines.append(
                f"| {c['backend']} | x{c['scale']} | {c['subnets']} | {model} | {s['within_10pct']:.0f}% | "
                f"{s['within_5pct']:.0f}% | {s['spearman']:.3f} | {s['rmspe_pct']:.1f} |"
            )
    lines += [
        "",
        "| back-end | scale | calibration s | kernels | overhead (ms, slope) | noise IQR/median "
        "(median, p90) | predict µs |",
    ]
    lines += ["|---|---|---|---|---|---|---|"]
    for c in cases:
        cal, n = c["calibration"], c["noise_iqr_over_median_pct"]
        lines.append(
            f"| {c['backend']} | x{c['scale']} | {cal['seconds']:.0f} | {cal['kernels']} | "
            f"{cal['overhead_intercept_ms']:.2f}, {cal['overhead_slope']:.3f} | "
            f"{n['median']:.1f}%, {n['p90']:.1f}% | "
            f"{c['prediction_us_median_of_1000']:.0f} |"
        )
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
        rows=1, cols=len(cases), subplot_titles=[f"{c['backend']} x{c['scale']}" for c in cases]
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
    parser.add_argument("--calib-repeats", type=int, default=10)
    parser.add_argument("--chunk", type=int, default=10, help="subnets measured interleaved at a time")
    parser.add_argument("--threads", type=int, default=2)
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
    }
    fusion = {name: _fusion(args, name) for name in args.backends}
    cases = [run_case(args, b, s) for b in args.backends for s in args.scales]
    stem = f"latency_accuracy_n{args.subnets}"
    (args.out / f"{stem}.json").write_text(json.dumps({**meta, "fusion": fusion, "cases": cases}, indent=1))
    (args.out / f"{stem}.md").write_text(_markdown(meta, cases, fusion))
    _figure(cases, args.out / f"{stem}.html")
    print(_markdown(meta, cases, fusion))


if __name__ == "__main__":
    main()
