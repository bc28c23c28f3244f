from __future__ import annotations

import time

import pytest

from optuna_srprune.latency._timing import summarize
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
