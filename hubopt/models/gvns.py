"""General variable neighbourhood search (GVNS) for single-allocation hub problems.

After the idea of Ilić, Urošević, Brimberg & Mladenović (2010, EJOR), GVNS for USApHMP:
a variable neighbourhood descent (VND) over three neighbourhoods, restarted from
solutions shaken by ``k`` random hub swaps.

* **reallocate** one non-hub node to another open hub;
* **exchange** the hubs of two non-hub nodes allocated to different hubs;
* **swap** a hub with a non-hub site (the hub's nodes go to their best remaining hub
  or to the new one, other nodes move to the new hub where that is cheaper), ranked
  by an estimate, then reallocated by descent and compared exactly.

:func:`gvns_single_allocation` solves USApHMP (``p`` hubs);
:func:`gvns_single_allocation_fixed_cost` solves USAHLP, where opening costs are paid
and the descent and the shaking also open and close hubs.  Both accept hub capacities
(CSAHLP): moves then keep every hub within its capacity, overloaded solutions from
shaking are repaired, and a further move lets a node into a full hub after another
node leaves it.

The cost of node ``i`` on hub ``h`` with every other node fixed is ::

    V[i, h] = chi O_i C_ih + delta D_i C_hi + alpha W_ii C_hh
              + alpha sum_m (Out[i, m] C_{h, m} + In[i, m] C_{m, h})

where ``Out[i, m]`` (``In[i, m]``) is the flow from (to) ``i`` to (from) the other
nodes allocated to hub ``m``.  ``Out`` and ``In`` are kept up to date by rank-one
updates, so every neighbourhood is evaluated as a few numpy array operations.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from hubopt._errors import InfeasibleModelError, ModelSpecificationError
from hubopt.models.base import FloatArray, HubData, IntArray

__all__ = ["gvns_single_allocation", "gvns_single_allocation_fixed_cost"]

_REL_EPS = 1e-10  # relative improvement that counts
_SWAP_SHORTLIST = 6  # hub swaps, ranked by the estimate, that are reallocated and compared
_DEFAULT_MAX_ITERATIONS = 60  # shakes without improvement before stopping
_DEFAULT_MAX_ITERATIONS_CAPACITATED = 200  # capacities make the descent weaker
_K_MAX = 12  # largest number of random hub swaps in a shake


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


def _shake(
    state: _State, k: int, rng: np.random.Generator, *, free_count: bool = False
) -> _State | None:
    """``k`` random hub moves (swaps; also adds and drops when the count is free).

    The nodes of a closed hub go to their cheapest open hub by access cost.
    """
    prob = state.prob
    hubs = state.H.tolist()
    for _ in range(k):
        closable = [h for h in hubs if h not in prob.fixed]
        opened = set(hubs)
        sites = [int(c) for c in np.flatnonzero(prob.allowed) if int(c) not in opened]
        kinds = []
        if closable and sites:
            kinds.append("swap")
        if free_count and sites:
            kinds.append("add")
        if free_count and closable and len(hubs) > 1:
            kinds.append("drop")
        if not kinds:
            break
        kind = kinds[0] if len(kinds) == 1 else kinds[int(rng.integers(len(kinds)))]
        if kind in ("swap", "drop"):
            hubs.remove(closable[int(rng.integers(len(closable)))])
        if kind in ("swap", "add"):
            hubs.append(sites[int(rng.integers(len(sites)))])
    H = np.asarray(sorted(hubs), dtype=np.int64)
    if np.array_equal(H, state.H):
        return None
    a = state.a.copy()
    is_hub = np.zeros(prob.n, dtype=bool)
    is_hub[H] = True
    lost = ~is_hub[a]
    a[lost] = H[prob.acc[np.ix_(np.flatnonzero(lost), H)].argmin(axis=1)]
    a[H] = H
    return _State(prob, H, a)


def _shake_allocation(state: _State, k: int, rng: np.random.Generator) -> None:
    """``k`` random reallocations that keep the capacities (capacitated problems)."""
    prob = state.prob
    nodes = np.flatnonzero(~state.is_hub)
    for _ in range(k):
        if nodes.size == 0:
            return
        i = int(nodes[int(rng.integers(nodes.size))])
        fits = np.flatnonzero(state.room() >= prob.O[i])
        fits = fits[fits != state.g[i]]
        if fits.size:
            state.move(i, int(fits[int(rng.integers(fits.size))]))


def _search(
    best: _State,
    *,
    deadline: float | None,
    seed: int,
    limit: int,
    free_count: bool,
) -> _State:
    """The GVNS loop: shake the best solution by k moves, descend, keep the better."""
    prob = best.prob
    rng = np.random.default_rng(seed)
    best = _vnd(best, deadline, free_count=free_count)
    k = 1
    stale = 0
    while stale < limit:
        if deadline is not None and time.perf_counter() > deadline:
            break
        free = sum(1 for h in best.H if int(h) not in prob.fixed)
        n_sites = int(prob.allowed.sum())
        if not free_count and (free == 0 or n_sites == best.H.size):
            break  # a single hub set is possible
        k_max = max(1, min(_K_MAX, free if not free_count else max(free, 2)))
        k = min(k, k_max)
        shaken: _State | None
        if prob.cap is not None and stale % 2 == 1:
            # capacitated: every other shake keeps the hubs and moves k + 1 nodes
            shaken = _State(prob, best.H, best.a)
            _shake_allocation(shaken, k + 1, rng)
        else:
            shaken = _shake(best, k, rng, free_count=free_count)
            if shaken is not None:
                shaken = _repair(shaken)
        stale += 1
        if shaken is None:
            continue
        trial = _vnd(shaken, deadline, free_count=free_count)
        if _improves(trial.total, best.total):
            best = trial
            k = 1
            stale = 0
        else:
            k = k + 1 if k < k_max else 1
    return best


def _nearest(prob: _Problem, H: IntArray) -> _State | None:
    """Nodes on their cheapest hub by access cost, repaired to fit the capacities."""
    a = H[prob.acc[:, H].argmin(axis=1)]
    a[H] = H
    return _repair(_State(prob, H, a))


_NO_FEASIBLE = "no allocation within the hub capacities was found"


def _initial(data: HubData, prob: _Problem, p: int) -> _State:
    """Greedy hub set on the p-median relaxation, nodes on their cheapest hub.

    With capacities, falls back to the fixed hubs plus the largest capacities.
    """
    from hubopt.models.heuristics import greedy_hubs, pm_bounds

    H = np.asarray(greedy_hubs(data, p, cost=lambda sets: pm_bounds(data, sets)), dtype=np.int64)
    state = _nearest(prob, H)
    if state is None and prob.cap is not None:
        hubs = list(data.fixed_hubs)
        for c in np.argsort(-np.where(prob.allowed, prob.cap, -np.inf), kind="stable"):
            if len(hubs) == p:
                break
            if int(c) not in hubs:
                hubs.append(int(c))
        state = _nearest(prob, np.asarray(sorted(hubs), dtype=np.int64))
    if state is None:
        raise InfeasibleModelError(_NO_FEASIBLE)
    return state


def _initial_free(data: HubData, prob: _Problem) -> _State:
    """Add hubs greedily while the p-median relaxation plus opening costs falls."""
    from hubopt.models.heuristics import pm_bounds

    hubs = list(data.fixed_hubs)
    current = np.inf
    if hubs:
        current = float(pm_bounds(data, np.array([hubs]))[0] + prob.f[hubs].sum())
    while True:
        cands = [int(c) for c in np.flatnonzero(prob.allowed) if int(c) not in set(hubs)]
        if not cands:
            break
        sets = np.array([[*hubs, c] for c in cands], dtype=np.int64)
        vals = pm_bounds(data, sets) + prob.f[sets].sum(axis=1)
        b = int(np.argmin(vals))
        if not vals[b] < current:
            break
        hubs.append(cands[b])
        current = float(vals[b])
    state = _nearest(prob, np.asarray(sorted(hubs), dtype=np.int64))
    while state is None and prob.cap is not None:
        # open the largest remaining capacity until the nodes fit
        spare = np.where(prob.allowed, prob.cap, -np.inf)
        spare[hubs] = -np.inf
        c = int(np.argmax(spare))
        if not np.isfinite(spare[c]):
            break
        hubs.append(c)
        state = _nearest(prob, np.asarray(sorted(hubs), dtype=np.int64))
    if state is None:
        raise InfeasibleModelError(_NO_FEASIBLE)
    return state


def _check_start(
    data: HubData, p: int, start: tuple[tuple[int, ...], IntArray]
) -> tuple[IntArray, IntArray]:
    hubs, alloc = start
    H = np.asarray(sorted({int(h) for h in hubs}), dtype=np.int64)
    a = np.asarray(alloc, dtype=np.int64).reshape(-1)
    problems = []
    if H.size != p:
        problems.append(f"start: expected {p} distinct hubs, found {H.size}")
    if a.shape != (data.n,):
        problems.append(f"start: expected an allocation of {data.n} nodes, found {a.size}")
    if H.size and (H.min() < 0 or H.max() >= data.n):
        problems.append("start: hubs must be node indices")
    if not problems:
        if set(H.tolist()) & set(data.excluded):
            problems.append("start: opens an excluded site")
        if set(data.fixed_hubs) - set(H.tolist()):
            problems.append("start: closes a hub that must stay open")
        is_hub = np.zeros(data.n, dtype=bool)
        is_hub[H] = True
        if a.min() < 0 or a.max() >= data.n or not np.all(is_hub[a]):
            problems.append("start: a node is allocated to a closed hub")
        elif not np.all(a[H] == H):
            problems.append("start: a hub is not allocated to itself")
    if problems:
        raise ModelSpecificationError("; ".join(problems))
    return H, a


def _default_limit(capacities: FloatArray | None) -> int:
    if capacities is None:
        return _DEFAULT_MAX_ITERATIONS
    return _DEFAULT_MAX_ITERATIONS_CAPACITATED


def _check_capacities(data: HubData, capacities: FloatArray | None) -> FloatArray | None:
    if capacities is None:
        return None
    cap = np.asarray(capacities, dtype=np.float64).reshape(-1)
    if cap.shape != (data.n,) or not np.all(np.isfinite(cap)) or np.any(cap < 0):
        msg = f"capacities: expected {data.n} finite non-negative values (one per node)"
        raise ModelSpecificationError(msg)
    return cap


def _feasible_start(prob: _Problem, H: IntArray, a: IntArray) -> _State:
    state = _State(prob, H, a)
    if not state.feasible():
        over = state.H[state.room() < 0].tolist()
        msg = f"start: hubs {over} exceed their capacities"
        raise ModelSpecificationError(msg)
    return state


def gvns_single_allocation(
    data: HubData,
    p: int,
    *,
    deadline: float | None = None,
    seed: int = 0,
    start: tuple[tuple[int, ...], IntArray] | None = None,
    max_iterations: int | None = None,
    capacities: FloatArray | None = None,
) -> tuple[tuple[int, ...], IntArray, float]:
    """Search ``p`` hubs and a single allocation of least transport cost (USApHMP).

    Parameters
    ----------
    data
        The instance; ``fixed_hubs`` are never closed, ``excluded`` sites never opened.
    p
        Number of hubs.
    deadline
        Absolute ``time.perf_counter()`` value at which to stop (``None``: no limit).
    seed
        Seed of the shaking (same seed, same result when the deadline is not hit).
    start
        ``(hubs, allocation)`` to start from; the result is never worse than it.
    max_iterations
        Stop after this many shakes in a row without improvement (default 60; 200
        with capacities, where the descent is weaker).
    capacities
        Hub capacities on the flow originating at the nodes allocated to a hub
        (``sum_{i: a_i = k} O_i <= capacities[k]``); every move keeps them.

    Returns
    -------
    tuple
        ``(sorted hubs, allocation, objective)``; ``allocation[h] == h`` for every hub
        and the objective is recomputed exactly from the allocation.
    """
    n_cand = data.n - len(data.excluded)
    if not 1 <= p <= n_cand or len(data.fixed_hubs) > p:
        msg = f"p: expected {max(1, len(data.fixed_hubs))} <= p <= {n_cand}, found {p}"
        raise ModelSpecificationError(msg)
    limit = _default_limit(capacities) if max_iterations is None else max_iterations
    prob = _prepare(data, capacities=_check_capacities(data, capacities))
    if start is not None:
        H0, a0 = _check_start(data, p, start)
        state = _feasible_start(prob, H0, a0)
    else:
        state = _initial(data, prob, p)
    best = _search(state, deadline=deadline, seed=seed, limit=limit, free_count=False)
    hubs = tuple(int(h) for h in np.sort(best.H))
    alloc = best.a.copy()
    return hubs, alloc, prob.cost(alloc)


def gvns_single_allocation_fixed_cost(
    data: HubData,
    *,
    deadline: float | None = None,
    seed: int = 0,
    start: tuple[tuple[int, ...], IntArray] | None = None,
    max_iterations: int | None = None,
    capacities: FloatArray | None = None,
) -> tuple[tuple[int, ...], IntArray, float]:
    """Search hubs and a single allocation of least transport plus opening cost.

    USAHLP, or CSAHLP with ``capacities`` (pass ``data.capacities``).  The number of
    hubs is free: the descent and the shaking also open and close hubs.  Parameters
    and result as :func:`gvns_single_allocation` (``data.fixed_costs`` is required);
    the objective includes the opening costs of the hubs.
    """
    if data.fixed_costs is None:
        msg = "fixed_costs: expected one opening cost per node, found none"
        raise ModelSpecificationError(msg)
    limit = _default_limit(capacities) if max_iterations is None else max_iterations
    prob = _prepare(data, with_fixed_costs=True, capacities=_check_capacities(data, capacities))
    if start is not None:
        H0, a0 = _check_start(data, len({int(h) for h in start[0]}), start)
        state = _feasible_start(prob, H0, a0)
    else:
        state = _initial_free(data, prob)
    best = _search(state, deadline=deadline, seed=seed, limit=limit, free_count=True)
    hubs = tuple(int(h) for h in np.sort(best.H))
    alloc = best.a.copy()
    return hubs, alloc, prob.cost(alloc) + float(prob.f[list(hubs)].sum())
