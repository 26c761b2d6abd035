"""Exact solves of the p-hub center and hub covering problems: radius search.

* **p-hub center**: the optimum is one of the route costs ``chi C_ik + alpha C_km +
  delta C_mj`` of a pair with flow through candidate hubs.  :func:`center_search` keeps
  the sorted distinct costs between a lower bound (every pair's cheapest route with all
  sites open) and the heuristic's value, and bisects them: each probe ``r`` asks the
  covering oracle (:func:`hubopt.models._center_cover.cover`) for ``p`` hubs that keep
  every pair within ``r``; a cover lowers the incumbent to its own largest cost, a proof
  of infeasibility raises the bound past ``r``.  When the distinct costs are too many to
  hold, it bisects the interval itself and stops within the relative gap.
* **hub covering**: one call of the oracle at ``max_cost`` minimising the number (or
  fixed cost) of hubs.

The time limit stops either with the best cover found and the proven bound.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hubopt.models._center_cover import CenterInstance, cover
from hubopt.models.base import FloatArray, IntArray

__all__ = ["CenterResult", "center_heuristic", "center_search", "covering_search"]

MAX_VALUES = 2_000_000
FIRST_PAIRS_PER_NODE = 2


@dataclass
class CenterResult:
    """Best solution found, its largest route cost, the proven bound and counters."""

    hubs: tuple[int, ...] | None
    allocation: IntArray | None
    value: float
    bound: float
    proven: bool
    info: dict[str, Any] = field(default_factory=dict)


def _nearest_allocation(inst: CenterInstance, hubs: tuple[int, ...]) -> IntArray:
    d = inst.data
    H = np.asarray(hubs, dtype=np.int64)
    C = d.costs
    score = d.chi * C[:, H] + d.delta * C[H, :].T
    alloc = H[score.argmin(axis=1)]
    alloc[H] = H
    return np.asarray(alloc, dtype=np.int64)


def _value(inst: CenterInstance, hubs: tuple[int, ...]) -> tuple[float, IntArray]:
    alloc = _nearest_allocation(inst, hubs) if inst.single else None
    costs, full = inst.pair_costs(hubs, alloc)
    return float(costs.max(initial=0.0)), full


def improve_allocation(inst: CenterInstance, hubs: tuple[int, ...], alloc: IntArray,
                       deadline: float | None) -> tuple[float, IntArray]:
    """Single allocation: move an end of the dearest pair to another hub while that
    lowers the largest cost of the node's pairs below it (a bottleneck descent; hubs
    stay with themselves).  Returns the new largest route cost and allocation."""
    d = inst.data
    C = d.costs
    H = np.asarray(hubs, dtype=np.int64)
    a = np.array(alloc, dtype=np.int64)
    flow = d.flows > 0
    is_hub = np.zeros(d.n, dtype=bool)
    is_hub[H] = True

    def node_worst(v: int) -> FloatArray:
        """Largest cost of v's pairs for each hub of H that v could use."""
        out_j = np.flatnonzero(flow[v])
        in_i = np.flatnonzero(flow[:, v])
        worst = np.zeros(len(H))
        if len(out_j):
            aj = a[out_j]
            c = (d.chi * C[v, H][:, None] + d.alpha * C[H][:, aj]) + d.delta * C[aj, out_j][None]
            c[:, out_j == v] = (d.chi * C[v, H] + d.alpha * C[H, H] + d.delta * C[H, v])[:, None]
            worst = np.maximum(worst, c.max(axis=1))
        if len(in_i):
            ai = a[in_i]
            c = (d.chi * C[in_i, ai][:, None] + d.alpha * C[ai][:, H]) + d.delta * C[H, v][None]
            worst = np.maximum(worst, c.max(axis=0))
        return worst

    costs, _ = inst.pair_costs(hubs, a)
    for _ in range(20 * d.n):
        if deadline is not None and time.perf_counter() > deadline:
            break
        t = int(costs.argmax())
        value = float(costs[t])
        moved = False
        for v in (int(inst.I[t]), int(inst.J[t])):
            if is_hub[v]:
                continue
            w = node_worst(v)
            best = int(w.argmin())
            if w[best] < value and H[best] != a[v]:
                a[v] = H[best]
                moved = True
                break
        if not moved:
            break
        costs, _ = inst.pair_costs(hubs, a)
    return float(costs.max(initial=0.0)), a


