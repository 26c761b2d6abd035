"""numba kernels of :mod:`hubopt.models.group_lagrangian`.

Every parallel loop writes rows of its own, and every sum runs in index order, so the
results do not depend on the number of threads.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from hubopt.models.base import FloatArray, IntArray


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

    For each origin and group the cheapest first hub of every last hub is a min-plus
    product over whole rows of ``between``; the first hubs go in the order of ``key_a =
    chi C_ia + lam - alpha C_ia``, and with ``prune`` the scan stops once ``key_a``
    reaches ``max_b (best_b - alpha C_ib) + alpha e1``: by the triangle inequality (up
    to ``e1``) no later first hub is cheaper for any last hub.  The pruning changes no
    value.
    """
    n = W.shape[0]
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
    last_cost = np.empty((n, groups, m))
    for j in nb.prange(n):
        for g in range(groups):
            for b in range(m):
                last_cost[j, g, b] = delta * from_site[b, j] + mu[j, g, b]
    value = np.zeros(rows.shape[0])
    used_out = np.zeros(lam.shape)
    last = np.full((n, n), -1, np.int32)
    for r in nb.prange(rows.shape[0]):
        i = rows[r]
        gi = group[i]
        total = 0.0
        for j in range(n):
            w = W[i, j]
            if w <= 0.0:
                continue
            g = group[j]
            head = first[i, g]
            tail = last_cost[j, gi]
            best = np.inf
            bl = 0
            for b in range(m):
                v = head[b] + tail[b]
                if v < best:
                    best = v
                    bl = b
            total += w * best
            last[i, j] = bl
            used_out[i, g, via[i, g, bl]] += w
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
