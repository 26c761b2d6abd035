"""Lagrangian bound of the single-allocation path formulation (and of its
multiple-allocation form), with site reduction and branch and bound over the sites.

Multiple allocation on the same hubs is never dearer, so the multiple-allocation optimum
bounds the single-allocation problems, but at AP 200 it lies about 2 % below them: no
multiple-allocation method can prove a single-allocation optimum there.  This module
bounds single allocation itself.

The path formulation (Skorin-Kapov, Skorin-Kapov & O'Kelly 1996) routes each OD pair
``(i, j)`` on one hub pair ``(k, l)`` (``x_ijkl``, summing to 1) and ties the route to
the allocations ``z``::

    sum_l x_ijkl = z_ik   (A: i leaves from its own hub)
    sum_k x_ijkl = z_jl   (B: j is reached through its own hub)
    z_ik <= z_kk,  sum_k z_kk = p  (or fixed costs f_k z_kk)

Its LP relaxation is known to be very tight on the standard data (on AP 25, p = 5 it is
integral).  Relaxing (A) and (B) with multipliers ``u_ijk`` and ``v_ijl`` leaves

* for each OD pair, the cheapest route under ``C_ijkl - u_ijk - v_ijl`` (``O(m^2)`` over
  the ``m`` open-able sites), and
* for the allocations, ``G_ik = sum_j u_ijk + sum_j v_jik``: a hub ``k`` is worth
  ``rho_k = f_k + G_kk + sum_{i != k} min(0, G_ik)``, and the ``p`` smallest open
  (fixed hubs always; without ``p`` every negative one, at least one).

Every multiplier vector gives a valid bound ``L(u, v)``; subgradient steps (Polyak,
towards the incumbent) raise it.  The same multipliers give reduction tests: opening a
site ``k`` that the subproblem leaves shut costs at least ``rho_k`` minus the dearest
chosen ``rho``, so when that exceeds ``upper - L`` no solution cheaper than the
incumbent uses ``k``; such sites leave the relaxation, which makes every later
iteration cheaper (the work is ``O(n^2 m^2)`` per iteration).  The mirror test fixes
sites open: keeping a chosen site ``k`` shut costs at least the cheapest site left out
minus ``rho_k`` (without ``p``: ``-rho_k``), so when that exceeds ``upper - L`` every
cheaper solution opens ``k``; once ``p`` sites are fixed, the others leave.  The same
test fixes single allocations out: serving node ``i`` from site ``s`` costs at least
what opening ``s`` costs plus ``max(0, G_is)``; the routes of ``i``'s pairs then leave
and arrive only through the sites left to ``i``, and a node left with one site makes
it a hub.

The subproblem lets a node be allocated to several open hubs or to none.  Putting
"each node is served once" back gives a p-median (or facility-location) LP over the
prices ``G``, and its duals say how to move multipliers from the routes into ``G`` so
that the bound rises to the routes plus that LP (:func:`_allocation_shift`).  The
subgradient finds this direction only slowly: USApHMP AP 200 p = 5 (600 s, alone), with
the shift every 100 steps the root reached 139,796.15 in 355 s, against 139,647.80 in
367 s without it.

With ``multiple_allocation`` the same relaxation bounds UMApHMP and UMAHLP: each OD
pair may use any open hubs, so (A) and (B) become ``sum_l x_ijkl <= y_k`` and ``sum_k
x_ijkl <= y_l`` (the transportation form that :mod:`hubopt.models.benders` separates; the
Lagrangian dual is its LP bound).  The multipliers of these inequalities stay ``<= 0``
(route costs only rise), every node "allocates" to every open hub, and a hub is worth
``rho_k = f_k + sum_i G_ik``; the subgradient is projected onto the multipliers' bound.
The route pricing, the reduction test and the branch and bound are the same.

With ``capacitated`` (CSAHLP) an open hub's allocations form a knapsack over its
capacity, bounded by the knapsack's LP relaxation (:func:`_capacitated_hub_values`);
otherwise capacities are ignored (still a valid bound).  ``numba`` compiles the kernels.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numba as nb
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import linprog

from hubopt.models.base import FloatArray, HubData, IntArray
from hubopt.models.bounds import lagrangian_hubs

__all__ = ["SingleAllocationBound", "single_allocation_lagrangian"]

_log = logging.getLogger(__name__)

# the step's direction: single precision halves the memory it takes and moves per step;
# the multipliers, and so every bound, stay in double precision
DirectionArray = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class SingleAllocationBound:
    """What :func:`single_allocation_lagrangian` found.

    ``bound`` is a valid lower bound on the single-allocation optimum (within the
    capacities only with ``capacitated``), or ``upper`` itself when the relaxation
    proves that nothing is cheaper; ``sites`` are the candidate sites the root did not
    rule out (every solution cheaper than ``upper`` opens hubs only there).  ``hubs``
    and ``allocation`` are set when a solution cheaper than ``upper`` was found: at the
    root, one whose routes and allocations agreed (the subgradient vanished; it is then
    optimal and ``bound`` is its cost), or one found by the branch and bound, which
    explored ``nodes`` nodes.  ``opened`` are the sites among ``sites`` that the root
    proved open in every solution cheaper than ``upper`` (with the fixed hubs).
    ``allocations[i]`` are the sites that the root left node ``i`` to be served from
    (every solution cheaper than ``upper`` allocates ``i`` to one of them; empty unless
    the root fixes allocations, ``root_allocation_fixing``).
    """

    bound: float
    sites: tuple[int, ...]
    iterations: int
    seconds: float
    hubs: tuple[int, ...] | None = None
    allocation: IntArray | None = None
    nodes: int = 0
    opened: tuple[int, ...] = ()
    allocations: tuple[tuple[int, ...], ...] = ()


_BUCKETS = 32  # last hubs per OD pair are bucketed by cost into this many bins
# a branch-and-bound node whose bound rose by less than this share of its remaining gap
# over the last ``stall_window`` steps is branched (see :func:`_descend`).  USApHMP AP 100
# p = 5 with 60 s, alone, 200 steps: proven in 42.9 s with 0.2 (22 nodes), 53.4 s with
# 0.05, 55.1 s without the rule (run 75: nodes took up to 3,000 steps, creeping towards
# the incumbent that they hold and so can never exceed)
_STALL_SHARE = 0.2
# with ``branch``, the root hands over to the tree when its bound rose by less than this
# share of what it still lacks over the last ``root_stall_window`` steps.  USApHMP AP 200
# p = 5 with 600 s (run 87): the root rose by 4.3 on a gap of 271 over its steps 2,515 to
# 3,015 (233 s), and by 4.8 more in the 122 s until its step had shrunk away
_ROOT_STALL_SHARE = 0.05


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


@nb.njit(parallel=True, cache=True)
def _routes(
    to_site: FloatArray,
    from_site: FloatArray,
    between: FloatArray,
    W: FloatArray,
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
    """Cheapest route of every OD pair under the multipliers; their total.

    ``to_site[i, s] = C[i, site s]``, ``from_site[j, s] = C[site s, j]`` and
    ``between[s, t] = C[site s, site t]`` (contiguous copies, so the loops vectorise).
    ``kpos[i, j]`` / ``lpos[i, j]`` get the positions of the route's first and last hub,
    or -1 for pairs without flow.  A route ``s -> t`` costs ``a[s] + wa between[s, t] +
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
    be broken differently.
    """
    n = W.shape[0]
    m = between.shape[0]
    near = np.full(m, math.inf)
    for s in range(m):
        for t in range(m):
            if t != s and between[s, t] < near[s]:
                near[s] = between[s, t]
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
        for j in range(n):
            w = W[i, j]
            if w <= 0.0:
                kpos[i, j] = -1
                lpos[i, j] = -1
                continue
            wc = w * chi
            wd = w * delta
            wa = w * alpha
            bmin = math.inf
            s0 = 0
            for s in range(m):
                a[s] = wc * to_site[i, s] - u[i, j, s] + barrier[i, s]
                b[s] = wd * from_site[j, s] - v[i, j, s] + barrier[j, s]
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
            pk = kpos[i, j]
            pl = lpos[i, j]
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
                lowest = min(lowest, x)
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
            kpos[i, j] = bk
            lpos[i, j] = bl
            total += best
        totals[i] = total
    return _in_order_sum(totals)


@nb.njit(parallel=True, cache=True)
def _allocation_prices(u: FloatArray, v: FloatArray, kpos: IntArray) -> FloatArray:
    """``G[i, s] = sum_j u[i, j, s] + sum_j v[j, i, s]`` over the pairs with flow."""
    n = u.shape[0]
    m = u.shape[2]
    G = np.zeros((n, m))
    for i in nb.prange(n):
        for j in range(n):
            if kpos[i, j] >= 0:
                for s in range(m):
                    G[i, s] += u[i, j, s]
            if kpos[j, i] >= 0:
                for s in range(m):
                    G[i, s] += v[j, i, s]
    return G


@nb.njit(parallel=True, cache=True)
def _direction(
    du: DirectionArray,
    dv: DirectionArray,
    z: FloatArray,
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
    metric ``scale`` (pair ``(i, j)``'s terms count ``scale[i, j]`` times).
    """
    n = du.shape[0]
    m = du.shape[2]
    sums = np.zeros(n)
    keep = 1.0 - weight
    capped = cap < math.inf  # (single allocation reads no multipliers here)
    for i in nb.prange(n):
        acc = 0.0
        for j in range(n):
            ks = kpos[i, j]
            if ks < 0:
                continue
            ls = lpos[i, j]
            part = 0.0
            for s in range(m):
                gu = z[i, s] - (1.0 if s == ks else 0.0)
                gv = z[j, s] - (1.0 if s == ls else 0.0)
                if capped and gu > 0.0 and u[i, j, s] >= cap:
                    gu = 0.0
                if capped and gv > 0.0 and v[i, j, s] >= cap:
                    gv = 0.0
                x = weight * gu + keep * du[i, j, s]
                y = weight * gv + keep * dv[i, j, s]
                du[i, j, s] = x
                dv[i, j, s] = y
                part += x * x + y * y
            acc += scale[i, j] * part
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
    """``u += step scale du``, ``v += step scale dv`` (``scale`` per OD pair), each
    kept within ``[-limit, min(limit, cap)]`` (``cap``: 0 for multiple allocation).

    Any multipliers give a valid bound, so the clipping costs nothing in validity; it
    keeps the terms of ``L`` from growing until their sum loses its precision (a
    single-site node with oscillating steps reached 6e18 and a "bound" above the
    optimum).
    """
    n = u.shape[0]
    m = u.shape[2]
    top = min(limit, cap)
    for i in nb.prange(n):
        for j in range(n):
            h = step * scale[i, j]
            for s in range(m):
                a = u[i, j, s] + h * du[i, j, s]
                b = v[i, j, s] + h * dv[i, j, s]
                u[i, j, s] = min(max(a, -limit), top)
                v[i, j, s] = min(max(b, -limit), top)


