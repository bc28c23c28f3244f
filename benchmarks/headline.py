"""Head-to-head: searched networks against hand-designed real-time SR networks, on ONNX Runtime here.

For each scale, at 1280x720 output on ONNX Runtime (2 threads):

1. ESPCN, FSRCNN and ECBSR-M4C16 (``benchmarks/baselines``), trained to a plateau on the 291 images by
   ``train_baselines.py`` with ReLU (fused by ONNX Runtime; the PReLU variants are timed too), ECBSR
   re-parameterised into plain 3x3 convolutions, are exported to ONNX
   (``results/models/<name>_x<s>.onnx``) and scored on Set5 and Set14;
2. their end-to-end latency is measured (interleaved, :func:`optuna_srprune.latency.time_networks`);
3. for each baseline, a search (latency-aware sampler, shipped supernet) at a budget of 95% of its
   measured latency (a margin for the predictor's error), plus a real-time x2 search at 33 ms; the
   best feasible trial is fine-tuned and exported (``optuna_srprune.export.export_trial``);
4. every ONNX model of the scale is timed again, all together, interleaved, and the table, a plot of
   PSNR against latency and the cost of each stage are written to ``results/headline.*``.

Run (the figures in the README)::

    python benchmarks/headline.py --scales 2 4 --steps 1000 --trials 60
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import shutil
import statistics
import time
from typing import Any

from _report import RESULTS
from _report import SHARED_DATA
from _report import write_json
from baselines import BASELINES
from baselines import build
from baselines import evaluate
from baselines import export_onnx
from baselines import load_trained
import numpy as np
import optuna
import torch

from optuna_srprune.export import export_trial
from optuna_srprune.export import FinetuneSettings
from optuna_srprune.export import load_network
from optuna_srprune.latency import calibrate
from optuna_srprune.latency import LatencyTable
from optuna_srprune.latency import OnnxRuntimeBackend
from optuna_srprune.latency import time_networks
from optuna_srprune.objective import DIRECTIONS
from optuna_srprune.objective import name_objectives
from optuna_srprune.orchestration import build_search
from optuna_srprune.orchestration import load_supernet
from optuna_srprune.orchestration import save_settings
from optuna_srprune.orchestration import SearchSettings

MODELS = RESULTS / "models"
SET14 = Path(__file__).resolve().parents[1] / "tests" / "data" / "Set14"
HR_SIZE = (720, 1280)
REALTIME_MS = 1000 / 30


def _time_models(paths: list[Path], scale: int, threads: int, repeats: int) -> list[dict[str, float]]:
    """Median and IQR (ms) of each ONNX model on a 720p-output input, all timed interleaved."""
    import onnx

    backend = OnnxRuntimeBackend(threads=threads)
    x = np.random.default_rng(0).random((1, 3, HR_SIZE[0] // scale, HR_SIZE[1] // scale), dtype=np.float32)
    runners = []
    for path in paths:
        session = backend.session(onnx.load(str(path)))
        runners.append(lambda session=session: session.run(None, {"input": x}))
    return [{"ms": t.median_ms, "iqr_ms": t.spread_ms} for t in time_networks(runners, 3, repeats)]


def _baselines(args: argparse.Namespace, scale: int) -> list[dict[str, Any]]:
    """The baselines trained to a plateau by ``train_baselines.py`` (ReLU, which ONNX Runtime fuses),
    exported and scored; plus each PReLU variant's graph, for its latency only."""
    rows = []
    for name in BASELINES:
        net, record = load_trained(name, scale, "relu")
        if not record["converged"] and not args.allow_unconverged:
            raise SystemExit(
                f"{record['run']} stopped at step {record['step']} of {record['steps']}: finish it with "
                "train_baselines.py, or pass --allow-unconverged to compare anyway."
            )
        if hasattr(net, "reparameterize"):
            net.reparameterize()
        path = MODELS / f"{name}_x{scale}.onnx"
        export_onnx(net, scale, path)
        rows.append(
            {
                "model": name,
                "kind": "baseline",
                "onnx": str(path.relative_to(RESULTS)),
                "params": sum(p.numel() for p in net.parameters()),
                "set5": evaluate(net, None, scale),
                "set14": evaluate(net, SET14, scale),
                **{k: v for k, v in record.items() if k != "curve"},
            }
        )
        print(f"x{scale} {name}: Set5 {rows[-1]['set5']['psnr']:.2f} dB ({record['run']})", flush=True)
        if name != "espcn":  # the published activation, timed untrained: latency only
            prelu = build(name, scale, "prelu").eval()
            if hasattr(prelu, "reparameterize"):
                prelu.reparameterize()
            path = MODELS / f"{name}_prelu_x{scale}.onnx"
            export_onnx(prelu, scale, path)
            rows.append(
                {"model": f"{name} (PReLU)", "kind": "latency-only", "onnx": str(path.relative_to(RESULTS))}
            )
    return rows


