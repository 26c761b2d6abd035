"""The covering MIPs, built straight from the sparse reach and solved through MathOpt.

The model proto is filled from numpy arrays (no Python object per coefficient: a
20,000 x 2,000 instance has over a million), then handed to the MathOpt backend
(``SolveParameters.solver``: HiGHS by default, SCIP, CP-SAT). Variables: ``y_k``
(binary, one per kept site) first, then ``z_i`` (covered share of row i, continuous in
[0, 1]: at an optimum it is 0 or 1 once the ``y`` are integral) and, with capacities,
``x_ik`` (point i served by site k, binary).
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from ortools.math_opt import model_pb2, sparse_containers_pb2
from ortools.math_opt.python import mathopt

from hubopt._errors import SolverError
from hubopt.models._quiet import native_stdout_silenced
from hubopt.models.base import FloatArray, SolveParameters

_SOLVERS = {
    "highs": mathopt.SolverType.HIGHS,
    "scip": mathopt.SolverType.GSCIP,
    "cpsat": mathopt.SolverType.CP_SAT,
}
_INF = math.inf


@dataclass(frozen=True)
class MipOutcome:
    """What a covering MIP gave: the chosen columns, the objective and bound of the MIP
    (in its own terms), whether it is proven, and whether it is infeasible."""

    columns: tuple[int, ...]
    objective: float
    bound: float
    proven: bool
    infeasible: bool = False
    no_solution: bool = False


@dataclass(frozen=True, eq=False)
class LpOutcome:
    """The LP relaxation of maximal covering: its value, the ``y``, their reduced costs
    and the duals ``lam`` (>= 0) of the rows ``z_i <= sum_{k in N_i} y_k``."""

    value: float
    y: np.ndarray
    rc: np.ndarray
    lam: np.ndarray


def _vector(ids: np.ndarray, values: np.ndarray) -> sparse_containers_pb2.SparseDoubleVectorProto:
    vec = sparse_containers_pb2.SparseDoubleVectorProto()
    vec.ids.extend(ids.astype(np.int64).tolist())
    vec.values.extend(values.astype(np.float64).tolist())
    return vec


def _proto(lb: np.ndarray, ub: np.ndarray, integer: np.ndarray, objective: np.ndarray,
           maximize: bool, rows: np.ndarray, cols: np.ndarray, coefs: np.ndarray,
           row_lb: np.ndarray, row_ub: np.ndarray) -> model_pb2.ModelProto:  # fmt: skip
    """A ModelProto from arrays; the matrix entries are sorted by (row, column) here."""
    proto = model_pb2.ModelProto(name="coverage")
    nv = len(lb)
    proto.variables.ids.extend(range(nv))
    proto.variables.lower_bounds.extend(lb.astype(np.float64).tolist())
    proto.variables.upper_bounds.extend(ub.astype(np.float64).tolist())
    proto.variables.integers.extend(integer.astype(bool).tolist())
    proto.objective.maximize = maximize
    nz = np.flatnonzero(objective)
    proto.objective.linear_coefficients.CopyFrom(_vector(nz, objective[nz]))
    proto.linear_constraints.ids.extend(range(len(row_lb)))
    proto.linear_constraints.lower_bounds.extend(row_lb.astype(np.float64).tolist())
    proto.linear_constraints.upper_bounds.extend(row_ub.astype(np.float64).tolist())
    order = np.lexsort((cols, rows))
    mat = proto.linear_constraint_matrix
    mat.row_ids.extend(rows[order].astype(np.int64).tolist())
    mat.column_ids.extend(cols[order].astype(np.int64).tolist())
    mat.coefficients.extend(coefs[order].astype(np.float64).tolist())
    return proto


def _params(params: SolveParameters, time_limit: float | None,
            integral: bool) -> mathopt.SolveParameters:  # fmt: skip
    kwargs: dict[str, object] = {
        # an integer objective (hub counts, integer weights) is proven once the gap is
        # below 1 (the default relative tolerance could stop short of that on large sums)
        "relative_gap_tolerance": 0.0 if integral and params.relative_gap <= 1e-7
        else params.relative_gap,
        "absolute_gap_tolerance": 0.999 if integral else 1e-9,
        "enable_output": params.verbose,
        "random_seed": params.seed,
    }
    if time_limit is not None:
        kwargs["time_limit"] = datetime.timedelta(seconds=max(0.01, time_limit))
    if params.solver != "highs":
        kwargs["threads"] = 1  # deterministic
    out = mathopt.SolveParameters(**kwargs)
    if params.solver == "scip":
        # no restart after root fixings: the fixing before the MIP did that work, and a
        # restart solves the root LP again from scratch (training: 43% fewer LP
        # iterations on a reduced 10,000 x 1,000 model)
        out.gscip.int_params["presolving/maxrestarts"] = 0
    return out


def _run(proto: model_pb2.ModelProto, ny: int, params: SolveParameters,
         time_limit: float | None, hint: np.ndarray | None, integral: bool,
         read: int = 0) -> tuple[MipOutcome, np.ndarray]:  # fmt: skip
    """Solve ``proto`` from the values ``hint`` of its variables (or none); the chosen
    columns are the ``y`` (the first ``ny`` variables) at 1; also returns the values of
    the first ``read`` variables (when solved)."""
    if params.solver == "cpsat":  # CP-SAT takes integer variables only
        proto.variables.integers[:] = [True] * len(proto.variables.ids)
    model = mathopt.Model.from_model_proto(proto)
    model_params = None
    if hint is not None:  # a complete solution: SCIP ignores a hint with most values unset
        values = {model.get_variable(j): float(v) for j, v in enumerate(hint.tolist())}
        model_params = mathopt.ModelSolveParameters(
            solution_hints=[mathopt.SolutionHint(variable_values=values)])
    try:
        with native_stdout_silenced(not params.verbose):
            res = mathopt.solve(model, _SOLVERS[params.solver],
                                params=_params(params, time_limit, integral),
                                model_params=model_params)  # fmt: skip
    except Exception as exc:  # MathOpt wraps solver failures in several types
        msg = f"MathOpt/{params.solver} failed on the coverage model: {exc}"
        raise SolverError(msg) from exc
    reason = res.termination.reason
    if reason in (mathopt.TerminationReason.INFEASIBLE,
                  mathopt.TerminationReason.INFEASIBLE_OR_UNBOUNDED):  # fmt: skip
        return MipOutcome((), math.nan, math.nan, False, infeasible=True), np.zeros(0)
    if not res.has_primal_feasible_solution():
        return MipOutcome((), math.nan, math.nan, False, no_solution=True), np.zeros(0)
    values = res.variable_values()
    chosen = tuple(k for k in range(ny) if values[model.get_variable(k)] > 0.5)
    first = np.array([values[model.get_variable(k)] for k in range(read)], dtype=np.float64)
    bound = float(res.termination.objective_bounds.dual_bound)
    obj = float(res.objective_value())
    if integral and math.isfinite(bound):  # integer objective: round the bound inwards
        bound = math.floor(bound + 1e-6) if proto.objective.maximize else math.ceil(bound - 1e-6)
    proven = reason is mathopt.TerminationReason.OPTIMAL
    return MipOutcome(chosen, obj, bound, proven), first


def _hint(A: sp.csr_array, cols: list[int] | None) -> np.ndarray | None:
    """Values of ``y`` then ``z`` for the columns ``cols`` open (None: no hint)."""
    if cols is None:
        return None
    y = np.zeros(A.shape[1])
    y[list(cols)] = 1.0
    z = (A @ y > 0).astype(np.float64)
    return np.concatenate([y, z])


def _cover_rows(A: sp.csr_array, ny: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries of ``z_i - sum_{k in N_i} y_k <= 0`` for every row i."""
    r = A.shape[0]
    coo = sp.coo_array(A)
    rows = np.concatenate([coo.row, np.arange(r)])
    cols = np.concatenate([coo.col, ny + np.arange(r)])
    coefs = np.concatenate([-np.ones(coo.nnz), np.ones(r)])
    return rows, cols, coefs


