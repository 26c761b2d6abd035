"""General variable neighbourhood search (GVNS) for single-allocation hub problems.

After the idea of Ilić, Urošević, Brimberg & Mladenović (2010, EJOR 206(2):289-300):
a variable neighbourhood descent (VND) over three neighbourhoods, restarted from
solutions shaken by ``k`` random hub swaps.

* **reallocate** one non-hub node to another open hub;
* **exchange** the hubs of two non-hub nodes allocated to different hubs;
* **swap** a hub with a non-hub site (the hub's nodes go to their best remaining hub
  or to the new one, other nodes move to the new hub where that is cheaper), ranked
  by an estimate, then reallocated by descent and compared exactly.

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

from hubopt._errors import ModelSpecificationError
from hubopt.models.base import FloatArray, HubData, IntArray

__all__ = ["gvns_single_allocation"]

_REL_EPS = 1e-10  # relative improvement that counts
_SWAP_SHORTLIST = 6  # hub swaps, ranked by the estimate, that are reallocated and compared
_DEFAULT_MAX_ITERATIONS = 60  # shakes without improvement before stopping
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

    def cost(self, a: IntArray) -> float:
        """Exact single-allocation cost of allocation ``a``."""
        transfer = float(np.einsum("ij,ij->", self.Wo, self.C[np.ix_(a, a)]))
        return float(self.acc[np.arange(self.n), a].sum()) + self.alpha * transfer


def _prepare(data: HubData) -> _Problem:
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
        self.value = prob.cost(self.a)

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
        flat = int(np.argmin(M))
        i, h = divmod(flat, M.shape[1])
        if not M[i, h] < -_REL_EPS * max(1.0, abs(state.value)):
            return moved
        state.move(i, h)
        moved = True


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
    flat = int(np.argmin(pair))
    r, s = divmod(flat, nodes.size)
    if not pair[r, s] < -_REL_EPS * max(1.0, abs(state.value)):
        return False
    i, j = int(nodes[r]), int(nodes[s])
    gi, gj = int(state.g[i]), int(state.g[j])
    state.move(i, gj)
    state.move(j, gi)
    return True


_Swap = tuple[float, int, int, IntArray, FloatArray]


def _swap_candidates(state: _State) -> list[_Swap]:
    """Estimated gain of every hub swap with the allocation it would start from."""
    prob = state.prob
    n = prob.n
    H = state.H
    p = H.size
    closable = [k for k in range(p) if int(H[k]) not in prob.fixed]
    sites = np.flatnonzero(prob.allowed & ~state.is_hub)
    if not closable or sites.size == 0:
        return []
    cur = state.current()
    # value of each node on every candidate site c as a hub (others where they are)
    Vc = prob.acc[:, sites] + prob.alpha * (
        state.Out @ prob.CT[np.ix_(H, sites)] + state.In @ prob.C[np.ix_(H, sites)]
    )
    E = Vc - cur[:, None]  # (n, s): gain of moving i to the new hub c
    order = np.argsort(state.V, axis=1)
    best1 = np.take_along_axis(state.V, order[:, :1], axis=1)[:, 0]
    best2 = np.take_along_axis(state.V, order[:, 1:2], axis=1)[:, 0] if p > 1 else best1 + np.inf
    arg1 = order[:, 0]
    arg2 = order[:, 1] if p > 1 else order[:, 0]
    nonhub = ~state.is_hub
    negE = np.minimum(E, 0.0)
    base = negE[nonhub].sum(axis=0)  # every non-hub node may defect to c
    site_index = np.full(n, -1, dtype=np.int64)
    site_index[sites] = np.arange(sites.size)
    cols = np.arange(sites.size)
    e_cc = E[sites, cols]  # c's own change when it becomes a hub
    out: list[_Swap] = []
    for k in closable:
        members = np.flatnonzero(state.g == k)  # hub H[k] itself included
        alt_pos = np.where(arg1[members] == k, arg2[members], arg1[members])
        alt_abs = np.where(arg1[members] == k, best2[members], best1[members])
        alt = alt_abs - cur[members]
        gain_m = np.minimum(alt[:, None], E[members])  # (|G_k|, s)
        est = base - negE[members][nonhub[members]].sum(axis=0) + gain_m.sum(axis=0)
        # remove the row of c itself (counted above as an ordinary node), add its move
        in_k = state.g[sites] == k
        own = np.where(
            in_k,
            gain_m[np.searchsorted(members, sites).clip(0, members.size - 1), cols],
            negE[sites, cols],
        )
        est = est - own + e_cc
        c_best = int(np.argmin(est))
        out.append((float(est[c_best]), k, int(sites[c_best]), alt_pos, alt_abs))
        # a second good site for this hub keeps the list diverse
        if sites.size > 1:
            est2 = est.copy()
            est2[c_best] = np.inf
            c2 = int(np.argmin(est2))
            out.append((float(est2[c2]), k, int(sites[c2]), alt_pos, alt_abs))
    out.sort(key=lambda t: t[0])
    return out


def _apply_swap(state: _State, k: int, c: int, alt_pos: IntArray, alt_val: FloatArray) -> _State:
    """A new state with hub ``H[k]`` replaced by ``c`` (allocation by the estimate)."""
    prob = state.prob
    H = state.H.copy()
    H[k] = c
    a = state.a.copy()
    members = np.flatnonzero(state.g == k)
    ci = int(c)
    Vc = prob.acc[:, ci] + prob.alpha * (
        state.Out @ prob.C[ci, state.H] + state.In @ prob.C[state.H, ci]
    )
    cur = state.current()
    to_c = Vc[members] <= alt_val
    a[members] = np.where(to_c, ci, state.H[alt_pos])
    others = ~state.is_hub & (Vc < cur)
    others[members] = False
    a[others] = ci
    a[ci] = ci
    order = np.argsort(H)
    H = H[order]
    return _State(prob, H, a)


def _swap(state: _State, deadline: float | None) -> _State | None:
    """First improving hub swap (after reallocation) among the best estimates."""
    for _, k, c, alt_pos, alt_val in _swap_candidates(state)[:_SWAP_SHORTLIST]:
        if deadline is not None and time.perf_counter() > deadline:
            return None
        trial = _apply_swap(state, k, c, alt_pos, alt_val)
        _reallocate(trial)
        if _improves(trial.value, state.value):
            return trial
    return None


def _vnd(state: _State, deadline: float | None) -> _State:
    """Reallocate, exchange and swap until none of them improves."""
    while True:
        _reallocate(state)
        if _exchange(state):
            continue
        if deadline is not None and time.perf_counter() > deadline:
            return state
        better = _swap(state, deadline)
        if better is None:
            return state
        state = better


def _shake(state: _State, k: int, rng: np.random.Generator) -> _State | None:
    """``k`` random hub swaps; the nodes of a closed hub go to their cheapest hub."""
    prob = state.prob
    H = state.H.copy()
    for _ in range(k):
        closable = [int(h) for h in H if int(h) not in prob.fixed]
        opened = set(H.tolist())
        sites = [int(c) for c in np.flatnonzero(prob.allowed) if int(c) not in opened]
        if not closable or not sites:
            break
        out = closable[int(rng.integers(len(closable)))]
        inn = sites[int(rng.integers(len(sites)))]
        H[H == out] = inn
    H = np.sort(H)
    if np.array_equal(H, state.H):
        return None
    a = state.a.copy()
    is_hub = np.zeros(prob.n, dtype=bool)
    is_hub[H] = True
    lost = ~is_hub[a]
    a[lost] = H[prob.acc[np.ix_(np.flatnonzero(lost), H)].argmin(axis=1)]
    a[H] = H
    return _State(prob, H, a)


def _initial(data: HubData, prob: _Problem, p: int) -> _State:
    """Greedy hub set on the p-median relaxation, nodes on their cheapest hub."""
    from hubopt.models.heuristics import greedy_hubs, pm_bounds

    H = np.asarray(greedy_hubs(data, p, cost=lambda sets: pm_bounds(data, sets)), dtype=np.int64)
    a = H[prob.acc[:, H].argmin(axis=1)]
    a[H] = H
    return _State(prob, H, a)


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
        Stop after this many shakes in a row without improvement (default 60).
    capacities
        Not supported yet (raises :class:`NotImplementedError`).

    Returns
    -------
    tuple
        ``(sorted hubs, allocation, objective)``; ``allocation[h] == h`` for every hub
        and the objective is recomputed exactly from the allocation.
    """
    if capacities is not None:
        msg = "gvns_single_allocation: capacities are not supported yet"
        raise NotImplementedError(msg)
    n_cand = data.n - len(data.excluded)
    if not 1 <= p <= n_cand or len(data.fixed_hubs) > p:
        msg = f"p: expected {max(1, len(data.fixed_hubs))} <= p <= {n_cand}, found {p}"
        raise ModelSpecificationError(msg)
    limit = _DEFAULT_MAX_ITERATIONS if max_iterations is None else max_iterations
    prob = _prepare(data)
    rng = np.random.default_rng(seed)
    if start is not None:
        H0, a0 = _check_start(data, p, start)
        state = _State(prob, H0, a0)
    else:
        state = _initial(data, prob, p)
    best = _vnd(state, deadline)
    free = sum(1 for h in best.H if int(h) not in prob.fixed)
    k_max = max(1, min(_K_MAX, free))
    k = 1
    stale = 0
    while stale < limit:
        if deadline is not None and time.perf_counter() > deadline:
            break
        shaken = _shake(best, k, rng)
        stale += 1
        if shaken is None:
            if free == 0 or n_cand == p:
                break
            continue
        trial = _vnd(shaken, deadline)
        if _improves(trial.value, best.value):
            best = trial
            k = 1
            stale = 0
        else:
            k = k + 1 if k < k_max else 1
    hubs = tuple(int(h) for h in np.sort(best.H))
    alloc = best.a.copy()
    return hubs, alloc, prob.cost(alloc)
