"""Records shared by every hub model: problems, statuses, parameters, solutions, input data.

The path ``i -> k -> m -> j`` (``k`` and ``m`` hubs, ``k == m`` allowed) carries the
flow ``W[i, j]`` at the cost ``W[i, j] * (chi * C[i, k] + alpha * C[k, m] + delta * C[m, j])``.
Node indices are 0-based everywhere inside hubopt; the benchmark runner converts to the
1-based numbers of the published tables.
"""

from __future__ import annotations

import abc
import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import NDArray

from hubopt._errors import InfeasibleModelError, ModelSpecificationError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@enum.unique
class Problem(enum.Enum):
    """The hub-location problems of the engine."""

    USAPHMP = "usaphmp"  # uncapacitated single allocation p-hub median
    UMAPHMP = "umaphmp"  # uncapacitated multiple allocation p-hub median
    USAHLP = "usahlp"  # uncapacitated single allocation hub location (fixed costs)
    UMAHLP = "umahlp"  # uncapacitated multiple allocation hub location (fixed costs)
    CSAHLP = "csahlp"  # capacitated single allocation hub location (fixed costs)
    COVERAGE = "coverage"  # maximal covering (p) or share covering of a travel-time target
    USAPHCP = "usaphcp"  # uncapacitated single allocation p-hub center
    UMAPHCP = "umaphcp"  # uncapacitated multiple allocation p-hub center
    USAHCP = "usahcp"  # single allocation hub covering (every pair within max_cost)
    UMAHCP = "umahcp"  # multiple allocation hub covering (every pair within max_cost)

    @property
    def hub_location(self) -> bool:
        """True for the five hub-location problems of the median engine (flow-weighted
        transport cost between nodes)."""
        return self in (Problem.USAPHMP, Problem.UMAPHMP, Problem.USAHLP, Problem.UMAHLP,
                        Problem.CSAHLP)

    @property
    def minimax(self) -> bool:
        """True for the p-hub center and hub covering problems (:mod:`hubopt.models.hub_center`):
        the largest route cost over the pairs with flow counts, not the flow-weighted sum."""
        return self in (Problem.USAPHCP, Problem.UMAPHCP, Problem.USAHCP, Problem.UMAHCP)

    @property
    def covering(self) -> bool:
        """True for the hub covering problems (every pair with flow within ``max_cost``)."""
        return self in (Problem.USAHCP, Problem.UMAHCP)

    @property
    def single_allocation(self) -> bool:
        """True when every node sends and receives all its flow through one hub (coverage:
        each demand point is allocated to one hub, its nearest open one)."""
        return self in (Problem.USAPHMP, Problem.USAHLP, Problem.CSAHLP, Problem.COVERAGE,
                        Problem.USAPHCP, Problem.USAHCP)

    @property
    def has_p(self) -> bool:
        """True when the number of hubs is fixed to ``p``."""
        return self in (Problem.USAPHMP, Problem.UMAPHMP, Problem.USAPHCP, Problem.UMAPHCP)

    @property
    def label(self) -> str:
        """The name used in the literature (``USApHMP``, ...)."""
        return {
            Problem.USAPHMP: "USApHMP",
            Problem.UMAPHMP: "UMApHMP",
            Problem.USAHLP: "USAHLP",
            Problem.UMAHLP: "UMAHLP",
            Problem.CSAHLP: "CSAHLP",
            Problem.COVERAGE: "coverage",
            Problem.USAPHCP: "USApHCP",
            Problem.UMAPHCP: "UMApHCP",
            Problem.USAHCP: "USAHCP",
            Problem.UMAHCP: "UMAHCP",
        }[self]

    @classmethod
    def parse(cls, value: str | Problem) -> Problem:
        """Accept an enum member or its name in any case (``"USApHMP"``, ``"usaphmp"``)."""
        if isinstance(value, Problem):
            return value
        key = str(value).strip().lower()
        for member in cls:
            if member.value == key:
                return member
        names = ", ".join(m.value for m in cls)
        msg = f"problem: expected one of {names}, found {value!r}"
        raise ModelSpecificationError(msg)


