"""A Lagrangian bound whose work grows with ``n m^2``, for instances too large for the
path formulation's relaxation (:mod:`hubopt.models.sa_lagrangian`).

The path formulation of the multiple-allocation problems routes each OD pair ``(i, j)``
on one hub pair (``x_ijkl``, summing to 1) with ``sum_l x_ijkl <= y_k`` and ``sum_k
x_ijkl <= y_l``.  Its Lagrangian relaxation has a multiplier per OD pair and site, which
at 1,000 nodes with every node a site is 10^9 numbers.  Here the nodes fall into ``G``
groups (by cost, around ``G`` spread-out anchors), and the constraints of the OD pairs
from one origin to one group are summed with their flows::

    sum_{j in g} W_ij sum_l x_ijkl <= W_ig y_k     (origin i, group g, site k)
    sum_{i in g} W_ij sum_k x_ijkl <= W_gj y_l     (destination j, group g, site l)

Relaxing these with multipliers ``lam_igk, mu_jgl >= 0`` leaves

* for each OD pair the cheapest route under ``chi C_ik + lam_{i g(j) k} + alpha C_kl +
  delta C_lj + mu_{j g(i) l}``: first, for each origin, group and last hub ``l``, the
  best first hub (a min-plus product, ``O(n G m^2)``, whose scan stops early with the
  triangle inequality), then for each OD pair the best ``l`` (``O(pairs m)``);
* for the hubs, ``g_k = -sum_ig W_ig lam_igk - sum_jg W_gj mu_jgk``: the ``p`` smallest
  open (the fixed hubs always; with fixed costs every ``f_k + g_k < 0``, at least one).

Every multiplier vector gives a valid bound on the multiple-allocation optimum, hence
on every problem of the engine over the same costs (single allocation and capacities
only add constraints).  With one group the relaxation is that of Ernst & Krishnamoorthy's
flow formulation; with ``n`` groups, the path formulation's.  On a random Euclidean
training instance (n = 100, p = 5, converged) one group left 5.6 % to the optimum and
four groups 0.9 % (``docs/decisions.md``).  Subgradient steps towards the incumbent
(Polyak) raise it; each multiplier's step is divided by its flow ``W_ig``, which there
reached in 1,000 steps what the plain steps did not in 3,000.  The first multipliers
can be those of the facility-location relaxation (:func:`grouped_lagrangian_bound`), so
that the first bound is already at least that relaxation's.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from hubopt.models._group_kernels import (
    hub_scores,
    move,
    price_routes,
    subgradient,
    triangle_slack,
)
from hubopt.models.base import FloatArray, HubData, IntArray

__all__ = ["GroupBound", "StepControl", "grouped_lagrangian_bound", "node_groups",
           "reduction_test", "split_groups"]


@dataclass(frozen=True)
class GroupBound:
    """What :func:`grouped_lagrangian_bound` found: the best ``bound`` (a valid lower
    bound; 0 when no step ran), the ``steps`` made, the ``groups`` used and the
    ``seconds`` taken; ``stalled`` when it stopped for lack of progress.  ``closed`` and
    ``opened`` are the sites that the reduction test proved shut and open in every
    solution cheaper than the ``upper`` it was given (:func:`reduction_test`)."""

    bound: float
    steps: int
    groups: int
    seconds: float
    stalled: bool = False
    closed: tuple[int, ...] = ()
    opened: tuple[int, ...] = ()


@dataclass
class StepControl:
    """The Polyak steps of the grouped bounds towards the incumbent ``upper``: the best
    bound, the step factor ``theta`` (halved after ``patience`` steps without a better
    bound), the stall test (a rise below ``stall_share`` of the gap left over the last
    ``stall_window`` steps; 0: never) and ``handover``, the seconds the bound that
    follows needs (:meth:`hand_over`)."""

    upper: float
    patience: int
    stall_window: int = 0
    stall_share: float = 0.01
    handover: float = 0.0
    best: float = 0.0
    theta: float = 1.0
    since: int = 0
    steps: int = 0
    history: list[float] = field(default_factory=list)

    def record(self, value: float) -> bool:
        """Count a step whose subproblem gave ``value``; True when the bound is done (it
        reached the incumbent, or the step vanished)."""
        self.steps += 1
        if value > self.best * (1 + 1e-12):
            self.best = value
            self.since = 0
        else:
            self.since += 1
            if self.since >= self.patience:
                self.theta /= 2
                self.since = 0
        if self.best >= self.upper or self.theta < 1e-8:
            return True
        self.history.append(self.best)
        return False

    def stalled(self, at_cap: bool = False, deadline: float | None = None) -> bool:
        """Whether the bound rose too little over the last ``stall_window`` steps; with
        its groups ``at_cap``, only where it hands over (:meth:`hand_over`)."""
        w = self.stall_window
        if not w or len(self.history) <= w:
            return False
        if self.best - self.history[-1 - w] >= self.stall_share * (self.upper - self.best):
            return False
        return not at_cap or self.hand_over(deadline)

    def hand_over(self, deadline: float | None) -> bool:
        """At a stall with the groups at their cap: True when the bound ends there for
        the one that follows (the time left holds twice its ``handover`` seconds, and
        3 s); else False, and the steps go on without the stall test, so that the time
        limit is used."""
        if deadline is None or deadline - time.perf_counter() >= max(3.0, 2 * self.handover):
            return True
        self.stall_window = 0
        return False

    def restart(self) -> None:
        """Start the steps afresh (after the groups were cut)."""
        self.history = []
        self.theta = 1.0
        self.since = 0

    def length(self, value: float, norm: float) -> float:
        """The Polyak step length ``theta (upper - value) / norm``."""
        return self.theta * (self.upper - value) / norm


def node_groups(costs: FloatArray, groups: int) -> IntArray:
    """Each node's group: ``groups`` anchors spread by farthest-point insertion on
    ``C + C^T`` (from node 0), every node with its nearest anchor (the first on ties).

    >>> node_groups(np.array([[0., 1, 9, 9], [1, 0, 9, 9], [9, 9, 0, 1], [9, 9, 1, 0]]), 2)
    array([0, 0, 1, 1])
    """
    d = np.asarray(costs, dtype=np.float64)
    d = d + d.T
    n = d.shape[0]
    anchors = [0]
    near = d[0].copy()
    for _ in range(min(groups, n) - 1):
        a = int(np.argmax(near))
        if near[a] <= 0:
            break
        anchors.append(a)
        near = np.minimum(near, d[a])
    return np.asarray(np.argmin(d[anchors, :], axis=0), dtype=np.int64)


def split_groups(costs: FloatArray, group: IntArray) -> tuple[IntArray, IntArray]:
    """Each group of two or more nodes cut in two: its node nearest to the others (on
    ``C + C^T``) and the member farthest from it become anchors, every member joins
    the nearer (the first on ties).  Returns the new group of each node and the old
    group of each new one; groups of one node stay whole.

    >>> d = np.array([[0., 1, 9, 9], [1, 0, 9, 9], [9, 9, 0, 1], [9, 9, 1, 0]])
    >>> split_groups(d, np.array([0, 0, 0, 0]))
    (array([0, 0, 1, 1]), array([0, 0]))
    """
    d = np.asarray(costs, dtype=np.float64)
    d = d + d.T
    new = np.empty_like(np.asarray(group, dtype=np.int64))
    parent: list[int] = []
    for g in range(int(group.max()) + 1):
        members = np.flatnonzero(group == g)
        if members.size == 0:
            continue
        if members.size < 2:
            new[members] = len(parent)
            parent.append(g)
            continue
        inner = d[np.ix_(members, members)]
        a = int(np.argmin(inner.sum(axis=1)))
        b = int(np.argmax(inner[a]))
        if inner[a, b] <= 0:
            new[members] = len(parent)
            parent.append(g)
            continue
        second = inner[b] < inner[a]
        new[members] = len(parent) + second.astype(np.int64)
        parent.extend((g, g))
    return new, np.asarray(parent, dtype=np.int64)


def _group_flows(W: FloatArray, group: IntArray) -> tuple[FloatArray, FloatArray]:
    """Each node's flow to (``out_w[i, g]``) and from (``in_w[j, g]``) every group."""
    g_count = int(group.max()) + 1
    out_w = np.zeros((W.shape[0], g_count))
    in_w = np.zeros((W.shape[0], g_count))
    for g in range(g_count):
        members = group == g
        out_w[:, g] = W[:, members].sum(axis=1)
        in_w[:, g] = W[members, :].sum(axis=0)
    return out_w, in_w