def center_heuristic(inst: CenterInstance, p: int, deadline: float | None
                     ) -> tuple[tuple[int, ...], IntArray, float]:
    """Greedy hub set, then first-improvement swaps (single allocation: each node to
    its nearest hub), until no swap helps or the deadline."""
    fixed = list(inst.data.fixed_hubs)
    free = [int(k) for k in inst.K if int(k) not in set(fixed)]
    hubs = list(fixed)
    while len(hubs) < p:
        best = min(free, key=lambda k: (_value(inst, tuple(sorted([*hubs, k])))[0], k))
        hubs.append(best)
        free.remove(best)
    current = tuple(sorted(hubs))
    value, alloc = _value(inst, current)
    improved = True
    while improved:
        improved = False
        for out in [h for h in current if h not in set(fixed)]:
            for inn in [k for k in free if k not in current]:
                if deadline is not None and time.perf_counter() > deadline:
                    return current, alloc, value
                trial = tuple(sorted([*(h for h in current if h != out), inn]))
                v, a = _value(inst, trial)
                if v < value - 1e-12 * max(1.0, abs(value)):
                    current, alloc, value, improved = trial, a, v, True
                    break
            if improved:
                break
    return current, alloc, value


def _first_pairs(inst: CenterInstance, floors: FloatArray) -> list[int]:
    count = min(len(floors), max(20, FIRST_PAIRS_PER_NODE * inst.data.n))
    return [int(t) for t in np.argsort(-floors, kind="stable")[:count]]


