"""The ONNX builder runs exactly the network the torch reference runs, with given weights."""

from __future__ import annotations

import numpy as np
import pytest

from optuna_srprune.config import BlockConfig
from optuna_srprune.config import layer_specs
from optuna_srprune.config import SubnetConfig
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.latency import build_onnx_model
from optuna_srprune.latency import build_torch_model
from optuna_srprune.latency import OnnxRuntimeBackend


def _weights(layers: list, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for layer in layers:
        shape = (layer.out_channels, layer.in_channels, layer.kernel, layer.kernel)
        out[f"{layer.name}.weight"] = rng.normal(0, 0.1, shape).astype(np.float32)
        out[f"{layer.name}.bias"] = rng.normal(0, 0.1, layer.out_channels).astype(np.float32)
    return out


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_onnx_matches_torch_reference(scale: int) -> None:
    torch = pytest.importorskip("torch")
    blocks = (BlockConfig("edsr", (12,)), BlockConfig("wdsr", (32, 8)))
    config = SubnetConfig(scale=scale, width=8, blocks=blocks)
    layers = layer_specs(config, 6, 7)
    weights = _weights(layers)
    session = OnnxRuntimeBackend(threads=1).session(build_onnx_model(layers, scale, weights))
    image = np.random.default_rng(1).random((2, 3, 5, 9), dtype=np.float32)  # any size: H/W dynamic
    (out,) = session.run(["output"], {"input": image})
    with torch.no_grad():
        ref = build_torch_model(layers, scale, weights)(torch.from_numpy(image)).numpy()
    assert out.shape == (2, 3, 5 * scale, 9 * scale)
    np.testing.assert_allclose(out, ref, atol=1e-4)
    # Pixel shuffle semantics: with all-zero weights the output is nearest upsampling of the input.
    zeros = {k: np.zeros_like(v) for k, v in weights.items()}
    session = OnnxRuntimeBackend(threads=1).session(build_onnx_model(layers, scale, zeros))
    (out,) = session.run(["output"], {"input": image})
    np.testing.assert_array_equal(out, image.repeat(scale, axis=2).repeat(scale, axis=3))


def test_bad_weights_are_a_clear_error() -> None:
    config = SubnetConfig(scale=2, width=8, blocks=(BlockConfig("edsr", (8,)),))
    layers = layer_specs(config, 4, 4)
    weights = _weights(layers)
    del weights["tail.bias"]
    with pytest.raises(ConfigError, match="tail"):
        build_onnx_model(layers, 2, weights)
    weights = _weights(layers)
    weights["head.weight"] = weights["head.weight"][:4]
    with pytest.raises(ConfigError, match="head"):
        build_onnx_model(layers, 2, weights)
    with pytest.raises(ConfigError, match="scale"):
        build_onnx_model(layers, 4)
