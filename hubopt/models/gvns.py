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

import numpy as np

from hubopt._errors import InfeasibleModelError, ModelSpecificationError
from hubopt.models._gvns_moves import (
    _improves,
    _prepare,
    _Problem,
    _repair,
    _State,
    _vnd,
)
from hubopt.models.base import FloatArray, HubData, IntArray

__all__ = ["gvns_single_allocation", "gvns_single_allocation_fixed_cost"]

_DEFAULT_MAX_ITERATIONS = 60  # shakes without improvement before stopping
_DEFAULT_MAX_ITERATIONS_CAPACITATED = 200  # capacities make the descent weaker
_K_MAX = 12  # largest number of random hub swaps in a shake


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
