"""The bounds of the large-instance paths of :class:`~hubopt.models._model.HubModel`.

The Lagrangian bounds of the single- and multiple-allocation path formulations with
their branch and bound (:mod:`hubopt.models.sa_lagrangian`), on all sites or on the
sites that Benders' screening leaves, and the Benders trial of UMAHLP on short limits,
each from an incumbent: they return the bound, the (possibly better) incumbent and what
the solve reports.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np

from hubopt._errors import InfeasibleModelError
from hubopt.models._local import _capacitated_allocation, allocation_for
from hubopt.models._mip import solve_allocation_mip
from hubopt.models.base import FloatArray, HubData, IntArray, Problem, SolveParameters
from hubopt.models.benders import BendersResult, benders_multiple_allocation
from hubopt.models.evaluate import evaluate
from hubopt.models.group_lagrangian import GroupBound, grouped_lagrangian_bound
from hubopt.models.heuristics import improve_allocation, local_search_hubs
from hubopt.models.pair_group_lagrangian import pair_grouped_bound
from hubopt.models.sa_group_lagrangian import single_allocation_grouped_bound
from hubopt.models.sa_lagrangian import SingleAllocationBound, single_allocation_lagrangian
from hubopt.models.strategy import EngineOptions, Plan


def benders_trial(
    problem: Problem,
    data: HubData,
    params: SolveParameters,
    plan: Plan,
    hubs: tuple[int, ...],
    alloc: IntArray,
    time_limit: float | None,
) -> tuple[tuple[int, ...], IntArray, float, dict[str, Any]] | None:
    """UMAHLP within ``benders_many_hubs_max_n`` nodes on a short limit
    (``plan.benders_trial``): Benders from the heuristic's hubs (the fixed-cost local
    search) for ``time_limit`` seconds.

    Returns the better hub set, its allocation, the Benders bound (0 when it has
    none) and what to report (``benders_proven``: Benders closed the gap); None
    where the trial does not apply.
    """
    if not plan.benders_trial or time_limit is None or time_limit < 5:
        return None
    res = benders_multiple_allocation(
        data,
        start=hubs,
        deadline=time.perf_counter() + time_limit,
        relative_gap=params.relative_gap,
    )
    objective = evaluate(problem, data, hubs, alloc)
    if res.objective < objective:
        hubs, objective = res.hubs, res.objective
        alloc = allocation_for(problem, data, hubs)
    bound = res.bound if math.isfinite(res.bound) else 0.0
    proven = res.proven and res.objective <= objective * (1 + 1e-12)
    info = {**res.summary(), "benders_bound": res.bound, "benders_proven": proven}
    return hubs, alloc, bound, info


def large_benders_bound(
    problem: Problem,
    data: HubData,
    params: SolveParameters,
    hubs: tuple[int, ...],
    alloc: IntArray,
    deadline: float | None,
) -> tuple[tuple[int, ...], IntArray, float, dict[str, Any]]:
    """Benders' bound of the multiple-allocation problem until the deadline (where
    the Lagrangian bound does not fit): exact for multiple allocation, a bound for
    single allocation (and for CSAHLP, whose capacities it ignores).  Returns the
    (possibly better) incumbent, the bound (0 when it has none) and what to report."""
    # (no separation at the whole support: measured only up to AP 200, and at 500
    # nodes with every site one OD pair of it took 69 s beside other solves)
    res = benders_multiple_allocation(
        data,
        start=hubs,
        deadline=deadline,
        relative_gap=params.relative_gap,
        dense_budget=0.0,
    )
    # its best hub set, allocated, may beat the heuristic's (random Euclidean 1,000,
    # USApHMP p = 5: the multiple-allocation cost of Benders' set lay 2.6 % below the
    # GVNS incumbent)
    objective = evaluate(problem, data, hubs, alloc)
    if res.hubs and tuple(sorted(res.hubs)) != tuple(sorted(hubs)):
        other = allocation_for(problem, data, tuple(res.hubs))
        try:
            cost = evaluate(problem, data, res.hubs, other)
        except InfeasibleModelError:  # (capacities: no allocation found)
            cost = math.inf
        if cost < objective:
            hubs, alloc = tuple(res.hubs), other
    bound = res.bound if math.isfinite(res.bound) else 0.0
    return hubs, alloc, bound, {**res.summary(), "benders_bound": res.bound}


def large_grouped_bound(
    problem: Problem,
    data: HubData,
    opts: EngineOptions,
    hubs: tuple[int, ...],
    alloc: IntArray,
    deadline: float,
    prices: tuple[FloatArray, FloatArray] | None = None,
    handover: float = 0.0,
    end: float | None = None,
) -> tuple[float, dict[str, Any]]:
    """The grouped Lagrangian bound until ``deadline``, aimed at the incumbent ``hubs``
    (0 where ``opts.group_lagrangian`` is off), and what to report: for single
    allocation its single-allocation form (:mod:`hubopt.models.sa_group_lagrangian`,
    unless ``opts.sa_group_lagrangian`` is off), else that of the multiple-allocation
    relaxation (:mod:`hubopt.models.group_lagrangian`, a bound for every problem of the
    engine).  ``prices``: the facility-location relaxation's multipliers
    (:func:`hubopt.models.bounds.median_multipliers`), the latter's start.  ``handover``:
    the seconds Benders' set-up needs; a multiple-allocation form that stalls with its
    groups at their cap ends there for Benders only where the time left holds twice
    that, else it goes on to the deadline.  The single-allocation form always goes on:
    Benders' bound is a multiple-allocation one, below it on every training case.  As
    nothing follows it, it runs until ``end`` where that is later than ``deadline``
    (``EngineOptions.sa_group_end_share``)."""
    if not opts.group_lagrangian:
        return 0.0, {}
    upper = evaluate(problem, data, hubs, alloc)
    groups = opts.group_count if data.n < opts.group_large_min_n else opts.group_count_large
    common: dict[str, Any] = {
        "upper": upper, "hubs": hubs, "deadline": deadline, "groups": groups,
        "patience": opts.group_patience, "stall_window": opts.group_stall_window,
        "stall_share": opts.group_stall_share, "handover": handover,
    }  # fmt: skip
    if problem.single_allocation and opts.sa_group_lagrangian:
        # its single-allocation form: it rises above the multiple-allocation optimum,
        # where Benders' bound stays
        last = deadline if end is None else max(deadline, end)
        res = single_allocation_grouped_bound(
            data, **{**common, "handover": math.inf, "deadline": last},
            max_groups=opts.sa_group_max_count,
            nu_scale=opts.sa_group_nu_scale, deflection=opts.sa_group_deflection,
        )
        return res.bound, _group_info(res, "single")
    if not problem.single_allocation and opts.pair_group_lagrangian:
        # multiple allocation: the first hubs exact per OD pair
        res = pair_grouped_bound(data, **common, max_groups=opts.group_max_count,
                                 prices=None if prices is None else prices[1])  # fmt: skip
        return res.bound, _group_info(res, "pairs")
    res = grouped_lagrangian_bound(
        data, **common, start_share=opts.group_start_share, prices=prices,
        max_groups=opts.group_max_count,
    )
    return res.bound, _group_info(res, None)


def _group_info(res: GroupBound, form: str | None) -> dict[str, Any]:
    """What a grouped bound reports (``group_form``: which one, absent for the plain
    multiple-allocation form)."""
    info: dict[str, Any] = {"group_bound": res.bound, "group_steps": res.steps,
                            "group_count": res.groups, "group_seconds": round(res.seconds, 3),
                            "group_stalled": res.stalled, "group_closed": len(res.closed),
                            "group_opened": len(res.opened)}  # fmt: skip
    if form is not None:
        info["group_form"] = form
    return info


def screened_single_allocation_bound(
    problem: Problem,
    data: HubData,
    params: SolveParameters,
    opts: EngineOptions,
    plan: Plan,
    hubs: tuple[int, ...],
    alloc: IntArray,
    screened: BendersResult,
    deadline: float | None,
    lb: float,
) -> tuple[float, tuple[int, ...], IntArray, dict[str, Any]]:
    """The Lagrangian bound on the sites that Benders' screening left
    (``screened``, a :class:`~hubopt.models.benders.BendersResult`), when few enough
    remain (``sa_screen_max_share``) and the bound is not already proven."""
    out = set(screened.screened_out)
    left = [k for k in data.candidates if k not in out]
    objective = evaluate(problem, data, hubs, alloc)
    info = {"sa_screened_sites": len(left)}
    if len(left) > opts.sa_screen_max_share * len(data.candidates) or _bound_proves(
        lb, objective, params
    ):
        return 0.0, hubs, alloc, info
    time_limit = None if deadline is None else deadline - time.perf_counter()
    if time_limit is not None and time_limit < 3:
        return 0.0, hubs, alloc, info
    # every single-allocation solution cheaper than the incumbent opens hubs only
    # among ``left`` and all of ``screened_in``
    sub = dataclasses.replace(
        data,
        excluded=tuple(sorted(set(data.excluded) | out)),
        fixed_hubs=tuple(sorted(set(data.fixed_hubs) | set(screened.screened_in))),
    )
    bound, hubs, alloc, sa_info = single_allocation_bound(
        problem, data, params, opts, plan, hubs, alloc, time_limit, sub=sub
    )
    return bound, hubs, alloc, {**info, **sa_info}


def single_allocation_bound(
    problem: Problem,
    data: HubData,
    params: SolveParameters,
    opts: EngineOptions,
    plan: Plan,
    hubs: tuple[int, ...],
    alloc: IntArray,
    time_limit: float | None,
    sub: HubData | None = None,
) -> tuple[float, tuple[int, ...], IntArray, dict[str, Any]]:
    """The single-allocation Lagrangian bound (``sa_lagrangian``), from the incumbent.

    Returns the bound, the (possibly better) incumbent and what to report.  Without
    this bound single allocation is bounded by multiple allocation, which lies about
    2 % below it at AP 200.  ``sub``: the model's data with fewer candidate sites
    (or more fixed hubs) that every solution cheaper than the incumbent keeps to;
    the bound then runs whatever the size.
    """
    if sub is None:
        if not plan.sa_lagrangian:
            return 0.0, hubs, alloc, {}
        sub = data
    objective = evaluate(problem, data, hubs, alloc)
    stop = None if time_limit is None else time.perf_counter() + time_limit

    capacitated = problem is Problem.CSAHLP
    capacities = data.capacities if capacitated else None

    def solve_hubs(hub_set: tuple[int, ...]) -> tuple[IntArray, float] | None:
        """The best single allocation to ``hub_set`` (within the capacities for
        CSAHLP), when the MIP proves it; an infinite cost when none fits."""
        start = (
            _capacitated_allocation(data, hub_set)
            if capacitated
            else improve_allocation(data, hub_set)
        )
        if len(hub_set) == 1 and not capacitated:
            assert start is not None
            return start, evaluate(problem, data, hub_set, start)
        remaining = None if stop is None else stop - time.perf_counter()
        if remaining is not None and remaining < 1:
            return None
        res = solve_allocation_mip(
            data,
            hub_set,
            params,
            time_limit=remaining,
            start=start,
            capacities=capacities,
        )
        if res.infeasible:
            return np.arange(data.n, dtype=np.int64), math.inf
        if not res.proven_optimal or res.allocation is None:
            return None
        return res.allocation, evaluate(problem, data, hub_set, res.allocation)

    # CSAHLP: the relaxation's hubs keep within the capacities (a knapsack each), and
    # so do the hub-set MIPs at the leaves of the branch and bound
    res = single_allocation_lagrangian(
        sub,
        upper=objective,
        time_limit=time_limit,
        relative_gap=params.relative_gap,
        branch=True,
        node_iterations=opts.sa_node_iterations,
        min_patience=plan.sa_min_patience,
        halvings=opts.sa_halvings,
        start_share=_start_share(opts, sub),
        solve_hubs=solve_hubs,
        capacitated=capacitated,
        memory_budget=params.memory_budget,
    )
    info = _lagrangian_info("sa", res)
    # (a solution found keeps within the capacities: the relaxation returns only
    # agreed solutions that do, the leaves solve the capacitated allocation MIP)
    if res.hubs is not None and res.allocation is not None:
        found = evaluate(problem, data, res.hubs, res.allocation)
        if found < objective:
            hubs, alloc = res.hubs, res.allocation
    return res.bound, hubs, alloc, info


def multiple_allocation_bound(
    problem: Problem,
    data: HubData,
    params: SolveParameters,
    opts: EngineOptions,
    hubs: tuple[int, ...],
    alloc: IntArray,
    time_limit: float | None,
) -> tuple[float, tuple[int, ...], IntArray, dict[str, Any]]:
    """The Lagrangian bound of the multiple-allocation path formulation, with its
    branch and bound over the sites, from the incumbent (:mod:`sa_lagrangian` with
    ``multiple_allocation``).  Returns the bound, the (possibly better) incumbent
    and what to report."""
    objective = evaluate(problem, data, hubs, alloc)
    stop = None if time_limit is None else time.perf_counter() + time_limit

    def solve_hubs(hub_set: tuple[int, ...]) -> tuple[IntArray | None, float]:
        # a hub set's best routing is a shortest-path computation
        return None, evaluate(problem, data, hub_set, allocation_for(problem, data, hub_set))

    def improve(start: tuple[int, ...]) -> tuple[tuple[int, ...], float]:
        # the swap descent from the relaxation's hubs (as Benders polishes its
        # rounded LP points: AP 200 UMApHMP p = 15 with 60 s, the VNS stopped at
        # 92,806.88, 0.17 % above the optimum)
        better, cost = local_search_hubs(data, start, deadline=stop)
        return tuple(sorted(better)), cost

    res = single_allocation_lagrangian(
        data,
        upper=objective,
        time_limit=time_limit,
        relative_gap=params.relative_gap,
        branch=True,
        node_iterations=opts.sa_node_iterations,
        start_share=_start_share(opts, data),
        solve_hubs=solve_hubs,
        memory_budget=params.memory_budget,
        multiple_allocation=True,
        improve=improve,
    )
    if res.hubs is not None:
        routes = allocation_for(problem, data, res.hubs)
        if evaluate(problem, data, res.hubs, routes) < objective:
            hubs, alloc = res.hubs, routes
    return res.bound, hubs, alloc, _lagrangian_info("ma", res)


def _lagrangian_info(prefix: str, res: SingleAllocationBound) -> dict[str, Any]:
    """What a solve reports of its Lagrangian bound (``sa_...`` or ``ma_...``)."""
    return {
        f"{prefix}_lagrangian_bound": res.bound,
        f"{prefix}_lagrangian_iterations": res.iterations,
        f"{prefix}_lagrangian_seconds": round(res.seconds, 3),
        f"{prefix}_lagrangian_sites": len(res.sites),
        f"{prefix}_lagrangian_nodes": res.nodes,
    }


def _start_share(opts: EngineOptions, data: HubData) -> float:
    """The share of the access costs in the Lagrangian relaxation's start."""
    return opts.sa_pmedian_start_share if data.p is not None else opts.sa_fixed_cost_start_share


def _bound_proves(bound: float, objective: float, params: SolveParameters) -> bool:
    """Whether ``bound`` proves ``objective`` optimal within the solve's relative gap."""
    return bound >= objective - 1.000001 * params.relative_gap * max(1.0, abs(objective))
