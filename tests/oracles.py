"""Shared test oracles: random instances, brute force over hub sets and allocations, and
objectives recomputed from the matrices with plain loops.

Written from the problem definitions; nothing here shares code with the engine (but
:func:`gappy_instance`, which draws its points with ``hubopt.instances.random_euclidean``).
The path ``i -> k -> m -> j`` costs ``chi C_ik + alpha C_km + delta C_mj`` per unit of
flow.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence

import numpy as np

CHI, ALPHA, DELTA = 3.0, 0.75, 2.0


def random_instance(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Costs (Euclidean distances of ``n`` points in a 100 x 100 square), flows (20 %
    of the pairs without flow), fixed costs in 200-900 and capacities of 30-70 % of the
    total flow: ``(C, W, f, cap)``."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, size=(n, 2))
    C = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    W = rng.uniform(0, 10, size=(n, n)) * (rng.uniform(size=(n, n)) < 0.8)
    f = rng.uniform(200, 900, size=n)
    O = W.sum(1)
    cap = O.sum() * rng.uniform(0.3, 0.7, size=n)
    return C, W, f, cap


def gappy_instance(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """hubopt's random Euclidean instance with 30 % of the flows removed (so that pairs
    without flow occur) and fixed costs of the order of the transport cost: ``(C, W, f)``."""
    from hubopt.instances import random_euclidean

    inst = random_euclidean(n, seed=seed)
    rng = np.random.default_rng(seed)
    W = inst.flows * (rng.uniform(size=(n, n)) < 0.7)
    f = rng.uniform(20_000, 80_000, size=n)
    return inst.costs, W, f


def path_cost(C, i, k, m, j, *, chi=CHI, alpha=ALPHA, delta=DELTA) -> float:
    """Unit cost of the path ``i -> k -> m -> j``."""
    return chi * C[i, k] + alpha * C[k, m] + delta * C[m, j]


def sets_of_size(n: int, p: int, fixed=(), excluded=()) -> list[tuple[int, ...]]:
    """Every hub set of ``p`` sites (not ``excluded``) that contains ``fixed``."""
    cand = [k for k in range(n) if k not in excluded]
    return [H for H in itertools.combinations(cand, p) if set(fixed) <= set(H)]


def all_sets(n: int, fixed=(), excluded=()) -> list[tuple[int, ...]]:
    """Every non-empty hub set (fixed-cost problems)."""
    return [H for q in range(1, n + 1) for H in sets_of_size(n, q, fixed, excluded)]


def single_allocation_cost(
    C, W, a: Sequence[int], *, f=None, chi=CHI, alpha=ALPHA, delta=DELTA
) -> float:
    """Objective of the single allocation ``a`` (node -> hub), recomputed with loops:
    transport plus the fixed costs of the hubs used."""
    n = len(C)
    total = sum(
        W[i, j] * path_cost(C, i, a[i], a[j], j, chi=chi, alpha=alpha, delta=delta)
        for i in range(n)
        for j in range(n)
    )
    if f is not None:
        total += sum(f[k] for k in set(a))
    return float(total)


def multiple_allocation_cost(
    C, W, H: Iterable[int], *, f=None, chi=CHI, alpha=ALPHA, delta=DELTA
) -> float:
    """Objective of the hub set ``H`` under multiple allocation (each pair on its
    cheapest route), recomputed with loops."""
    n = len(C)
    hubs = list(H)
    total = 0.0
    for i in range(n):
        for j in range(n):
            total += W[i, j] * min(
                path_cost(C, i, k, m, j, chi=chi, alpha=alpha, delta=delta)
                for k in hubs
                for m in hubs
            )
    if f is not None:
        total += sum(f[k] for k in hubs)
    return total


def brute_single(C, W, hub_sets, *, f=None, cap=None, chi=CHI, alpha=ALPHA, delta=DELTA):
    """The single-allocation optimum over ``hub_sets`` and every allocation to each
    (within the capacities ``cap`` of the origin flows when given)."""
    n = len(C)
    best = math.inf
    for H in hub_sets:
        others = [i for i in range(n) if i not in H]
        for choice in itertools.product(H, repeat=len(others)):
            a = list(range(n))
            for i, k in zip(others, choice, strict=True):
                a[i] = k
            if cap is not None:
                load = dict.fromkeys(H, 0.0)
                for i in range(n):
                    load[a[i]] += W[i].sum()
                if any(load[k] > cap[k] + 1e-9 for k in H):
                    continue
            total = sum(
                W[i, j] * path_cost(C, i, a[i], a[j], j, chi=chi, alpha=alpha, delta=delta)
                for i in range(n)
                for j in range(n)
            )
            if f is not None:
                total += sum(f[k] for k in H)
            best = min(best, total)
    return best


def brute_multiple(C, W, hub_sets, *, f=None, chi=CHI, alpha=ALPHA, delta=DELTA):
    """The multiple-allocation optimum over ``hub_sets``."""
    return min(
        multiple_allocation_cost(C, W, H, f=f, chi=chi, alpha=alpha, delta=delta) for H in hub_sets
    )


# ---------------------------------------------------------------- p-hub center / hub covering


def route_tensor(C, *, chi, alpha, delta) -> np.ndarray:
    """``T[i, j, k, m] = chi C_ik + alpha C_km + delta C_mj`` (unit route costs)."""
    C = np.asarray(C, dtype=float)
    first = chi * C[:, None, :, None] + alpha * C[None, None, :, :]
    return first + delta * C.T[None, :, None, :]


def _center_value_of_allocations(T, pairs, allocations) -> np.ndarray:
    """Largest route cost of each row of ``allocations`` (node -> hub) over ``pairs``."""
    I, J = pairs
    return T[I, J, allocations[:, I], allocations[:, J]].max(axis=1)


def brute_center_multiple(C, W, hub_sets, *, chi, alpha, delta):
    """``(value, hubs)``: every hub set, each pair on its cheapest route through it."""
    T = route_tensor(C, chi=chi, alpha=alpha, delta=delta)
    mask = np.asarray(W) > 0
    best = (math.inf, None)
    for H in hub_sets:
        idx = list(H)
        worst = T[:, :, idx][:, :, :, idx].min(axis=(2, 3))[mask].max()
        if worst < best[0]:
            best = (float(worst), tuple(H))
    return best


def allocations_of(n, H) -> np.ndarray:
    """Every single allocation to the hub set ``H`` (hubs to themselves): rows of n."""
    others = [i for i in range(n) if i not in H]
    rows = []
    for combo in itertools.product(H, repeat=len(others)):
        a = np.arange(n)
        a[others] = combo
        rows.append(a)
    return np.array(rows, dtype=np.int64)


def brute_center_single(C, W, hub_sets, *, chi, alpha, delta):
    """``(value, hubs, allocation)``: every hub set and every allocation to it."""
    T = route_tensor(C, chi=chi, alpha=alpha, delta=delta)
    pairs = np.nonzero(np.asarray(W) > 0)
    n = len(C)
    best = (math.inf, None, None)
    for H in hub_sets:
        allocs = allocations_of(n, H)
        for s in range(0, len(allocs), 20000):
            chunk = allocs[s:s + 20000]
            vals = _center_value_of_allocations(T, pairs, chunk)
            t = int(vals.argmin())
            if vals[t] < best[0]:
                best = (float(vals[t]), tuple(H), chunk[t].copy())
    return best


def brute_covering(C, W, hub_sets, max_cost, *, single, chi, alpha, delta, f=None):
    """``(weight, hubs)``: the cheapest hub set (count, or ``f``) under which every pair
    with flow has a route within ``max_cost`` (single: some allocation does it)."""
    T = route_tensor(C, chi=chi, alpha=alpha, delta=delta)
    pairs = np.nonzero(np.asarray(W) > 0)
    mask = np.asarray(W) > 0
    n = len(C)
    best = (math.inf, None)
    for H in hub_sets:
        weight = float(len(H)) if f is None else float(sum(f[k] for k in H))
        if weight >= best[0]:
            continue
        idx = list(H)
        if single:
            ok = bool((_center_value_of_allocations(T, pairs, allocations_of(n, H))
                       <= max_cost).any())
        else:
            ok = bool(T[:, :, idx][:, :, :, idx].min(axis=(2, 3))[mask].max() <= max_cost)
        if ok:
            best = (weight, tuple(H))
    return best


def max_route_cost_loops(C, W, allocation, *, single, chi, alpha, delta) -> float:
    """The largest route cost over the pairs with flow, with plain loops."""
    n = len(C)
    worst = 0.0
    for i in range(n):
        for j in range(n):
            if W[i][j] <= 0:
                continue
            if single:
                k, m = int(allocation[i]), int(allocation[j])
            else:
                k, m = (int(v) for v in allocation[i][j])
            worst = max(worst, path_cost(C, i, k, m, j, chi=chi, alpha=alpha, delta=delta))
    return worst


def single_allocation_below(C, W, H, value, *, chi, alpha, delta) -> np.ndarray | None:
    """An allocation to the hub set ``H`` whose every route with flow costs less than
    ``value``, or ``None`` when none exists: an exhaustive search over the allocations
    (arc consistency on the pairs, then branching on the smallest domain)."""
    T = route_tensor(C, chi=chi, alpha=alpha, delta=delta)
    n, H = len(C), list(H)
    ok = T[:, :, H][:, :, :, H] < value  # (i, j, a, b): i at H[a], j at H[b] is cheap enough
    flow = np.asarray(W) > 0
    ok[~flow] = True
    diag = np.array([ok[i, i].diagonal() for i in range(n)])  # pair (i, i): one hub twice
    dom = diag.copy()
    for a, k in enumerate(H):
        dom[k] = False
        dom[k, a] = diag[k, a]

    def propagate(d: np.ndarray) -> np.ndarray | None:
        while True:
            # i may use a if every j it exchanges flow with keeps a compatible hub
            out = (ok & d[None, :, None, :]).any(axis=3).all(axis=1)
            inn = (ok & d[:, None, :, None]).any(axis=2).all(axis=0)
            new = d & out & inn
            if not new.any(axis=1).all():
                return None
            if (new == d).all():
                return new
            d = new

    def search(d: np.ndarray) -> np.ndarray | None:
        d = propagate(d)
        if d is None:
            return None
        sizes = d.sum(axis=1)
        if (sizes == 1).all():
            return np.array([H[int(a)] for a in d.argmax(axis=1)])
        i = int(np.argmin(np.where(sizes > 1, sizes, n * len(H) + 1)))
        for a in np.flatnonzero(d[i]):
            trial = d.copy()
            trial[i] = False
            trial[i, a] = True
            found = search(trial)
            if found is not None:
                return found
        return None

    return search(dom)