def _max_cover_proto(A: sp.csr_array, w: FloatArray, p: int,
                     relax: bool) -> model_pb2.ModelProto:  # fmt: skip
    r, ny = A.shape
    rows, cols, coefs = _cover_rows(A, ny)
    rows = np.concatenate([rows, np.full(ny, r)])
    cols = np.concatenate([cols, np.arange(ny)])
    coefs = np.concatenate([coefs, np.ones(ny)])
    nv = ny + r
    integer = np.zeros(nv, dtype=bool)
    integer[:ny] = True
    obj = np.concatenate([np.zeros(ny), w])
    if relax:
        integer[:] = False
    return _proto(np.zeros(nv), np.ones(nv), integer, obj, True, rows, cols, coefs,
                  np.full(r + 1, -_INF), np.concatenate([np.zeros(r), [float(p)]]))


def max_cover(A: sp.csr_array, w: FloatArray, p: int, params: SolveParameters,
              time_limit: float | None, hint: list[int] | None) -> MipOutcome:  # fmt: skip
    """``max sum w_i z_i`` s.t. ``z_i <= sum_{k in N_i} y_k``, ``sum y <= p``."""
    proto = _max_cover_proto(A, w, p, relax=False)
    integral = bool(np.all(w == np.round(w)))
    return _run(proto, A.shape[1], params, time_limit, _hint(A, hint), integral)[0]


