"""Hostile input to ``upscale`` and ``export``: nothing destroyed, nothing silent, one clear line."""

from __future__ import annotations

from collections.abc import Callable
import json
import os
from pathlib import Path
import shutil

import numpy as np
import onnx
from onnx import numpy_helper
from PIL import Image
import pytest

from optuna_srprune.cli import main
from optuna_srprune.export import OnnxUpscaler

from .conftest import export_argv
from .conftest import Study

CliError = Callable[..., str]
Snapshot = Callable[[Path], dict[str, str]]


def _image(path: Path, size: int = 12, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(path)
    return path


# ------------------------------------------------------------------ upscale: outputs


def test_an_input_is_never_overwritten(
    exported: Path, tmp_path: Path, cli_error: CliError, snapshot: Snapshot
) -> None:
    (tmp_path / "in").mkdir()
    x = _image(tmp_path / "in" / "x.png")
    os.symlink(x, tmp_path / "link.png")
    os.link(x, tmp_path / "hard.png")
    before = snapshot(tmp_path)
    model = str(exported)
    cases = [
        ([str(x), str(x)], "is the input"),
        ([str(x), str(tmp_path / "in" / ".." / "in" / "x.png")], "is the input"),
        ([str(x), str(tmp_path / "in")], "is the input"),  # a folder: in/x.png
        ([str(x), str(tmp_path / "link.png"), "--force"], "is the input"),
        ([str(x), str(tmp_path / "hard.png"), "--force"], "is the input"),
        ([str(tmp_path / "in"), str(tmp_path / "in"), "--force"], "input folder"),
        ([str(tmp_path / "in"), str(tmp_path / "in" / "out")], "input folder"),
        ([str(tmp_path / "in"), str(tmp_path / "in" / ".")], "input folder"),
    ]
    for args, match in cases:
        cli_error(["upscale", model, *args, "--no-progress"], match)
    assert snapshot(tmp_path) == before


def test_names_that_clash_are_refused(exported: Path, tmp_path: Path, cli_error: CliError) -> None:
    (tmp_path / "in").mkdir()
    for suffix in ("png", "jpg", "bmp"):
        _image(tmp_path / "in" / f"a.{suffix}")
    _image(tmp_path / "in" / "b.png")
    line = cli_error(["upscale", str(exported), str(tmp_path / "in"), str(tmp_path / "out")], "'a.png'")
    assert "'a.bmp', 'a.jpg', 'a.png'" in line
    assert not (tmp_path / "out").exists()


def test_existing_outputs_need_force(
    exported: Path,
    tmp_path: Path,
    cli_error: CliError,
    snapshot: Snapshot,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "in").mkdir()
    _image(tmp_path / "in" / "a.png")
    _image(tmp_path / "in" / "b.png", seed=1)
    (tmp_path / "out").mkdir()
    _image(tmp_path / "out" / "b.png", seed=2)
    single = _image(tmp_path / "single.png", seed=3)
    _image(tmp_path / "out" / "single.png", seed=4)
    before = snapshot(tmp_path)
    argv = ["upscale", str(exported), str(tmp_path / "in"), str(tmp_path / "out"), "--no-progress"]
    cli_error(argv, "pass --force")
    cli_error(["upscale", str(exported), str(single), str(tmp_path / "out")], "pass --force")
    cli_error(["upscale", str(exported), str(single), str(tmp_path / "out" / "b.png")], "pass --force")
    assert snapshot(tmp_path) == before  # not even a.png was written
    assert main([*argv, "--force"]) == 0
    capsys.readouterr()
    after = snapshot(tmp_path)
    assert after["out/b.png"] != before["out/b.png"] and "out/a.png" in after
    assert after["in/a.png"] == before["in/a.png"] and not [p for p in after if "/." in p]  # no temp


def test_unwritable_outputs(exported: Path, tmp_path: Path, cli_error: CliError) -> None:
    x = _image(tmp_path / "x.png")
    (tmp_path / "file").write_text("a file")
    cli_error(["upscale", str(exported), str(x), str(tmp_path / "file" / "y.png")], "not a writable folder")
    (tmp_path / "in").mkdir()
    _image(tmp_path / "in" / "a.png")
    (tmp_path / "out" / "a.png").mkdir(parents=True)
    cli_error(
        ["upscale", str(exported), str(tmp_path / "in"), str(tmp_path / "out"), "--force"], "is a folder"
    )


# ------------------------------------------------------------------ upscale: models


def _model_copy(exported: Path, tmp_path: Path, change: Callable[[onnx.ModelProto], None]) -> Path:
    proto = onnx.load(str(exported / "model.onnx"))
    change(proto)
    path = tmp_path / "model.onnx"
    onnx.save(proto, str(path))
    return path


def _set_meta(key: str, value: str) -> Callable[[onnx.ModelProto], None]:
    def change(proto: onnx.ModelProto) -> None:
        props = {p.key: p.value for p in proto.metadata_props}
        props[key] = value
        del proto.metadata_props[:]
        onnx.helper.set_model_props(proto, props)

    return change


def _nan_weights(proto: onnx.ModelProto) -> None:
    init = proto.graph.initializer[0]
    array = numpy_helper.to_array(init).copy()
    array[...] = np.nan
    init.CopyFrom(numpy_helper.from_array(array, init.name))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (_set_meta("srprune.scale", "abc"), "invalid metadata value srprune.scale='abc'"),
        (_set_meta("srprune.scale", "3"), "upscales x2"),
        (_set_meta("srprune.scale", "-2"), "invalid metadata"),
        (_set_meta("srprune.receptive_radius", "-5"), "invalid metadata value srprune.receptive_radius"),
        (_set_meta("srprune.receptive_radius", "0"), "tiles would show seams"),
        (_set_meta("srprune.receptive_radius", "1e9"), "invalid metadata"),
        (_nan_weights, "outputs NaN"),
    ],
    ids=["scale-abc", "scale-3", "scale-neg", "radius-neg", "radius-0", "radius-float", "nan-weights"],
)
def test_altered_models_are_refused(
    exported: Path, tmp_path: Path, change: Callable[[onnx.ModelProto], None], match: str, cli_error: CliError
) -> None:
    model = _model_copy(exported, tmp_path, change)
    x = _image(tmp_path / "x.png")
    cli_error(["upscale", str(model), str(x), str(tmp_path / "y.png")], match)
    assert not (tmp_path / "y.png").exists()


