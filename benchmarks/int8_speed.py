"""Is int8 faster than float32 on ONNX Runtime here? Kernels of the space and whole networks, interleaved.

For each scale, at 1280x720 output on ONNX Runtime (``--threads``, default 2):

1. every kernel of the back-end's space (``SRSearchSpace.for_backend``), as the one-layer graph the
   latency table times, in float32 and statically quantized (QDQ, per-channel int8 weights, uint8
   activations, ONNX Runtime's own ``quantize_static``), timed interleaved in one process
   (``time_networks``), plus the kernel time ORT's profiler gives the conv itself (the layer inside a
   network: no layout reorders, no Quantize/Dequantize at the graph's borders);
2. whole networks: the space's smallest and largest (random weights), the shipped real-time network
   and the hand-designed baselines, each float32 against int8 (QDQ and QOperator formats), with the
   time of each operator type from ORT's profiler (which paths ORT takes);
3. the Set5 PSNR that static quantization costs the trained networks (calibrated on LR patches of the
   training images).

Run (the figures in the README)::

    python benchmarks/int8_speed.py --scales 2 4 --note "trainings paused"
"""

from __future__ import annotations

import argparse
from collections import defaultdict
import json
from pathlib import Path
import statistics
import tempfile
from typing import Any

from _report import RESULTS
from _report import SHARED_DATA
from _report import write_json
import numpy as np
import onnx
import torch

from optuna_srprune.config import layer_specs
from optuna_srprune.config import LayerSpec
from optuna_srprune.config import lr_size
from optuna_srprune.data import PairedDataset
from optuna_srprune.data import PatchSampler
from optuna_srprune.data import ValidationSet
from optuna_srprune.evaluation import evaluate_network
from optuna_srprune.latency import OnnxRuntimeBackend
from optuna_srprune.latency import time_networks
from optuna_srprune.latency._onnx_graph import build_layer_model
from optuna_srprune.latency._onnx_graph import build_onnx_model
from optuna_srprune.latency._onnx_graph import layer_input_shapes
from optuna_srprune.search_space import SRSearchSpace

MODELS = RESULTS / "models"
HR_SIZE = (720, 1280)
# Not part of a layer inside a quantized network: layout conversions and the Quantize/Dequantize that
# a one-layer graph needs at its borders (inside a network activations stay uint8 between convs).
BORDER_OPS = frozenset({"ReorderInput", "ReorderOutput", "QuantizeLinear", "DequantizeLinear"})
# Static quantization recipes: (format, weight type, reduce_range). uint8 activations throughout.
# On AVX2 without VNNI, ORT multiplies uint8 by int8 with VPMADDUBSW, whose 16-bit pair sums can
# saturate; ORT's documentation suggests reduce_range (7-bit weights) or uint8 weights against it.
RECIPES = {
    "qdq": ("qdq", "int8", False),
    "qdq_reduce_range": ("qdq", "int8", True),
    "qdq_u8u8": ("qdq", "uint8", False),
    "qoperator": ("qoperator", "int8", False),
}


def quantize(
    model: onnx.ModelProto, feeds: list[dict[str, np.ndarray]], recipe: str, folder: Path
) -> onnx.ModelProto:
    """``model`` statically quantized by ONNX Runtime with ``recipe``, calibrated (min-max) on ``feeds``."""
    from onnxruntime.quantization import CalibrationDataReader
    from onnxruntime.quantization import QuantFormat
    from onnxruntime.quantization import quantize_static
    from onnxruntime.quantization import QuantType

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.feeds = iter(feeds)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.feeds, None)

    fmt, weights, reduce_range = RECIPES[recipe]
    src, dst = folder / "fp32.onnx", folder / f"{recipe}.onnx"
    onnx.save(model, str(src))
    quantize_static(
        str(src),
        str(dst),
        Reader(),
        quant_format=QuantFormat.QDQ if fmt == "qdq" else QuantFormat.QOperator,
        per_channel=True,
        reduce_range=reduce_range,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8 if weights == "int8" else QuantType.QUInt8,
    )
    return onnx.load(str(dst))


def op_times_ms(
    backend: OnnxRuntimeBackend, model: onnx.ModelProto, feeds: dict[str, np.ndarray], runs: int
) -> dict[str, float]:
    """Median over ``runs`` of each operator type's kernel time (ms) in one run, from ORT's profiler."""
    with tempfile.TemporaryDirectory() as folder:
        session = backend.session(model, str(Path(folder) / "p"))
        for _ in range(runs + 2):
            session.run(None, feeds)
        events = json.loads(Path(session.end_profiling()).read_text())
    per_run: list[dict[str, float]] = []
    current: dict[str, float] = defaultdict(float)
    for event in events:
        if event.get("cat") == "Session" and event.get("name") == "model_run":
            per_run.append(current)
            current = defaultdict(float)
        elif event.get("cat") == "Node" and str(event.get("name", "")).endswith("_kernel_time"):
            current[event["args"]["op_name"]] += event["dur"] / 1e3
    kept = per_run[-runs:]
    ops = sorted({op for run in kept for op in run})
    return {op: round(statistics.median(run.get(op, 0.0) for run in kept), 3) for op in ops}


