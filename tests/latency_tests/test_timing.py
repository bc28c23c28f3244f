from __future__ import annotations

import time

import pytest

from optuna_srprune.latency._timing import summarize
from optuna_srprune.latency._timing import time_calls
from optuna_srprune.latency._timing import time_interleaved


def test_interleaved_rounds_settle_and_burst() -> None:
    calls: list[str] = []
    fns = [lambda: calls.append("a"), lambda: calls.append("b")]
    timings = time_interleaved(fns, warmup=1, repeats=2, settle=1, burst=2)
    # warm-up of each, then per round: a (settle) a a, b (settle) b b
    assert "".join(calls) == "ab" + "aaabbb" * 2
    assert [t.repeats for t in timings] == [4, 4]


def test_interleaved_settles_for_a_minimum_time() -> None:
    calls: list[str] = []

    def slow() -> None:
        calls.append("s")
        time.sleep(0.004)

    time_interleaved([slow], warmup=0, repeats=1, settle=1, settle_ms=20.0, burst=1)
    settling = len(calls) - 1
    # Calls of >= 4 ms until 20 ms have passed: more than the one asked for, at most five.
    assert 2 <= settling <= 5


def test_interleaved_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="burst"):
        time_interleaved([lambda: None], warmup=0, repeats=1, burst=0)


def test_summarize_median_and_iqr() -> None:
    timing = summarize([1.0, 2.0, 3.0, 4.0, 100.0])
    assert timing.median_ms == 3.0
    assert timing.repeats == 5
    assert 0 < timing.spread_ms < 100


def test_interleaved_calls_on_round_after_each_round() -> None:
    rounds: list[int] = []
    time_interleaved([lambda: None, lambda: None], warmup=0, repeats=3, on_round=lambda: rounds.append(1))
    assert len(rounds) == 3


class _FakeClock:
    """``perf_counter`` for code under test: each call of the timed function advances it by the next
    duration (ms) of ``durations``, cycled."""

    def __init__(self, durations: list[float]) -> None:
        self.now, self.durations, self.calls = 0.0, durations, 0

    def perf_counter(self) -> float:
        return self.now

    def run(self) -> None:
        self.now += self.durations[self.calls % len(self.durations)] / 1e3
        self.calls += 1


def test_adaptive_repeats_stop_once_the_median_is_stable(monkeypatch) -> None:
    from optuna_srprune.latency import _timing

    steady = _FakeClock([10.0, 10.05, 9.95])
    monkeypatch.setattr(_timing.time, "perf_counter", steady.perf_counter)
    assert time_calls(steady.run, warmup=0, repeats=5, max_repeats=20).repeats == 5
    noisy = _FakeClock([10.0, 14.0, 7.0, 12.0])
    monkeypatch.setattr(_timing.time, "perf_counter", noisy.perf_counter)
    assert time_calls(noisy.run, warmup=0, repeats=5, max_repeats=20).repeats == 20
    assert time_calls(noisy.run, warmup=0, repeats=5).repeats == 5  # no max_repeats: fixed
    with pytest.raises(ValueError, match="max_repeats >= repeats"):
        time_calls(noisy.run, warmup=0, repeats=5, max_repeats=4)


def test_adaptive_rounds_go_on_until_every_callable_is_stable(monkeypatch) -> None:
    from optuna_srprune.latency import _timing

    clock = _FakeClock([10.0])
    monkeypatch.setattr(_timing.time, "perf_counter", clock.perf_counter)
    noisy = _FakeClock([10.0, 14.0, 7.0, 12.0])

    def jittery() -> None:  # advances the shared clock by the noisy durations
        noisy.now = clock.now
        noisy.run()
        clock.now = noisy.now

    timings = time_interleaved([clock.run, jittery], warmup=0, repeats=3, burst=2, max_repeats=8)
    assert [t.repeats for t in timings] == [16, 16]  # the steady one waits for the noisy one
    timings = time_interleaved([clock.run, clock.run], warmup=0, repeats=3, burst=2, max_repeats=8)
    assert [t.repeats for t in timings] == [6, 6]
