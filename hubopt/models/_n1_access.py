"""The N-1 access constraint on hub sets.

Every demand point ``i`` with a positive weight must have at least two open hubs ``h``
with ``C[i, h] <= T``: after any single hub failure it still has one within ``T``.
A point with fewer than two candidate sites within ``T`` makes the model infeasible; the
error names those points.  With ``relax`` such a point needs every candidate site within
``T`` open instead (one site: that site; none: no requirement), the most N-1 access the
sites allow.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hubopt._errors import InfeasibleModelError, ModelSpecificationError
from hubopt.models.base import FloatArray, HubData, IntArray


class N1Access:
    """The points that need two hubs within ``limit`` and the sites that serve them."""

    def __init__(self, data: HubData, limit: float, weights: Sequence[float] | None,
                 times: FloatArray | None = None, relax: bool = False) -> None:
        """``weights`` default to each node's flow (out plus in); positive ones count.
        ``times`` (``(n, n)``, default the cost matrix) is what ``limit`` is measured on."""
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
        reach = data.costs if times is None else np.asarray(times, dtype=np.float64)
        if reach.shape != (data.n, data.n):
            msg = f"n1_access times: expected shape ({data.n}, {data.n}), found {reach.shape}"
            raise ModelSpecificationError(msg)
        self.within = (reach[self.points] <= self.limit) & cand[None, :]
        sites = self.within.sum(axis=1)
        # need[j]: open hubs within the limit that point j requires
        self.need = np.minimum(sites, 2) if relax else np.full(sites.size, 2)
        short = self.points[sites < 2]
        if short.size and not relax:
            msg = (f"n1_access: points {short.tolist()} (0-based) have fewer than 2 candidate "
                   f"hub sites within {self.limit:g}; no design keeps them within "
                   f"{self.limit:g} of a hub after a single failure (relax: open every "
                   f"site within reach of them instead)")
            raise InfeasibleModelError(msg)

    def feasible(self, sets: IntArray) -> np.ndarray:
        """One boolean per row of ``sets``: every point has two hubs of the row within T."""
        sets = np.asarray(sets, dtype=np.int64)
        out = np.empty(sets.shape[0], dtype=bool)
        step = max(1, 2_000_000 // max(1, self.points.size * max(1, sets.shape[1])))
        for s in range(0, sets.shape[0], step):
            chunk = sets[s : s + step]
            counts = self.within[:, chunk].sum(axis=2)  # (points, rows)
            out[s : s + step] = np.all(counts >= self.need[:, None], axis=0)
        return out

    def violated(self, hubs: Sequence[int]) -> list[int]:
        """The points (0-based) with fewer of ``hubs`` within T than they need."""
        counts = self.within[:, sorted(int(h) for h in hubs)].sum(axis=1)
        return self.points[counts < self.need].tolist()

    def covering_set(self, data: HubData, p: int, prefer: Sequence[int] = ()) -> list[int] | None:
        """A hub set of ``p`` candidates meeting the constraint, by greedy covering: the
        kept-open hubs, then repeatedly the site that meets most of the points' unmet
        requirement (ties: a site of ``prefer``, then the lowest number), then sites of
        ``prefer`` and any others up to ``p``; ``None`` if the greedy fails (the
        constraint may still be feasible)."""
        chosen = list(data.fixed_hubs)
        pref = {int(h) for h in prefer}
        deficit = self.need - self.within[:, chosen].sum(axis=1)
        cands = [k for k in data.candidates if k not in set(chosen)]
        while len(chosen) < p and np.any(deficit > 0) and cands:
            gain = [(int(np.sum((deficit > 0) & self.within[:, k])), k in pref, -k)
                    for k in cands]
            t = max(range(len(cands)), key=lambda i: gain[i])
            if gain[t][0] == 0:
                break
            k = cands.pop(t)
            chosen.append(k)
            deficit = deficit - self.within[:, k]
        if np.any(deficit > 0):
            return None
        rest = [k for k in cands if k in pref] + [k for k in cands if k not in pref]
        chosen += rest[: p - len(chosen)]
        return sorted(chosen) if len(chosen) == p else None
