"""Cheap valid lower bounds for instances too large for the exact methods.

Every path from ``i`` to ``j`` costs at least ``chi d(i, H) + delta d(H, j)`` (the
inter-hub leg costs at least 0), so the optimum of any of the five problems is at least
the optimum of a facility-location problem: open hubs (``p`` of them, or paying the
fixed costs) and send each node's outgoing flow ``O_i`` from its nearest hub and its
incoming flow ``D_j`` to its nearest hub.  Its MIP is small (``2 n^2`` continuous
variables) and is solved with OR-Tools MathOpt; its dual bound is the returned bound.

When the costs satisfy the triangle inequality and ``chi, delta >= alpha``, the inter-hub
leg is bounded too: ``alpha C_km >= alpha (C_ij - C_ik - C_mj)``, and the path cost is
non-decreasing in ``C_ik`` and ``C_mj``, so every OD pair costs at least
``chi d_i + delta d_j + alpha max(0, C_ij - d_i - d_j)`` (one more variable per OD pair).
For CSAHLP the outgoing assignment also respects the hub capacities (single allocation
puts all of ``O_i`` at one hub), which keeps the bound valid and much closer.

That MIP with the inter-hub term is slow at n = 200 (it does not finish in a 60-s
solve).  :func:`truncated_transfer_bound` solves its LP relaxation with each node's
choice of hub cut to its nearest candidate sites (plus a "farther" option at the last
of their distances), which keeps it valid and several times smaller.
"""

from __future__ import annotations

import datetime
import time

import numpy as np
from ortools.math_opt.python import mathopt

from hubopt.models._quiet import native_stdout_silenced
from hubopt.models.base import FloatArray, HubData, Problem, SolveParameters


def facility_location_bound(
    problem: Problem,
    data: HubData,
    params: SolveParameters,
    *,
    time_limit: float | None,
    transfer: bool = True,
) -> float:
    """Dual bound of the facility-location relaxation described in the module docstring.

    ``transfer=False`` leaves out the inter-hub term: a weaker bound, but a model that
    HiGHS solves quickly even for n = 200.  ``time_limit`` covers building the model
    too (with the inter-hub term that takes seconds at n = 200, and a solver limit
    counted from the solve alone overran the caller's deadline by as much); when the
    time is gone before the solve, the bound is the trivial 0.
    """
    deadline = None if time_limit is None else time.perf_counter() + time_limit

    def out_of_time() -> bool:
        return deadline is not None and time.perf_counter() > deadline

    n = data.n
    C = data.costs
    O = data.origin_totals
    D = data.destination_totals
    sites = list(data.candidates)
    model = mathopt.Model(name="facility-location-bound")
    y = {
        k: model.add_variable(lb=1.0 if k in data.fixed_hubs else 0.0, ub=1.0, is_integer=True)
        for k in sites
    }
    terms: list[mathopt.LinearTypes] = []
    if data.fixed_costs is not None:
        terms.extend(data.fixed_costs[k] * y[k] for k in sites)
    if problem.has_p:
        model.add_linear_constraint(mathopt.fast_sum(y.values()) == float(data.p or 0))
    transfer = transfer and _transfer_term_applies(data)
    dist: dict[tuple[int, int], mathopt.Variable] = {}
    outgoing: dict[int, dict[int, mathopt.Variable]] = {}
    for side, (weight, costs) in enumerate(((data.chi * O, C), (data.delta * D, C.T))):
        for i in range(n):
            if weight[i] <= 0 and not transfer:
                continue
            if out_of_time():
                return 0.0
            x = {k: model.add_variable(lb=0.0, ub=1.0) for k in sites}
            model.add_linear_constraint(mathopt.fast_sum(x.values()) == 1.0)
            for k, v in x.items():
                model.add_linear_constraint(v <= y[k])
                if costs[i, k] and weight[i] > 0:
                    terms.append(weight[i] * costs[i, k] * v)
            if side == 0 and problem is Problem.CSAHLP and data.capacities is not None:
                outgoing[i] = x
            if transfer:  # d = distance to the assigned hub, as one variable
                d = model.add_variable(lb=0.0)
                model.add_linear_constraint(
                    d == mathopt.fast_sum(costs[i, k] * v for k, v in x.items() if costs[i, k])
                )
                dist[side, i] = d
    if outgoing and data.capacities is not None:
        # single allocation: node i's outgoing flow O_i sits at its hub, within capacity
        for k in sites:
            load = mathopt.fast_sum(float(O[i]) * x[k] for i, x in outgoing.items() if O[i])
            model.add_linear_constraint(load <= float(data.capacities[k]) * y[k])
    if transfer:
        W = data.flows
        for q, (i, j) in enumerate(zip(*np.nonzero(W), strict=True)):
            if q % n == 0 and out_of_time():
                return 0.0
            if C[i, j] <= 0:
                continue
            s = model.add_variable(lb=0.0)
            model.add_linear_constraint(
                s >= data.alpha * (C[i, j] - dist[0, int(i)] - dist[1, int(j)])
            )
            terms.append(float(W[i, j]) * s)
    model.minimize(mathopt.fast_sum(terms))
    kwargs: dict[str, object] = {"relative_gap_tolerance": 1e-6, "random_seed": params.seed}
    if deadline is not None:
        left = deadline - time.perf_counter()
        if left <= 0.0:
            return 0.0
        kwargs["time_limit"] = datetime.timedelta(seconds=left)
    with native_stdout_silenced():
        res = mathopt.solve(
            model,
            mathopt.SolverType.HIGHS,
            params=mathopt.SolveParameters(**kwargs),
        )
    bound = float(res.termination.objective_bounds.dual_bound)
    return bound if bound > float("-inf") else 0.0


