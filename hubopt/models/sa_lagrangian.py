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

import numpy as np

from hubopt.models._sa_pairs import pair_scale, pairs_of
from hubopt.models._sa_relaxation import (
    _branch_site,
    _descend,
    _leaf_hubs,
    _Node,
    _node_bytes,
    _Problem,
    _start,
)
from hubopt.models.base import HubData, IntArray

__all__ = ["SingleAllocationBound", "single_allocation_lagrangian"]

_log = logging.getLogger(__name__)


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
    """

    bound: float
    sites: tuple[int, ...]
    iterations: int
    seconds: float
    hubs: tuple[int, ...] | None = None
    allocation: IntArray | None = None
    nodes: int = 0
    opened: tuple[int, ...] = ()


# with ``branch``, the root hands over to the tree when its bound rose by less than this
# share of what it still lacks over the last ``root_stall_window`` steps.  USApHMP AP 200
# p = 5 with 600 s (run 87): the root rose by 4.3 on a gap of 271 over its steps 2,515 to
# 3,015 (233 s), and by 4.8 more in the 122 s until its step had shrunk away
_ROOT_STALL_SHARE = 0.05


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
    relaxation alone, two runs side by side (``benchmarks-history:benchmarks/sa_relaxation.py
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
    the multipliers the waiting nodes keep (two ``pairs x m`` arrays of multipliers and
    two of single-precision directions each, 192 MB at n = m = 200): a child beyond it
    is not explored and only its bound counts.  ``allocation_fixing`` (single
    allocation without capacities): the reduction test fixes allocations out too
    (:func:`_allocation_rise`) in the branch-and-bound nodes (not at the root: fixing
    there changed its descent for better or worse and was deleted, ``docs/decisions.md``).
    Measured alone, USApHMP with the tree's fixing (run 86): AP 200 p = 4 proven in
    264 s (295 s without; the same root), p = 10 in 280 s (515 s, run 76), AP 100 p = 5
    in 30 s (43 s).
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
    pairs = pairs_of(W)
    u, v = _start(C, W, pairs, sites, access, fixed_all[sites], forced0, p)
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
        pairs=pairs,
        kpos=np.zeros(pairs.size, dtype=np.int64),
        lpos=np.zeros(pairs.size, dtype=np.int64),
        # ten times the dearest route of any OD pair, fixed costs aside
        limit=10.0
        * float(W.max(initial=0.0))
        * (data.chi + data.alpha + data.delta)
        * float(C.max(initial=0.0))
        + 10.0 * float(fixed_all.max(initial=0.0))
        + 1.0,
        scale=pair_scale(pairs, flow_scaling),
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
    )
