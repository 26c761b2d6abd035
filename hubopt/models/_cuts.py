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
from hubopt.models.base import FloatArray, IntArray

_FLOW_EPS = 1e-12  # a residual capacity at or below this counts as zero (flows are in [0, 1])
_TOL_REL = 1e-12  # a label improves only by more than this times the cost scale
_CHECK_REL = 1e-9  # tolerance of the optimality check of every pair's duals

# status codes of the compiled kernels
_OK = 0
_NO_PATH = 1  # no augmenting path although flow is missing (sum cap < 1)
_LIMIT = 2  # an iteration limit was reached (should not happen)
_CHECK = 3  # the duals failed the optimality check (should not happen)

_STATUS_TEXT = {
    _NO_PATH: "no augmenting path (the capacities sum to less than 1)",
    _LIMIT: "an iteration limit was reached",
    _CHECK: "the duals failed the optimality check",
}


@njit(cache=True)
def _push(v: int, queue: IntArray, inq: IntArray, qs: IntArray) -> None:
    """Append node ``v`` to the FIFO ``queue`` (``qs = [head, count]``) unless queued."""
    if inq[v] == 0:
        N = queue.shape[0]
        queue[(qs[0] + qs[1]) % N] = v
        qs[1] += 1
        inq[v] = 1


@njit(cache=True)
def _label_correct(
    s: int,
    A: FloatArray,
    dj: FloatArray,
    cap: FloatArray,
    adj: IntArray,
    deg: IntArray,
    f: FloatArray,
    g: FloatArray,
    lab: FloatArray,
    pred: IntArray,
    queue: IntArray,
    inq: IntArray,
    qs: IntArray,
    closure: bool,
    tol: float,
) -> bool:
    """FIFO label correcting on the residual graph from the queued nodes.

    Nodes: first hubs ``0..s-1``, second hubs ``s..2s-1``, source ``2s``, sink
    ``2s+1``; the arc ``k -> m`` costs ``A[k, m] + dj[m]``; the first hubs ``k`` with
    flow on ``k -> m`` are ``adj[m, :deg[m]]``.  Without ``closure`` the
    arcs into the source and out of / into the sink are left out (the augmenting path
    search); with it, every residual arc counts.  Returns False on the pop limit.
    """
    src = 2 * s
    t = 2 * s + 1
    N = 2 * s + 2
    max_pops = 8 * N * N + 64
    pops = 0
    while qs[1] > 0:
        v = queue[qs[0]]
        qs[0] = (qs[0] + 1) % N
        qs[1] -= 1
        inq[v] = 0
        pops += 1
        if pops > max_pops:
            return False
        lv = lab[v]
        if v < s:  # first hub k: forward arcs k -> m, back arc k -> src
            k = v
            for m in range(s):
                cand = lv + (A[k, m] + dj[m])
                if cand < lab[s + m] - tol:
                    lab[s + m] = cand
                    pred[s + m] = k
                    if closure or deg[m] > 0:  # else m has no arcs in the search
                        _push(s + m, queue, inq, qs)
            if closure and f[k] > _FLOW_EPS and lv < lab[src] - tol:
                lab[src] = lv
                pred[src] = k
                _push(src, queue, inq, qs)
        elif v < src:  # second hub m: reverse arcs m -> k (x_km > 0), arc m -> t
            m = v - s
            for q in range(deg[m]):
                k = adj[m, q]
                cand = lv - (A[k, m] + dj[m])
                if cand < lab[k] - tol:
                    lab[k] = cand
                    pred[k] = v
                    _push(k, queue, inq, qs)
            if closure and cap[m] - g[m] > _FLOW_EPS and lv < lab[t] - tol:
                lab[t] = lv
                pred[t] = v
                _push(t, queue, inq, qs)
        elif v == src:  # src -> k while k has room
            for k in range(s):
                if cap[k] - f[k] > _FLOW_EPS and lv < lab[k] - tol:
                    lab[k] = lv
                    pred[k] = src
                    _push(k, queue, inq, qs)
        else:  # t -> m (reverse of m -> t) while m carries flow
            for m in range(s):
                if g[m] > _FLOW_EPS and lv < lab[s + m] - tol:
                    lab[s + m] = lv
                    pred[s + m] = t
                    _push(s + m, queue, inq, qs)
    return True


@njit(cache=True)
def _link(m: int, k: int, adj: IntArray, deg: IntArray, pos: IntArray) -> None:
    """Record the reverse arc ``m -> k`` (flow on ``k -> m``) unless recorded."""
    if pos[m, k] < 0:
        adj[m, deg[m]] = k
        pos[m, k] = deg[m]
        deg[m] += 1


@njit(cache=True)
def _unlink(m: int, k: int, adj: IntArray, deg: IntArray, pos: IntArray) -> None:
    """Forget the reverse arc ``m -> k`` (its flow is gone)."""
    q = pos[m, k]
    if q >= 0:
        last = adj[m, deg[m] - 1]
        adj[m, q] = last
        pos[m, last] = q
        deg[m] -= 1
        pos[m, k] = -1


@njit(cache=True)
def _column_order(A: FloatArray) -> IntArray:
    """``order[m]``: the rows ``k`` by increasing ``A[k, m]`` (ties by ``k``)."""
    s = A.shape[0]
    order = np.empty((s, s), dtype=np.int64)
    for m in range(s):  # insertion sort: stable, and quicker to compile than np.argsort
        for k in range(s):
            v = A[k, m]
            q = k
            while q > 0 and A[order[m, q - 1], m] > v:
                order[m, q] = order[m, q - 1]
                q -= 1
            order[m, q] = k
    return order


