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


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_every_runner_computes_one_function_and_the_timed_graph_is_the_shipped_one(scale: int) -> None:
    """The supernet's active path, the extracted SRNet, the torch back-end's model (what
    ``TorchBackend.prepare_network`` times) and the exported ONNX graph agree on random networks of
    every block kind and tail; the three torch ones are the one runner; and the graph the latency
    table times has the exported graph's operators in the same order."""
    from optuna_srprune.config import layer_specs
    from optuna_srprune.latency import build_onnx_model
    from optuna_srprune.latency import build_torch_model
    from optuna_srprune.nn import LayerNet
    from optuna_srprune.search_space import SRSearchSpace

    space = SRSearchSpace.for_backend(scale, 8, block_kinds=("ecb", "edsr", "wdsr"), max_depth=4)
    supernet = SRSupernet(space).eval()
    with torch.no_grad():
        for p in supernet.parameters():
            p.normal_(0.0, 0.1)
    rng = np.random.default_rng(scale)
    x = torch.rand(1, 3, 11, 13)
    for _ in range(6):
        net = supernet.extract(space.sample(rng)).eval()
        exported = to_onnx(net)
        weights = {}
        for spec in net.specs:
            weights[f"{spec.name}.weight"] = net.conv(spec.name).weight.detach().numpy()
            weights[f"{spec.name}.bias"] = net.conv(spec.name).bias.detach().numpy()  # type: ignore[union-attr]
        runner = build_torch_model(layer_specs(net.config, 11, 13), scale, weights)
        assert isinstance(runner, LayerNet) and isinstance(net, LayerNet)
        with torch.no_grad():
            expected = net(x)
            assert (runner(x) - expected).abs().max().item() < 1e-5, net.config.summary()
            assert (supernet(x, net.config) - expected).abs().max().item() < 1e-5, net.config.summary()
        assert _max_diff(exported, net, 11, 13) < 1e-5, net.config.summary()
        timed = build_onnx_model(layer_specs(net.config, 360, 640), scale)
        assert [n.op_type for n in timed.graph.node] == [n.op_type for n in exported.graph.node]
