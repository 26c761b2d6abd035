"""Fast heuristics: good hub sets and allocations for upper bounds and warm starts.

* :func:`ma_costs` evaluates the multiple-allocation cost of many hub sets at once.
* :func:`improve_allocation` is a first-improvement reallocation descent for single
  allocation with a fixed hub set (capacities respected when given).
* :func:`local_search_hubs` is a swap-based descent over hub sets of a fixed size.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from hubopt.models._swap import ma_add_costs, ma_swap_costs
from hubopt.models.base import FloatArray, HubData, IntArray

_BATCH_ELEMENTS = 4_000_000  # bound on the temporary array size of a batch


def ma_costs(data: HubData, hub_sets: IntArray, *, weights: FloatArray | None = None) -> FloatArray:
    """Multiple-allocation transport cost of each row of ``hub_sets`` (shape ``(B, q)``).

    ``sum_ij W_ij min_{k, m in H} (chi C_ik + alpha C_km + delta C_mj)``, computed in
    batches with numpy; fixed costs are not included.
    """
    C = data.costs
    W = data.flows if weights is None else weights
    sets = np.asarray(hub_sets, dtype=np.int64)
    B, q = sets.shape
    n = data.n
    out = np.empty(B, dtype=np.float64)
    step = max(1, _BATCH_ELEMENTS // max(1, n * n * q))
    for s in range(0, B, step):
        H = sets[s : s + step]
        CiH = C[:, H].transpose(1, 0, 2)  # (b, n, q): C[i, k]
        CHH = C[H[:, :, None], H[:, None, :]]  # (b, q, q): C[k, m]
        A = (data.chi * CiH[:, :, :, None] + data.alpha * CHH[:, None, :, :]).min(axis=2)
        CHj = C[H]  # (b, q, n): C[m, j]
        u = A[:, :, 0, None] + data.delta * CHj[:, 0, None, :]
        for t in range(1, q):
            np.minimum(u, A[:, :, t, None] + data.delta * CHj[:, t, None, :], out=u)
        out[s : s + step] = np.einsum("bij,ij->b", u, W)
    return out


def pm_bounds(data: HubData, hub_sets: IntArray) -> FloatArray:
    """A lower bound on :func:`ma_costs` for each hub set (valid for any cost matrix).

    Every path from ``i`` to ``j`` costs at least ``chi d(i, H) + delta d(j, H)``, where
    ``d(i, H)`` is the distance from ``i`` to its nearest hub, so the cost is at least a
    weighted p-median objective, which is cheap: ``O(n q)`` per hub set.
    """
    C = data.costs
    w = data.chi * data.origin_totals
    v = data.delta * data.destination_totals
    sets = np.asarray(hub_sets, dtype=np.int64)
    B, q = sets.shape
    n = data.n
    out = np.empty(B, dtype=np.float64)
    step = max(1, _BATCH_ELEMENTS // max(1, n * q))
    CT = np.ascontiguousarray(C.T)
    for s in range(0, B, step):
        H = sets[s : s + step]
        d_out = C[:, H].min(axis=2)  # (n, b): min_k C[i, k]
        d_in = CT[:, H].min(axis=2)  # (n, b): min_m C[m, j]
        out[s : s + step] = w @ d_out + v @ d_in
    return out


def _single_cost_parts(data: HubData) -> tuple[FloatArray, FloatArray]:
    O = data.origin_totals
    D = data.destination_totals
    access = data.chi * O[:, None] * data.costs + data.delta * D[:, None] * data.costs.T
    return access, O


def improve_allocation(
    data: HubData,
    hubs: Sequence[int],
    allocation: IntArray | None = None,
    *,
    capacities: FloatArray | None = None,
    max_passes: int = 50,
) -> IntArray:
    """Reallocate non-hub nodes one at a time while the total cost falls.

    Starts from ``allocation`` or, without it, from the nearest hub (by collection plus
    distribution cost).  With ``capacities`` a move is taken only if the hub has room;
    the start must then already be feasible.
    """
    H = np.asarray(sorted(hubs), dtype=np.int64)
    C = data.costs
    W = data.flows
    n = data.n
    access, O = _single_cost_parts(data)  # access[i, k]: collection + distribution via k
    if allocation is None:
        a = H[access[:, H].argmin(axis=1)]
    else:
        a = np.asarray(allocation, dtype=np.int64).copy()
    a[H] = H
    load = np.bincount(a, weights=O, minlength=n) if capacities is not None else None
    is_hub = np.zeros(n, dtype=bool)
    is_hub[H] = True
    alpha = data.alpha
    for _ in range(max_passes):
        improved = False
        for i in range(n):
            if is_hub[i]:
                continue
            # transfer cost of i's flows (out and in) if i used hub k, for every k in H
            w_out = W[i].copy()
            w_in = W[:, i].copy()
            w_out[i] = 0.0
            w_in[i] = 0.0
            to_hub = np.bincount(a, weights=w_out, minlength=n)[H]  # flow i -> hub-group
            from_hub = np.bincount(a, weights=w_in, minlength=n)[H]
            trans = alpha * (C[np.ix_(H, H)] @ to_hub + C[np.ix_(H, H)].T @ from_hub)
            total = access[i, H] + trans  # W_ii: collection+distribution via k, no transfer
            cur = int(np.searchsorted(H, a[i]))
            order = np.argsort(total, kind="stable")
            for best in order:
                if total[best] >= total[cur] - 1e-12 * max(1.0, abs(total[cur])):
                    break
                k = int(H[best])
                if load is not None and capacities is not None:
                    if load[k] + O[i] > capacities[k] * (1 + 1e-12):
                        continue
                    load[a[i]] -= O[i]
                    load[k] += O[i]
                a[i] = k
                improved = True
                break
        if not improved:
            break
    return a


def greedy_hubs(
    data: HubData, p: int, *, cost: Callable[[IntArray], FloatArray] | None = None
) -> list[int]:
    """Add hubs one at a time, each time the one that lowers the cost most.

    Without ``cost``: the multiple-allocation cost plus the fixed costs of ``data``, all
    additions at once with the compiled :func:`~hubopt.models._swap.ma_add_costs`.
    """
    hubs = list(data.fixed_hubs)
    cands = [k for k in data.candidates if k not in set(hubs)]
    f = data.fixed_costs
    while len(hubs) < p:
        if cost is None:
            ins = np.array(cands, dtype=np.int64)
            vals = ma_add_costs(data, np.array(hubs, dtype=np.int64), ins)
            if f is not None:
                vals = vals + f[ins]
        else:
            vals = cost(np.array([[*hubs, c] for c in cands], dtype=np.int64))
        best = int(np.argmin(vals))
        hubs.append(cands.pop(best))
    return sorted(hubs)


def local_search_hubs(
    data: HubData,
    hubs: Sequence[int],
    *,
    cost: Callable[[IntArray], FloatArray] | None = None,
    max_iterations: int = 1000,
    near: int | None = None,
    deadline: float | None = None,
) -> tuple[list[int], float]:
    """Best-improvement swap descent (one hub out, one candidate in) on a hub-set cost.

    Without ``cost`` (the multiple-allocation cost plus the fixed costs of ``data``)
    every iteration scans the full swap neighbourhood with the compiled
    :func:`~hubopt.models._swap.ma_swap_costs`.
    With a ``cost`` and ``near``, each hub is first swapped only with its ``near``
    closest non-hub candidates (a neighbourhood of ``p * near`` sets instead of
    ``p * n``); the full neighbourhood is scanned only when that finds nothing.  Either
    way the result is a local optimum of the full swap neighbourhood unless
    ``deadline`` (a ``time.perf_counter()`` value) stops it first.
    """
    f = data.fixed_costs if data.fixed_costs is not None else np.zeros(data.n)
    evaluate = cost or (lambda sets: ma_costs(data, sets) + f[sets].sum(axis=1))
    H = sorted(hubs)
    fixed = set(data.fixed_hubs)
    current = float(evaluate(np.array([H], dtype=np.int64))[0])
    C = data.costs
    restricted = near is not None and cost is not None
    for _ in range(max_iterations):
        if deadline is not None and time.perf_counter() > deadline:
            break
        outs = [h for h in H if h not in fixed]
        in_H = set(H)
        ins = np.array([c for c in data.candidates if c not in in_H], dtype=np.int64)
        if not outs or ins.size == 0:
            break
        if cost is None:
            table = ma_swap_costs(data, np.array(H, dtype=np.int64), np.array(outs), ins)
            table += f[H].sum() - f[outs][:, None] + f[ins][None, :]
            a, b = np.unravel_index(int(np.argmin(table)), table.shape)
            if table[a, b] >= current - 1e-12 * max(1.0, abs(current)):
                break
            H = sorted([*(h for h in H if h != outs[a]), int(ins[b])])
            current = float(table[a, b])
            continue
        if restricted and near is not None and near < ins.size:
            moves: list[tuple[int, int]] = []
            for o in outs:
                closest = ins[np.argsort(C[o, ins] + C[ins, o], kind="stable")[:near]]
                moves.extend((o, int(c)) for c in closest)
        else:
            moves = [(o, int(c)) for o in outs for c in ins]
        sets = np.array([sorted([*(h for h in H if h != o), c]) for o, c in moves], dtype=np.int64)
        vals = evaluate(sets)
        best = int(np.argmin(vals))
        if vals[best] >= current - 1e-12 * max(1.0, abs(current)):
            if restricted:
                restricted = False  # confirm with the full neighbourhood
                continue
            break
        H = sets[best].tolist()
        current = float(vals[best])
        restricted = near is not None
    return H, current


def sa_lower_bounds(data: HubData, hub_sets: IntArray) -> FloatArray:
    """Lower bounds on the single-allocation cost of each hub set, at least ``MA(H)``.

    Single allocation sends all of node ``i``'s outgoing flow through one hub; relaxing
    only the destinations' side gives ``sum_i min_k [chi O_i C_ik + sum_j W_ij g(k, j)]``
    with ``g(k, j) = min_{m in H} alpha C_km + delta C_mj``; the symmetric relaxation
    keeps the destinations' side.  The larger of the two is returned.
    """
    C = data.costs
    W = data.flows
    O = data.origin_totals
    D = data.destination_totals
    sets = np.asarray(hub_sets, dtype=np.int64)
    out = np.empty(sets.shape[0], dtype=np.float64)
    for b, H in enumerate(sets):
        CHH = C[np.ix_(H, H)]
        g = (data.alpha * CHH[:, :, None] + data.delta * C[H][None, :, :]).min(axis=1)
        lb_out = (data.chi * O[:, None] * C[:, H] + W @ g.T).min(axis=1).sum()
        f = (data.chi * C[:, H][:, :, None] + data.alpha * CHH[None, :, :]).min(axis=1)
        lb_in = (data.delta * D[:, None] * C[H].T + W.T @ f).min(axis=1).sum()
        out[b] = max(lb_out, lb_in)
    return out


def sa_lagrangian_bounds(
    data: HubData,
    hub_sets: IntArray,
    *,
    target: float,
    iterations: int = 150,
    decay: float = 0.97,
) -> tuple[FloatArray, IntArray]:
    """Lagrangian lower bounds on the best single allocation to each hub set (rows).

    Relax single allocation on the destinations' side: each OD pair ``(i, j)`` picks
    its last hub ``m_ij`` freely, and the coupling ``sum_i W_ij [m_ij = m] = D_j [a_j = m]``
    is priced with multipliers ``mu_jm``.  For any ``mu`` ::

        L(mu) = sum_i min_k [chi O_i C_ik - D_i mu_ik
                             + sum_j W_ij min_m (alpha C_km + delta C_mj + mu_jm)]

    is a lower bound (hubs are allocated to themselves in both roles).  Subgradient steps
    (Polyak, towards ``target``) run for all sets at once and stop for a set once its
    bound reaches ``target``.  Returns the best bounds ``(B,)`` and the origin-side
    allocations ``(B, n)`` of the last step (feasible single allocations).
    """
    sets = np.sort(np.asarray(hub_sets, dtype=np.int64), axis=1)
    C = data.costs
    W = data.flows
    O = data.origin_totals
    D = data.destination_totals
    n = data.n
    B, q = sets.shape
    big = 1e300
    bidx = np.arange(B)[:, None]
    allowed = np.ones((B, n, q), dtype=bool)
    allowed[bidx, sets, :] = False
    allowed[bidx, sets, np.arange(q)[None, :]] = True
    access = data.chi * O[None, :, None] * C[:, sets].transpose(1, 0, 2)  # (B, i, k)
    CHH = C[sets[:, :, None], sets[:, None, :]]  # (B, k, m)
    CHj = C[sets].transpose(0, 2, 1)  # (B, j, m)
    base = data.alpha * CHH[:, :, None, :] + data.delta * CHj[:, None, :, :]  # (B, k, j, m)
    base = np.where(allowed[:, None, :, :], base, big)
    mu = np.zeros((B, n, q))
    best = np.full(B, -np.inf)
    active = np.ones(B, dtype=bool)
    kstar = np.zeros((B, n), dtype=np.int64)
    for it in range(iterations):
        G = base + mu[:, None, :, :]
        mstar = G.argmin(axis=3)  # (B, k, j)
        gmin = np.take_along_axis(G, mstar[..., None], axis=3)[..., 0]  # (B, k, j)
        val = access - D[None, :, None] * mu + np.einsum("ij,bkj->bik", W, gmin)
        val = np.where(allowed, val, big)
        kstar = val.argmin(axis=2)  # (B, i)
        bound = np.take_along_axis(val, kstar[..., None], axis=2)[..., 0].sum(axis=1)
        best = np.maximum(best, bound)
        active &= best < target
        if not active.any():
            break
        M = np.take_along_axis(mstar, kstar[:, :, None], axis=1)  # (B, i, j): m of pair i->j
        g = np.empty((B, n, q))
        for t in range(q):
            g[:, :, t] = np.einsum("bij,ij->bj", t == M, W)
        g[bidx, np.arange(n)[None, :], kstar] -= D[None, :]
        norm = (g * g).sum(axis=(1, 2))
        step = np.where(norm > 0, (target * 1.001 - bound) / np.maximum(norm, 1e-300), 0.0)
        step = np.where(active, step * decay**it, 0.0)
        mu += step[:, None, None] * g
    return best, np.take_along_axis(sets, kstar, axis=1)


def vns_hubs(
    data: HubData,
    hubs: Sequence[int],
    *,
    deadline: float,
    seed: int = 0,
    near: int = 10,
    cost: Callable[[IntArray], FloatArray] | None = None,
    k_max: int = 3,
    max_stale: int = 30,
) -> tuple[list[int], float]:
    """Variable neighbourhood search over hub sets of a fixed size, until ``deadline``.

    Shaking replaces ``k`` random hubs (``k = 1 .. k_max``) by random close non-hubs,
    then :func:`local_search_hubs` (the whole swap neighbourhood; with a ``cost``, first
    the ``near`` closest swaps, confirmed on the whole one) descends; an improvement
    restarts at ``k = 1``.  It stops at ``deadline`` or after ``max_stale`` shakes in a
    row without improvement.
    Deterministic for a given ``seed`` as long as the deadline is not what stops it.
    """
    rng = np.random.default_rng(seed)
    best, best_val = local_search_hubs(data, hubs, cost=cost, near=near, deadline=deadline)
    fixed = set(data.fixed_hubs)
    C = data.costs
    k = 1
    stale = 0
    while time.perf_counter() < deadline and stale < max_stale:
        free = [h for h in best if h not in fixed]
        outside = np.array([c for c in data.candidates if c not in set(best)], dtype=np.int64)
        if not free or outside.size == 0:
            break
        H = list(best)
        for o in rng.choice(free, size=min(k, len(free)), replace=False):
            pool = outside[~np.isin(outside, H)]
            closest = pool[np.argsort(C[o, pool] + C[pool, o], kind="stable")[: 2 * near]]
            H[H.index(int(o))] = int(rng.choice(closest))
        H2, val = local_search_hubs(data, H, cost=cost, near=near, deadline=deadline)
        if val < best_val - 1e-12 * max(1.0, abs(best_val)):
            best, best_val, k, stale = sorted(H2), val, 1, 0
        else:
            k = k + 1 if k < k_max else 1
            stale += 1
    return sorted(best), best_val
