"""The first solution of a :class:`~hubopt.models._model.HubModel` solve: the heuristic of
each problem (with CSAHLP's restarts and allocation polish on long limits), the fixed-cost
descent over the number of hubs, and the capacity-feasible allocation, repair and
descent of CSAHLP.
"""

from __future__ import annotations

import math
import time

import numpy as np

from hubopt._errors import InfeasibleModelError, SolverError
from hubopt.models._mip import solve_allocation_mip
from hubopt.models.base import HubData, IntArray, Problem, SolveParameters
from hubopt.models.evaluate import best_routes, evaluate, single_allocation_od_costs
from hubopt.models.gvns import gvns_single_allocation, gvns_single_allocation_fixed_cost
from hubopt.models.heuristics import (
    greedy_hubs,
    improve_allocation,
    local_search_hubs,
    vns_hubs,
)
from hubopt.models.strategy import EngineOptions, Plan


def allocation_for(problem: Problem, data: HubData, hubs: tuple[int, ...]) -> IntArray:
    """The best allocation to ``hubs`` without capacities: the allocation descent for
    single allocation, each pair's cheapest route for multiple allocation."""
    if problem.single_allocation:
        return improve_allocation(data, hubs)
    return best_routes(data, hubs)[1]


def heuristic(
    problem: Problem,
    data: HubData,
    deadline: float | None,
    *,
    seed: int = 0,
    budget: float | None = None,
) -> tuple[tuple[int, ...], IntArray]:
    """A good feasible solution within ``budget`` seconds (and ``deadline``).

    Single allocation: the GVNS of :mod:`hubopt.models.gvns` (fixed-cost variant
    for USAHLP and CSAHLP, capacities respected); UMApHMP: VNS over hub sets (swap
    descent without a budget); UMAHLP: add/drop/swap descent.  Returns ``((), [])``
    when no capacity-feasible solution is found.
    """
    stop_at = None if budget is None else time.perf_counter() + budget
    if deadline is not None:
        stop_at = deadline if stop_at is None else min(stop_at, deadline)
    if problem is Problem.USAPHMP:
        hubs, alloc, _ = gvns_single_allocation(data, int(data.p or 0), deadline=stop_at, seed=seed)
        return hubs, alloc
    if problem in (Problem.USAHLP, Problem.CSAHLP):
        try:
            hubs, alloc, _ = gvns_single_allocation_fixed_cost(
                data, deadline=stop_at, seed=seed, capacities=data.capacities
            )
            return hubs, alloc
        except InfeasibleModelError:
            if problem is Problem.USAHLP:
                raise
        # capacities too tight for the GVNS repair: the older repair-and-descent
        found = _capacitated_local_search(data, _fixed_cost_local_search(data, deadline), deadline)
        return found if found is not None else ((), np.zeros(0, dtype=np.int64))
    if problem.has_p:
        p = int(data.p or 0)
        if stop_at is not None and budget is not None:
            H, _ = vns_hubs(data, greedy_hubs(data, p), deadline=stop_at, seed=seed)
        else:
            H, _ = local_search_hubs(data, greedy_hubs(data, p), deadline=deadline)
        hubs = tuple(H)
    else:
        hubs = _fixed_cost_local_search(data, deadline)
    return hubs, allocation_for(problem, data, hubs)


def feasible_heuristic(
    problem: Problem,
    data: HubData,
    params: SolveParameters,
    opts: EngineOptions,
    plan: Plan,
    deadline: float | None,
    budget: float | None,
) -> tuple[tuple[int, ...], IntArray]:
    """:func:`heuristic` for the large-instance paths; an error when it finds nothing.

    CSAHLP: with a limit of at least ``csahlp_improve_min_seconds`` (or none) the
    GVNS starts again from the next seeds while the time it took fits in what is
    left of its budget, at most ``csahlp_restart_share`` of the limit (at most
    ``csahlp_restarts`` times), and the best hub set's
    allocation is polished by the allocation MIP (:func:`polished`).
    """
    budget = vns_budget(params) if budget is None else budget
    started = time.perf_counter()
    hubs, alloc = heuristic(problem, data, deadline, seed=params.seed, budget=budget)
    if not hubs:
        msg = f"{problem.label}: no feasible solution found"
        raise SolverError(msg)
    if not plan.csahlp_improve:
        return hubs, alloc
    limit = params.time_limit
    best = evaluate(problem, data, hubs, alloc)
    if limit is not None:
        budget = min(budget, opts.csahlp_restart_share * limit)
    end = started + budget
    if deadline is not None:
        end = min(end, deadline)
    took = time.perf_counter() - started
    for restart in range(1, opts.csahlp_restarts + 1):
        left = end - time.perf_counter()
        if left < took:
            break
        begun = time.perf_counter()
        other, other_alloc = heuristic(
            problem, data, deadline, seed=params.seed + restart, budget=left
        )
        took = time.perf_counter() - begun
        if other:
            cost = evaluate(problem, data, other, other_alloc)
            if cost < best - 1e-9 * max(1.0, abs(best)):
                hubs, alloc, best = other, other_alloc, cost
    return polished(problem, data, params, opts, deadline, hubs, alloc)


