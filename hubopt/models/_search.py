"""Exact hub-set search for the p-hub median problems.

For a fixed hub set ``H`` the multiple-allocation cost ``MA(H)`` is a closed-form
minimum over hub pairs, and it is a lower bound on the single-allocation cost
``SA(H)`` of the same hubs.  A weighted p-median cost ``PM(H) <= MA(H)`` costs only
``O(n p)`` per set.  The search therefore

1. finds a good solution with a greedy start and swap descent (upper bound ``UB``);
2. discards every hub set with ``PM(H) >= UB`` and evaluates ``MA(H)`` for the rest;
3. UMApHMP: the least ``MA(H)`` is the optimum (every set is accounted for);
   USApHMP: sharpens ``MA(H)`` into ``LB(H)`` (single allocation relaxed on one side
   only, see :func:`~hubopt.models.heuristics.sa_lower_bounds`), visits the sets in
   increasing ``LB(H)``, solves each one's allocation exactly with the OR-Tools MIP
   restricted to ``H`` (after a reallocation descent), lowers ``UB``, and stops when
   the next ``LB(H) >= UB``: nothing left can be better.

On a time limit it returns the incumbent with the bound ``min(UB, next LB(H))``.
It is used when the number of hub sets is small enough to enumerate (``max_sets``).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hubopt.models._mip import solve_allocation_mip
from hubopt.models.base import HubData, IntArray, Problem, SolveParameters
from hubopt.models.evaluate import single_allocation_od_costs
from hubopt.models.heuristics import (
    greedy_hubs,
    improve_allocation,
    local_search_hubs,
    ma_costs,
    pm_bounds,
    sa_lagrangian_bounds,
    sa_lower_bounds,
)

DEFAULT_MAX_SETS = 5_000_000


@dataclass(frozen=True)
class SearchResult:
    """Outcome of the hub-set search."""

    hubs: tuple[int, ...]
    allocation: IntArray | None  # single allocation only
    objective: float
    bound: float
    complete: bool
    sets_total: int
    sets_evaluated: int
    allocations_solved: int
    lagrangian_pruned: int = 0


def count_hub_sets(data: HubData, p: int) -> int:
    """Number of hub sets of size ``p`` that contain the fixed hubs."""
    free = len(data.candidates) - len(data.fixed_hubs)
    need = p - len(data.fixed_hubs)
    if need < 0 or need > free:
        return 0
    return math.comb(free, need)


def _hub_sets(data: HubData, p: int) -> IntArray:
    fixed = list(data.fixed_hubs)
    free = [k for k in data.candidates if k not in set(fixed)]
    need = p - len(fixed)
    combos = np.fromiter(
        itertools.chain.from_iterable(itertools.combinations(free, need)),
        dtype=np.int32,
        count=math.comb(len(free), need) * need,
    ).reshape(-1, need)
    if fixed:
        lead = np.broadcast_to(np.array(fixed, dtype=np.int32), (combos.shape[0], len(fixed)))
        combos = np.hstack([lead, combos])
        combos.sort(axis=1)
    return combos.astype(np.int64)


def reversed_data(data: HubData) -> HubData:
    """The same network with every flow reversed: single-allocation costs are unchanged.

    ``W_ij (chi C_ik + alpha C_km + delta C_mj)`` equals the cost of the reversed flow
    ``W'_ji = W_ij`` on ``C' = C^T`` with ``chi' = delta`` and ``delta' = chi``.
    """
    costs = np.ascontiguousarray(data.costs.T)
    flows = np.ascontiguousarray(data.flows.T)
    costs.setflags(write=False)
    flows.setflags(write=False)
    return dataclasses.replace(data, costs=costs, flows=flows, chi=data.delta, delta=data.chi)


def _single_cost(data: HubData, alloc: IntArray) -> float:
    return float(single_allocation_od_costs(data, alloc).sum())


def _exact_allocation(
    data: HubData, hubs: Sequence[int], params: SolveParameters, deadline: float | None
) -> tuple[IntArray, float, bool]:
    """Best allocation to the open ``hubs`` (descent, then the restricted MIP)."""
    start = improve_allocation(data, hubs)
    if len(hubs) == 1:
        return start, _single_cost(data, start), True
    remaining = None if deadline is None else max(0.01, deadline - time.perf_counter())
    res = solve_allocation_mip(data, hubs, params, time_limit=remaining, start=start)
    if res.allocation is None:
        return start, _single_cost(data, start), False
    alloc = res.allocation
    cost = _single_cost(data, alloc)
    start_cost = _single_cost(data, start)
    if start_cost < cost:
        alloc, cost = start, start_cost
    return alloc, cost, res.proven_optimal


# the chunks of hub sets whose MA(H) is evaluated between two looks at the clock: the
# first is small, the next ones last about ``_CHUNK_SECONDS`` each (and no longer than the
# time left).  Random n = 300, p = 3 (4.5 M sets, 0.4 ms each): fixed chunks of 20,000
# took 7.9 s each, and the last one overran a 60-s limit by 2.7 s
_FIRST_CHUNK = 1_000
_CHUNK_SECONDS = 1.0


def _evaluate_in_chunks(
    data: HubData, sets: IntArray, ma: np.ndarray, deadline: float | None
) -> int:
    """``ma[:k] = MA(sets[:k])`` for as many sets ``k`` as fit before ``deadline``.

    Each chunk is sized on the time per set measured so far, so that it ends by the
    deadline (the estimate may be off by the noise of one chunk).  Returns ``k``.
    """
    total = sets.shape[0]
    evaluated = 0
    step = _FIRST_CHUNK if deadline is None or time.perf_counter() < deadline else 0
    while evaluated < total and step >= 1:  # (0: not even one more set fits)
        stop = min(total, evaluated + step)
        started = time.perf_counter()
        ma[evaluated:stop] = ma_costs(data, sets[evaluated:stop])
        per = max((time.perf_counter() - started) / (stop - evaluated), 1e-9)
        evaluated = stop
        step = max(1, int(_CHUNK_SECONDS / per))
        if deadline is not None:
            step = min(step, int((deadline - time.perf_counter()) / per))
    return evaluated


def hub_set_search(
    problem: Problem,
    data: HubData,
    params: SolveParameters,
    *,
    deadline: float | None = None,
    start: tuple[Sequence[int], IntArray | None] | None = None,
) -> SearchResult:
    """Exact search over all hub sets of size ``p`` (see the module docstring).

    ``start`` is a known solution (hubs and, for single allocation, its allocation),
    e.g. from VNS/GVNS; the better of it and the greedy descent is the first bound.
    """
    p = int(data.p or 0)
    total = count_hub_sets(data, p)
    # 1. upper bound: greedy + swap descent on the multiple-allocation cost
    H0, ma0 = local_search_hubs(data, greedy_hubs(data, p), deadline=deadline)
    single = problem.single_allocation
    best_alloc: IntArray | None = None
    if single:
        best_alloc = improve_allocation(data, H0)
        ub = _single_cost(data, best_alloc)
    else:
        ub = ma0
    best_hubs = tuple(H0)
    if start is not None:
        s_hubs = tuple(sorted(int(h) for h in start[0]))
        if single and start[1] is not None:
            s_alloc = np.asarray(start[1], dtype=np.int64)
            s_val = _single_cost(data, s_alloc)
            if s_val < ub:
                ub, best_hubs, best_alloc = s_val, s_hubs, s_alloc
        elif not single:
            s_val = float(ma_costs(data, np.array([s_hubs], dtype=np.int64))[0])
            if s_val < ub:
                ub, best_hubs = s_val, s_hubs
    # 2. filter by the p-median bound, evaluate MA(H) for the rest
    sets = _hub_sets(data, p)
    tol = 1e-9
    pm = pm_bounds(data, sets)
    keep = pm < ub * (1 + tol)
    sets, pm = sets[keep], pm[keep]
    by_pm = np.argsort(pm, kind="stable")  # most promising first; the rest bound the optimum
    sets, pm = sets[by_pm], pm[by_pm]
    # evaluate in chunks so that a time limit is honoured; unevaluated sets keep PM(H)
    ma = pm.copy()
    evaluated = _evaluate_in_chunks(data, sets, ma, deadline)
    finished = evaluated == sets.shape[0]
    if not single:
        done = ma[:evaluated]
        if done.size and done.min() < ub:
            best = int(np.argmin(done))
            best_hubs = tuple(int(h) for h in sets[best])
            ub = float(done[best])
        lower = float(pm[evaluated]) if not finished else ub
        return SearchResult(best_hubs, None, ub, min(ub, lower), finished, total, evaluated, 0)
    if not finished:  # time is up: PM(H) bounds the sets not evaluated
        seen = float(ma[:evaluated].min()) if evaluated else ub
        lower = min(ub, float(pm[evaluated]), seen)
        return SearchResult(best_hubs, best_alloc, ub, lower, False, total, evaluated, 0)
    # 3. single allocation: best-first over a sharper per-set bound, LB(H) >= MA(H)
    promising = ma < ub * (1 - tol)
    sets, ma = sets[promising], ma[promising]
    ma = np.maximum(ma, sa_lower_bounds(data, sets))
    order = np.argsort(ma, kind="stable")
    solved = 0
    pruned = 0
    symmetric = bool(
        np.array_equal(data.costs, data.costs.T)
        and np.array_equal(data.flows, data.flows.T)
        and data.chi == data.delta
    )
    reverse = None if symmetric else reversed_data(data)
    bound = ub
    complete = True
    chunk = 64
    lag = np.empty(0)
    lag_alloc = np.empty((0, data.n), dtype=np.int64)
    for pos, idx in enumerate(order):
        lower = float(ma[idx])
        if lower >= ub * (1 - tol):
            break
        if deadline is not None and time.perf_counter() > deadline:
            bound = min(ub, lower)
            complete = False
            break
        if pos % chunk == 0:  # Lagrangian bounds for the next chunk of sets at once
            block = sets[order[pos : pos + chunk]]
            lag, lag_alloc = sa_lagrangian_bounds(data, block, target=ub * (1 - tol))
            if reverse is not None:
                lag_rev, _ = sa_lagrangian_bounds(reverse, block, target=ub * (1 - tol))
                lag = np.maximum(lag, lag_rev)
        hubs = [int(h) for h in sets[idx]]
        candidate = improve_allocation(data, hubs, lag_alloc[pos % chunk])
        cost0 = _single_cost(data, candidate)
        if cost0 < ub:
            ub, best_alloc, best_hubs = cost0, candidate, tuple(hubs)
        if lag[pos % chunk] >= ub * (1 - tol):
            pruned += 1
            continue
        alloc, cost, exact = _exact_allocation(data, hubs, params, deadline)
        solved += 1
        if cost < ub:
            ub = cost
            best_alloc = alloc
            best_hubs = tuple(hubs)
        if not exact:  # allocation not proven: its MA value stays the bound
            bound = min(bound, lower)
            complete = False
            break
    if complete:
        bound = ub
    return SearchResult(
        best_hubs, best_alloc, ub, min(bound, ub), complete, total, evaluated, solved, pruned
    )
