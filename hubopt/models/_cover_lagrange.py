"""Lagrangian bounds of maximal covering, for the site fixing they prove.

Maximal covering ``max sum_i w_i z_i`` s.t. ``z_i <= sum_{k in N_i} y_k`` (row i),
``sum_k y_k <= p``, ``z`` in [0, 1], ``y`` binary. Relaxing the rows with multipliers
``lam >= 0`` (Galvão and ReVelle, 1996) leaves a problem solved by inspection: with
``c_k = sum_{i in M_k} lam_i`` (``M_k`` the rows site k reaches)::

    L(lam) = sum_i max(0, w_i - lam_i) + (sum of the p largest c_k)

and ``L(lam)`` bounds the optimum from above for **every** ``lam >= 0`` (its minimum is
the LP bound, reached at the LP duals of the rows, which is where the multipliers
come from here). :func:`open_probe` gives, for each site k, a bound on every solution
that opens k. With k open the rows of ``M_k`` are covered whatever else opens, so the
other sites earn nothing from them::

    U_k(lam) = w(M_k) + sum_{i not in M_k} max(0, w_i - lam_i)
               + (sum of the p - 1 largest c_j - o_kj, j != k),
    o_kj = sum_{i in M_k and M_j} lam_i.

``U_k`` is at most the reduced-cost test ``L(lam) - c_(p) + c_k`` and usually well below
it when k overlaps the strong sites. A site with ``U_k`` at or below the weight of a
known hub set cannot be part of a better one: it closes. (Subgradient steps on the
problem with k open, from the LP duals, were measured too: the Lagrangian dual of these
instances is so degenerate that 300 steps closed no more sites.)

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






__all__ = ["lagrangian", "open_probe"]
