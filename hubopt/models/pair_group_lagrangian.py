"""A grouped Lagrangian bound of the multiple-allocation problems whose first hubs stay
exact per OD pair (UMApHMP, UMAHLP), for instances too large for the path
formulation's relaxation.

The grouped bound (:mod:`hubopt.models.group_lagrangian`) sums both of the path
formulation's ties over groups: an origin's flows to one group may share out their
first hubs as long as the group's total fits.  Here only the last hubs' ties are
summed over the origins of a group::

    sum_{i in g} W_ij sum_k x_ijkl <= W_gj y_l      (destination j, group g, site l)

with multipliers ``mu_jgl >= 0``, and every OD pair keeps its first hub among the open
ones.  For the hubs ``H`` the subproblem routes each pair at ``min_{k in H} c_ijk``
with ``c_ijk = chi C_ik + min_l (alpha C_kl + delta C_lj + mu_{j g(i) l})`` (the
min-plus kernel :func:`~hubopt.models._group_kernels.cheapest_first_hubs` on the
transposed costs), and adds ``score_l = -sum_g W_gl mu_lgl`` per open hub: a p-median
problem whose customers are the OD pairs.  Its Lagrangian relaxation with a multiplier
``nu_ij`` per OD pair (per unit of flow) on "one first hub each" gives every site the
score ``rho_k = score_k + sum_ij W_ij min(0, c_ijk - nu_ij)`` and the value ``sum_ij
W_ij nu_ij + sum of the p smallest scores`` (with fixed costs every ``f_k + rho_k <
0``).  Every ``(mu, nu)`` gives a valid bound on the multiple-allocation optimum, hence
on every problem of the engine over the same costs.  At convergence it is at least the
grouped bound with the same groups (that one's relaxation sums the first hubs' ties
too); with ``n`` groups it is the path formulation's.
"""

from __future__ import annotations

import math
import time

import numba as nb
import numpy as np

from hubopt.models._group_kernels import (
    cheapest_first_hubs,
    move,
    subgradient,
    triangle_slack,
)
from hubopt.models.base import FloatArray, HubData, IntArray
from hubopt.models.group_lagrangian import (
    GroupBound,
    StepControl,
    _group_flows,
    _inverse,
    _open_hubs,
    _site_positions,
    node_groups,
    reduction_test,
    split_groups,
)

__all__ = ["pair_grouped_bound", "pair_scores"]


@nb.njit(parallel=True, cache=True)
def pair_scores(
    W: FloatArray, to_site: FloatArray, best: FloatArray, group: IntArray, nu: FloatArray,
    chi: float, rows: IntArray,
) -> FloatArray:
    """``sum_ij W_ij min(0, chi to_site[i, k] + best[j, g(i), k] - nu_ij)`` per site
    ``k`` (the origins' parts in parallel, added in origin order)."""
    n = W.shape[0]
    m = to_site.shape[1]
    part = np.zeros((rows.shape[0], m))
    for r in nb.prange(rows.shape[0]):
        i = rows[r]
        g = group[i]
        acc = part[r]
        reach = to_site[i]
        for j in range(n):
            w = W[i, j]
            if w <= 0.0:
                continue
            v0 = nu[i, j]
            tail = best[j, g]
            for k in range(m):
                d = chi * reach[k] + tail[k] - v0
                if d < 0.0:
                    acc[k] += w * d
    total = np.zeros(m)
    for r in range(rows.shape[0]):
        total += part[r]
    return total


@nb.njit(parallel=True, cache=True)
def _pair_subgradient(
    WT: FloatArray, to_site: FloatArray, best: FloatArray, via: np.ndarray, group: IntArray,
    nu: FloatArray, chi: float, cols: IntArray, open_: IntArray, groups: int,
) -> tuple[FloatArray, FloatArray, float]:
    """At the open sites ``open_``: ``count[i, j]`` of open first hubs below ``nu_ij``,
    the flow ``used[j, g, l]`` that the pairs from group ``g`` to ``j`` bring to last
    hub ``l``, and ``sum_ij W_ij (1 - count_ij)^2`` (the per-pair subgradient's norm
    with steps divided by the flow).  ``WT`` is ``W`` transposed; the destinations
    ``cols`` run in parallel."""
    n = WT.shape[0]
    m = to_site.shape[1]
    s_nu = np.zeros((n, n))
    used = np.zeros((n, groups, m))
    part = np.zeros(cols.shape[0])
    for c in nb.prange(cols.shape[0]):
        j = cols[c]
        acc = 0.0
        for i in range(n):
            w = WT[j, i]
            if w <= 0.0:
                continue
            g = group[i]
            cnt = 0
            for q in range(open_.shape[0]):
                k = open_[q]
                if chi * to_site[i, k] + best[j, g, k] < nu[i, j]:
                    cnt += 1
                    used[j, g, via[j, g, k]] += w
            s = 1.0 - cnt
            s_nu[i, j] = s
            acc += w * s * s
        part[c] = acc
    norm = 0.0
    for v in part:
        norm += v
    return s_nu, used, norm


