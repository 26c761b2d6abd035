"""Search over hub sets for the resilient p-hub medians (see :mod:`hubopt.models.resilience`).

Bounds.  For every hub set, ``MA(H) >= PM(H)`` (the weighted p-median bound) and the
single-allocation cost of any plan in scenario ``F`` is at least ``MA(H \\ F)``, so

* ``E_MA(H) >= (1 - Q_H) PM(H) + sum_k q_k max(PM(H), PM(H \\ k))`` and
  ``W_MA(H) >= max_F PM(H \\ F)`` (cheap, ``O(n p)`` per scenario);
* ``E_SA(H) >= E_MA(H)`` and ``W_SA(H) >= W_MA(H)`` for every plan.

Exact search (the hub sets can be enumerated): an incumbent from a greedy start and a
swap descent on the resilient objective; every set whose cheap bound reaches the
incumbent is dropped; the rest are visited in increasing bound.  Multiple allocation
evaluates each set exactly (``p + 1`` or ``C(p, r) + 1`` closed-form costs) and stops at
the first bound at or above the incumbent.  Single allocation takes ``E_MA``/``W_MA`` as
each set's bound, improves a plan by descent and proves it with the plan MIP of
:mod:`hubopt.models._resilience_mip` (one attack); it stops when the next bound reaches
the incumbent.  On a deadline the incumbent is returned with the least bound of the sets
not settled.

Large instances: the nominal optimum (engine solve) as a start, a swap descent on the
resilient objective, and the bound ``(1 - Q_min) LB_p + Q_min max(LB_p, LB_{p-1})``
(expected) or ``max(LB_p, LB_{p-r})`` (worst) from the engine's lower bounds ``LB_m`` on
the nominal ``m``-hub optimum without kept-open hubs: valid because ``H \\ F`` is a hub set
of ``p - |F|`` candidate sites.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from hubopt._errors import InfeasibleModelError
from hubopt.models import _search
from hubopt.models._mip import solve_allocation_mip
from hubopt.models._resilience_eval import (
    drop_patterns,
    expected_from_costs,
    improve_plan,
    initial_plan,
    ma_scenario_costs,
    plan_value,
    pm_drop_bounds,
)
from hubopt.models._resilience_lagrange import LagrangianCache, lagrangian_set_bounds
from hubopt.models._resilience_mip import solve_plan_mip
from hubopt.models.base import FloatArray, HubData, IntArray, SolveParameters
from hubopt.models.evaluate import single_allocation_od_costs
from hubopt.models.heuristics import (
    greedy_hubs,
    improve_allocation,
    local_search_hubs,
    ma_costs,
    pm_bounds,
    sa_lagrangian_bounds,
    sa_lower_bounds,
)

Feasible = Callable[[IntArray], np.ndarray]
_INFEASIBLE = 1e300  # the value of a set that breaks a hub-set constraint (finite: swaps compare)


@dataclass(frozen=True)
class SearchOutcome:
    """What a resilient search found."""

    hubs: tuple[int, ...]
    plan: IntArray | None
    objective: float
    bound: float
    complete: bool
    method: str
    sets_total: int = 0
    sets_evaluated: int = 0
    plans_solved: int = 0


def ma_values(data: HubData, sets: IntArray, kind: str, r: int, q: FloatArray) -> FloatArray:
    """The resilient multiple-allocation objective of each row of ``sets``."""
    nominal, failed = ma_scenario_costs(data, sets, 1 if kind == "expected" else r)
    if kind == "expected":
        return expected_from_costs(sets, q, nominal, failed)
    return np.asarray(failed.max(axis=1))


def cheap_bounds(data: HubData, sets: IntArray, kind: str, r: int, q: FloatArray) -> FloatArray:
    """Lower bounds on :func:`ma_values` from the p-median bounds of the scenarios."""
    if kind == "expected":
        pm = pm_bounds(data, sets)
        drop = np.maximum(pm_drop_bounds(data, sets, 1), pm[:, None])
        return expected_from_costs(sets, q, pm, drop)
    return np.asarray(pm_drop_bounds(data, sets, r).max(axis=1))


def sa_set_bounds(data: HubData, sets: IntArray, kind: str, r: int, q: FloatArray,
                  deadline: float | None) -> tuple[FloatArray, int]:
    """:func:`sa_set_bound` of the leading rows of ``sets``, in chunks until
    ``deadline``; returns the bounds of the rows done and their number."""
    sets = np.asarray(sets, dtype=np.int64)
    B, p = sets.shape
    rr = 1 if kind == "expected" else r
    keep = drop_patterns(p, rr)
    out = np.empty(B)
    done = 0
    while done < B:
        if deadline is not None and time.perf_counter() > deadline:
            break
        stop = min(B, done + 256)
        chunk = sets[done:stop]
        whole = sa_lower_bounds(data, chunk)
        parts = sa_lower_bounds(data, chunk[:, keep].reshape(-1, p - rr)).reshape(
            stop - done, keep.shape[0])
        if kind == "expected":
            out[done:stop] = expected_from_costs(chunk, q, whole, parts)
        else:
            out[done:stop] = parts.max(axis=1)
        done = stop
    return out[:done], done


def sa_set_bound(data: HubData, hubs: IntArray, kind: str, r: int, q: FloatArray) -> float:
    """A lower bound on the resilient single-allocation objective of one hub set: the
    one-sided relaxations of :func:`~hubopt.models.heuristics.sa_lower_bounds` of ``H``
    and of every ``H \\ F`` (each scenario's allocation is a single allocation to the
    hubs left, every one of them allocated to itself)."""
    H = np.asarray(hubs, dtype=np.int64)[None, :]
    rr = 1 if kind == "expected" else r
    keep = drop_patterns(H.shape[1], rr)
    whole = sa_lower_bounds(data, H)
    parts = sa_lower_bounds(data, H[0, keep])
    if kind == "expected":
        return float(expected_from_costs(H, q, whole, parts[None, :])[0])
    return float(parts.max())


class DecoupledBound:
    """``E_SA(H) >= (1 - Q_H) SA*(H) + sum_k q_k SA*(H \\ k)`` and ``W_SA(H) >= max_F
    SA*(H \\ F)``: each scenario's allocation is a single allocation to the hubs left, so
    its cost is at least the best one, ``SA*``, solved by the allocation MIP of the
    hub-set search (its bound when not proven) and cached per hub set."""

    def __init__(self, data: HubData, kind: str, r: int, q: FloatArray,
                 params: SolveParameters, lagrange: LagrangianCache | None = None) -> None:
        """Bounds for ``data`` under the objective ``kind``; ``lagrange``: Lagrangian
        bounds on ``SA*`` already known (used before solving a scenario's MIP)."""
        self.data, self.kind, self.r, self.q, self.params = data, kind, r, q, params
        self.cache: dict[tuple[int, ...], float] = {}
        self.lagrange = lagrange

    def best(self, hubs: Sequence[int], deadline: float | None) -> float:
        """A lower bound on the best single allocation to ``hubs`` (exact when proven)."""
        key = tuple(sorted(int(h) for h in hubs))
        if key not in self.cache:
            start = improve_allocation(self.data, list(key))
            if len(key) == 1:
                self.cache[key] = float(single_allocation_od_costs(self.data, start).sum())
            else:
                remaining = None if deadline is None else max(0.05, deadline - time.perf_counter())
                res = solve_allocation_mip(self.data, key, self.params, time_limit=remaining,
                                           start=start)
                value = res.objective if res.proven_optimal else res.bound
                self.cache[key] = float(value) if math.isfinite(value) else 0.0
        return self.cache[key]

    def bound(self, hubs: Sequence[int], deadline: float | None, target: float) -> float:
        """The decoupled bound of the hub set ``hubs``; the failure scenarios' allocation
        MIPs are skipped when the exact nominal part, with the scenarios' one-sided (and
        cached Lagrangian) bounds, already reaches ``target``."""
        H = sorted(int(h) for h in hubs)
        rr = 1 if self.kind == "expected" else self.r
        rest = [[h for h in H if h not in F] for F in itertools.combinations(H, rr)]
        cheap = sa_lower_bounds(self.data, np.asarray(rest, dtype=np.int64))
        if self.lagrange is not None:
            known = [self.lagrange.get(np.asarray(S)) for S in rest]
            cheap = np.maximum(cheap, [-np.inf if v is None else v for v in known])
        arr = np.asarray([H], dtype=np.int64)

        def combine(parts: FloatArray) -> float:
            if self.kind == "expected":
                whole = self.best(H, deadline)
                return float(expected_from_costs(arr, self.q, np.array([whole]),
                                                 parts[None, :])[0])
            return float(parts.max())

        first = combine(cheap)
        if first >= target:
            return first
        if self.kind == "expected" and tuple(H) not in self.cache:
            # a Lagrangian bound on the nominal part first (no MIP), aimed at the value
            # that the nominal part needs to reach for the set to be pruned
            qs = self.q[arr[0]]
            need = (target - float(qs @ cheap)) / max(1e-12, 1.0 - float(qs.sum()))
            lag, _ = sa_lagrangian_bounds(self.data, arr, target=need)
            value = float(expected_from_costs(arr, self.q, lag, cheap[None, :])[0])
            if value >= target:
                return max(first, value)
        exact = np.array([self.best(S, deadline) for S in rest])
        return max(first, combine(np.maximum(exact, cheap)))


def _prefilter(data: HubData, sets: IntArray, kind: str, r: int, q: FloatArray, ub: float,
               deadline: float | None, fixed: FloatArray) -> tuple[IntArray, FloatArray, bool]:
    """The sets whose cheap bound (plus their opening costs ``fixed``) is below ``ub``,
    with their bounds; ``PM(H)`` first (a bound on every objective), the scenario bounds
    for the rest.  ``False`` when the deadline stopped it (the sets not reached are
    missing)."""
    keep_sets, keep_lb = [], []
    step = 100_000
    finished = True
    for s in range(0, sets.shape[0], step):
        if deadline is not None and time.perf_counter() > deadline:
            finished = False
            break
        chunk = sets[s : s + step]
        chunk = chunk[pm_bounds(data, chunk) + fixed[chunk].sum(axis=1) < ub]
        lb = cheap_bounds(data, chunk, kind, r, q) + fixed[chunk].sum(axis=1)
        keep_sets.append(chunk[lb < ub])
        keep_lb.append(lb[lb < ub])
    if not keep_sets:
        return sets[:0], np.empty(0), finished
    return np.vstack(keep_sets), np.concatenate(keep_lb), finished


def _value_fn(data: HubData, kind: str, r: int, q: FloatArray) -> Callable[[IntArray], FloatArray]:
    return lambda sets: ma_values(data, sets, kind, r, q)


def ma_heuristic(
    data: HubData, kind: str, r: int, q: FloatArray, start: Sequence[Sequence[int]],
    deadline: float | None, feasible: Feasible | None = None, fallback: IntArray | None = None,
    fixed: FloatArray | None = None,
) -> tuple[list[int], float]:
    """Swap descent on the resilient multiple-allocation objective (plus the opening costs
    ``fixed`` of the hubs) from each set of ``start``, then from the greedy set (while
    time is left); the best local optimum.
    With ``feasible`` (a hub-set constraint) only feasible starts are kept (``fallback``,
    a feasible set, when none is) and infeasible swaps are never taken."""
    p = int(data.p or 0)
    transport = _value_fn(data, kind, r, q)
    f = np.zeros(data.n) if fixed is None else fixed

    def cost(sets: IntArray) -> FloatArray:
        return np.asarray(transport(sets) + f[sets].sum(axis=1))
    starts = [*(sorted(int(h) for h in s) for s in start)]
    if not starts or deadline is None or time.perf_counter() < deadline:
        starts.append(greedy_hubs(data, p))
    if feasible is not None:
        ok = feasible(np.array(starts, dtype=np.int64))
        starts = [s for s, good in zip(starts, ok, strict=True) if good]
        if not starts and fallback is not None:
            starts = [sorted(int(h) for h in fallback)]
        plain = cost

        def cost(sets: IntArray) -> FloatArray:
            return np.where(feasible(sets), plain(sets), _INFEASIBLE)
    best: tuple[list[int], float] | None = None
    near = 8 if data.n > 60 else None
    for s in starts:
        H, v = local_search_hubs(data, s, cost=cost, near=near, deadline=deadline)
        if best is None or v < best[1]:
            best = (H, v)
        if deadline is not None and time.perf_counter() > deadline:
            break
    assert best is not None
    return best


def sa_plan_for(
    data: HubData, hubs: Sequence[int], kind: str, r: int, q: FloatArray
) -> tuple[IntArray, float]:
    """A plan for ``hubs`` by descent from the best nominal allocation's plan."""
    alloc = improve_allocation(data, list(hubs))
    length = 2 if kind == "expected" else r + 1
    return improve_plan(data, hubs, initial_plan(data, hubs, alloc, length), kind, r, q)


def _evaluate_sorted(
    data: HubData, sets: IntArray, lb: FloatArray, kind: str, r: int, q: FloatArray,
    ub: float, deadline: float | None, stop_at_ub: bool, fixed: FloatArray,
) -> tuple[FloatArray, int]:
    """Values of ``sets`` (sorted by ``lb``) in chunks while the deadline allows (and,
    with ``stop_at_ub``, while ``lb < ub``, ``ub`` the least value so far); unevaluated
    rows keep ``lb``.  Values and bounds include the opening costs ``fixed`` of the hubs.

    Each chunk first gets ``MA(H)`` alone, which sharpens the bound to ``(1 - Q) MA(H) +
    sum_k q_k max(MA(H), PM(H \\ k))`` (expected) or ``max(lb, MA(H))`` (worst); only the
    sets still below ``ub`` get their ``p`` or ``C(p, r)`` failure costs.  A value is
    therefore exact when below ``ub`` and a bound at or above it.
    """
    vals = lb.copy()
    done = 0
    step = 256
    rr = 1 if kind == "expected" else r
    while done < sets.shape[0]:
        if deadline is not None and time.perf_counter() > deadline:
            break
        if stop_at_ub and lb[done] >= ub:
            break
        stop = min(sets.shape[0], done + step)
        t = time.perf_counter()
        chunk = sets[done:stop]
        opening = fixed[chunk].sum(axis=1)
        nominal = ma_costs(data, chunk)
        if kind == "expected":
            drop = np.maximum(pm_drop_bounds(data, chunk, 1), nominal[:, None])
            sharp = expected_from_costs(chunk, q, nominal, drop) + opening
        else:
            sharp = nominal + opening
        sharp = np.maximum(sharp, lb[done:stop])
        need = np.flatnonzero(sharp < ub)
        if need.size:
            keep = drop_patterns(chunk.shape[1], rr)
            sub = chunk[need][:, keep].reshape(need.size * keep.shape[0], -1)
            failed = ma_costs(data, sub).reshape(need.size, keep.shape[0])
            if kind == "expected":
                sharp[need] = expected_from_costs(chunk[need], q, nominal[need], failed)
            else:
                sharp[need] = failed.max(axis=1)
            sharp[need] += opening[need]
        vals[done:stop] = sharp
        if stop_at_ub:
            ub = min(ub, float(sharp.min()))
        per = max((time.perf_counter() - t) / (stop - done), 1e-7)
        done = stop
        step = max(16, int(0.5 / per))
    return vals, done


def exact_search(
    data: HubData, kind: str, r: int, q: FloatArray, single: bool, params: SolveParameters,
    deadline: float | None, start: Sequence[Sequence[int]] = (),
    feasible: Feasible | None = None, fixed: FloatArray | None = None,
    cutoff: float = math.inf,
) -> SearchOutcome:
    """Enumerate the hub sets with the bounds of the module docstring; with ``feasible``
    only the sets it accepts (the bounds of a set stay valid: they bound its own value).

    ``fixed``: opening costs added to every set's value and bounds (the fixed-cost
    variants search one hub count at a time).  ``cutoff``: a value known elsewhere (another
    hub count); sets that cannot beat it are dropped, so the outcome's ``bound`` is a
    lower bound on ``min(optimum, cutoff)`` and its set may be worse than ``cutoff``.
    """
    p = int(data.p or 0)
    f = np.zeros(data.n) if fixed is None else np.asarray(fixed, dtype=np.float64)
    total = _search.count_hub_sets(data, p)
    sets = _search._hub_sets(data, p)
    fallback = None
    if feasible is not None:
        sets = sets[feasible(sets)]
        if sets.shape[0] == 0:
            msg = (f"no set of p = {p} hubs meets the hub-set constraint (N-1 access: "
                   f"two hubs, or every site, within the limit of each demand point)")
            raise InfeasibleModelError(msg)
        fallback = sets[int(np.argmin(pm_bounds(data, sets)))]
    H0, ma_ub = ma_heuristic(data, kind, r, q, start, deadline, feasible, fallback, f)
    tol = 1e-9
    if not single:
        cut = min(ma_ub, cutoff)
        sets, lb, filtered = _prefilter(data, sets, kind, r, q, cut * (1 + tol), deadline, f)
        if not filtered:
            return SearchOutcome(tuple(H0), None, ma_ub, 0.0, False, "resilient-search", total)
        order = np.argsort(lb, kind="stable")
        sets, lb = sets[order], lb[order]
        vals, done = _evaluate_sorted(data, sets, lb, kind, r, q, cut, deadline, True, f)
        best_h, best = tuple(H0), ma_ub
        if done and vals[:done].min() < min(best, cut):
            t = int(np.argmin(vals[:done]))
            best_h, best = tuple(int(h) for h in sets[t]), float(vals[t])
        cut = min(best, cutoff)
        complete = done == sets.shape[0] or bool(lb[done] >= cut * (1 - tol))
        bound = cut if complete else min(cut, float(lb[done]))
        return SearchOutcome(best_h, None, best, bound, complete, "resilient-search",
                             total, done)
    # single allocation: an incumbent plan on the best multiple-allocation set
    plan, own = sa_plan_for(data, H0, kind, r, q)
    own += float(f[list(H0)].sum())
    best_h = tuple(H0)
    ub = min(own, cutoff)  # the value a set must beat
    sets, lb, filtered = _prefilter(data, sets, kind, r, q, ub * (1 + tol), deadline, f)
    if not filtered:
        return SearchOutcome(best_h, plan, own, 0.0, False, "resilient-search", total)
    order = np.argsort(lb, kind="stable")
    sets, lb = sets[order], lb[order]
    vals, done = _evaluate_sorted(data, sets, lb, kind, r, q, ub, deadline, False, f)
    if done < sets.shape[0]:  # out of time before every set had its bound
        bound = min(ub, float(vals[:done].min()) if done else ub, float(lb[done]))
        return SearchOutcome(best_h, plan, own, bound, False, "resilient-search", total, done)
    # sharpen every remaining set's bound with the one-sided single-allocation bounds of
    # its scenarios (most promising first, while time allows), then visit in that order
    order = np.argsort(vals, kind="stable")
    sets, vals = sets[order], vals[order]
    promising = vals < ub * (1 - tol)
    sets, vals = sets[promising], vals[promising]
    sharp, ready = sa_set_bounds(data, sets, kind, r, q, deadline)
    vals[:ready] = np.maximum(vals[:ready], sharp + f[sets[:ready]].sum(axis=1))
    order = np.argsort(vals, kind="stable")
    sets, vals = sets[order], vals[order]
    # then the Lagrangian bounds of every scenario (shared subsets bounded once)
    sets, vals = sets[vals < ub * (1 - tol)], vals[vals < ub * (1 - tol)]
    lagrange = LagrangianCache(data)
    sharp, ready = lagrangian_set_bounds(lagrange, sets, kind, r, q, ub, deadline)
    vals[:ready] = np.maximum(vals[:ready], sharp + f[sets[:ready]].sum(axis=1))
    order = np.argsort(vals, kind="stable")
    sets, vals = sets[order], vals[order]
    solved = 0
    complete = True
    bound = ub
    decoupled = DecoupledBound(data, kind, r, q, params, lagrange)
    use_mip = kind == "expected" or r == 1
    for t in range(sets.shape[0]):
        lower = float(vals[t])
        if lower >= ub * (1 - tol):
            break
        if deadline is not None and time.perf_counter() > deadline:
            complete, bound = False, min(bound, ub, lower)
            break
        hubs = [int(h) for h in sets[t]]
        opening = float(f[hubs].sum())
        lower = max(lower, sa_set_bound(data, sets[t], kind, r, q) + opening)
        if lower >= ub * (1 - tol):
            continue
        lower = max(lower, decoupled.bound(hubs, deadline, ub * (1 - tol) - opening) + opening)
        if lower >= ub * (1 - tol):
            continue
        cand, cval = sa_plan_for(data, hubs, kind, r, q)
        cval += opening
        if cval < ub:
            ub, own, plan, best_h = cval, cval, cand, tuple(hubs)
        if lower >= ub * (1 - tol):
            continue
        if not use_mip:
            complete, bound = False, min(bound, lower)
            continue
        remaining = None if deadline is None else max(0.05, deadline - time.perf_counter())
        res = solve_plan_mip(data, hubs, kind, q, params, time_limit=remaining, start=cand)
        solved += 1
        if res.plan is not None:
            v, _ = plan_value(data, hubs, res.plan, kind, r, q)
            v += opening
            if v < ub:
                ub, own, plan, best_h = v, v, res.plan, tuple(hubs)
            exact = res.proven_optimal and v <= res.objective + opening + 1e-7 * abs(v) + 1e-9
        else:
            exact = False
        if not exact:
            complete = False
            mip_bound = res.bound + opening if math.isfinite(res.bound) else lower
            bound = min(bound, max(lower, mip_bound))
    if complete:
        bound = ub
    return SearchOutcome(best_h, plan, own, min(bound, ub), complete,
                         "resilient-search+plan-mip", total, sets.shape[0], solved)


def nominal_bound(data: HubData, m: int, params: SolveParameters, time_limit: float | None,
                  keep_fixed: bool, method: str = "auto") -> tuple[float, tuple[int, ...]]:
    """The engine's lower bound on the nominal UMApHMP optimum with ``m`` hubs (kept-open
    hubs dropped unless ``keep_fixed``), and its hub set."""
    from hubopt.models.p_hub_median import UMApHMP

    sub = data if keep_fixed else dataclasses.replace(data, fixed_hubs=())
    sub = dataclasses.replace(sub, p=m)
    model = UMApHMP(sub)
    sol = model.solve(dataclasses.replace(params, time_limit=time_limit, method=method))
    return float(sol.bound), sol.hubs


def heuristic_search(
    data: HubData, kind: str, r: int, q: FloatArray, single: bool, params: SolveParameters,
    t0: float, deadline: float | None, feasible: Feasible | None = None,
    cover: Callable[[Sequence[int]], list[int] | None] | None = None,
) -> SearchOutcome:
    """Large instances: nominal start, swap descent, bound from nominal lower bounds.

    With a hub-set constraint (``feasible``; ``cover(prefer)`` builds a feasible set near
    ``prefer``) the descent starts from a feasible set and never leaves the feasible
    sets; the nominal bounds ignore the constraint, so they stay valid."""
    p = int(data.p or 0)
    limit = None if deadline is None else max(0.5, deadline - t0)

    def share(fraction: float) -> float | None:
        return None if limit is None else max(0.5, fraction * limit)

    def until(fraction: float) -> float | None:
        return None if limit is None else t0 + fraction * limit

    # the nominal optimum: a start and the bound LB_p (40 % of the time), the
    # descent on the resilient objective (until 55 %), the bound LB_m from the engine's
    # heuristic path (facility-location bounds) in 3/4 of the time left: its default path
    # overran a 16-s limit by 30 s at AP 100 p = 4 on a loaded machine (load 8)
    lb_p, hubs_p = nominal_bound(data, p, params, share(0.4), True)
    fallback = None
    if feasible is not None:
        found = None if cover is None else cover(hubs_p)
        if found is None:
            msg = ("n1_access: no hub set meeting the constraint was found by greedy "
                   "covering on this large instance; the exact search (at most "
                   "5 million hub sets) decides feasibility")
            raise InfeasibleModelError(msg)
        fallback = np.asarray(found, dtype=np.int64)
    H, v = ma_heuristic(data, kind, r, q, [hubs_p], until(0.55), feasible, fallback)
    m = p - 1 if kind == "expected" else p - r
    left = None if deadline is None else max(0.5, 0.75 * (deadline - time.perf_counter()))
    lb_m, _hubs_m = nominal_bound(data, m, params, left, False, "heuristic")
    if kind == "expected":
        fixed_q = float(sum(q[k] for k in data.fixed_hubs))
        free = sorted(q[k] for k in data.candidates if k not in set(data.fixed_hubs))
        q_min = fixed_q + float(sum(free[: p - len(data.fixed_hubs)]))
        bound = (1 - q_min) * lb_p + q_min * max(lb_p, lb_m)
    else:
        bound = max(lb_p, lb_m)
    if not single:
        return SearchOutcome(tuple(H), None, v, min(bound, v), False, "resilient-local-search")
    plan, ub = sa_plan_for(data, H, kind, r, q)
    best_h = tuple(H)
    p_hubs = list(hubs_p)
    p_ok = feasible is None or bool(feasible(np.asarray([p_hubs], dtype=np.int64))[0])
    if p_ok and sorted(p_hubs) != sorted(H):
        cand, cval = sa_plan_for(data, p_hubs, kind, r, q)
        if cval < ub:
            plan, ub, best_h = cand, cval, tuple(sorted(p_hubs))
    return SearchOutcome(best_h, plan, ub, min(bound, ub), False, "resilient-local-search")