def _runner(backend: OnnxRuntimeBackend, model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> Any:
    session = backend.session(model)
    return lambda: session.run(None, feeds)


def _pair(
    backend: OnnxRuntimeBackend,
    models: dict[str, onnx.ModelProto],
    feeds: dict[str, np.ndarray],
    repeats: int,
) -> dict[str, Any]:
    """Wall-clock medians (interleaved) and per-op profiles of the variants of one graph."""
    timings = time_networks([_runner(backend, m, feeds) for m in models.values()], 2, repeats)
    row: dict[str, Any] = {}
    for (name, model), timing in zip(models.items(), timings):
        ops = op_times_ms(backend, model, feeds, 5)
        row[name] = {
            "ms": round(timing.median_ms, 3),
            "iqr_ms": round(timing.spread_ms, 3),
            "kernel_ms": round(sum(v for op, v in ops.items() if op not in BORDER_OPS), 3),
            "ops_ms": ops,
        }
    return row


def _random_feeds(shapes: dict[str, tuple[int, ...]], count: int) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    return [{n: rng.random(s, dtype=np.float32) for n, s in shapes.items()} for _ in range(count)]


def _describe(layer: LayerSpec) -> str:
    shape = f"{layer.op} {layer.in_channels}>{layer.out_channels} k{layer.kernel}"
    return f"{shape} act={layer.activation} res={layer.residual} ps={layer.pixel_shuffle}"


def kernels(backend: OnnxRuntimeBackend, scale: int, repeats: int) -> list[dict[str, Any]]:
    space = SRSearchSpace.for_backend(scale, 16)
    rows = []
    for layer in space.layer_universe(*lr_size(*HR_SIZE, scale)):
        shapes = layer_input_shapes(layer)
        # Calibrated on small random maps: ranges, not the map size, set the scales.
        calib = _random_feeds({n: (1, s[1], 32, 32) for n, s in shapes.items()}, 4)
        fp32 = build_layer_model(layer)
        with tempfile.TemporaryDirectory() as folder:
            int8 = quantize(fp32, calib, "qdq", Path(folder))
        row = _pair(backend, {"fp32": fp32, "int8": int8}, _random_feeds(shapes, 1)[0], repeats)
        row["layer"] = _describe(layer)
        row["wall_ratio"] = round(row["int8"]["ms"] / row["fp32"]["ms"], 3)
        row["kernel_ratio"] = round(row["int8"]["kernel_ms"] / row["fp32"]["kernel_ms"], 3)
        print(f"x{scale} {row['layer']}: wall {row['wall_ratio']}, kernel {row['kernel_ratio']}", flush=True)
        rows.append(row)
    return rows


def _calibration_feeds(scale: int, data: list[str], batches: int) -> list[dict[str, np.ndarray]]:
    """LR patches of the training images (16 of 48 px per batch), as the calibration set."""
    sampler = PatchSampler(PairedDataset(data, scale), 48, 16, seed=0)
    return [{"input": next(sampler)[0].numpy()} for _ in range(batches)]


def _psnr(model: onnx.ModelProto, backend: OnnxRuntimeBackend, scale: int) -> float:
    session = backend.session(model)

    def net(x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(session.run(None, {"input": x.numpy()})[0])

    return evaluate_network(net, ValidationSet(None, scale), radius=0, tile=4096).psnr


def _networks(scale: int) -> dict[str, tuple[onnx.ModelProto, bool]]:
    """Name -> (float32 model, trained?)."""
    space = SRSearchSpace.for_backend(scale, 16)
    h, w = lr_size(*HR_SIZE, scale)
    nets = {
        f"space smallest ({space.smallest().summary()})": (
            build_onnx_model(layer_specs(space.smallest(), h, w), scale),
            False,
        ),
        f"space largest ({space.largest().summary()})": (
            build_onnx_model(layer_specs(space.largest(), h, w), scale),
            False,
        ),
    }
    names = [f"{b}_x{scale}" for b in ("espcn", "fsrcnn", "ecbsr_m4c16")]
    if scale == 2:
        names.insert(0, "x2_realtime")
    for name in names:
        path = MODELS / f"{name}.onnx"
        if path.is_file():
            nets[name] = (onnx.load(str(path)), True)
    return nets


def networks(backend: OnnxRuntimeBackend, scale: int, data: list[str], repeats: int) -> list[dict[str, Any]]:
    h, w = lr_size(*HR_SIZE, scale)
    feeds = {"input": np.random.default_rng(0).random((1, 3, h, w), dtype=np.float32)}
    calib = _calibration_feeds(scale, data, 8)
    rows = []
    for name, (fp32, trained) in _networks(scale).items():
        with tempfile.TemporaryDirectory() as folder:
            variants = {
                "fp32": fp32,
                **{r: quantize(fp32, calib, r, Path(folder)) for r in RECIPES},
            }
        row: dict[str, Any] = {"network": name, **_pair(backend, variants, feeds, repeats)}
        for f in RECIPES:
            row[f"{f}_ratio"] = round(row[f]["ms"] / row["fp32"]["ms"], 3)
        if trained:
            psnr = {k: _psnr(m, backend, scale) for k, m in variants.items()}
            row["set5_psnr"] = {k: round(v, 3) for k, v in psnr.items()}
            row["set5_loss_db"] = {f: round(psnr["fp32"] - psnr[f], 3) for f in RECIPES}
        print(
            f"x{scale} {name} (fp32 {row['fp32']['ms']:.1f} ms): "
            + ", ".join(f"{r} {row[f'{r}_ratio']}" for r in RECIPES)
            + f" {row.get('set5_loss_db', '')}",
            flush=True,
        )
        rows.append(row)
    return rows


def _markdown(report: dict[str, Any]) -> str:
    lines = [
        "# int8 against float32 on ONNX Runtime",
        "",
        f"- command: `{report['command']}`; date: {report['date']}; machine: {report['machine']}; "
        f"onnxruntime {report['onnxruntime']}; threads {report['threads']}; note: {report['note']}",
        "- ratio = int8 / float32 median latency (below 1: int8 faster); wall = the one-layer graph end "
        "to end, kernel = ORT's profiled conv time without border Quantize/Dequantize and reorders",
        "",
        "## Kernels of the space (720p output)",
        "",
        "| scale | kernel | fp32 ms | int8 ms | wall ratio | kernel ratio | int8 ops |",
        "|---|---|---|---|---|---|---|",
    ]
    for scale, rows in report["kernels"].items():
        for r in rows:
            ops = ", ".join(f"{k} {v:.2f}" for k, v in r["int8"]["ops_ms"].items())
            lines.append(
                f"| x{scale} | {r['layer']} | {r['fp32']['ms']:.2f} | {r['int8']['ms']:.2f} | "
                f"{r['wall_ratio']:.2f} | {r['kernel_ratio']:.2f} | {ops} |"
            )
    names = " | ".join(RECIPES)
    lines += [
        "",
        "## Whole networks (720p output): ms (ratio to fp32), Set5 dB where the network is trained",
        "",
        f"| scale | network | fp32 | {names} |",
        "|---|---|---|" + "---|" * len(RECIPES),
    ]
    for scale, rows in report["networks"].items():
        for r in rows:
            psnr = r.get("set5_psnr", {})

            def cell(k: str, r: dict[str, Any] = r, psnr: dict[str, float] = psnr) -> str:
                ratio = f" ({r[f'{k}_ratio']:.2f})" if k != "fp32" else ""
                db = f", {psnr[k]:.2f} dB" if k in psnr else ""
                return f"{r[k]['ms']:.1f}{ratio}{db}"

            lines.append(
                f"| x{scale} | {r['network']} | " + " | ".join(cell(k) for k in ["fp32", *RECIPES]) + " |"
            )
    lines += ["", "## Where the time goes (ms per run, ORT profiler)", ""]
    for scale, rows in report["networks"].items():
        for r in rows:
            for k in ("fp32", "qdq"):
                ops = ", ".join(
                    f"{op} {v:.1f}" for op, v in sorted(r[k]["ops_ms"].items(), key=lambda kv: -kv[1])
                )
                lines.append(f"- x{scale} {r['network']} {k}: {ops}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=8, help="interleaved rounds per comparison")
    parser.add_argument("--data", nargs="+", default=[str(SHARED_DATA / "sr-train" / "T91")])
    parser.add_argument("--note", default="", help="what else ran on the machine")
    parser.add_argument("--out", default="int8_speed")
    args = parser.parse_args()
    import onnxruntime

    backend = OnnxRuntimeBackend(threads=args.threads)
    report: dict[str, Any] = {
        "threads": args.threads,
        "note": args.note,
        "onnxruntime": onnxruntime.__version__,
        "kernels": {},
        "networks": {},
    }
    for scale in args.scales:
        report["kernels"][scale] = kernels(backend, scale, args.repeats)
        report["networks"][scale] = networks(backend, scale, args.data, args.repeats)
    path = write_json(f"{args.out}.json", report)
    saved = json.loads(path.read_text())
    (RESULTS / f"{args.out}.md").write_text(_markdown(saved))
    print(f"wrote {path} and {args.out}.md")


if __name__ == "__main__":
    main()
