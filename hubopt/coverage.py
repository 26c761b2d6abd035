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

Weights are rounded to integers for CP-SAT. Each demand point is then
allocated to its nearest open hub. Infeasible specifications (more hubs than
sites, a share that even every site together cannot cover) raise
:class:`~hubopt._errors.InfeasibleModelError` with the reason before solving.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from hubopt._errors import InfeasibleModelError, ModelSpecificationError, SolverError


@dataclass(frozen=True)
class CoverageSolution:
    """Open hubs (candidate indices, sorted), each point's nearest open hub, covered mask."""

    hubs: tuple[int, ...]
    allocation: np.ndarray
    covered: np.ndarray
    objective: float
    bound: float
    status: str
    seconds: float
    method: str = "cp-sat"

    @property
    def gap(self) -> float:
        """Relative gap between the objective and the best bound."""
        if self.objective == 0:
            return 0.0 if self.bound == 0 else math.inf
        return abs(self.bound - self.objective) / abs(self.objective)


@dataclass(frozen=True)
class CoverageModel:
    """A covering instance: ``times`` (n_demand, n_sites) in minutes, weights, the rule."""

    times: np.ndarray
    weights: np.ndarray
    minutes: float
    p: int | None = None
    share: float | None = None
    fixed_hubs: tuple[int, ...] = ()
    excluded: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        """Check shapes and parameters; raise on the first inconsistency."""
        t, w = np.asarray(self.times), np.asarray(self.weights)
        if t.ndim != 2 or w.shape != (t.shape[0],):
            msg = f"times must be (n, m) and weights (n,); got {t.shape} and {w.shape}"
            raise ModelSpecificationError(msg)
        if (self.p is None) == (self.share is None):
            msg = "give exactly one of p (maximal covering) or share (share covering)"
            raise ModelSpecificationError(msg)
        if np.any(w < 0):
            msg = "demand weights must be >= 0"
            raise ModelSpecificationError(msg)
        bad = [k for k in (*self.fixed_hubs, *self.excluded) if not 0 <= k < t.shape[1]]
        if bad:
            msg = f"site indices out of range: {bad}"
            raise ModelSpecificationError(msg)

    @property
    def reach(self) -> np.ndarray:
        """Boolean (n, m): point i reaches site k within the time."""
        return np.asarray(self.times) <= self.minutes

    def check_feasible(self) -> None:
        """Raise :class:`InfeasibleModelError` naming the reason if no solution can exist."""
        m = self.times.shape[1]
        allowed = [k for k in range(m) if k not in set(self.excluded)]
        clash = sorted(set(self.fixed_hubs) & set(self.excluded))
        if clash:
            msg = f"sites {clash} are both existing (must stay) and excluded"
            raise InfeasibleModelError(msg)
        if self.p is not None:
            if self.p > len(allowed):
                msg = (f"p = {self.p} hubs asked but only {len(allowed)} candidate sites may "
                       f"open ({m} sites, {len(self.excluded)} excluded)")
                raise InfeasibleModelError(msg)
            if len(set(self.fixed_hubs)) > self.p:
                msg = (f"{len(set(self.fixed_hubs))} existing hubs must stay but p = {self.p}")
                raise InfeasibleModelError(msg)
        if self.share is not None:
            w = np.asarray(self.weights, dtype=float)
            reachable = self.reach[:, allowed].any(axis=1) if allowed else np.zeros(len(w), bool)
            best = float(w[reachable].sum()) / float(w.sum()) if w.sum() > 0 else 0.0
            if best + 1e-12 < self.share:
                msg = (f"coverage share {self.share:g} within {self.minutes:g} min cannot be "
                       f"reached: even all {len(allowed)} candidate sites open cover only "
                       f"{best:.3f} ({int((~reachable).sum())} demand points reach no site)")
                raise InfeasibleModelError(msg)

    def objective(self, hubs: tuple[int, ...] | list[int]) -> float:
        """Covered weight with ``hubs`` open (independent evaluator)."""
        if not hubs:
            return 0.0
        covered = self.reach[:, list(hubs)].any(axis=1)
        return float(np.asarray(self.weights, dtype=float)[covered].sum())

    def solve(self, *, time_limit: float = 60.0, seed: int = 0, threads: int = 2
              ) -> CoverageSolution:
        """Solve with CP-SAT; deterministic for a fixed ``seed`` (one search worker per run)."""
        from ortools.sat.python import cp_model

        self.check_feasible()
        start = time.perf_counter()
        reach = self.reach
        n, m = reach.shape
        w_int = [round(float(v)) for v in np.asarray(self.weights, dtype=float)]
        total = sum(w_int)
        model = cp_model.CpModel()
        y = [model.new_bool_var(f"y{k}") for k in range(m)]
        z = [model.new_bool_var(f"z{i}") for i in range(n)]
        for k in self.fixed_hubs:
            model.add(y[k] == 1)
        for k in self.excluded:
            model.add(y[k] == 0)
        for i in range(n):
            sites = [y[k] for k in np.flatnonzero(reach[i]).tolist()]
            if sites:
                model.add(z[i] <= sum(sites))
            else:
                model.add(z[i] == 0)
        covered = sum(w_int[i] * z[i] for i in range(n))
        if self.p is not None:
            model.add(sum(y) == self.p)
            model.maximize(covered)
        else:
            assert self.share is not None
            model.add(covered >= math.ceil(self.share * total - 1e-9))
            model.minimize((total + 1) * sum(y) - covered)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = float(time_limit)
        solver.parameters.random_seed = int(seed)
        solver.parameters.num_search_workers = 1  # deterministic
        status = solver.solve(model)
        seconds = time.perf_counter() - start
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            if status == cp_model.INFEASIBLE:
                msg = "coverage model is infeasible (CP-SAT proved it)"
                raise InfeasibleModelError(msg)
            msg = f"CP-SAT found no solution within {time_limit:g} s ({solver.status_name(status)})"
            raise SolverError(msg)
        hubs = tuple(k for k in range(m) if solver.boolean_value(y[k]))
        alloc = np.asarray(self.times)[:, list(hubs)].argmin(axis=1)
        allocation = np.array([hubs[a] for a in alloc], dtype=int)
        cov = np.asarray(reach[:, list(hubs)].any(axis=1), dtype=bool)
        obj = self.objective(hubs)
        if self.p is not None:
            bound = float(solver.best_objective_bound)
        else:
            bound = obj if status == cp_model.OPTIMAL else math.nan
        return CoverageSolution(
            hubs=hubs, allocation=allocation, covered=cov, objective=obj,
            bound=bound, status="optimal" if status == cp_model.OPTIMAL else "feasible",
            seconds=seconds,
        )


__all__ = ["CoverageModel", "CoverageSolution"]