def _site_positions(
    data: HubData, sites: IntArray, hubs: tuple[int, ...] = ()
) -> tuple[IntArray, IntArray, FloatArray | None]:
    """The positions in ``sites`` of the fixed hubs and of ``hubs`` (those among the
    sites), and the sites' fixed costs (None without)."""
    position = {int(k): a for a, k in enumerate(sites)}
    fixed = np.asarray([position[h] for h in data.fixed_hubs], dtype=np.int64)
    hub_pos = np.asarray([position[h] for h in hubs if h in position], dtype=np.int64)
    fixed_costs = None if data.fixed_costs is None else np.asarray(data.fixed_costs)[sites]
    return fixed, hub_pos, fixed_costs


def _inverse(flows: FloatArray) -> FloatArray:
    """``1 / flows`` where positive, else 0 (the steps' scale per node and group)."""
    with np.errstate(divide="ignore"):
        return np.where(flows > 0, 1.0 / flows, 0.0)


def _open_hubs(
    score: FloatArray, p: int | None, fixed_costs: FloatArray | None, fixed: IntArray
) -> FloatArray:
    """The hubs of the subproblem (0/1 over the sites) for the hub scores ``score``."""
    y = np.zeros(score.shape[0])
    y[fixed] = 1.0
    if p is not None:
        rest = np.flatnonzero(y == 0)
        take = max(0, p - len(fixed))
        y[rest[np.argsort(score[rest], kind="stable")[:take]]] = 1.0
        return y
    total = score + (0.0 if fixed_costs is None else fixed_costs)
    y[total < 0] = 1.0
    if not y.any():
        y[int(np.argmin(total))] = 1.0
    return y


