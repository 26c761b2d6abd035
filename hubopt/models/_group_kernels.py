"""numba kernels of :mod:`hubopt.models.group_lagrangian`.

Every parallel loop writes rows of its own, and every sum runs in index order, so the
results do not depend on the number of threads.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from hubopt.models.base import FloatArray, IntArray


@nb.njit(parallel=True, cache=True)
def triangle_slacks(C: FloatArray, sites: IntArray, rows: IntArray) -> tuple[float, float]:
    """The least ``e1, e2 >= 0`` with ``C[i, l] <= C[i, k] + C[k, l] + e1`` for every
    node ``i`` of ``rows`` and sites ``k, l``, and ``C[k, j] <= C[k, l] + C[l, j] + e2``
    for sites ``k, l`` and every node ``j`` (0 for shortest-path or Euclidean costs, up
    to rounding).  ``O(n m^2)``."""
    n = C.shape[0]
    m = sites.shape[0]
    first = np.zeros(rows.shape[0])
    for r in nb.prange(rows.shape[0]):
        i = rows[r]
        worst = 0.0
        for a in range(m):
            cik = C[i, sites[a]]
            k = sites[a]
            for b in range(m):
                v = C[i, sites[b]] - cik - C[k, sites[b]]
                worst = max(worst, v)
        first[r] = worst
    second = np.zeros(m)
    for a in nb.prange(m):
        k = sites[a]
        worst = 0.0
        for b in range(m):
            l = sites[b]
            ckl = C[k, l]
            for j in range(n):
                v = C[k, j] - ckl - C[l, j]
                worst = max(worst, v)
        second[a] = worst
    e1 = 0.0
    for v in first:
        e1 = max(e1, v)
    e2 = 0.0
    for v in second:
        e2 = max(e2, v)
    return e1, e2


@nb.njit(parallel=True, cache=True)
def price_routes(
    C: FloatArray,
    W: FloatArray,
    chi: float,
    alpha: float,
    delta: float,
    lam: FloatArray,
    mu: FloatArray,
    sites: IntArray,
    group: IntArray,
    rows: IntArray,
    near_out: IntArray,
    near_in: IntArray,
    prune_first: bool,
    prune_last: bool,
    e1: float,
    e2: float,
) -> tuple[float, FloatArray, FloatArray]:
    """The routes' part of the grouped Lagrangian bound and its subgradient counts.

    ``lam[i, g, a]`` prices origin ``i``'s flow to group ``g`` collected at site
    ``sites[a]``, ``mu[j, g, b]`` destination ``j``'s flow from group ``g`` delivered
    from site ``sites[b]``.  Each OD pair with flow takes its cheapest route ``(k, l)``
    under ``chi C_ik + lam + alpha C_kl + delta C_lj + mu``; returns the flow-weighted
    sum of those costs and, per ``(i, g, a)`` and ``(j, g, b)``, the flow routed
    through it.  ``near_out[i]`` lists the sites by ``C[i, site]``, ``near_in[j]`` by
    ``C[site, j]``: with ``chi >= alpha`` (``prune_first``) a first hub ``k`` costs at
    least ``alpha C_il + (chi - alpha) C_ik - alpha e1`` (triangle inequality, ``lam >=
    0``), so the scan over ``k`` stops where that reaches the best; likewise over the
    last hubs with ``delta >= alpha`` (``prune_last``).  The pruning changes no value.
    """
    n = C.shape[0]
    m = sites.shape[0]
    groups = lam.shape[1]
    first = np.empty((n, groups, m))
    via = np.empty((n, groups, m), np.int32)
    ca = chi - alpha
    for t in nb.prange(rows.shape[0] * groups):
        i = rows[t // groups]
        g = t % groups
        for b in range(m):
            l = sites[b]
            best = np.inf
            bk = 0
            base = alpha * C[i, l] - alpha * e1
            for q in range(m):
                a = near_out[i, q]
                k = sites[a]
                if prune_first and base + ca * C[i, k] >= best:
                    break
                v = chi * C[i, k] + lam[i, g, a] + alpha * C[k, l]
                if v < best:
                    best = v
                    bk = a
            first[i, g, b] = best
            via[i, g, b] = bk
    da = delta - alpha
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
            best = np.inf
            bl = 0
            base = alpha * C[i, j] - alpha * (e1 + e2)
            for q in range(m):
                b = near_in[j, q]
                if prune_last and base + da * C[sites[b], j] >= best:
                    break
                v = first[i, g, b] + delta * C[sites[b], j] + mu[j, gi, b]
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