def max_cover_lp(A: sp.csr_array, w: FloatArray, p: int,
                 time_limit: float | None) -> LpOutcome | None:  # fmt: skip
    """The LP relaxation of :func:`max_cover` (GLOP); None if GLOP did not finish."""
    proto = _max_cover_proto(A, w, p, relax=True)
    model = mathopt.Model.from_model_proto(proto)
    kwargs: dict[str, object] = {}
    if time_limit is not None:
        kwargs["time_limit"] = datetime.timedelta(seconds=max(0.01, time_limit))
    try:
        res = mathopt.solve(model, mathopt.SolverType.GLOP,
                            params=mathopt.SolveParameters(**kwargs))  # fmt: skip
    except Exception as exc:  # MathOpt wraps solver failures in several types
        msg = f"MathOpt/GLOP failed on the coverage LP: {exc}"
        raise SolverError(msg) from exc
    if res.termination.reason is not mathopt.TerminationReason.OPTIMAL:
        return None
    ys = [model.get_variable(k) for k in range(A.shape[1])]
    values, costs = res.variable_values(ys), res.reduced_costs(ys)
    rows = [model.get_linear_constraint(i) for i in range(A.shape[0])]
    lam = np.abs(np.asarray(res.dual_values(rows), dtype=np.float64))
    return LpOutcome(float(res.objective_value()), np.asarray(values), np.asarray(costs), lam)


def min_hubs(A: sp.csr_array, w: FloatArray, target: float, params: SolveParameters,
             time_limit: float | None, hint: list[int] | None) -> MipOutcome:  # fmt: skip
    """``min sum y`` s.t. ``z_i <= sum_{k in N_i} y_k``, ``sum w_i z_i >= target``."""
    r, ny = A.shape
    rows, cols, coefs = _cover_rows(A, ny)
    rows = np.concatenate([rows, np.full(r, r)])
    cols = np.concatenate([cols, ny + np.arange(r)])
    coefs = np.concatenate([coefs, w])
    nv = ny + r
    integer = np.zeros(nv, dtype=bool)
    integer[:ny] = True
    obj = np.concatenate([np.ones(ny), np.zeros(r)])
    proto = _proto(np.zeros(nv), np.ones(nv), integer, obj, False, rows, cols, coefs,
                   np.concatenate([np.full(r, -_INF), [target]]),
                   np.concatenate([np.zeros(r), [_INF]]))  # fmt: skip
    return _run(proto, ny, params, time_limit, _hint(A, hint), True)[0]