def is_metric(costs: np.ndarray, *, tolerance: float = 1e-9) -> bool:
    """True when ``C_ij <= C_ik + C_kj`` for all ``i, j, k`` (to a relative tolerance)."""
    C = np.asarray(costs, dtype=np.float64)
    scale = max(1.0, float(C.max(initial=0.0)))
    for k in range(C.shape[0]):
        if np.any(C > C[:, k, None] + C[None, k, :] + tolerance * scale):
            return False
    return True


def _transfer_term_applies(data: HubData) -> bool:
    """Whether the inter-hub leg may be bounded through the triangle inequality: metric
    costs and ``chi, delta >= alpha > 0`` (see the module docstring)."""
    return (
        data.alpha > 0
        and data.chi >= data.alpha
        and data.delta >= data.alpha
        and is_metric(data.costs)
    )


def nearest_neighbour_bound(data: HubData) -> float:
    """A bound computed in ``O(n^2)``, valid for all five problems, for any size.

    A node ``i`` that is not a hub sends its outgoing flow to a hub at distance at least
    ``nn_i`` (its nearest other node) and receives its incoming flow from one, so it
    costs at least ``(chi O_i + delta D_i) nn_i``; a hub may cost nothing.  With ``q``
    hubs the total is at least the sum over all nodes minus the ``q`` largest terms of
    candidate sites, plus the ``q`` smallest fixed costs; ``q = p`` for the p-hub
    medians, the minimum over ``q`` otherwise.  Weak, but always available: it is the
    floor under the facility-location bound when that one runs out of time.
    """
    C = np.array(data.costs, dtype=np.float64)
    n = data.n
    np.fill_diagonal(C, np.inf)
    nn = C.min(axis=1) if n > 1 else np.zeros(n)
    nn = np.where(np.isfinite(nn), nn, 0.0)
    w = (data.chi * data.origin_totals + data.delta * data.destination_totals) * nn
    cand = np.asarray(data.candidates, dtype=np.int64)
    savings = np.sort(w[cand])[::-1]
    total = float(w.sum())
    if data.p is not None:
        q = min(int(data.p), cand.size)
        return max(0.0, total - float(savings[:q].sum()))
    f = np.zeros(cand.size)
    if data.fixed_costs is not None:
        f = np.sort(np.asarray(data.fixed_costs, dtype=np.float64)[cand])
    values = total - np.cumsum(savings) + np.cumsum(f)
    return max(0.0, float(values.min()))