def pair_grouped_bound(
    data: HubData,
    *,
    upper: float,
    hubs: tuple[int, ...],
    deadline: float | None,
    groups: int = 8,
    patience: int = 40,
    max_steps: int | None = None,
    prune: bool = True,
    prices: FloatArray | None = None,
    stall_window: int = 0,
    stall_share: float = 0.01,
    reduce: bool = True,
    max_groups: int | None = None,
    handover: float = 0.0,
) -> GroupBound:
    """Raise the bound (module docstring) until ``deadline``; the arguments are those of
    :func:`~hubopt.models.group_lagrangian.grouped_lagrangian_bound` (``prices``: each
    node's price per unit of incoming flow, the start ``mu_jgl = max(0, price_j - delta
    C_lj)``; ``nu_ij`` starts at the incumbent's route cost)."""
    t0 = time.perf_counter()
    max_groups = groups if max_groups is None else max(groups, max_groups)
    C = np.ascontiguousarray(data.costs, dtype=np.float64)
    W = np.ascontiguousarray(data.flows, dtype=np.float64)
    WT = np.ascontiguousarray(W.T)
    n = data.n
    sites = np.asarray(data.candidates, dtype=np.int64)
    m = sites.shape[0]
    fixed, hub_pos, fixed_costs = _site_positions(data, sites, hubs)
    chi, alpha, delta = data.chi, data.alpha, data.delta
    group = node_groups(C, groups)
    g_count = int(group.max()) + 1
    _, in_w = _group_flows(W, group)
    rows = np.flatnonzero(W.sum(axis=1) > 0).astype(np.int64)
    cols = np.flatnonzero(W.sum(axis=0) > 0).astype(np.int64)
    if m == 0 or rows.size == 0 or upper <= 0:
        return GroupBound(0.0, 0, g_count, time.perf_counter() - t0)
    e1 = triangle_slack(np.ascontiguousarray(C.T), sites, cols) if prune else 0.0

    def site_arrays(s: IntArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        return (np.ascontiguousarray(C[:, s]), np.ascontiguousarray(C[s, :].T),
                np.ascontiguousarray(C[np.ix_(s, s)].T))

    to_site, last_leg, between_t = site_arrays(sites)
    serve = (np.asarray(prices, dtype=np.float64) if prices is not None
             else delta * C[np.asarray(hubs, dtype=np.int64), :].min(axis=0))
    mu = np.repeat(np.maximum(0.0, serve[:, None] - delta * last_leg)[:, None, :], g_count,
                   axis=1)  # fmt: skip
    best_cost, _ = cheapest_first_hubs(last_leg, between_t, delta, alpha, mu, cols, prune, e1)
    nu = np.full((n, n), 0.0)
    for i in rows:
        tail = best_cost[cols, group[i]][:, hub_pos] if hub_pos.size else best_cost[cols,
                                                                                    group[i]]
        reach = chi * to_site[i, hub_pos] if hub_pos.size else chi * to_site[i]
        nu[i, cols] = (reach[None, :] + tail).min(axis=1)
    scale_in = _inverse(in_w)
    ctl = StepControl(upper, patience, stall_window, stall_share, handover)
    stalled = False
    closed: list[int] = []
    opened: list[int] = []
    while max_steps is None or ctl.steps < max_steps:
        if deadline is not None and time.perf_counter() > deadline:
            break
        bcost, via = cheapest_first_hubs(last_leg, between_t, delta, alpha, mu, cols, prune,
                                         e1)  # fmt: skip
        hub_part = -np.einsum("jg,jgk->k", in_w, mu)
        score = hub_part + pair_scores(W, to_site, bcost, group, nu, chi, rows)
        y = _open_hubs(score, data.p, fixed_costs, fixed)
        value = float((W * nu).sum()) + float(score @ y)
        if fixed_costs is not None:
            value += float(fixed_costs @ y)
        if ctl.record(value):
            break
        stalled = ctl.stalled(g_count * 2 > max_groups, deadline)
        if stalled:
            if g_count * 2 > max_groups:
                break
            group, parent = split_groups(C, group)
            if parent.shape[0] == g_count:
                break
            g_count = int(parent.shape[0])
            mu = np.ascontiguousarray(mu[:, parent, :])
            _, in_w = _group_flows(W, group)
            scale_in = _inverse(in_w)
            ctl.restart()
            stalled = False
            continue
        out = np.zeros(0, dtype=np.int64)
        if reduce:
            out, keep = reduction_test(value, score, y, data.p, fixed_costs, fixed, upper)
            if keep.size:
                fixed = np.union1d(fixed, keep).astype(np.int64)
                opened.extend(int(k) for k in sites[keep])
        open_ = np.flatnonzero(y > 0).astype(np.int64)
        s_nu, used, norm_nu = _pair_subgradient(WT, to_site, bcost, via, group, nu, chi, cols,
                                                open_, g_count)  # fmt: skip
        norm = norm_nu + subgradient(mu, used, in_w, y, scale_in)
        if not math.isfinite(norm) or norm <= 0:
            break
        t = ctl.length(value, norm)
        nu += t * s_nu
        move(mu, used, scale_in, t)
        if reduce and out.size:
            alive = np.ones(sites.shape[0], dtype=bool)
            alive[out] = False
            closed.extend(int(k) for k in sites[out])
            fixed = (np.cumsum(alive) - 1)[fixed].astype(np.int64)
            sites = sites[alive]
            to_site, last_leg, between_t = site_arrays(sites)
            mu = np.ascontiguousarray(mu[:, :, alive])
            if fixed_costs is not None:
                fixed_costs = fixed_costs[alive]
    return GroupBound(min(ctl.best, upper), ctl.steps, g_count, time.perf_counter() - t0, stalled,
                      tuple(sorted(closed)), tuple(sorted(opened)))
