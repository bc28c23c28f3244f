"""LatencyPredictor: sums, overhead, breakdown, missing kernels, speed-independent behaviour."""

from __future__ import annotations

import numpy as np
import pytest

from optuna_srprune.config import BlockConfig
from optuna_srprune.config import layer_specs
from optuna_srprune.config import SubnetConfig
from optuna_srprune.exceptions import LatencyTableError
from optuna_srprune.latency import fit_overhead
from optuna_srprune.latency import LatencyPredictor
from optuna_srprune.latency import LatencyTable
from optuna_srprune.latency import Timing
from optuna_srprune.search_space import SRSearchSpace

FP = "test-device|threads=1|float32"
SPACE = SRSearchSpace(scale=2, widths=(8,), max_depth=2, max_ratio=0.5, ratio_step=0.25, channel_multiple=4)


def _table(url: str = "sqlite://") -> LatencyTable:
    table = LatencyTable(url, FP)
    # A synthetic latency: linear in MACs, so interpolation in a channel count is exact.
    table.add_many(
        {layer.key(): Timing(layer.macs / 1e3 + 0.5, 0.0, 1) for layer in SPACE.layer_universe(4, 4)}
    )
    return table


def test_prediction_is_kernel_sum_plus_fitted_overhead(tmp_path) -> None:
    table = _table(f"sqlite:///{tmp_path / 'p.db'}")
    config = SPACE.largest()
    layers = layer_specs(config, 4, 4)
    kernel_sum = sum(layer.macs / 1e3 + 0.5 for layer in layers)
    assert LatencyPredictor(table, hr_size=(8, 8)).predict(config) == pytest.approx(kernel_sum)
    table.set_overhead("x2:4x4", 2.0, 0.9, 5)
    predictor = LatencyPredictor(table, hr_size=(8, 8))
    assert predictor.predict(config) == pytest.approx(2.0 + 0.9 * kernel_sum)
    rows = predictor.breakdown(config)
    assert [r.name for r in rows] == [layer.name for layer in layers] + ["overhead"]
    assert sum(r.ms for r in rows) == pytest.approx(predictor.predict(config))


def test_fit_overhead_recovers_a_line() -> None:
    sums = [10.0, 20.0, 50.0, 100.0]
    assert fit_overhead(sums, [3.0 + 0.8 * s for s in sums]) == pytest.approx((3.0, 0.8))
    assert fit_overhead([10.0], [12.0]) == pytest.approx((2.0, 1.0))


def test_missing_kernel_is_a_clear_error_by_default() -> None:
    predictor = LatencyPredictor(_table(), hr_size=(8, 8))
    outside = SubnetConfig(scale=2, width=8, blocks=(BlockConfig("edsr", (6,)),))  # 6: never calibrated
    with pytest.raises(LatencyTableError, match=r"conv:k3s1:8>6.*calibrate"):
        predictor.predict(outside)
    wider = SubnetConfig(scale=2, width=12, blocks=(BlockConfig("edsr", (8,)),))  # nothing to interpolate
    with pytest.raises(LatencyTableError, match="cannot be interpolated"):
        LatencyPredictor(_table(), hr_size=(8, 8), interpolate=True).predict(wider)


def test_missing_kernel_interpolates_between_measured_channel_counts() -> None:
    predictor = LatencyPredictor(_table(), hr_size=(8, 8), interpolate=True)
    outside = SubnetConfig(scale=2, width=8, blocks=(BlockConfig("edsr", (6,)),))  # between 4 and 8
    expected = sum(layer.macs / 1e3 + 0.5 for layer in layer_specs(outside, 4, 4))
    assert predictor.predict(outside) == pytest.approx(expected)
    flags = {r.name: r.interpolated for r in predictor.breakdown(outside)}
    assert flags["block0.conv0"] and flags["block0.conv1"] and not flags["head"]


def test_predictions_are_cached_and_consistent() -> None:
    predictor = LatencyPredictor(_table(), hr_size=(8, 8))
    rng = np.random.default_rng(0)
    configs = [SPACE.sample(rng) for _ in range(50)]
    first = [predictor.predict(c) for c in configs]
    assert [predictor.predict(c) for c in configs] == first
    assert predictor.predict(SPACE.smallest()) < predictor.predict(SPACE.largest())
