"""Back-ends run kernels, networks and fusion probes; importing the package does not import torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from optuna_srprune.config import layer_specs
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.latency import detect_fusion
from optuna_srprune.latency import make_backend
from optuna_srprune.search_space import SRSearchSpace


@pytest.mark.parametrize("name", ["onnxruntime", "torch"])
def test_backend_measures_kernels_networks_and_probes(name: str) -> None:
    backend = make_backend(name, threads=1)
    assert "threads=1" in backend.fingerprint() and backend.fingerprint().startswith(name)
    layers = layer_specs(SRSearchSpace(scale=2).largest(), 6, 8)
    timings = backend.measure_layers(layers, warmup=1, repeats=3)
    assert len(timings) == len(layers) and all(t.median_ms > 0 and t.repeats == 3 for t in timings)
    assert backend.measure_network(layers, 2, warmup=1, repeats=3).median_ms > 0
    results = detect_fusion(backend, channels=8, height=8, width=8, warmup=0, repeats=2)
    assert {(r.first, r.second) for r in results} >= {("conv3x3", "relu"), ("conv3x3", "conv3x3")}
    assert all(isinstance(r.fused, bool) for r in results)


def test_unknown_backend_and_threads() -> None:
    with pytest.raises(ConfigError, match="Unknown latency back-end"):
        make_backend("tflite")
    with pytest.raises(ConfigError, match="threads"):
        make_backend("onnxruntime", threads=0)


def test_latency_package_does_not_import_torch() -> None:
    code = "import sys, optuna_srprune.latency; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