def reduction_test(
    value: float,
    score: FloatArray,
    y: FloatArray,
    p: int | None,
    fixed_costs: FloatArray | None,
    fixed: IntArray,
    upper: float,
) -> tuple[IntArray, IntArray]:
    """Sites (positions) that no solution cheaper than ``upper`` opens, and sites that
    every such solution opens, from one subproblem: its ``value``, hub ``score`` and hubs
    ``y`` (:func:`_open_hubs`).

    The routes' part of the subproblem does not depend on the hubs, so forcing a shut
    site ``k`` open changes the value only in the hub part: with ``p`` hubs, ``k``
    replaces the dearest open one (``+ score_k - score_last``); with fixed costs it adds
    ``f_k + score_k``.  Forcing an open site shut likewise brings in the cheapest shut one
    (``- score_k + score_next``) or drops ``f_k + score_k``.  Where the forced value
    reaches ``upper`` (with a margin of 1e-9 of it for rounding), every cheaper solution
    keeps the site as the subproblem has it.

    >>> reduction_test(10.0, np.array([-5.0, -1.0, 0.0]), np.array([1.0, 0, 0]), 1,
    ...                None, np.zeros(0, dtype=np.int64), 13.5)
    (array([1, 2]), array([0]))
    """
    none = np.zeros(0, dtype=np.int64)
    margin = upper + 1e-9 * abs(upper)
    free = np.ones(score.shape[0], dtype=bool)
    free[fixed] = False
    shut = np.flatnonzero(free & (y == 0))
    open_ = np.flatnonzero(free & (y > 0))
    if p is not None:
        if open_.size == 0 or shut.size == 0:
            return none, none
        last = float(score[open_].max())
        following = float(score[shut].min())
        out = shut[value + score[shut] - last >= margin]
        keep = open_[value - score[open_] + following >= margin]
        return out.astype(np.int64), keep.astype(np.int64)
    total = score + (0.0 if fixed_costs is None else fixed_costs)
    if not (total[y > 0] < 0).all():
        return none, none  # the one forced hub of a subproblem that wants none
    out = shut[value + total[shut] >= margin]
    keep = open_[value - total[open_] >= margin] if open_.size + fixed.size > 1 else none
    return out.astype(np.int64), keep.astype(np.int64)


