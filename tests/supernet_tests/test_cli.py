from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from optuna_srprune.cli import main
from optuna_srprune.config import BlockConfig
from optuna_srprune.config import count_macs
from optuna_srprune.config import SubnetConfig
from optuna_srprune.search_space import SRSearchSpace
from optuna_srprune.supernet import SRSupernet


def _last_json(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_evaluate_reports_quality_and_costs(
    tiny_space: SRSearchSpace, tiny_images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    SRSupernet(tiny_space).save(tmp_path / "w.pt")
    config = SubnetConfig(2, 8, (BlockConfig("wdsr", (16, 4)),))
    (tmp_path / "c.json").write_text(config.to_json())
    for choice, expected in [("smallest", tiny_space.smallest()), (str(tmp_path / "c.json"), config)]:
        argv = ["evaluate", "--supernet", str(tmp_path / "w.pt"), "--scale", "2", "--config", choice]
        assert main([*argv, "--data", str(tiny_images), "--json"]) == 0
        result = _last_json(capsys)
        assert {"psnr", "ssim", "macs", "params", "macs_720p"} <= set(result)
        assert result["macs"] == count_macs(expected, 18, 20)
        assert result["macs_720p"] == count_macs(expected, 360, 640)
        assert result["psnr"] > 10 and 0 < result["ssim"] <= 1


def test_evaluate_bad_input_exits_2(
    tiny_space: SRSearchSpace, tiny_images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    SRSupernet(tiny_space).save(tmp_path / "w.pt")
    (tmp_path / "wide.json").write_text(SubnetConfig(2, 24, (BlockConfig("edsr", (24,)),)).to_json())
    (tmp_path / "corrupt.pt").write_bytes(b"garbage")
    base = ["evaluate", "--scale", "2", "--data", str(tiny_images)]
    cases = [
        (["--supernet", str(tmp_path / "w.pt"), "--config", str(tmp_path / "wide.json")], "width=24"),
        (["--supernet", str(tmp_path / "w.pt"), "--config", "nope"], "--config must be"),
        (["--supernet", str(tmp_path / "corrupt.pt")], "corrupt"),
        (["--supernet", str(tmp_path / "w.pt"), "--scale", "4"], "not x4"),
    ]
    for extra, message in cases:
        assert main(base + extra) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_train_supernet_command_and_resume(
    tiny_images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ckpt.pt"
    argv = ["train-supernet", "--scale", "2", "--data", str(tiny_images), "--out", str(out)]
    small = ["--batch-size", "1", "--patch-size", "8", "--validate-every", "0", "--threads", "1", "--json"]
    assert main([*argv, "--steps", "1", *small]) == 0
    assert _last_json(capsys)["step"] == 1
    assert main([*argv, "--steps", "2", "--resume", "--json"]) == 0  # settings come from the checkpoint
    result = _last_json(capsys)
    assert (result["step"], result["interrupted"]) == (2, False)
    ckpt = torch.load(out, weights_only=True)
    assert ckpt["train"]["patch_size"] == 8 and ckpt["step"] == 2


def test_train_supernet_in_a_macs_band_resumes_with_the_same_cost(
    tiny_images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "band.pt"
    argv = ["train-supernet", "--scale", "2", "--data", str(tiny_images), "--out", str(out), "--json"]
    small = ["--batch-size", "1", "--patch-size", "8", "--validate-every", "0", "--threads", "1"]
    band = ["--band-gmacs", "1.2", "7", "--device", "cpu", "--channel-multiple", "16"]
    assert main([*argv, "--steps", "1", *small, *band]) == 0
    assert main([*argv, "--steps", "2", "--resume"]) == 0  # the band and its cost come back
    ckpt = torch.load(out, weights_only=True)
    assert ckpt["step"] == 2 and tuple(ckpt["train"]["band"]) == (1.2, 7.0)
    assert ckpt["train"]["band_cost"] == "gmacs@720x1280" and "ema" in ckpt
    assert ckpt["space"] == SRSearchSpace.for_backend(2, 16).to_dict()  # kept when resuming
    capsys.readouterr()


@pytest.mark.parametrize(
    ("device", "message"),
    [("tpu", "Unknown device 'tpu'"), ("cuda:x", "Unknown device"), ("cuda", "no CUDA GPU")],
)
def test_bad_device_is_one_clear_line(
    device: str, message: str, tiny_images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    argv = ["train-supernet", "--scale", "2", "--data", str(tiny_images), "--steps", "1"]
    assert main([*argv, "--out", str(tmp_path / "d.pt"), "--device", device]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "d.pt").exists()
    assert main(["evaluate", "--scale", "2", "--supernet", "default", "--device", device]) == 2
    assert message in capsys.readouterr().err
