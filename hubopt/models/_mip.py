"""Flow-based MIP formulations on OR-Tools MathOpt (Ernst & Krishnamoorthy).

Single allocation (E&K 1996, 1999)::

    min  sum_ik (chi O_i + delta D_i) C_ik z_ik + alpha sum_ikl C_kl Y^i_kl + sum_k f_k z_kk
    s.t. sum_k z_ik = 1                 (each node to one hub)
         z_ik <= z_kk                   (only to open hubs)
         sum_k z_kk = p                 (p-hub median only)
         sum_l Y^i_kl - sum_l Y^i_lk = O_i z_ik - sum_j W_ij z_jk   (flow of origin i)
         sum_i O_i z_ik <= Cap_k z_kk   (CSAHLP)
         z binary, Y >= 0

Multiple allocation (E&K 1998)::

    min  sum chi C_ik Z^i_k + alpha C_kl Y^i_kl + delta C_lj X^i_lj + sum_k f_k y_k
    s.t. sum_k Z^i_k = O_i,  sum_l X^i_lj = W_ij,
         sum_l Y^i_kl + sum_j X^i_kj - sum_l Y^i_lk - Z^i_k = 0,
         Z^i_k <= O_i y_k,  X^i_kj <= W_ij y_k,  sum_k y_k = p (p-hub median only)

Hubs that must stay open are fixed to 1; excluded sites get no variables.  The same
builders, restricted to a given hub set, solve the allocation subproblem of the
hub-set search, and, unrestricted, are the textbook baseline of the benchmarks.
"""

from __future__ import annotations

import datetime
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.math_opt.python import mathopt

from hubopt._errors import SolverError
from hubopt.models._quiet import native_stdout_silenced
from hubopt.models.base import FloatArray, HubData, IntArray, Problem, SolveParameters

_SOLVERS = {
    "highs": mathopt.SolverType.HIGHS,
    "scip": mathopt.SolverType.GSCIP,
    "cpsat": mathopt.SolverType.CP_SAT,
}


@dataclass(frozen=True)
class MipResult:
    """What a MIP solve produced (hubs and allocation in hubopt's conventions)."""

    hubs: tuple[int, ...] | None
    allocation: IntArray | None  # single allocation only
    objective: float
    bound: float
    proven_optimal: bool
    infeasible: bool
    seconds: float


def _params(params: SolveParameters, time_limit: float | None) -> mathopt.SolveParameters:
    kwargs: dict[str, object] = {
        "relative_gap_tolerance": params.relative_gap,
        "absolute_gap_tolerance": 1e-9,
        "enable_output": params.verbose,
        "random_seed": params.seed,
    }
    if time_limit is not None:
        kwargs["time_limit"] = datetime.timedelta(seconds=max(0.01, time_limit))
    if params.solver != "highs":
        kwargs["threads"] = 2
    return mathopt.SolveParameters(**kwargs)


def _solve(
    model: mathopt.Model,
    params: SolveParameters,
    time_limit: float | None,
    hint: dict[mathopt.Variable, float] | None,
) -> mathopt.SolveResult:
    model_params = None
    if hint:
        model_params = mathopt.ModelSolveParameters(
            solution_hints=[mathopt.SolutionHint(variable_values=hint)]
        )
    try:
        with native_stdout_silenced(not params.verbose):
            return mathopt.solve(
                model,
                _SOLVERS[params.solver],
                params=_params(params, time_limit),
                model_params=model_params,
            )
    except Exception as exc:  # MathOpt wraps solver failures in several types
        msg = f"MathOpt/{params.solver} failed: {exc}"
        raise SolverError(msg) from exc


