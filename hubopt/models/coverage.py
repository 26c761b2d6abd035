"""Coverage of a travel-time target: where to put hubs so that people reach one in time.

Two classic covering models, solved exactly as MIPs through OR-Tools MathOpt (HiGHS by
default; ``SolveParameters.solver`` picks SCIP or CP-SAT). With ``a_ik = 1`` if demand
point i reaches candidate k within ``minutes`` (``times[i, k] <= minutes``), ``w_i`` the
demand weight, ``y_k`` open hubs and ``z_i`` covered points:

* **maximal covering** (MCLP, ``p`` given; Church and ReVelle, 1974)::

      max  sum_i w_i z_i
      s.t. z_i <= sum_k a_ik y_k,   sum_k y_k = p,
           y_k = 1 for existing hubs, y_k = 0 for excluded sites

* **share covering** (``share`` given; the set covering model of Toregas et al., 1971,
  with a share of the weight instead of all of it): the fewest hubs whose covered
  weight is at least ``share * sum_i w_i``, and among those the largest covered weight.
  Solved in two steps: the fewest hubs ``k`` (``min sum_k y_k`` s.t. ``sum_i w_i z_i >=
  share * W``), then maximal covering with ``p = k``.

Before the MIP the model is reduced (:mod:`hubopt.models._cover_reduce`): points no site
reaches dropped, points an existing hub reaches counted once, points with the same
coverage set merged into one weighted row, dominated sites left out. The greedy hub set
(largest added weight first) is the MIP's starting solution. The reach is a sparse
matrix, so 20,000 points x 2,000 sites fit in memory.

**Capacities** (maximal covering only): each demand point is allocated to one open
hub and counts when that hub reaches it; ``capacities[k]`` bounds the weight of the
covered points allocated to hub k. Points then need not go to their nearest hub, and a
point every open hub reaches is necessarily covered (it must be allocated somewhere).
Solved with one binary ``x_ik`` per pair within reach (no merging or dominance).

Each demand point is allocated to its nearest open hub (with capacities: to the hub
serving it, or if it is not covered, to the nearest open hub out of its reach). The
:class:`~hubopt.models.base.Solution` has the open sites as ``hubs``, each demand
point's site as ``allocation`` (``(n_demand,)``), the covered weight as ``objective``
(both models) and the covered mask in ``info["covered"]`` (:meth:`CoverageModel.covered`
recomputes it from the allocation and the times). Infeasible specifications (more hubs
than sites, a share that even every site together cannot cover) raise
:class:`~hubopt._errors.InfeasibleModelError` with the reason before solving.

>>> model = CoverageModel.from_cost_matrix(times, weights, minutes=30, p=3)
>>> solution = model.solve(time_limit=60)
>>> model.objective(solution) == solution.objective
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

from hubopt._errors import InfeasibleModelError, ModelSpecificationError, SolverError
from hubopt.models._cover_data import CoverageData
from hubopt.models._cover_reduce import reach_matrix
from hubopt.models.base import (
    FloatArray,
    IntArray,
    Model,
    Problem,
    Solution,
    SolveParameters,
)

BoolArray = npt.NDArray[np.bool_]

__all__ = ["CoverageData", "CoverageModel"]


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
        capacities: Any = None,
    ) -> Self:
        """Build the model from travel times ``(n_demand, n_sites)`` in minutes and one
        weight per demand point; ``p`` hubs (maximal covering) or the ``share`` of the
        weight to cover with the fewest hubs (share covering); ``capacities`` per site
        bound the covered weight a hub serves (maximal covering only).

        Raises
        ------
        ModelSpecificationError
            Listing every inconsistency (shapes, both or neither of ``p`` and ``share``,
            negative weights, site indices out of range, capacities with ``share``).
        """
        t = np.asarray(times, dtype=np.float64).view()
        w = np.array(weights, dtype=np.float64)
        if t.ndim != 2 or w.shape != (t.shape[0],):
            msg = f"times must be (n, m) and weights (n,); got {t.shape} and {w.shape}"
            raise ModelSpecificationError(msg)
        problems: list[str] = []
        if (p is None) == (share is None):
            problems.append("give exactly one of p (maximal covering) or share (share covering)")
        if p is not None and p < 1:
            problems.append(f"p must be >= 1; got {p}")
        if share is not None and not 0.0 < share <= 1.0:
            problems.append(f"share must be in (0, 1]; got {share}")
        if np.any(w < 0) or not np.all(np.isfinite(w)):
            problems.append("demand weights must be finite and >= 0")
        if np.isnan(t).any():
            problems.append("times must not be NaN (use inf for a point that cannot reach)")
        fixed, banned = tuple(int(k) for k in fixed_hubs), tuple(int(k) for k in excluded)
        bad = [k for k in (*fixed, *banned) if not 0 <= k < t.shape[1]]
        if bad:
            problems.append(f"site indices out of range: {bad}")
        cap: FloatArray | None = None
        if capacities is not None:
            cap = np.array(capacities, dtype=np.float64)
            if cap.shape != (t.shape[1],):
                problems.append(f"capacities must be one per site ({t.shape[1]},); "
                                f"got {cap.shape}")
            elif np.isnan(cap).any() or (cap < 0).any():
                problems.append("capacities must be >= 0 (inf: no limit)")
            if share is not None:
                problems.append("capacities apply to maximal covering (p), not to share "
                                "covering")
            cap.setflags(write=False)
        if problems:
            raise ModelSpecificationError("; ".join(problems))
        t.setflags(write=False)
        w.setflags(write=False)
        reach = reach_matrix(t, float(minutes))
        data = CoverageData(times=t, weights=w, minutes=float(minutes), reach=reach, p=p,
                            share=share, fixed_hubs=fixed, excluded=banned,
                            capacities=cap)  # fmt: skip
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
        m = d.n_sites
        allowed = d.allowed
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
            reachable = np.asarray(d.reach[:, allowed].sum(axis=1)).ravel() > 0
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
        """Weight within ``minutes`` of one of ``hubs`` (without capacities)."""
        H = sorted({int(h) for h in hubs})
        if not H:
            return 0.0
        covered = np.asarray(self.data.reach[:, H].sum(axis=1)).ravel() > 0
        return float(self.data.weights[covered].sum())

    def covered(self, solution: Solution) -> BoolArray:
        """Per demand point, whether its allocated hub lies within ``minutes``."""
        rows = np.arange(self.n)
        alloc = np.asarray(solution.allocation, dtype=np.int64)
        return np.asarray(self.data.times[rows, alloc] <= self.data.minutes, dtype=np.bool_)

    def objective(self, solution: Solution) -> float:
        """The covered weight of ``solution`` recomputed from the times (independent of
        any solver): each point counts when its allocated hub, an open one, is in reach.

        Raises :class:`InfeasibleModelError` for an allocation to a site that is not open,
        a hub set of the wrong size (maximal covering), an existing hub left closed, an
        excluded site opened, or a hub whose covered weight exceeds its capacity.
        """
        d = self.data
        alloc = np.asarray(solution.allocation, dtype=np.int64)
        hubs = set(solution.hubs)
        if alloc.shape != (self.n,) or not set(alloc.tolist()) <= hubs:
            msg = "coverage solution: every demand point must be allocated to an open hub"
            raise InfeasibleModelError(msg)
        problems = []
        if d.p is not None and len(hubs) != d.p:
            problems.append(f"{len(hubs)} hubs open, p = {d.p}")
        if not set(d.fixed_hubs) <= hubs:
            problems.append(f"existing hubs {sorted(set(d.fixed_hubs) - hubs)} closed")
        if hubs & set(d.excluded):
            problems.append(f"excluded sites {sorted(hubs & set(d.excluded))} open")
        covered = self.covered(solution)
        if d.capacities is not None:
            load = np.bincount(alloc[covered], weights=d.weights[covered],
                               minlength=d.n_sites)  # fmt: skip
            over = np.flatnonzero(load > d.capacities * (1 + 1e-9) + 1e-9)
            if len(over):
                problems.append(f"hubs {over.tolist()} serve more covered weight than "
                                "their capacity")
        if problems:
            raise InfeasibleModelError("coverage solution: " + "; ".join(problems))
        return float(d.weights[covered].sum())

    # -- solving ----------------------------------------------------------------------
    def solve(self, params: SolveParameters | None = None, **kwargs: Any) -> Solution:
        """Solve the reduced MIP on the MathOpt backend ``params.solver`` (HiGHS by
        default; deterministic for a fixed ``seed``); keyword arguments build
        :class:`SolveParameters` (``time_limit``, ``seed``, ``solver``...). On the time
        limit the best hub set found (at worst the greedy start) comes back with its
        bound and gap.

        Raises
        ------
        InfeasibleModelError
            When the specification cannot have a solution (see :meth:`check_feasible`),
            or capacities leave none.
        SolverError
            When the backend fails.
        """
        from hubopt.models._cover_solve import solve_coverage

        if params is None:
            params = SolveParameters(**kwargs)
        elif kwargs:
            msg = "give either params or keyword arguments, not both"
            raise TypeError(msg)
        self.check_feasible()
        start = time.perf_counter()
        result = solve_coverage(self.data, params)
        if result.infeasible:
            msg = "coverage model is infeasible: the capacities leave no allocation"
            raise InfeasibleModelError(msg)
        hubs = result.hubs
        if not hubs:
            msg = "coverage model: no hub set found within the time limit"
            raise SolverError(msg)
        allocation = self._allocate(hubs, result.served)
        mask = self.covered_mask(allocation)
        objective = float(self.data.weights[mask].sum())
        bound = result.bound
        return Solution(
            problem=self.problem,
            hubs=hubs,
            allocation=allocation,
            objective=objective,
            bound=bound,
            gap=_gap(objective, bound),
            status=result.status,
            seconds=time.perf_counter() - start,
            method=result.method,
            info={
                "covered": mask,
                "rule": "maximal" if self.data.p is not None else "share",
                "minutes": self.data.minutes,
                **result.info,
            },
        )

    def covered_mask(self, allocation: IntArray) -> BoolArray:
        """Per demand point, whether ``allocation[i]`` lies within ``minutes``."""
        rows = np.arange(self.n)
        return np.asarray(self.data.times[rows, allocation] <= self.data.minutes, np.bool_)

    def _allocate(self, hubs: tuple[int, ...], served: IntArray | None) -> IntArray:
        """Each point's nearest open hub; with capacities the serving hub of a covered
        point and, for the others, the nearest open hub out of reach."""
        H = np.asarray(hubs, dtype=np.int64)
        sub = np.asarray(self.data.times[:, H])
        allocation: IntArray = H[sub.argmin(axis=1)]
        if served is not None:
            out = np.where(sub > self.data.minutes, sub, np.inf)
            far = H[out.argmin(axis=1)]
            has_far = np.isfinite(out.min(axis=1))
            allocation = np.where(served >= 0, served, np.where(has_far, far, allocation))
        return np.asarray(allocation, dtype=np.int64)


def _gap(objective: float, bound: float) -> float:
    """``|bound - objective| / |objective|`` (the bound of maximal covering lies above)."""
    if math.isnan(bound):
        return math.nan
    if objective == 0:
        return 0.0 if bound == 0 else math.inf
    return abs(bound - objective) / abs(objective)
