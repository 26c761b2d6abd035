"""The hub model class shared by the five problems, and its solve strategy.

``solve`` picks the method (``SolveParameters.method == "auto"``):

* p-hub medians whose hub sets can be enumerated (``C(n, p) <= max_sets``): the exact
  hub-set search of :mod:`hubopt.models._search` (OR-Tools MIP for allocations);
* otherwise the E&K flow MIP on an OR-Tools MathOpt backend, warm-started from the
  heuristics, while the model fits in memory (``mip_max_n``);
* beyond that, up to ``benders_max_n`` nodes, and up to ``benders_many_hubs_max_n``
  nodes for p-hub medians with ``p >= benders_min_hub_share * n`` or for any problem
  with a time limit of at least ``benders_few_hubs_min_seconds`` (or none): the
  heuristic, then Benders decomposition of the multiple-allocation problem
  (:mod:`hubopt.models.benders`), exact for UMApHMP/UMAHLP and a lower bound for
  USApHMP/USAHLP/CSAHLP (for USAHLP and CSAHLP also the facility-location bound, with
  capacities for CSAHLP, in the time Benders leaves); up to ``sa_lagrangian_max_n``
  nodes (and beyond, up to ``sa_lagrangian_many_hubs_max_n``, for the fixed-cost
  problems and for USApHMP with many hubs, ``_use_sa_lagrangian``; for USApHMP with
  fewer hubs and a long limit on the sites that Benders' master screens in,
  ``_use_sa_screening``) the single-allocation problems also get the Lagrangian bound
  of the single-allocation path formulation and its branch and bound
  (:mod:`hubopt.models.sa_lagrangian`, within the capacities for CSAHLP; USApHMP
  before Benders);
* larger still, the heuristic solution with facility-location lower bounds
  (:mod:`hubopt.models.bounds`): a valid bound and an honest gap.

Every path honours the time limit and returns the best solution found with its bound.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any, ClassVar, Self

import numpy as np

from hubopt._errors import InfeasibleModelError, SolverError
from hubopt.models import _search, bounds
from hubopt.models._mip import (
    solve_allocation_mip,
    solve_multiple_allocation_mip,
    solve_single_allocation_mip,
)
from hubopt.models.base import (
    FloatArray,
    HubData,
    IntArray,
    Problem,
    Solution,
    SolveParameters,
    Status,
    make_hub_data,
    relative_gap,
)
from hubopt.models.benders import BendersResult, benders_multiple_allocation
from hubopt.models.evaluate import (
    best_routes,
    evaluate,
    multiple_allocation_od_costs,
    single_allocation_od_costs,
)
from hubopt.models.gvns import gvns_single_allocation, gvns_single_allocation_fixed_cost
from hubopt.models.heuristics import (
    greedy_hubs,
    improve_allocation,
    local_search_hubs,
    vns_hubs,
)
from hubopt.models.sa_lagrangian import SingleAllocationBound, single_allocation_lagrangian


class HubModel:
    """Base of the five hub models; build one with ``from_cost_matrix``."""

    problem: ClassVar[Problem]
    max_sets: ClassVar[int] = _search.DEFAULT_MAX_SETS
    mip_max_n: ClassVar[int] = 60
    # heuristic + Benders up to here (AP 100: LP phase in 15-50 s); beyond, the
    # facility-location bounds (at AP 200 one Benders round takes 5-10 s) ...
    benders_max_n: ClassVar[int] = 150
    # ... except for p-hub medians with many hubs (p >= benders_min_hub_share * n) up to
    # benders_many_hubs_max_n: there the LP phase converges in a few rounds (AP 200
    # p = 20: about 1 % in 60 s, where the facility-location bounds leave 9-11 %)
    benders_many_hubs_max_n: ClassVar[int] = 250
    benders_min_hub_share: ClassVar[float] = 0.05
    # ... and for the other p-hub medians up to that size when the time limit is at
    # least this (or unset): the first separation at the whole support takes 20-30 s at
    # AP 200 p = 4/5 and needs 30 % of the time left, else the LP bound stays far below
    # the facility-location bounds.  Two solves side by side on 2 cores, AP 200: with
    # 600 s p = 4 proven, p = 5 1.28 %; with 300 s p = 4 1.67 % but p = 5 16 % (the
    # timed estimate, taken while the other solve used both cores, declined it); with
    # 180 s 20-21 % (facility location: 11 % in 60 s)
    benders_few_hubs_min_seconds: ClassVar[float] = 600.0
    # below that limit UMAHLP of such size still tries Benders first, until this share
    # of the limit, and falls back to the facility-location bounds when it does not
    # prove the optimum (AP 200 with 120 s beside another solve: T proven in 23-25 s,
    # where the facility-location bounds left 6.9 %; L stays at 13.5 % in Benders,
    # 3.6 % with the facility-location bounds)
    benders_trial_share: ClassVar[float] = 0.4
    # the facility-location path tries the truncated LP bound for p-hub medians up to
    # here (measured at AP 200; larger instances keep the whole time for the MIP bound)
    truncated_bound_max_n: ClassVar[int] = 250
    # beyond here, with a time limit, no facility-location MIP is built at all: at n = 500
    # building stopped at the limit, and only freeing the half-built MathOpt model took
    # another 6-10 s past it (random n = 500 rows ended at 66-70 s of 60); the Lagrangian
    # bound is what is left there
    mathopt_bound_max_n: ClassVar[int] = 250
    # single allocation: the Lagrangian bound of the path formulation up to here, and
    # beyond, up to ``sa_lagrangian_many_hubs_max_n``, for the fixed-cost problems and
    # for p-hub medians with a limit of at least ``sa_lagrangian_min_seconds`` (or none):
    # with any number of hubs below ``sa_screen_min_seconds``, above it with at least
    # ``sa_lagrangian_min_hub_share * n`` hubs (fewer get Benders and its screening).
    # AP 200, the relaxation alone beside another: after 50 s p = 4/5 8.7/7.7 %, where
    # the facility-location bounds leave 13.1/13.0 % with 60 s; after 540 s p = 5 2.17 %
    # and p = 4 2.42 %, where Benders' multiple-allocation optimum leaves 2.36/2.21 %
    # (``results/sa_relaxation_ap200_p*_540.json``).  Its iterations cost O(n^2 m^2)
    # over the m open-able sites (AP 200 with all 200 sites: 0.1-0.3 s beside another
    # solve).  Since its subgradient is measured in the flows' metric
    # (``flow_scaling``) it climbs fast enough at AP 200 to beat the multiple-allocation
    # Benders bound on short limits too: after 45 s (the relaxation alone, beside
    # another) p = 10/15 6.9/1.8 %, where Benders' bound left 13.9/3.5 % with 60 s (before
    # the faster route pricing).  With fixed
    # costs the reduction test soon leaves few sites (AP 200 beside another solve with
    # 600 s and the flow-scaled steps: USAHLP L proven in 459 s, T 0.047 %, CSAHLP TT
    # proven, LT 2.1 %; with 120 s CSAHLP TL proven, TT 0.55 %, where the plain steps
    # left 5.5/9.6 %).  USApHMP runs it first; the fixed-cost problems after
    # the multiple-allocation Benders bound (until ``sa_benders_share`` of the limit: it
    # proves the single-allocation optimum when the two optima coincide, as for AP 100
    # USAHLP T) and until ``sa_lagrangian_share`` (the facility-location bound gets the
    # rest)
    sa_lagrangian_max_n: ClassVar[int] = 150
    sa_lagrangian_many_hubs_max_n: ClassVar[int] = 250
    # (0.02: AP 200 p = 4 with 600 s ended within 0.274 % on all sites with the patience
    # floor of 60 (run 60), where Benders' screening kept 164 sites and left 2.21 % in
    # runs 32, 40 and 59, and 102 sites for 0.101 % once, in run 46)
    sa_lagrangian_min_hub_share: ClassVar[float] = 0.02
    sa_lagrangian_min_seconds: ClassVar[float] = 0.0
    sa_benders_share: ClassVar[float] = 0.3
    sa_lagrangian_share: ClassVar[float] = 0.85
    # steps at most per node of its branch and bound over the sites
    sa_node_iterations: ClassVar[int] = 3000
    # the fewest steps without a better bound before its step halves (``min_patience``),
    # and for the p-hub medians from ``sa_long_limit_seconds`` of limit (or none)
    # ``sa_long_min_patience``.
    # Beside another solve the steps are dear, the patience timed on them sits at its
    # floor, and the step shrank before the sites left: AP 200 USApHMP p = 10 with
    # 600 s, two solves side by side (run 55), 0.093 % with 60 against 0.335 % with 30;
    # with 60 s p = 10 needs the faster halving (run 56: 3.23 % with 60, 1.82 % with
    # 30; p = 4, 5, 15 and 20 the same with both).  USAHLP AP 200 T with 600 s ended
    # within 0.27 % with 60 (run 60), 0.00004 % with 30 (run 47): fixed costs keep 30
    sa_min_patience: ClassVar[int] = 30
    sa_long_min_patience: ClassVar[int] = 60
    sa_long_limit_seconds: ClassVar[float] = 600.0
    # with a time limit the patience is cut so that the step can halve about this
    # many times in the steps that fit in the time left (no lower than the floor above;
    # at most the relaxation's own patience of 100).  USApHMP, two solves side by side,
    # 8 against 50: AP 200 with 600 s p = 10 0.031 % against 0.093 % (runs 65, 64), p = 5
    # 0.37 % against 0.42 %, p = 4 0.107 % (run 68; 0.274 % in run 60), p = 15 proven in
    # 220 s (203 s in run 58); AP 100 with 60 s (run 67) p = 5 0.15 % against 0.31 %,
    # p = 15 proven in 35 s against 0.022 %, p = 10 and 20 proven either way.  The
    # fixed-cost rows of AP 200 with 120 s (run 66) are the same but USAHLP T, 0.33 %
    # against 0.43 %.  (The multiple-allocation form keeps the relaxation's default 50.)
    sa_halvings: ClassVar[float] = 8.0
    # p-hub medians: the share of the access costs in its starting prices.  With the
    # flow-scaled steps a quarter beat half, side by side, the relaxation alone: AP 200
    # p = 10/20 after 150 s 1.40/0.38 % against 1.82/0.52 %, AP 100 p = 5 after 60 s
    # 0.28 % against 0.43 % (``benchmarks/sa_relaxation.py --start-share``).  The
    # fixed-cost problems too, AP 200 with 120 s, two solves side by side (runs 61-62):
    # USAHLP L proven in 96 s against 5.37 %, T 0.43 against 0.55 %, CSAHLP LL 1.79
    # against 9.70 %, LT 8.96 against 13.9 %, TL proven in 89 s against 0.0014 %, TT 0.52
    # against 0.50 %; with 600 s (run 63) USAHLP T 0.000018 % against 0.00004 %, CSAHLP
    # LT's bound 265,694.20 against 264,923.97 (run 47)
    sa_pmedian_start_share: ClassVar[float] = 0.25
    sa_fixed_cost_start_share: ClassVar[float] = 0.25
    # USApHMP in the same range of n with fewer hubs and the same limits: Benders proves
    # the multiple-allocation optimum (with the whole limit), then screens the sites
    # against the single-allocation incumbent (in ``sa_screen_share`` of the time left),
    # and when at most ``sa_screen_max_share`` of the candidates remain, the Lagrangian
    # bound runs on them in the rest.  Its iterations and its convergence depend on the
    # sites: AP 200, after the multiple-allocation optimum (proven in 210-233 s), p = 4
    # kept 102 of 200 sites (57 s of screening) and the relaxation on them reached
    # 1.42 % in 300 s (the multiple-allocation optimum leaves 2.21 %); p = 5 kept 169
    # and reached only 4.24 % (2.36 %); p = 10 kept 184.  Only with a limit of at least
    # ``sa_screen_min_seconds`` (or none): Benders needs it to prove that optimum
    sa_screen_min_seconds: ClassVar[float] = 600.0
    sa_screen_share: ClassVar[float] = 0.3
    sa_screen_max_share: ClassVar[float] = 0.6
    # UMApHMP (with fewer than ``ma_lagrangian_max_hub_share * n`` hubs) and UMAHLP
    # between ``benders_max_n`` and ``benders_many_hubs_max_n`` nodes with a limit below
    # ``benders_few_hubs_min_seconds``: the same Lagrangian relaxation in its
    # multiple-allocation form (``multiple_allocation``: its dual is the LP bound that
    # Benders approaches; the subproblem's hubs seed a swap descent) instead of Benders
    # or the facility-location bounds (UMAHLP: after the Benders trial).  AP 200 with
    # 60 s, two solves side by side (runs 49-51): UMApHMP p = 4/5/10/15 3.3-3.7/3.6/
    # 0.65/0.59 %, where the code before left 11.1/10.9/8.7/0.92-2.2 % (p = 15 finds the
    # optimum only with the swap descent); p = 20 0.97 % against Benders' 0.56 %.
    # UMAHLP L with 120 s proven in 90 s (3.6 % before; T: Benders' trial proves it in
    # 24 s).  With 600 s Benders proves them all (runs 10, 11)
    ma_lagrangian_max_hub_share: ClassVar[float] = 0.1
    # CSAHLP beyond the exact range, with a limit of at least
    # ``csahlp_improve_min_seconds`` (or none): the capacitated GVNS starts again from
    # the next seeds while its budget allows (at most ``csahlp_restarts`` times), and
    # the allocation MIP polishes the best hub set's allocation in up to
    # ``csahlp_polish_share`` of the limit.  AP 200 TT: the GVNS's 291,764.15 becomes
    # 290,582.04 (12.7 s); LT: seed 0 stops at 269,729.28, seeds 2 and 3 find a better
    # hub set (267,460.34 and 267,433.37), whose allocation MIP gives 267,218.35 (7.6 s).
    # With 120 s both took the time of the Lagrangian bound, beside the old code: the
    # restarts AP 200 TL 7.79 % against 4.83 % (388 iterations against 600), the polish
    # alone TT 11.0 % against 9.6 % (with the better objective).  With 600 s (restarts
    # within ``csahlp_restart_share`` of the limit), side by side with them off: TT
    # 290,582.04 within 2.50 % against 291,764.15 within 3.05 %; LT 267,218.35 against
    # 269,729.28
    csahlp_restarts: ClassVar[int] = 4
    csahlp_restart_share: ClassVar[float] = 0.1
    csahlp_improve_min_seconds: ClassVar[float] = 600.0
    csahlp_polish_share: ClassVar[float] = 0.1

    def __init__(self, data: HubData) -> None:
        """Use :meth:`from_cost_matrix`; this takes validated :class:`HubData`."""
        self.data = data

    # -- construction -------------------------------------------------------------
    @classmethod
    def _build(
        cls,
        costs: Any,
        flows: Any,
        *,
        p: int | None = None,
        chi: float = 1.0,
        alpha: float = 1.0,
        delta: float = 1.0,
        fixed_costs: Any = None,
        capacities: Any = None,
        fixed_hubs: Any = (),
        excluded: Any = (),
    ) -> Self:
        prob = cls.problem
        data = make_hub_data(
            costs,
            flows,
            chi=chi,
            alpha=alpha,
            delta=delta,
            p=p,
            fixed_costs=fixed_costs,
            capacities=capacities,
            fixed_hubs=fixed_hubs,
            excluded=excluded,
            need_p=prob.has_p,
            need_fixed_costs=not prob.has_p,
            need_capacities=prob is Problem.CSAHLP,
        )
        return cls(data)

    @property
    def n(self) -> int:
        """Number of nodes."""
        return self.data.n

    def __repr__(self) -> str:
        """Short description."""
        p = f", p={self.data.p}" if self.data.p is not None else ""
        return f"{type(self).__name__}(n={self.n}{p})"

    # -- evaluation -----------------------------------------------------------------
    def objective(self, solution: Solution) -> float:
        """The solution's objective recomputed from the matrix, independent of any solver.

        Raises :class:`~hubopt._errors.InfeasibleModelError` for an infeasible solution.
        """
        return evaluate(self.problem, self.data, solution.hubs, solution.allocation)

    def od_costs(self, solution: Solution) -> FloatArray:
        """Flow-weighted cost of every OD pair under ``solution`` (no fixed costs)."""
        if self.problem.single_allocation:
            return single_allocation_od_costs(self.data, solution.allocation)
        return multiple_allocation_od_costs(self.data, solution.allocation)

    # -- solving ----------------------------------------------------------------------
    def solve(self, params: SolveParameters | None = None, **kwargs: Any) -> Solution:
        """Solve the model; keyword arguments build :class:`SolveParameters`."""
        if params is None:
            params = SolveParameters(**kwargs)
        elif kwargs:
            msg = "give either params or keyword arguments, not both"
            raise TypeError(msg)
        t0 = time.perf_counter()
        # phases stop at 93 % of the limit: building a model or a bound and the final
        # evaluation must fit in the rest
        deadline = None if params.time_limit is None else t0 + 0.93 * params.time_limit
        method = params.method
        if method == "auto":
            method = self._auto_method()
        if method == "search":
            if not self.problem.has_p:
                msg = "method 'search' is for the p-hub median problems only"
                raise SolverError(msg)
            return self._solve_search(params, t0, deadline)
        if method == "mip":
            return self._solve_mip(params, t0, deadline)
        if method == "benders":
            return self._solve_benders(params, t0, deadline)
        return self._solve_heuristic_with_bound(params, t0, deadline)

    def _auto_method(self) -> str:
        if self.problem.has_p and _search.count_hub_sets(self.data, int(self.data.p or 0)) <= (
            self.max_sets
        ):
            return "search"
        if self.n <= self.mip_max_n:
            return "mip"
        return "heuristic"

    def _finish(
        self,
        hubs: tuple[int, ...],
        allocation: IntArray,
        bound: float,
        t0: float,
        method: str,
        *,
        proven: bool,
        info: dict[str, Any] | None = None,
    ) -> Solution:
        hubs = tuple(sorted(int(h) for h in hubs))
        objective = evaluate(self.problem, self.data, hubs, allocation)
        bound = min(bound, objective)
        gap = relative_gap(objective, bound)
        status = Status.OPTIMAL if proven else Status.FEASIBLE
        return Solution(
            problem=self.problem,
            hubs=hubs,
            allocation=np.asarray(allocation, dtype=np.int64),
            objective=objective,
            bound=bound,
            gap=gap,
            status=status,
            seconds=time.perf_counter() - t0,
            method=method,
            info=info or {},
        )

    def _allocation_for(self, hubs: tuple[int, ...]) -> IntArray:
        if self.problem.single_allocation:
            return improve_allocation(self.data, hubs)
        return best_routes(self.data, hubs)[1]

    def _solve_search(self, params: SolveParameters, t0: float, deadline: float | None) -> Solution:
        start = None
        if self.problem.single_allocation:  # GVNS: a strong first bound, in seconds
            budget = None if params.time_limit is None else 0.2 * params.time_limit
            stop = None if budget is None else time.perf_counter() + budget
            hubs, alloc, _ = gvns_single_allocation(
                self.data, int(self.data.p or 0), deadline=stop, seed=params.seed
            )
            start = (hubs, alloc)
        res = _search.hub_set_search(
            self.problem, self.data, params, deadline=deadline, start=start
        )
        alloc = res.allocation if res.allocation is not None else self._allocation_for(res.hubs)
        info = {
            "hub_sets": res.sets_total,
            "hub_sets_evaluated": res.sets_evaluated,
            "allocations_solved": res.allocations_solved,
            "lagrangian_pruned": res.lagrangian_pruned,
        }
        return self._finish(
            res.hubs, alloc, res.bound, t0, "search", proven=res.complete, info=info
        )

    def _heuristic(
        self, deadline: float | None, *, seed: int = 0, budget: float | None = None
    ) -> tuple[tuple[int, ...], IntArray]:
        """A good feasible solution within ``budget`` seconds (and ``deadline``).

        Single allocation: the GVNS of :mod:`hubopt.models.gvns` (fixed-cost variant
        for USAHLP and CSAHLP, capacities respected); UMApHMP: VNS over hub sets (swap
        descent without a budget); UMAHLP: add/drop/swap descent.  Returns ``((), [])``
        when no capacity-feasible solution is found.
        """
        data = self.data
        stop_at = None if budget is None else time.perf_counter() + budget
        if deadline is not None:
            stop_at = deadline if stop_at is None else min(stop_at, deadline)
        if self.problem is Problem.USAPHMP:
            hubs, alloc, _ = gvns_single_allocation(
                data, int(data.p or 0), deadline=stop_at, seed=seed
            )
            return hubs, alloc
        if self.problem in (Problem.USAHLP, Problem.CSAHLP):
            try:
                hubs, alloc, _ = gvns_single_allocation_fixed_cost(
                    data, deadline=stop_at, seed=seed, capacities=data.capacities
                )
                return hubs, alloc
            except InfeasibleModelError:
                if self.problem is Problem.USAHLP:
                    raise
            # capacities too tight for the GVNS repair: the older repair-and-descent
            found = _capacitated_local_search(
                data, _fixed_cost_local_search(data, deadline), deadline
            )
            return found if found is not None else ((), np.zeros(0, dtype=np.int64))
        if self.problem.has_p:
            p = int(data.p or 0)
            if stop_at is not None and budget is not None:
                H, _ = vns_hubs(data, greedy_hubs(data, p), deadline=stop_at, seed=seed)
            else:
                H, _ = local_search_hubs(data, greedy_hubs(data, p), deadline=deadline)
            hubs = tuple(H)
        else:
            hubs = _fixed_cost_local_search(data, deadline)
        return hubs, self._allocation_for(hubs)

    def _feasible_heuristic(
        self, params: SolveParameters, deadline: float | None, budget: float | None
    ) -> tuple[tuple[int, ...], IntArray]:
        """:meth:`_heuristic` for the large-instance paths; an error when it finds nothing.

        CSAHLP: with a limit of at least ``csahlp_improve_min_seconds`` (or none) the
        GVNS starts again from the next seeds while the time it took fits in what is
        left of its budget, at most ``csahlp_restart_share`` of the limit (at most
        ``csahlp_restarts`` times), and the best hub set's
        allocation is polished by the allocation MIP (:meth:`_polished`).
        """
        budget = self._vns_budget(params) if budget is None else budget
        started = time.perf_counter()
        hubs, alloc = self._heuristic(deadline, seed=params.seed, budget=budget)
        if not hubs:
            msg = f"{self.problem.label}: no feasible solution found"
            raise SolverError(msg)
        if self.problem is not Problem.CSAHLP:
            return hubs, alloc
        limit = params.time_limit
        if limit is not None and limit < self.csahlp_improve_min_seconds:
            return hubs, alloc
        best = evaluate(self.problem, self.data, hubs, alloc)
        if limit is not None:
            budget = min(budget, self.csahlp_restart_share * limit)
        end = started + budget
        if deadline is not None:
            end = min(end, deadline)
        took = time.perf_counter() - started
        for restart in range(1, self.csahlp_restarts + 1):
            left = end - time.perf_counter()
            if left < took:
                break
            begun = time.perf_counter()
            other, other_alloc = self._heuristic(deadline, seed=params.seed + restart, budget=left)
            took = time.perf_counter() - begun
            if other:
                cost = evaluate(self.problem, self.data, other, other_alloc)
                if cost < best - 1e-9 * max(1.0, abs(best)):
                    hubs, alloc, best = other, other_alloc, cost
        return self._polished(params, deadline, hubs, alloc)

    def _polished(
        self,
        params: SolveParameters,
        deadline: float | None,
        hubs: tuple[int, ...],
        alloc: IntArray,
    ) -> tuple[tuple[int, ...], IntArray]:
        """``alloc`` or a cheaper allocation to the same ``hubs``: the allocation MIP
        (within the capacities for CSAHLP), warm-started from it, in up to
        ``csahlp_polish_share`` of the limit (60 s without one)."""
        limit = params.time_limit
        seconds = 60.0 if limit is None else self.csahlp_polish_share * limit
        if deadline is not None:
            seconds = min(seconds, deadline - time.perf_counter())
        if seconds < 1:
            return hubs, alloc
        capacities = self.data.capacities if self.problem is Problem.CSAHLP else None
        res = solve_allocation_mip(
            self.data, hubs, params, time_limit=seconds, start=alloc, capacities=capacities
        )
        if res.allocation is None or res.infeasible:
            return hubs, alloc
        cheaper = evaluate(self.problem, self.data, hubs, res.allocation) < evaluate(
            self.problem, self.data, hubs, alloc
        )
        return hubs, res.allocation if cheaper else alloc

    def _solve_mip(self, params: SolveParameters, t0: float, deadline: float | None) -> Solution:
        hubs0, alloc0 = self._heuristic(deadline, seed=params.seed)
        remaining = None if deadline is None else max(0.05, deadline - time.perf_counter())
        if self.problem.single_allocation:
            start = (hubs0, alloc0) if hubs0 else None
            res = solve_single_allocation_mip(
                self.problem, self.data, params, time_limit=remaining, start=start
            )
        else:
            res = solve_multiple_allocation_mip(
                self.problem, self.data, params, time_limit=remaining, start_hubs=hubs0 or None
            )
        method = f"mip:{params.solver}"
        if res.infeasible:
            msg = f"{self.problem.label}: the solver proved the model infeasible"
            raise InfeasibleModelError(msg)
        candidates: list[tuple[tuple[int, ...], IntArray]] = []
        if res.hubs is not None:
            alloc = res.allocation if res.allocation is not None else self._allocation_for(res.hubs)
            candidates.append((res.hubs, alloc))
        if hubs0:
            candidates.append((hubs0, alloc0))
        if not candidates:
            return Solution(
                problem=self.problem,
                hubs=(),
                allocation=np.zeros(0, dtype=np.int64),
                objective=math.inf,
                bound=res.bound,
                gap=math.inf,
                status=Status.NO_SOLUTION,
                seconds=time.perf_counter() - t0,
                method=method,
            )
        scored = [(evaluate(self.problem, self.data, h, a), h, a) for h, a in candidates]
        obj, hubs, alloc = min(scored, key=lambda s: s[0])
        proven = res.proven_optimal and obj <= res.objective * (1 + 1e-9) + 1e-9
        if proven:
            bound = obj if res.bound >= obj * (1 - 2 * params.relative_gap) else res.bound
        else:
            bound = res.bound
            if not math.isfinite(bound):  # stopped before the root LP: use the cheap bound
                bound = bounds.facility_location_bound(
                    self.problem, self.data, params, time_limit=10.0
                )
        return self._finish(hubs, alloc, bound, t0, method, proven=proven)

    def _solve_benders(
        self, params: SolveParameters, t0: float, deadline: float | None
    ) -> Solution:
        if self.problem.single_allocation:
            msg = "method 'benders' is for the multiple-allocation problems (UMApHMP, UMAHLP)"
            raise SolverError(msg)
        budget = 0.3 * self._vns_budget(params)  # Benders improves the hub set too
        hubs0, _ = self._heuristic(deadline, seed=params.seed, budget=budget)
        res = benders_multiple_allocation(
            self.data, start=hubs0, deadline=deadline, relative_gap=params.relative_gap
        )
        alloc = self._allocation_for(res.hubs)
        return self._finish(
            res.hubs, alloc, res.bound, t0, "benders", proven=res.proven, info=res.summary()
        )

    @staticmethod
    def _vns_budget(params: SolveParameters) -> float:
        """Seconds of VNS for the large p-hub medians: half the limit, 30 s without one."""
        return 30.0 if params.time_limit is None else 0.5 * params.time_limit

    def _use_benders(self, time_limit: float | None) -> bool:
        """Whether the large-instance path bounds with Benders (else facility location)."""
        if self.n <= self.benders_max_n:
            return True
        p = self.data.p
        if self.n > self.benders_many_hubs_max_n or self._use_ma_lagrangian(time_limit):
            return False
        long_enough = time_limit is None or time_limit >= self.benders_few_hubs_min_seconds
        if p is None:  # fixed costs, few hubs: as for few hubs below (AP 200 UMAHLP beside
            # another solve, 600 s: T proven in 12 s, L in 125 s after an 88-s separation
            # at the whole support; 120 s: L 15.4 % as that separation does not fit, where
            # the facility-location bounds give 3.6 %)
            return long_enough
        return p >= self.benders_min_hub_share * self.n or long_enough

    def _use_sa_lagrangian(self, time_limit: float | None) -> bool:
        """Whether single allocation gets the Lagrangian bound of its path formulation."""
        if not self.problem.single_allocation:
            return False
        if self.n <= self.sa_lagrangian_max_n:
            return True
        if self.n > self.sa_lagrangian_many_hubs_max_n:
            return False
        p = self.data.p
        if p is None:  # fixed costs: few hubs, and the sites close fast
            return True
        if time_limit is not None and time_limit < self.sa_lagrangian_min_seconds:
            return False
        if time_limit is not None and time_limit < self.sa_screen_min_seconds:
            return True  # no screening with this limit: the relaxation beats the rest
        return p >= self.sa_lagrangian_min_hub_share * self.n

    def _use_ma_lagrangian(self, time_limit: float | None) -> bool:
        """Whether multiple allocation gets its Lagrangian bound: in Benders' size range
        beyond ``benders_max_n`` on a limit too short for Benders with few hubs, UMAHLP
        and UMApHMP with fewer than ``ma_lagrangian_max_hub_share * n`` hubs."""
        return (
            self.problem in (Problem.UMAPHMP, Problem.UMAHLP)
            and self.benders_max_n < self.n <= self.benders_many_hubs_max_n
            and time_limit is not None
            and time_limit < self.benders_few_hubs_min_seconds
            and (self.data.p or 0) < self.ma_lagrangian_max_hub_share * self.n
        )

    def _use_sa_screening(self, time_limit: float | None) -> bool:
        """Whether USApHMP gets the Lagrangian bound on the sites that Benders' master
        leaves (``sa_screen_max_share``), where it does not get it on all of them."""
        return (
            self.problem is Problem.USAPHMP
            and self.sa_lagrangian_max_n < self.n <= self.sa_lagrangian_many_hubs_max_n
            and not self._use_sa_lagrangian(time_limit)
            and (time_limit is None or time_limit >= self.sa_screen_min_seconds)
        )

    def _solve_heuristic_with_bound(
        self, params: SolveParameters, t0: float, deadline: float | None
    ) -> Solution:
        """A floor bound, the plain facility-location bound, the heuristic, then the
        stronger bound in the time that is left.

        The ``O(n^2)`` nearest-neighbour bound is always there; the plain
        facility-location bound (its Lagrangian bound, until 10 % of the limit at most;
        with fixed costs also its MIP, until 15 %) comes next, the heuristic until 60 %
        (GVNS and the descents usually stop by themselves much earlier; the VNS over hub
        sets of multiple allocation stops at 30 % when ``p >= 10``), and the
        facility-location bound with the inter-hub term (much stronger for many hubs,
        but slow to solve) gets the rest.  The largest bound counts.
        """
        limit = params.time_limit

        def until(fraction: float) -> float | None:
            if deadline is None or limit is None:
                return None
            return max(0.5, min(t0 + fraction * limit, deadline) - time.perf_counter())

        if self._use_benders(limit):
            return self._solve_heuristic_with_benders(params, t0, deadline, until)
        # the relaxation without the inter-hub term: for the p-hub medians its Lagrangian
        # bound (numpy, well under a second at n = 200 and a few at n = 500) is as strong
        # as the MIP's (AP 200 p = 5: 108,953.0 in 0.3 s against 108,953.4 in 12 s); with
        # fixed costs or capacities the MIP is tighter and gets its share too
        lb = max(
            bounds.nearest_neighbour_bound(self.data),
            bounds.lagrangian_median_bound(self.data, time_limit=until(0.1)),
        )
        build = limit is None or self.n <= self.mathopt_bound_max_n
        if not self.problem.has_p and build:
            lb = max(
                lb,
                bounds.facility_location_bound(
                    self.problem, self.data, params, time_limit=until(0.15), transfer=False
                ),
            )
        # GVNS (single allocation) stops by itself long before; the VNS over hub sets uses
        # its share, so it gets less where the inter-hub bound needs the time (many hubs)
        many = (
            self.problem.has_p and not self.problem.single_allocation and (self.data.p or 0) >= 10
        )
        # (the multiple-allocation Lagrangian bound gets the time that Benders would)
        use_ma = self._use_ma_lagrangian(limit)
        budget = until(0.25 if use_ma and self.problem.has_p else 0.3 if many else 0.6)
        hubs, alloc = self._feasible_heuristic(params, deadline, budget)
        trial = self._benders_trial(params, hubs, alloc, until(self.benders_trial_share))
        trial_info: dict[str, Any] = {}
        if trial is not None:
            hubs, alloc, benders_bound, trial_info = trial
            lb = max(lb, benders_bound)
            if trial_info["benders_proven"]:
                return self._finish(
                    hubs, alloc, lb, t0, "heuristic+benders", proven=True, info=trial_info
                )
        # single allocation: the single-allocation Lagrangian bound first (AP 200 p = 5,
        # 60 s: the facility-location bounds leave 13 %); a no-op for the others
        sa_bound, hubs, alloc, info = self._single_allocation_bound(
            params, hubs, alloc, until(self.sa_lagrangian_share)
        )
        lb = max(lb, sa_bound)
        if use_ma:
            # multiple allocation: its Lagrangian bound in the rest of the time (AP 200
            # with 60 s: UMApHMP p = 4 3.3 %, where the facility-location bounds below
            # leave 11.1 %; UMAHLP L with 120 s proven in 90 s)
            bound, hubs, alloc, info = self._multiple_allocation_bound(
                params, hubs, alloc, until(1.0)
            )
            lb = max(lb, bound)
        objective = evaluate(self.problem, self.data, hubs, alloc)
        if _bound_proves(lb, objective, params):
            return self._finish(
                hubs, alloc, lb, t0, "heuristic+bound", proven=True, info={**trial_info, **info}
            )
        remaining = None if deadline is None else deadline - time.perf_counter()
        if (
            (remaining is None or remaining > 3)
            and self.problem.has_p
            and self.n <= self.truncated_bound_max_n
        ):
            # p-hub medians: the LP with truncated distances first, it finishes where the
            # MIP does not (with fixed costs the MIP finishes or comes closer: AP 200 T)
            truncated = bounds.truncated_transfer_bound(
                self.problem, self.data, time_limit=remaining
            )
            if truncated is not None:
                lb = max(lb, truncated)
        remaining = None if deadline is None else deadline - time.perf_counter()
        if build and (remaining is None or remaining > 3):
            lb = max(
                lb,
                bounds.facility_location_bound(
                    self.problem, self.data, params, time_limit=remaining, transfer=True
                ),
            )
        objective = evaluate(self.problem, self.data, hubs, alloc)
        proven = _bound_proves(lb, objective, params)
        return self._finish(
            hubs, alloc, lb, t0, "heuristic+bound", proven=proven, info={**trial_info, **info}
        )

    def _benders_trial(
        self,
        params: SolveParameters,
        hubs: tuple[int, ...],
        alloc: IntArray,
        time_limit: float | None,
    ) -> tuple[tuple[int, ...], IntArray, float, dict[str, Any]] | None:
        """UMAHLP within ``benders_many_hubs_max_n`` nodes on a short limit: Benders
        from the heuristic's hubs (the fixed-cost local search) for ``time_limit`` seconds.

        Returns the better hub set, its allocation, the Benders bound (0 when it has
        none) and what to report (``benders_proven``: Benders closed the gap); None
        where the trial does not apply.
        """
        if (
            self.problem is not Problem.UMAHLP
            or self.n > self.benders_many_hubs_max_n
            or time_limit is None
            or time_limit < 5
        ):
            return None
        res = benders_multiple_allocation(
            self.data,
            start=hubs,
            deadline=time.perf_counter() + time_limit,
            relative_gap=params.relative_gap,
        )
        objective = evaluate(self.problem, self.data, hubs, alloc)
        if res.objective < objective:
            hubs, objective = res.hubs, res.objective
            alloc = self._allocation_for(hubs)
        bound = res.bound if math.isfinite(res.bound) else 0.0
        proven = res.proven and res.objective <= objective * (1 + 1e-12)
        info = {**res.summary(), "benders_bound": res.bound, "benders_proven": proven}
        return hubs, alloc, bound, info

    def _screened_single_allocation_bound(
        self,
        params: SolveParameters,
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
        left = [k for k in self.data.candidates if k not in out]
        objective = evaluate(self.problem, self.data, hubs, alloc)
        info = {"sa_screened_sites": len(left)}
        if len(left) > self.sa_screen_max_share * len(self.data.candidates) or _bound_proves(
            lb, objective, params
        ):
            return 0.0, hubs, alloc, info
        time_limit = None if deadline is None else deadline - time.perf_counter()
        if time_limit is not None and time_limit < 3:
            return 0.0, hubs, alloc, info
        # every single-allocation solution cheaper than the incumbent opens hubs only
        # among ``left`` and all of ``screened_in``
        data = dataclasses.replace(
            self.data,
            excluded=tuple(sorted(set(self.data.excluded) | out)),
            fixed_hubs=tuple(sorted(set(self.data.fixed_hubs) | set(screened.screened_in))),
        )
        bound, hubs, alloc, sa_info = self._single_allocation_bound(
            params, hubs, alloc, time_limit, data=data
        )
        return bound, hubs, alloc, {**info, **sa_info}

    def _single_allocation_bound(
        self,
        params: SolveParameters,
        hubs: tuple[int, ...],
        alloc: IntArray,
        time_limit: float | None,
        data: HubData | None = None,
    ) -> tuple[float, tuple[int, ...], IntArray, dict[str, Any]]:
        """The single-allocation Lagrangian bound (``sa_lagrangian``), from the incumbent.

        Returns the bound, the (possibly better) incumbent and what to report.  Without
        this bound single allocation is bounded by multiple allocation, which lies about
        2 % below it at AP 200.  ``data``: the model's data with fewer candidate sites
        (or more fixed hubs) that every solution cheaper than the incumbent keeps to;
        the bound then runs whatever the size.
        """
        if data is None:
            if not self._use_sa_lagrangian(params.time_limit):
                return 0.0, hubs, alloc, {}
            data = self.data
        objective = evaluate(self.problem, self.data, hubs, alloc)
        stop = None if time_limit is None else time.perf_counter() + time_limit

        capacitated = self.problem is Problem.CSAHLP
        capacities = self.data.capacities if capacitated else None

        def solve_hubs(hub_set: tuple[int, ...]) -> tuple[IntArray, float] | None:
            """The best single allocation to ``hub_set`` (within the capacities for
            CSAHLP), when the MIP proves it; an infinite cost when none fits."""
            start = (
                _capacitated_allocation(self.data, hub_set)
                if capacitated
                else improve_allocation(self.data, hub_set)
            )
            if len(hub_set) == 1 and not capacitated:
                assert start is not None
                return start, evaluate(self.problem, self.data, hub_set, start)
            remaining = None if stop is None else stop - time.perf_counter()
            if remaining is not None and remaining < 1:
                return None
            res = solve_allocation_mip(
                self.data,
                hub_set,
                params,
                time_limit=remaining,
                start=start,
                capacities=capacities,
            )
            if res.infeasible:
                return np.arange(self.n, dtype=np.int64), math.inf
            if not res.proven_optimal or res.allocation is None:
                return None
            return res.allocation, evaluate(self.problem, self.data, hub_set, res.allocation)

        # CSAHLP: the relaxation's hubs keep within the capacities (a knapsack each), and
        # so do the hub-set MIPs at the leaves of the branch and bound
        res = single_allocation_lagrangian(
            data,
            upper=objective,
            time_limit=time_limit,
            relative_gap=params.relative_gap,
            branch=True,
            node_iterations=self.sa_node_iterations,
            min_patience=self._min_patience(data, params.time_limit),
            halvings=self.sa_halvings,
            start_share=self._start_share(data),
            solve_hubs=solve_hubs,
            capacitated=capacitated,
            memory_budget=params.memory_budget,
        )
        info = _lagrangian_info("sa", res)
        # (a solution found keeps within the capacities: the relaxation returns only
        # agreed solutions that do, the leaves solve the capacitated allocation MIP)
        if res.hubs is not None and res.allocation is not None:
            found = evaluate(self.problem, self.data, res.hubs, res.allocation)
            if found < objective:
                hubs, alloc = res.hubs, res.allocation
        return res.bound, hubs, alloc, info

    def _min_patience(self, data: HubData, time_limit: float | None) -> int:
        """The single-allocation relaxation's patience floor (``sa_long_min_patience``)."""
        long = time_limit is None or time_limit >= self.sa_long_limit_seconds
        return self.sa_long_min_patience if data.p is not None and long else self.sa_min_patience

    def _start_share(self, data: HubData) -> float:
        """The share of the access costs in the Lagrangian relaxation's start."""
        return self.sa_pmedian_start_share if data.p is not None else self.sa_fixed_cost_start_share

    def _multiple_allocation_bound(
        self,
        params: SolveParameters,
        hubs: tuple[int, ...],
        alloc: IntArray,
        time_limit: float | None,
    ) -> tuple[float, tuple[int, ...], IntArray, dict[str, Any]]:
        """The Lagrangian bound of the multiple-allocation path formulation, with its
        branch and bound over the sites, from the incumbent (:mod:`sa_lagrangian` with
        ``multiple_allocation``).  Returns the bound, the (possibly better) incumbent
        and what to report."""
        objective = evaluate(self.problem, self.data, hubs, alloc)
        stop = None if time_limit is None else time.perf_counter() + time_limit

        def solve_hubs(hub_set: tuple[int, ...]) -> tuple[IntArray | None, float]:
            # a hub set's best routing is a shortest-path computation
            return None, evaluate(self.problem, self.data, hub_set, self._allocation_for(hub_set))

        def improve(start: tuple[int, ...]) -> tuple[tuple[int, ...], float]:
            # the swap descent from the relaxation's hubs (as Benders polishes its
            # rounded LP points: AP 200 UMApHMP p = 15 with 60 s, the VNS stopped at
            # 92,806.88, 0.17 % above the optimum)
            better, cost = local_search_hubs(self.data, start, deadline=stop)
            return tuple(sorted(better)), cost

        res = single_allocation_lagrangian(
            self.data,
            upper=objective,
            time_limit=time_limit,
            relative_gap=params.relative_gap,
            branch=True,
            node_iterations=self.sa_node_iterations,
            start_share=self._start_share(self.data),
            solve_hubs=solve_hubs,
            memory_budget=params.memory_budget,
            multiple_allocation=True,
            improve=improve,
        )
        if res.hubs is not None:
            routes = self._allocation_for(res.hubs)
            if evaluate(self.problem, self.data, res.hubs, routes) < objective:
                hubs, alloc = res.hubs, routes
        return res.bound, hubs, alloc, _lagrangian_info("ma", res)

    def _solve_heuristic_with_benders(
        self,
        params: SolveParameters,
        t0: float,
        deadline: float | None,
        until: Callable[[float], float | None],
    ) -> Solution:
        """The heuristic, then Benders decomposition for the bound (and the proof).

        USApHMP: the single-allocation Lagrangian bound (:mod:`sa_lagrangian`) comes
        first and may prove the optimum; Benders gets what it leaves.  Multiple
        allocation on the same hub set is never dearer than single allocation, so the
        Benders bound of the multiple-allocation problem bounds USApHMP and USAHLP too,
        and CSAHLP (whose capacities it ignores); for these two fixed-cost problems it
        gets 30 % of the limit, then the single-allocation Lagrangian bound and its
        branch and bound (for CSAHLP within the capacities) until 85 % and the
        facility-location bound (with capacities for CSAHLP) the rest; the
        largest bound counts; for UMApHMP and
        UMAHLP Benders also improves the hub set and proves optimality when its bound
        meets the incumbent.  The heuristic (GVNS for single
        allocation, which stops by itself within seconds; VNS over hub sets for multiple
        allocation) gets at most a quarter of the limit.
        """
        budget = until(0.25)
        hubs, alloc = self._feasible_heuristic(params, deadline, budget)
        lb = bounds.nearest_neighbour_bound(self.data)
        sa_info: dict[str, Any] = {}
        if self.problem is Problem.USAPHMP:
            # the single-allocation Lagrangian bound first: it can reach the optimum,
            # which lies about 2 % above the multiple-allocation one (AP 100 with 60 s
            # beside another solve, gaps for p = 5/10/15/20: after 30 % of the limit for
            # Benders 2.0/0.49/0.29/0.07 %; first 1.8/0.35/0.09 %, p = 20 proven)
            sa_bound, hubs, alloc, sa_info = self._single_allocation_bound(
                params, hubs, alloc, until(1.0)
            )
            lb = max(lb, sa_bound)
            objective = evaluate(self.problem, self.data, hubs, alloc)
            remaining = None if deadline is None else deadline - time.perf_counter()
            proven = _bound_proves(lb, objective, params)
            if proven or (remaining is not None and remaining < 3):
                return self._finish(
                    hubs, alloc, lb, t0, "heuristic+lagrangian", proven=proven, info=sa_info
                )
        benders_deadline = deadline
        fixed_single = self.problem in (Problem.USAHLP, Problem.CSAHLP)
        if fixed_single and deadline is not None:
            # the single-allocation Lagrangian bound below gets most of the rest
            share = until(self.sa_benders_share)
            benders_deadline = min(deadline, time.perf_counter() + (share or 0.0))
        start = hubs
        if fixed_single:
            # Benders bounds the multiple-allocation optimum: it proves that faster from
            # the multiple-allocation descent's hubs (about 1 s at AP 200) than from the
            # single-allocation ones (CSAHLP AP 100 LL, 120 s: two runs reached the UMAHLP
            # optimum, gap 4.71 % instead of 6.03 %; a third beside a bench lane did not,
            # as whether the whole-support cut fits depends on the load)
            start = _fixed_cost_local_search(self.data, deadline) or hubs
        # (Benders keeps the whole limit: cut short to 60 % of 600 s beside another
        # solve, AP 200 p = 4 declined the whole-support separation and ended at 16 %)
        screen = self._use_sa_screening(params.time_limit)
        res = benders_multiple_allocation(
            self.data,
            start=start,
            deadline=benders_deadline,
            relative_gap=params.relative_gap,
            screen_above=evaluate(self.problem, self.data, hubs, alloc) if screen else None,
            screen_deadline=deadline,
            screen_share=self.sa_screen_share,
        )
        if math.isfinite(res.bound):
            lb = max(lb, res.bound)
        elif deadline is None or deadline - time.perf_counter() > 3:
            lb = max(
                lb,
                bounds.facility_location_bound(
                    self.problem, self.data, params, time_limit=until(1.0), transfer=False
                ),
            )
        if screen and len(res.screened_out) > 0:
            sa_bound, hubs, alloc, sa_info = self._screened_single_allocation_bound(
                params, hubs, alloc, res, deadline, lb
            )
            lb = max(lb, sa_bound)
        # (without capacities the facility-location relaxation also relaxes multiple
        # allocation, so it cannot beat a proven multiple-allocation optimum)
        useful = self.problem is Problem.CSAHLP or not res.proven

        def facility_location(time_limit: float | None) -> float:
            # multiple allocation ignores the capacities: with tight ones (AP 100 TT) its
            # optimum is far below, and the capacitated facility-location bound is stronger;
            # for USAHLP it is the fallback when Benders does not get far (AP 200 L with
            # 600 s from the single-allocation hubs: 9.2 %, facility location 5.1 %)
            if not useful or (time_limit is not None and time_limit <= 3):
                return 0.0
            return bounds.facility_location_bound(
                self.problem, self.data, params, time_limit=time_limit, transfer=True
            )

        def single_allocation(time_limit: float | None) -> float:
            nonlocal hubs, alloc, sa_info
            objective = evaluate(self.problem, self.data, hubs, alloc)
            if lb >= objective * (1 - params.relative_gap):
                return 0.0
            sa_bound, hubs, alloc, sa_info = self._single_allocation_bound(
                params, hubs, alloc, time_limit
            )
            return sa_bound

        if fixed_single:
            # CSAHLP: its Lagrangian bound keeps within the capacities (a knapsack per
            # hub): on AP 100 TT it reached 1.06 % alone in 42 s, where the capacitated
            # facility-location bound left 11.9 % with 120 s
            lb = max(lb, single_allocation(until(self.sa_lagrangian_share)))
            lb = max(lb, facility_location(until(1.0)))
        objective = evaluate(self.problem, self.data, hubs, alloc)
        if not self.problem.single_allocation and res.objective < objective:
            hubs, objective = res.hubs, res.objective
            alloc = self._allocation_for(hubs)
        ma_proven = not self.problem.single_allocation and res.proven
        proven = (ma_proven and res.objective >= objective * (1 - 1e-12)) or _bound_proves(
            lb, objective, params
        )
        return self._finish(
            hubs,
            alloc,
            lb,
            t0,
            "heuristic+benders",
            proven=proven,
            info={**res.summary(), "benders_bound": res.bound, **sa_info},
        )


def _lagrangian_info(prefix: str, res: SingleAllocationBound) -> dict[str, Any]:
    """What a solve reports of its Lagrangian bound (``sa_...`` or ``ma_...``)."""
    return {
        f"{prefix}_lagrangian_bound": res.bound,
        f"{prefix}_lagrangian_iterations": res.iterations,
        f"{prefix}_lagrangian_seconds": round(res.seconds, 3),
        f"{prefix}_lagrangian_sites": len(res.sites),
        f"{prefix}_lagrangian_nodes": res.nodes,
    }


def _bound_proves(bound: float, objective: float, params: SolveParameters) -> bool:
    """Whether ``bound`` proves ``objective`` optimal within the solve's relative gap."""
    return bound >= objective - 1.000001 * params.relative_gap * max(1.0, abs(objective))


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