def solve_single_allocation_mip(
    problem: Problem,
    data: HubData,
    params: SolveParameters,
    *,
    time_limit: float | None,
    start: tuple[Sequence[int], IntArray] | None = None,
) -> MipResult:
    """E&K single-allocation MIP (USApHMP, USAHLP, CSAHLP).

    Hubs may open at the candidate sites; ``start`` is a (hubs, allocation) hint.
    """
    t0 = time.perf_counter()
    n = data.n
    C = data.costs
    W = data.flows
    O = data.origin_totals
    D = data.destination_totals
    sites = list(data.candidates)
    S = len(sites)
    model = mathopt.Model(name=problem.value)
    z: dict[tuple[int, int], mathopt.Variable] = {}
    for k in sites:
        lb = 1.0 if k in data.fixed_hubs else 0.0
        z[k, k] = model.add_variable(lb=lb, ub=1.0, is_integer=True, name=f"z_{k}_{k}")
    for i in range(n):
        for k in sites:
            if i != k:
                z[i, k] = model.add_variable(lb=0.0, ub=1.0, is_integer=True, name=f"z_{i}_{k}")
    terms: list[mathopt.LinearTypes] = []
    for (i, k), var in z.items():
        # collection i -> k, distribution k -> i (C need not be symmetric)
        c = data.chi * O[i] * C[i, k] + data.delta * D[i] * C[k, i]
        if c:
            terms.append(c * var)
    if data.fixed_costs is not None:
        terms.extend(data.fixed_costs[k] * z[k, k] for k in sites if data.fixed_costs[k])
    # allocation
    for i in range(n):
        row = [z[i, k] for k in sites if (i, k) in z]
        model.add_linear_constraint(mathopt.fast_sum(row) == 1.0)
        for k in sites:
            if k != i:
                model.add_linear_constraint(z[i, k] <= z[k, k])
    if problem.has_p:
        model.add_linear_constraint(mathopt.fast_sum(z[k, k] for k in sites) == float(data.p or 0))
    if problem is Problem.CSAHLP and data.capacities is not None:
        cap = data.capacities
        for k in sites:
            load = mathopt.fast_sum(O[i] * z[i, k] for i in range(n) if (i, k) in z and O[i])
            model.add_linear_constraint(load <= cap[k] * z[k, k])
            for i in range(n):  # a node that alone exceeds a hub's capacity cannot use it
                if (i, k) in z and i != k and O[i] + O[k] > cap[k] * (1 + 1e-12):
                    z[i, k].upper_bound = 0.0
        # the open hubs must be able to take all the flow (a cover the LP misses)
        model.add_linear_constraint(
            mathopt.fast_sum(cap[k] * z[k, k] for k in sites) >= float(O.sum())
        )
    # inter-hub flows of each origin
    if data.alpha > 0 and S > 1:
        for i in range(n):
            if O[i] <= 0:
                continue
            Y = {
                (k, m): model.add_variable(lb=0.0, name=f"Y_{i}_{k}_{m}")
                for k in sites
                for m in sites
                if k != m
            }
            terms.extend(data.alpha * C[k, m] * v for (k, m), v in Y.items() if C[k, m])
            for k in sites:
                out = mathopt.fast_sum(Y[k, m] for m in sites if m != k)
                inn = mathopt.fast_sum(Y[m, k] for m in sites if m != k)
                sent = mathopt.fast_sum(W[i, j] * z[j, k] for j in range(n) if W[i, j])
                model.add_linear_constraint(out - inn - O[i] * z[i, k] + sent == 0.0)
    model.minimize(mathopt.fast_sum(terms))
    hint = None
    if start is not None:
        hubs0, alloc0 = start
        hint = dict.fromkeys(z.values(), 0.0)
        for i, k in enumerate(np.asarray(alloc0)):
            if (i, int(k)) in z:
                hint[z[i, int(k)]] = 1.0
        for k in hubs0:
            if (k, k) in z:
                hint[z[k, k]] = 1.0
    remaining = None if time_limit is None else time_limit - (time.perf_counter() - t0)
    res = _solve(model, params, remaining, hint)
    return _single_result(res, z, sites, n, t0)


def _single_result(
    res: mathopt.SolveResult,
    z: dict[tuple[int, int], mathopt.Variable],
    sites: list[int],
    n: int,
    t0: float,
) -> MipResult:
    reason = res.termination.reason
    seconds = time.perf_counter() - t0
    infeasible = reason in (
        mathopt.TerminationReason.INFEASIBLE,
        mathopt.TerminationReason.INFEASIBLE_OR_UNBOUNDED,
    )
    bound = float(res.termination.objective_bounds.dual_bound)
    if not res.has_primal_feasible_solution():
        return MipResult(None, None, math.inf, bound, False, infeasible, seconds)
    values = res.variable_values()
    hubs = tuple(sorted(k for k in sites if values[z[k, k]] > 0.5))
    alloc = np.empty(n, dtype=np.int64)
    for i in range(n):
        if i in hubs:
            alloc[i] = i
            continue
        best = max((values[z[i, k]], k) for k in hubs if (i, k) in z)
        alloc[i] = best[1]
    return MipResult(
        hubs,
        alloc,
        float(res.objective_value()),
        bound,
        reason is mathopt.TerminationReason.OPTIMAL,
        False,
        seconds,
    )


