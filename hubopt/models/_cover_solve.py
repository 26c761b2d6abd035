"""The solve of a covering model: reductions, greedy start, MIP, back to site indices.

:func:`solve_coverage` returns the hub set (original site indices, sorted), the bound on
the covered weight, the status and the figures of the solve; the model turns it into a
:class:`~hubopt.models.base.Solution` (allocation, covered mask, objective).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from hubopt._errors import ModelSpecificationError
from hubopt.models._cover_data import CoverageData
from hubopt.models._cover_fix import fix_sites
from hubopt.models._cover_mip import max_cover, max_cover_capacitated, max_cover_lp, min_hubs
from hubopt.models._cover_reduce import (
    greedy_cover,
    merge_rows,
    reduce_cover,
    swap_search,
)
from hubopt.models.base import IntArray, SolveParameters, Status


@dataclass(frozen=True)
class CoverResult:
    """Hub set (original indices), serving site per point (capacities) or None, bound
    on the covered weight (nan: none), status, method and figures."""

    hubs: tuple[int, ...]
    served: IntArray | None
    bound: float
    status: Status
    method: str
    info: dict[str, Any] = field(default_factory=dict)
    infeasible: bool = False


def _remaining(start: float, limit: float | None) -> float | None:
    return None if limit is None else max(0.01, limit - (time.perf_counter() - start))


def _pad(chosen: list[int], allowed: IntArray, p: int) -> tuple[int, ...]:
    """``chosen`` plus the lowest allowed sites not in it, up to ``p`` sites (in maximal
    covering without capacities an extra hub never uncovers a point)."""
    out = set(chosen)
    for k in allowed.tolist():
        if len(out) >= p:
            break
        out.add(int(k))
    return tuple(sorted(out))


AUTO_SOLVER = "scip"  # the backend of method "auto" (see docs/engine.md, coverage)


def backend(params: SolveParameters) -> SolveParameters:
    """``params`` with the MathOpt backend the covering MIPs use: SCIP for method
    ``"auto"`` (on the training instances of ``benchmarks/bench_coverage.py`` it proved
    the optimum 1.7x faster than HiGHS from 5,000 points on), ``params.solver`` for
    ``"mip"``."""
    if params.method == "auto":
        return replace(params, solver=AUTO_SOLVER)
    if params.method == "mip":
        return params
    msg = f"method: the coverage model takes auto or mip, found {params.method!r}"
    raise ModelSpecificationError(msg)


def solve_coverage(d: CoverageData, params: SolveParameters) -> CoverResult:
    """Solve the covering model ``d`` (feasibility already checked)."""
    params = backend(params)
    if d.capacities is not None:
        return _capacitated(d, params)
    start = time.perf_counter()
    fixed = np.array(sorted(set(d.fixed_hubs)), dtype=np.int64)
    allowed = d.allowed
    red = reduce_cover(d.reach, d.weights, allowed, fixed, dominance=True)
    ny = red.A.shape[1]
    info: dict[str, Any] = {
        "points_kept": red.points, "rows": int(red.A.shape[0]), "sites_kept": ny,
        "points_dropped": red.dropped_points, "sites_dominated": red.dominated_sites,
        "reduce_seconds": round(time.perf_counter() - start, 3),
    }  # fmt: skip
    method = f"mip-{params.solver}"
    if d.p is not None:
        cols, bound, proven = _max_cover(red.A, red.w, d.p - len(fixed), params,
                                         _remaining(start, params.time_limit), info)  # fmt: skip
        chosen = [int(k) for k in fixed] + [int(red.sites[c]) for c in cols]
        hubs = _pad(chosen, allowed, d.p)
        status = Status.OPTIMAL if proven else Status.FEASIBLE
        return CoverResult(hubs, None, red.constant + bound, status, method, info)
    assert d.share is not None
    target = d.share * float(d.weights.sum()) - red.constant
    if target <= 1e-9 * max(1.0, float(d.weights.sum())):  # the existing hubs suffice
        info["hubs_bound"] = len(fixed)
        return CoverResult(tuple(int(k) for k in fixed), None, math.nan, Status.OPTIMAL,
                           method, info)  # fmt: skip
    target -= 1e-9 * max(1.0, target)
    greedy = greedy_cover(red.A, red.w, ny, target=target)
    info["greedy_hubs"] = len(greedy) + len(fixed)
    first = min_hubs(red.A, red.w, target, params, _remaining(start, params.time_limit),
                     greedy)  # fmt: skip
    cols1 = list(first.columns) if first.columns else greedy
    k = len(cols1)
    info["hubs_bound"] = len(fixed) + (math.ceil(first.bound - 1e-6)
                                       if math.isfinite(first.bound) else 0)  # fmt: skip
    cols, bound, proven = _max_cover(red.A, red.w, k, params,
                                     _remaining(start, params.time_limit), info,
                                     start_cols=cols1)  # fmt: skip
    if _weight(red.A, red.w, cols) < _weight(red.A, red.w, cols1):
        cols = cols1
    hubs = tuple(sorted([int(k) for k in fixed] + [int(red.sites[c]) for c in cols]))
    proven = proven and first.proven
    status = Status.OPTIMAL if proven else Status.FEASIBLE
    return CoverResult(hubs, None, red.constant + bound if first.proven else math.nan,
                       status, method, info)  # fmt: skip


def _weight(A: sp.csr_array, w: np.ndarray, cols: list[int]) -> float:
    if not cols:
        return 0.0
    return float(w[np.asarray(A[:, cols].sum(axis=1)).ravel() > 0].sum())


def _max_cover(A: sp.csr_array, w: np.ndarray, p: int, params: SolveParameters,
               limit: float | None, info: dict[str, Any],
               start_cols: list[int] | None = None) -> tuple[list[int], float, bool]:  # fmt: skip
    """Best ``p`` columns (all when there are no more), a bound, proven or not.

    1. A start: the greedy set and ``start_cols``, improved by swaps.
    2. The LP relaxation (GLOP): an upper bound and reduced costs.
    3. A kernel MIP on the LP's support plus the sites of least reduced cost, and swaps
       from its answer: a lower bound ``LB`` usually at the optimum.
    4. Fixing (:func:`~hubopt.models._cover_fix.fix_sites`): LP reduced costs and
       Lagrangian probes close (or open) the sites that cannot be in (or out of) a set
       better than ``LB``; rounds with the LP of the smaller model.
    5. The MIP on the sites left, from the best set (a complete solution: SCIP drops a
       hint with most values unset) when it is among them.
    """
    start = time.perf_counter()
    ny = A.shape[1]
    if p <= 0 or ny == 0:
        return [], 0.0, True
    if p >= ny:
        return list(range(ny)), float(w.sum()), True
    integral = bool(np.all(w == np.round(w)))
    step = 1.0 - 1e-6 if integral else 1e-9 * max(1.0, float(w.sum()))
    best, lb = swap_search(A, w, greedy_cover(A, w, p))
    if start_cols is not None:
        other, other_lb = swap_search(A, w, start_cols)
        if other_lb > lb:
            best, lb = other, other_lb
    info["start_weight"] = lb
    lp = max_cover_lp(A, w, p, _remaining(start, limit))
    if lp is None:  # no LP within the time: the MIP as it is
        return _mip(A, w, p, params, _remaining(start, limit), best, lb)
    ub, y, rc = lp.value, lp.y, lp.rc
    info["lp_bound"] = ub
    info["lp_seconds"] = round(time.perf_counter() - start, 3)
    if ub - lb < step:
        return best, ub, True
    zeros = np.flatnonzero(y <= 1e-6)
    near = zeros[np.argsort(-rc[zeros], kind="stable")[: max(20, p)]]
    kernel = np.union1d(np.flatnonzero(y > 1e-6), near)
    if len(kernel) > p:
        Ak, wk = merge_rows(sp.csr_array(A[:, kernel]), w)
        share = None if limit is None else 0.2 * (_remaining(start, limit) or 0.0)
        hint = [int(j) for j in np.searchsorted(kernel, best) if j < len(kernel)
                and kernel[j] in best]  # fmt: skip
        out = max_cover(Ak, wk, p, params, share, hint if len(hint) == p else None)
        if out.columns:
            cand, cand_lb = swap_search(A, w, [int(kernel[c]) for c in out.columns])
            if cand_lb > lb:
                best, lb = cand, cand_lb
    info["kernel_sites"] = len(kernel)
    info["kernel_seconds"] = round(time.perf_counter() - start, 3)
    info["kernel_weight"] = lb
    if ub - lb < step:
        return best, ub, True
    deadline = None if limit is None else start + 0.5 * limit
    fx = fix_sites(A, w, p, lb, lp, step, deadline)
    ones, keep = fx.ones, fx.keep
    info["sites_fixed"] = int(A.shape[1] - len(keep))
    info["fixing_rounds"] = fx.rounds
    info["final_rows"], info["final_sites"] = int(fx.A.shape[0]), int(fx.A.shape[1])
    info["fixing_seconds"] = round(time.perf_counter() - start, 3)
    ub = min(ub, fx.bound)
    if fx.proven:  # no set that respects the fixing beats the best one
        return best, lb, True
    rest = set(best) - set(ones.tolist())
    kept = set(keep.tolist())
    inside = [int(np.searchsorted(keep, k)) for k in sorted(rest) if k in kept]
    final_hint = inside if set(ones.tolist()) <= set(best) and len(inside) == len(rest) else None
    cols, bound, proven = _mip(fx.A, fx.w, fx.p, params, _remaining(start, limit),
                                final_hint, None)  # fmt: skip
    constant = fx.constant
    chosen = [int(k) for k in ones] + [int(keep[c]) for c in cols]
    chosen_w = _weight(A, w, chosen)
    bound = max(lb, min(ub, bound + constant))
    if chosen_w > lb:
        return chosen, bound, proven
    # the best set stays: the fixed sites cannot beat it, and the rest is proven not to
    return best, bound, proven or bound - lb < step


def _mip(A: sp.csr_array, w: np.ndarray, p: int, params: SolveParameters,
         limit: float | None, hint: list[int] | None,
         hint_weight: float | None) -> tuple[list[int], float, bool]:  # fmt: skip
    """The maximal covering MIP on ``A``; the hint comes back if the MIP does no better."""
    ny = A.shape[1]
    if p <= 0 or ny == 0:
        return [], 0.0, True
    if p >= ny:
        return list(range(ny)), float(w.sum()), True
    out = max_cover(A, w, p, params, limit, hint)
    got = _weight(A, w, list(out.columns)) if out.columns else -1.0
    bound = out.bound if math.isfinite(out.bound) else float(w.sum())
    if hint is not None and hint_weight is not None and got < hint_weight:
        return hint, bound, False
    if not out.columns:
        return hint or [], bound, False
    return list(out.columns), bound, out.proven


def _capacitated(d: CoverageData, params: SolveParameters) -> CoverResult:
    """Maximal covering with capacities: one binary per pair within reach."""
    assert d.p is not None
    assert d.capacities is not None
    start = time.perf_counter()
    allowed = d.allowed
    A = sp.csr_array(d.reach[:, allowed])
    live = np.flatnonzero(np.diff(A.indptr) > 0)
    A = sp.csr_array(A[live])
    pos = {int(k): j for j, k in enumerate(allowed.tolist())}
    fixed = np.array([pos[k] for k in sorted(set(d.fixed_hubs))], dtype=np.int64)
    out, served_cols = max_cover_capacitated(A, d.weights[live], d.capacities[allowed],
                                             d.p, fixed, params, params.time_limit)  # fmt: skip
    info: dict[str, Any] = {"points_kept": len(live), "pairs": int(A.nnz),
                            "seconds_mip": round(time.perf_counter() - start, 3)}  # fmt: skip
    method = f"mip-{params.solver}-capacitated"
    if out.infeasible:
        return CoverResult((), None, math.nan, Status.INFEASIBLE, method, info, infeasible=True)
    if out.no_solution:
        return CoverResult((), None, math.nan, Status.NO_SOLUTION, method, info)
    served = np.full(d.times.shape[0], -1, dtype=np.int64)
    on = served_cols >= 0
    served[live[on]] = allowed[served_cols[on]]
    hubs = tuple(sorted(int(allowed[c]) for c in out.columns))
    status = Status.OPTIMAL if out.proven else Status.FEASIBLE
    return CoverResult(hubs, served, out.bound, status, method, info)


__all__ = ["CoverResult", "solve_coverage"]
