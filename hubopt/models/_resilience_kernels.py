"""Compiled (numba) p-median bounds with one hub down, for the resilient hub-set search.

For a hub set ``H`` and each position ``t``, ``PM(H \\ H[t]) = sum_i w_i d(i, H \\ H[t]) +
v_i d'(i, H \\ H[t])``: every node's nearest hub, or its second nearest when the nearest
is the one down; ``O(n p)`` per set.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from hubopt.models.base import FloatArray, HubData, IntArray


@njit(cache=True, parallel=True)
def _drop_one_kernel(C: np.ndarray, w: np.ndarray, v: np.ndarray, sets: np.ndarray
                     ) -> np.ndarray:  # pragma: no cover - compiled
    B, p = sets.shape
    n = C.shape[0]
    out = np.zeros((B, p))
    for b in prange(B):
        for i in range(n):
            for side in range(2):
                weight = w[i] if side == 0 else v[i]
                if weight == 0.0:
                    continue
                first = np.inf
                second = np.inf
                arg = 0
                for t in range(p):
                    k = sets[b, t]
                    d = C[i, k] if side == 0 else C[k, i]
                    if d < first:
                        second = first
                        first = d
                        arg = t
                    elif d < second:
                        second = d
                for t in range(p):
                    out[b, t] += weight * (second if t == arg else first)
    return out


def pm_drop_one(data: HubData, sets: IntArray) -> FloatArray:
    """``PM(H \\ H[t])`` for every row ``H`` of ``sets`` and position ``t`` (``(B, p)``)."""
    C = np.ascontiguousarray(data.costs)
    w = np.ascontiguousarray(data.chi * data.origin_totals)
    v = np.ascontiguousarray(data.delta * data.destination_totals)
    return np.asarray(_drop_one_kernel(C, w, v, np.ascontiguousarray(sets, dtype=np.int64)))
