"""Resilient p-hub medians: hub networks designed to stay good when hubs fail or are attacked.

Two objectives over the open hubs ``H`` (Snyder & Daskin 2005; Kim & O'Kelly 2009;
An, Zhang & Zeng 2015; Lei 2013):

* **expected** cost under single-hub failures, hub ``k`` down with probability ``q_k``
  and at most one down at a time::

      E(H) = (1 - sum_{k in H} q_k) cost(H) + sum_{k in H} q_k cost_k(H)

* **worst** case under an attack on ``r`` hubs::

      min_H  max_{F subset of H, |F| = r}  cost(H \\ F)

``cost_k`` / ``cost(H \\ F)``: multiple allocation (UMApHMP) re-routes every OD pair
through the hubs left; single allocation (USApHMP) follows a *plan*: every node has an
ordered list of hubs (primary first, then its backups; a hub lists itself first), and
while hubs are down each node uses the first hub of its list that is up.  The expected
objective takes one backup (lists of 2), the worst case ``r`` backups (lists of ``r + 1``).

>>> model = ResilientHubModel.from_cost_matrix(C, W, problem="umaphmp", p=3,
...     resilience=ResilienceOptions("expected", failure_probability=0.05))
>>> sol = model.solve(time_limit=60)
>>> model.objective(sol) == sol.objective   # recomputed from the matrix

:func:`attack` solves the attacker's problem alone: given the hubs (and a plan), which
``r`` hubs hurt most and by how much.  The method (exact hub-set search with bounds, plan
MIP, local search with a bound) is in :mod:`hubopt.models._resilience_search`.
"""

from __future__ import annotations

import enum
import functools
import itertools
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import numpy as np

from hubopt._errors import InfeasibleModelError, ModelSpecificationError
from hubopt.models import _search
from hubopt.models._n1_access import N1Access
from hubopt.models._resilience_eval import (
    polish_worst_plan,
    scenario_hubs,
    site_probabilities,
)
from hubopt.models._resilience_fixed import fixed_cost_search, hub_count_range
from hubopt.models._resilience_search import exact_search, heuristic_search
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
from hubopt.models.evaluate import best_routes, single_allocation_od_costs
from hubopt.models.strategy import DEFAULT_MAX_SETS

RESILIENT_PROBLEMS = (Problem.USAPHMP, Problem.UMAPHMP, Problem.USAHLP, Problem.UMAHLP)

__all__ = [
    "Attack",
    "Resilience",
    "ResilienceOptions",
    "ResilientHubModel",
    "ResilientSolution",
    "attack",
]


@enum.unique
class Resilience(enum.Enum):
    """Which resilient objective a design minimises."""

    NONE = "none"  # the nominal cost (no failure)
    EXPECTED = "expected"  # expected cost under single-hub failures
    WORST = "worst"  # worst case under an attack on r hubs

    @classmethod
    def parse(cls, value: str | Resilience) -> Resilience:
        """Accept a member or its name (``"expected"``)."""
        if isinstance(value, Resilience):
            return value
        for member in cls:
            if member.value == str(value).strip().lower():
                return member
        msg = f"resilience: expected none, expected or worst, found {value!r}"
        raise ModelSpecificationError(msg)


@dataclass(frozen=True)
class ResilienceOptions:
    """The resilient objective and its parameters.

    Attributes
    ----------
    objective
        :class:`Resilience` (or its name).
    failure_probability
        ``q``: one probability for every hub, or one per node (expected objective).
    attacks
        ``r``: the number of hubs an attacker takes out (worst case).
    n1_access
        ``T`` or ``None``: every demand point keeps two open hubs within ``T`` (units of the
        cost matrix), so one is left after any single failure (a constraint on hub sets).
    n1_weights
        One weight per node; the points with a positive weight must meet ``n1_access``
        (default: every node with flow out or in).
    n1_relax
        A point with fewer than two candidate sites within ``n1_access`` needs all of them
        open (instead of an error naming the points).
    """

    objective: Resilience | str = Resilience.EXPECTED
    failure_probability: float | tuple[float, ...] = 0.05
    attacks: int = 1
    n1_access: float | None = None
    n1_weights: tuple[float, ...] | None = None
    n1_relax: bool = False

    def __post_init__(self) -> None:
        """Check every field; all problems in one error."""
        problems = []
        try:
            object.__setattr__(self, "objective", Resilience.parse(self.objective))
        except ModelSpecificationError as exc:
            problems.append(str(exc))
        q = np.asarray(self.failure_probability, dtype=np.float64).reshape(-1)
        if q.size == 0 or not np.all(np.isfinite(q)) or np.any(q < 0) or np.any(q >= 1):
            problems.append(
                f"failure_probability: expected numbers with 0 <= q < 1, "
                f"found {self.failure_probability!r}"
            )
        if not isinstance(self.failure_probability, int | float):
            object.__setattr__(self, "failure_probability", tuple(float(v) for v in q))
        if isinstance(self.attacks, bool) or not isinstance(self.attacks, int) or self.attacks < 1:
            problems.append(f"attacks: expected an integer >= 1, found {self.attacks!r}")
        if self.n1_access is not None and (
            isinstance(self.n1_access, bool) or not isinstance(self.n1_access, int | float)
            or not math.isfinite(self.n1_access) or self.n1_access < 0
        ):
            problems.append(f"n1_access: expected a number >= 0 or None, found {self.n1_access!r}")
        if self.n1_weights is not None:
            object.__setattr__(self, "n1_weights", tuple(float(v) for v in self.n1_weights))
        if problems:
            raise ModelSpecificationError("; ".join(problems))

    @property
    def kind(self) -> Resilience:
        """The objective as a :class:`Resilience` member."""
        return Resilience.parse(self.objective)


