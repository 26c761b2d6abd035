"""The hub model class shared by the five problems, and the phases of its solve.

:func:`hubopt.models.strategy.choose_plan` decides which phases a solve runs (from the
problem, ``n``, ``p``, the time limit and the
:class:`~hubopt.models.strategy.EngineOptions`); this module runs them:

* the exact hub-set search of :mod:`hubopt.models._search` (p-hub medians whose hub
  sets can be enumerated);
* the E&K flow MIP on an OR-Tools MathOpt backend, warm-started from the heuristics;
* the heuristic, then Benders decomposition of the multiple-allocation problem
  (:mod:`hubopt.models.benders`): exact for UMApHMP/UMAHLP and a lower bound for
  USApHMP/USAHLP/CSAHLP (for USAHLP and CSAHLP also the facility-location bound, with
  capacities for CSAHLP, in the time Benders leaves), with the Lagrangian bound of the
  single-allocation path formulation and its branch and bound
  (:mod:`hubopt.models.sa_lagrangian`; USApHMP before Benders, on all sites or on the
  sites that Benders' screening leaves);
* the heuristic with facility-location lower bounds (:mod:`hubopt.models.bounds`) and
  the Lagrangian bounds of the path formulations: a valid bound and an honest gap.

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
from hubopt.models._bounding import (
    _bound_proves,
    benders_trial,
    large_benders_bound,
    large_grouped_bound,
    multiple_allocation_bound,
    screened_single_allocation_bound,
    single_allocation_bound,
)
from hubopt.models._local import (
    _fixed_cost_local_search,
    allocation_for,
    feasible_heuristic,
    heuristic,
    vns_budget,
)
from hubopt.models._mip import (
    solve_multiple_allocation_mip,
    solve_single_allocation_mip,
)
from hubopt.models.base import (
    FloatArray,
    HubData,
    IntArray,
    Model,
    Problem,
    Solution,
    SolveParameters,
    Status,
    make_hub_data,
    relative_gap,
)
from hubopt.models.benders import benders_multiple_allocation
from hubopt.models.evaluate import (
    evaluate,
    multiple_allocation_od_costs,
    single_allocation_od_costs,
)
from hubopt.models.gvns import gvns_single_allocation
from hubopt.models.strategy import (
    EngineOptions,
    Path,
    Plan,
    choose_plan,
    effective_size,
    large_lagrangian_fits,
)


class HubModel(Model):
    """Base of the five hub models; build one with ``from_cost_matrix``."""

    problem: ClassVar[Problem]

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
    def plan(
        self, params: SolveParameters | None = None, options: EngineOptions | None = None
    ) -> Plan:
        """The phases that :meth:`solve` runs with ``params`` and ``options``."""
        params = SolveParameters() if params is None else params
        return choose_plan(
            self.problem,
            n=self.n,
            p=self.data.p,
            hub_sets=_search.count_hub_sets(self.data, int(self.data.p or 0))
            if self.problem.has_p
            else 0,
            time_limit=params.time_limit,
            options=options,
            method=params.method,
            size=self.size,
        )

    @property
    def size(self) -> int:
        """The work size that the strategy compares with its thresholds
        (:func:`~hubopt.models.strategy.effective_size`: ``n`` for AP-like instances)."""
        d = self.data
        return effective_size(d.n, len(d.candidates), self.pairs)

    @property
    def pairs(self) -> int:
        """The number of OD pairs with flow."""
        return int(np.count_nonzero(self.data.flows > 0))

    def solve(
        self,
        params: SolveParameters | None = None,
        *,
        options: EngineOptions | None = None,
        **kwargs: Any,
    ) -> Solution:
        """Solve the model; keyword arguments build :class:`SolveParameters`.

        ``options``: the engine's strategy (:class:`~hubopt.models.strategy.EngineOptions`;
        its defaults when ``None``), from which :func:`~hubopt.models.strategy.choose_plan`
        picks the phases.
        """
        if params is None:
            params = SolveParameters(**kwargs)
        elif kwargs:
            msg = "give either params or keyword arguments, not both"
            raise TypeError(msg)
        t0 = time.perf_counter()
        # phases stop at 93 % of the limit: building a model or a bound and the final
        # evaluation must fit in the rest
        deadline = None if params.time_limit is None else t0 + 0.93 * params.time_limit
        opts = EngineOptions() if options is None else options
        plan = self.plan(params, opts)
        if plan.path is Path.SEARCH:
            return self._solve_search(params, opts, t0, deadline)
        if plan.path is Path.MIP:
            return self._solve_mip(params, t0, deadline)
        if plan.path is Path.BENDERS:
            return self._solve_benders(params, t0, deadline)
        return self._solve_heuristic_with_bound(params, opts, plan, t0, deadline)

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
        return allocation_for(self.problem, self.data, hubs)

    def _solve_search(
        self, params: SolveParameters, opts: EngineOptions, t0: float, deadline: float | None
    ) -> Solution:
        start = None
        if self.problem.single_allocation:  # GVNS: a strong first bound, in seconds
            limit = params.time_limit
            budget = None if limit is None else opts.search_gvns_share * limit
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

    def _solve_mip(self, params: SolveParameters, t0: float, deadline: float | None) -> Solution:
        hubs0, alloc0 = heuristic(self.problem, self.data, deadline, seed=params.seed)
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
        budget = 0.3 * vns_budget(params)  # Benders improves the hub set too
        hubs0, _ = heuristic(self.problem, self.data, deadline, seed=params.seed, budget=budget)
        res = benders_multiple_allocation(
            self.data, start=hubs0, deadline=deadline, relative_gap=params.relative_gap
        )
        alloc = self._allocation_for(res.hubs)
        return self._finish(
            res.hubs, alloc, res.bound, t0, "benders", proven=res.proven, info=res.summary()
        )

    def _solve_heuristic_with_bound(
        self,
        params: SolveParameters,
        opts: EngineOptions,
        plan: Plan,
        t0: float,
        deadline: float | None,
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

        if plan.path is Path.HEURISTIC_BENDERS:
            return self._solve_heuristic_with_benders(params, opts, plan, t0, deadline, until)
        # the relaxation without the inter-hub term: for the p-hub medians its Lagrangian
        # bound (numpy, well under a second at n = 200 and a few at n = 500) is as strong
        # as the MIP's (AP 200 p = 5: 108,953.0 in 0.3 s against 108,953.4 in 12 s); with
        # fixed costs or capacities the MIP is tighter and gets its share too
        median, reach, serve = bounds.median_multipliers(self.data, time_limit=until(0.1))
        lb = max(bounds.nearest_neighbour_bound(self.data), median)
        build = plan.mathopt_bounds
        if not self.problem.has_p and build:
            lb = max(
                lb,
                bounds.facility_location_bound(
                    self.problem, self.data, params, time_limit=until(0.15), transfer=False
                ),
            )
        # GVNS (single allocation) stops by itself long before; the VNS over hub sets uses
        # its share, so it gets less where the inter-hub bound needs the time (many hubs;
        # the multiple-allocation Lagrangian bound gets the time that Benders would)
        budget = until(plan.vns_budget_share)
        hubs, alloc = feasible_heuristic(
            self.problem, self.data, params, opts, plan, deadline, budget
        )
        trial = benders_trial(
            self.problem, self.data, params, plan, hubs, alloc, until(opts.benders_trial_share)
        )
        trial_info: dict[str, Any] = {}
        if trial is not None:
            hubs, alloc, benders_bound, trial_info = trial
            lb = max(lb, benders_bound)
            if trial_info["benders_proven"]:
                return self._finish(
                    hubs, alloc, lb, t0, "heuristic+benders", proven=True, info=trial_info
                )
        # single allocation: the single-allocation Lagrangian bound first (AP 200 p = 5,
        # 60 s: the facility-location bounds leave 13 %); a no-op for the others.  It
        # keeps the whole limit when no facility-location MIP or LP follows (large
        # instances): it stops at the limit or at the proof, never earlier
        rest = plan.truncated_bound or build
        # beyond every size of Benders and the relaxation: the Lagrangian bound when it
        # fits the memory and the time left, else Benders' bound below
        # (elsewhere its memory alone: its arrays hold a row per OD pair with flow)
        sites = len(self.data.candidates)
        fits = large_lagrangian_fits(
            self.pairs, sites, until(1.0) if plan.large_bound else None, opts
        )
        remaining = None if deadline is None else deadline - time.perf_counter()
        setup = opts.large_benders_setup_seconds * self.n**2 * sites
        benders_fits = remaining is None or (remaining > 3 and setup <= 0.5 * remaining)
        if (plan.large_bound and not fits and not benders_fits and remaining is not None
                and not opts.group_lagrangian):  # fmt: skip
            # neither fits the time left (and no grouped bound): the relaxation's first
            # steps, where its arrays fit the memory (any multipliers give a bound)
            step = opts.large_lagrangian_step_seconds * float(self.pairs) * sites
            fits = remaining > 3 and remaining >= opts.large_lagrangian_min_steps * step
            fits = fits and large_lagrangian_fits(self.pairs, sites, None, opts)
        if not fits:
            plan = dataclasses.replace(plan, sa_lagrangian=False, ma_lagrangian=False)
        sa_bound, hubs, alloc, info = single_allocation_bound(
            self.problem,
            self.data,
            params,
            opts,
            plan,
            hubs,
            alloc,
            until(opts.sa_lagrangian_share if rest else 1.0),
        )
        lb = max(lb, sa_bound)
        if plan.ma_lagrangian:
            # multiple allocation: its Lagrangian bound in the rest of the time (AP 200
            # with 60 s: UMApHMP p = 4 3.3 %, where the facility-location bounds below
            # leave 11.1 %; UMAHLP L with 120 s proven in 90 s)
            bound, hubs, alloc, info = multiple_allocation_bound(
                self.problem, self.data, params, opts, hubs, alloc, until(1.0)
            )
            lb = max(lb, bound)
        if plan.large_bound and not fits and deadline is not None:
            # the grouped bound first, until it stalls; then Benders where it fits (else
            # the grouped bound goes on to the deadline)
            end = None if limit is None else t0 + opts.sa_group_end_share * limit
            bound, group_info = large_grouped_bound(
                self.problem, self.data, opts, hubs, alloc, deadline, (reach, serve), setup,
                end,
            )
            lb = max(lb, bound)
            info = {**info, **group_info}
            remaining = deadline - time.perf_counter()
            benders_fits = remaining > 3 and setup <= 0.5 * remaining
        if plan.large_bound and not fits and benders_fits:
            hubs, alloc, bound, large_info = large_benders_bound(
                self.problem, self.data, params, hubs, alloc, deadline
            )
            lb = max(lb, bound)
            info = {**info, **large_info}
        objective = evaluate(self.problem, self.data, hubs, alloc)
        if _bound_proves(lb, objective, params):
            return self._finish(
                hubs, alloc, lb, t0, "heuristic+bound", proven=True, info={**trial_info, **info}
            )
        remaining = None if deadline is None else deadline - time.perf_counter()
        if (remaining is None or remaining > 3) and plan.truncated_bound:
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

    def _solve_heuristic_with_benders(
        self,
        params: SolveParameters,
        opts: EngineOptions,
        plan: Plan,
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
        hubs, alloc = feasible_heuristic(
            self.problem, self.data, params, opts, plan, deadline, budget
        )
        if not large_lagrangian_fits(self.pairs, len(self.data.candidates), None, opts):
            plan = dataclasses.replace(plan, sa_lagrangian=False)  # its arrays: memory
        lb = bounds.nearest_neighbour_bound(self.data)
        sa_info: dict[str, Any] = {}
        if self.problem is Problem.USAPHMP:
            # the single-allocation Lagrangian bound first: it can reach the optimum,
            # which lies about 2 % above the multiple-allocation one (AP 100 with 60 s
            # beside another solve, gaps for p = 5/10/15/20: after 30 % of the limit for
            # Benders 2.0/0.49/0.29/0.07 %; first 1.8/0.35/0.09 %, p = 20 proven)
            sa_bound, hubs, alloc, sa_info = single_allocation_bound(
                self.problem, self.data, params, opts, plan, hubs, alloc, until(1.0)
            )
            lb = max(lb, sa_bound)
            objective = evaluate(self.problem, self.data, hubs, alloc)
            remaining = None if deadline is None else deadline - time.perf_counter()
            proven = _bound_proves(lb, objective, params)
            if proven or (remaining is not None and remaining < 3):
                return self._finish(
                    hubs, alloc, lb, t0, "heuristic+lagrangian", proven=proven, info=sa_info
                )
        if plan.ma_first and opts.ma_first_share > 0:
            # a case's UMApHMP: the Lagrangian bound first, Benders from its hubs
            ma_bound, hubs, alloc, sa_info = multiple_allocation_bound(
                self.problem, self.data, params, opts, hubs, alloc, until(opts.ma_first_share)
            )
            lb = max(lb, ma_bound)
            objective = evaluate(self.problem, self.data, hubs, alloc)
            if _bound_proves(lb, objective, params):
                return self._finish(
                    hubs, alloc, lb, t0, "heuristic+lagrangian", proven=True, info=sa_info
                )
        benders_deadline = deadline
        fixed_single = self.problem in (Problem.USAHLP, Problem.CSAHLP)
        if fixed_single and deadline is not None:
            # the single-allocation Lagrangian bound below gets most of the rest
            share = until(opts.sa_benders_share)
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
        screen = plan.sa_screening
        res = benders_multiple_allocation(
            self.data,
            start=start,
            deadline=benders_deadline,
            relative_gap=params.relative_gap,
            screen_above=evaluate(self.problem, self.data, hubs, alloc) if screen else None,
            screen_deadline=deadline,
            screen_share=opts.sa_screen_share,
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
            sa_bound, hubs, alloc, sa_info = screened_single_allocation_bound(
                self.problem, self.data, params, opts, plan, hubs, alloc, res, deadline, lb
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
            sa_bound, hubs, alloc, sa_info = single_allocation_bound(
                self.problem, self.data, params, opts, plan, hubs, alloc, time_limit
            )
            return sa_bound

        if fixed_single:
            # CSAHLP: its Lagrangian bound keeps within the capacities (a knapsack per
            # hub): on AP 100 TT it reached 1.06 % alone in 42 s, where the capacitated
            # facility-location bound left 11.9 % with 120 s
            lb = max(lb, single_allocation(until(opts.sa_lagrangian_share)))
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