def _search_and_export(args: argparse.Namespace, scale: int, tag: str, budget_ms: float) -> dict[str, Any]:
    settings = SearchSettings(scale=scale, budget_ms=budget_ms, n_trials=args.trials, seed=args.seed)
    name = f"headline-x{scale}-{tag}-{int(time.time())}"
    study = optuna.create_study(study_name=name, storage=args.storage, directions=list(DIRECTIONS))
    save_settings(study, settings)
    name_objectives(study)
    start = time.perf_counter()
    objective, study.sampler = build_search(settings, args.storage, args.seed, progress=False)
    study.optimize(objective, n_trials=args.trials)
    search_s = time.perf_counter() - start
    feasible = [t for t in study.best_trials if t.user_attrs["srprune:latency_ms"] <= budget_ms]
    best = max(feasible, key=lambda t: t.values[0])
    out = MODELS / f"searched_x{scale}_{tag}"
    metrics = export_trial(
        study,
        best.number,
        out,
        finetune_settings=FinetuneSettings(steps=args.steps, seed=args.seed),
        data=args.data,
        force=True,
        progress=False,
    )
    net = load_network(out)
    row = {
        "model": f"searched ({tag})",
        "kind": "searched",
        "onnx": str((out / "model.onnx").relative_to(RESULTS)),
        "config": best.user_attrs["srprune:summary"],
        "params": best.user_attrs["srprune:params"],
        "budget_ms": budget_ms,
        "predicted_ms": best.user_attrs["srprune:latency_ms"],
        "supernet_psnr": best.values[0],
        "set5": {"psnr": metrics["psnr"], "ssim": metrics["ssim"]},
        "set14": evaluate(net, SET14, scale),
        "search_s": search_s,
        "finetune_s": metrics["finetune"]["elapsed_s"],
        "study": name,
    }
    print(
        f"x{scale} searched at {budget_ms:.1f} ms: {row['config']}, Set5 {metrics['psnr']:.2f} dB", flush=True
    )
    return row


def run_scale(args: argparse.Namespace, scale: int) -> dict[str, Any]:
    backend = OnnxRuntimeBackend(threads=args.threads)
    start = time.perf_counter()
    space = load_supernet(scale).space
    # Calibrated here (a no-op when the table exists) so that its cost is reported on its own.
    calibration = calibrate(backend, LatencyTable(args.storage, backend.fingerprint()), space, HR_SIZE)
    rows = _baselines(args, scale)
    first = _time_models([RESULTS / r["onnx"] for r in rows], scale, args.threads, args.repeats)
    targets = {r["model"]: 0.95 * t["ms"] for r, t in zip(rows, first) if r["kind"] == "baseline"}
    if scale == 2:
        targets["realtime"] = REALTIME_MS
    rows += [_search_and_export(args, scale, tag, budget) for tag, budget in targets.items()]
    final = _time_models([RESULTS / r["onnx"] for r in rows], scale, args.threads, args.repeats)
    for row, timing in zip(rows, final):
        row.update(latency_ms=timing["ms"], latency_iqr_ms=timing["iqr_ms"])
    if scale == 2:
        shutil.copy(RESULTS / rows[-1]["onnx"], MODELS / "x2_realtime.onnx")
    return {
        "scale": scale,
        "calibration_s": calibration.seconds,
        "rows": rows,
        "comparisons": _comparisons(rows),
        "wall_s": time.perf_counter() - start,
    }


