"""Damaged supernet checkpoints and subnet configs, through ``evaluate``: one clear line, exit 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image
import pytest
import torch

from optuna_srprune.data import default_validation_dir
from optuna_srprune.search_space import SRSearchSpace
from optuna_srprune.supernet import SRSupernet
from optuna_srprune.supernet._checkpoint import HASH_KEY

CliError = Callable[..., str]


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile_ckpt")
    torch.manual_seed(0)
    SRSupernet(SRSearchSpace(scale=2, max_depth=2, widths=(8, 16))).save(root / "good.pt")
    (root / "val").mkdir()
    Image.open(default_validation_dir() / "bird.png").crop((0, 0, 48, 48)).save(root / "val/bird.png")
    return root


def _evaluate(ckpt: Path, assets: Path, *extra: str) -> list[str]:
    return ["evaluate", "--supernet", str(ckpt), "--scale", "2", "--data", str(assets / "val"), *extra]


def _rewrite(assets: Path, tmp_path: Path, change: Callable[[dict], None]) -> Path:
    """The good checkpoint changed; without its hash (as an old file), except for ``_perturb``, so
    that each structural check is seen to work on its own."""
    ckpt = torch.load(assets / "good.pt", weights_only=True)
    if change is not _perturb:
        ckpt.pop(HASH_KEY)
    change(ckpt)
    path = tmp_path / "bad.pt"
    torch.save(ckpt, path)
    return path


def test_a_new_checkpoint_carries_its_hash_and_loads(
    assets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from optuna_srprune.cli import main

    assert HASH_KEY in torch.load(assets / "good.pt", weights_only=True)
    assert main(_evaluate(assets / "good.pt", assets, "--json")) == 0


def test_the_shipped_checkpoints_without_a_hash_still_load() -> None:
    for scale in (2, 4):
        assert HASH_KEY not in torch.load(
            Path(__file__).resolve().parents[2] / f"optuna_srprune/supernet/assets/supernet_x{scale}.pt",
            weights_only=True,
        )
        SRSupernet.pretrained(scale)


def _perturb(ckpt: dict) -> None:
    name = sorted(ckpt["model"])[3]
    ckpt["model"][name] = ckpt["model"][name] + 0.01  # as flipped bytes would, but loadable


def _nan(ckpt: dict) -> None:
    name = sorted(ckpt["model"])[0]
    ckpt["model"][name][..., 0] = float("nan")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (_perturb, "is damaged"),
        (_nan, "non-finite weights"),
        (lambda c: c["space"].update(max_depth=100_000, widths=[4096]), "larger than"),
        (lambda c: c.update(scale="two"), "invalid scale 'two'"),
        (lambda c: c.update(scale=2.0), "invalid scale 2.0"),
        (lambda c: c.update(model={}), "holds no weights"),
        (lambda c: c.update(model=[1, 2]), "holds no weights"),
        (lambda c: c.update(space="big"), "no valid search space"),
        (lambda c: c["space"].update(widths=["a"]), "invalid search space"),
        (lambda c: c.update(version=99), "format version 99"),
        (lambda c: c.pop("model"), "lacks ['model']"),
    ],
    ids=["perturbed", "nan", "huge-space", "scale-str", "scale-float", "no-weights", "weights-list",
         "space-str", "widths-str", "version", "no-model"],
)  # fmt: skip
def test_damaged_checkpoints_are_refused(
    assets: Path, tmp_path: Path, change: Callable[[dict], None], match: str, cli_error: CliError
) -> None:
    cli_error(_evaluate(_rewrite(assets, tmp_path, change), assets), match)


def test_flipped_bytes_are_refused(assets: Path, tmp_path: Path, cli_error: CliError) -> None:
    data = bytearray((assets / "good.pt").read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4000] = bytes(b ^ 0xFF for b in data[middle : middle + 4000])
    (tmp_path / "flipped.pt").write_bytes(bytes(data))
    line = cli_error(_evaluate(tmp_path / "flipped.pt", assets), "Supernet checkpoint")
    assert "damaged" in line or "corrupt" in line


@pytest.mark.parametrize("content", [b"", b"not a checkpoint"], ids=["empty", "text"])
def test_files_that_are_not_checkpoints(
    assets: Path, tmp_path: Path, content: bytes, cli_error: CliError
) -> None:
    (tmp_path / "x.pt").write_bytes(content)
    cli_error(_evaluate(tmp_path / "x.pt", assets), "corrupt or not a checkpoint")
    cli_error(_evaluate(tmp_path, assets), "does not exist")  # a folder


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b'{"scale": 2.0, "width": 8, "blocks": [{"kind": "edsr", "channels": [8]}]}', "an integer"),
        (b'{"scale": 2, "width": 8.5, "blocks": [{"kind": "edsr", "channels": [8]}]}', "width"),
        (b'{"scale": 2, "width": 8, "blocks": [{"kind": "edsr", "channels": ["8"]}]}', "positive integers"),
        (b'{"scale": 2, "width": 8, "blocks": [[]]}', "'kind' and 'channels'"),
        (b'{"scale": 2, "width": 8, "blocks": "edsr"}', "must be a list"),
        (b'{"scale": true, "width": 8, "blocks": [{"kind": "edsr", "channels": [8]}]}', "an integer"),
        (b"\xff\xfe{ not utf-8", "not UTF-8"),
        (b"[" * 100_000, "nested too deeply"),
        (b"", "not valid JSON"),
        (b"null", "JSON object"),
        (b'{"scale": 4, "width": 8, "blocks": [{"kind": "edsr", "channels": [8]}]}', "is for x4"),
    ],
    ids=["scale-float", "width-float", "channels-str", "block-list", "blocks-str", "scale-bool",
         "latin1", "deep", "empty", "null", "other-scale"],
)  # fmt: skip
@pytest.mark.parametrize("command", ["evaluate", "latency"])
def test_bad_config_files(
    assets: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    content: bytes,
    match: str,
    cli_error: CliError,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.json").write_bytes(content)
    if command == "evaluate":
        argv = _evaluate(assets / "good.pt", assets, "--config", "config.json")
    else:
        argv = ["latency", "--scale", "2", "--hr-size", "16x16", "--config", "config.json"]
    cli_error(argv, match)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]  # no database left behind
