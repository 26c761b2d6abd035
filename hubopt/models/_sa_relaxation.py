"""One node of the path formulation's Lagrangian relaxation
(:mod:`hubopt.models.sa_lagrangian`): its start, the hub values of the allocation
subproblem (with capacities a knapsack per hub), the allocation LP shift, the subgradient
descent with its reduction tests (:func:`_descend`) and the rises that the tests compare
with the gap.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from hubopt.models._sa_kernels import (
    BoolArray,
    DirectionArray,
    _allocation_prices,
    _direction,
    _move,
    _routes,
    _triangle_slack,
)
from hubopt.models._sa_pairs import Pairs, shift_multipliers, start_multipliers
from hubopt.models.base import FloatArray, IntArray
from hubopt.models.bounds import lagrangian_hubs

_log = logging.getLogger(__name__)

# a branch-and-bound node whose bound rose by less than this share of its remaining gap
# over the last ``stall_window`` steps is branched (see :func:`_descend`).  USApHMP AP 100
# p = 5 with 60 s, alone, 200 steps: proven in 42.9 s with 0.2 (22 nodes), 53.4 s with
# 0.05, 55.1 s without the rule (run 75: nodes took up to 3,000 steps, creeping towards
# the incumbent that they hold and so can never exceed)
_STALL_SHARE = 0.2


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
    (:func:`~hubopt.models._sa_pairs.shift_multipliers`) leaves the routes' choices as
    they are, lowers their total by ``sum w`` and raises the subproblem to ``LP +
    sum w``, so the bound becomes ``routes + LP`` (Lagrangian duality: the LP's
    constraints other than ``sum_s z_is = 1`` are the relaxed subproblem's, whose LP is
    integral).
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
    pairs: Pairs,
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
    return start_multipliers(pairs, C, sites, access, sigma)


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
            u=np.ascontiguousarray(self.u[:, mask]),
            v=np.ascontiguousarray(self.v[:, mask]),
            du=np.ascontiguousarray(self.du[:, mask]),
            dv=np.ascontiguousarray(self.dv[:, mask]),
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
    pairs: Pairs  # the OD pairs with flow: one row of the multipliers each
    kpos: IntArray  # per pair: the position of its route's first hub, and last
    lpos: IntArray
    limit: float  # multipliers stay within [-limit, limit]
    scale: FloatArray  # per OD pair with flow: the subgradient's metric (see ``flow_scaling``)
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
    C, p, tol = prob.C, prob.p, prob.tol
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
            prob.pairs.out_start,
            prob.pairs.dest,
            prob.pairs.flow,
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
        pr = prob.pairs
        G = _allocation_prices(node.u, node.v, pr.orig, pr.dest, pr.out_start, pr.into, pr.in_start)
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
                shift_multipliers(node.u, node.v, prob.pairs, lp[1])
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
            prob.pairs.out_start,
            prob.pairs.dest,
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