def max_cover_capacitated(A: sp.csr_array, w: FloatArray, cap: FloatArray, p: int,
                          fixed: np.ndarray, params: SolveParameters,
                          time_limit: float | None) -> tuple[MipOutcome, np.ndarray]:  # fmt: skip
    """Maximal covering where each point is allocated to one open hub and a hub's
    ``cap`` bounds the weight of the covered points allocated to it.

    ``x_ik`` (i served by k within reach, binary): ``sum_k x_ik <= 1``, ``x_ik <= y_k``,
    ``sum_i w_i x_ik <= cap_k y_k``, ``sum y = p``, ``y_k = 1`` for ``fixed``; a point
    that every open hub reaches cannot be allocated out of reach, so it is served:
    ``sum_{k in N_i} y_k - sum_k x_ik <= p - 1``. Returns the outcome and, per point,
    its serving column (-1: not covered).
    """
    n, ny = A.shape
    coo = sp.coo_array(A)
    pi, pk = coo.row.astype(np.int64), coo.col.astype(np.int64)
    nx = len(pi)
    xid = ny + np.arange(nx)
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    row = 0
    # sum_k x_ik <= 1
    blocks.append((row + pi, xid, np.ones(nx)))
    row_lb, row_ub = [np.full(n, -_INF)], [np.ones(n)]
    row += n
    # x_ik - y_k <= 0
    idx = np.arange(nx)
    blocks.append((row + idx, xid, np.ones(nx)))
    blocks.append((row + idx, pk, -np.ones(nx)))
    row_lb.append(np.full(nx, -_INF))
    row_ub.append(np.zeros(nx))
    row += nx
    # sum_i w_i x_ik - cap_k y_k <= 0
    blocks.append((row + pk, xid, w[pi]))
    blocks.append((row + np.arange(ny), np.arange(ny), -np.minimum(cap, 1e15)))
    row_lb.append(np.full(ny, -_INF))
    row_ub.append(np.zeros(ny))
    row += ny
    # sum_{k in N_i} y_k - sum_k x_ik <= p - 1
    blocks.append((row + pi, pk, np.ones(nx)))
    blocks.append((row + pi, xid, -np.ones(nx)))
    row_lb.append(np.full(n, -_INF))
    row_ub.append(np.full(n, float(p - 1)))
    row += n
    # sum y = p
    blocks.append((np.full(ny, row), np.arange(ny), np.ones(ny)))
    row_lb.append(np.array([float(p)]))
    row_ub.append(np.array([float(p)]))
    rows = np.concatenate([b[0] for b in blocks])
    cols = np.concatenate([b[1] for b in blocks])
    coefs = np.concatenate([b[2] for b in blocks])
    nv = ny + nx
    lb = np.zeros(nv)
    lb[fixed] = 1.0
    obj = np.concatenate([np.zeros(ny), w[pi]])
    proto = _proto(lb, np.ones(nv), np.ones(nv, dtype=bool), obj, True, rows, cols, coefs,
                   np.concatenate(row_lb), np.concatenate(row_ub))
    out, values = _run(proto, ny, params, time_limit, None, bool(np.all(w == np.round(w))),
                       read=nv)
    served = np.full(n, -1, dtype=np.int64)
    if len(values):
        on = values[ny:] > 0.5
        served[pi[on]] = pk[on]
    return out, served


__all__ = ["LpOutcome", "MipOutcome", "max_cover", "max_cover_capacitated", "max_cover_lp",
           "min_hubs"]
