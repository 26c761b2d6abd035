r"""p-hub center and hub covering: a bound on every hub-routed trip, not on their sum.

The route of the flow from ``i`` to ``j`` through hubs ``k`` and ``m`` (``k == m``
allowed) costs ``c_ijkm = chi C_ik + alpha C_km + delta C_mj`` per unit; only the pairs
with flow ``W_ij > 0`` count, whatever their amount.

* **p-hub center** (Campbell 1994; Kara & Tansel 2000; Ernst, Hamacher, Jiang,
  Krishnamoorthy & Woeginger 2009): ``p`` hubs and routes minimising the largest route
  cost, ``min max_{(i,j): W_ij > 0} c_ij k(i,j) m(i,j)``.  :class:`UMApHCP` (multiple
  allocation: each pair takes its cheapest route through the open hubs) and
  :class:`USApHCP` (single allocation: each node uses one hub for all its flow, a hub
  itself).
* **hub covering** (Campbell 1994; Kara & Tansel 2003 for single allocation): the fewest
  hubs, or with ``fixed_costs`` the cheapest set, such that every pair with flow has a
  route within ``max_cost``.  :class:`UMAHCP` and :class:`USAHCP`.

All four are solved exactly by :mod:`hubopt.models._center_search` (radius search over
a covering oracle on CP-SAT or a MathOpt MIP backend); existing hubs (``fixed_hubs``)
stay open and ``excluded`` sites closed.  The :class:`~hubopt.models.base.Solution`
carries the hubs (0-based), the allocation (``(n,)`` or the routes ``(n, n, 2)``), the
objective (the largest route cost; for covering the number or fixed cost of the hubs),
its bound and gap, and ``info["max_route_cost"]``.  :meth:`HubCenterModel.objective`
recomputes it from the matrix for the allocation given (for single allocation the best
allocation of given hubs is itself a hard problem: the solution's own is evaluated).

>>> model = UMApHCP.from_cost_matrix(costs, flows, p=3, alpha=0.5)
>>> solution = model.solve(time_limit=60)
>>> model.objective(solution) == solution.objective
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any, ClassVar, Self

import numpy as np

from hubopt._errors import InfeasibleModelError, ModelSpecificationError, SolverError
from hubopt.models._center_cover import CenterInstance
from hubopt.models._center_search import center_search, covering_search
from hubopt.models.base import (
    FloatArray,
    HubData,
    Model,
    Problem,
    Solution,
    SolveParameters,
    Status,
    make_hub_data,
    relative_gap,
)
from hubopt.models.evaluate import max_route_cost, route_unit_costs

__all__ = ["UMAHCP", "USAHCP", "HubCenterModel", "UMApHCP", "USApHCP"]

# CP-SAT against HiGHS on the same oracle (random Euclidean n = 25, p = 3, and CAB 25,
# see docs/engine.md): CP-SAT is the default; ``method="mip"`` takes ``params.solver``
DEFAULT_BACKEND = "cpsat"


class HubCenterModel(Model):
    """Base of the four minimax hub models; build one with ``from_cost_matrix``."""

    problem: ClassVar[Problem]

    def __init__(self, data: HubData, max_cost: float | None = None) -> None:
        """Use ``from_cost_matrix``; this takes validated :class:`HubData`."""
        self.data = data
        self.max_cost = max_cost

    @classmethod
    def _build(cls, costs: Any, flows: Any, *, p: int | None, max_cost: float | None,
               chi: float, alpha: float, delta: float, fixed_costs: Any,
               fixed_hubs: Iterable[int], excluded: Iterable[int]) -> Self:
        prob = cls.problem
        problems: list[str] = []
        if prob.covering:
            if isinstance(max_cost, bool) or not isinstance(max_cost, int | float) or not (
                    math.isfinite(max_cost) and max_cost >= 0):
                problems.append(f"max_cost: expected a finite number >= 0, found {max_cost!r}")
        elif max_cost is not None:
            problems.append("max_cost: only the hub covering problems (usahcp, umahcp) take it")
        if not prob.covering and fixed_costs is not None:
            problems.append("fixed_costs: the p-hub center problems have no fixed costs")
        try:
            data = make_hub_data(
                costs, flows, chi=chi, alpha=alpha, delta=delta, p=p,
                fixed_costs=fixed_costs, fixed_hubs=fixed_hubs, excluded=excluded,
                need_p=prob.has_p, need_fixed_costs=fixed_costs is not None,
                need_capacities=False)
        except ModelSpecificationError as exc:
            problems.insert(0, str(exc))
            data = None
        if problems or data is None:
            raise ModelSpecificationError("; ".join(problems))
        return cls(data, None if max_cost is None else float(max_cost))

    @property
    def n(self) -> int:
        """Number of nodes."""
        return self.data.n

    def __repr__(self) -> str:
        """Short description."""
        rule = f"p={self.data.p}" if self.data.p is not None else f"max_cost={self.max_cost:g}"
        return f"{type(self).__name__}(n={self.n}, {rule})"

    # -- evaluation -----------------------------------------------------------------
    def route_costs(self, solution: Solution) -> FloatArray:
        """Unit route cost of every OD pair under ``solution`` (``(n, n)``)."""
        return route_unit_costs(self.problem.single_allocation, self.data, solution.allocation)

    def max_route_cost(self, solution: Solution) -> float:
        """The largest route cost over the pairs with flow, recomputed from the matrix."""
        return max_route_cost(self.problem, self.data, solution.hubs, solution.allocation)

    def objective(self, solution: Solution) -> float:
        """The solution's objective recomputed from the matrix, independent of any solver:
        the largest route cost (center), or the number or fixed cost of the hubs after
        checking that every pair with flow stays within ``max_cost`` (covering).

        Raises :class:`~hubopt._errors.InfeasibleModelError` for an infeasible solution.
        """
        worst = self.max_route_cost(solution)
        if not self.problem.covering:
            return worst
        assert self.max_cost is not None
        if worst > self.max_cost:
            msg = (f"{self.problem.label} solution is infeasible: a route costs {worst:.6g}, "
                   f"above max_cost = {self.max_cost:.6g}")
            raise InfeasibleModelError(msg)
        return self._weight(solution.hubs)

    def _weight(self, hubs: Iterable[int]) -> float:
        if self.data.fixed_costs is None:
            return float(len(set(hubs)))
        return self.data.fixed_cost_of(sorted(set(hubs)))

    def _site_weights(self, inst: CenterInstance) -> FloatArray:
        if self.data.fixed_costs is None:
            return np.ones(len(inst.K))
        return np.asarray(self.data.fixed_costs[inst.K], dtype=np.float64)

    # -- solving ----------------------------------------------------------------------
    def solve(self, params: SolveParameters | None = None, **kwargs: Any) -> Solution:
        """Solve exactly (radius search over the covering oracle); keyword arguments
        build :class:`SolveParameters`.  ``method``: ``"auto"`` (CP-SAT) or ``"mip"``
        (the MathOpt backend ``solver``).

        Raises
        ------
        InfeasibleModelError
            Hub covering: no set of hubs keeps every pair within ``max_cost`` (proven).
        SolverError
            For a method other than auto or mip.
        """
        if params is None:
            params = SolveParameters(**kwargs)
        elif kwargs:
            msg = "give either params or keyword arguments, not both"
            raise TypeError(msg)
        if params.method not in ("auto", "mip"):
            msg = f"{self.problem.label}: method: expected auto or mip, found {params.method!r}"
            raise SolverError(msg)
        backend = DEFAULT_BACKEND if params.method == "auto" else params.solver
        t0 = time.perf_counter()
        deadline = None if params.time_limit is None else t0 + 0.93 * params.time_limit
        inst = CenterInstance.of(self.data, single=self.problem.single_allocation)
        if self.problem.covering:
            assert self.max_cost is not None
            self._check_reachable(inst)
            res = covering_search(inst, self.max_cost, self._site_weights(inst),
                                  deadline=deadline, backend=backend, seed=params.seed,
                                  relative_gap=params.relative_gap)
            if res.hubs is None and res.proven:
                msg = (f"{self.problem.label}: no set of hubs keeps every pair with flow "
                       f"within max_cost = {self.max_cost:g} (proven by the solver)")
                raise InfeasibleModelError(msg)
        else:
            assert self.data.p is not None
            floor, start, first = -math.inf, None, {}
            if self.problem.single_allocation:
                # multiple allocation on the same sites first (in up to a third of the
                # time): its optimum bounds single allocation from below, and its hubs
                # are a start
                ma_deadline = None if deadline is None else t0 + (deadline - t0) / 3
                ma = center_search(CenterInstance.of(self.data, single=False), self.data.p,
                                   deadline=ma_deadline, backend=backend, seed=params.seed,
                                   relative_gap=params.relative_gap)
                floor, start = ma.bound, ma.hubs
                first = {"multiple_allocation_bound": ma.bound,
                         "multiple_allocation_probes": ma.info.get("probes", 0)}
            res = center_search(inst, self.data.p, deadline=deadline, backend=backend,
                                seed=params.seed, relative_gap=params.relative_gap,
                                floor=floor, start=start)
            res.info.update(first)
        method = f"radius-search:{backend}"
        seconds = time.perf_counter() - t0
        if res.hubs is None or res.allocation is None:
            return Solution(self.problem, (), np.zeros(0, dtype=np.int64), math.inf,
                            res.bound, math.inf, Status.NO_SOLUTION, seconds, method,
                            info=res.info)
        hubs = tuple(sorted(int(h) for h in res.hubs))
        sol = Solution(self.problem, hubs, np.asarray(res.allocation, dtype=np.int64),
                       math.nan, res.bound, math.nan, Status.FEASIBLE, seconds, method)
        objective = self.objective(sol)  # the independent recomputation, checks included
        bound = min(res.bound, objective)
        info = {**res.info, "max_route_cost": self.max_route_cost(sol)}
        if self.max_cost is not None:
            info["max_cost"] = self.max_cost
        return Solution(self.problem, hubs, sol.allocation, objective, bound,
                        relative_gap(objective, bound),
                        Status.OPTIMAL if res.proven else Status.FEASIBLE,
                        time.perf_counter() - t0, method, info=info)

    def _check_reachable(self, inst: CenterInstance) -> None:
        """Hub covering: every pair needs a route within ``max_cost`` with all sites open."""
        assert self.max_cost is not None
        if len(inst.I) == 0:
            return
        floors = inst.floors()
        bad = np.flatnonzero(floors > self.max_cost)
        if len(bad):
            shown = ", ".join(f"({inst.I[t]}, {inst.J[t]}): {floors[t]:.6g}" for t in bad[:5])
            more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
            msg = (f"{self.problem.label}: max_cost = {self.max_cost:g} cannot be met: "
                   f"{len(bad)} OD pair(s) with flow have no route within it even with every "
                   f"candidate site open (0-based pair: cheapest route) {shown}{more}")
            raise InfeasibleModelError(msg)


class _Center(HubCenterModel):
    @classmethod
    def from_cost_matrix(cls, costs: Any, flows: Any, *, p: int, chi: float = 1.0,
                         alpha: float = 1.0, delta: float = 1.0, fixed_hubs: Iterable[int] = (),
                         excluded: Iterable[int] = ()) -> Self:
        """Build the model from costs, flows (only ``W_ij > 0`` matters) and ``p``."""
        return cls._build(costs, flows, p=p, max_cost=None, chi=chi, alpha=alpha,
                          delta=delta, fixed_costs=None, fixed_hubs=fixed_hubs,
                          excluded=excluded)


class _Covering(HubCenterModel):
    @classmethod
    def from_cost_matrix(cls, costs: Any, flows: Any, *, max_cost: float, chi: float = 1.0,
                         alpha: float = 1.0, delta: float = 1.0, fixed_costs: Any = None,
                         fixed_hubs: Iterable[int] = (), excluded: Iterable[int] = ()) -> Self:
        """Build the model from costs, flows (only ``W_ij > 0`` matters), the bound
        ``max_cost`` on every route and optional opening costs (default: count hubs)."""
        return cls._build(costs, flows, p=None, max_cost=max_cost, chi=chi, alpha=alpha,
                          delta=delta, fixed_costs=fixed_costs, fixed_hubs=fixed_hubs,
                          excluded=excluded)


class USApHCP(_Center):
    """Uncapacitated single allocation p-hub center problem."""

    problem: ClassVar[Problem] = Problem.USAPHCP


class UMApHCP(_Center):
    """Uncapacitated multiple allocation p-hub center problem."""

    problem: ClassVar[Problem] = Problem.UMAPHCP


class USAHCP(_Covering):
    """Single allocation hub covering problem (every pair within ``max_cost``)."""

    problem: ClassVar[Problem] = Problem.USAHCP


class UMAHCP(_Covering):
    """Multiple allocation hub covering problem (every pair within ``max_cost``)."""

    problem: ClassVar[Problem] = Problem.UMAHCP
