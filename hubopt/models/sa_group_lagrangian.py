"""A grouped Lagrangian bound of the single-allocation problems (USApHMP, USAHLP), for
instances too large for the path formulation's relaxation
(:mod:`hubopt.models.sa_lagrangian`).

The multiple-allocation grouped bound (:mod:`hubopt.models.group_lagrangian`) bounds
single allocation too, but only from below the multiple-allocation optimum, which lies
3 % under the single-allocation one on random Euclidean 500.  Here each origin keeps
one hub for all its flow.  With single allocation every OD pair ``(i, j)`` runs from
``i``'s hub ``k`` to ``j``'s hub ``l``: ``sum_k x_ijkl = x_jl``.  The nodes fall into
``G`` groups (:func:`~hubopt.models.group_lagrangian.node_groups`), and these
destination-side constraints are summed with their flows over the origins of one
group::

    sum_{i in g} W_ij sum_k x_ijkl = W_gj x_jl       (destination j, group g, site l)

Relaxing them with free multipliers ``mu_jgl`` leaves each origin ``i`` allocated to
``k`` with its whole flow, every OD pair free to pick its last hub:

    F_ik = chi O_i C_ik + sum_j W_ij min_l (alpha C_kl + delta C_lj + mu_{j g(i) l})
           - sum_g W_gi mu_igk

(the min over ``l`` is a min-plus product over the site-to-site costs,
:func:`~hubopt.models._group_kernels.cheapest_first_costs` on the transposed costs, and
the sum over ``j`` a matrix product per group).  What remains is a p-median problem
over the costs ``F`` (a hub serves itself); its Lagrangian relaxation with a multiplier
``nu_i`` per node on ``sum_k x_ik = 1`` gives every site the score ``rho_k = sum_i
min(0, F_ik - nu_i)`` (the site's own node counted whatever its sign) and the value
``sum_i nu_i + sum of the p smallest scores`` (with fixed costs, every ``f_k + rho_k <
0``).  Every ``(mu, nu)`` gives a valid lower bound on the single-allocation optimum;
subgradient steps towards the incumbent (Polyak) raise it, each ``mu_jgl``'s step
divided by its flow ``W_gj`` and each ``nu_i``'s multiplied by ``nu_scale`` times the
node's flow.  With ``n`` groups the relaxation keeps every OD pair's consistency at its
destination and is at least as tight as the path formulation's.
"""

from __future__ import annotations

import math
import time

import numpy as np

