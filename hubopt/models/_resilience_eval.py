"""Costs of hub networks while hubs are down (plain numpy), for :mod:`hubopt.models.resilience`.

Multiple allocation re-routes every origin-destination pair through the hubs left:
``MA(H \\ F)``.  Single allocation follows a *plan*: row ``i`` of an ``(n, L)`` array
lists the hubs node ``i`` uses in order of preference (a hub lists itself first); while
the hubs ``F`` are down, node ``i`` uses the first hub of its row that is not in ``F``.

A *scenario* is a set ``F`` of failed hubs (the empty set is the nominal network).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence

import numpy as np

from hubopt.models.base import FloatArray, HubData, IntArray
from hubopt.models.evaluate import single_allocation_od_costs
from hubopt.models.heuristics import ma_costs

_BATCH = 4_000_000


def drop_patterns(p: int, r: int) -> IntArray:
    """Positions kept when ``r`` of ``p`` hubs fail, one row per failure set
    (``C(p, r)`` rows of ``p - r`` positions, in the order of
    :func:`itertools.combinations` of the failed positions)."""
    rows = []
    for failed in itertools.combinations(range(p), r):
        rows.append([t for t in range(p) if t not in failed])
    return np.asarray(rows, dtype=np.int64).reshape(len(rows), p - r)


def ma_scenario_costs(data: HubData, sets: IntArray, r: int) -> tuple[FloatArray, FloatArray]:
    """``(MA(H), MA(H \\ F) for every F of r hubs)`` for each row ``H`` of ``sets``.

    Returns the nominal costs ``(B,)`` and the failure costs ``(B, C(p, r))`` (columns in
    the order of :func:`drop_patterns`: column ``t`` drops the ``t``-th set of ``r`` positions
    in :func:`itertools.combinations` order).
    """
    sets = np.asarray(sets, dtype=np.int64)
    B, p = sets.shape
    keep = drop_patterns(p, r)
    S = keep.shape[0]
    nominal = ma_costs(data, sets)
    sub = sets[:, keep].reshape(B * S, p - r)
    failed = ma_costs(data, sub).reshape(B, S)
    return nominal, failed


def site_probabilities(q: float | Sequence[float] | FloatArray, n: int) -> FloatArray:
    """One failure probability per node from a scalar or a sequence."""
    arr = np.asarray(q, dtype=np.float64).reshape(-1)
    if arr.size == 1:
        arr = np.full(n, float(arr[0]))
    return arr


def expected_from_costs(
    sets: IntArray, q: FloatArray, nominal: FloatArray, failed: FloatArray
) -> FloatArray:
    """``(1 - sum_{k in H} q_k) cost(H) + sum_{k in H} q_k cost_k(H)`` per row (``r = 1``:
    column ``t`` of ``failed`` is the failure of ``sets[:, t]``)."""
    qs = q[sets]
    return np.asarray((1.0 - qs.sum(axis=1)) * nominal + (qs * failed).sum(axis=1))


def pm_drop_bounds(data: HubData, sets: IntArray, r: int) -> FloatArray:
    """``PM(H \\ F)`` for every failure set ``F`` (``(B, C(p, r))``): the weighted
    p-median bound of :func:`~hubopt.models.heuristics.pm_bounds`, a lower bound on
    ``MA(H \\ F)``, at ``O(n p)`` per scenario."""
    C = data.costs
    w = data.chi * data.origin_totals
    v = data.delta * data.destination_totals
    CT = np.ascontiguousarray(C.T)
    sets = np.asarray(sets, dtype=np.int64)
    B, p = sets.shape
    if r == 1 and p > 1:  # one hub down: compiled
        from hubopt.models._resilience_kernels import pm_drop_one

        return pm_drop_one(data, sets)
    keep = drop_patterns(p, r)
    out = np.empty((B, keep.shape[0]), dtype=np.float64)
    step = max(1, _BATCH // max(1, data.n * p))
    for s in range(0, B, step):
        H = sets[s : s + step]
        d_out = C[:, H]  # (n, b, p)
        d_in = CT[:, H]
        for t, cols in enumerate(keep):
            out[s : s + step, t] = w @ d_out[:, :, cols].min(axis=2) + v @ d_in[:, :, cols].min(
                axis=2
            )
    return out


# -- single allocation: plans ---------------------------------------------------------------


def scenario_hubs(plan: IntArray, failed: Sequence[int]) -> IntArray:
    """The hub of each node while the hubs ``failed`` are down: the first hub of its
    plan row not in ``failed`` (``-1`` when every hub of the row is down)."""
    plan = np.asarray(plan, dtype=np.int64)
    down = np.isin(plan, np.asarray(list(failed), dtype=np.int64))
    first = np.argmax(~down, axis=1)
    out = plan[np.arange(plan.shape[0]), first]
    out[down.all(axis=1)] = -1
    return out


def sa_cost(data: HubData, allocation: IntArray) -> float:
    """Single-allocation transport cost of ``allocation`` (node -> hub)."""
    return float(single_allocation_od_costs(data, allocation).sum())


def plan_scenarios(hubs: Sequence[int], kind: str, r: int) -> list[tuple[int, ...]]:
    """The failure sets that an objective looks at: the nominal network and each single
    hub (``"expected"``), or every set of ``r`` hubs (``"worst"``)."""
    H = sorted(int(h) for h in hubs)
    if kind == "expected":
        return [(), *((k,) for k in H)]
    return list(itertools.combinations(H, r))


def scenario_weights(hubs: Sequence[int], q: FloatArray) -> FloatArray:
    """Weights of :func:`plan_scenarios` for ``"expected"``: ``1 - sum q`` then each ``q_k``."""
    H = sorted(int(h) for h in hubs)
    qs = np.array([q[k] for k in H], dtype=np.float64)
    return np.concatenate([[1.0 - qs.sum()], qs])


def plan_options(hubs: Sequence[int], node: int, length: int) -> IntArray:
    """Every plan row of ``length`` distinct hubs for ``node`` (a hub lists itself first)."""
    H = sorted(int(h) for h in hubs)
    if node in H:
        rest = [h for h in H if h != node]
        rows = [(node, *t) for t in itertools.permutations(rest, length - 1)]
    else:
        rows = list(itertools.permutations(H, length))
    return np.asarray(rows, dtype=np.int64).reshape(len(rows), length)


def initial_plan(data: HubData, hubs: Sequence[int], allocation: IntArray, length: int) -> IntArray:
    """A plan from a nominal ``allocation``: the allocated hub, then the other hubs by
    their access-plus-egress cost from the node."""
    H = np.asarray(sorted(int(h) for h in hubs), dtype=np.int64)
    C = data.costs
    n = data.n
    plan = np.empty((n, length), dtype=np.int64)
    for i in range(n):
        first = int(allocation[i])
        rest = [int(h) for h in H[np.argsort(C[i, H] + C[H, i], kind="stable")] if h != first]
        plan[i] = [first, *rest[: length - 1]]
    return plan


def _value(kind: str, weights: FloatArray | None, costs: FloatArray) -> FloatArray:
    if kind == "expected" and weights is not None:
        return np.asarray(costs @ weights)
    return np.asarray(costs.max(axis=-1))


def improve_plan(
    data: HubData,
    hubs: Sequence[int],
    plan: IntArray,
    kind: str,
    r: int,
    q: FloatArray,
    *,
    max_passes: int = 50,
) -> tuple[IntArray, float]:
    """Descent on the plan, one node at a time: each node takes the plan row that lowers
    the resilient objective most with the other rows fixed, until no row changes.

    The change of a scenario's cost when node ``i`` moves from hub ``y`` to hub ``x`` is
    ``f(x) - f(y)`` with ``f(x) = chi O_i C_ix + delta D_i C_xi + alpha (sum_{j != i}
    W_ij C_{x h_j} + W_ji C_{h_j x} + W_ii C_xx)``, ``h_j`` the scenario's hub of ``j``.
    Returns the plan and its objective.
    """
    plan = np.array(plan, dtype=np.int64)
    H = np.asarray(sorted(int(h) for h in hubs), dtype=np.int64)
    pos = {int(h): t for t, h in enumerate(H)}
    scen = plan_scenarios(H.tolist(), kind, r)
    weights = scenario_weights(H.tolist(), q) if kind == "expected" else None
    hs = np.stack([scenario_hubs(plan, F) for F in scen])  # (S, n)
    costs = np.array([sa_cost(data, h) for h in hs])
    current = float(_value(kind, weights, costs))
    C, W = data.costs, data.flows
    O, D = data.origin_totals, data.destination_totals
    chi, alpha, delta = data.chi, data.alpha, data.delta
    CH = C[H]  # (p, n): C[x, .]
    CHt = C[:, H].T  # (p, n): C[., x]
    diag = C[H, H]
    options = {i: plan_options(H.tolist(), i, plan.shape[1]) for i in range(data.n)}
    down_masks = [np.isin(H, np.asarray(F, dtype=np.int64)) for F in scen]
    tol = 1e-12 * max(1.0, abs(current))
    for _ in range(max_passes):
        changed = False
        for i in range(data.n):
            opts = options[i]
            if opts.shape[0] <= 1:
                continue
            wr = W[i].copy()
            wr[i] = 0.0
            wc = W[:, i].copy()
            wc[i] = 0.0
            # f[s, t] for hub H[t] in scenario s
            f = (
                chi * O[i] * C[i, H][None, :]
                + delta * D[i] * C[H, i][None, :]
                + alpha * (CH[:, hs].transpose(1, 0, 2) @ wr + CHt[:, hs].transpose(1, 0, 2) @ wc)
                + alpha * W[i, i] * diag[None, :]
            )
            # the hub of each option in each scenario (index into H)
            opt_pos = np.vectorize(pos.__getitem__)(opts)  # (T, L)
            new_pos = np.empty((opts.shape[0], len(scen)), dtype=np.int64)
            for s, mask in enumerate(down_masks):
                down = mask[opt_pos]
                new_pos[:, s] = opt_pos[np.arange(opts.shape[0]), np.argmax(~down, axis=1)]
            old_pos = np.array([pos[int(h)] for h in hs[:, i]])
            sidx = np.arange(len(scen))
            trial = costs[None, :] + f[sidx[None, :], new_pos] - f[sidx, old_pos][None, :]
            vals = _value(kind, weights, trial)
            best = int(np.argmin(vals))
            if vals[best] < current - tol:
                plan[i] = opts[best]
                hs[:, i] = H[new_pos[best]]
                costs = trial[best]
                current = float(vals[best])
                changed = True
        if not changed:
            break
    # recompute from scratch (no drift from the increments)
    costs = np.array([sa_cost(data, scenario_hubs(plan, F)) for F in scen])
    return plan, float(_value(kind, weights, costs))


def polish_worst_plan(data: HubData, hubs: Sequence[int], plan: IntArray, r: int,
                      max_passes: int = 20, deadline: float | None = None) -> IntArray:
    """Lower the no-failure cost of a worst-case plan without raising its worst case.

    The worst-case objective ignores the network with every hub up, so an optimal plan may
    route a normal day badly.  One node at a time takes, among the rows that keep every
    attack's cost at most the current worst case, the one with the cheapest no-failure
    cost; the worst case is recomputed at the end, and the input plan is returned if it
    rose at all.
    """
    plan0 = np.array(plan, dtype=np.int64)
    H = sorted(int(h) for h in hubs)
    attacks = plan_scenarios(H, "worst", r)
    scen = [*attacks, ()]
    worst0 = max(sa_cost(data, scenario_hubs(plan0, F)) for F in attacks)
    plan = plan0.copy()
    hs = np.stack([scenario_hubs(plan, F) for F in scen])
    costs = np.array([sa_cost(data, h) for h in hs])
    n = data.n
    for _ in range(max_passes):
        changed = False
        for i in range(n):
            if deadline is not None and time.perf_counter() > deadline:
                break
            opts = plan_options(H, i, plan.shape[1])
            if opts.shape[0] <= 1:
                continue
            trial_costs = []
            for row in opts:
                cand = hs.copy()
                for s, F in enumerate(scen):
                    cand[s, i] = next(int(h) for h in row if int(h) not in F)
                trial_costs.append(cand)
            values = np.array([[sa_cost(data, c[s]) for s in range(len(scen))]
                               for c in trial_costs])
            ok = values[:, :-1].max(axis=1) <= worst0
            if not ok.any():
                continue
            nominal = np.where(ok, values[:, -1], np.inf)
            best = int(np.argmin(nominal))
            if nominal[best] < costs[-1] * (1 - 1e-12):
                plan[i] = opts[best]
                hs = trial_costs[best]
                costs = values[best]
                changed = True
        if not changed:
            break
    if max(sa_cost(data, scenario_hubs(plan, F)) for F in attacks) > worst0:
        return plan0
    return plan


def plan_value(data: HubData, hubs: Sequence[int], plan: IntArray, kind: str, r: int,
               q: FloatArray) -> tuple[float, FloatArray]:
    """The resilient objective of a plan and its scenario costs (order of
    :func:`plan_scenarios`)."""
    scen = plan_scenarios(hubs, kind, r)
    costs = np.array([sa_cost(data, scenario_hubs(plan, F)) for F in scen])
    weights = scenario_weights(hubs, q) if kind == "expected" else None
    return float(_value(kind, weights, costs)), costs
