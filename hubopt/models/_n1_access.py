"""The N-1 access constraint on hub sets.

Every demand point ``i`` with a positive weight must have at least two open hubs ``h``
with ``C[i, h] <= T``: after any single hub failure it still has one within ``T``.
A point with fewer than two candidate sites within ``T`` makes the model infeasible; the
error names those points (the constraint is never relaxed silently).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hubopt._errors import InfeasibleModelError, ModelSpecificationError
from hubopt.models.base import FloatArray, HubData, IntArray


class N1Access:
    """The points that need two hubs within ``limit`` and the sites that serve them."""

    def __init__(self, data: HubData, limit: float, weights: Sequence[float] | None) -> None:
        """``weights`` default to each node's flow (out plus in); positive ones count."""
        if weights is None:
            w: FloatArray = data.flows.sum(axis=0) + data.flows.sum(axis=1)
        else:
            w = np.asarray(weights, dtype=np.float64).reshape(-1)
            if w.shape != (data.n,) or not np.all(np.isfinite(w)) or np.any(w < 0):
                msg = f"n1_access weights: expected {data.n} finite numbers >= 0"
                raise ModelSpecificationError(msg)
        self.limit = float(limit)
        self.points: IntArray = np.flatnonzero(w > 0)
        cand = np.zeros(data.n, dtype=bool)
        cand[list(data.candidates)] = True
        # within[j, h]: site h is within the limit of point points[j]
        self.within = (data.costs[self.points] <= self.limit) & cand[None, :]
        short = self.points[self.within.sum(axis=1) < 2]
        if short.size:
            msg = (f"n1_access: points {short.tolist()} (0-based) have fewer than 2 candidate "
                   f"hub sites within {self.limit:g}; no design keeps them within "
                   f"{self.limit:g} of a hub after a single failure")
            raise InfeasibleModelError(msg)

    def feasible(self, sets: IntArray) -> np.ndarray:
        """One boolean per row of ``sets``: every point has two hubs of the row within T."""
        sets = np.asarray(sets, dtype=np.int64)
        out = np.empty(sets.shape[0], dtype=bool)
        step = max(1, 2_000_000 // max(1, self.points.size * max(1, sets.shape[1])))
        for s in range(0, sets.shape[0], step):
            chunk = sets[s : s + step]
            counts = self.within[:, chunk].sum(axis=2)  # (points, rows)
            out[s : s + step] = np.all(counts >= 2, axis=0)
        return out

    def violated(self, hubs: Sequence[int]) -> list[int]:
        """The points (0-based) with fewer than two of ``hubs`` within T."""
        counts = self.within[:, sorted(int(h) for h in hubs)].sum(axis=1)
        return self.points[counts < 2].tolist()
