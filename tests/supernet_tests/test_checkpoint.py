from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from optuna_srprune.exceptions import CheckpointError
from optuna_srprune.search_space import SRSearchSpace
from optuna_srprune.supernet import SRSupernet
from optuna_srprune.supernet._supernet import ASSETS


def test_save_load_round_trip(tiny_space: SRSearchSpace, tmp_path: Path) -> None:
    supernet = SRSupernet(tiny_space)
    supernet.save(tmp_path / "w.pt", step=7)
    loaded = SRSupernet.load(tmp_path / "w.pt", space=tiny_space, scale=2)
    assert not loaded.training
    for key, value in supernet.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key])
    assert SRSupernet.load(tmp_path / "w.pt").space == tiny_space  # the space comes with the file
    other_prefix = dataclasses.replace(tiny_space, prefix="x:")
    SRSupernet.load(tmp_path / "w.pt", space=other_prefix)  # a prefix only names parameters


def test_checkpoint_of_another_scale_is_rejected(tiny_space: SRSearchSpace, tmp_path: Path) -> None:
    SRSupernet(tiny_space).save(tmp_path / "w.pt")
    with pytest.raises(CheckpointError, match="is for x2, not x4"):
        SRSupernet.load(tmp_path / "w.pt", scale=4)


def test_checkpoint_of_another_space_is_rejected(tiny_space: SRSearchSpace, tmp_path: Path) -> None:
    SRSupernet(tiny_space).save(tmp_path / "w.pt")
    wider = dataclasses.replace(tiny_space, widths=(8, 16, 24))
    with pytest.raises(CheckpointError, match="another search space.*widths"):
        SRSupernet.load(tmp_path / "w.pt", space=wider)


def test_corrupt_and_missing_checkpoints_are_rejected(tiny_space: SRSearchSpace, tmp_path: Path) -> None:
    SRSupernet(tiny_space).save(tmp_path / "w.pt")
    data = (tmp_path / "w.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint at all")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    for name, message in [
        ("cut.pt", "corrupt"),
        ("junk.pt", "corrupt"),
        ("other.pt", "not an optuna-srprune"),
        ("missing.pt", "does not exist"),
    ]:
        with pytest.raises(CheckpointError, match=message):
            SRSupernet.load(tmp_path / name)


def test_tampered_weights_are_rejected(tiny_space: SRSearchSpace, tmp_path: Path) -> None:
    supernet = SRSupernet(tiny_space)
    state = supernet.state_dict()
    state["convs.head.weight"] = torch.zeros(3, 3, 3, 3)
    supernet.save(tmp_path / "w.pt")
    ckpt = torch.load(tmp_path / "w.pt", weights_only=True)
    ckpt["model"] = state
    torch.save(ckpt, tmp_path / "w.pt")
    with pytest.raises(CheckpointError, match="is damaged"):  # the content hash sees it first
        SRSupernet.load(tmp_path / "w.pt")
    del ckpt["sha256"]  # a file from before the hash: the shapes are still checked
    torch.save(ckpt, tmp_path / "w.pt")
    with pytest.raises(CheckpointError, match="does not fit"):
        SRSupernet.load(tmp_path / "w.pt")


def test_pretrained_for_an_unshipped_scale_is_a_clear_error() -> None:
    with pytest.raises(CheckpointError, match="No pretrained supernet is shipped for x3"):
        SRSupernet.pretrained(3)


@pytest.mark.parametrize("scale", [2, 4])
def test_pretrained_supernets_load(scale: int) -> None:
    if not (ASSETS / f"supernet_x{scale}.pt").is_file():
        pytest.skip(f"no x{scale} supernet shipped yet")
    supernet = SRSupernet.pretrained(scale)
    assert supernet.scale == scale
    assert supernet.space == SRSearchSpace(scale=scale)
    with torch.no_grad():
        assert supernet(torch.rand(1, 3, 6, 6)).shape == (1, 3, 6 * scale, 6 * scale)
