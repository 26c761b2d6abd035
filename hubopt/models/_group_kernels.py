"""numba kernels of :mod:`hubopt.models.group_lagrangian`.

Every parallel loop writes rows of its own, and every sum runs in index order, so the
results do not depend on the number of threads.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from hubopt.models.base import FloatArray, IntArray

_BLOCK = 32  # origins per block of the OD pairs' scan


@nb.njit(parallel=True, cache=True)
def triangle_slack(C: FloatArray, sites: IntArray, rows: IntArray) -> float:
    """The least ``e >= 0`` with ``C[i, l] <= C[i, k] + C[k, l] + e`` for every node ``i``
    of ``rows`` and sites ``k, l`` (0 for shortest-path or Euclidean costs, up to
    rounding).  ``O(n m^2)``."""
    m = sites.shape[0]
    worst_of = np.zeros(rows.shape[0])
    for r in nb.prange(rows.shape[0]):
        i = rows[r]
        worst = 0.0
        for a in range(m):
            k = sites[a]
            cik = C[i, k]
            for b in range(m):
                worst = max(worst, C[i, sites[b]] - cik - C[k, sites[b]])
        worst_of[r] = worst
    e = 0.0
    for v in worst_of:
        e = max(e, v)
    return e


@nb.njit(parallel=True, cache=True)
def cheapest_first_hubs(
    to_site: FloatArray,
    between: FloatArray,
    chi: float,
    alpha: float,
    lam: FloatArray,
    rows: IntArray,
    prune: bool,
    e1: float,
) -> tuple[FloatArray, np.ndarray]:
    """``first[i, g, b] = min_a chi to_site[i, a] + lam[i, g, a] + alpha between[a, b]``
    for every node ``i`` of ``rows`` (other rows are left undefined), with its argmin
    ``via[i, g, b]`` (the first on ties).

    A min-plus product over whole rows of ``between``: the first hubs go in the order of
    ``key_a = chi to_site[i, a] + lam - alpha to_site[i, a]``, and with ``prune`` the
    scan stops once ``key_a`` reaches ``max_b (first_b - alpha to_site[i, b]) + alpha
    e1``: by the triangle inequality ``to_site[i, b] <= to_site[i, a] + between[a, b] +
    e1`` no later first hub is cheaper for any ``b``.  The pruning changes no value.
    """
    n = to_site.shape[0]
    m = between.shape[0]
    groups = lam.shape[1]
    first = np.empty((n, groups, m))
    via = np.zeros((n, groups, m), np.int32)
    for t in nb.prange(rows.shape[0] * groups):
        i = rows[t // groups]
        g = t % groups
        best = first[i, g]
        arg = via[i, g]
        best[:] = np.inf
        reach = to_site[i]
        key = chi * reach + lam[i, g] - alpha * reach
        order = np.argsort(key, kind="mergesort")
        limit = np.inf
        for q in range(m):
            a = order[q]
            if prune and q % 8 == 0 and q > 0:
                limit = -np.inf
                for b in range(m):
                    limit = max(limit, best[b] - alpha * reach[b])
                limit += alpha * e1
            if prune and key[a] >= limit:
                break
            base = chi * reach[a] + lam[i, g, a]
            row = between[a]
            for b in range(m):
                v = base + alpha * row[b]
                if v < best[b]:
                    best[b] = v
                    arg[b] = a
    return first, via


@nb.njit(parallel=True, cache=True)
def cheapest_first_costs(
    to_site: FloatArray,
    between: FloatArray,
    chi: float,
    alpha: float,
    lam: FloatArray,
    rows: IntArray,
    prune: bool,
    e1: float,
    order: np.ndarray,
) -> FloatArray:
    """The values ``first[i, g, b]`` of :func:`cheapest_first_hubs` without their argmins
    (:func:`first_hubs_at` gives those where they are needed), for the steps of a
    subgradient method, as ``first[g, i, b]`` (one matrix per group; rows not in
    ``rows`` are 0).

    ``order[i, g]`` (int32, the shape of ``lam``) keeps each row's first hubs in the
    order of their keys from one call to the next; a row whose first entry is negative
    is sorted afresh.  The keys move little between two steps, so an insertion sort
    from the last order (ties by site) replaces the full sort, and the minimum over the
    first hubs runs without a branch (it vectorises); on random Euclidean 500 with 8
    groups this is a third of :func:`cheapest_first_hubs`' time.  The values are those
    of :func:`cheapest_first_hubs`, to the last bit.
    """
    n = to_site.shape[0]
    m = between.shape[0]
    groups = lam.shape[1]
    first = np.empty((groups, n, m))
    other = np.ones(n, np.bool_)
    other[rows] = False
    for i in nb.prange(n):
        if other[i]:
            first[:, i, :] = 0.0
    for t in nb.prange(rows.shape[0] * groups):
        i = rows[t // groups]
        g = t % groups
        best = first[g, i]
        best[:] = np.inf
        reach = to_site[i]
        key = chi * reach + lam[i, g] - alpha * reach
        seq = order[i, g]
        if m and seq[0] < 0:
            seq[:] = np.argsort(key, kind="mergesort")
        else:
            for q in range(1, m):
                a = seq[q]
                ka = key[a]
                r = q
                while r > 0:
                    b = seq[r - 1]
                    if key[b] > ka or (key[b] == ka and b > a):
                        seq[r] = b
                        r -= 1
                    else:
                        break
                seq[r] = a
        for q in range(m):
            a = seq[q]
            if prune and q % 8 == 0 and q > 0:
                limit = -np.inf
                for b in range(m):
                    limit = max(limit, best[b] - alpha * reach[b])
                if key[a] >= limit + alpha * e1:
                    break
            base = chi * reach[a] + lam[i, g, a]
            row = between[a]
            for b in range(m):
                best[b] = min(best[b], base + alpha * row[b])
    return first


@nb.njit(parallel=True, cache=True)
def first_hubs_at(
    to_site: FloatArray,
    between: FloatArray,
    chi: float,
    alpha: float,
    lam: FloatArray,
    rows: IntArray,
    prune: bool,
    e1: float,
    order: np.ndarray,
    cols: IntArray,
) -> np.ndarray:
    """``via[i, g, c]``: the first hub of :func:`cheapest_first_costs`' minimum for the
    last hub ``cols[c]``, the first in the order of the keys (ties by site), for every
    node ``i`` of ``rows`` (other rows are left at 0).

    ``order`` holds the keys' order of every row, as :func:`cheapest_first_costs` leaves
    it for the same ``lam``; with ``prune`` each scan stops as that one does, where no
    later first hub can be cheaper."""
    n = to_site.shape[0]
    groups = lam.shape[1]
    via = np.zeros((n, groups, cols.shape[0]), np.int32)
    for t in nb.prange(rows.shape[0] * groups):
        i = rows[t // groups]
        g = t % groups
        reach = to_site[i]
        seq = order[i, g]
        base = chi * reach + lam[i, g]  # once per row, not per column
        key = base - alpha * reach
        for c in range(cols.shape[0]):
            b = cols[c]
            best = np.inf
            arg = 0
            for a in seq:
                if prune and key[a] >= best - alpha * reach[b] + alpha * e1:
                    break
                v = base[a] + alpha * between[a, b]
                if v < best:
                    best = v
                    arg = a
            via[i, g, c] = arg
    return via


@nb.njit(parallel=True, cache=True)
def routed_minus_allocated(
    sent: FloatArray,
    via: np.ndarray,
    x: np.ndarray,
    in_w: FloatArray,
    scale: FloatArray,
    last: FloatArray,
) -> tuple[FloatArray, float, float]:
    """``s[j, g, l] = sum_c [via[j, g, c] = l] sent[g, c, j] - in_w[j, g] x[j, l]``: the
    flow from group ``g`` to ``j`` routed through the last hub ``l`` (``sent[g, c, j]``
    from the origins allocated to the ``c``-th open site, whose last hub is ``via``)
    minus the flow ``j`` receives from ``g`` times its allocation ``x[j, l]``.  Also
    :func:`weighted_dot` ``(s, s, scale)`` and ``(s, last, scale)`` (0 where ``last``
    is empty), from the same pass."""
    n, m = x.shape
    groups = in_w.shape[1]
    s = np.empty((n, groups, m))
    with_last = last.size > 0
    own = np.zeros(n)
    cross = np.zeros(n)
    for j in nb.prange(n):
        acc_own = 0.0
        acc_cross = 0.0
        for g in range(groups):
            row = s[j, g]
            w = in_w[j, g]
            for k in range(m):
                row[k] = -w if x[j, k] else 0.0
            for c in range(via.shape[2]):
                row[via[j, g, c]] += sent[g, c, j]
            part = 0.0
            for k in range(m):
                part += row[k] * row[k]
            acc_own += part * scale[j, g]
            if with_last:
                part = 0.0
                before = last[j, g]
                for k in range(m):
                    part += row[k] * before[k]
                acc_cross += part * scale[j, g]
        own[j] = acc_own
        cross[j] = acc_cross
    total_own = 0.0
    total_cross = 0.0
    for j in range(n):
        total_own += own[j]
        total_cross += cross[j]
    return s, total_own, total_cross


@nb.njit(parallel=True, cache=True)
def deflect_and_move(
    mu: FloatArray, s: FloatArray, last: FloatArray, beta: float, t: float, scale: FloatArray
) -> None:
    """In place: the direction ``s += beta last`` (where ``beta`` is not 0), then ``mu +=
    t scale[j, g] s``."""
    n, groups, m = mu.shape
    for j in nb.prange(n):
        for g in range(groups):
            f = t * scale[j, g]
            row = s[j, g]
            if beta != 0.0:
                before = last[j, g]
                for k in range(m):
                    row[k] += beta * before[k]
            target = mu[j, g]
            for k in range(m):
                target[k] += f * row[k]


@nb.njit(parallel=True, cache=True)
def weighted_dot(a: FloatArray, b: FloatArray, w: FloatArray) -> float:
    """``sum_igk a[i, g, k] b[i, g, k] w[i, g]`` (the nodes' parts added in node
    order)."""
    n, groups, m = a.shape
    part = np.zeros(n)
    for i in nb.prange(n):
        acc = 0.0
        for g in range(groups):
            row = 0.0
            for k in range(m):
                row += a[i, g, k] * b[i, g, k]
            acc += row * w[i, g]
        part[i] = acc
    total = 0.0
    for v in part:
        total += v
    return total


@nb.njit(parallel=True, cache=True)
def price_routes(
    to_site: FloatArray,
    between: FloatArray,
    from_site: FloatArray,
    W: FloatArray,
    chi: float,
    alpha: float,
    delta: float,
    lam: FloatArray,
    mu: FloatArray,
    group: IntArray,
    rows: IntArray,
    prune: bool,
    e1: float,
) -> tuple[float, FloatArray, FloatArray]:
    """The routes' part of the grouped Lagrangian bound and its subgradient counts.

    ``to_site = C[:, sites]``, ``between = C[sites][:, sites]``, ``from_site =
    C[sites, :]``.  ``lam[i, g, a]`` prices origin ``i``'s flow to group ``g`` collected
    at site ``a``, ``mu[j, g, b]`` destination ``j``'s flow from group ``g`` delivered
    from site ``b``.  Each OD pair with flow takes its cheapest route ``(a, b)`` under
    ``chi C_ia + lam + alpha C_ab + delta C_bj + mu``; returns the flow-weighted sum of
    those costs and, per ``(i, g, a)`` and ``(j, g, b)``, the flow routed through it.

    For each origin and group the cheapest first hub of every last hub
    (:func:`cheapest_first_hubs`), then each OD pair's best last hub
    (:func:`_cheapest_last_hubs`); the sums run per origin in destination order.
    """
    n = W.shape[0]
    m = between.shape[0]
    groups = lam.shape[1]
    first, via = cheapest_first_hubs(to_site, between, chi, alpha, lam, rows, prune, e1)
    last_cost = np.empty((n, groups, m))
    for j in nb.prange(n):
        for g in range(groups):
            for b in range(m):
                last_cost[j, g, b] = delta * from_site[b, j] + mu[j, g, b]
    pair_cost, last = _cheapest_last_hubs(first, last_cost, W, group, rows)
    value = np.zeros(rows.shape[0])
    used_out = np.zeros(lam.shape)
    for r in nb.prange(rows.shape[0]):
        i = rows[r]
        total = 0.0
        for j in range(n):
            w = W[i, j]
            if w <= 0.0:
                continue
            g = group[j]
            total += w * pair_cost[i, j]
            used_out[i, g, via[i, g, last[i, j]]] += w
        value[r] = total
    used_in = np.zeros(mu.shape)
    for j in nb.prange(n):
        for i in range(n):
            b = last[i, j]
            if b >= 0:
                used_in[j, group[i], b] += W[i, j]
    total = 0.0
    for v in value:
        total += v
    return total, used_out, used_in


@nb.njit(parallel=True, cache=True)
def hub_scores(lam: FloatArray, mu: FloatArray, out_w: FloatArray, in_w: FloatArray) -> FloatArray:
    """``-sum_ig out_w[i, g] lam[i, g, k] - sum_jg in_w[j, g] mu[j, g, k]`` per site ``k``
    (the nodes' parts in parallel, added in node order)."""
    n, groups, m = lam.shape
    part = np.zeros((n, m))
    for i in nb.prange(n):
        row = part[i]
        for g in range(groups):
            wo = out_w[i, g]
            wi = in_w[i, g]
            for k in range(m):
                row[k] -= wo * lam[i, g, k] + wi * mu[i, g, k]
    score = np.zeros(m)
    for i in range(n):
        score += part[i]
    return score


@nb.njit(parallel=True, cache=True)
def subgradient(
    lam: FloatArray,
    used: FloatArray,
    flows: FloatArray,
    y: FloatArray,
    scale: FloatArray,
) -> float:
    """Turn the routed flows ``used[i, g, k]`` into the subgradient ``used - flows[i, g]
    y_k`` in place (0 where it would push a zero multiplier below 0) and return its norm
    ``sum s^2 scale[i, g]`` (the nodes' parts added in node order)."""
    n, groups, m = lam.shape
    part = np.zeros(n)
    for i in nb.prange(n):
        acc = 0.0
        for g in range(groups):
            w = flows[i, g]
            sc = scale[i, g]
            for k in range(m):
                s = used[i, g, k] - w * y[k]
                if s < 0.0 and lam[i, g, k] <= 0.0:
                    s = 0.0
                used[i, g, k] = s
                acc += s * s * sc
        part[i] = acc
    total = 0.0
    for v in part:
        total += v
    return total


@nb.njit(parallel=True, cache=True)
def move(lam: FloatArray, s: FloatArray, scale: FloatArray, t: float) -> None:
    """``lam = max(0, lam + t scale[i, g] s)`` in place."""
    n, groups, m = lam.shape
    for i in nb.prange(n):
        for g in range(groups):
            f = t * scale[i, g]
            for k in range(m):
                lam[i, g, k] = max(0.0, lam[i, g, k] + f * s[i, g, k])


@nb.njit(parallel=True, cache=True)
def _cheapest_last_hubs(
    first: FloatArray, last_cost: FloatArray, W: FloatArray, group: IntArray, rows: IntArray
) -> tuple[FloatArray, np.ndarray]:
    """Each OD pair's cheapest route cost ``min_b first[i, g(j), b] + last_cost[j, g(i),
    b]`` and its last hub ``b`` (the lowest on ties; -1 where no flow).

    Origins of one group go in blocks of up to ``_BLOCK`` against the destinations of
    one group, two origins at a time, so that a destination's last legs are read once
    per block rather than once per origin (at n = 1,000 they fill 64 MB)."""
    n = W.shape[0]
    groups = first.shape[1]
    m = first.shape[2]
    by_group = np.argsort(group, kind="mergesort")
    starts = np.zeros(groups + 1, np.int64)
    for j in range(n):
        starts[group[j] + 1] += 1
    for g in range(groups):
        starts[g + 1] += starts[g]
    origins = rows[np.argsort(group[rows], kind="mergesort")]
    cut = [0]
    for r in range(1, origins.shape[0] + 1):
        if (r == origins.shape[0] or group[origins[r]] != group[origins[r - 1]]
                or r - cut[-1] == _BLOCK):
            cut.append(r)
    pair_cost = np.zeros((n, n))
    last = np.full((n, n), -1, np.int32)
    for blk in nb.prange(len(cut) - 1):
        gi = group[origins[cut[blk]]]
        for g in range(groups):
            for q in range(starts[g], starts[g + 1]):
                j = by_group[q]
                tail = last_cost[j, gi]
                r = cut[blk]
                while r < cut[blk + 1]:
                    i = origins[r]
                    if W[i, j] <= 0.0:
                        r += 1
                        continue
                    # the next origin with flow to j, scanned together with i (i
                    # itself when there is none)
                    r2 = r + 1
                    while r2 < cut[blk + 1] and W[origins[r2], j] <= 0.0:
                        r2 += 1
                    i2 = origins[r2] if r2 < cut[blk + 1] else i
                    head = first[i, g]
                    head2 = first[i2, g]
                    best = best2 = np.inf
                    bl = bl2 = 0
                    for b in range(m):
                        t = tail[b]
                        v = head[b] + t
                        v2 = head2[b] + t
                        if v < best:
                            best = v
                            bl = b
                        if v2 < best2:
                            best2 = v2
                            bl2 = b
                    pair_cost[i, j] = best
                    last[i, j] = bl
                    pair_cost[i2, j] = best2
                    last[i2, j] = bl2
                    r = r2 + 1
    return pair_cost, last