@dataclass(frozen=True, eq=False)
class ResilientSolution(Solution):
    """A :class:`~hubopt.models.base.Solution` of a resilient model.

    ``objective`` is the resilient objective, ``allocation`` the nominal one (single
    allocation: the primary hubs; multiple allocation: the cheapest routes), ``plan`` the
    single-allocation plan ``(n, L)`` (``None`` for multiple allocation),
    ``nominal_objective`` the cost with no failure, ``scenarios`` the failure sets looked
    at and ``scenario_costs`` their costs.  For the fixed-cost variants ``objective`` and
    ``nominal_objective`` include the opening costs of the hubs, ``scenario_costs`` do not.
    """

    resilience: ResilienceOptions = field(default_factory=ResilienceOptions)
    nominal_objective: float = math.nan
    plan: IntArray | None = None
    scenarios: tuple[tuple[int, ...], ...] = ()
    scenario_costs: tuple[float, ...] = ()


@dataclass(frozen=True)
class Attack:
    """The attacker's problem solved by enumeration: the ``r`` hubs whose loss costs most.

    ``ranking`` lists every failure set with its cost, worst first.
    """

    hubs: tuple[int, ...]
    failed: tuple[int, ...]
    cost: float
    nominal: float
    ranking: tuple[tuple[tuple[int, ...], float], ...]

    @property
    def increase(self) -> float:
        """Relative increase of the cost, ``cost / nominal - 1``."""
        return self.cost / self.nominal - 1.0 if self.nominal else math.inf


def failure_cost(data: HubData, hubs: Sequence[int], failed: Iterable[int],
                 plan: IntArray | None = None) -> float:
    """Transport cost while the hubs ``failed`` are down: re-routed through the hubs left
    (``plan`` is ``None``, multiple allocation) or following the single-allocation plan."""
    down = {int(k) for k in failed}
    left = [int(h) for h in hubs if int(h) not in down]
    if not left:
        return math.inf
    if plan is None:
        unit, _ = best_routes(data, left)
        return float((data.flows * unit).sum())
    alloc = scenario_hubs(plan, sorted(down))
    if np.any(alloc < 0):
        return math.inf
    return float(single_allocation_od_costs(data, alloc).sum())


def attack(data: HubData, hubs: Sequence[int], r: int = 1, plan: IntArray | None = None) -> Attack:
    """The ``r`` hubs whose loss hurts most, by enumeration of every set of ``r`` hubs
    (exact; ``C(p, r)`` evaluations)."""
    H = tuple(sorted(int(h) for h in hubs))
    if not 1 <= r < len(H):
        msg = f"attacks: expected 1 <= r < {len(H)} (the number of hubs), found {r}"
        raise ModelSpecificationError(msg)
    nominal = failure_cost(data, H, (), plan)
    rows = [(F, failure_cost(data, H, F, plan)) for F in itertools.combinations(H, r)]
    rows.sort(key=lambda t: (-t[1], t[0]))
    return Attack(H, rows[0][0], rows[0][1], nominal, tuple(rows))