@pytest.mark.parametrize(
    ("content", "match"),
    [(b"", "is empty (0 bytes)"), (b"garbage" * 10, "not"), (b"\x08\x07", "no graph")],
    ids=["zero-bytes", "garbage", "no-graph"],
)
def test_files_that_are_not_models(tmp_path: Path, content: bytes, match: str, cli_error: CliError) -> None:
    (tmp_path / "model.onnx").write_bytes(content)
    x = _image(tmp_path / "x.png")
    cli_error(["upscale", str(tmp_path / "model.onnx"), str(x), str(tmp_path / "y.png")], match)
    cli_error(["upscale", str(tmp_path), str(x), str(tmp_path / "y.png")], match)  # the folder
    assert not (tmp_path / "y.png").exists()


def test_a_model_that_is_a_folder(tmp_path: Path, cli_error: CliError) -> None:
    (tmp_path / "m" / "model.onnx").mkdir(parents=True)
    x = _image(tmp_path / "x.png")
    cli_error(["upscale", str(tmp_path / "m"), str(x), str(tmp_path / "y.png")], "No ONNX model")


def test_a_small_tile_names_the_smallest_that_works(
    exported: Path, tmp_path: Path, cli_error: CliError
) -> None:
    smallest = 2 * OnnxUpscaler(exported).radius + 1
    x = _image(tmp_path / "x.png", size=40)
    cli_error(
        ["upscale", str(exported), str(x), str(tmp_path / "y.png"), "--tile", "2"],
        f"--tile {smallest} or more",
    )
    assert main(["upscale", str(exported), str(x), str(tmp_path / "y.png"), "--tile", str(smallest)]) == 0