@enum.unique
class Status(enum.Enum):
    """Outcome of a solve."""

    OPTIMAL = "optimal"  # proven optimal (relative gap within the tolerance)
    FEASIBLE = "feasible"  # a solution with a bound, not proven optimal (time limit)
    INFEASIBLE = "infeasible"  # proven to have no solution
    NO_SOLUTION = "no_solution"  # stopped before any solution was found


@dataclass(frozen=True)
class SolveParameters:
    """How to solve.

    Attributes
    ----------
    time_limit
        Wall-clock limit in seconds; ``None`` means no limit.  On the limit the best
        solution found so far is returned with its bound and gap.
    relative_gap
        Optimality tolerance on ``(objective - bound) / objective``.
    seed
        Random seed for heuristics and solvers (results are deterministic for a seed).
    method
        ``"auto"`` (default: the fastest exact method for the model), ``"search"``
        (hub-set search, p-hub medians only), ``"mip"`` (the flow formulation on an
        OR-Tools MathOpt backend), ``"heuristic"`` (local search plus a
        facility-location lower bound: fast, not exact), ``"benders"`` (Benders
        decomposition, multiple allocation only: exact, see :mod:`hubopt.models.benders`).
    solver
        MathOpt backend for MIPs: ``"highs"`` (default), ``"scip"`` or ``"cpsat"``.
    verbose
        Print solver progress.
    memory_budget
        Bytes that the waiting nodes of the single-allocation branch and bound may keep
        (each holds two ``pairs x m`` arrays of multipliers, one row per OD pair with
        flow, and two of single-precision directions: 192 MB at AP 200); a child beyond
        it stays unexplored, and only its bound counts.  The root's own arrays come on top.
    """

    time_limit: float | None = None
    relative_gap: float = 1e-7
    seed: int = 0
    method: str = "auto"
    solver: str = "highs"
    verbose: bool = False
    memory_budget: float = 4e9

    def __post_init__(self) -> None:
        """Check the parameters."""
        problems = []
        if self.time_limit is not None and not self.time_limit > 0:
            problems.append(f"time_limit: expected a positive number, found {self.time_limit}")
        if not 0 <= self.relative_gap < 1:
            problems.append(f"relative_gap: expected 0 <= gap < 1, found {self.relative_gap}")
        if self.method not in ("auto", "search", "mip", "heuristic", "benders"):
            problems.append(
                f"method: expected auto, search, mip, heuristic or benders, found {self.method!r}"
            )
        if not self.memory_budget >= 0:
            problems.append(
                f"memory_budget: expected a number of bytes >= 0, found {self.memory_budget}"
            )
        if self.solver not in ("highs", "scip", "cpsat"):
            problems.append(f"solver: expected highs, scip or cpsat, found {self.solver!r}")
        if problems:
            raise ModelSpecificationError("; ".join(problems))


@dataclass(frozen=True, eq=False)
class Solution:
    """A solved hub model.

    Attributes
    ----------
    problem
        Which problem was solved.
    hubs
        Open hubs, 0-based, sorted.
    allocation
        Single allocation: ``(n,)`` hub of each node (a hub is allocated to itself).
        Multiple allocation: ``(n, n, 2)``, ``[i, j]`` = (first hub, second hub) of the
        path of the flow from ``i`` to ``j``.
    objective
        Transport cost, plus the fixed costs of the open hubs where the problem has them.
    bound
        Best proven lower bound on the optimum.
    gap
        ``(objective - bound) / |objective|`` (0 when proven optimal).
    status
        :class:`Status`.
    seconds
        Wall-clock time of the solve.
    method
        What produced it (``"search"``, ``"mip:highs"``, ...).
    """

    problem: Problem
    hubs: tuple[int, ...]
    allocation: IntArray
    objective: float
    bound: float
    gap: float
    status: Status
    seconds: float
    method: str
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def proven_optimal(self) -> bool:
        """True when the status is :attr:`Status.OPTIMAL`."""
        return self.status is Status.OPTIMAL


