"""Timing many networks keeps only a block of them prepared at once (bounded memory)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from optuna_srprune.config import LayerSpec
from optuna_srprune.latency import LatencyBackend
from optuna_srprune.latency._backend import network_blocks
from optuna_srprune.latency._backend import network_bytes
from optuna_srprune.latency._backend import Runner


class _CountingBackend(LatencyBackend):
    """Counts the prepared networks still alive (a stand-in for sessions and their arenas)."""

    name = "counting"

    def __init__(self) -> None:
        self.alive = 0
        self.peak = 0
        self.prepared: list[int] = []

    def fingerprint(self) -> str:
        return "counting|threads=1|float32"

    def prepare_network(self, layers: Sequence[LayerSpec], scale: int) -> Runner:
        backend = self
        backend.prepared.append(layers[0].out_channels)

        class _Run:
            def __init__(self) -> None:
                backend.alive += 1
                backend.peak = max(backend.peak, backend.alive)

            def __del__(self) -> None:
                backend.alive -= 1

            def __call__(self) -> None:
                return None

        return _Run()


def _network(channels: int, size: int = 4) -> list[LayerSpec]:
    return [LayerSpec("head", "conv", 3, channels, 3, 1, size, size)]


def test_networks_are_prepared_a_block_at_a_time() -> None:
    backend = _CountingBackend()
    networks = [_network(c) for c in range(1, 11)]
    rounds: list[int] = []
    timings = backend.measure_networks(networks, 2, warmup=0, repeats=2, block=3, on_round=rounds.append)
    assert len(timings) == 10 and all(t.repeats == 4 for t in timings)
    assert backend.prepared == list(range(1, 11))  # in order, each once
    assert backend.peak == 3 and backend.alive == 0  # released after each block
    assert rounds == [3, 3, 3, 3, 3, 3, 1, 1]  # per round, the networks of its block
    assert sum(rounds) == len(networks) * 2


def test_blocks_respect_the_memory_estimate() -> None:
    small, big = _network(8, 16), _network(64, 512)
    big_mb = network_bytes(big) / 2**20
    assert network_bytes(big) == 3 * 4 * 64 * 512 * 512
    blocks = network_blocks([small, big, big, small, small], block=4, block_mb=1.5 * big_mb)
    assert [len(b) for b in blocks] == [2, 3]
    # A network over the limit on its own still gets a block.
    assert [len(b) for b in network_blocks([big, big], block=4, block_mb=1.0)] == [1, 1]


@pytest.mark.parametrize("block, block_mb", [(0, 10.0), (2, 0.0), (2, -1.0)])
def test_blocks_reject_nonsense(block: int, block_mb: float) -> None:
    with pytest.raises(ValueError, match="block"):
        network_blocks([_network(8)], block=block, block_mb=block_mb)