def _comparisons(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each baseline against the network searched at its latency."""
    searched = {r["model"]: r for r in rows if r["kind"] == "searched"}
    out = []
    for base in (r for r in rows if r["kind"] == "baseline"):
        ours = searched[f"searched ({base['model']})"]
        out.append(
            {
                "baseline": base["model"],
                "baseline_ms": base["latency_ms"],
                "searched_ms": ours["latency_ms"],
                "set5_gain_db": ours["set5"]["psnr"] - base["set5"]["psnr"],
                "set14_gain_db": ours["set14"]["psnr"] - base["set14"]["psnr"],
            }
        )
    return out


def _markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Head-to-head on ONNX Runtime (2 threads, 1280x720 output)",
        "",
        f"- command: `{result['command']}`",
        f"- machine: {result['machine']}; date: {result['date']}",
        f"- baselines: trained to a plateau by train_baselines.py (see results/baselines/); searched "
        f"networks fine-tuned {result['steps']} steps; the 291 images, L1",
        "",
    ]
    for case in result["scales"]:
        lines += [
            f"## x{case['scale']}",
            "",
            "| model | latency ms (IQR) | Set5 PSNR / SSIM | Set14 PSNR / SSIM | params | network |",
            "|---|---|---|---|---|---|",
        ]
        for r in case["rows"]:
            if r["kind"] == "latency-only":
                lines.append(f"| {r['model']} | {r['latency_ms']:.1f} ({r['latency_iqr_ms']:.1f}) | | | | |")
                continue
            lines.append(
                f"| {r['model']} | {r['latency_ms']:.1f} ({r['latency_iqr_ms']:.1f}) "
                f"| {r['set5']['psnr']:.2f} / {r['set5']['ssim']:.4f} "
                f"| {r['set14']['psnr']:.2f} / {r['set14']['ssim']:.4f} | {r['params']:,} "
                f"| {r.get('config', '')} |"
            )
        lines += [
            "",
            "| baseline | its latency | searched latency | Set5 gain dB | Set14 gain dB |",
            "|---|---|---|---|---|",
        ]
        for c in case["comparisons"]:
            lines.append(
                f"| {c['baseline']} | {c['baseline_ms']:.1f} | {c['searched_ms']:.1f} "
                f"| {c['set5_gain_db']:+.2f} | {c['set14_gain_db']:+.2f} |"
            )
        lines += [
            "",
            f"Cost at x{case['scale']}: calibration {case['calibration_s']:.0f} s; " + _cost(case),
            "",
        ]
    return "\n".join(lines)


def _cost(case: dict[str, Any]) -> str:
    searched = [r for r in case["rows"] if r["kind"] == "searched"]
    train_s = sum(r["train_s"] for r in case["rows"] if "train_s" in r)
    return (
        f"search {statistics.mean(r['search_s'] for r in searched):.0f} s and fine-tuning "
        f"{statistics.mean(r['finetune_s'] for r in searched):.0f} s per searched network (mean of "
        f"{len(searched)}); baselines trained in {train_s:.0f} s."
    )


def _figure(result: dict[str, Any], path: Path) -> None:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    cases = result["scales"]
    fig = make_subplots(rows=1, cols=len(cases), subplot_titles=[f"x{c['scale']}" for c in cases])
    for col, case in enumerate(cases, start=1):
        for kind, symbol in (("baseline", "square"), ("searched", "circle")):
            rows = [r for r in case["rows"] if r["kind"] == kind]
            fig.add_trace(
                go.Scatter(
                    x=[r["latency_ms"] for r in rows],
                    y=[r["set5"]["psnr"] for r in rows],
                    mode="markers+text",
                    text=[r["model"] for r in rows],
                    textposition="top center",
                    marker={"symbol": symbol, "size": 10},
                    name=f"{kind} x{case['scale']}",
                ),
                row=1,
                col=col,
            )
        fig.update_xaxes(title_text="latency (ms, ONNX Runtime, 2 threads, 720p out)", row=1, col=col)
        fig.update_yaxes(title_text="Set5 PSNR (dB)", row=1, col=col)
    fig.write_html(path, include_plotlyjs=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--steps", type=int, default=1000, help="fine-tuning steps of a searched network")
    parser.add_argument(
        "--allow-unconverged", action="store_true", help="compare with baselines whose training is unfinished"
    )
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--data", nargs="+", default=[str(SHARED_DATA / "sr-train" / d) for d in ("T91", "BSD200")]
    )
    parser.add_argument("--storage", default="sqlite:///benchmarks/results/latency_tables.db")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    torch.set_num_threads(args.threads)
    MODELS.mkdir(parents=True, exist_ok=True)
    result = {"steps": args.steps, "trials": args.trials, "scales": [run_scale(args, s) for s in args.scales]}
    path = write_json("headline.json", result)
    full = json.loads(path.read_text())
    (RESULTS / "headline.md").write_text(_markdown(full))
    _figure(full, RESULTS / "headline.html")
    print((RESULTS / "headline.md").read_text())


if __name__ == "__main__":
    main()