class Model(abc.ABC):
    """Base of every model of :mod:`hubopt.models`: built from a matrix by
    ``from_cost_matrix``, solved by ``solve`` into a :class:`Solution` whose objective
    ``objective`` recomputes from the matrix, independently of any solver."""

    problem: ClassVar[Problem]

    @classmethod
    @abc.abstractmethod
    def from_cost_matrix(cls, *args: Any, **kwargs: Any) -> Self:
        """Build the model from its matrix (the real constructor of each model)."""

    @abc.abstractmethod
    def solve(self, params: SolveParameters | None = None, **kwargs: Any) -> Solution:
        """Solve the model; keyword arguments build :class:`SolveParameters`."""

    @abc.abstractmethod
    def objective(self, solution: Solution) -> float:
        """The solution's objective recomputed from the matrix."""


def relative_gap(objective: float, bound: float) -> float:
    """``(objective - bound) / |objective|``, clipped at 0; ``inf`` without a solution."""
    if not math.isfinite(objective):
        return math.inf
    if objective == 0:
        return 0.0 if bound >= 0 else math.inf
    return max(0.0, (objective - bound) / abs(objective))


@dataclass(frozen=True, eq=False)
class HubData:
    """Validated input of a hub model (arrays are read-only copies).

    ``candidates`` are the nodes that may become hubs (all but ``excluded``);
    ``fixed_hubs`` must stay open.
    """

    costs: FloatArray
    flows: FloatArray
    chi: float
    alpha: float
    delta: float
    p: int | None = None
    fixed_costs: FloatArray | None = None
    capacities: FloatArray | None = None
    fixed_hubs: tuple[int, ...] = ()
    excluded: tuple[int, ...] = ()

    @property
    def n(self) -> int:
        """Number of nodes."""
        return int(self.costs.shape[0])

    @property
    def candidates(self) -> tuple[int, ...]:
        """Nodes that may become hubs."""
        banned = set(self.excluded)
        return tuple(k for k in range(self.n) if k not in banned)

    @property
    def origin_totals(self) -> FloatArray:
        """``O_i = sum_j W_ij``."""
        return np.asarray(self.flows.sum(axis=1), dtype=np.float64)

    @property
    def destination_totals(self) -> FloatArray:
        """``D_j = sum_i W_ij``."""
        return np.asarray(self.flows.sum(axis=0), dtype=np.float64)

    def fixed_cost_of(self, hubs: Iterable[int]) -> float:
        """Sum of the fixed costs of ``hubs`` (0 without fixed costs)."""
        if self.fixed_costs is None:
            return 0.0
        return float(sum(self.fixed_costs[k] for k in hubs))


def _as_square(name: str, value: Any, n: int | None, problems: list[str]) -> FloatArray | None:
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        problems.append(f"{name}: expected an (n, n) array of numbers")
        return None
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        problems.append(
            f"{name}: expected a non-empty square (n, n) array, found shape {arr.shape}"
        )
        return None
    if n is not None and arr.shape[0] != n:
        problems.append(f"{name}: expected shape ({n}, {n}) to match costs, found {arr.shape}")
        return None
    if not np.all(np.isfinite(arr)):
        problems.append(f"{name}: expected finite numbers, found NaN or infinity")
        return None
    if np.any(arr < 0):
        i, j = np.argwhere(arr < 0)[0]
        problems.append(f"{name}: expected non-negative values, found {arr[i, j]} at [{i}, {j}]")
        return None
    arr.setflags(write=False)
    return arr