def solve_multiple_allocation_mip(
    problem: Problem,
    data: HubData,
    params: SolveParameters,
    *,
    time_limit: float | None,
    start_hubs: Sequence[int] | None = None,
) -> MipResult:
    """E&K 1998 multiple-allocation flow MIP (UMApHMP, UMAHLP); returns the hubs."""
    t0 = time.perf_counter()
    n = data.n
    C = data.costs
    W = data.flows
    O = data.origin_totals
    sites = list(data.candidates)
    model = mathopt.Model(name=problem.value)
    y = {
        k: model.add_variable(
            lb=1.0 if k in data.fixed_hubs else 0.0, ub=1.0, is_integer=True, name=f"y_{k}"
        )
        for k in sites
    }
    terms: list[mathopt.LinearTypes] = []
    if data.fixed_costs is not None:
        terms.extend(data.fixed_costs[k] * y[k] for k in sites if data.fixed_costs[k])
    if problem.has_p:
        model.add_linear_constraint(mathopt.fast_sum(y.values()) == float(data.p or 0))
    for i in range(n):
        if O[i] <= 0:
            continue
        dests = [j for j in range(n) if W[i, j] > 0]
        Z = {k: model.add_variable(lb=0.0, name=f"Z_{i}_{k}") for k in sites}
        Y = {
            (k, m): model.add_variable(lb=0.0, name=f"Y_{i}_{k}_{m}")
            for k in sites
            for m in sites
            if k != m
        }
        X = {
            (m, j): model.add_variable(lb=0.0, name=f"X_{i}_{m}_{j}") for m in sites for j in dests
        }
        terms.extend(data.chi * C[i, k] * v for k, v in Z.items() if C[i, k])
        terms.extend(data.alpha * C[k, m] * v for (k, m), v in Y.items() if C[k, m])
        terms.extend(data.delta * C[m, j] * v for (m, j), v in X.items() if C[m, j])
        model.add_linear_constraint(mathopt.fast_sum(Z.values()) == O[i])
        for j in dests:
            model.add_linear_constraint(mathopt.fast_sum(X[m, j] for m in sites) == W[i, j])
        for k in sites:
            model.add_linear_constraint(Z[k] <= O[i] * y[k])
            for j in dests:
                model.add_linear_constraint(X[k, j] <= W[i, j] * y[k])
            out = mathopt.fast_sum(Y[k, m] for m in sites if m != k)
            inn = mathopt.fast_sum(Y[m, k] for m in sites if m != k)
            dist = mathopt.fast_sum(X[k, j] for j in dests)
            model.add_linear_constraint(out + dist - inn - Z[k] == 0.0)
    model.minimize(mathopt.fast_sum(terms))
    hint = None
    if start_hubs is not None:
        hint = {v: (1.0 if k in set(start_hubs) else 0.0) for k, v in y.items()}
    remaining = None if time_limit is None else time_limit - (time.perf_counter() - t0)
    res = _solve(model, params, remaining, hint)
    reason = res.termination.reason
    seconds = time.perf_counter() - t0
    bound = float(res.termination.objective_bounds.dual_bound)
    infeasible = reason in (
        mathopt.TerminationReason.INFEASIBLE,
        mathopt.TerminationReason.INFEASIBLE_OR_UNBOUNDED,
    )
    if not res.has_primal_feasible_solution():
        return MipResult(None, None, math.inf, bound, False, infeasible, seconds)
    values = res.variable_values()
    hubs = tuple(sorted(k for k in sites if values[y[k]] > 0.5))
    return MipResult(
        hubs,
        None,
        float(res.objective_value()),
        bound,
        reason is mathopt.TerminationReason.OPTIMAL,
        False,
        seconds,
    )


