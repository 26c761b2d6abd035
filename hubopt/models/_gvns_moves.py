"""The state and the neighbourhoods of the GVNS (:mod:`hubopt.models.gvns`): a solution
with its ``Out``/``In`` flows kept by rank-one updates, the reallocate, exchange and eject
moves, the hub moves (swap, drop, add) ranked on an estimate, and the variable
neighbourhood descent over them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from hubopt.models.base import FloatArray, HubData, IntArray

_REL_EPS = 1e-10  # relative improvement that counts
_SWAP_SHORTLIST = 6  # hub swaps, ranked by the estimate, that are reallocated and compared


@dataclass(frozen=True, eq=False)
class _Problem:
    """Arrays derived once from the data."""

    C: FloatArray  # costs
    CT: FloatArray  # costs transposed (contiguous: BLAS is slow on transposed views)
    Wo: FloatArray  # flows without the diagonal
    WoT: FloatArray  # its transpose, contiguous
    acc: FloatArray  # acc[i, h]: collection + distribution + own flow of i through hub h
    alpha: float
    n: int
    fixed: frozenset[int]
    allowed: FloatArray  # bool mask of candidate hub sites
    f: FloatArray  # opening cost of every site (zeros for p-hub medians)
    O: FloatArray  # flow originating at each node (the load it puts on its hub)
    cap: FloatArray | None  # hub capacities on that load, or None

    def cost(self, a: IntArray) -> float:
        """Exact single-allocation cost of allocation ``a``."""
        transfer = float(np.einsum("ij,ij->", self.Wo, self.C[np.ix_(a, a)]))
        return float(self.acc[np.arange(self.n), a].sum()) + self.alpha * transfer


def _prepare(
    data: HubData, *, with_fixed_costs: bool = False, capacities: FloatArray | None = None
) -> _Problem:
    C = np.asarray(data.costs, dtype=np.float64)
    W = np.asarray(data.flows, dtype=np.float64)
    O = W.sum(axis=1)
    D = W.sum(axis=0)
    acc = data.chi * O[:, None] * C + data.delta * D[:, None] * C.T
    acc = acc + data.alpha * np.diag(W)[:, None] * np.diag(C)[None, :]
    Wo = W.copy()
    np.fill_diagonal(Wo, 0.0)
    allowed = np.ones(data.n, dtype=bool)
    allowed[list(data.excluded)] = False
    if capacities is not None:
        # a hub serves itself: a site whose own flow exceeds its capacity never opens
        allowed &= O <= np.asarray(capacities, dtype=np.float64) * (1 + 1e-12) + 1e-12
    f = np.zeros(data.n)
    if with_fixed_costs and data.fixed_costs is not None:
        f = np.asarray(data.fixed_costs, dtype=np.float64)
    return _Problem(
        C=C,
        CT=np.ascontiguousarray(C.T),
        Wo=Wo,
        WoT=np.ascontiguousarray(Wo.T),
        acc=acc,
        alpha=data.alpha,
        n=data.n,
        fixed=frozenset(data.fixed_hubs),
        allowed=allowed,
        f=f,
        O=O,
        cap=None if capacities is None else np.asarray(capacities, dtype=np.float64),
    )


class _State:
    """A solution with the aggregated flows that make moves cheap to evaluate."""

    def __init__(self, prob: _Problem, hubs: IntArray, a: IntArray) -> None:
        self.prob = prob
        self.H = np.asarray(hubs, dtype=np.int64).copy()
        self.a = np.asarray(a, dtype=np.int64).copy()
        n, p = prob.n, self.H.size
        self.pos = np.full(n, -1, dtype=np.int64)
        self.pos[self.H] = np.arange(p)
        self.g = self.pos[self.a]  # group (hub position) of every node
        self.is_hub = np.zeros(n, dtype=bool)
        self.is_hub[self.H] = True
        self.CHH = prob.C[np.ix_(self.H, self.H)]
        Z = np.zeros((n, p))
        Z[np.arange(n), self.g] = 1.0
        self.Out = prob.Wo @ Z
        self.In = prob.WoT @ Z
        self._refresh_values()
        self.value = prob.cost(self.a)  # transport cost
        self.fixed_total = float(prob.f[self.H].sum())
        self.load = np.bincount(self.g, weights=prob.O, minlength=p)
        self.cap = None if prob.cap is None else prob.cap[self.H] * (1 + 1e-12) + 1e-12

    def room(self) -> FloatArray:
        """Spare capacity of each hub (infinite without capacities)."""
        if self.cap is None:
            return np.full(self.H.size, np.inf)
        return np.asarray(self.cap - self.load)

    def feasible(self) -> bool:
        """True when no hub is over its capacity."""
        return bool(np.all(self.room() >= 0))

    @property
    def total(self) -> float:
        """Transport cost plus the opening costs of the hubs."""
        return self.value + self.fixed_total

    def _refresh_values(self) -> None:
        prob = self.prob
        CHH_T = np.ascontiguousarray(self.CHH.T)
        self.V = prob.acc[:, self.H] + prob.alpha * (self.Out @ CHH_T + self.In @ self.CHH)

    def current(self) -> FloatArray:
        """``V[i, g_i]``: the cost attributable to each node where it is."""
        return np.asarray(self.V[np.arange(self.prob.n), self.g])

    def move(self, i: int, h: int) -> None:
        """Allocate non-hub node ``i`` to the hub at position ``h`` (updates V exactly)."""
        g = int(self.g[i])
        if g == h:
            return
        prob = self.prob
        col_out = prob.Wo[:, i]  # flow j -> i: Out[j, .] changes
        row_in = prob.Wo[i, :]  # flow i -> j: In[j, .] changes
        delta_v = self.V[i, h] - self.V[i, g]
        self.Out[:, g] -= col_out
        self.Out[:, h] += col_out
        self.In[:, g] -= row_in
        self.In[:, h] += row_in
        dC_row = self.CHH[:, h] - self.CHH[:, g]  # C[m, h] - C[m, g] for every m
        dC_col = self.CHH[h, :] - self.CHH[g, :]  # C[h, m] - C[g, m]
        self.V += prob.alpha * (np.outer(col_out, dC_row) + np.outer(row_in, dC_col))
        self.g[i] = h
        self.a[i] = self.H[h]
        self.load[g] -= prob.O[i]
        self.load[h] += prob.O[i]
        self.value += float(delta_v)


def _improves(new: float, old: float) -> bool:
    return new < old - _REL_EPS * max(1.0, abs(old))


def _reallocate(state: _State) -> bool:
    """Best-improvement reallocation descent; True if anything moved."""
    moved = False
    hub_rows = state.is_hub
    while True:
        M = state.V - state.current()[:, None]
        M[hub_rows] = 0.0
        if state.cap is not None:
            M[state.prob.O[:, None] > state.room()[None, :]] = np.inf  # no room (own hub: 0)
            M[np.arange(M.shape[0]), state.g] = 0.0
            M[hub_rows] = 0.0
        flat = int(np.argmin(M))
        i, h = divmod(flat, M.shape[1])
        if not M[i, h] < -_REL_EPS * max(1.0, abs(state.value)):
            return moved
        state.move(i, h)
        moved = True


def _pack(prob: _Problem, H: IntArray) -> IntArray | None:
    """Allocate the non-hub nodes, heaviest first, each to its cheapest hub with room."""
    assert prob.cap is not None
    cap = prob.cap[H] * (1 + 1e-12) + 1e-12
    load = prob.O[H].copy()
    if np.any(load > cap):
        return None
    a = np.empty(prob.n, dtype=np.int64)
    a[H] = H
    is_hub = np.zeros(prob.n, dtype=bool)
    is_hub[H] = True
    others = np.flatnonzero(~is_hub)
    for i in others[np.argsort(-prob.O[others], kind="stable")]:
        costs = np.where(load + prob.O[i] <= cap, prob.acc[i, H], np.inf)
        h = int(np.argmin(costs))
        if not np.isfinite(costs[h]):
            return None
        a[i] = H[h]
        load[h] += prob.O[i]
    return a


def _repair(state: _State) -> _State | None:
    """Move nodes off overloaded hubs at least cost; ``None`` if no feasible allocation."""
    if state.cap is None:
        return state
    prob = state.prob
    for _ in range(2 * prob.n):
        room = state.room()
        over = room < 0
        if not over.any():
            return state
        idx = np.flatnonzero(~state.is_hub & over[state.g])
        M = state.V[idx] - state.current()[idx, None]
        M[(prob.O[idx, None] > room[None, :]) | over[None, :]] = np.inf
        if idx.size == 0 or not np.isfinite(M).any():
            break
        r, h = divmod(int(np.argmin(M)), M.shape[1])
        state.move(int(idx[r]), h)
    a = _pack(prob, state.H)
    return None if a is None else _State(prob, state.H, a)


def _exchange(state: _State) -> bool:
    """Best exchange of the hubs of two non-hub nodes; True if it improved."""
    prob = state.prob
    nodes = np.flatnonzero(~state.is_hub)
    if nodes.size < 2 or state.H.size < 2:
        return False
    M = state.V[nodes] - state.current()[nodes, None]
    g = state.g[nodes]
    a = state.a[nodes]
    pair = M[:, g] + M[:, g].T  # M[i, g_j] + M[j, g_i]
    Caa = prob.C[np.ix_(a, a)]
    diag = np.diag(Caa)
    corr = Caa + Caa.T - diag[:, None] - diag[None, :]
    w = prob.Wo[np.ix_(nodes, nodes)]
    pair += prob.alpha * (w + w.T) * corr
    pair[g[:, None] == g[None, :]] = 0.0
    if state.cap is not None:
        room = state.room()
        o = prob.O[nodes]
        grow = o[:, None] - o[None, :]  # load change of j's hub when i joins and j leaves
        pair[(grow > room[g][None, :]) | (-grow > room[g][:, None])] = np.inf
    flat = int(np.argmin(pair))
    r, s = divmod(flat, nodes.size)
    if not pair[r, s] < -_REL_EPS * max(1.0, abs(state.value)):
        return False
    i, j = int(nodes[r]), int(nodes[s])
    gi, gj = int(state.g[i]), int(state.g[j])
    state.move(i, gj)
    state.move(j, gi)
    return True


def _eject(state: _State, tries: int = 4) -> bool:
    """Capacitated only: move ``i`` into a full hub ``h`` after moving some ``j`` out of it.

    Pairs are ranked by the sum of the two single-move changes (which ignores the
    flow between ``i`` and ``j``); the best few are applied exactly and undone unless
    the cost falls.  True if it improved.
    """
    if state.cap is None or state.H.size < 2:
        return False
    prob = state.prob
    O = prob.O
    room = state.room()
    nonhub = ~state.is_hub
    M = state.V - state.current()[:, None]
    M[~nonhub] = np.inf
    tol = _REL_EPS * max(1.0, abs(state.value))
    found: list[tuple[float, int, int, int, int]] = []
    for h in range(state.H.size):
        want = np.flatnonzero((M[:, h] < -tol) & (O > room[h]) & (state.g != h))
        leave = np.flatnonzero(nonhub & (state.g == h))
        if want.size == 0 or leave.size == 0:
            continue
        Mj = M[leave].copy()
        Mj[:, h] = np.inf
        Mj[O[leave, None] > room[None, :]] = np.inf
        m_best = Mj.argmin(axis=1)
        j_cost = Mj[np.arange(leave.size), m_best]
        total = M[want, h][:, None] + j_cost[None, :]
        total[O[leave][None, :] < (O[want] - room[h])[:, None]] = np.inf
        r, c = divmod(int(np.argmin(total)), leave.size)
        if total[r, c] < -tol:
            found.append((float(total[r, c]), int(want[r]), h, int(leave[c]), int(m_best[c])))
    found.sort()
    for _, i, h, j, m in found[:tries]:
        before = state.value
        gi = int(state.g[i])
        state.move(j, m)
        state.move(i, h)
        if _improves(state.value, before) and state.feasible():
            return True
        state.move(i, gi)
        state.move(j, h)
    return False


@dataclass(frozen=True, eq=False)
class _Landscape:
    """What the hub-set moves of one state are estimated from."""

    sites: IntArray  # closed candidate sites
    cur: FloatArray  # V[i, g_i]
    Vc: FloatArray  # (n, s): value of node i on site c opened as a hub
    E: FloatArray  # Vc - cur
    neg_e: FloatArray  # min(E, 0)
    base: FloatArray  # (s,): sum over non-hub nodes of min(E, 0)
    e_cc: FloatArray  # (s,): change of c's own value when it becomes a hub
    alt_pos: IntArray  # (n, p): best hub position of i when position k closes
    alt_val: FloatArray  # (n, p): its value


def _landscape(state: _State) -> _Landscape:
    prob = state.prob
    H = state.H
    p = H.size
    sites = np.flatnonzero(prob.allowed & ~state.is_hub)
    cur = state.current()
    Vc = prob.acc[:, sites] + prob.alpha * (
        state.Out @ prob.CT[np.ix_(H, sites)] + state.In @ prob.C[np.ix_(H, sites)]
    )
    E = Vc - cur[:, None]
    neg_e = np.minimum(E, 0.0)
    order = np.argsort(state.V, axis=1)
    best1 = np.take_along_axis(state.V, order[:, :1], axis=1)
    arg1 = order[:, :1]
    if p > 1:
        best2 = np.take_along_axis(state.V, order[:, 1:2], axis=1)
        arg2 = order[:, 1:2]
    else:
        best2 = np.full_like(best1, np.inf)
        arg2 = arg1
    closing = arg1 == np.arange(p)[None, :]
    return _Landscape(
        sites=sites,
        cur=cur,
        Vc=Vc,
        E=E,
        neg_e=neg_e,
        base=neg_e[~state.is_hub].sum(axis=0),
        e_cc=E[sites, np.arange(sites.size)],
        alt_pos=np.where(closing, arg2, arg1),
        alt_val=np.where(closing, best2, best1),
    )


_Move = tuple[float, tuple[str, int, int]]


def _swap_moves(state: _State, land: _Landscape) -> list[_Move]:
    """Estimated change of the two best hub swaps for every closable hub."""
    prob = state.prob
    H = state.H
    closable = [k for k in range(H.size) if int(H[k]) not in prob.fixed]
    sites = land.sites
    if not closable or sites.size == 0:
        return []
    nonhub = ~state.is_hub
    cols = np.arange(sites.size)
    out: list[_Move] = []
    for k in closable:
        members = np.flatnonzero(state.g == k)  # hub H[k] itself included
        alt = land.alt_val[members, k] - land.cur[members]
        gain_m = np.minimum(alt[:, None], land.E[members])  # (|G_k|, s)
        est = land.base - land.neg_e[members][nonhub[members]].sum(axis=0) + gain_m.sum(axis=0)
        # remove the row of c itself (counted above as an ordinary node), add its move
        in_k = state.g[sites] == k
        own = np.where(
            in_k,
            gain_m[np.searchsorted(members, sites).clip(0, members.size - 1), cols],
            land.neg_e[sites, cols],
        )
        est = est - own + land.e_cc + prob.f[sites] - prob.f[H[k]]
        for c in np.argsort(est, kind="stable")[:2]:
            out.append((float(est[c]), ("swap", k, int(c))))
    return out


def _drop_moves(state: _State, land: _Landscape) -> list[_Move]:
    """Estimated change of closing each hub (its nodes go to their best other hub)."""
    prob = state.prob
    H = state.H
    if H.size < 2:
        return []
    out: list[_Move] = []
    for k in range(H.size):
        if int(H[k]) in prob.fixed:
            continue
        members = np.flatnonzero(state.g == k)
        est = float((land.alt_val[members, k] - land.cur[members]).sum()) - float(prob.f[H[k]])
        out.append((est, ("drop", k, -1)))
    return out


def _add_moves(state: _State, land: _Landscape) -> list[_Move]:
    """Estimated change of opening each closed site (nodes move to it where cheaper)."""
    prob = state.prob
    sites = land.sites
    if sites.size == 0:
        return []
    cols = np.arange(sites.size)
    est = land.base - land.neg_e[sites, cols] + land.e_cc + prob.f[sites]
    return [(float(est[c]), ("add", -1, int(c))) for c in np.argsort(est, kind="stable")[:8]]


def _build(state: _State, land: _Landscape, move: tuple[str, int, int]) -> _State:
    """The state after ``move``, allocated as its estimate assumed."""
    kind, k, ci = move
    H = state.H.copy()
    a = state.a.copy()
    nonhub = ~state.is_hub
    if kind in ("swap", "drop"):
        members = np.flatnonzero(state.g == k)
        a[members] = H[land.alt_pos[members, k]]
    if kind in ("swap", "add"):
        c = int(land.sites[ci])
        vc = land.Vc[:, ci]
        others = nonhub & (vc < land.cur)
        if kind == "swap":
            members = np.flatnonzero(state.g == k)
            others[members] = False
            to_c = vc[members] <= land.alt_val[members, k]
            a[members[to_c]] = c
        a[others] = c
        a[c] = c
    if kind == "swap":
        H[k] = int(land.sites[ci])
    elif kind == "drop":
        H = np.delete(H, k)
    else:
        H = np.append(H, int(land.sites[ci]))
    return _State(state.prob, np.sort(H), a)


def _hub_move(state: _State, deadline: float | None, *, free_count: bool) -> _State | None:
    """First improving hub-set move (after reallocation) among the best estimates."""
    land = _landscape(state)
    moves = sorted(_swap_moves(state, land), key=lambda t: t[0])[:_SWAP_SHORTLIST]
    if free_count:
        extra = sorted(_drop_moves(state, land) + _add_moves(state, land), key=lambda t: t[0])
        moves = sorted(moves + extra[:_SWAP_SHORTLIST], key=lambda t: t[0])
    for _, move in moves:
        if deadline is not None and time.perf_counter() > deadline:
            return None
        built = _repair(_build(state, land, move))
        if built is None:
            continue
        trial = built
        _reallocate(trial)
        if _improves(trial.total, state.total):
            return trial
    return None


def _vnd(state: _State, deadline: float | None, *, free_count: bool = False) -> _State:
    """Reallocate, exchange and change the hub set until none of them improves."""
    while True:
        _reallocate(state)
        if _exchange(state) or _eject(state):
            continue
        if deadline is not None and time.perf_counter() > deadline:
            return state
        better = _hub_move(state, deadline, free_count=free_count)
        if better is None:
            return state
        state = better