@njit(cache=True)
def _solve_pair(
    A: FloatArray,
    dj: FloatArray,
    cap: FloatArray,
    order: IntArray,
    tol: float,
    check: bool,
    xM: FloatArray,
    adj: IntArray,
    deg: IntArray,
    pos: IntArray,
    f: FloatArray,
    g: FloatArray,
    open_k: IntArray,
    base: FloatArray,
    argb: IntArray,
    ptr: IntArray,
    lab: FloatArray,
    pred: IntArray,
    queue: IntArray,
    inq: IntArray,
    qs: IntArray,
    a: FloatArray,
    b: FloatArray,
) -> tuple[float, float, int]:
    """Optimal value and duals of the transportation LP with ``c_km = A[k, m] + dj[m]``.

    ``order`` is :func:`_column_order` of ``A``.  Everything from ``xM`` on is work
    space (overwritten); the duals go
    to ``a`` and ``b``.  Returns ``(u, value, status)``; ``value`` is the primal value
    when ``check`` is set (``nan`` otherwise).
    """
    s = A.shape[0]
    src = 2 * s
    t = 2 * s + 1
    xM[:, :] = 0.0  # xM[m, k] = flow on k -> m
    pos[:, :] = -1  # position of k in adj[m] while xM[m, k] > _FLOW_EPS, else -1
    deg[:] = 0
    f[:] = 0.0
    g[:] = 0.0
    open_k[:] = 1
    for m in range(s):  # base[m]: min over the open first hubs k of A[k, m], at argb[m]
        ptr[m] = 0
        argb[m] = order[m, 0]
        base[m] = A[argb[m], m]
    rem = 1.0
    u = np.nan
    # run-time booleans: literal ones would compile _label_correct twice
    without_sink = s < 0
    with_sink = not without_sink
    max_aug = 16 * s + 16
    finished = False
    for _aug in range(max_aug):
        # shortest path labels from src, without the sink
        for k in range(s):
            lab[k] = 0.0 if open_k[k] != 0 else np.inf
            pred[k] = src
        for m in range(s):
            lab[s + m] = base[m] + dj[m]
            pred[s + m] = argb[m]
        lab[src] = 0.0
        lab[t] = np.inf
        inq[:] = 0
        qs[0] = 0
        qs[1] = 0
        for m in range(s):
            if deg[m] > 0:
                _push(s + m, queue, inq, qs)
        if not _label_correct(
            s, A, dj, cap, adj, deg, f, g, lab, pred, queue, inq, qs, without_sink, tol
        ):
            return u, np.nan, _LIMIT
        mt = -1
        dt = np.inf
        for m in range(s):
            if cap[m] - g[m] > _FLOW_EPS and lab[s + m] < dt:
                dt = lab[s + m]
                mt = m
        if mt < 0:
            return u, np.nan, _NO_PATH
        # bottleneck of the path src -> k0 -> m -> k -> ... -> mt -> t
        bn = min(rem, cap[mt] - g[mt])
        v = s + mt
        k0 = -1
        for _step in range(2 * s + 2):
            k = pred[v]
            if k < 0 or k >= s:
                return u, np.nan, _LIMIT
            p = pred[k]
            if p == src:
                bn = min(bn, cap[k] - f[k])
                k0 = k
                break
            bn = min(bn, xM[p - s, k])
            v = p
        if k0 < 0:
            return u, np.nan, _LIMIT
        finished = bn >= rem - _FLOW_EPS
        amt = rem if finished else bn
        g[mt] += amt
        v = s + mt
        for _step in range(2 * s + 2):
            k = pred[v]
            xM[v - s, k] += amt
            if xM[v - s, k] > _FLOW_EPS:
                _link(v - s, k, adj, deg, pos)
            p = pred[k]
            if p == src:
                f[k] += amt
                break
            xM[p - s, k] -= amt
            if xM[p - s, k] <= _FLOW_EPS:
                _unlink(p - s, k, adj, deg, pos)
            v = p
        rem -= amt
        if finished:
            lab[t] = dt
            break
        if cap[k0] - f[k0] <= _FLOW_EPS:  # k0 is full: refresh the labels it provided
            open_k[k0] = 0
            for m in range(s):
                if argb[m] == k0:
                    r = ptr[m] + 1
                    while r < s and open_k[order[m, r]] == 0:
                        r += 1
                    ptr[m] = r
                    argb[m] = order[m, r] if r < s else -1
                    base[m] = A[argb[m], m] if r < s else np.inf
    if not finished:
        return u, np.nan, _LIMIT
    # correct the labels into a feasible potential of the final residual graph: the
    # arcs t -> m of the second hubs that carry flow are the only ones that can be
    # violated (the new reverse arcs of the path are tight)
    inq[:] = 0
    qs[0] = 0
    qs[1] = 0
    _push(t, queue, inq, qs)
    _push(src, queue, inq, qs)
    for k in range(s):
        if f[k] > _FLOW_EPS and lab[k] < lab[src] - tol:
            _push(k, queue, inq, qs)
    if not _label_correct(s, A, dj, cap, adj, deg, f, g, lab, pred, queue, inq, qs, with_sink, tol):
        return u, np.nan, _LIMIT
    ps = lab[src]
    pt = lab[t]
    u = pt - ps
    for k in range(s):
        a[k] = max(0.0, lab[k] - ps)
        b[k] = max(0.0, pt - lab[s + k])
    if not check:
        return u, np.nan, _OK
    value = 0.0
    dual = u
    bad = False
    for m in range(s):
        dual -= (a[m] + b[m]) * cap[m]
        for k in range(s):
            c = A[k, m] + dj[m]
            value += xM[m, k] * c
            if u - a[k] - b[m] > c + 1e3 * tol:
                bad = True
    if bad or abs(value - dual) > _CHECK_REL * (1.0 + abs(value)) + 1e3 * tol:
        return u, value, _CHECK
    return u, value, _OK


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
