"""The transportation problem of one OD pair for :mod:`hubopt.models._cuts`: successive
shortest paths with a FIFO label-correcting search, and the optimal duals read from the
final potential (compiled with numba; see the module docstring of ``_cuts``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

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
