"""The torch back-end keeps freed memory, so big tensors stop page-faulting on every run."""

from __future__ import annotations

import subprocess
import sys

import pytest

from optuna_srprune.latency import TorchBackend
from optuna_srprune.latency._malloc import can_keep_freed_memory

# Allocates and frees a 40 MB tensor ten times; prints the minor page faults of the last nine.
# (torch, not numpy: numpy asks for huge pages, which hides most faults.)
_FAULTS = """
import resource, sys
import torch
from optuna_srprune.latency._malloc import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
torch.ones(10_000_000)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(9):
    torch.ones(10_000_000)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", _FAULTS, mode], capture_output=True, text=True, check=True)
    return int(out.stdout)


@pytest.mark.skipif(not can_keep_freed_memory(), reason="mallopt needs glibc")
def test_kept_memory_is_reused_without_page_faults() -> None:
    pages = 40_000_000 // 4096
    assert _faults("default") > 5 * pages  # fresh pages every time
    # At most one fresh set while the heap settles (seen: exactly one, for 9 or 20 allocations).
    assert _faults("keep") < 1.5 * pages


def test_fingerprint_says_how_memory_is_managed() -> None:
    kept = TorchBackend(threads=1).fingerprint()
    default = TorchBackend(threads=1, keep_memory=False).fingerprint()
    assert "malloc=default" in default
    assert kept != default or not can_keep_freed_memory()