def center_search(inst: CenterInstance, p: int, *, deadline: float | None, backend: str,
                  seed: int, relative_gap: float, floor: float = -math.inf,
                  start: tuple[int, ...] | None = None) -> CenterResult:
    """Minimise the largest route cost over the pairs with flow with ``p`` hubs.

    ``floor``: a known lower bound that is a route cost (single allocation: the
    multiple-allocation optimum or bound); ``start``: a hub set to try besides the
    heuristic's.
    """
    if len(inst.I) == 0:
        hubs = tuple(sorted([*inst.data.fixed_hubs,
                             *[int(k) for k in inst.K if int(k) not in inst.data.fixed_hubs]
                             ][:p]))
        _, alloc = _value(inst, hubs)
        return CenterResult(hubs, alloc, 0.0, 0.0, proven=True)
    floors = inst.floors()
    lb = max(float(floors.max()), floor)
    budget = None if deadline is None else time.perf_counter() + 0.1 * max(
        0.0, deadline - time.perf_counter())
    hubs, alloc, ub = center_heuristic(inst, p, budget)
    tries = [(hubs, alloc, ub)]
    if start is not None and len(start) == p:
        v, a = _value(inst, tuple(sorted(start)))
        tries.append((tuple(sorted(start)), a, v))
    if inst.single:  # the nearest hub is a poor allocation for the largest route
        tries = [(h, *improve_allocation(inst, h, a, budget)[::-1]) for h, a, _ in tries]
    hubs, alloc, ub = min(tries, key=lambda t: t[2])
    lb = min(lb, ub)
    best: tuple[tuple[int, ...], IntArray] = (hubs, alloc)
    active = _first_pairs(inst, floors)
    values = inst.values(lb, ub, MAX_VALUES) if ub > lb else np.zeros(0)
    probes = infeasible = rounds = 0
    while True:
        if values is not None:
            if len(values) == 0:
                lb = ub
                break
            # the first probe just below the heuristic's value: it proves that value
            # optimal at once when it is (as it often is), else bisect
            r = float(values[-1] if probes == 0 else values[(len(values) - 1) // 2])
        else:  # too many distinct costs to hold: bisect the interval, on route costs
            if lb >= ub:
                break
            mid = ub if probes == 0 else 0.5 * (lb + ub)
            r = inst.nearest_value(np.nextafter(mid, -math.inf), above=False)
            r = max(r, lb)
        out = cover(inst, active, r, p=p, deadline=deadline, backend=backend, seed=seed,
                    hint=best)
        probes += 1
        rounds += out.rounds
        if out.status == "unknown":
            break
        if out.status == "infeasible":
            infeasible += 1
            if values is not None:
                values = values[values > r]
                lb = float(values[0]) if len(values) else ub
            else:
                lb = min(ub, inst.nearest_value(r, above=True))
            continue
        assert out.hubs is not None
        assert out.allocation is not None
        if out.cost < ub:
            ub, best = out.cost, (out.hubs, out.allocation)
        if values is not None:
            values = values[values < ub]
    info = {"probes": probes, "probes_infeasible": infeasible, "oracle_rounds": rounds,
            "pairs": len(inst.I), "pairs_active": len(active),
            "radius_values": -1 if values is None else len(values)}
    proven = lb >= ub * (1 - relative_gap) - 1e-12
    return CenterResult(best[0], best[1], ub, min(lb, ub), proven, info)


def _greedy_cover(inst: CenterInstance, r: float, weights: FloatArray
                  ) -> tuple[tuple[int, ...], IntArray] | None:
    """Multiple allocation: all candidates open, then drop the dearest hubs while every
    pair stays within ``r`` (``None`` if even all sites leave a pair out)."""
    hubs = [int(k) for k in inst.K]
    costs, routes = inst.pair_costs(tuple(hubs), None)
    if costs.max(initial=0.0) > r:
        return None
    pos = {int(k): a for a, k in enumerate(inst.K.tolist())}
    for k in sorted(hubs, key=lambda h: (-weights[pos[h]], h)):
        if k in inst.data.fixed_hubs or len(hubs) == 1:
            continue
        trial = tuple(h for h in hubs if h != k)
        c, rt = inst.pair_costs(trial, None)
        if c.max(initial=0.0) <= r:
            hubs, routes = list(trial), rt
    return tuple(sorted(hubs)), routes


def covering_search(inst: CenterInstance, max_cost: float, weights: FloatArray, *,
                    deadline: float | None, backend: str, seed: int,
                    relative_gap: float) -> CenterResult:
    """The cheapest hub set (``weights`` per candidate site) that keeps every pair with
    flow within ``max_cost``; ``hubs`` is ``None`` when the oracle proves there is none."""
    floors = inst.floors()
    active = _first_pairs(inst, floors)
    start = None if inst.single else _greedy_cover(inst, max_cost, weights)
    out = cover(inst, active, max_cost, weights=weights, deadline=deadline, backend=backend,
                seed=seed, relative_gap=relative_gap,
                hint=None if start is None else (start[0], None))
    info = {"oracle_rounds": out.rounds, "pairs": len(inst.I), "pairs_active": len(active)}
    pos = {int(k): a for a, k in enumerate(inst.K.tolist())}

    def weight(hubs: tuple[int, ...]) -> float:
        return float(sum(weights[pos[h]] for h in hubs))

    if out.status == "infeasible":
        return CenterResult(None, None, math.inf, math.inf, proven=True, info=info)
    found: list[tuple[float, tuple[int, ...], IntArray]] = []
    if out.hubs is not None and out.allocation is not None:
        found.append((weight(out.hubs), out.hubs, out.allocation))
    if start is not None:
        found.append((weight(start[0]), start[0], start[1]))
    bound = out.bound
    if not found:
        return CenterResult(None, None, math.inf, bound, proven=False, info=info)
    obj, hubs, alloc = min(found, key=lambda f: f[0])
    proven = out.status == "optimal" and obj <= weight(out.hubs or ()) + 1e-9
    if proven:
        bound = obj
    return CenterResult(hubs, alloc, obj, min(bound, obj), proven, info)
