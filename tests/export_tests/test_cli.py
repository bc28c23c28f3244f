"""``optuna-srprune export``: the files, what it records, and bad input (exit 2, nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
from optuna.artifacts import get_all_artifact_meta
from optuna.trial import TrialState
import pytest
import torch

from optuna_srprune.cli import main
from optuna_srprune.export import EXPORT_ATTR_PREFIX
from optuna_srprune.export import load_network
from optuna_srprune.supernet import SRSupernet

from .conftest import expect_error
from .conftest import export_argv
from .conftest import last_json
from .conftest import Study

FILES = {"model.onnx", "model.pt", "config.json", "metrics.json"}


def _study(study: Study) -> optuna.Study:
    return optuna.load_study(study_name=study.name, storage=study.url)


def test_export_writes_the_files_and_records_them(study: Study, exported: Path) -> None:
    assert {p.name for p in exported.iterdir()} == FILES
    metrics = json.loads((exported / "metrics.json").read_text())
    trial = _study(study).trials[0]
    assert trial.state == TrialState.COMPLETE
    # Before fine-tuning, the network is the trial's: the search's protocol gives the same PSNR.
    assert metrics["inherited"]["psnr"] == pytest.approx(trial.values[0], abs=1e-6)
    assert metrics["search"] == {"psnr": trial.values[0], "latency_ms": trial.values[1]}
    assert metrics["finetune"]["steps"] == 3 and metrics["psnr"] != metrics["inherited"]["psnr"]
    assert set(metrics["per_image"]) == {"baby", "bird", "butterfly", "head", "woman"}
    latency = metrics["latency"]
    assert latency["backend"] == "onnxruntime" and latency["hr_size"] == [32, 32]
    assert latency["measured_ms"] > 0 and latency["predicted_ms"] == trial.values[1]
    record = json.loads(_study(study).user_attrs[f"{EXPORT_ATTR_PREFIX}0"])
    assert record["psnr"] == metrics["psnr"] and record["measured_ms"] == latency["measured_ms"]


def test_zero_steps_export_the_inherited_weights(
    study: Study, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "inherited"
    assert main([*export_argv(study, out, "--finetune-steps", "0", trial=1), "--json"]) == 0
    result = last_json(capsys)
    assert result["psnr"] == result["inherited"]["psnr"] and result["finetune"]["steps"] == 0
    net = load_network(out)
    reference = SRSupernet.load(study.root / "supernet.pt").extract(net.config)
    state = reference.state_dict()
    assert all(torch.equal(v, state[k]) for k, v in net.state_dict().items())


def test_without_data_it_warns_and_uses_the_validation_images(
    study: Study, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(export_argv(study, tmp_path / "out", "--finetune-steps", "1")) == 0
    captured = capsys.readouterr()
    assert "warning: No training data given (--data)" in captured.err
    assert "PSNR" in captured.out and "latency" in captured.out


def test_force_and_artifacts(study: Study, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    expect_error(export_argv(study, out, "--finetune-steps", "0"), capsys, "exists; pass --force")
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    store = tmp_path / "artifacts"
    argv = export_argv(
        study, out, "--finetune-steps", "0", "--force", "--artifact-store", str(store), trial=2
    )
    assert main([*argv, "--json"]) == 0
    result = last_json(capsys)
    assert {p.name for p in out.iterdir()} == FILES | {"notes.txt"}
    assert set(result["artifacts"]) == FILES
    metas = {m.filename: m for m in get_all_artifact_meta(_study(study))}
    assert {f"trial2-{name}" for name in FILES} <= set(metas)
    assert (store / result["artifacts"]["model.onnx"]).read_bytes() == (out / "model.onnx").read_bytes()


def test_bad_input(study: Study, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    running = _study(study).ask()  # a trial that has not completed
    try:
        cases = [
            (export_argv(study, out, trial=99), "has no trial 99 (its trials are numbered 0 to"),
            (
                export_argv(study, out, trial=running.number),
                f"Trial {running.number} of study 's' is RUNNING",
            ),
            ([*export_argv(study, out), "--data", str(tmp_path / "nope")], "does not exist"),
        ]
        for argv, message in cases:
            expect_error(argv, capsys, message)
        unknown = export_argv(study, out)
        unknown[unknown.index("--study") + 1] = "other"
        expect_error(unknown, capsys, "No study 'other'")
        missing_db = export_argv(study, out)
        missing_db[missing_db.index("--storage") + 1] = f"sqlite:///{tmp_path / 'none.db'}"
        expect_error(missing_db, capsys, "No database file")
        assert not (tmp_path / "none.db").exists()
        with pytest.raises(SystemExit) as exit_info:
            main([*export_argv(study, out), "--finetune-steps", "-1"])
        assert exit_info.value.code == 2 and "expected an integer >= 0" in capsys.readouterr().err
    finally:
        _study(study).tell(running, state=TrialState.FAIL)
    assert not out.exists()
    plain = "plain"
    optuna.create_study(study_name=plain, storage=study.url).optimize(lambda t: t.suggest_float("x", 0, 1), 1)
    argv = export_argv(study, out)
    argv[argv.index("--study") + 1] = plain
    expect_error(argv, capsys, "has objectives")