def grouped_lagrangian_bound(
    data: HubData,
    *,
    upper: float,
    hubs: tuple[int, ...],
    deadline: float | None,
    groups: int = 8,
    start_share: float = 0.5,
    patience: int = 40,
    max_steps: int | None = None,
    prune: bool = True,
    prices: tuple[FloatArray, FloatArray] | None = None,
    stall_window: int = 0,
    stall_share: float = 0.01,
    reduce: bool = True,
    max_groups: int | None = None,
    handover: float = 0.0,
) -> GroupBound:
    """Raise the grouped Lagrangian bound (module docstring) until ``deadline``.

    ``upper`` is the incumbent's objective (the steps aim at it; the bound stops there)
    and ``hubs`` its hub set: the first multipliers give each origin's flow the price
    ``start_share * max(0, chi d(i, hubs) - chi C_ik)`` at site ``k`` (and the same for
    the destinations), so the first bound already counts part of the access costs.
    ``patience`` steps without a better bound halve the step.  ``max_steps`` caps the
    steps (``None``: the deadline alone).  ``prices`` (each node's price per unit of
    outgoing and of incoming flow, :func:`hubopt.models.bounds.median_multipliers`)
    replace that start with ``max(0, price_i - chi C_ik)``: then the first bound is at
    least the facility-location relaxation's bound at those prices.  With
    ``stall_window`` (0: never) it stops when the bound rose by less than
    ``stall_share`` of the gap left to ``upper`` over the last ``stall_window`` steps.
    ``prune=False`` scans every hub pair (the same values, slower: for tests).
    ``reduce``: after each step, the sites that :func:`reduction_test` shuts leave the
    subproblem (its routes too: every cheaper solution avoids them), which raises the
    bound and speeds up the steps; the sites it opens become fixed hubs.
    ``max_groups`` (``None``: ``groups``): when the bound stalls, every group is cut in
    two (:func:`split_groups`) while the count stays within it, and the steps go on;
    beyond it the bound ends at a stall only where the time left holds twice
    ``handover`` seconds (the bound that follows: Benders), else it goes on to the
    deadline (:meth:`StepControl.hand_over`).
    """
    t0 = time.perf_counter()
    max_groups = groups if max_groups is None else max(groups, max_groups)
    C = np.ascontiguousarray(data.costs, dtype=np.float64)
    W = np.ascontiguousarray(data.flows, dtype=np.float64)
    n = data.n
    sites = np.asarray(data.candidates, dtype=np.int64)
    m = sites.shape[0]
    fixed, _, fixed_costs = _site_positions(data, sites)
    chi, alpha, delta = data.chi, data.alpha, data.delta
    group = node_groups(C, groups)
    g_count = int(group.max()) + 1
    out_w, in_w = _group_flows(W, group)
    rows = np.flatnonzero(W.sum(axis=1) > 0).astype(np.int64)
    if m == 0 or rows.size == 0 or upper <= 0:
        return GroupBound(0.0, 0, g_count, time.perf_counter() - t0)
    e1 = triangle_slack(C, sites, rows) if prune else 0.0
    to_site = np.ascontiguousarray(C[:, sites])
    between = np.ascontiguousarray(C[np.ix_(sites, sites)])
    from_site = np.ascontiguousarray(C[sites, :])
    lam = np.zeros((n, g_count, m))
    mu = np.zeros((n, g_count, m))
    hub_arr = np.asarray(hubs, dtype=np.int64)
    if prices is not None or hub_arr.size:
        if prices is not None:
            share = 1.0
            reach, serve = (np.asarray(x, dtype=np.float64) for x in prices)
        else:
            share = start_share
            reach = chi * C[:, hub_arr].min(axis=1)
            serve = delta * C[hub_arr, :].min(axis=0)
        lam[:] = (share * np.maximum(0.0, reach[:, None] - chi * to_site))[:, None, :]
        mu[:] = (share * np.maximum(0.0, serve[:, None] - delta * from_site.T))[:, None, :]
    scale_out, scale_in = _inverse(out_w), _inverse(in_w)
    ctl = StepControl(upper, patience, stall_window, stall_share, handover)
    stalled = False
    closed: list[int] = []
    opened: list[int] = []
    out = np.zeros(0, dtype=np.int64)
    while max_steps is None or ctl.steps < max_steps:
        if deadline is not None and time.perf_counter() > deadline:
            break
        routes, used_out, used_in = price_routes(
            to_site, between, from_site, W, chi, alpha, delta, lam, mu, group, rows, prune, e1
        )
        score = hub_scores(lam, mu, out_w, in_w)
        y = _open_hubs(score, data.p, fixed_costs, fixed)
        value = routes + float(score @ y)
        if fixed_costs is not None:
            value += float(fixed_costs @ y)
        if ctl.record(value):
            break
        stalled = ctl.stalled(g_count * 2 > max_groups, deadline)
        if stalled:
            if g_count * 2 > max_groups:
                break
            # finer groups: the children keep their parent's multipliers, so the
            # subproblem (and the bound) is the same, and the finer ties can rise
            group, parent = split_groups(C, group)
            if parent.shape[0] == g_count:
                break  # no group can be cut
            g_count = int(parent.shape[0])
            lam = np.ascontiguousarray(lam[:, parent, :])
            mu = np.ascontiguousarray(mu[:, parent, :])
            out_w, in_w = _group_flows(W, group)
            scale_out, scale_in = _inverse(out_w), _inverse(in_w)
            ctl.restart()
            stalled = False
            continue
        if reduce:
            out, keep = reduction_test(value, score, y, data.p, fixed_costs, fixed, upper)
            if keep.size:
                fixed = np.union1d(fixed, keep).astype(np.int64)
                opened.extend(int(k) for k in sites[keep])
        # the subgradient (in place of the routed flows), each multiplier's step
        # divided by its flow
        norm = subgradient(lam, used_out, out_w, y, scale_out) + subgradient(
            mu, used_in, in_w, y, scale_in)
        if not math.isfinite(norm) or norm <= 0:
            break  # the subproblem's routes fit its hubs: its value is the optimum
        t = ctl.length(value, norm)
        move(lam, used_out, scale_out, t)
        move(mu, used_in, scale_in, t)
        if reduce and out.size:
            # the shut sites leave (the triangle slack of fewer sites is no larger)
            alive = np.ones(sites.shape[0], dtype=bool)
            alive[out] = False
            closed.extend(int(k) for k in sites[out])
            new_position = np.cumsum(alive) - 1
            fixed = new_position[fixed].astype(np.int64)
            sites = sites[alive]
            to_site = np.ascontiguousarray(to_site[:, alive])
            between = np.ascontiguousarray(between[np.ix_(alive, alive)])
            from_site = np.ascontiguousarray(from_site[alive])
            lam = np.ascontiguousarray(lam[:, :, alive])
            mu = np.ascontiguousarray(mu[:, :, alive])
            if fixed_costs is not None:
                fixed_costs = fixed_costs[alive]
    return GroupBound(min(ctl.best, upper), ctl.steps, g_count, time.perf_counter() - t0, stalled,
                      tuple(sorted(closed)), tuple(sorted(opened)))