class ResilientHubModel(Model):
    """Resilient USApHMP / UMApHMP; build one with :meth:`from_cost_matrix`."""

    problem: ClassVar[Problem] = Problem.UMAPHMP

    def __init__(self, data: HubData, problem: Problem, resilience: ResilienceOptions,
                 n1_times: FloatArray | None = None) -> None:
        """Use :meth:`from_cost_matrix`; this takes validated :class:`HubData`."""
        self.data = data
        self.n1_times = n1_times
        self.problem = problem  # type: ignore[misc]
        self.resilience = resilience
        self.q = site_probabilities(resilience.failure_probability, data.n)

    @classmethod
    def from_cost_matrix(
        cls,
        costs: Any,
        flows: Any,
        *,
        problem: Problem | str,
        p: int | None = None,
        chi: float = 1.0,
        alpha: float = 1.0,
        delta: float = 1.0,
        fixed_hubs: Iterable[int] = (),
        excluded: Iterable[int] = (),
        resilience: ResilienceOptions | None = None,
        n1_times: Any = None,
        fixed_costs: Any = None,
    ) -> Self:
        """Build the model from ``(n, n)`` costs and flows (every problem in one error);
        ``n1_times`` (``(n, n)``) is the matrix the N-1 access limit is measured on
        (default: the costs).  The fixed-cost variants (``usahlp``, ``umahlp``) take
        ``fixed_costs`` (one opening cost per node) instead of ``p``: the hub count is
        free and the objective adds the opening costs of the hubs."""
        prob = Problem.parse(problem)
        if prob is Problem.CSAHLP:
            msg = ("problem: csahlp has no resilient model (hub capacities would have to "
                   "hold the failed hub's flow in every scenario); resilient designs exist "
                   "for usaphmp, umaphmp, usahlp and umahlp")
            raise ModelSpecificationError(msg)
        if prob not in RESILIENT_PROBLEMS:
            msg = ("problem: resilient designs exist for usaphmp, umaphmp, usahlp and "
                   f"umahlp, found {prob.value}")
            raise ModelSpecificationError(msg)
        opts = ResilienceOptions() if resilience is None else resilience
        free_count = not prob.has_p
        data = make_hub_data(
            costs, flows, chi=chi, alpha=alpha, delta=delta, p=p, fixed_hubs=fixed_hubs,
            excluded=excluded, need_p=not free_count, need_fixed_costs=free_count,
            need_capacities=False, fixed_costs=fixed_costs if free_count else None,
        )
        problems = []
        if fixed_costs is not None and not free_count:
            problems.append(f"fixed_costs: {prob.value} has p hubs and no opening costs; "
                            "use usahlp or umahlp")
        kind = opts.kind
        q = site_probabilities(opts.failure_probability, data.n)
        if q.shape != (data.n,):
            problems.append(f"failure_probability: expected 1 or {data.n} values, found {q.size}")
        pp = int(data.p or 0)
        if free_count and q.shape == (data.n,):
            none = kind is Resilience.NONE  # the expected cost with q = 0
            least, largest = hub_count_range(data, "expected" if none else kind.value,
                                             opts.attacks, 0 * q if none else q)
            if least > largest:
                problems.append(
                    f"hub count: the objective needs at least {least} hubs and allows at "
                    f"most {largest} (candidates, kept-open hubs and failure probabilities)")
            pp = max(least, len(data.candidates))  # the checks below hold for every count
        if kind is Resilience.NONE and opts.n1_access is None:
            problems.append("resilience none: give n1_access (or solve the nominal model)")
        if opts.n1_access is not None and pp < 2:
            problems.append("n1_access: two hubs within reach of every point need p >= 2")
        if kind is Resilience.EXPECTED and pp < 2:
            problems.append("p: the expected cost under hub failures needs p >= 2")
        if kind is Resilience.WORST and not opts.attacks < pp:
            problems.append(f"attacks: expected r < p = {pp}, found {opts.attacks}")
        if kind is Resilience.EXPECTED and q.shape == (data.n,) and not free_count:
            top = float(np.sort(q[list(data.candidates)])[::-1][:pp].sum())
            if top > 1 + 1e-12:
                problems.append(
                    f"failure_probability: the p = {pp} most fragile candidate hubs fail "
                    f"with probability {top:.4g} in all; single failures need at most 1"
                )
        if problems:
            raise ModelSpecificationError("; ".join(problems))
        times = None if n1_times is None else np.asarray(n1_times, dtype=np.float64)
        model = cls(data, prob, opts, times)
        _ = model.n1  # the points without two sites within T: an error now
        return model

    @property
    def n(self) -> int:
        """Number of nodes."""
        return self.data.n

    @functools.cached_property
    def n1(self) -> N1Access | None:
        """The N-1 access constraint, or ``None``."""
        T = self.resilience.n1_access
        return None if T is None else N1Access(self.data, T, self.resilience.n1_weights,
                                                self.n1_times, self.resilience.n1_relax)

    @property
    def _kind(self) -> str:
        # resilience none (with n1_access): the expected cost with q = 0 is the nominal cost
        return "expected" if self.resilience.kind is Resilience.NONE else self.resilience.kind.value

    @property
    def _r(self) -> int:
        return 1 if self.resilience.kind is Resilience.EXPECTED else self.resilience.attacks

    def __repr__(self) -> str:
        """Short description."""
        return (f"ResilientHubModel({self.problem.label}, n={self.n}, p={self.data.p}, "
                f"{self._kind})")

    # -- evaluation ------------------------------------------------------------------------
    def scenarios(self, hubs: Sequence[int]) -> list[tuple[int, ...]]:
        """Failure sets the objective looks at (nominal first for the expected cost)."""
        H = sorted(int(h) for h in hubs)
        if self.resilience.kind is Resilience.NONE:
            return [()]
        if self.resilience.kind is Resilience.EXPECTED:
            return [(), *((k,) for k in H)]
        return list(itertools.combinations(H, self._r))

    @property
    def _q(self) -> FloatArray:
        """The failure probabilities the objective uses (0 with objective none)."""
        return np.zeros(self.n) if self.resilience.kind is Resilience.NONE else self.q

    def opening_cost(self, hubs: Iterable[int]) -> float:
        """The fixed (opening) cost of ``hubs``; 0 for the p-hub medians."""
        return self.data.fixed_cost_of(int(h) for h in hubs)

    def value(self, hubs: Sequence[int], plan: IntArray | None) -> tuple[float, list[float]]:
        """The resilient objective of ``hubs`` (and ``plan``) with its scenario costs
        (transport only; the objective adds the opening costs of fixed-cost variants)."""
        H = sorted(int(h) for h in hubs)
        scen = self.scenarios(H)
        costs = [failure_cost(self.data, H, F, plan) for F in scen]
        kind = self.resilience.kind
        if kind is Resilience.EXPECTED:
            qs = [float(self.q[k]) for k in H]
            val = (1 - sum(qs)) * costs[0] + sum(q * c for q, c in zip(qs, costs[1:], strict=True))
        else:
            val = max(costs)
        return float(val) + self.opening_cost(H), costs

    def check(self, hubs: Sequence[int], plan: IntArray | None) -> None:
        """Raise :class:`InfeasibleModelError` unless ``hubs`` and ``plan`` are feasible."""
        H = sorted({int(h) for h in hubs})
        errors = []
        if self.problem.has_p and len(H) != self.data.p:
            errors.append(f"{len(H)} hubs open, expected p = {self.data.p}")
        if not self.problem.has_p:
            least, largest = hub_count_range(self.data, self._kind, self._r, self._q)
            if not least <= len(H) <= largest:
                errors.append(f"{len(H)} hubs open, expected {least} to {largest}")
        if set(H) & set(self.data.excluded):
            errors.append(f"excluded sites {sorted(set(H) & set(self.data.excluded))} are open")
        if set(self.data.fixed_hubs) - set(H):
            errors.append(f"hubs {sorted(set(self.data.fixed_hubs) - set(H))} must stay open")
        if self.problem.single_allocation:
            length = 2 if self.resilience.kind is not Resilience.WORST else self._r + 1
            a = None if plan is None else np.asarray(plan)
            if a is None or a.shape != (self.n, length):
                errors.append(f"plan: expected shape ({self.n}, {length})")
            else:
                if not np.all(np.isin(a, H)):
                    errors.append("plan: a node lists a closed hub")
                if any(len(set(row)) != length for row in a.tolist()):
                    errors.append("plan: a node lists a hub twice")
                if not all(a[h, 0] == h for h in H):
                    errors.append("plan: a hub does not list itself first")
        if self.n1 is not None and len(H) >= 2 and self.n1.violated(H):
            errors.append(f"n1_access: points {self.n1.violated(H)} have fewer hubs within "
                          f"{self.n1.limit:g} than required")
        if errors:
            msg = "resilient solution is infeasible: " + "; ".join(errors)
            raise InfeasibleModelError(msg)

    def objective(self, solution: Solution) -> float:
        """The resilient objective recomputed from the matrix (checks feasibility first)."""
        plan = solution.plan if isinstance(solution, ResilientSolution) else None
        if self.problem.single_allocation and plan is None:
            plan = np.asarray(solution.allocation).reshape(-1, 1)
        self.check(solution.hubs, plan)
        return self.value(solution.hubs, plan if self.problem.single_allocation else None)[0]

    def attack(self, solution: Solution, r: int | None = None) -> Attack:
        """The attacker's problem on the solution's hubs (and plan)."""
        plan = solution.plan if isinstance(solution, ResilientSolution) else None
        return attack(self.data, solution.hubs, self._r if r is None else r, plan)

    # -- solving -----------------------------------------------------------------------------
    def solve(self, params: SolveParameters | None = None, **kwargs: Any) -> ResilientSolution:
        """Solve; keyword arguments build :class:`SolveParameters`.

        ``method``: ``"auto"``/``"search"`` enumerate the hub sets with bounds when there
        are at most 5 million of them (exact, unless the time limit stops it);
        ``"heuristic"`` (and larger instances) run the local search with a bound.  The
        fixed-cost variants search one hub count at a time
        (:mod:`hubopt.models._resilience_fixed`) whatever the method.
        """
        if params is None:
            params = SolveParameters(**kwargs)
        elif kwargs:
            msg = "give either params or keyword arguments, not both"
            raise TypeError(msg)
        t0 = time.perf_counter()
        deadline = None if params.time_limit is None else t0 + 0.93 * params.time_limit
        q = np.zeros(self.n) if self.resilience.kind is Resilience.NONE else self.q
        single = self.problem.single_allocation
        feasible = None if self.n1 is None else self.n1.feasible
        if not self.problem.has_p:  # fixed costs: one hub count at a time
            out, counts = fixed_cost_search(self.data, self._kind, self._r, q, single, params,
                                            deadline, feasible)
            return self._finish(out.hubs, out.plan, out.bound, out.complete, out.method, t0,
                                {"sets_total": out.sets_total,
                                 "sets_evaluated": out.sets_evaluated,
                                 "plans_solved": out.plans_solved, **counts})
        sets = _search.count_hub_sets(self.data, int(self.data.p or 0))
        if params.method in ("auto", "search") and sets <= DEFAULT_MAX_SETS:
            out = exact_search(self.data, self._kind, self._r, q, single, params, deadline,
                               feasible=feasible)
        else:
            pp = int(self.data.p or 0)
            cover = None if self.n1 is None else functools.partial(self.n1.covering_set,
                                                                   self.data, pp)
            out = heuristic_search(self.data, self._kind, self._r, q, single, params, t0,
                                   deadline, feasible, cover)
        return self._finish(out.hubs, out.plan, out.bound, out.complete, out.method, t0,
                            {"sets_total": out.sets_total, "sets_evaluated": out.sets_evaluated,
                             "plans_solved": out.plans_solved})

    def _finish(self, hubs: tuple[int, ...], plan: IntArray | None, bound: float, proven: bool,
                method: str, t0: float, info: dict[str, Any]) -> ResilientSolution:
        H = tuple(sorted(int(h) for h in hubs))
        if plan is not None and self.resilience.kind is Resilience.WORST:
            # the worst case ignores the normal day: lower its cost, worst case kept
            elapsed = time.perf_counter() - t0
            plan = polish_worst_plan(self.data, H, plan, self._r,
                                     deadline=time.perf_counter() + max(1.0, 0.1 * elapsed))
        value, costs = self.value(H, plan if self.problem.single_allocation else None)
        if self.problem.single_allocation:
            assert plan is not None
            allocation = np.asarray(plan[:, 0], dtype=np.int64)
        else:
            allocation = best_routes(self.data, H)[1]
        nominal = failure_cost(self.data, H, (), plan if self.problem.single_allocation else None)
        nominal += self.opening_cost(H)
        bound = min(bound, value)
        gap = 0.0 if proven else relative_gap(value, bound)
        return ResilientSolution(
            problem=self.problem,
            hubs=H,
            allocation=allocation,
            objective=value,
            bound=value if proven else bound,
            gap=gap,
            status=Status.OPTIMAL if proven else Status.FEASIBLE,
            seconds=time.perf_counter() - t0,
            method=method,
            info=info,
            resilience=self.resilience,
            nominal_objective=nominal,
            plan=None if plan is None else np.asarray(plan, dtype=np.int64),
            scenarios=tuple(self.scenarios(H)),
            scenario_costs=tuple(costs),
        )
