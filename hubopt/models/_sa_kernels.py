"""The compiled kernels of the path formulation's Lagrangian relaxation
(:mod:`hubopt.models.sa_lagrangian`): route pricing over the sites, the allocation prices,
the step's direction and the move of the multipliers (``numba``; the sums run in index
order, so the result does not depend on the number of threads).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import numpy.typing as npt

from hubopt.models.base import FloatArray, IntArray

# the step's direction: single precision halves the memory it takes and moves per step;
# the multipliers, and so every bound, stay in double precision
DirectionArray = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]

_BUCKETS = 32  # last hubs per OD pair are bucketed by cost into this many bins


@nb.njit(cache=True)
def _bucket_last_hubs(
    b: FloatArray,
    cap: float,
    bmin: float,
    start: IntArray,
    key: IntArray,
    order: IntArray,
    edge: FloatArray,
) -> int:
    """The last hubs ``t`` with ``b[t] < cap`` into ``order``, by buckets of ``b``.

    A counting sort into ``_BUCKETS`` bins of equal width from ``bmin`` to ``cap``:
    ``edge[q]`` is the lower edge of the bin of position ``q`` (non-decreasing in
    ``q``, and ``b[order[q']] >= edge[q]`` for every ``q' >= q``).  Returns how many.
    """
    m = b.shape[0]
    width = (cap - bmin) / _BUCKETS
    for g in range(_BUCKETS + 1):
        start[g] = 0
    count = 0
    if not width > 0.0:
        return 0
    for t in range(m):
        if b[t] < cap:
            g = min(int((b[t] - bmin) / width), _BUCKETS - 1)
            key[t] = g
            start[g + 1] += 1
            count += 1
        else:
            key[t] = -1
    for g in range(_BUCKETS):
        start[g + 1] += start[g]
    for t in range(m):
        g = key[t]
        if g >= 0:
            q = start[g]
            order[q] = t
            edge[q] = bmin + g * width
            start[g] = q + 1
    return count


@nb.njit(cache=True)
def _triangle_slack(between: FloatArray) -> float:
    """The least ``e >= 0`` with ``between[r, t] <= between[r, s] + between[s, t] + e``
    for all ``r, s, t`` (0 for a metric such as shortest-path or Euclidean costs, up to
    rounding; ``O(m^3)``, milliseconds at m = 200)."""
    m = between.shape[0]
    worst = 0.0
    for r in range(m):
        for s in range(m):
            brs = between[r, s]
            for t in range(m):
                worst = max(worst, between[r, t] - brs - between[s, t])
    return worst


@nb.njit(cache=True)
def _in_order_sum(values: FloatArray) -> float:
    """``values.sum()`` in index order.  (Inside a ``parallel=True`` kernel numba splits
    ``.sum()`` among its threads, so the rounding, and after a few hundred subgradient
    steps the bound, would depend on the number of threads.)"""
    total = 0.0
    for x in values:
        total += x
    return total


@nb.njit(cache=True)
def _by_last_hub(near: FloatArray, slack: float) -> bool:
    """Whether the route pricing orders the last hubs by their own cost ``b`` (bound
    ``a[s] + wa near[s] + b[t]``) rather than by the cost ``e`` of reaching them from
    the cheapest first hub (the triangle bound, which loses ``wa slack``): when the
    costs between the sites break the triangle inequality by more than the mean
    distance to the nearest other site.  Shortest-path and Euclidean costs (AP, CAB,
    TR) keep the triangle bound; a case whose rail or sea trunks undercut the roads
    between its sites gets the other (random case-like instances: ``slack`` is about
    ten times that mean, and the triangle bound prunes nothing)."""
    m = near.shape[0]
    if m < 2:
        return False
    total = 0.0
    for s in range(m):
        total += near[s]
    return slack > total / m


@nb.njit(parallel=True, cache=True)
def _routes(
    to_site: FloatArray,
    from_site: FloatArray,
    between: FloatArray,
    out_start: IntArray,
    dest: IntArray,
    flow: FloatArray,
    chi: float,
    alpha: float,
    delta: float,
    u: FloatArray,
    v: FloatArray,
    kpos: IntArray,
    lpos: IntArray,
    slack: float,
    barrier: FloatArray,
) -> float:
    """Cheapest route of every OD pair with flow under the multipliers; their total.

    ``to_site[i, s] = C[i, site s]``, ``from_site[j, s] = C[site s, j]`` and
    ``between[s, t] = C[site s, site t]`` (contiguous copies, so the loops vectorise).
    The pairs with flow are those of :class:`~hubopt.models._sa_pairs.Pairs`
    (``out_start``, ``dest``, ``flow``); ``u`` and ``v`` hold one row per pair.
    ``kpos[q]`` / ``lpos[q]`` get the positions of pair ``q``'s first and last hub.
    A route ``s -> t`` costs ``a[s] + wa between[s, t] +
    b[t]`` plus ``barrier[i, s] + barrier[j, t]``: 0 where the allocation is left open,
    ``inf`` where it is fixed out (:func:`_allocation_rise`; every node with flow keeps
    one; an addition, so the loop still vectorises).  On entry
    ``kpos``/``lpos`` hold the last iteration's routes: with the
    cheapest first hub's best route, the cheaper of the two is a tight first ``best``
    (any route's cost is above the cheapest, so stale positions after a reduction do no
    harm).  Costs, flows and alpha are non-negative, so with ``near[s]`` the nearest
    other site, first hub ``s`` costs at least ``a[s] + min(wa between[s, s] + b[s],
    wa near[s] + min b)``; only the first hubs below ``best`` are priced.  The
    triangle inequality (``slack``: :func:`_triangle_slack` of ``between``) gives
    ``between[s, t] >= between[s0, t] - between[s0, s] - slack``, with ``s0`` the
    cheapest first hub, so route ``s -> t`` costs at least ``a[s] - wa (between[s0, s] +
    slack) + e[t]``, with ``e[t] = wa between[s0, t] + b[t]`` the cost of reaching
    ``t`` from ``s0`` (computed for ``s0``'s own best route).  A first hub for which
    this is at least ``best`` with the cheapest ``e`` is skipped; the last hubs are
    bucketed by ``e`` (:func:`_bucket_last_hubs`; only those with ``e[t] < best -
    min_s(a[s] - wa (between[s0, s] + slack))``), and each first hub scans them in that
    order until the bucket's lower edge shows that no further one can beat ``best``.
    Timed on stored multipliers of AP 200 (p = 10 after 400 iterations, p = 5 after
    150), alone: the earlier pricing (the 16 cheapest last hubs exactly, a full scan
    where they did not settle it) took 0.205-0.216 / 0.285-0.290 s per call, buckets
    by ``b`` alone (the bound ``a[s] + wa near[s] + b[t]``) 0.113-0.116 / 0.152-0.159 s
    (64 buckets the same, 16 0.121 / 0.162 s, an exact insertion sort 0.139 / 0.189 s),
    with the triangle test on the first hubs too 0.070-0.075 / 0.098-0.100 s.  Buckets
    by ``e`` (session 17) scan 368 last hubs per OD pair instead of 1,072 at p = 5;
    one thread beside another solve: 0.100 / 0.135 s against 0.133 / 0.215 s.  The
    first hubs that pass both tests are listed in one pass and only they are scanned
    (about 20 of 200 at p = 5), and ``lowest`` is taken over them alone: one thread,
    alone, 0.086 / 0.110-0.113 s against 0.096 / 0.117-0.120 s.  The totals and the
    routes are the same bit for bit on both states; ties between equal routes may
    be broken differently.  Costs between the sites far from the triangle inequality
    (:func:`_by_last_hub`) order the last hubs by ``b`` alone, with the bound ``a[s] +
    wa near[s] + b[t]`` (``t != s``; ``t = s`` is priced first): random case-like 575
    points and 248 sites, all point pairs with flow, one step took 11.6 s with the
    triangle bound at a load of 9.
    """
    n = out_start.size - 1
    m = between.shape[0]
    near = np.full(m, math.inf)
    for s in range(m):
        for t in range(m):
            if t != s and between[s, t] < near[s]:
                near[s] = between[s, t]
    by_last = _by_last_hub(near, slack)
    totals = np.zeros(n)
    for i in nb.prange(n):
        a = np.empty(m)
        b = np.empty(m)
        e = np.empty(m)
        cand = np.empty(m, dtype=np.int64)
        order = np.empty(m, dtype=np.int64)
        edge = np.empty(m)
        key = np.empty(m, dtype=np.int64)
        start = np.empty(_BUCKETS + 1, dtype=np.int64)
        total = 0.0
        for pq in range(out_start[i], out_start[i + 1]):
            j = dest[pq]
            w = flow[pq]
            wc = w * chi
            wd = w * delta
            wa = w * alpha
            bmin = math.inf
            s0 = 0
            for s in range(m):
                a[s] = wc * to_site[i, s] - u[pq, s] + barrier[i, s]
                b[s] = wd * from_site[j, s] - v[pq, s] + barrier[j, s]
                bmin = min(bmin, b[s])
                if a[s] < a[s0]:
                    s0 = s
            # a tight first best: the cheapest first hub's best route, or last
            # iteration's route if cheaper
            row = between[s0]
            best = math.inf
            bk = s0
            bl = 0
            for t in range(m):
                c = wa * row[t] + b[t]
                e[t] = c
                if c < best:
                    best = c
                    bl = t
            k0 = best  # min_t e[t]
            best += a[s0]
            pk = kpos[pq]
            pl = lpos[pq]
            if 0 <= pk < m and 0 <= pl < m:
                c = a[pk] + wa * between[pk, pl] + b[pl]
                if c < best:
                    best = c
                    bk = pk
                    bl = pl
            # the first hubs left to price (both tests below), and the last hubs that
            # any of them could use
            lowest = math.inf
            ncand = 0
            for s in range(m):
                if s == s0:
                    continue
                if a[s] + min(wa * between[s, s] + b[s], wa * near[s] + bmin) >= best:
                    continue
                x = a[s] - wa * (between[s0, s] + slack)
                if x + k0 >= best:
                    continue
                cand[ncand] = s
                ncand += 1
                if by_last:
                    x = a[s] + wa * near[s]
                lowest = min(lowest, x)
            if by_last:  # (the last hubs by b alone: e is no longer needed)
                for t in range(m):
                    e[t] = b[t]
                count = _bucket_last_hubs(e, best - lowest, bmin, start, key, order, edge)
            else:
                count = _bucket_last_hubs(e, best - lowest, k0, start, key, order, edge)
            for r in range(ncand):
                s = cand[r]
                ak = a[s]
                base = ak - wa * (between[s0, s] + slack)
                if (
                    ak + min(wa * between[s, s] + b[s], wa * near[s] + bmin) >= best
                    or base + k0 >= best
                ):
                    continue  # (best fell since the list was made)
                if by_last:
                    base = ak + wa * near[s]
                row = between[s]
                c = ak + wa * row[s] + b[s]
                if c < best:
                    best = c
                    bk = s
                    bl = s
                for q in range(count):
                    if base + edge[q] >= best:
                        break
                    t = order[q]
                    c = ak + wa * row[t] + b[t]
                    if c < best:
                        best = c
                        bk = s
                        bl = t
            kpos[pq] = bk
            lpos[pq] = bl
            total += best
        totals[i] = total
    return _in_order_sum(totals)


@nb.njit(parallel=True, cache=True)
def _allocation_prices(
    u: FloatArray,
    v: FloatArray,
    orig: IntArray,
    dest: IntArray,
    out_start: IntArray,
    into: IntArray,
    in_start: IntArray,
) -> FloatArray:
    """``G[i, s] = sum_j u[ij, s] + sum_j v[ji, s]`` over the pairs with flow (rows of
    :class:`~hubopt.models._sa_pairs.Pairs`), added in the order of ``j`` (``u``
    before ``v`` for the same ``j``): the order of the dense arrays this replaced."""
    n = out_start.size - 1
    m = u.shape[1]
    G = np.zeros((n, m))
    for i in nb.prange(n):
        a = out_start[i]
        a_end = out_start[i + 1]
        b = in_start[i]
        b_end = in_start[i + 1]
        while a < a_end or b < b_end:
            if b >= b_end or (a < a_end and dest[a] <= orig[into[b]]):
                for s in range(m):
                    G[i, s] += u[a, s]
                a += 1
            else:
                q = into[b]
                for s in range(m):
                    G[i, s] += v[q, s]
                b += 1
    return G


@nb.njit(parallel=True, cache=True)
def _direction(
    du: DirectionArray,
    dv: DirectionArray,
    z: FloatArray,
    out_start: IntArray,
    dest: IntArray,
    kpos: IntArray,
    lpos: IntArray,
    weight: float,
    scale: FloatArray,
    u: FloatArray,
    v: FloatArray,
    cap: float,
) -> float:
    """Blend the subgradient into the direction: ``d = weight g + (1 - weight) d``.

    ``g`` for ``u_ijk`` is ``z_ik - [the route leaves from k]``, for ``v_ijl``
    ``z_jl - [the route arrives through l]``; a component that would push a multiplier
    already at its cap ``cap`` (0 for multiple allocation, else ``inf``) further up is
    0 (the projected subgradient).  Returns the direction's squared length in the
    metric ``scale`` (pair ``q``'s terms count ``scale[q]`` times; rows as in
    :func:`_routes`).
    """
    n = out_start.size - 1
    m = du.shape[1]
    sums = np.zeros(n)
    keep = 1.0 - weight
    capped = cap < math.inf  # (single allocation reads no multipliers here)
    for i in nb.prange(n):
        acc = 0.0
        for q in range(out_start[i], out_start[i + 1]):
            j = dest[q]
            ks = kpos[q]
            ls = lpos[q]
            part = 0.0
            for s in range(m):
                gu = z[i, s] - (1.0 if s == ks else 0.0)
                gv = z[j, s] - (1.0 if s == ls else 0.0)
                if capped and gu > 0.0 and u[q, s] >= cap:
                    gu = 0.0
                if capped and gv > 0.0 and v[q, s] >= cap:
                    gv = 0.0
                x = weight * gu + keep * du[q, s]
                y = weight * gv + keep * dv[q, s]
                du[q, s] = x
                dv[q, s] = y
                part += x * x + y * y
            acc += scale[q] * part
        sums[i] = acc
    return _in_order_sum(sums)


@nb.njit(parallel=True, cache=True)
def _move(
    u: FloatArray,
    v: FloatArray,
    du: DirectionArray,
    dv: DirectionArray,
    step: float,
    limit: float,
    cap: float,
    scale: FloatArray,
) -> None:
    """``u += step scale du``, ``v += step scale dv`` (``scale`` per OD pair with
    flow: one row each), each
    kept within ``[-limit, min(limit, cap)]`` (``cap``: 0 for multiple allocation).

    Any multipliers give a valid bound, so the clipping costs nothing in validity; it
    keeps the terms of ``L`` from growing until their sum loses its precision (a
    single-site node with oscillating steps reached 6e18 and a "bound" above the
    optimum).
    """
    rows = u.shape[0]
    m = u.shape[1]
    top = min(limit, cap)
    for q in nb.prange(rows):
        h = step * scale[q]
        for s in range(m):
            a = u[q, s] + h * du[q, s]
            b = v[q, s] + h * dv[q, s]
            u[q, s] = min(max(a, -limit), top)
            v[q, s] = min(max(b, -limit), top)
