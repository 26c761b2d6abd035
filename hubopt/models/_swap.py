"""Compiled (numba) evaluation of the whole swap neighbourhood of a multiple-allocation hub set.

For a hub set ``H`` the multiple-allocation cost is
``sum_ij W_ij min_{k, m in H} (chi C_ik + alpha C_km + delta C_mj)``.  A swap takes
``o`` out of ``H`` and puts ``c`` in: ``H' = H - {o} + {c}``.  Every path of ``H'``
either avoids ``c`` (then it is a path of ``H - {o}``) or uses ``c`` as its first or
its second hub, so::

    cost_{H'}(i, j) = min( V_o[i, j],
                           chi C_ic + P[j],     P[j] = min_{m in H'} alpha C_cm + delta C_mj,
                           Q[i] + delta C_cj )  Q[i] = min_{k in H'} chi C_ik + alpha C_kc

with ``V_o[i, j]`` the cost of the pair over ``H - {o}`` alone.  ``V_o`` is computed once
per hub that leaves (``O(n^2 q)``), ``P`` and ``Q`` once per swap (``O(n q)``), and the
sum over the pairs costs ``O(n^2)`` per swap: the full neighbourhood of ``q (n - q)``
swaps costs ``O(q n^3)`` in simple loops instead of the ``O(q^2 n^3)`` of evaluating each
swapped set from scratch with numpy temporaries (:func:`~hubopt.models.heuristics.ma_costs`).

The candidates that come in are handled in parallel (``prange``); each swap's sum runs
in a fixed order in one thread, so the values do not depend on the thread count.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

from hubopt.models.base import FloatArray, HubData, IntArray


@njit(cache=True)
def _without(C: FloatArray, rest: IntArray, chi: float, alpha: float, delta: float) -> FloatArray:
    """``V[i, j] = min_{k, m in rest} chi C_ik + alpha C_km + delta C_mj`` (inf if empty)."""
    n = C.shape[0]
    q = rest.shape[0]
    V = np.full((n, n), np.inf)
    A = np.empty((n, q))
    for i in range(n):
        for t in range(q):
            m = rest[t]
            best = np.inf
            for s in range(q):
                k = rest[s]
                v = chi * C[i, k] + alpha * C[k, m]
                best = min(best, v)
            A[i, t] = best
    for i in range(n):
        for t in range(q):
            m = rest[t]
            a = A[i, t]
            for j in range(n):
                v = a + delta * C[m, j]
                V[i, j] = min(V[i, j], v)
    return V


@njit(cache=True, parallel=True)
def _swap_sums(
    C: FloatArray,
    W: FloatArray,
    V: FloatArray,
    rest: IntArray,
    ins: IntArray,
    chi: float,
    alpha: float,
    delta: float,
) -> FloatArray:
    """For each ``c`` in ``ins``: the cost of ``rest + {c}`` given ``V`` of ``rest``."""
    n = C.shape[0]
    q = rest.shape[0]
    out = np.empty(ins.shape[0])
    for r in prange(ins.shape[0]):
        c = ins[r]
        P = np.empty(n)
        Q = np.empty(n)
        for j in range(n):
            best = alpha * C[c, c] + delta * C[c, j]
            for t in range(q):
                m = rest[t]
                v = alpha * C[c, m] + delta * C[m, j]
                best = min(best, v)
            P[j] = best
        for i in range(n):
            best = chi * C[i, c] + alpha * C[c, c]
            for t in range(q):
                k = rest[t]
                v = chi * C[i, k] + alpha * C[k, c]
                best = min(best, v)
            Q[i] = best
        total = 0.0
        for i in range(n):
            first = chi * C[i, c]
            qi = Q[i]
            for j in range(n):
                w = W[i, j]
                if w == 0.0:
                    continue
                v = V[i, j]
                a = first + P[j]
                v = min(v, a)
                b = qi + delta * C[c, j]
                v = min(v, b)
                total += w * v
        out[r] = total
    return out


def _without_numpy(C: FloatArray, rest: IntArray, chi: float, alpha: float,
                   delta: float) -> FloatArray:
    """:func:`_without` in numpy: the same operations, so the same values to the bit."""
    n = C.shape[0]
    if rest.shape[0] == 0:
        return np.full((n, n), np.inf)
    A = (chi * C[:, rest][:, :, None] + alpha * C[np.ix_(rest, rest)][None, :, :]).min(axis=1)
    return np.asarray((A[:, :, None] + delta * C[rest][None, :, :]).min(axis=1))


def _swap_sums_numpy(C: FloatArray, W: FloatArray, V: FloatArray, rest: IntArray,
                     ins: IntArray, chi: float, alpha: float, delta: float) -> FloatArray:
    """:func:`_swap_sums` in numpy: the same operations, and the sum over the pairs with
    flow taken one after another in row order (``cumsum``), so the same values to the bit."""
    out = np.empty(ins.shape[0])
    mask = W != 0.0
    w = W[mask]
    for r, c in enumerate(ins.tolist()):
        P = alpha * C[c, c] + delta * C[c, :]
        Q = chi * C[:, c] + alpha * C[c, c]
        if rest.shape[0]:
            P = np.minimum(P, (alpha * C[c, rest][:, None] + delta * C[rest, :]).min(axis=0))
            Q = np.minimum(Q, (chi * C[:, rest] + alpha * C[rest, c][None, :]).min(axis=1))
        v = np.minimum(np.minimum(V, (chi * C[:, c])[:, None] + P[None, :]),
                       Q[:, None] + (delta * C[c, :])[None, :])
        prod = w * v[mask]
        out[r] = float(np.cumsum(prod)[-1]) if prod.size else 0.0
    return out


#: Up to this much work (pairs x hubs that may come in), numpy evaluates the neighbourhood:
#: it takes milliseconds there, and a process that only solves small instances (a case
#: of a few dozen nodes) never pays the compiled kernels' first call (about 1.3 s of CPU
#: to start numba's parallel layer). Chosen on random instances (see docs/decisions.md).
NUMPY_MAX_WORK = 50_000


def _kernels(n: int, ins: int) -> tuple[Any, Any]:
    if n * n * max(ins, 1) <= NUMPY_MAX_WORK:
        return _without_numpy, _swap_sums_numpy
    return _without, _swap_sums


def ma_swap_costs(data: HubData, hubs: IntArray, outs: IntArray, ins: IntArray) -> FloatArray:
    """Multiple-allocation cost of every swap of ``hubs``: ``out[a, b]`` is the cost of
    ``hubs - {outs[a]} + {ins[b]}`` (fixed costs not included).

    ``outs`` must be members of ``hubs`` and ``ins`` non-members; the values equal
    :func:`~hubopt.models.heuristics.ma_costs` of the swapped sets up to rounding.
    """
    C = np.ascontiguousarray(data.costs, dtype=np.float64)
    W = np.ascontiguousarray(data.flows, dtype=np.float64)
    H = np.asarray(hubs, dtype=np.int64)
    ins_arr = np.ascontiguousarray(ins, dtype=np.int64)
    outs_arr = np.asarray(outs, dtype=np.int64)
    out = np.empty((outs_arr.size, ins_arr.size), dtype=np.float64)
    chi, alpha, delta = float(data.chi), float(data.alpha), float(data.delta)
    without, sums = _kernels(C.shape[0], ins_arr.size)
    for a, o in enumerate(outs_arr):
        rest = np.ascontiguousarray(H[H != o])
        V = without(C, rest, chi, alpha, delta)
        out[a] = sums(C, W, V, rest, ins_arr, chi, alpha, delta)
    return out


def ma_add_costs(data: HubData, hubs: IntArray, ins: IntArray) -> FloatArray:
    """Multiple-allocation cost of ``hubs + {c}`` for every ``c`` in ``ins`` (``hubs``
    may be empty; fixed costs not included)."""
    C = np.ascontiguousarray(data.costs, dtype=np.float64)
    W = np.ascontiguousarray(data.flows, dtype=np.float64)
    H = np.ascontiguousarray(hubs, dtype=np.int64)
    chi, alpha, delta = float(data.chi), float(data.alpha), float(data.delta)
    ins_arr = np.ascontiguousarray(ins, dtype=np.int64)
    without, sums = _kernels(C.shape[0], ins_arr.size)
    V = without(C, H, chi, alpha, delta)
    return np.asarray(sums(C, W, V, H, ins_arr, chi, alpha, delta))