def lagrangian_hubs(rho: np.ndarray, forced: np.ndarray, p: int | None) -> np.ndarray | None:
    """The hubs of a Lagrangian subproblem whose site ``k`` is worth ``rho_k``.

    A boolean mask over the sites: the ``forced`` ones, then with ``p`` the cheapest
    others up to ``p`` (None when too few sites are left), without ``p`` every negative
    one (at least one site).
    """
    chosen = forced.copy()
    if p is not None:
        free = np.flatnonzero(~forced)
        need = max(0, int(p) - int(forced.sum()))
        if need > free.size:
            return None
        chosen[free[np.argsort(rho[free], kind="stable")[:need]]] = True
    else:
        chosen |= rho < 0
        if not chosen.any():
            chosen[int(np.argmin(rho))] = True
    return chosen


def lagrangian_median_bound(
    data: HubData, *, time_limit: float | None, max_iterations: int = 2000
) -> float:
    """:func:`median_multipliers`' bound."""
    return median_multipliers(data, time_limit=time_limit, max_iterations=max_iterations)[0]


def median_multipliers(
    data: HubData, *, time_limit: float | None, max_iterations: int = 2000
) -> tuple[float, FloatArray, FloatArray]:
    """Lagrangian bound of the facility-location relaxation without the inter-hub term,
    by subgradient optimisation in numpy: no model to build, so it serves any size.

    The relaxation (module docstring) is a p-median (or, with fixed costs, an
    uncapacitated facility location) with ``2 n`` customers: node ``i``'s outgoing flow
    costs ``chi O_i C_ik`` at hub ``k``, its incoming flow ``delta D_i C_ki``.  Relaxing
    "every customer is served once" with multipliers ``lambda_r`` leaves
    ``L(lambda) = sum_r lambda_r + min_y sum_k y_k rho_k`` with
    ``rho_k = f_k + sum_r min(0, a_rk - lambda_r)``: open the ``p`` smallest ``rho_k``
    (fixed hubs always; without ``p``, every negative one and at least one).  Every
    ``L(lambda)`` is a valid bound; the best one is returned.  Capacities are ignored
    (still valid).  ``O(n^2)`` per iteration: about 1,000 iterations a second at
    n = 200, where the MathOpt models of :func:`facility_location_bound` take seconds
    just to build (and at n = 500 do not finish in a 60-s solve).  Polyak steps towards
    the best primal value of the relaxation; the step halves after 20 iterations
    without a better bound.

    Returns the bound and, at the multipliers that gave it, each node's price per unit
    of outgoing flow (``lambda_r / O_i``) and of incoming flow (0 without flow).
    """
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    cand = np.asarray(data.candidates, dtype=np.int64)
    n = data.n
    none = np.zeros(n)
    if cand.size == 0:
        return 0.0, none, none
    C = np.asarray(data.costs, dtype=np.float64)
    rows = np.concatenate(
        [
            (data.chi * data.origin_totals)[:, None] * C[:, cand],
            (data.delta * data.destination_totals)[:, None] * C.T[:, cand],
        ]
    )
    totals = np.concatenate([data.origin_totals, data.destination_totals])
    kept = np.abs(rows).sum(axis=1) > 0
    rows = rows[kept]
    m = cand.size
    f = np.zeros(m)
    if data.fixed_costs is not None:
        f = np.asarray(data.fixed_costs, dtype=np.float64)[cand]
    forced = np.isin(cand, np.asarray(data.fixed_hubs, dtype=np.int64))
    q = None if data.p is None else min(int(data.p), m)
    if rows.shape[0] == 0:
        return (float(f[forced].sum()) if q is not None else 0.0), none, none

    # start: each customer's multiplier at its (q + 1)-th cheapest site, where the p
    # cheapest sites of the customer would all look attractive
    k0 = min(m - 1, q if q is not None else 1)
    lam = np.partition(rows, k0, axis=1)[:, k0]
    best = 0.0
    best_lam = np.zeros_like(lam)
    primal = np.inf
    theta, stale = 2.0, 0
    for _ in range(max_iterations):
        if deadline is not None and time.perf_counter() > deadline:
            break
        slack = np.minimum(0.0, rows - lam[:, None])
        rho = f + slack.sum(axis=0)
        chosen = lagrangian_hubs(rho, forced, q)
        if chosen is None:  # more fixed hubs than p: cannot happen after validation
            break
        value = float(lam.sum() + rho[chosen].sum())
        if value > best + 1e-9 * max(1.0, abs(best)):
            best, stale = value, 0
            best_lam = lam
        else:
            stale += 1
            if stale >= 20:
                theta, stale = theta / 2, 0
        primal = min(primal, float(rows[:, chosen].min(axis=1).sum() + f[chosen].sum()))
        if theta < 1e-6 or primal - best <= 1e-7 * max(1.0, abs(primal)):
            break
        served = (slack[:, chosen] < 0).sum(axis=1)
        g = 1.0 - served
        norm = float(g @ g)
        if norm == 0:
            break  # every customer served exactly once: L is the relaxation's optimum
        lam = lam + theta * (primal - value) / norm * g
    price = np.zeros(2 * n)  # a customer's multiplier per unit of its flow
    price[kept] = best_lam / totals[kept]
    return max(0.0, best), price[:n], price[n:]


