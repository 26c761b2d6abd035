"""Resilient fixed-cost hub location (USAHLP / UMAHLP): the hub count is free.

The objective of a hub set ``H`` is its opening cost plus the resilient transport cost of
:mod:`hubopt.models.resilience`::

    sum_{k in H} f_k + E(H)      or      sum_{k in H} f_k + max_{|F| = r} cost(H \\ F)

Exact method: one hub count ``m`` at a time, from the least count the objective allows
(two hubs for the expected cost, ``r + 1`` for the worst case, at least the kept-open
hubs) upwards, the hub-set search of :mod:`hubopt.models._resilience_search` with the
opening costs added to every value and bound and the best value of the counts before as
a cutoff.  Every count ``m' >= m`` is bounded below by

    LB(m) = T + min_{m' >= m} F_min(m')

``T`` the multiple-allocation cost with every candidate a hub (every scenario's cost,
single or multiple allocation, is at least the multiple-allocation cost of the hubs left,
which is at least ``T``: more hubs never raise it), ``F_min(m')`` the opening cost of the
kept-open hubs and the ``m' - |kept|`` cheapest other candidates.  The search stops when
``LB(m)`` reaches the incumbent: proven optimal.  A count whose sets cannot be enumerated
(more than :data:`~hubopt.models.strategy.DEFAULT_MAX_SETS`), or the deadline, stops it
with ``LB(m)`` (and the bounds of the counts left unfinished) as the bound.

Expected cost: single failures need ``sum_{k in H} q_k <= 1``; the hub count is capped at
the largest ``m`` whose ``m`` most fragile candidates meet it (for one ``q`` for every
site, ``m <= 1 / q``: exact).
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from hubopt._errors import InfeasibleModelError, ModelSpecificationError
from hubopt.models import _search
from hubopt.models._resilience_search import Feasible, SearchOutcome, exact_search
from hubopt.models.base import FloatArray, HubData, SolveParameters
from hubopt.models.heuristics import greedy_hubs
from hubopt.models.strategy import DEFAULT_MAX_SETS


def hub_count_range(data: HubData, kind: str, r: int, q: FloatArray) -> tuple[int, int]:
    """The least and the largest hub count the objective allows (``least > largest``:
    none)."""
    cands = list(data.candidates)
    least = max(2 if kind == "expected" else r + 1, len(data.fixed_hubs))
    largest = len(cands)
    if kind == "expected":
        kept = [float(q[k]) for k in data.fixed_hubs]
        free = sorted((float(q[k]) for k in cands if k not in set(data.fixed_hubs)),
                      reverse=True)
        total = sum(kept)
        largest = len(kept) if total <= 1 + 1e-12 else len(kept) - 1
        for v in free:
            if total + v > 1 + 1e-12:
                break
            total += v
            largest += 1
    return least, largest


def _separable_floor(data: HubData, f: FloatArray, largest: int, out_w: FloatArray,
                     in_w: FloatArray, base: float) -> FloatArray:
    """``base + sum_i out_w_i d(i, H) + in_w_i d'(i, H) + F(H)`` bounded below for each hub
    count ``m = 0..largest``: a node that is not a hub is at least its nearest other
    node away, a hub at least its nearest node (itself, usually ``0``), so the bound is
    ``sum_i a_i c_i + sum_{k in H} (f_k - a_k (c_k - c0_k))``, least over the kept-open
    hubs and the cheapest other candidates (weights ``out_w``, ``in_w`` >= 0)."""
    C = data.costs
    off = C + np.diag(np.full(data.n, np.inf))
    c_out, c_in = off.min(axis=1), off.min(axis=0)
    c0_out, c0_in = C.min(axis=1), C.min(axis=0)
    fixed_part = float(out_w @ c_out + in_w @ c_in) + base
    saving = out_w * (c_out - c0_out) + in_w * (c_in - c0_in)
    red = f - saving
    kept = list(data.fixed_hubs)
    free = np.sort([float(red[k]) for k in data.candidates if k not in set(kept)])
    nk = len(kept)
    floor = np.full(largest + 1, math.inf)
    for m in range(nk, largest + 1):
        floor[m] = fixed_part + float(red[kept].sum()) + float(free[: m - nk].sum())
    return floor


def metric(C: FloatArray) -> bool:
    """Whether ``C`` obeys the triangle inequality ``C_ij <= C_ik + C_kj`` (tolerance
    ``1e-9`` of the largest cost)."""
    tol = 1e-9 * max(1.0, float(np.max(C)))
    return all(bool(np.all(C <= C[:, [k]] + C[[k], :] + tol)) for k in range(C.shape[0]))


def ufl_dual_bound(cost: FloatArray, f: FloatArray) -> float:
    """A lower bound on the uncapacitated facility location ``min_H sum_j min_{k in H}
    cost_jk + sum_{k in H} f_k`` (``cost`` ``(J, K)`` and ``f`` >= 0): a feasible solution
    of its LP dual (``max sum_j v_j`` with ``sum_j max(0, v_j - cost_jk) <= f_k``) by dual
    ascent (Erlenkotter 1978): each ``v_j`` rises to its next cost level while every
    facility it reaches has slack left."""
    J, K = cost.shape
    levels = np.sort(cost, axis=1)
    v = levels[:, 0].copy()
    slack = np.asarray(f, dtype=np.float64).copy()
    level = np.zeros(J, dtype=np.int64)
    changed = True
    while changed:
        changed = False
        for j in range(J):
            while level[j] + 1 < K and levels[j, level[j] + 1] <= v[j]:
                level[j] += 1
            tight = cost[j] <= v[j]
            room = float(slack[tight].min()) if tight.any() else math.inf
            step = min(levels[j, level[j] + 1] - v[j] if level[j] + 1 < K else math.inf, room)
            if math.isfinite(step) and step > 1e-12 * max(1.0, abs(v[j])):
                v[j] += step
                slack[tight] -= step
                changed = True
    return float(v.sum())


def _lagrangian_floor(data: HubData, f: FloatArray, largest: int, out_w: FloatArray,
                      in_w: FloatArray, base: float) -> FloatArray:
    """``base + sum_i out_w_i d(i, H) + in_w_i d'(i, H) + F(H)`` bounded below for each
    hub count ``m``: for ``lam >= 0``, ``F(H) = sum_{k in H} (f_k - lam) + lam |H|``, the
    reduced costs split into their positive part (a facility location bounded by
    :func:`ufl_dual_bound`, kept-open hubs free) and the sum of their negative parts;
    the bound rises by ``lam`` per hub; the best ``lam`` of a grid for each count."""
    C = data.costs
    kept = list(data.fixed_hubs)
    cands = list(data.candidates)
    free = [k for k in cands if k not in set(kept)]
    nk = len(kept)
    cost = np.vstack([out_w[:, None] * C[:, cands], in_w[:, None] * C[cands, :].T])
    cost = cost[np.concatenate([out_w, in_w]) > 0]
    counts = np.arange(largest + 1)
    floor = np.full(largest + 1, -math.inf)
    top = float(max(f[free])) if free else 0.0
    for lam in np.linspace(0.0, top, 17):
        reduced = np.array([0.0 if k in set(kept) else float(f[k]) - lam for k in cands])
        value = (base + ufl_dual_bound(cost, np.maximum(reduced, 0.0))
                 + float(np.minimum(reduced, 0.0).sum()) + float(f[kept].sum()))
        floor = np.maximum(floor, value + lam * (counts - nk))
    floor[:nk] = math.inf
    return floor


def count_floor(data: HubData, f: FloatArray, largest: int) -> FloatArray:
    """``LB(m)``: a lower bound on the objective of every hub set of ``m`` or more hubs
    (``m = 0..largest``), from ``objective >= MA(H) + F(H)`` (each scenario costs at least
    the multiple-allocation cost of the hubs left, at least ``MA(H)``).

    A route ``i -> k -> l -> j`` costs at least ``chi C_ik + delta C_lj`` (costs >= 0)
    and, when ``C`` is metric (``C_kl >= C_ij - C_ik - C_lj``), at least ``alpha C_ij +
    (chi - alpha) C_ik + (delta - alpha) C_lj``; each gives a facility-location bound
    (:func:`_separable_floor`, :func:`_lagrangian_floor`) and the largest counts.  The
    least over ``m' >= m``."""
    O, D = data.origin_totals, data.destination_totals
    chi, alpha, delta = data.chi, data.alpha, data.delta
    weights = [(chi * O, delta * D, 0.0)]
    if alpha <= min(chi, delta) and metric(data.costs):
        weights.append(((chi - alpha) * O, (delta - alpha) * D,
                        alpha * float((data.flows * data.costs).sum())))
    floor = np.full(largest + 1, -math.inf)
    for out_w, in_w, base in weights:
        floor = np.maximum(floor, _separable_floor(data, f, largest, out_w, in_w, base))
        floor = np.maximum(floor, _lagrangian_floor(data, f, largest, out_w, in_w, base))
    return np.minimum.accumulate(floor[::-1])[::-1]


