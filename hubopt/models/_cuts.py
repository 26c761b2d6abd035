"""Compiled (numba) separation of the Benders cuts of :mod:`hubopt.models.benders`.

The cuts of the Benders decomposition of :mod:`hubopt.models.benders`, computed pair
by pair in compiled loops instead of the vectorised numpy temporaries of its first
separation code (kept there as ``_CutGenerator._separate_numpy``).  For a point ``y*``
with support ``S`` (``s`` sites) and capacities ``cap = min(y*_S, 1)``, the routing LP
of the OD pair ``(i, j)`` restricted to ``S x S`` is the transportation problem::

    min  sum_{k, m} c_km x_km,   c_km = chi C_ik + alpha C_km + delta C_mj
    s.t. sum_m x_km <= cap_k,  sum_k x_km <= cap_m,  sum x = 1,  x >= 0

with the dual ``max u - sum_k a_k cap_k - sum_m b_m cap_m``, ``u - a_k - b_m <= c_km``,
``a, b >= 0``.  :func:`pair_transport_duals` solves it by successive shortest paths on
the residual graph ``src -> k (cap_k) -> m (uncapacitated, c_km) -> t (cap_m)``: the
shortest paths are found by a FIFO label-correcting search that starts from the labels
implied by the still-unsaturated first hubs (``min_k c_km`` over them, kept up to date
as first hubs saturate), so an augmentation costs ``O(s)`` per relabelled node rather
than a full Bellman-Ford sweep.  After the last augmentation the labels are corrected
into a feasible potential ``p`` of the final residual graph (every residual arc has a
non-negative reduced cost), which by complementary slackness gives optimal duals::

    u = p_t - p_src,   a_k = max(0, p_k - p_src),   b_m = max(0, p_t - p_m).

:func:`origin_cuts` does this for every OD pair with a positive flow, completes the
duals of the sites outside ``S`` with the smallest values that keep every dual
constraint satisfied (as the numpy code does, with ``G_kj = min_m alpha C_km + delta
C_mj`` over candidate ``m``), and sums the pairs of each origin into one cut
``theta_i >= const_i - coef_i . y``.  Origins run in parallel (``prange``); each origin
is computed independently, so the result does not depend on the thread count.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from hubopt._errors import ModelSpecificationError, SolverError
from hubopt.models._cuts_pair import (
    _OK,
    _STATUS_TEXT,
    _TOL_REL,
    _column_order,
    _solve_pair,
)
from hubopt.models.base import FloatArray, IntArray


@njit(cache=True)
def _pair_kernel(
    c: FloatArray, cap: FloatArray, check: bool
) -> tuple[float, FloatArray, FloatArray, float, int]:
    s = c.shape[0]
    dj = np.zeros(s)
    scale = 0.0
    for m in range(s):
        for k in range(s):
            scale = max(scale, abs(c[k, m]))
    a = np.zeros(s)
    b = np.zeros(s)
    N = 2 * s + 2
    u, value, status = _solve_pair(
        c,
        dj,
        cap,
        _column_order(c),
        _TOL_REL * (1.0 + scale),
        check,
        np.zeros((s, s)),
        np.empty((s, s), dtype=np.int64),
        np.empty(s, dtype=np.int64),
        np.empty((s, s), dtype=np.int64),
        np.zeros(s),
        np.zeros(s),
        np.ones(s, dtype=np.int64),
        np.empty(s),
        np.empty(s, dtype=np.int64),
        np.empty(s, dtype=np.int64),
        np.empty(N),
        np.empty(N, dtype=np.int64),
        np.empty(N, dtype=np.int64),
        np.zeros(N, dtype=np.int64),
        np.zeros(2, dtype=np.int64),
        a,
        b,
    )
    return u, a, b, value, status


@njit(cache=True)
def _origin_row(
    i: int,
    chiC: FloatArray,
    W: FloatArray,
    S: IntArray,
    cap: FloatArray,
    tol: float,
    check: bool,
    aSS: FloatArray,
    aCS: FloatArray,
    aCTS: FloatArray,
    dST: FloatArray,
    GT: FloatArray,
    dCT: FloatArray,
    outside: FloatArray,
    crow: FloatArray,
) -> tuple[float, int]:
    """The cut of origin ``i``: returns ``(const_i, status)`` and adds ``coef_i`` to ``crow``."""
    n = chiC.shape[0]
    s = S.shape[0]
    N = 2 * s + 2
    chiS = np.empty(s)
    for q in range(s):
        chiS[q] = chiC[i, S[q]]
    A = np.empty((s, s))  # chi C_ik + alpha C_km on S x S
    for q in range(s):
        for r in range(s):
            A[q, r] = chiS[q] + aSS[q, r]
    order = _column_order(A)
    xM = np.empty((s, s))
    adj = np.empty((s, s), dtype=np.int64)
    deg = np.empty(s, dtype=np.int64)
    pos = np.empty((s, s), dtype=np.int64)
    f = np.empty(s)
    g = np.empty(s)
    open_k = np.empty(s, dtype=np.int64)
    base = np.empty(s)
    argb = np.empty(s, dtype=np.int64)
    ptr = np.empty(s, dtype=np.int64)
    lab = np.empty(N)
    pred = np.empty(N, dtype=np.int64)
    queue = np.empty(N, dtype=np.int64)
    inq = np.zeros(N, dtype=np.int64)
    qs = np.zeros(2, dtype=np.int64)
    a = np.empty(s)
    b = np.empty(s)
    first = np.empty(n)  # min over m in S (and G) for a first hub k outside S
    second = np.empty(n)  # min over k in S for a second hub m outside S
    chii = chiC[i]
    ci = 0.0
    for j in range(n):
        w = W[i, j]
        if w == 0.0:
            continue
        dj = dST[j]
        u, _value, st = _solve_pair(
            A, dj, cap, order, tol, check,
            xM, adj, deg, pos, f, g, open_k, base, argb, ptr, lab, pred, queue, inq, qs, a, b,
        )  # fmt: skip
        if st != _OK:
            return ci, st
        ci += w * u
        # k outside S: a_k = max(0, u - chi C_ik - min(min_m (aC_km + dC_mj + b_m), G_kj))
        Gj = GT[j]
        for k in range(n):
            first[k] = Gj[k]
        for r in range(s):
            vr = dj[r] + b[r]
            row = aCTS[r]
            for k in range(n):
                first[k] = min(first[k], row[k] + vr)
        # m outside S: b_m = max(0, u - min_k (chi C_ik + a_k + aC_km) - dC_mj)
        for m in range(n):
            second[m] = np.inf
        for q in range(s):
            vq = chiS[q] + a[q]
            row = aCS[q]
            for m in range(n):
                second[m] = min(second[m], row[m] + vq)
        dCj = dCT[j]
        for k in range(n):
            ao = max(0.0, u - chii[k] - first[k])
            bo = max(0.0, u - second[k] - dCj[k])
            crow[k] += w * outside[k] * (ao + bo)
        for q in range(s):
            crow[S[q]] += w * (a[q] + b[q])
    return ci, _OK


@njit(cache=True, parallel=True)
def _origin_cuts_kernel(
    chiC: FloatArray,
    W: FloatArray,
    S: IntArray,
    cap: FloatArray,
    tol: float,
    check: bool,
    aSS: FloatArray,
    aCS: FloatArray,
    aCTS: FloatArray,
    dST: FloatArray,
    GT: FloatArray,
    dCT: FloatArray,
    outside: FloatArray,
) -> tuple[FloatArray, FloatArray, IntArray]:
    n = chiC.shape[0]
    const = np.zeros(n)
    coef = np.zeros((n, n))
    status = np.zeros(n, dtype=np.int64)
    for i in prange(n):  # origins are independent: the result does not depend on threads
        const[i], status[i] = _origin_row(
            np.int64(i), chiC, W, S, cap, tol, check, aSS, aCS, aCTS, dST, GT, dCT, outside, coef[i]
        )
    return const, coef, status


def _as_float(name: str, value: object, ndim: int) -> FloatArray:
    arr = np.ascontiguousarray(value, dtype=np.float64)
    if arr.ndim != ndim:
        msg = f"{name}: expected a {ndim}-dimensional array, found shape {arr.shape}"
        raise ModelSpecificationError(msg)
    return arr


def pair_transport_duals(
    c: FloatArray, cap: FloatArray
) -> tuple[float, FloatArray, FloatArray, float]:
    """Optimal value and duals of one routing LP (transportation form).

    Solves ``min sum c_km x_km`` subject to ``sum_m x_km <= cap_k``,
    ``sum_k x_km <= cap_m``, ``sum x = 1``, ``x >= 0`` (``c`` of shape ``(s, s)``,
    ``cap`` positive with ``sum cap >= 1``) and returns ``(u, a, b, value)``: optimal
    duals of ``max u - a . cap - b . cap`` s.t. ``u - a_k - b_m <= c_km``, ``a, b >= 0``
    and the optimal value.

    Raises
    ------
    ModelSpecificationError
        On wrong shapes or non-positive capacities.
    SolverError
        When the LP cannot be solved (capacities summing to less than 1).
    """
    cm = _as_float("c", c, 2)
    cp = _as_float("cap", cap, 1)
    s = cp.shape[0]
    if s == 0 or cm.shape != (s, s) or not np.all(cp > 0):
        msg = (
            "c, cap: expected shapes (s, s), (s,) with s >= 1 and cap > 0, "
            f"found {cm.shape}, {cp.shape}"
        )
        raise ModelSpecificationError(msg)
    u, a, b, value, status = _pair_kernel(cm, cp, True)
    if status != _OK:
        msg = f"routing LP: {_STATUS_TEXT[int(status)]}"
        raise SolverError(msg)
    return float(u), a, b, float(value)


def origin_cuts(
    chiC: FloatArray,
    aC: FloatArray,
    dC: FloatArray,
    W: FloatArray,
    G: FloatArray,
    support: IntArray,
    cap: FloatArray,
    *,
    check: bool = True,
) -> tuple[FloatArray, FloatArray]:
    """Per-origin Benders cuts ``theta_i >= const_i - coef_i . y``, optimal at a point.

    ``chiC``, ``aC``, ``dC`` are ``chi C``, ``alpha C``, ``delta C``; ``W`` the flows;
    ``G[k, j] = min`` over candidate ``m`` of ``aC[k, m] + dC[m, j]``; ``support`` the
    sites ``S`` where the point is positive and ``cap = min(point[S], 1)`` (summing to
    at least 1).  Returns ``const`` of shape ``(n,)`` and ``coef`` of shape ``(n, n)``,
    the cuts of the numpy separation of :mod:`hubopt.models.benders` up to dual
    degeneracy: ``const_i - coef_i . point`` is the routing LP value of origin ``i`` at
    the point (the exact multiple-allocation cost at a hub set), and every cut is
    valid for every ``y``.  Pairs without flow are skipped.  With ``check`` (about 5 %
    slower) every pair's duals are verified (feasible, objective equal to the primal).

    Raises
    ------
    ModelSpecificationError
        On inconsistent shapes or an empty support.
    SolverError
        When a routing LP cannot be solved (capacities summing to less than 1).
    """
    arrays = [_as_float(nm, v, 2) for nm, v in (("chiC", chiC), ("aC", aC), ("dC", dC))]
    Wm = _as_float("W", W, 2)
    Gm = _as_float("G", G, 2)
    S = np.ascontiguousarray(support, dtype=np.int64)
    cp = _as_float("cap", cap, 1)
    n = arrays[0].shape[0]
    problems = [
        f"{nm}: expected shape ({n}, {n}), found {arr.shape}"
        for nm, arr in zip(("chiC", "aC", "dC", "W", "G"), [*arrays, Wm, Gm], strict=True)
        if arr.shape != (n, n)
    ]
    if S.ndim != 1 or S.size == 0 or S.shape != cp.shape:
        problems.append(
            f"support, cap: expected equal non-empty 1-d shapes, found {S.shape}, {cp.shape}"
        )
    elif S.min() < 0 or S.max() >= n or np.unique(S).size != S.size:
        problems.append(f"support: expected distinct sites in 0..{n - 1}")
    if cp.size and not np.all(cp > 0):
        problems.append("cap: expected positive capacities")
    if problems:
        raise ModelSpecificationError("; ".join(problems))
    chiCm, aCm, dCm = arrays
    scale = float(np.abs(chiCm).max() + np.abs(aCm).max() + np.abs(dCm).max())
    outside = np.ones(n)
    outside[S] = 0.0
    const, coef, status = _origin_cuts_kernel(
        chiCm,
        Wm,
        S,
        cp,
        _TOL_REL * (1.0 + scale),
        check,
        # gathered and transposed copies, so that every inner loop is contiguous
        np.ascontiguousarray(aCm[np.ix_(S, S)]),  # aC[S_k, S_m]
        np.ascontiguousarray(aCm[S]),  # aC[S_k, m]
        np.ascontiguousarray(aCm[:, S].T),  # aC[k, S_m] at [m, k]
        np.ascontiguousarray(dCm[S].T),  # dC[S_m, j] at [j, m]
        np.ascontiguousarray(Gm.T),  # G[k, j] at [j, k]
        np.ascontiguousarray(dCm.T),  # dC[m, j] at [j, m]
        outside,
    )
    bad = np.nonzero(status)[0]
    if bad.size:
        msg = f"routing LP of origin {int(bad[0])}: {_STATUS_TEXT[int(status[bad[0]])]}"
        raise SolverError(msg)
    return const, coef


__all__ = ["origin_cuts", "pair_transport_duals"]
