"""Coverage of a travel-time target: where to put hubs so that people reach one in time.

Two classic covering models, solved exactly with OR-Tools CP-SAT. With
``a_ik = 1`` if demand point i reaches candidate k within ``minutes``
(``times[i, k] <= minutes``), ``w_i`` the demand weight, ``y_k`` open hubs and
``z_i`` covered points:

* **maximal covering** (``p`` given; Church and ReVelle, 1974)::

      max  sum_i w_i z_i
      s.t. z_i <= sum_k a_ik y_k,   sum_k y_k = p,
           y_k = 1 for existing hubs, y_k = 0 for excluded sites

* **share covering** (``share`` given): the fewest hubs whose covered weight is
  at least ``share * sum_i w_i``; ties are broken by the largest covered weight::

      min  (W + 1) * sum_k y_k - sum_i w_i z_i
      s.t. z_i <= sum_k a_ik y_k,   sum_i w_i z_i >= share * W

Weights are rounded to integers for CP-SAT. Each demand point is then allocated to
its nearest open hub. The :class:`~hubopt.models.base.Solution` has the open sites as
``hubs``, each demand point's site as ``allocation`` (``(n_demand,)``), the covered
weight as ``objective`` (both models) and the covered mask in ``info["covered"]``
(:meth:`CoverageModel.covered` recomputes it from the allocation and the times).
Infeasible specifications (more hubs than sites, a share that even every site together
cannot cover) raise :class:`~hubopt._errors.InfeasibleModelError` with the reason
before solving.

>>> model = CoverageModel.from_cost_matrix(times, weights, minutes=30, p=3)
>>> solution = model.solve(time_limit=60)
>>> model.objective(solution) == solution.objective
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

from hubopt._errors import InfeasibleModelError, ModelSpecificationError, SolverError
from hubopt.models.base import (
    FloatArray,
    IntArray,
    Model,
    Problem,
    Solution,
    SolveParameters,
    Status,
)

BoolArray = npt.NDArray[np.bool_]

__all__ = ["CoverageData", "CoverageModel"]


@dataclass(frozen=True, eq=False)
class CoverageData:
    """Validated input of a covering model (arrays are read-only copies).

    ``times`` is ``(n_demand, n_sites)`` in minutes, ``weights`` one demand weight per
    point; exactly one of ``p`` (maximal covering) and ``share`` (share covering).
    """

    times: FloatArray
    weights: FloatArray
    minutes: float
    p: int | None = None
    share: float | None = None
    fixed_hubs: tuple[int, ...] = ()
    excluded: tuple[int, ...] = ()

    @property
    def reach(self) -> BoolArray:
        """Boolean ``(n, m)``: point i reaches site k within the time."""
        return np.asarray(self.times <= self.minutes, dtype=np.bool_)


class CoverageModel(Model):
    """Maximal covering (``p``) or share covering (``share``) of a travel-time target;
    build one with :meth:`from_cost_matrix`."""

    problem: ClassVar[Problem] = Problem.COVERAGE

    def __init__(self, data: CoverageData) -> None:
        """Use :meth:`from_cost_matrix`; this takes validated :class:`CoverageData`."""
        self.data = data

    @classmethod
    def from_cost_matrix(
        cls,
        times: Any,
        weights: Any,
        *,
        minutes: float,
        p: int | None = None,
        share: float | None = None,
        fixed_hubs: Iterable[int] = (),
        excluded: Iterable[int] = (),
    ) -> Self:
        """Build the model from travel times ``(n_demand, n_sites)`` in minutes and one
        weight per demand point; ``p`` hubs (maximal covering) or the ``share`` of the
        weight to cover with the fewest hubs (share covering).

        Raises
        ------
        ModelSpecificationError
            On the first inconsistency (shapes, both or neither of ``p`` and ``share``,
            negative weights, site indices out of range).
        """
        t = np.array(times, dtype=np.float64)
        w = np.array(weights, dtype=np.float64)
        if t.ndim != 2 or w.shape != (t.shape[0],):
            msg = f"times must be (n, m) and weights (n,); got {t.shape} and {w.shape}"
            raise ModelSpecificationError(msg)
        if (p is None) == (share is None):
            msg = "give exactly one of p (maximal covering) or share (share covering)"
            raise ModelSpecificationError(msg)
        if np.any(w < 0):
            msg = "demand weights must be >= 0"
            raise ModelSpecificationError(msg)
        fixed, banned = tuple(int(k) for k in fixed_hubs), tuple(int(k) for k in excluded)
        bad = [k for k in (*fixed, *banned) if not 0 <= k < t.shape[1]]
        if bad:
            msg = f"site indices out of range: {bad}"
            raise ModelSpecificationError(msg)
        t.setflags(write=False)
        w.setflags(write=False)
        data = CoverageData(
            times=t,
            weights=w,
            minutes=float(minutes),
            p=p,
            share=share,
            fixed_hubs=fixed,
            excluded=banned,
        )
        return cls(data)

    @property
    def n(self) -> int:
        """Number of demand points."""
        return int(self.data.times.shape[0])

    def __repr__(self) -> str:
        """Short description."""
        rule = f"p={self.data.p}" if self.data.p is not None else f"share={self.data.share}"
        m = self.data.times.shape[1]
        return f"CoverageModel(n={self.n}, sites={m}, minutes={self.data.minutes:g}, {rule})"

    def check_feasible(self) -> None:
        """Raise :class:`InfeasibleModelError` naming the reason if no solution can exist."""
        d = self.data
        m = d.times.shape[1]
        allowed = [k for k in range(m) if k not in set(d.excluded)]
        clash = sorted(set(d.fixed_hubs) & set(d.excluded))
        if clash:
            msg = f"sites {clash} are both existing (must stay) and excluded"
            raise InfeasibleModelError(msg)
        if d.p is not None:
            if d.p > len(allowed):
                msg = (
                    f"p = {d.p} hubs asked but only {len(allowed)} candidate sites may "
                    f"open ({m} sites, {len(d.excluded)} excluded)"
                )
                raise InfeasibleModelError(msg)
            if len(set(d.fixed_hubs)) > d.p:
                msg = f"{len(set(d.fixed_hubs))} existing hubs must stay but p = {d.p}"
                raise InfeasibleModelError(msg)
        if d.share is not None:
            w = d.weights
            reachable = d.reach[:, allowed].any(axis=1) if allowed else np.zeros(len(w), bool)
            best = float(w[reachable].sum()) / float(w.sum()) if w.sum() > 0 else 0.0
            if best + 1e-12 < d.share:
                msg = (
                    f"coverage share {d.share:g} within {d.minutes:g} min cannot be "
                    f"reached: even all {len(allowed)} candidate sites open cover only "
                    f"{best:.3f} ({int((~reachable).sum())} demand points reach no site)"
                )
                raise InfeasibleModelError(msg)

    # -- evaluation -----------------------------------------------------------------
    def covered_weight(self, hubs: Iterable[int]) -> float:
        """Weight within ``minutes`` of one of ``hubs``."""
        H = list(hubs)
        if not H:
            return 0.0
        covered = self.data.reach[:, H].any(axis=1)
        return float(self.data.weights[covered].sum())

    def covered(self, solution: Solution) -> BoolArray:
        """Per demand point, whether its allocated hub lies within ``minutes``."""
        rows = np.arange(self.n)
        alloc = np.asarray(solution.allocation, dtype=np.int64)
        return np.asarray(self.data.times[rows, alloc] <= self.data.minutes, dtype=np.bool_)

    def objective(self, solution: Solution) -> float:
        """The covered weight of ``solution`` recomputed from the times (independent of
        any solver): each point counts when its allocated hub, an open one, is in reach.

        Raises :class:`InfeasibleModelError` for an allocation to a site that is not open.
        """
        alloc = np.asarray(solution.allocation, dtype=np.int64)
        if alloc.shape != (self.n,) or not set(alloc.tolist()) <= set(solution.hubs):
            msg = "coverage solution: every demand point must be allocated to an open hub"
            raise InfeasibleModelError(msg)
        return float(self.data.weights[self.covered(solution)].sum())

    # -- solving ----------------------------------------------------------------------
    def solve(self, params: SolveParameters | None = None, **kwargs: Any) -> Solution:
        """Solve with CP-SAT (one search worker: deterministic for a fixed ``seed``);
        keyword arguments build :class:`SolveParameters` (``time_limit``, ``seed``).

        Raises
        ------
        InfeasibleModelError
            When the specification cannot have a solution (see :meth:`check_feasible`).
        SolverError
            When CP-SAT finds no solution within the time limit.
        """
        from ortools.sat.python import cp_model

        if params is None:
            params = SolveParameters(**kwargs)
        elif kwargs:
            msg = "give either params or keyword arguments, not both"
            raise TypeError(msg)
        self.check_feasible()
        d = self.data
        start = time.perf_counter()
        reach = d.reach
        n, m = reach.shape
        w_int = [round(float(v)) for v in d.weights]
        total = sum(w_int)
        model = cp_model.CpModel()
        y = [model.new_bool_var(f"y{k}") for k in range(m)]
        z = [model.new_bool_var(f"z{i}") for i in range(n)]
        for k in d.fixed_hubs:
            model.add(y[k] == 1)
        for k in d.excluded:
            model.add(y[k] == 0)
        for i in range(n):
            sites = [y[k] for k in np.flatnonzero(reach[i]).tolist()]
            if sites:
                model.add(z[i] <= sum(sites))
            else:
                model.add(z[i] == 0)
        covered = sum(w_int[i] * z[i] for i in range(n))
        if d.p is not None:
            model.add(sum(y) == d.p)
            model.maximize(covered)
        else:
            assert d.share is not None
            model.add(covered >= math.ceil(d.share * total - 1e-9))
            model.minimize((total + 1) * sum(y) - covered)
        solver = cp_model.CpSolver()
        if params.time_limit is not None:
            solver.parameters.max_time_in_seconds = float(params.time_limit)
        solver.parameters.random_seed = int(params.seed)
        solver.parameters.num_search_workers = 1  # deterministic
        status = solver.solve(model)
        seconds = time.perf_counter() - start
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            if status == cp_model.INFEASIBLE:
                msg = "coverage model is infeasible (CP-SAT proved it)"
                raise InfeasibleModelError(msg)
            limit = "no limit" if params.time_limit is None else f"{params.time_limit:g} s"
            msg = f"CP-SAT found no solution within {limit} ({solver.status_name(status)})"
            raise SolverError(msg)
        hubs = tuple(k for k in range(m) if solver.boolean_value(y[k]))
        nearest = d.times[:, list(hubs)].argmin(axis=1)
        allocation: IntArray = np.array([hubs[a] for a in nearest], dtype=np.int64)
        mask = np.asarray(reach[:, list(hubs)].any(axis=1), dtype=np.bool_)
        objective = self.covered_weight(hubs)
        optimal = status == cp_model.OPTIMAL
        if d.p is not None:
            bound = float(solver.best_objective_bound)
        else:
            bound = objective if optimal else math.nan
        return Solution(
            problem=self.problem,
            hubs=hubs,
            allocation=allocation,
            objective=objective,
            bound=bound,
            gap=_gap(objective, bound),
            status=Status.OPTIMAL if optimal else Status.FEASIBLE,
            seconds=seconds,
            method="cp-sat",
            info={
                "covered": mask,
                "rule": "maximal" if d.p is not None else "share",
                "minutes": d.minutes,
            },
        )


def _gap(objective: float, bound: float) -> float:
    """``|bound - objective| / |objective|`` (the bound of maximal covering lies above)."""
    if objective == 0:
        return 0.0 if bound == 0 else math.inf
    return abs(bound - objective) / abs(objective)