def _as_vector(name: str, value: Any, n: int, problems: list[str]) -> FloatArray | None:
    try:
        arr = np.array(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        problems.append(f"{name}: expected {n} numbers")
        return None
    if arr.shape != (n,):
        problems.append(f"{name}: expected {n} values (one per node), found {arr.size}")
        return None
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        problems.append(f"{name}: expected finite non-negative values")
        return None
    arr.setflags(write=False)
    return arr


def _as_nodes(name: str, value: Iterable[int], n: int, problems: list[str]) -> tuple[int, ...]:
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or not 0 <= int(v) < n:
            problems.append(f"{name}: expected node indices in 0..{n - 1}, found {v!r}")
            continue
        out.append(int(v))
    return tuple(sorted(set(out)))


def make_hub_data(
    costs: Any,
    flows: Any,
    *,
    chi: float,
    alpha: float,
    delta: float,
    p: int | None,
    fixed_costs: Any = None,
    capacities: Any = None,
    fixed_hubs: Iterable[int] = (),
    excluded: Iterable[int] = (),
    need_p: bool,
    need_fixed_costs: bool,
    need_capacities: bool,
) -> HubData:
    """Validate every input at once and build :class:`HubData`.

    Raises
    ------
    ModelSpecificationError
        Listing every problem found (shapes, negative values, p out of range, ...).
    InfeasibleModelError
        When the specification is consistent but cannot have a solution (capacities
        below the total demand, more fixed hubs than ``p``, ...).
    """
    problems: list[str] = []
    C = _as_square("costs", costs, None, problems)
    n = C.shape[0] if C is not None else None
    W = _as_square("flows", flows, n, problems) if n is not None else None
    for name, v in (("chi", chi), ("alpha", alpha), ("delta", delta)):
        if not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
            problems.append(f"{name}: expected a finite non-negative number, found {v!r}")
    if problems or C is None or W is None or n is None:
        raise ModelSpecificationError("; ".join(problems))
    fixed = _as_nodes("fixed_hubs", fixed_hubs, n, problems)
    banned = _as_nodes("excluded", excluded, n, problems)
    both = set(fixed) & set(banned)
    if both:
        problems.append(f"fixed_hubs and excluded: nodes {sorted(both)} are in both")
    n_cand = n - len(banned)
    if need_p:
        if isinstance(p, bool) or not isinstance(p, int | np.integer):
            problems.append(f"p: expected an integer number of hubs, found {p!r}")
        elif not 1 <= int(p) <= n:
            problems.append(f"p: expected 1 <= p <= n = {n}, found {p}")
    elif p is not None:
        problems.append("p: this problem chooses the number of hubs itself; do not give p")
    f = None
    if need_fixed_costs:
        if fixed_costs is None:
            problems.append("fixed_costs: expected one opening cost per node, found none")
        else:
            f = _as_vector("fixed_costs", fixed_costs, n, problems)
    cap = None
    if need_capacities:
        if capacities is None:
            problems.append("capacities: expected one capacity per node, found none")
        else:
            cap = _as_vector("capacities", capacities, n, problems)
    if problems:
        raise ModelSpecificationError("; ".join(problems))
    if need_p and p is not None:
        if int(p) > n_cand:
            msg = f"p = {p} is larger than the {n_cand} candidate hub sites"
            raise InfeasibleModelError(msg)
        if len(fixed) > int(p):
            msg = f"{len(fixed)} hubs must stay open but p = {p}"
            raise InfeasibleModelError(msg)
    if n_cand == 0:
        msg = "no candidate hub sites: every node is excluded"
        raise InfeasibleModelError(msg)
    if cap is not None:
        demand = float(W.sum())
        cand = [k for k in range(n) if k not in set(banned)]
        total_cap = float(cap[cand].sum())
        if total_cap < demand * (1 - 1e-12):
            msg = (
                f"capacities: the candidate hubs can take {total_cap:.6g} in all, "
                f"below the total flow {demand:.6g} that must be allocated"
            )
            raise InfeasibleModelError(msg)
    return HubData(
        costs=C,
        flows=W,
        chi=float(chi),
        alpha=float(alpha),
        delta=float(delta),
        p=int(p) if need_p and p is not None else None,
        fixed_costs=f,
        capacities=cap,
        fixed_hubs=fixed,
        excluded=banned,
    )
