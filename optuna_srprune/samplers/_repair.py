"""Repairing a candidate that is predicted over the latency budget, and reclaiming free channels.

Both work on parameter dicts of an :class:`~optuna_srprune.search_space.SRSearchSpace`, so that the
repaired point is what the base sampler sees (Lamarckian repair) and learns from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from optuna_srprune.config import BLOCK_KINDS
from optuna_srprune.search_space import SRSearchSpace

Params = dict[str, Any]
LatencyOf = Callable[[Params], float]


def _active_ratio_names(space: SRSearchSpace, params: Params) -> list[str]:
    p = space.prefix
    names = []
    for i in range(int(params[f"{p}depth"])):
        kind = params[f"{p}block{i}.kind"]
        names += [f"{p}block{i}.ratio{j}" for j in range(BLOCK_KINDS[kind])]
    return names


def _shrink_moves(space: SRSearchSpace, params: Params) -> list[Params]:
    """Every one-step change that makes the network cheaper."""
    p, moves = space.prefix, []
    step = space.ratio_step
    for name in _active_ratio_names(space, params):
        if params[name] + step <= space.max_ratio + 1e-9:
            moves.append({**params, name: round(params[name] + step, 10)})
    depth = int(params[f"{p}depth"])
    if depth > space.min_depth:
        moves.append({**params, f"{p}depth": depth - 1})
    narrower = [w for w in space.widths if w < params[f"{p}width"]]
    if narrower:
        moves.append({**params, f"{p}width": max(narrower)})
    if params.get(f"{p}tail") == "conv3x3" and "deconv" in space.tails:
        moves.append({**params, f"{p}tail": "deconv"})  # the 1x1 sub-pixel tail costs less
    return moves


def repair(space: SRSearchSpace, params: Params, latency_of: LatencyOf, budget_ms: float) -> Params:
    """Shrink ``params`` step by step until its predicted latency is within ``budget_ms``.

    Each step takes the cheapest-looking change that saves the most latency; pruning steps come
    first, since they change the network least. A pruning step that does not cross a step of the
    back-end's latency staircase saves nothing, so it is never chosen. Returns the smallest
    config of the space if nothing else fits.
    """
    current, latency = dict(params), latency_of(params)
    while latency > budget_ms:
        moves = _shrink_moves(space, current)
        if not moves:
            break
        scored = [(latency_of(m), m) for m in moves]
        saving = [(latency - t, m, t) for t, m in scored]
        useful = [s for s in saving if s[0] > 1e-9]
        if not useful:
            break
        # Prefer the move that alone reaches the budget with the least saving (smallest change);
        # otherwise the move that saves the most.
        reaching = [s for s in useful if s[2] <= budget_ms]
        _, current, latency = (
            min(reaching, key=lambda s: s[0]) if reaching else max(useful, key=lambda s: s[0])
        )
    return current


def reclaim_free_channels(
    space: SRSearchSpace, params: Params, latency_of: LatencyOf, limit_ms: float
) -> Params:
    """Lower pruning ratios wherever that costs (almost) no predicted latency.

    On back-ends that block channels (a conv costs the same for 17..32 channels), pruning inside a
    step buys nothing; giving those channels back is free quality. ``limit_ms`` is the latency the
    result may not exceed (the original latency plus a small tolerance, and never over the budget).
    """
    current = dict(params)
    for name in _active_ratio_names(space, current):
        while current[name] > 0.0:
            candidate = {**current, name: round(current[name] - space.ratio_step, 10)}
            if latency_of(candidate) > limit_ms:
                break
            current = candidate
    return current
