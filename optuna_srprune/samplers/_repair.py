"""Repairing a candidate that is predicted over the latency budget or already tried, and reclaiming
free channels.

All work on parameter dicts of an :class:`~optuna_srprune.search_space.SRSearchSpace`, so that the
repaired point is what the base sampler sees (Lamarckian repair) and learns from.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set
from typing import Any

from optuna_srprune.config import SubnetConfig
from optuna_srprune.search_space import SRSearchSpace

Params = dict[str, Any]
LatencyOf = Callable[[Params], float]


def _shrink_moves(space: SRSearchSpace, params: Params) -> list[Params]:
    """Every one-step change that makes the network cheaper."""
    p, moves = space.prefix, []
    step = space.ratio_step
    for name in space.ratio_names(params):
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
    for name in space.ratio_names(current):
        while current[name] > 0.0:
            candidate = {**current, name: round(current[name] - space.ratio_step, 10)}
            if latency_of(candidate) > limit_ms:
                break
            current = candidate
    return current


def _neighbour_moves(space: SRSearchSpace, params: Params) -> list[Params]:
    """Every one-step change, cheaper or dearer: a layer's kept channels (to the next count up or
    down), the depth, the width, a block kind."""
    p, moves = space.prefix, []
    step = space.ratio_step
    config = space.decode(params)
    for name in space.ratio_names(params):
        for delta in (step, -step):
            # Step on until the kept channels change: ratios that round alike are one network.
            ratio = float(params[name])
            while True:
                ratio = round(ratio + delta, 10)
                if not -1e-9 <= ratio <= space.max_ratio + 1e-9:
                    break
                move = {**params, name: max(0.0, ratio)}
                if space.decode(move) != config:
                    moves.append(move)
                    break
    depth = int(params[f"{p}depth"])
    for other in (depth - 1, depth + 1):
        if space.min_depth <= other <= space.max_depth:
            moves.append({**params, f"{p}depth": other})
    widths = list(space.widths)
    index = widths.index(params[f"{p}width"])
    for other in (index - 1, index + 1):
        if 0 <= other < len(widths):
            moves.append({**params, f"{p}width": widths[other]})
    for i in range(depth):
        name = space.kind_name(i)
        moves += [{**params, name: kind} for kind in space.block_kinds if kind != params[name]]
    return moves


def nearest_unseen(
    space: SRSearchSpace,
    params: Params,
    seen: Set[SubnetConfig],
    latency_of: LatencyOf,
    budget_ms: float,
    max_visits: int = 4096,
) -> tuple[Params | None, bool]:
    """The network nearest to ``params`` that is not in ``seen`` and is predicted within the budget.

    Networks are compared as decoded configs, so parameters that round to the same kept channels are
    one network. The search is breadth-first over one-step changes (:func:`_neighbour_moves`) through
    feasible networks only; among the unseen ones first found at the smallest number of steps, the
    one whose predicted latency is closest to that of ``params`` wins (the first on a tie, so the
    result is deterministic).

    Returns ``(params, True)`` when found; ``(None, True)`` when every feasible network reachable from
    ``params`` is seen (with a latency that grows with the network, that is every feasible network
    of the space: each one shrinks step by step to the smallest); ``(None, False)`` when it gave up
    after visiting ``max_visits`` networks.
    """
    target = latency_of(params)
    visited = {space.decode(params)}
    frontier = [params]
    while frontier:
        found: list[Params] = []
        following: list[Params] = []
        for current in frontier:
            for move in _neighbour_moves(space, current):
                config = space.decode(move)
                if config in visited:
                    continue
                visited.add(config)
                if latency_of(move) > budget_ms:
                    continue  # neither a result nor a way through
                if config not in seen:
                    found.append(move)
                following.append(move)
        if found:
            return min(found, key=lambda m: abs(latency_of(m) - target)), True
        if len(visited) >= max_visits:
            return None, False
        frontier = following
    return None, True
