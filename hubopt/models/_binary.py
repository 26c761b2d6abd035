"""A small 0-1 linear program, solved by CP-SAT or by a MathOpt MIP backend.

The covering models of :mod:`hubopt.models._center_search` are written once as a
:class:`BinaryProgram` (binary variables, sparse linear rows, a linear objective to
minimise or none) and handed to :func:`solve_binary` with the backend chosen by the
caller: ``"cpsat"`` (OR-Tools CP-SAT, one search worker: deterministic for a seed) or a
MathOpt solver (``"highs"``, ``"scip"``).  Both return a :class:`BinaryResult` with the
values, the proven bound and whether the search finished.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from hubopt._errors import SolverError

__all__ = ["BinaryProgram", "BinaryResult", "solve_binary"]


@dataclass
class BinaryProgram:
    """Binary variables ``0..n_vars-1``; rows ``lo <= sum coef * x <= hi``; ``objective``
    (one coefficient per variable, minimised) or ``None`` for a feasibility problem.

    Rows are plain lists (programs of a few hundred thousand rows are built in Python);
    the helpers name the common shapes, which CP-SAT takes as Boolean constraints.
    """

    n_vars: int
    rows: list[tuple[list[int], list[float], float, float]] = field(default_factory=list)
    objective: NDArray[np.float64] | None = None
    fixed: dict[int, int] = field(default_factory=dict)
    hint: dict[int, int] = field(default_factory=dict)

    def add_row(self, idx: list[int], coef: list[float], lo: float, hi: float) -> None:
        """Add ``lo <= sum coef * x[idx] <= hi`` (indices must be distinct)."""
        self.rows.append((idx, coef, float(lo), float(hi)))

    def add_at_least_one(self, idx: list[int]) -> None:
        """``sum x[idx] >= 1`` (a clause)."""
        self.rows.append((idx, [1.0] * len(idx), 1.0, math.inf))

    def add_at_most_one(self, idx: list[int]) -> None:
        """``sum x[idx] <= 1``."""
        self.rows.append((idx, [1.0] * len(idx), -math.inf, 1.0))

    def add_exactly_one(self, idx: list[int]) -> None:
        """``sum x[idx] == 1``."""
        self.rows.append((idx, [1.0] * len(idx), 1.0, 1.0))

    def add_implies_any(self, var: int, idx: list[int]) -> None:
        """``x[var] <= sum x[idx]`` (``x[var]`` implies one of ``idx``)."""
        self.rows.append(([var, *idx], [1.0] + [-1.0] * len(idx), -math.inf, 0.0))

    def fix(self, var: int, value: int) -> None:
        """Fix a variable to 0 or 1."""
        self.fixed[int(var)] = int(value)


@dataclass(frozen=True)
class BinaryResult:
    """Outcome of :func:`solve_binary`.

    ``status`` is ``"optimal"`` (finished: optimal, or feasible for a feasibility
    problem), ``"feasible"`` (a solution, not proven), ``"infeasible"`` (proven) or
    ``"unknown"`` (stopped without a solution); ``bound`` the proven lower bound of the
    objective (``-inf`` when none).
    """

    status: str
    values: NDArray[np.int8] | None
    objective: float
    bound: float


def solve_binary(prog: BinaryProgram, *, backend: str, time_limit: float | None,
                 seed: int = 0, relative_gap: float = 0.0) -> BinaryResult:
    """Solve ``prog`` with ``backend`` (``"cpsat"``, ``"highs"`` or ``"scip"``)."""
    if time_limit is not None and time_limit <= 0:
        return BinaryResult("unknown", None, math.inf, -math.inf)
    if backend == "cpsat":
        return _solve_cpsat(prog, time_limit, seed, relative_gap)
    if backend in ("highs", "scip"):
        return _solve_mathopt(prog, backend, time_limit, seed, relative_gap)
    msg = f"solver: expected cpsat, highs or scip for a covering model, found {backend!r}"
    raise SolverError(msg)


def _shape(coef: list[float], lo: float, hi: float) -> str:
    """The Boolean shape of a row: clause, at most one, exactly one, implication."""
    ones = all(c == 1.0 for c in coef)
    if ones and lo == 1.0 and math.isinf(hi):
        return "or"
    if ones and math.isinf(lo) and hi == 1.0:
        return "amo"
    if ones and lo == 1.0 and hi == 1.0:
        return "exactly"
    if (math.isinf(lo) and hi == 0.0 and coef and coef[0] == 1.0
            and all(c == -1.0 for c in coef[1:])):
        return "implies"
    return "linear"


def _solve_cpsat(prog: BinaryProgram, time_limit: float | None, seed: int,
                 relative_gap: float) -> BinaryResult:
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{v}") for v in range(prog.n_vars)]
    for v, val in prog.fixed.items():
        model.add(x[v] == val)
    for idx, coef, lo, hi in prog.rows:
        shape = _shape(coef, lo, hi)
        if shape == "or":
            model.add_bool_or([x[v] for v in idx])
        elif shape == "amo":
            model.add_at_most_one([x[v] for v in idx])
        elif shape == "exactly":
            model.add_exactly_one([x[v] for v in idx])
        elif shape == "implies":
            model.add_bool_or([x[idx[0]].Not(), *(x[v] for v in idx[1:])])
        else:
            if any(c != round(c) for c in coef):
                msg = "CP-SAT rows need integer coefficients"
                raise SolverError(msg)
            expr = cp_model.LinearExpr.weighted_sum([x[v] for v in idx],
                                                    [int(c) for c in coef])
            lo_i = -(2**62) if math.isinf(lo) else math.ceil(lo - 1e-9)
            hi_i = 2**62 if math.isinf(hi) else math.floor(hi + 1e-9)
            model.add_linear_constraint(expr, lo_i, hi_i)
    if prog.objective is not None:
        used = [(v, float(c)) for v, c in enumerate(prog.objective.tolist()) if c != 0]
        model.minimize(cp_model.LinearExpr.weighted_sum([x[v] for v, _ in used],
                                                        [c for _, c in used]))
    for v, val in prog.hint.items():
        model.add_hint(x[v], bool(val))
    solver = cp_model.CpSolver()
    if time_limit is not None:
        solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.random_seed = int(seed)
    solver.parameters.num_search_workers = 1  # deterministic
    solver.parameters.relative_gap_limit = float(relative_gap)
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        return BinaryResult("infeasible", None, math.inf, math.inf)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        bound = solver.best_objective_bound if prog.objective is not None else -math.inf
        return BinaryResult("unknown", None, math.inf, float(bound))
    values = np.array([solver.boolean_value(v) for v in x], dtype=np.int8)
    obj = float(solver.objective_value) if prog.objective is not None else 0.0
    bound = float(solver.best_objective_bound) if prog.objective is not None else 0.0
    done = status == cp_model.OPTIMAL
    return BinaryResult("optimal" if done else "feasible", values, obj, bound)


def _solve_mathopt(prog: BinaryProgram, backend: str, time_limit: float | None, seed: int,
                   relative_gap: float) -> BinaryResult:
    from datetime import timedelta

    from ortools.math_opt.python import mathopt

    from hubopt.models._quiet import native_stdout_silenced

    model = mathopt.Model(name="covering")
    x = [model.add_binary_variable(name=f"x{v}") for v in range(prog.n_vars)]
    for v, val in prog.fixed.items():
        x[v].lower_bound = float(val)
        x[v].upper_bound = float(val)
    for idx, coef, lo, hi in prog.rows:
        expr = mathopt.fast_sum(c * x[v] for v, c in zip(idx, coef, strict=True))
        model.add_linear_constraint(lb=lo, ub=hi, expr=expr)
    if prog.objective is not None:
        model.minimize(mathopt.fast_sum(float(c) * x[v]
                                        for v, c in enumerate(prog.objective.tolist()) if c))
    solver_type = {"highs": mathopt.SolverType.HIGHS, "scip": mathopt.SolverType.GSCIP}[backend]
    params = mathopt.SolveParameters(
        time_limit=None if time_limit is None else timedelta(seconds=float(time_limit)),
        relative_gap_tolerance=float(relative_gap), absolute_gap_tolerance=1e-9,
        random_seed=int(seed))
    with native_stdout_silenced():
        result = mathopt.solve(model, solver_type, params=params)
    reason = result.termination.reason
    if reason in (mathopt.TerminationReason.INFEASIBLE,
                  mathopt.TerminationReason.INFEASIBLE_OR_UNBOUNDED):
        return BinaryResult("infeasible", None, math.inf, math.inf)
    bound = float(result.termination.objective_bounds.dual_bound)
    if not result.has_primal_feasible_solution():
        return BinaryResult("unknown", None, math.inf, bound)
    vals = result.variable_values()
    values = np.array([round(vals[v]) for v in x], dtype=np.int8)
    obj = float(result.objective_value()) if prog.objective is not None else 0.0
    done = reason == mathopt.TerminationReason.OPTIMAL
    return BinaryResult("optimal" if done else "feasible", values, obj, bound)
