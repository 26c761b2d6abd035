"""Lagrangian bounds of maximal covering and the site fixing they prove.

Maximal covering ``max sum_i w_i z_i`` s.t. ``z_i <= sum_{k in N_i} y_k`` (row i),
``sum_k y_k <= p``, ``z`` in [0, 1], ``y`` binary. Relaxing the rows with multipliers
``lam >= 0`` (Galvao and ReVelle, 1996) leaves a problem solved by inspection: with
``c_k = sum_{i in M_k} lam_i`` (``M_k`` the rows site k reaches)::

    L(lam) = sum_i max(0, w_i - lam_i) + (sum of the p largest c_k)

and ``L(lam)`` bounds the optimum from above for **every** ``lam >= 0`` (its minimum is
the LP bound). Two uses here:

* :func:`subgradient`: multipliers that bring ``L`` down (Held-Wolfe-Crowder steps
  towards a target, Polyak's step length);
* :func:`open_probe`: for each site k, a bound on every solution that opens k. With k
  open the rows of ``M_k`` are covered whatever else opens, so the other sites earn
  nothing from them::

      U_k(lam) = w(M_k) + sum_{i not in M_k} max(0, w_i - lam_i)
                 + (sum of the p - 1 largest c_j - o_kj, j != k),
      o_kj = sum_{i in M_k and M_j} lam_i.

  ``U_k`` is at most the reduced-cost test ``L(lam) - c_(p) + c_k`` and usually well
  below it when k overlaps the strong sites. A site with ``U_k`` at or below the weight
  of a known hub set cannot be part of a better one: it closes. Multipliers of a
  restricted problem (k open) also give valid bounds, so :func:`open_probe` may refine
  ``lam`` for the sites that almost close (``refine`` subgradient steps each).

Every bound is valid for any ``lam >= 0`` (the tests check them against brute force), so
the fixing never loses a better solution; it only needs some ``lam``, good or bad.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from hubopt.models.base import FloatArray

_BLOCK = 2_000_000  # entries of the dense (sites x sites) probe block at a time


def _top(values: np.ndarray, k: int) -> float:
    """Sum of the ``k`` largest positive entries of ``values``."""
    if k <= 0:
        return 0.0
    if k >= len(values):
        return float(np.maximum(values, 0.0).sum())
    part = np.partition(values, len(values) - k)[len(values) - k:]
    return float(np.maximum(part, 0.0).sum())


def lagrangian(C: sp.csc_array, w: FloatArray, p: int,
               lam: FloatArray) -> tuple[float, np.ndarray]:  # fmt: skip
    """``L(lam)`` and the site values ``c`` (``C`` the rows x sites reach, float)."""
    c = C.T @ lam
    return float(np.maximum(w - lam, 0.0).sum()) + _top(c, p), c


def subgradient(C: sp.csc_array, w: FloatArray, p: int, lam: FloatArray, target: float,
                iterations: int) -> tuple[float, np.ndarray]:  # fmt: skip
    """Up to ``iterations`` subgradient steps from ``lam`` aiming at ``target`` (a known
    covered weight); the least bound met and its multipliers."""
    lam = np.maximum(np.asarray(lam, dtype=np.float64), 0.0)
    best, c = lagrangian(C, w, p, lam)
    best_lam = lam.copy()
    mu = 1.0
    stall = 0
    for _ in range(iterations):
        if best <= target:
            break
        value, c = lagrangian(C, w, p, lam)
        if value < best - 1e-9 * max(1.0, abs(best)):
            best, best_lam, stall = value, lam.copy(), 0
        else:
            stall += 1
            if stall >= 5:
                mu, stall = mu / 2.0, 0
        k = min(p, len(c))
        top = np.argpartition(c, len(c) - k)[len(c) - k:] if k else np.zeros(0, int)
        top = top[c[top] > 0]
        cover = np.asarray(C[:, top].sum(axis=1)).ravel() if len(top) else np.zeros(len(w))
        g = (w > lam).astype(np.float64) - cover  # d L / d lam
        norm = float(g @ g)
        if norm <= 0 or mu < 1e-4:
            break
        lam = np.maximum(lam + mu * (value - target) / norm * g, 0.0)
    return best, best_lam


def open_probe(A: sp.csr_array, w: FloatArray, p: int, lam: FloatArray,
               sites: np.ndarray) -> np.ndarray:  # fmt: skip
    """``U_k(lam)`` (module docstring) for each column k in ``sites``: a bound on the
    covered weight of every set of at most ``p`` columns that holds k."""
    C = sp.csc_array(A, dtype=np.float64)
    lam = np.maximum(np.asarray(lam, dtype=np.float64), 0.0)
    c = C.T @ lam
    base = float(np.maximum(w - lam, 0.0).sum()) + C.T @ np.minimum(w, lam)
    ny = A.shape[1]
    out = np.empty(len(sites), dtype=np.float64)
    step = max(1, _BLOCK // max(1, ny))
    weighted = sp.csr_array(C.multiply(lam[:, None]))
    for a in range(0, len(sites), step):
        ks = sites[a:a + step]
        overlap = (sp.csr_array(C[:, ks]).T @ weighted)  # (len(ks), ny): o_kj
        vals = c[None, :] - (overlap.toarray() if sp.issparse(overlap) else overlap)
        vals[np.arange(len(ks)), ks] = -np.inf
        kk = min(p - 1, ny - 1)
        if kk > 0:
            part = np.partition(vals, ny - kk, axis=1)[:, ny - kk:]
            tops = np.maximum(part, 0.0).sum(axis=1)
        else:
            tops = np.zeros(len(ks))
        out[a:a + step] = base[ks] + tops
    return out





def _restricted_bound(C: sp.csc_array, w: FloatArray, p: int, lam: FloatArray, k: int,
                      rows: np.ndarray, goal: float, iterations: int) -> float:  # fmt: skip
    """The least ``U_k`` met in ``iterations`` subgradient steps on the problem with
    column k open (rows ``rows`` = ``M_k`` covered, their multipliers 0), from ``lam``;
    stops once it is at or below ``goal``."""
    wk = w.copy()
    wk[rows] = 0.0
    lam = np.maximum(lam, 0.0).copy()
    lam[rows] = 0.0
    fixed = float(w[rows].sum())
    free = np.ones(len(w), dtype=bool)
    free[rows] = False
    best = np.inf
    mu, stall = 1.0, 0
    q = p - 1
    for _ in range(iterations):
        c = C.T @ lam
        c[k] = -np.inf
        ny = len(c)
        if q > 0:
            top = np.argpartition(c, ny - q)[ny - q:]
            top = top[c[top] > 0]
        else:
            top = np.zeros(0, dtype=np.int64)
        value = fixed + float(np.maximum(wk - lam, 0.0).sum()) + float(c[top].sum())
        if value < best - 1e-9 * max(1.0, abs(value)):
            best, stall = value, 0
        else:
            stall += 1
            if stall >= 3:
                mu, stall = mu / 2.0, 0
        if best <= goal or mu < 1e-3:
            break
        cover = np.asarray(C[:, top].sum(axis=1)).ravel() if len(top) else 0.0
        g = ((wk > lam).astype(np.float64) - cover) * free
        norm = float(g @ g)
        if norm <= 0:
            break
        lam = np.maximum(lam + mu * (value - goal) / norm * g, 0.0)
    return best


def probe_close(A: sp.csr_array, w: FloatArray, p: int, lam: FloatArray,
                sites: np.ndarray, goal: float, iterations: int) -> np.ndarray:  # fmt: skip
    """Boolean per column of ``sites``: no set of at most ``p`` columns holding it covers
    more than ``goal`` (proved by ``U_k(lam)``, or by up to ``iterations`` subgradient
    steps on the problem with k open when that does not suffice)."""
    bounds = open_probe(A, w, p, lam, sites)
    closed = bounds <= goal
    if iterations <= 0:
        return closed
    C = sp.csc_array(A, dtype=np.float64)
    for j in np.flatnonzero(~closed):
        k = int(sites[j])
        rows = C.indices[C.indptr[k]:C.indptr[k + 1]]
        closed[j] = _restricted_bound(C, w, p, lam, k, rows, goal, iterations) <= goal
    return closed
__all__ = ["lagrangian", "open_probe", "probe_close", "subgradient"]