def truncated_transfer_bound(
    problem: Problem, data: HubData, *, nearest: int = 30, time_limit: float | None
) -> float | None:
    """LP bound of the facility-location relaxation with the inter-hub term, with every
    node's hub distance truncated to its ``nearest`` candidate sites.

    Each node is assigned to one of its ``nearest`` closest candidates (linked to the
    hub variables) or to "farther", at the distance of the ``nearest``-th of them with
    no link.  That never exceeds the distance to the nearest hub, and the path-cost
    bound ``chi a + delta b + alpha max(0, C_ij - a - b)`` does not decrease in ``a``
    and ``b`` (``chi, delta >= alpha``), so for every hub set the truncated model costs
    at most the true routing cost: its LP optimum is a valid lower bound.  Truncation
    makes the LP several times smaller than the full model's (AP 200, p = 5: 121.8k in
    9 s with the default 30 sites, 124.7k in 14 s with 40, against 125.4k in 55 s
    untruncated).  Solved with HiGHS's
    dual simplex (SciPy); ``None`` when the conditions of the inter-hub term do not
    hold (metric costs, ``chi, delta >= alpha > 0``), for CSAHLP (its capacities are
    left to :func:`facility_location_bound`) or when the LP is not solved in time.
    """
    import scipy.sparse as sp
    from scipy.optimize import linprog

    deadline = None if time_limit is None else time.perf_counter() + time_limit
    n = data.n
    if problem is Problem.CSAHLP or n < 2 or not _transfer_term_applies(data):
        return None
    C = np.asarray(data.costs, dtype=np.float64)
    cand = np.asarray(data.candidates, dtype=np.int64)
    K = max(1, min(int(nearest), cand.size))
    a = float(data.alpha)
    W = np.asarray(data.flows, dtype=np.float64)
    eq: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    ub: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    b_eq: list[np.ndarray] = []
    b_ub: list[np.ndarray] = []
    costs: list[np.ndarray] = []
    upper: list[np.ndarray] = []
    n_vars = 0

    def new_vars(cost: np.ndarray, up: float) -> int:
        nonlocal n_vars
        first = n_vars
        n_vars += cost.size
        costs.append(cost)
        upper.append(np.full(cost.size, up))
        return first

    def rows(
        block: list, rhs_list: list, r: np.ndarray, c: np.ndarray, v: np.ndarray, rhs: np.ndarray
    ) -> None:
        offset = sum(len(x) for x in rhs_list)
        block.append((r + offset, c, v))
        rhs_list.append(rhs)

    fixed = np.zeros(n) if data.fixed_costs is None else np.asarray(data.fixed_costs, float)
    y0 = new_vars(fixed[cand], 1.0)
    site_var = np.full(n, -1, dtype=np.int64)
    site_var[cand] = y0 + np.arange(cand.size)
    dist_var = []
    nodes = np.arange(n)
    sides = ((data.chi * data.origin_totals, C), (data.delta * data.destination_totals, C.T))
    for weight, M in sides:
        order = np.argsort(M[:, cand], axis=1, kind="stable")[:, :K]
        near = cand[order]  # (n, K)
        dists = np.concatenate([M[nodes[:, None], near], M[nodes, near[:, -1]][:, None]], axis=1)
        x0 = new_vars((np.asarray(weight)[:, None] * dists).ravel(), 1.0)
        d0 = new_vars(np.zeros(n), np.inf)
        dist_var.append(d0)
        ii = np.repeat(nodes, K + 1)
        xs = x0 + np.arange(n * (K + 1))
        rows(eq, b_eq, ii, xs, np.ones(xs.size), np.ones(n))  # one assignment each
        rows(
            eq,
            b_eq,
            np.concatenate([nodes, ii]),
            np.concatenate([d0 + nodes, xs]),
            np.concatenate([np.ones(n), -dists.ravel()]),
            np.zeros(n),
        )
        linked = (nodes[:, None] * (K + 1) + np.arange(K)[None, :]).ravel()
        r = np.arange(n * K)
        rows(
            ub,
            b_ub,
            np.concatenate([r, r]),
            np.concatenate([x0 + linked, site_var[near.ravel()]]),
            np.concatenate([np.ones(r.size), -np.ones(r.size)]),
            np.zeros(r.size),
        )
    I, J = np.nonzero((W > 0) & (C > 0))
    s0 = new_vars(W[I, J], np.inf)
    r = np.arange(I.size)
    rows(
        ub,
        b_ub,
        np.tile(r, 3),
        np.concatenate([s0 + r, dist_var[0] + I, dist_var[1] + J]),
        np.concatenate([-np.ones(r.size), np.full(2 * r.size, -a)]),
        -a * C[I, J],
    )
    lower = np.zeros(n_vars)
    fixed_sites = [int(site_var[h]) for h in data.fixed_hubs if site_var[h] >= 0]
    lower[fixed_sites] = 1.0
    # sum y = p, or sum y >= 1 (as -sum y <= -1) with fixed costs
    if data.p is not None:
        block, rhs_list, sign, rhs = eq, b_eq, 1.0, float(data.p)
    else:
        block, rhs_list, sign, rhs = ub, b_ub, -1.0, -1.0
    rows(
        block,
        rhs_list,
        np.zeros(cand.size, dtype=np.int64),
        y0 + np.arange(cand.size),
        np.full(cand.size, sign),
        np.array([rhs]),
    )

    def matrix(block: list, rhs_list: list) -> sp.csr_matrix:
        m = sum(len(x) for x in rhs_list)
        r_, c_, v_ = (np.concatenate([t[k] for t in block]) for k in range(3))
        return sp.csr_matrix((v_, (r_, c_)), shape=(m, n_vars))

    a_ub, a_eq = matrix(ub, b_ub), matrix(eq, b_eq)
    options: dict[str, float] = {}
    if deadline is not None:  # the limit covers building the LP too
        left = deadline - time.perf_counter()
        if left <= 0.0:
            return None
        options["time_limit"] = left
    res = linprog(
        np.concatenate(costs),
        A_ub=a_ub,
        b_ub=np.concatenate(b_ub),
        A_eq=a_eq,
        b_eq=np.concatenate(b_eq),
        bounds=np.stack([lower, np.concatenate(upper)], axis=1),
        method="highs-ds",
        options=options,
    )
    return float(res.fun) if res.status == 0 else None