def solve_allocation_mip(
    data: HubData,
    hubs: Sequence[int],
    params: SolveParameters,
    *,
    time_limit: float | None,
    start: IntArray | None = None,
    capacities: FloatArray | None = None,
) -> MipResult:
    """Best single allocation to the open ``hubs``: the E&K model with the hubs fixed.

    A lean build of :func:`solve_single_allocation_mip` for the hub-set search: hubs
    serve themselves (constants, no variables), every other node gets one binary per
    hub, and each origin's inter-hub flow is a small network flow over the hubs.
    With ``capacities`` (CSAHLP) a hub's load, the origin flow of the nodes it serves
    (its own included), stays within its capacity; ``infeasible`` reports a hub set
    that cannot serve every node.
    """
    t0 = time.perf_counter()
    n = data.n
    H = [int(h) for h in hubs]
    hub_set = set(H)
    C = data.costs.tolist()
    W = data.flows.tolist()
    O = data.origin_totals.tolist()
    D = data.destination_totals.tolist()
    chi, alpha, delta = data.chi, data.alpha, data.delta
    model = mathopt.Model(name="allocation")
    z: dict[tuple[int, int], mathopt.Variable] = {}
    terms: list[mathopt.LinearTypes] = []
    constant = 0.0
    for i in range(n):
        if i in hub_set:
            constant += (chi * O[i] + delta * D[i]) * C[i][i]
            continue
        row = []
        for k in H:
            v = model.add_binary_variable()
            z[i, k] = v
            row.append(v)
            c = chi * O[i] * C[i][k] + delta * D[i] * C[k][i]  # C need not be symmetric
            if c:
                terms.append(c * v)
        model.add_linear_constraint(mathopt.fast_sum(row) == 1.0)
    if capacities is not None:
        for k in H:
            served = [O[i] * z[i, k] for i in range(n) if i not in hub_set and O[i] > 0]
            model.add_linear_constraint(mathopt.fast_sum(served) <= capacities[k] - O[k])
    if alpha > 0 and len(H) > 1:
        for i in range(n):
            if O[i] <= 0:
                continue
            Wi = W[i]
            Y = {(k, m): model.add_variable(lb=0.0) for k in H for m in H if k != m}
            terms.extend(alpha * C[k][m] * v for (k, m), v in Y.items() if C[k][m])
            for k in H:
                out = mathopt.fast_sum(Y[k, m] for m in H if m != k)
                inn = mathopt.fast_sum(Y[m, k] for m in H if m != k)
                # flow of origin i that reaches its last hub k, minus what i sends in at k
                rhs = 0.0
                expr = []
                for j in range(n):
                    w = Wi[j]
                    if not w:
                        continue
                    if j in hub_set:
                        if j == k:
                            rhs -= w
                    else:
                        expr.append(w * z[j, k])
                if i in hub_set:
                    if i == k:
                        rhs += O[i]
                else:
                    expr.append(-O[i] * z[i, k])
                model.add_linear_constraint(out - inn + mathopt.fast_sum(expr) == rhs)
    model.minimize(mathopt.fast_sum(terms) + constant)
    hint = None
    if start is not None:
        hint = {v: (1.0 if int(start[i]) == k else 0.0) for (i, k), v in z.items()}
    remaining = None if time_limit is None else time_limit - (time.perf_counter() - t0)
    res = _solve(model, params, remaining, hint)
    seconds = time.perf_counter() - t0
    bound = float(res.termination.objective_bounds.dual_bound)
    if not res.has_primal_feasible_solution():
        infeasible = res.termination.reason is mathopt.TerminationReason.INFEASIBLE
        return MipResult(None, None, math.inf, bound, False, infeasible, seconds)
    values = res.variable_values()
    alloc = np.arange(n, dtype=np.int64)
    for i in range(n):
        if i not in hub_set:
            alloc[i] = max((values[z[i, k]], k) for k in H)[1]
    return MipResult(
        tuple(sorted(H)),
        alloc,
        float(res.objective_value()),
        bound,
        res.termination.reason is mathopt.TerminationReason.OPTIMAL,
        False,
        seconds,
    )