from hubopt.models._group_kernels import (
    cheapest_first_costs,
    deflect_and_move,
    first_hubs_at,
    routed_minus_allocated,
    triangle_slack,
    weighted_dot,
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

__all__ = ["SingleAllocationGroups", "single_allocation_grouped_bound"]


class SingleAllocationGroups:
    """The relaxation's fixed data over the surviving ``sites`` and its subproblem
    (:meth:`value`) for given multipliers ``mu (n, G, m)`` and ``nu (n,)``."""

    def __init__(self, data: HubData, group: IntArray, prune: bool = True) -> None:
        C = np.ascontiguousarray(data.costs, dtype=np.float64)
        W = np.ascontiguousarray(data.flows, dtype=np.float64)
        self.C, self.W, self.data = C, W, data
        self.prune = prune
        self.sites = np.asarray(data.candidates, dtype=np.int64)
        self.origins = np.flatnonzero(W.sum(axis=1) > 0).astype(np.int64)
        self.dests = np.flatnonzero(W.sum(axis=0) > 0).astype(np.int64)
        self.out_total = W.sum(axis=1)
        self.node_flow = self.out_total + W.sum(axis=0)
        # the transposed costs: the kernel's "first leg" is the last leg delta C_lj
        self.e1 = triangle_slack(np.ascontiguousarray(C.T), self.sites, self.dests) if prune \
            else 0.0
        self.set_groups(group)
        self._site_arrays()

    def set_groups(self, group: IntArray, parent: IntArray | None = None) -> None:
        """Regroup the nodes (``parent``: each new group's old one, whose scan orders it
        keeps)."""
        self.group = np.asarray(group, dtype=np.int64)
        self.g_count = int(self.group.max()) + 1
        if parent is None:
            self.order = np.full((self.C.shape[0], self.g_count, self.sites.shape[0]), -1,
                                 dtype=np.int32)
        else:
            self.order = np.ascontiguousarray(self.order[:, parent, :])
        _, self.in_w = _group_flows(self.W, self.group)  # in_w[j, g] = W_gj
        self.members = [
            np.intersect1d(np.flatnonzero(self.group == g), self.origins)
            for g in range(self.g_count)
        ]
        self.rows_of = [np.ascontiguousarray(self.W[mem]) for mem in self.members]

    def _site_arrays(self) -> None:
        C, s = self.C, self.sites
        self.to_site = np.ascontiguousarray(C[:, s])  # C[i, s_k]
        self.last_leg = np.ascontiguousarray(C[s, :].T)  # C[s_l, j]
        self.between_t = np.ascontiguousarray(C[np.ix_(s, s)].T)  # [l, k] = C[s_k, s_l]
        self.own = np.full(self.C.shape[0], -1, dtype=np.int64)  # a site node's position
        self.own[s] = np.arange(s.shape[0])

    def drop_sites(self, alive: np.ndarray) -> None:
        """Keep the sites where ``alive`` (the rest are shut in every cheaper solution)."""
        self.sites = self.sites[alive]
        self._site_arrays()
        # every scan order without the shut sites, renumbered (rows never sorted stay so)
        n, g, m = self.order.shape
        fresh = self.order[:, :, 0] < 0
        order = np.where(fresh[:, :, None], np.arange(m, dtype=np.int32), self.order)
        kept = order[alive[order]].reshape(n, g, self.sites.shape[0])
        self.order = (np.cumsum(alive) - 1).astype(np.int32)[kept]
        self.order[fresh] = -1

    def allocation_costs(self, mu: FloatArray) -> FloatArray:
        """``F[i, k]`` (module docstring)."""
        d = self.data
        best = cheapest_first_costs(
            self.last_leg, self.between_t, d.delta, d.alpha, mu, self.dests, self.prune,
            self.e1, self.order,
        )
        F = d.chi * self.out_total[:, None] * self.to_site
        F -= np.einsum("jg,jgk->jk", self.in_w, mu)
        for g, mem in enumerate(self.members):
            if mem.size:
                F[mem] += self.rows_of[g] @ best[g]
        return F

    def last_hubs(self, mu: FloatArray, cols: IntArray) -> np.ndarray:
        """``via[j, g, c]``: the last hub of the OD pairs from group ``g``'s origins
        allocated to the site ``cols[c]`` to destination ``j``, at the ``mu`` of the last
        :meth:`allocation_costs` (whose scan orders it reads)."""
        d = self.data
        return first_hubs_at(self.last_leg, self.between_t, d.delta, d.alpha, mu, self.dests,
                             self.prune, self.e1, self.order, cols)

    def value(
        self, mu: FloatArray, nu: FloatArray, fixed: IntArray, fixed_costs: FloatArray | None
    ) -> tuple[float, FloatArray, FloatArray, np.ndarray]:
        """The subproblem at ``(mu, nu)``: its value (a lower bound), the site scores, the
        open sites ``y`` and the allocations ``x (n, m)``."""
        F = self.allocation_costs(mu)
        R = F - nu[:, None]
        x = R < 0
        m = self.sites.shape[0]
        idx = np.arange(m)
        x[self.sites, idx] = True  # a hub serves itself, whatever its sign
        score = np.where(x, R, 0.0).sum(axis=0)
        y = _open_hubs(score, self.data.p, fixed_costs, fixed)
        value = float(nu.sum()) + float(score @ y)
        if fixed_costs is not None:
            value += float(fixed_costs @ y)
        x &= y[None, :] > 0
        return value, score, y, x

    def subgradient(
        self, x: np.ndarray, mu: FloatArray, scale: FloatArray | None = None,
        last: FloatArray | None = None,
    ) -> tuple[FloatArray, FloatArray, float, float]:
        """``(s_mu, s_nu)`` at the allocations ``x`` of the subproblem at ``mu``: routed
        minus allocated flow per ``(j, g, l)``, and ``1 - sum_k x_ik`` per node; then
        ``s_mu``'s inner products with itself and with ``last`` (0 where ``None``),
        each term weighted by ``scale[j, g]`` (1 where ``None``)."""
        open_ = np.flatnonzero(x.any(axis=0))
        via = self.last_hubs(mu, open_)
        # sent[g, c, j]: the flow to j from group g's origins allocated to open_[c]
        sent = np.zeros((self.g_count, open_.shape[0], x.shape[0]))
        for g, mem in enumerate(self.members):
            if mem.size:
                sent[g] = x[np.ix_(mem, open_)].T.astype(np.float64) @ self.rows_of[g]
        weight = np.ones_like(self.in_w) if scale is None else scale
        before = np.empty((0, 0, 0)) if last is None else last
        used, own, cross = routed_minus_allocated(sent, via, x, self.in_w, weight, before)
        return used, 1.0 - x.sum(axis=1), own, cross


def single_allocation_grouped_bound(
    data: HubData,
    *,
    upper: float,
    hubs: tuple[int, ...],
    deadline: float | None,
    groups: int = 8,
    patience: int = 40,
    max_steps: int | None = None,
    prune: bool = True,
    starts: tuple[float, ...] = (0.0, 0.5, 1.0),
    nu_scale: float = 0.3,
    stall_window: int = 0,
    stall_share: float = 0.01,
    reduce: bool = True,
    max_groups: int | None = None,
    deflection: float = 1.5,
    handover: float = 0.0,
) -> GroupBound:
    """Raise the single-allocation grouped bound (module docstring) until ``deadline``
    (a step starts only where the last step's time fits before it).

    ``upper`` is the incumbent's objective (the steps aim at it; the bound stops there)
    and ``hubs`` its hub set.  The first multipliers are ``mu_jgl = -s delta C_lj`` for
    the share ``s`` of ``starts`` whose subproblem is best (``s = 1`` moves every
    delivery into the allocation, ``s = 0`` none), and ``nu_i = min_{k in hubs}
    F_ik``.  ``patience`` steps without a better bound halve the step; ``max_steps``
    caps them.  With ``stall_window`` (0: never) a rise below ``stall_share`` of the gap
    left over the last ``stall_window`` steps cuts every group in two while the count
    stays within ``max_groups`` (``None``: ``groups``), else ends the bound where the
    time left holds twice ``handover`` seconds (the bound that follows), or goes on to
    the deadline.  ``reduce``:
    the sites that :func:`~hubopt.models.group_lagrangian.reduction_test` shuts leave the
    subproblem, the ones it opens become fixed.  ``deflection`` (Camerini, Fratta &
    Maffioli 1975; 0: plain subgradients): where the subgradient ``s`` points against
    the last direction ``d`` (``s.d < 0`` in the steps' metric), the step goes along
    ``s - deflection (s.d / d.d) d``, so that it does not undo the last step; the
    Polyak length uses that direction's norm.  ``prune=False`` scans every hub pair
    (the same values, slower: for tests).
    """
    t0 = time.perf_counter()
    max_groups = groups if max_groups is None else max(groups, max_groups)
    C = np.asarray(data.costs, dtype=np.float64)
    n = data.n
    sub = SingleAllocationGroups(data, node_groups(C, groups), prune)
    m = sub.sites.shape[0]
    if m == 0 or sub.origins.size == 0 or upper <= 0:
        return GroupBound(0.0, 0, sub.g_count, time.perf_counter() - t0)
    fixed, hub_pos, fixed_costs = _site_positions(data, sub.sites, hubs)
    mu = np.zeros((n, sub.g_count, m))
    nu = np.zeros(n)
    best_value = -math.inf
    for share in starts:
        trial = np.repeat((-share * data.delta * sub.last_leg)[:, None, :], sub.g_count, axis=1)
        F = sub.allocation_costs(trial)
        trial_nu = F[:, hub_pos].min(axis=1) if hub_pos.size else F.min(axis=1)
        v = sub.value(trial, trial_nu, fixed, fixed_costs)[0]
        if v > best_value:
            best_value, mu, nu = v, trial, trial_nu
    scale_nu = nu_scale * sub.node_flow
    scale_mu = _inverse(sub.in_w)
    ctl = StepControl(upper, patience, stall_window, stall_share, handover)
    stalled = False
    closed: list[int] = []
    opened: list[int] = []
    last: tuple[FloatArray, FloatArray] | None = None  # the last step's direction
    last_norm = 0.0  # its norm

    def dot(a: tuple[FloatArray, FloatArray], b: tuple[FloatArray, FloatArray]) -> float:
        # the inner product of the steps' metric
        return weighted_dot(a[0], b[0], scale_mu) + float((a[1] * b[1]) @ scale_nu)

    step_seconds = 0.0  # the last step's time: a step starts only where it fits
    while max_steps is None or ctl.steps < max_steps:
        started = time.perf_counter()
        if deadline is not None and started + step_seconds > deadline:
            break
        value, score, y, x = sub.value(mu, nu, fixed, fixed_costs)
        if ctl.record(value):
            break
        stalled = ctl.stalled(sub.g_count * 2 > max_groups, deadline)
        if stalled:
            if sub.g_count * 2 > max_groups:
                break
            group, parent = split_groups(C, sub.group)
            if parent.shape[0] == sub.g_count:
                break  # no group can be cut
            # the children keep their parent's multipliers: the same subproblem
            sub.set_groups(group, parent)
            mu = np.ascontiguousarray(mu[:, parent, :])
            scale_mu = _inverse(sub.in_w)
            ctl.restart()
            stalled = False
            last = None
            step_seconds *= 2  # twice the groups
            continue
        out = np.zeros(0, dtype=np.int64)
        if reduce:
            out, keep = reduction_test(value, score, y, data.p, fixed_costs, fixed, upper)
            if keep.size:
                fixed = np.union1d(fixed, keep).astype(np.int64)
                opened.extend(int(k) for k in sub.sites[keep])
        before = last if deflection > 0 else None  # the last direction, to deflect from
        s_mu, s_nu, norm_mu, cross_mu = sub.subgradient(
            x, mu, scale_mu, None if before is None else before[0])
        norm = norm_mu + float((s_nu * s_nu) @ scale_nu)
        if not math.isfinite(norm) or norm <= 0:
            break  # the subproblem's allocation is consistent: its value is the optimum
        beta = 0.0
        if before is not None:
            against = cross_mu + float((s_nu * before[1]) @ scale_nu)
            if against < 0:
                # |s + beta d|^2, without a pass over the multipliers
                b = -deflection * against / last_norm
                d_norm = norm + 2 * b * against + b * b * last_norm
                if math.isfinite(d_norm) and d_norm > 0:
                    beta, norm = b, d_norm
        t = ctl.length(value, norm)
        # the direction s + beta d (in place), and the step along it
        deflect_and_move(mu, s_mu, s_mu if before is None else before[0], beta, t, scale_mu)
        if before is not None and beta:
            s_nu += beta * before[1]
        nu += t * scale_nu * s_nu
        last, last_norm = (s_mu, s_nu), norm
        step_seconds = time.perf_counter() - started
        if reduce and out.size:
            alive = np.ones(sub.sites.shape[0], dtype=bool)
            alive[out] = False
            closed.extend(int(k) for k in sub.sites[out])
            fixed = (np.cumsum(alive) - 1)[fixed].astype(np.int64)
            sub.drop_sites(alive)
            mu = np.ascontiguousarray(mu[:, :, alive])
            if last is not None:
                last = (np.ascontiguousarray(last[0][:, :, alive]), last[1])
                last_norm = dot(last, last)
            if fixed_costs is not None:
                fixed_costs = fixed_costs[alive]
    return GroupBound(min(ctl.best, upper), ctl.steps, sub.g_count, time.perf_counter() - t0,
                      stalled, tuple(sorted(closed)), tuple(sorted(opened)))