def _pair_scale(W: FloatArray, power: float) -> FloatArray:
    """Per OD pair, ``(W_ij / mean W)^power`` over the pairs with flow (1 elsewhere)."""
    scale = np.ones_like(W)
    live = W > 0
    if power != 0.0 and live.any():
        scale[live] = (W[live] / float(W[live].mean())) ** power
    return np.ascontiguousarray(scale)


def _hub_values(
    G: FloatArray, sites: IntArray, fixed: FloatArray, allow: BoolArray | None = None
) -> FloatArray:
    """``rho_k = f_k + G_kk + sum_{i != k} min(0, G_ik)`` for every site (the sum over
    the allocations ``allow`` leaves open)."""
    cols = np.arange(sites.size)
    neg = np.minimum(G, 0.0)
    if allow is not None:
        neg = np.where(allow, neg, 0.0)
    return fixed + G[sites, cols] + neg.sum(axis=0) - neg[sites, cols]


def _allocation_shift(
    G: FloatArray,
    sites: IntArray,
    fixed: FloatArray,
    forced: np.ndarray,
    allow: BoolArray,
    served: BoolArray,
    p: int | None,
) -> tuple[float, FloatArray] | None:
    """The allocation subproblem with "each node is served once" put back, as an LP.

    The subproblem that :func:`_hub_values` solves lets a node be allocated to several
    open hubs, or to none.  Its LP with ``sum_s z_is = 1`` for every served node ``i``
    (a p-median, or without ``p`` a facility location, over the prices ``G``; a site's
    own node is allocated to it) is worth at least as much.  Its duals ``w`` say by how
    much: moving ``w_i`` from the routes of ``i``'s OD pairs into ``G_i.``
    (:func:`_shift_multipliers`) leaves the routes' choices as they are, lowers their
    total by ``sum w`` and raises the subproblem to ``LP + sum w``, so the bound
    becomes ``routes + LP`` (Lagrangian duality: the LP's constraints other than
    ``sum_s z_is = 1`` are the relaxed subproblem's, whose LP is integral).
    Returns the LP's value and ``w`` (zero for the nodes without flow), or None when
    HiGHS does not solve it.
    """
    n, m = G.shape
    rows = np.flatnonzero(served)
    r = rows.size
    nz = r * m
    ones = np.ones(nz)
    var = np.arange(nz)
    own = np.full(n, -1, dtype=np.int64)
    own[rows] = np.arange(r)
    k_own = np.flatnonzero(own[sites] >= 0)  # the sites whose own node is served
    cnt = k_own.size
    pairs = np.arange(cnt)
    # the row sum_s y_s
    opened = sp.csr_matrix(
        (np.ones(m), (np.zeros(m, dtype=np.int64), nz + np.arange(m))), shape=(1, nz + m)
    )
    # sum_s z_is = 1 for the served nodes, z_(site s),s = y_s, and sum_s y_s = p
    eq = [
        sp.csr_matrix((ones, (var // m, var)), shape=(r, nz + m)),
        sp.csr_matrix(
            (
                np.concatenate([np.ones(cnt), -np.ones(cnt)]),
                (
                    np.concatenate([pairs, pairs]),
                    np.concatenate([own[sites[k_own]] * m + k_own, nz + k_own]),
                ),
            ),
            shape=(cnt, nz + m),
        ),
    ]
    b_eq = [np.ones(r), np.zeros(cnt)]
    # z_is <= y_s, and without p at least one site opens
    ub = [
        sp.csr_matrix(
            (
                np.concatenate([ones, -ones]),
                (np.concatenate([var, var]), np.concatenate([var, nz + var % m])),
            ),
            shape=(nz, nz + m),
        )
    ]
    b_ub = [np.zeros(nz)]
    if p is not None:
        eq.append(opened)
        b_eq.append(np.array([float(p)]))
    else:
        ub.append(-opened)
        b_ub.append(np.array([-1.0]))
    upper = np.concatenate([allow[rows].ravel().astype(float), np.ones(m)])
    lower = np.concatenate([np.zeros(nz), forced.astype(float)])
    cost = np.concatenate([G[rows].ravel(), fixed])
    res = linprog(
        cost,
        A_ub=sp.vstack(ub).tocsr(),
        b_ub=np.concatenate(b_ub),
        A_eq=sp.vstack(eq).tocsr(),
        b_eq=np.concatenate(b_eq),
        bounds=np.column_stack([lower, upper]),
        method="highs",
    )
    if res.status != 0:
        return None
    w = np.zeros(n)
    w[rows] = -np.asarray(res.eqlin.marginals[:r])
    return float(res.fun), w


def _shift_multipliers(u: FloatArray, v: FloatArray, W: FloatArray, w: FloatArray) -> None:
    """Move ``w_i`` into ``G_i.`` (see :func:`_allocation_shift`): node ``i``'s share
    goes to the multipliers of its OD pairs in proportion to their flow, ``u_ij.`` for
    the flow it sends, ``v_ji.`` for the flow it receives."""
    total = W.sum(axis=1) + W.sum(axis=0)
    per = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
    u += (per[:, None] * W)[:, :, None]
    v += (W * per[None, :])[:, :, None]


def _capacitated_hub_values(
    G: FloatArray, sites: IntArray, fixed: FloatArray, supply: FloatArray, capacity: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Hub values under capacities, and the allocations they stand for.

    An open hub ``k`` serves itself (``O_k`` of its capacity ``Gamma_k``) and any other
    nodes within the rest: ``rho_k = f_k + G_kk + min sum_i G_ik z_ik`` subject to
    ``sum_i O_i z_ik <= Gamma_k - O_k``, a knapsack per hub.  Its LP relaxation (the
    nodes by ``G_ik / O_i``, the last one fractional) is a valid bound on it, so ``rho``
    stays a valid hub value; a hub that cannot serve itself gets ``inf``.  Returns
    ``rho`` and ``z`` (column ``s``: site ``s``'s allocation when open).
    """
    n, m = G.shape
    rho = np.empty(m)
    z = np.zeros((n, m))
    for s in range(m):
        k = int(sites[s])
        room = capacity[k] - supply[k]
        if room < -1e-9 * max(1.0, capacity[k]):
            rho[s] = math.inf
            continue
        col = G[:, s]
        take = np.flatnonzero(col < 0)
        take = take[take != k]
        free = take[supply[take] <= 0]  # nodes without flow cost no capacity
        value = float(col[free].sum())
        z[free, s] = 1.0
        rest = take[supply[take] > 0]
        order = rest[np.argsort(col[rest] / supply[rest], kind="stable")]
        used = np.cumsum(supply[order])
        whole = order[used <= room]
        z[whole, s] = 1.0
        value += float(col[whole].sum())
        if whole.size < order.size:  # the first node that does not fit, in part
            i = int(order[whole.size])
            share = (room - (used[whole.size - 1] if whole.size else 0.0)) / supply[i]
            z[i, s] = max(0.0, min(1.0, share))
            value += z[i, s] * float(col[i])
        z[k, s] = 1.0
        rho[s] = fixed[s] + G[k, s] + value
    return rho, z


def _start(
    C: FloatArray,
    W: FloatArray,
    sites: IntArray,
    access: tuple[float, float],
    fixed: FloatArray,
    forced: np.ndarray,
    p: int | None,
    iterations: int = 300,
) -> tuple[FloatArray, FloatArray]:
    """Multipliers that make ``L`` a single-allocation facility-location bound.

    With ``u_ijk = W_ij (a C_ik - s_i)`` and ``v_ijl = W_ij (b C_lj - s_j)`` the
    allocation prices become ``G_ik = a O_i C_ik + b D_i C_ki - mu_i`` (``mu_i = (O_i +
    D_i) s_i``): the p-median Lagrangian with node ``i``'s whole flow at one hub.  A few
    hundred cheap subgradient steps on ``mu`` (``O(n m)`` each) choose it; the route
    terms then start from the inter-hub costs alone.
    """
    a, b = access
    O = W.sum(axis=1)
    D = W.sum(axis=0)
    T = O + D
    m = sites.size
    A = (a * O)[:, None] * C[:, sites] + (b * D)[:, None] * C[sites, :].T
    live = T > 0
    k0 = min(m - 1, p if p is not None else 1)
    mu = np.where(live, np.partition(A, k0, axis=1)[:, k0], 0.0)
    own = np.zeros_like(A, dtype=bool)
    own[sites, np.arange(m)] = True
    best, best_mu, theta, stale = -math.inf, mu, 1.0, 0
    target = None
    for _ in range(iterations):
        G = A - mu[:, None]
        rho = _hub_values(G, sites, fixed)
        chosen = lagrangian_hubs(rho, forced, p)
        if chosen is None:
            break
        value = float(mu.sum() + rho[chosen].sum())
        if value > best:
            best, best_mu, stale = value, mu, 0
        else:
            stale += 1
            if stale >= 20:
                theta, stale = theta / 2, 0
        served = ((G[:, chosen] < 0) & ~own[:, chosen]).sum(axis=1) + own[:, chosen].sum(axis=1)
        g = np.where(live, 1.0 - served, 0.0)
        norm = float(g @ g)
        if norm == 0:
            break
        if target is None:
            target = 1.5 * max(abs(value), 1.0)
        mu = mu + theta * max(target - value, 1e-9 * target) / norm * g
    sigma = np.where(live, best_mu / np.where(live, T, 1.0), 0.0)
    u = W[:, :, None] * (a * C[:, sites][:, None, :] - sigma[:, None, None])
    v = W[:, :, None] * (b * C[sites, :].T[None, :, :] - sigma[None, :, None])
    return np.ascontiguousarray(u), np.ascontiguousarray(v)


def _agreed_solution(
    C: FloatArray, sites: IntArray, cols: IntArray, z: FloatArray
) -> tuple[tuple[int, ...], IntArray]:
    """Hubs and allocation of an agreeing subproblem solution; nodes without any flow
    (no allocation in ``z``) go to their cheapest hub."""
    hubs = sites[cols]
    alloc = np.empty(z.shape[0], dtype=np.int64)
    for i in range(z.shape[0]):
        mine = np.flatnonzero(z[i, cols] > 0.5)
        alloc[i] = hubs[mine[0]] if mine.size else hubs[int(np.argmin(C[i, hubs]))]
    return tuple(sorted(int(k) for k in hubs)), alloc


@dataclass
class _Node:
    """A node of the branch and bound over the sites: its open-able ``sites``, those of
    them ``forced`` open, its multipliers and directions, and a valid lower bound."""

    sites: IntArray
    forced: np.ndarray
    u: FloatArray
    v: FloatArray
    du: DirectionArray  # (single precision: only the step's direction, never the bound)
    dv: DirectionArray
    bound: float
    # allow[i, s]: node i may be allocated to site s (see :func:`_allocation_rise`)
    allow: BoolArray
    theta: float = 1.0
    stale: int = 0  # iterations since the bound last rose
    # where the last iteration stood: the sites' values and the subproblem's hubs
    rho: FloatArray | None = None
    chosen: np.ndarray | None = None

    def forcing(self, at: int) -> _Node:
        """A copy of this node with the site at position ``at`` forced open."""
        child = self.keep(np.ones(self.sites.size, dtype=bool))
        child.forced[at] = True
        return child

    def keep(self, mask: np.ndarray) -> _Node:
        """This node restricted to the sites in ``mask`` (copies)."""
        return _Node(
            sites=self.sites[mask],
            forced=self.forced[mask],
            u=np.ascontiguousarray(self.u[:, :, mask]),
            v=np.ascontiguousarray(self.v[:, :, mask]),
            du=np.ascontiguousarray(self.du[:, :, mask]),
            dv=np.ascontiguousarray(self.dv[:, :, mask]),
            bound=self.bound,
            allow=np.ascontiguousarray(self.allow[:, mask]),
            theta=self.theta,
        )


@dataclass
class _Problem:
    """The data every node shares."""

    C: FloatArray
    W: FloatArray
    chi: float
    alpha: float
    delta: float
    fixed: FloatArray
    p: int | None
    weight: float
    patience: int
    tol: float
    kpos: IntArray
    lpos: IntArray
    limit: float  # multipliers stay within [-limit, limit]
    scale: FloatArray  # per OD pair: the subgradient's metric (see ``flow_scaling``)
    served: BoolArray  # the nodes with flow (each must be served by a hub)
    # CSAHLP: every node's flow O_i and every site's capacity (None: uncapacitated)
    supply: FloatArray | None = None
    capacity: FloatArray | None = None
    # multiple allocation: z_ik is y_k for every i, the multipliers stay <= 0
    multiple: bool = False

    @property
    def allocations_fixable(self) -> bool:
        """Whether the reduction test can fix allocations out (single allocation
        without capacities: :func:`_allocation_rise`)."""
        return not self.multiple and self.capacity is None

    @property
    def cap(self) -> float:
        """The multipliers' upper bound (the relaxed constraints of multiple allocation
        are inequalities)."""
        return 0.0 if self.multiple else math.inf


def _descend(
    node: _Node,
    prob: _Problem,
    upper: float,
    deadline: float | None,
    max_iterations: int,
    *,
    leaf_stop: bool = False,
    stall_window: int = 0,
    fix_allocations: bool = False,
    shift_every: int = 0,
) -> tuple[_Node, int, tuple[tuple[int, ...], IntArray | None, float] | None]:
    """Subgradient steps at ``node`` (which may lose sites to the reduction test).

    Returns the node (its ``bound`` raised), the iterations made, and the agreed
    solution with its cost when the subgradient vanished.  Stops at ``deadline``,
    after ``max_iterations`` (and a step that leaves the node's subproblem values
    set), when the step has shrunk away or the bound reaches ``upper``.  With
    ``leaf_stop``, also as soon as the node is one hub set (:func:`_leaf_hubs`: the
    caller solves that set exactly).  With ``stall_window``, also when the bound rose
    by less than ``_STALL_SHARE`` of what it still lacks to ``upper`` over the last
    ``stall_window`` steps: branching then closes the gap sooner than the steps would.
    With ``fix_allocations``, the reduction test fixes single allocations out too
    (:func:`_allocation_rise`).
    """
    C, W, p, tol = prob.C, prob.W, prob.p, prob.tol
    n = C.shape[0]
    iterations = 0
    mark = node.bound  # the bound ``stall_window`` steps ago
    to_site = np.zeros((n, 0))
    from_site = to_site
    between = to_site
    slack = 0.0
    barrier = to_site
    barrier_of = None
    if not node.allow[prob.served].any(axis=1).all():
        # a node with flow has no site left (a shut branch took its last one): nothing
        # here is cheaper than upper
        node.bound = max(node.bound, upper)
        return node, iterations, None
    # (past ``max_iterations`` while the node has no subproblem values: a step that
    # shut sites evaluates nothing, and the branch and bound needs them to branch)
    while (iterations < max_iterations or node.rho is None) and node.sites.size:
        if deadline is not None and time.perf_counter() > deadline:
            break
        if leaf_stop and _leaf_hubs(node, p) is not None:
            break
        if stall_window and iterations and iterations % stall_window == 0:
            # (not right after a reduction: the node must keep values to branch on)
            if node.rho is not None and node.bound - mark < _STALL_SHARE * (upper - node.bound):
                break
            mark = node.bound
        iterations += 1
        sites = node.sites
        if to_site.shape[1] != sites.size:
            to_site = np.ascontiguousarray(C[:, sites])
            from_site = np.ascontiguousarray(C[sites, :].T)
            between = np.ascontiguousarray(C[np.ix_(sites, sites)])
            slack = _triangle_slack(between)
        if barrier_of is not node.allow:  # (a new array whenever allocations change)
            barrier = np.ascontiguousarray(np.where(node.allow, 0.0, math.inf))
            barrier_of = node.allow
        routes = _routes(
            to_site,
            from_site,
            between,
            W,
            prob.chi,
            prob.alpha,
            prob.delta,
            node.u,
            node.v,
            prob.kpos,
            prob.lpos,
            slack,
            barrier,
        )
        G = _allocation_prices(node.u, node.v, prob.kpos)
        alloc = None
        if prob.multiple:  # every node uses every open hub (its G_ik are <= 0)
            rho = prob.fixed[sites] + G.sum(axis=0)
        elif prob.capacity is None or prob.supply is None:
            rho = _hub_values(G, sites, prob.fixed[sites], node.allow)
        else:
            rho, alloc = _capacitated_hub_values(
                G, sites, prob.fixed[sites], prob.supply, prob.capacity
            )
        chosen = lagrangian_hubs(rho, node.forced, p)
        if chosen is None or not np.isfinite(rho[chosen]).all():
            # fewer sites left than hubs, or only with one that cannot serve itself:
            # nothing here is feasible, let alone cheaper than upper
            node.bound = max(node.bound, upper)
            break
        node.rho, node.chosen = rho, chosen
        value = float(routes + rho[chosen].sum())
        if value > node.bound + tol:
            node.bound, node.stale = value, 0
        else:
            node.stale += 1
            if node.stale >= prob.patience:
                node.theta, node.stale = node.theta / 2, 0
        gap = upper - value
        if node.bound >= upper - tol or node.theta < 1e-4:
            break
        if shift_every and iterations % shift_every == 0 and prob.allocations_fixable:
            lp = _allocation_shift(
                G, sites, prob.fixed[sites], node.forced, node.allow, prob.served, p
            )
            if lp is not None and lp[0] > float(rho[chosen].sum()) + tol:
                _shift_multipliers(node.u, node.v, W, lp[1])
                continue  # the next iteration evaluates the shifted multipliers
        # reduction: the cheapest way to open a shut site k raises L by at least this
        extra = _opening_rise(rho, chosen, node.forced, p)
        keep = chosen | (extra <= gap + tol) | node.forced
        if fix_allocations and prob.allocations_fixable:
            # the same for single allocations: node i served by site s
            allow = node.allow & (_allocation_rise(G, sites, extra) <= gap + tol)
            if not np.array_equal(allow, node.allow):
                node.allow = allow
                served = allow[prob.served]
                left = served.sum(axis=1)
                if (left == 0).any():
                    node.bound = max(node.bound, upper)  # a node has no hub left
                    break
                # a node left with one site makes that site a hub
                only = left == 1
                if only.any():
                    node.forced = node.forced | served[only].any(axis=0)
        # the mirror test: shutting a chosen site k raises L by at least ``rise_k``;
        # when that exceeds the gap, every solution cheaper than upper opens k
        fix = chosen & ~node.forced & (_shutting_rise(rho, chosen, p) > gap + tol)
        if fix.any():
            node.forced = node.forced | fix
        if p is not None and int(node.forced.sum()) > p:
            # (the two tests together may force more than p sites open: then no
            # solution is cheaper than upper)
            node.bound = max(node.bound, upper)
            break
        if not keep.all():
            node = node.keep(keep)
            continue  # the next iteration evaluates the smaller relaxation afresh
        z = np.zeros((n, sites.size))
        cols = np.flatnonzero(chosen)
        if prob.multiple:
            z[:, cols] = 1.0
        elif alloc is None:
            z[:, cols] = (G[:, cols] < 0) & node.allow[:, cols]
            z[sites[cols], cols] = 1.0
        else:
            z[:, cols] = alloc[:, cols]
        norm = _direction(
            node.du,
            node.dv,
            z,
            prob.kpos,
            prob.lpos,
            prob.weight,
            prob.scale,
            node.u,
            node.v,
            prob.cap,
        )
        if norm == 0:  # routes and allocations agree: a solution that costs L
            node.bound = value
            if prob.multiple:  # (every route uses open hubs; the slack ones are free)
                return node, iterations, (tuple(sorted(int(k) for k in sites[cols])), None, value)
            hubs, allocation = _agreed_solution(C, sites, cols, z)
            if prob.capacity is not None and prob.supply is not None:
                # (agreement makes the knapsacks integral where there is flow; checked)
                load = np.bincount(allocation, weights=prob.supply, minlength=n)
                if np.any(load > prob.capacity * (1 + 1e-9) + 1e-9):
                    return node, iterations, None
            return node, iterations, (hubs, allocation, value)
        # (a deflected direction can nearly vanish while the subgradient does not: the
        # step is at most theta times the gap)
        step = node.theta * max(gap, tol) / max(norm, 1.0)
        _move(node.u, node.v, node.du, node.dv, step, prob.limit, prob.cap, prob.scale)
    return node, iterations, None


def _opening_rise(
    rho: FloatArray, chosen: np.ndarray, forced: np.ndarray, p: int | None
) -> FloatArray:
    """For each site ``k``: by how much the subproblem's value rises at least when ``k``
    must open (0 for the chosen sites, ``inf`` when nothing feasible opens it).

    With ``p`` hubs ``k`` takes the place of the dearest chosen site that is not forced:
    ``rho_k`` minus that one's value.  Without ``p`` every negative site is chosen, so a
    shut site has ``rho_k >= 0`` and opening it adds ``rho_k``, unless the only chosen
    site (not forced) is positive, chosen because at least one site opens: ``k`` then
    replaces it, ``rho_k`` minus its value.
    """
    if p is not None:
        if int(forced.sum()) >= p:  # the forced hubs are all the hubs
            return np.where(forced, 0.0, math.inf)
        swappable = chosen & ~forced
        dearest = rho[swappable].max() if swappable.any() else math.inf
        return np.where(chosen, 0.0, rho - dearest)
    rise = np.maximum(rho, 0.0)
    if int(chosen.sum()) == 1 and not forced[chosen].any():
        rise = rise - max(float(rho[chosen][0]), 0.0)
    return np.where(chosen, 0.0, np.maximum(rise, 0.0))


def _allocation_rise(G: FloatArray, sites: IntArray, opening: FloatArray) -> FloatArray:
    """By how much the subproblem's value rises at least when node ``i`` must be
    allocated to site ``s`` (single allocation, uncapacitated): ``s`` must open
    (``opening[s]``, :func:`_opening_rise`), and its value ``rho_s`` then counts ``G_is``
    instead of ``min(0, G_is)``.  A site's own node costs nothing here (it is served by
    its site exactly when that opens: the site test).  When the rise exceeds the gap to
    the incumbent, no cheaper solution serves ``i`` from ``s``: the routes of ``i``'s
    pairs leave and arrive only through the sites left, and ``rho`` sums over them."""
    rise = opening[None, :] + np.maximum(G, 0.0)
    rise[sites, np.arange(sites.size)] = 0.0
    return rise


def _shutting_rise(rho: FloatArray, chosen: np.ndarray, p: int | None) -> FloatArray:
    """For each chosen site ``k``: by how much the subproblem's value rises at least
    when ``k`` must stay shut (``inf`` when nothing feasible is left without it).

    With ``p`` hubs the cheapest site left out takes ``k``'s place: ``min_out -
    rho_k``.  Without ``p`` (every negative site opens, at least one) ``k`` simply
    drops out, ``-rho_k``, unless it is the only one chosen: then the cheapest other
    site opens instead.  Sites not chosen get ``-inf``.
    """
    rise = np.full(rho.shape, -math.inf)
    if p is None and int(chosen.sum()) >= 2:
        rise[chosen] = -rho[chosen]
    else:
        outside = rho[~chosen]
        low = float(outside.min()) if outside.size else math.inf
        rise[chosen] = low - rho[chosen]
    return rise


def _allowed_sites(node: _Node, prob: _Problem, fixing: bool) -> tuple[tuple[int, ...], ...]:
    """Per node, the sites ``node`` leaves it to be served from (() when the test
    fixes no allocation at the root)."""
    if not fixing or not prob.allocations_fixable:
        return ()
    return tuple(tuple(int(k) for k in node.sites[row]) for row in node.allow)


def _node_bytes(node: _Node) -> int:
    """Memory the node's multipliers and directions take."""
    return int(node.u.nbytes + node.v.nbytes + node.du.nbytes + node.dv.nbytes)


def _branch_site(node: _Node, p: int | None) -> int | None:
    """Position of the free site whose value lies closest to the open/shut threshold."""
    if node.rho is None or node.chosen is None:
        return None
    free = ~node.forced
    if not free.any():
        return None
    rho, chosen = node.rho, node.chosen
    if p is not None:
        inside = rho[chosen & free]
        outside = rho[~chosen & free]
        if inside.size == 0 or outside.size == 0:
            return None
        threshold = 0.5 * (inside.max() + outside.min())
    else:
        threshold = 0.0
    score = np.where(free, np.abs(rho - threshold), math.inf)
    return int(np.argmin(score))


def _leaf_hubs(node: _Node, p: int | None) -> tuple[int, ...] | None:
    """The hub set a node without branching site stands for, if it is one set."""
    if node.forced.all() or (p is not None and node.sites.size == p):
        return tuple(sorted(int(k) for k in node.sites))
    return None


def single_allocation_lagrangian(
    data: HubData,
    *,
    upper: float,
    time_limit: float | None,
    max_iterations: int = 20_000,
    patience: int = 100,
    weight: float = 0.7,
    start_share: float = 0.5,
    relative_gap: float = 1e-9,
    branch: bool = False,
    node_iterations: int = 3_000,
    solve_hubs: Callable[[tuple[int, ...]], tuple[IntArray | None, float] | None] | None = None,
    capacitated: bool = False,
    multiple_allocation: bool = False,
    improve: Callable[[tuple[int, ...]], tuple[tuple[int, ...], float]] | None = None,
    memory_budget: float = 4e9,
    halvings: float = 50.0,
    min_patience: int = 30,
    flow_scaling: float = 1.0,
    retime_every: int = 100,
    stall_window: int = 200,
    allocation_fixing: bool = True,
    root_allocation_fixing: bool = False,
    allocation_lp_every: int = 100,
    root_stall_window: int = 500,
) -> SingleAllocationBound:
    """Lagrangian bound of the path formulation (module docstring), reducing the sites.

    ``upper`` is the cost of a known single-allocation solution (Polyak target and
    reduction threshold).  Each step follows the subgradient blended with the previous
    direction (``weight`` of the new one: a deflected subgradient, which converges
    where the plain one zigzags); the step halves after ``patience`` iterations without
    a better bound.  The start moves ``start_share`` of the access costs into the
    allocation prices, as a single-allocation facility-location bound (:func:`_start`;
    at AP 100 p = 5 after 40 s: 0.38 % from a quarter, 0.54 % from zero; moving all of
    it leaves every route a tie and the descent crawls).  Half is the default: the root
    alone, two runs side by side, reached AP 200 p = 15/20 0.48/0.57 % after 300 s
    (a quarter: 0.68/0.66 %; a tenth and three quarters at p = 15: 0.95 and 0.79 %)
    and AP 100 p = 10 0.15 % after 60 s (0.30 %), but AP 100 p = 5 0.63 % (0.58 %).
    The root stops at the time
    limit, after ``max_iterations``, when the step has shrunk away, or when the bound
    comes within ``relative_gap`` of ``upper``.

    With ``branch``, a bound that stalls below ``upper`` is closed by branch and bound
    over the sites: depth first, each node shuts or forces open the free site whose
    value lies closest to the subproblem's threshold, starts from its parent's
    multipliers (at most ``node_iterations`` steps, fewer when its bound stalls over
    ``stall_window`` steps, 0: never) and is pruned when its bound reaches ``upper``.
    A node whose subgradient vanishes yields a solution; a cheaper one lowers
    ``upper``.  A node left with one hub set (nothing to branch on) goes to
    ``solve_hubs`` as soon as it is one, which returns that set's best allocation and
    its cost (fixed costs included) when it proves it, else None.  The bound returned
    is the smallest over the unexplored nodes (``upper`` once the tree is closed: then
    ``upper`` is optimal).
    With a time limit, the patience is lowered (not below ``min_patience``) so that
    the step can halve about ``halvings`` times in the iterations the time left allows,
    timed on the first iterations and again every ``retime_every`` iterations.
    ``flow_scaling``: the subgradient is measured in a metric that weighs OD pair
    ``(i, j)`` by ``(W_ij / mean W)^flow_scaling`` (a diagonal scaling: the step moves
    ``u_ijk`` and ``v_ijl`` in proportion to the pair's flow, which is how the optimal
    multipliers scale).  Every multiplier still gives a valid bound.  Measured with the
    relaxation alone, two runs side by side (``benchmarks/sa_relaxation.py
    --flow-scaling``): AP 100 p = 10 proven after 968 iterations with 1 (1,089 with
    0.5), where the plain metric (0) is at 0.014 % after 3,234; AP 100 p = 5 after 60
    s 0.41 % against 0.63 %; AP 200 p = 10 after 150 s 2.0 % with 1, 3.2 % with 0.5,
    2.7 % with 1.5 and 5.5 % with 0.
    ``capacitated``: hubs serve at most their capacity (``data.capacities``, measured
    in origin flow ``O_i`` as for CSAHLP) in the relaxation too.  ``multiple_allocation``:
    the bound of the multiple-allocation problem instead (module docstring); a solution
    it finds has ``allocation`` None (the model routes its hubs), and ``solve_hubs`` may
    return None for the allocation.  ``improve`` (multiple allocation): after every leg
    of the root, the subproblem's hubs go to it (each set once); it returns a hub set
    and its cost (a local search from them), which replaces ``upper`` when cheaper; the
    result then reports it with ``allocation`` None.  ``memory_budget`` (bytes) caps
    the multipliers the waiting nodes keep (two ``n x n x m`` arrays of multipliers and
    two of single-precision directions each, 192 MB at n = m = 200): a child beyond it
    is not explored and only its bound counts.  ``allocation_fixing`` (single
    allocation without capacities): the reduction test fixes allocations out too
    (:func:`_allocation_rise`) in the branch-and-bound nodes, and with
    ``root_allocation_fixing`` at the root as well.  Measured alone, USApHMP with the
    tree's fixing only (run 86): AP 200 p = 4 proven in 264 s (295 s without; the same
    root), p = 10 in 280 s (515 s, run 76), AP 100 p = 5 in 30 s (43 s).  Fixing at the root
    changes its descent, for better or worse: AP 200 p = 10 proven in 380 s, but p = 4's
    root stalled at 0.11 % against 0.019 % (not proven in 600 s), and USAHLP T proven in
    61 s against 47 s.
    ``allocation_lp_every`` (single allocation without capacities; 0: never): every
    that many steps of a node, the LP of :func:`_allocation_shift` moves multipliers
    into the allocation prices when that raises the bound.  USApHMP AP 200 p = 5 with
    600 s, alone: every 100 steps, the root reached 139,796.15 and the tree 0.070 %
    (run 87; never: 139,647.80 and 0.268 %, run 86); every 25 steps the root flattened
    at 139,756 (the step shrinks sooner after the jumps).  ``root_stall_window`` (with
    ``branch``; 0: never): the root stops when its bound rose by less than
    ``_ROOT_STALL_SHARE`` of its gap over that many steps, and the tree takes over (run
    88: p = 5's root stopped after 238 s at 139,791.30, and the tree proved the optimum
    at 429 s).
    """
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    n = data.n
    C = np.ascontiguousarray(data.costs, dtype=np.float64)
    W = np.ascontiguousarray(data.flows, dtype=np.float64)
    sites = np.asarray(data.candidates, dtype=np.int64)
    fixed_all = np.zeros(n) if data.fixed_costs is None else np.asarray(data.fixed_costs)
    p = data.p
    forced0 = np.isin(sites, np.asarray(data.fixed_hubs, dtype=np.int64))
    access = (start_share * data.chi, start_share * data.delta)
    u, v = _start(C, W, sites, access, fixed_all[sites], forced0, p)
    if multiple_allocation:  # (any multipliers <= 0 are valid; the start's clipped)
        u, v = np.minimum(u, 0.0), np.minimum(v, 0.0)
    prob = _Problem(
        C=C,
        W=W,
        chi=data.chi,
        alpha=data.alpha,
        delta=data.delta,
        fixed=fixed_all,
        p=p,
        weight=weight,
        patience=patience,
        tol=max(relative_gap, 1e-9) * max(1.0, abs(upper)),
        kpos=np.zeros((n, n), dtype=np.int64),
        lpos=np.zeros((n, n), dtype=np.int64),
        # ten times the dearest route of any OD pair, fixed costs aside
        limit=10.0
        * float(W.max(initial=0.0))
        * (data.chi + data.alpha + data.delta)
        * float(C.max(initial=0.0))
        + 10.0 * float(fixed_all.max(initial=0.0))
        + 1.0,
        scale=_pair_scale(W, flow_scaling),
        served=(W.sum(axis=0) + W.sum(axis=1)) > 0,
        supply=data.origin_totals if capacitated else None,
        capacity=(
            np.asarray(data.capacities, dtype=np.float64)
            if capacitated and data.capacities is not None
            else None
        ),
        multiple=multiple_allocation,
    )
    root = _Node(
        sites=sites,
        forced=forced0,
        u=u,
        v=v,
        du=np.zeros_like(u, dtype=np.float32),
        dv=np.zeros_like(v, dtype=np.float32),
        bound=-math.inf,
        allow=np.ones((n, sites.size), dtype=np.bool_),
    )
    # the root in legs: a few warm-up steps, then timed legs (10 steps, then
    # ``retime_every``); a leg that stops short (bound at upper, step shrunk away, time)
    # ends the root
    iterations = 0
    agreed = None
    hubs: tuple[int, ...] | None = None
    allocation: IntArray | None = None
    tried: set[tuple[int, ...]] = set()
    length, warm = 5, True
    mark = (0, root.bound)  # the root's bound ``root_stall_window`` steps ago
    while True:
        want = min(length, max_iterations - iterations)
        started = time.perf_counter()
        root, its, agreed = _descend(
            root,
            prob,
            upper,
            deadline,
            want,
            fix_allocations=root_allocation_fixing,
            shift_every=allocation_lp_every,
        )
        iterations += its
        if agreed is not None or its < want or iterations >= max_iterations:
            break
        if branch and root_stall_window and iterations - mark[0] >= root_stall_window:
            if root.rho is not None and root.bound - mark[1] < _ROOT_STALL_SHARE * (
                upper - root.bound
            ):
                _log.debug("SA root stalled at it %d: bound %.2f", iterations, root.bound)
                break
            mark = (iterations, root.bound)
        if iterations // 500 > (iterations - its) // 500:
            _log.debug(
                "SA root it %d: bound %.2f, theta %.2g, patience %d, %d sites, %d open (%.1f s)",
                iterations,
                root.bound,
                root.theta,
                prob.patience,
                root.sites.size,
                int(root.forced.sum()),
                time.perf_counter() - t0,
            )
        if not warm and deadline is not None:
            # few iterations fit in the time (AP 200: 0.1-0.4 s each at first): the
            # step may halve sooner, about ``halvings`` times within the time left (AP
            # 200 p = 20 after 300 s: 0.48 % with patience 30, 0.78 % with 100); timed
            # again on every leg, as the steps get cheaper when sites leave
            per = (time.perf_counter() - started) / max(its, 1)
            fit = (deadline - time.perf_counter()) / max(per, 1e-9)
            prob.patience = int(min(patience, max(min_patience, fit / halvings)))
        length, warm = (10 if warm else retime_every), False
        if improve is not None and root.chosen is not None:
            # the subproblem's hubs, improved by the caller, may beat the incumbent
            subproblem_hubs = tuple(sorted(int(k) for k in root.sites[root.chosen]))
            if subproblem_hubs not in tried:
                tried.add(subproblem_hubs)
                better, cost = improve(subproblem_hubs)
                if cost < upper - prob.tol:
                    hubs, allocation, upper = better, None, cost
                    _log.debug("SA root it %d: improved upper %.2f", iterations, upper)
    if agreed is not None:
        hubs, allocation, cost = agreed
        return SingleAllocationBound(
            bound=max(cost, 0.0),
            hubs=hubs,
            allocation=allocation,
            sites=tuple(int(k) for k in root.sites),
            iterations=iterations,
            seconds=time.perf_counter() - t0,
            opened=tuple(int(k) for k in root.sites[root.forced]),
            allocations=_allowed_sites(root, prob, root_allocation_fixing),
        )
    bound = root.bound
    nodes = 0
    _log.debug(
        "SA root: bound %.2f, upper %.2f, %d sites, %d open, %d its (%.1f s)",
        bound,
        upper,
        root.sites.size,
        int(root.forced.sum()),
        iterations,
        time.perf_counter() - t0,
    )
    if branch and bound < upper - prob.tol:
        stack = [root]
        leaves: list[float] = []  # nodes left unresolved with nothing to branch on
        while stack:
            if deadline is not None and time.perf_counter() > deadline:
                break
            node = stack.pop()
            if node.bound >= upper - prob.tol:
                continue
            at = _branch_site(node, p)
            if at is None:
                hubs_here = _leaf_hubs(node, p)
                if hubs_here is not None and solve_hubs is not None:
                    exact = solve_hubs(hubs_here)
                    if exact is not None:  # this hub set's best allocation, proven
                        alloc_here, cost_here = exact
                        if cost_here < upper - prob.tol:
                            hubs, allocation, upper = hubs_here, alloc_here, cost_here
                        continue
                _log.debug(
                    "SA leaf unresolved: bound %.2f, %d sites, %d open, hub set %s",
                    node.bound,
                    node.sites.size,
                    int(node.forced.sum()),
                    hubs_here,
                )
                leaves.append(node.bound)
                continue
            shut = np.ones(node.sites.size, dtype=bool)
            shut[at] = False
            children = []
            for start, how in ((node.keep(shut), "shut"), (node.forcing(at), "open")):
                start.theta = max(start.theta, 0.1)
                child, its, found = _descend(
                    start,
                    prob,
                    upper,
                    deadline,
                    node_iterations,
                    leaf_stop=solve_hubs is not None,
                    stall_window=stall_window,
                    fix_allocations=allocation_fixing,
                    shift_every=allocation_lp_every,
                )
                iterations += its
                nodes += 1
                _log.debug(
                    "SA node %d (site %d %s): bound %.2f, upper %.2f, %d sites, %d its, "
                    "%d waiting (%.1f s)",
                    nodes,
                    int(node.sites[at]),
                    how,
                    child.bound,
                    upper,
                    child.sites.size,
                    its,
                    len(stack),
                    time.perf_counter() - t0,
                )
                if found is not None and found[2] < upper - prob.tol:
                    hubs, allocation, upper = found
                if child.bound < upper - prob.tol:
                    children.append(child)
            # the more promising child last, so that it is explored first; a child that
            # would take the stored multipliers past ``memory_budget`` stays unexplored
            # (its bound still counts)
            for child in sorted(children, key=lambda c: -c.bound):
                if sum(_node_bytes(c) for c in stack) + _node_bytes(child) > memory_budget:
                    leaves.append(child.bound)
                else:
                    stack.append(child)
        # every solution cheaper than upper lies in an unresolved node
        unresolved = [b for b in (*(c.bound for c in stack), *leaves) if b < upper - prob.tol]
        bound = max(root.bound, min([*unresolved, upper]))
    bound = max(bound, 0.0) if math.isfinite(bound) else 0.0
    return SingleAllocationBound(
        bound=min(bound, upper),
        hubs=hubs,
        allocation=allocation,
        sites=tuple(int(k) for k in root.sites),
        iterations=iterations,
        seconds=time.perf_counter() - t0,
        nodes=nodes,
        opened=tuple(int(k) for k in root.sites[root.forced]),
        allocations=_allowed_sites(root, prob, root_allocation_fixing),
    )