def polished(
    problem: Problem,
    data: HubData,
    params: SolveParameters,
    opts: EngineOptions,
    deadline: float | None,
    hubs: tuple[int, ...],
    alloc: IntArray,
) -> tuple[tuple[int, ...], IntArray]:
    """``alloc`` or a cheaper allocation to the same ``hubs``: the allocation MIP
    (within the capacities for CSAHLP), warm-started from it, in up to
    ``csahlp_polish_share`` of the limit (60 s without one)."""
    limit = params.time_limit
    seconds = 60.0 if limit is None else opts.csahlp_polish_share * limit
    if deadline is not None:
        seconds = min(seconds, deadline - time.perf_counter())
    if seconds < 1:
        return hubs, alloc
    capacities = data.capacities if problem is Problem.CSAHLP else None
    res = solve_allocation_mip(
        data, hubs, params, time_limit=seconds, start=alloc, capacities=capacities
    )
    if res.allocation is None or res.infeasible:
        return hubs, alloc
    cheaper = evaluate(problem, data, hubs, res.allocation) < evaluate(problem, data, hubs, alloc)
    return hubs, res.allocation if cheaper else alloc


def vns_budget(params: SolveParameters) -> float:
    """Seconds of VNS for the large p-hub medians: half the limit, 30 s without one."""
    return 30.0 if params.time_limit is None else 0.5 * params.time_limit


def _fixed_cost_local_search(data: HubData, deadline: float | None) -> tuple[int, ...]:
    """Greedy and swap descent on fixed cost + multiple-allocation cost, for each number
    of hubs from the fewest up, until two numbers in a row bring nothing better."""
    best_hubs: tuple[int, ...] = ()
    best_val = math.inf
    cands = [k for k in data.candidates if k not in set(data.fixed_hubs)]
    max_q = min(len(data.candidates), max(len(data.fixed_hubs), 1) + 8)
    stale = 0
    for q in range(max(1, len(data.fixed_hubs)), max_q + 1):
        if deadline is not None and time.perf_counter() > deadline:
            break
        if q - len(data.fixed_hubs) > len(cands):
            break
        H, val = local_search_hubs(data, greedy_hubs(data, q), deadline=deadline)
        if val < best_val - 1e-12:
            best_val, best_hubs = val, tuple(H)
            stale = 0
        else:
            stale += 1
            if stale >= 2:
                break
    return best_hubs


def _capacitated_local_search(
    data: HubData, start: tuple[int, ...], deadline: float | None
) -> tuple[tuple[int, ...], IntArray] | None:
    """Capacity-feasible hubs and allocation: repair ``start``, then drop/swap descent."""
    f = data.fixed_costs if data.fixed_costs is not None else np.zeros(data.n)
    cap = data.capacities if data.capacities is not None else np.full(data.n, np.inf)

    def score(hubs: tuple[int, ...]) -> tuple[float, IntArray | None]:
        alloc = _capacitated_allocation(data, hubs)
        if alloc is None:
            return math.inf, None
        od = single_allocation_od_costs(data, alloc)
        return float(od.sum() + f[list(hubs)].sum()), alloc

    hubs = tuple(sorted(start))
    value, alloc = score(hubs)
    spare = sorted(
        (k for k in data.candidates if k not in hubs), key=lambda k: (-cap[k] / (1 + f[k]), k)
    )
    while alloc is None and spare:  # repair: open the roomiest sites first
        hubs = tuple(sorted((*hubs, spare.pop(0))))
        value, alloc = score(hubs)
    if alloc is None:
        return None
    improved = True
    while improved:
        improved = False
        if deadline is not None and time.perf_counter() > deadline:
            break
        moves: list[tuple[int, ...]] = [
            tuple(h for h in hubs if h != out) for out in hubs if out not in data.fixed_hubs
        ]
        near = [k for k in data.candidates if k not in hubs]
        moves += [
            tuple(sorted((*(h for h in hubs if h != out), inn)))
            for out in hubs
            if out not in data.fixed_hubs
            for inn in near
        ]
        for move in moves:
            if not move:
                continue
            v, a = score(move)
            if a is not None and v < value - 1e-9 * max(1.0, abs(value)):
                hubs, value, alloc, improved = move, v, a, True
                break
    return hubs, alloc


def _capacitated_allocation(data: HubData, hubs: tuple[int, ...]) -> IntArray | None:
    """A capacity-feasible single allocation to ``hubs`` (greedy by regret), or None."""
    if data.capacities is None:
        return improve_allocation(data, hubs)
    H = np.asarray(hubs, dtype=np.int64)
    O = data.origin_totals
    cap = data.capacities
    n = data.n
    load = np.zeros(n)
    a = np.full(n, -1, dtype=np.int64)
    a[H] = H
    load[H] = O[H]
    if np.any(load[H] > cap[H] * (1 + 1e-12)):
        return None
    access = data.chi * O[:, None] * data.costs[:, H] + data.delta * (
        data.destination_totals[:, None] * data.costs[H, :].T
    )
    rest = [i for i in np.argsort(-O, kind="stable") if a[i] < 0]
    for i in rest:
        for idx in np.argsort(access[i], kind="stable"):
            k = int(H[idx])
            if load[k] + O[i] <= cap[k] * (1 + 1e-12):
                a[i] = k
                load[k] += O[i]
                break
        else:
            return None
    return improve_allocation(data, hubs, a, capacities=cap)