def fixed_cost_search(
    data: HubData, kind: str, r: int, q: FloatArray, single: bool, params: SolveParameters,
    deadline: float | None, feasible: Feasible | None = None,
) -> tuple[SearchOutcome, dict[str, float]]:
    """The resilient fixed-cost optimum by hub count (module docstring); the outcome and
    per-count figures for ``info`` (``count_m``: the best value found with ``m`` hubs)."""
    assert data.fixed_costs is not None
    f = np.asarray(data.fixed_costs, dtype=np.float64)
    base = dataclasses.replace(data, fixed_costs=None)  # opening costs added here only
    least, largest = hub_count_range(data, kind, r, q)
    floor = count_floor(data, f, largest)
    best: SearchOutcome | None = None
    bound = math.inf  # least bound of the counts searched without a proof
    complete = True
    info: dict[str, float] = {"hub_count_least": least, "hub_count_largest": largest}
    total = evaluated = plans = 0
    m = least
    while m <= largest:
        tail = float(floor[m])
        incumbent = math.inf if best is None else best.objective
        if tail >= incumbent * (1 - 1e-9):
            break
        sets = _search.count_hub_sets(base, m)
        late = deadline is not None and time.perf_counter() > deadline
        if sets > DEFAULT_MAX_SETS or (late and best is not None):
            complete = False
            bound = min(bound, tail)
            info["stopped_at_count"] = m
            break
        # a start: the greedy set on the nominal cost with the opening costs
        start = [greedy_hubs(dataclasses.replace(data, p=m), m)]
        if feasible is not None and not feasible(np.asarray(start, dtype=np.int64))[0]:
            start = []
        try:
            out = exact_search(dataclasses.replace(base, p=m), kind, r, q, single, params,
                               deadline, start, feasible=feasible, fixed=f, cutoff=incumbent)
        except InfeasibleModelError:  # no set of this count meets the N-1 constraint
            m += 1
            continue
        total += out.sets_total
        evaluated += out.sets_evaluated
        plans += out.plans_solved
        info[f"count_{m}"] = out.objective
        if best is None or out.objective < best.objective:
            best = out
        if not out.complete:  # its bound, or the tail bound of this count if higher
            complete = False
            bound = min(bound, max(out.bound, min(tail, incumbent)))
        m += 1
    if best is None and "stopped_at_count" in info:
        msg = (f"resilient fixed-cost hub location: {least} hubs already give "
               f"{_search.count_hub_sets(base, least)} hub sets (at most {DEFAULT_MAX_SETS})")
        raise ModelSpecificationError(msg)
    if best is None:
        msg = (f"no hub set of {least} to {largest} hubs meets the constraints "
               f"(resilient fixed-cost hub location)")
        raise InfeasibleModelError(msg)
    final = min(bound, best.objective)
    return dataclasses.replace(
        best, bound=best.objective if complete else final, complete=complete,
        method=best.method.replace("resilient-search", "resilient-count-search"),
        sets_total=total, sets_evaluated=evaluated, plans_solved=plans,
    ), info