# ------------------------------------------------------------------ export


def test_metrics_json_is_strict_json(exported: Path) -> None:
    def refuse(name: str) -> None:
        raise ValueError(name)

    metrics = json.loads((exported / "metrics.json").read_text(), parse_constant=refuse)
    assert np.isfinite(metrics["psnr"])


@pytest.mark.parametrize("lr", ["nan", "inf", "-1", "0", "1e999"])
def test_a_learning_rate_must_be_finite_and_positive(
    study: Study, tmp_path: Path, lr: str, cli_error: CliError
) -> None:
    cli_error([*export_argv(study, tmp_path / "out"), "--lr", lr], "--lr")
    cli_error([*export_argv(study, tmp_path / "out"), "--distill-weight", "nan"], "--distill-weight")
    assert not (tmp_path / "out").exists()


def test_a_diverging_fine_tune_writes_nothing(
    study: Study, tmp_path: Path, cli_error: CliError, snapshot: Snapshot
) -> None:
    from optuna_srprune.data import default_validation_dir

    db = Path(study.url[len("sqlite:///") :])
    before = snapshot(db)
    argv = [*export_argv(study, tmp_path / "out"), "--lr", "1e30", "--finetune-steps", "5"]
    cli_error([*argv, "--data", str(default_validation_dir())], "nothing was written")
    assert not (tmp_path / "out").exists() and list(tmp_path.iterdir()) == []
    assert snapshot(db) == before


def test_an_unwritable_export_folder(study: Study, tmp_path: Path, cli_error: CliError) -> None:
    (tmp_path / "file").write_text("a file")
    cli_error(export_argv(study, tmp_path / "file" / "out"), "not a writable folder")
    cli_error(export_argv(study, tmp_path / "file"), "is a file")


def test_report_on_a_tiny_image_names_its_size(study: Study, tmp_path: Path, cli_error: CliError) -> None:
    tiny = tmp_path / "tiny.png"
    Image.fromarray(np.zeros((1, 1, 3), np.uint8)).save(tiny)
    out = tmp_path / "r.html"
    argv = ["report", "--storage", study.url, "--study", study.name, "--out", str(out), "--image", str(tiny)]
    cli_error(argv, "(1x1) is smaller than the scale x2")
    (tmp_path / "file").write_text("a file")
    argv[argv.index("--out") + 1] = str(tmp_path / "file" / "r.html")
    cli_error(argv, "does not exist")
    assert not out.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; see the file cases")
def test_a_read_only_folder_as_non_root(exported: Path, tmp_path: Path, cli_error: CliError) -> None:
    x = _image(tmp_path / "x.png")
    (tmp_path / "ro").mkdir()
    os.chmod(tmp_path / "ro", 0o555)
    try:
        cli_error(["upscale", str(exported), str(x), str(tmp_path / "ro" / "y.png")], "not a writable folder")
    finally:
        os.chmod(tmp_path / "ro", 0o755)
        shutil.rmtree(tmp_path / "ro")


def test_a_failed_export_leaves_no_artifact_store(study: Study, tmp_path: Path, cli_error: CliError) -> None:
    store = tmp_path / "artifacts" / "store"
    cli_error(
        [*export_argv(study, tmp_path / "out", trial=99), "--artifact-store", str(store)], "no trial 99"
    )
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "file").write_text("a file")
    argv = [*export_argv(study, tmp_path / "out"), "--artifact-store", str(tmp_path / "file" / "store")]
    cli_error(argv, "Cannot create the artifact store")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
