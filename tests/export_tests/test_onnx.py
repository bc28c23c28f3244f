"""The exported ONNX model: same function as the torch network, the documented contract."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from optuna_srprune.config import SubnetConfig
from optuna_srprune.evaluation import receptive_radius
from optuna_srprune.exceptions import CheckpointError
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.export import load_network
from optuna_srprune.export import to_onnx
from optuna_srprune.supernet import SRNet
from optuna_srprune.supernet import SRSupernet


def _max_diff(model: onnx.ModelProto | str, net: SRNet, height: int, width: int) -> float:
    source = model if isinstance(model, str) else model.SerializeToString()
    session = ort.InferenceSession(source, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(height).random((2, 3, height, width), dtype=np.float32)
    (y,) = session.run(None, {"input": x})
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    assert y.shape == expected.shape == (2, 3, height * net.config.scale, width * net.config.scale)
    return float(np.abs(y - expected).max())


@pytest.mark.parametrize("size", [(17, 23), (32, 40)])
def test_exported_onnx_and_torch_agree(exported: Path, size: tuple[int, int]) -> None:
    net = load_network(exported)
    assert _max_diff(str(exported / "model.onnx"), net, *size) < 1e-4


@pytest.mark.parametrize("scale", [2, 4])
def test_trained_networks_agree(scale: int) -> None:
    supernet = SRSupernet.pretrained(scale)
    for config in (supernet.space.largest(), supernet.space.sample(np.random.default_rng(scale))):
        net = supernet.extract(config).eval()
        assert _max_diff(to_onnx(net), net, 17, 23) < 1e-4


def test_contract(exported: Path) -> None:
    model = onnx.load(str(exported / "model.onnx"))
    (inp,), (out,) = model.graph.input, model.graph.output
    assert (inp.name, out.name) == ("input", "output")
    for value in (inp, out):
        assert value.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    assert dims == ["batch", 3, "height", "width"]
    assert [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim][1] == 3
    meta = {p.key: p.value for p in model.metadata_props}
    config = SubnetConfig.from_json((exported / "config.json").read_text())
    assert SubnetConfig.from_json(meta["srprune.config"]) == config
    assert int(meta["srprune.scale"]) == config.scale == 2
    assert int(meta["srprune.receptive_radius"]) == receptive_radius(config)
    assert "not clamped" in model.doc_string
    state = torch.load(exported / "model.pt", weights_only=True)
    SRNet(config).load_state_dict(state)  # a plain state dict of the network
    metrics = json.loads((exported / "metrics.json").read_text())
    assert metrics["config"] == config.to_dict()


def test_load_network_errors(exported: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config.json"):
        load_network(tmp_path)
    (tmp_path / "config.json").write_text((exported / "config.json").read_text())
    (tmp_path / "model.pt").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="corrupt"):
        load_network(tmp_path)
    torch.save({"convs.head.weight": torch.zeros(1)}, tmp_path / "model.pt")
    with pytest.raises(CheckpointError, match="does not fit"):
        load_network(tmp_path)
