"""Lagrangian bounds on the resilient single-allocation objective of many hub sets at once.

For a hub set ``H`` each scenario's single allocation costs at least ``SA*(H \\ F)``, the
best single allocation to the hubs left, and ``SA*`` is at least the one-sided Lagrangian
bound of :func:`~hubopt.models.heuristics.sa_lagrangian_bounds` (``L``).  So::

    E_SA(H) >= (1 - Q_H) L(H) + sum_k q_k L(H \\ k)       W_SA(H) >= max_F L(H \\ F)

Scenario sets ``H \\ F`` are shared by many hub sets: each is bounded once (a cache), in
batches (vectorised subgradient steps), while a deadline allows.  The bounds of the hub
set search are sharpened with these before any allocation MIP is solved.
"""

from __future__ import annotations

import time

import numpy as np

from hubopt.models._resilience_eval import drop_patterns, expected_from_costs
from hubopt.models.base import FloatArray, HubData, IntArray
from hubopt.models.heuristics import sa_lagrangian_bounds, sa_lower_bounds

_CHUNK_CELLS = 2_000_000  # sets x n x n per batch (memory of the subgradient arrays)


class LagrangianCache:
    """One-sided Lagrangian bounds on ``SA*`` per hub set (sorted tuple), at least the
    one-sided relaxations of :func:`~hubopt.models.heuristics.sa_lower_bounds`."""

    def __init__(self, data: HubData) -> None:
        """Bounds on ``data``."""
        self.data = data
        self.values: dict[tuple[int, ...], float] = {}

    def fill(self, sets: IntArray, target: float, deadline: float | None) -> bool:
        """Bound every row of ``sets`` not cached yet; ``False`` if the deadline stopped it."""
        rows = [tuple(int(h) for h in s) for s in np.sort(np.asarray(sets), axis=1)]
        todo = np.array(sorted({s for s in rows if s not in self.values}), dtype=np.int64)
        if todo.size == 0:
            return True
        n = self.data.n
        step = max(8, _CHUNK_CELLS // (n * n * max(1, todo.shape[1])))
        for s in range(0, todo.shape[0], step):
            if deadline is not None and time.perf_counter() > deadline:
                return False
            chunk = todo[s : s + step]
            one = sa_lower_bounds(self.data, chunk)
            lag, _ = sa_lagrangian_bounds(self.data, chunk, target=target)
            for key, v in zip(chunk.tolist(), np.maximum(lag, one).tolist(), strict=True):
                self.values[tuple(key)] = float(v)
        return True

    def get(self, hubs: IntArray) -> float | None:
        """The cached bound of ``hubs``, or ``None``."""
        return self.values.get(tuple(sorted(int(h) for h in hubs)))


def lagrangian_set_bounds(
    cache: LagrangianCache, sets: IntArray, kind: str, r: int, q: FloatArray, target: float,
    deadline: float | None,
) -> tuple[FloatArray, int]:
    """The bounds of the module docstring for the leading rows of ``sets`` (in batches
    until ``deadline``); returns the bounds of the rows done and their number.
    ``target``: about the value a set must reach to be pruned (the subgradient steps aim
    at it)."""
    sets = np.asarray(sets, dtype=np.int64)
    B, p = sets.shape
    rr = 1 if kind == "expected" else r
    keep = drop_patterns(p, rr)
    out = np.empty(B)
    done = 0
    step = 64
    while done < B:
        chunk = sets[done : done + step]
        subs = chunk[:, keep].reshape(-1, p - rr)
        ok = cache.fill(subs, 1.1 * target, deadline)
        if kind == "expected":
            ok = ok and cache.fill(chunk, target, deadline)
        if not ok:
            break
        parts = np.array([cache.get(s) for s in subs], dtype=np.float64).reshape(
            chunk.shape[0], keep.shape[0])
        if kind == "expected":
            whole = np.array([cache.get(s) for s in chunk], dtype=np.float64)
            out[done : done + chunk.shape[0]] = expected_from_costs(chunk, q, whole, parts)
        else:
            out[done : done + chunk.shape[0]] = parts.max(axis=1)
        done += chunk.shape[0]
    return out[:done], done
