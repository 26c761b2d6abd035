"""The OD pairs with flow of the path formulation's Lagrangian relaxation
(:mod:`hubopt.models.sa_lagrangian`), and the multipliers stored over them.

Only the pairs with flow ``W_ij > 0`` have routes, so the multipliers ``u_ijk`` and
``v_ijl`` are stored as ``(pairs, sites)`` arrays, one row per pair with flow, in
row-major order of ``(i, j)`` (origin first).  Real cases carry flow between their
demand points only (the terminal sites have none) and random case-like instances on a
share of those: at 250 points and 150 sites (400 nodes) the rows are 62,250 instead of
160,000 (the dense ``(n, n, sites)`` arrays that this replaced), and the memory and the
work of a step shrink with them.  AP, CAB and TR keep ``n (n - 1)`` rows, and every sum
runs in the order of the dense arrays (pairs by origin, then destination), so their
bounds are the same bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from hubopt.models.base import FloatArray, IntArray

__all__ = ["Pairs", "pair_scale", "pairs_of", "shift_multipliers", "start_multipliers"]


@dataclass(frozen=True)
class Pairs:
    """The OD pairs with flow of an ``n``-node instance.

    ``orig[q]``, ``dest[q]`` and ``flow[q]`` are pair ``q``'s origin, destination and
    flow, sorted by origin, then destination; pairs ``out_start[i]`` to
    ``out_start[i + 1]`` leave node ``i``.  ``into[in_start[j]:in_start[j + 1]]`` are the
    pairs that arrive at ``j``, sorted by origin.
    """

    n: int
    orig: IntArray
    dest: IntArray
    flow: FloatArray
    out_start: IntArray
    into: IntArray
    in_start: IntArray
    totals: FloatArray

    @property
    def size(self) -> int:
        """The number of pairs with flow."""
        return int(self.orig.size)


def pairs_of(W: FloatArray) -> Pairs:
    """The pairs with flow of the flow matrix ``W`` (see :class:`Pairs`)."""
    n = W.shape[0]
    orig, dest = np.nonzero(W > 0)
    orig = orig.astype(np.int64)
    dest = dest.astype(np.int64)
    into = np.lexsort((orig, dest)).astype(np.int64)
    out_start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(orig, minlength=n), out=out_start[1:])
    in_start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(dest, minlength=n), out=in_start[1:])
    return Pairs(
        n=n,
        orig=orig,
        dest=dest,
        flow=np.ascontiguousarray(W[orig, dest], dtype=np.float64),
        out_start=out_start,
        into=into,
        in_start=in_start,
        totals=W.sum(axis=1) + W.sum(axis=0),
    )


def pair_scale(pairs: Pairs, power: float) -> FloatArray:
    """Per pair with flow, ``(W_ij / mean W)^power`` (the mean over the pairs with flow)."""
    if power == 0.0 or pairs.size == 0:
        return np.ones(pairs.size)
    return np.ascontiguousarray((pairs.flow / float(pairs.flow.mean())) ** power)


def shift_multipliers(u: FloatArray, v: FloatArray, pairs: Pairs, w: FloatArray) -> None:
    """Move ``w_i`` into the allocation prices ``G_i.`` (see
    :func:`hubopt.models._sa_relaxation._allocation_shift`): node ``i``'s share goes to
    the multipliers of its OD pairs in proportion to their flow, ``u_ij.`` for the flow
    it sends, ``v_ji.`` for the flow it receives."""
    total = pairs.totals
    per = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
    u += (per[pairs.orig] * pairs.flow)[:, None]
    v += (pairs.flow * per[pairs.dest])[:, None]


def start_multipliers(
    pairs: Pairs,
    C: FloatArray,
    sites: IntArray,
    access: tuple[float, float],
    sigma: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """``u_ijk = W_ij (a C_ik - sigma_i)`` and ``v_ijl = W_ij (b C_lj - sigma_j)`` over
    the pairs with flow (``access = (a, b)``)."""
    a, b = access
    to_site = np.ascontiguousarray(C[:, sites])
    from_site = np.ascontiguousarray(C[sites, :].T)
    u = np.empty((pairs.size, sites.size))
    v = np.empty((pairs.size, sites.size))
    _fill(u, v, pairs.orig, pairs.dest, pairs.flow, to_site, from_site, a, b, sigma)
    return u, v


@nb.njit(cache=True)
def _fill(
    u: FloatArray,
    v: FloatArray,
    orig: IntArray,
    dest: IntArray,
    flow: FloatArray,
    to_site: FloatArray,
    from_site: FloatArray,
    a: float,
    b: float,
    sigma: FloatArray,
) -> None:
    """The rows of :func:`start_multipliers` (numpy's fancy indexing took 27 s at
    330,050 pairs x 248 sites under load)."""
    for q in range(orig.size):
        i = orig[q]
        j = dest[q]
        w = flow[q]
        for s in range(u.shape[1]):
            u[q, s] = w * (a * to_site[i, s] - sigma[i])
            v[q, s] = w * (b * from_site[j, s] - sigma[j])
