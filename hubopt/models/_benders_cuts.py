"""Benders cuts of the multiple-allocation master (:mod:`hubopt.models.benders`): the
optimal duals of every origin's transportation problem at a master point, in batches of
origins (:func:`~hubopt.models._cuts.origin_cuts`), and the cut they give.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from hubopt.models._cuts import origin_cuts
from hubopt.models.base import FloatArray, HubData

_log = logging.getLogger(__name__)
_CHUNK_ELEMENTS = 3_000_000  # bound on the (origins x n x n) temporaries of a cut batch


class _CutGenerator:
    """Closed-form Benders cuts of the per-origin routing subproblems."""

    def __init__(self, data: HubData) -> None:
        self.data = data
        n = data.n
        C = np.asarray(data.costs, dtype=np.float64)
        cand = np.asarray(data.candidates, dtype=np.int64)
        self.chiC = data.chi * C
        self.aC = data.alpha * C
        self.dC = data.delta * C
        self.W = np.asarray(data.flows, dtype=np.float64)
        # G[k, j] = min over candidate m of alpha C_km + delta C_mj
        self.G = np.empty((n, n))
        step = max(1, _CHUNK_ELEMENTS // max(1, n * len(cand)))
        for s in range(0, n, step):
            rows = slice(s, min(n, s + step))
            self.G[rows] = (self.aC[rows][:, cand][:, :, None] + self.dC[cand][None, :, :]).min(
                axis=1
            )
        # the cheapest route of every pair with every candidate allowed: theta_i >= this
        self.free = np.empty(n)
        for s in range(0, n, step):
            rows = slice(s, min(n, s + step))
            best = (self.chiC[rows][:, cand][:, :, None] + self.G[cand][None, :, :]).min(axis=1)
            self.free[rows] = (best * self.W[rows]).sum(axis=1)

    rate = 0.0  # seconds per unit of work, from the last separation

    def _work(self, point: FloatArray) -> float:
        s = int((point > 1e-9).sum())
        return float((s + 1) * (self.data.n + s))  # per pair: s^2 routing + n s completion

    def predict(self, point: FloatArray) -> float:
        """Seconds the separation at ``point`` is expected to take."""
        return self.rate * self._work(point)

    def separate(
        self, point: FloatArray, deadline: float | None = None, chunks: int = 4
    ) -> tuple[FloatArray, FloatArray]:
        """The cuts of every origin at ``point`` (``const`` and ``coef`` rows).

        With a ``deadline`` the origins are separated in ``chunks`` batches, and the
        separation stops after the batch past which another one would end beyond the
        deadline: the origins not reached get the trivial cut (zeros).  Each origin's
        cut is computed independently, so the cuts of the others do not change.  The
        whole-support points of the p-hub medians take 20-90 s at AP 200 depending on
        the load, which :meth:`predict` cannot foresee; stopping between batches keeps
        the solve within its time limit."""
        start = time.perf_counter()
        if deadline is None:
            out = self._separate(point)
            self.rate = (time.perf_counter() - start) / self._work(point)
            return out
        rows = np.flatnonzero(self.W.any(axis=1))
        n = self.data.n
        const, coef = np.zeros(n), np.zeros((n, n))
        done = 0
        # strided batches: the kernel splits the origin range between its threads, so a
        # batch of consecutive origins would leave all but one thread idle (2x slower);
        # 4 batches cost about 9 % more than one call at AP 200's whole support, 8 about 20 %
        parts = max(1, min(chunks, rows.size))
        for batch in (rows[k::parts] for k in range(parts)):
            begun = time.perf_counter()
            W = np.zeros_like(self.W)
            W[batch] = self.W[batch]
            c, g = self._separate(point, W)
            const[batch], coef[batch] = c[batch], g[batch]
            done += batch.size
            now = time.perf_counter()
            if done < rows.size and now + (now - begun) > deadline:
                _log.debug("separation stopped after %d of %d origins", done, rows.size)
                return const, coef
        self.rate = (time.perf_counter() - start) / self._work(point)
        return const, coef

    def estimate(
        self, point: FloatArray, origins: int = 16, budget: float | None = None
    ) -> float:
        """Seconds a separation at ``point`` should take, timed on a few origins.

        The work of a pair grows with the support and the number of small capacities
        it must fill, by three orders of magnitude between an integer point and the
        whole support at AP 200 p = 4-5 (20-30 s); a timed sample of evenly spaced
        origins (pairs without flow cost nothing) scales that without a model.  At AP
        200 p = 5 (18 s): 16 origins estimate 21.5 s in 1.7 s, 4 origins 35 s."""
        n = self.data.n
        rows = np.unique(np.linspace(0, n - 1, min(n, origins)).astype(np.int64))
        if budget is not None:
            # one OD pair, then one origin first: when the sample would take more than
            # ``budget`` seconds, their time is the estimate (at 300 nodes with every
            # site, 16 origins took 200 s beside other solves; at 500, one origin 125 s)
            live = rows[self.W[rows].any(axis=1)]
            if live.size:
                i = int(live[0])
                cols = np.flatnonzero(self.W[i])
                sample = int(np.count_nonzero(self.W[live]))
                for part in (cols[:1], cols):
                    one = np.zeros_like(self.W)
                    one[i, part] = self.W[i, part]
                    begun = time.perf_counter()
                    self._separate(point, one)
                    per_pair = (time.perf_counter() - begun) / part.size
                    if per_pair * sample > budget:
                        return per_pair * int(np.count_nonzero(self.W))
        W = np.zeros_like(self.W)
        W[rows] = self.W[rows]
        start = time.perf_counter()
        self._separate(point, W)
        per_pair = (time.perf_counter() - start) / max(1, int(np.count_nonzero(W)))
        return per_pair * int(np.count_nonzero(self.W))

    def _separate(
        self, point: FloatArray, W: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray]:
        S = np.nonzero(point > 1e-9)[0]
        cap = np.minimum(np.asarray(point[S], dtype=np.float64), 1.0)
        flows = self.W if W is None else W
        return origin_cuts(self.chiC, self.aC, self.dC, flows, self.G, S, cap, check=False)

    def _separate_numpy(self, point: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Per-origin cuts ``theta_i >= const_i - coef_i . y``, optimal at ``point``.

        ``S`` is the support of ``point``.  For each OD pair the routing LP restricted to
        ``S x S`` (a transportation problem with capacities ``y``) is solved exactly by
        successive shortest paths (:func:`transport_duals`), which gives its optimal
        duals ``u``, ``a``, ``b`` on ``S``; sites outside ``S`` get the smallest duals
        that keep every constraint ``u - a_k - b_m <= c_km`` satisfied (with
        ``G_kj = min_m alpha C_km + delta C_mj`` for pairs of two such sites).  The cut
        is valid for every ``y`` and, by LP duality, equals the routing LP at ``point``.
        """
        n = self.data.n
        S = np.nonzero(point > 1e-9)[0]
        s = len(S)
        cap = np.minimum(np.asarray(point[S], dtype=np.float64), 1.0)
        const = np.zeros(n)
        coef = np.zeros((n, n))
        aSS = self.aC[np.ix_(S, S)]  # (s, s)
        dS = self.dC[S]  # (s, n): delta C_mj
        outside = np.ones(n, dtype=bool)
        outside[S] = False
        step = max(1, _CHUNK_ELEMENTS // max(1, n * n * s))
        for lo in range(0, n, step):
            rows = np.arange(lo, min(n, lo + step))
            b = len(rows)
            chiS = self.chiC[rows][:, S]  # (b, s)
            pc = chiS[:, None, :, None] + aSS[None, None, :, :] + dS.T[None, :, None, :]
            u, aS, bS, _ = transport_duals(pc.reshape(b * n, s, s), cap)
            u2 = u.reshape(b, n)
            aS = aS.reshape(b, n, s)
            bS = bS.reshape(b, n, s)
            uu = u2[:, :, None]
            chiC = self.chiC[rows]  # (b, n_k)
            # a site k outside S as first hub, m in S: a_k >= u - c_km - b_m
            ck = chiC[:, None, :, None] + self.aC[:, S][None, None, :, :] + dS.T[None, :, None, :]
            a_out = np.maximum(
                (uu[:, :, :, None] - ck - bS[:, :, None, :]).max(axis=3),
                uu - chiC[:, None, :] - self.G.T[None, :, :],
            )
            # a site m outside S as second hub, k in S: b_m >= u - c_km - a_k
            cm = chiS[:, None, :, None] + self.aC[S][None, None, :, :] + self.dC.T[None, :, None, :]
            b_out = (uu[:, :, None, :] - cm - aS[:, :, :, None]).max(axis=2)
            cfull = (np.maximum(a_out, 0.0) + np.maximum(b_out, 0.0)) * outside
            cfull[:, :, S] = aS + bS
            w = self.W[rows]
            const[rows] = (w * u2).sum(axis=1)
            coef[rows] = np.einsum("ij,ijk->ik", w, cfull)
        return const, coef


def transport_duals(
    c: FloatArray, y: FloatArray, eps: float = 1e-12
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Optimal primal value and duals of many small routing LPs at once.

    Row ``r`` of ``c`` (shape ``(B, s, s)``) is ``min sum c_km x_km`` subject to
    ``sum_m x_km <= y_k``, ``sum_k x_km <= y_m``, ``sum x = 1``, ``x >= 0`` (needs
    ``sum y >= 1``).  Successive shortest paths (Bellman-Ford on the residual graph,
    vectorised over the rows) send the unit; the distances ``d_K``, ``d_M`` of the last
    shortest-path tree give the duals ``u = d_t``, ``a_k = max(0, d_K(k))`` and
    ``b_m = max(0, u - d_M(m))``, feasible for ``u - a_k - b_m <= c_km`` because every
    forward arc satisfies ``d_M(m) <= d_K(k) + c_km``.  Returns ``u``, ``a``, ``b`` and
    the primal value of each row.
    """
    B, s, _ = c.shape
    x = np.zeros((B, s, s))
    fk = np.zeros((B, s))
    gm = np.zeros((B, s))
    rem = np.ones(B)
    inf = np.inf
    u = np.zeros(B)
    dK_out = np.zeros((B, s))
    dM_out = np.zeros((B, s))
    active = np.arange(B)

    def tol(d: FloatArray) -> FloatArray:
        return 1e-12 * (1.0 + np.abs(np.where(np.isfinite(d), d, 0.0)))

    for _ in range(16 * s + 16):  # augmentations (each saturates a capacity)
        if active.size == 0:
            break
        ca, xa, fa, ga = c[active], x[active], fk[active], gm[active]
        A = active.size
        ar = np.arange(A)
        dK = np.where(fa < y - eps, 0.0, inf)
        predK = np.full((A, s), -1)
        dM = np.full((A, s), inf)
        predM = np.zeros((A, s), dtype=np.int64)
        has = xa > eps  # residual reverse arcs m -> k
        live = ar  # rows whose labels still change (Bellman-Ford, strict improvements)
        for _r in range(4 * s + 4):
            cl = ca[live]
            tot = dK[live][:, :, None] + cl
            am = tot.argmin(axis=1)
            nm = np.take_along_axis(tot, am[:, None, :], axis=1)[:, 0, :]
            dml = dM[live]
            imp_m = nm < dml - tol(dml)
            dM[live] = np.where(imp_m, nm, dml)
            predM[live] = np.where(imp_m, am, predM[live])
            rev = np.where(has[live], dM[live][:, None, :] - cl, inf)
            pm = rev.argmin(axis=2)
            vr = np.take_along_axis(rev, pm[:, :, None], axis=2)[:, :, 0]
            dkl = dK[live]
            imp_k = vr < dkl - tol(dkl)
            dK[live] = np.where(imp_k, vr, dkl)
            predK[live] = np.where(imp_k, pm, predK[live])
            changed = imp_k.any(axis=1) | imp_m.any(axis=1)
            live = live[changed]
            if live.size == 0:
                break
        dMt = np.where(ga < y - eps, dM, inf)
        mt = dMt.argmin(axis=1)
        dt = dMt[ar, mt]
        # trace the path back from t, with its bottleneck
        bn = np.minimum(rem[active], y[mt] - ga[ar, mt])
        m = mt.copy()
        steps = []
        alive = np.ones(A, dtype=bool)
        for _st in range(2 * s + 2):
            if not alive.any():
                break
            k = predM[ar, m]
            pk = predK[ar, k]
            steps.append((alive.copy(), k, m.copy(), pk))
            direct = pk < 0
            bn = np.where(alive & direct, np.minimum(bn, y[k] - fa[ar, k]), bn)
            cont = alive & ~direct
            bn = np.where(cont, np.minimum(bn, xa[ar, k, np.maximum(pk, 0)]), bn)
            alive = cont
            m = np.where(cont, pk, m)
        finishing = bn >= rem[active] - eps
        if finishing.any():  # duals from this tree, closed under the arcs t -> m
            fr = np.nonzero(finishing)[0]
            dKf, dMf, caf, hasf, gf, ut = dK[fr], dM[fr], ca[fr], has[fr], ga[fr], dt[fr]
            for _r in range(4 * s + 4):
                dMn = np.where(gf > eps, np.minimum(dMf, ut[:, None]), dMf)
                dMn = np.minimum(dMn, (dKf[:, :, None] + caf).min(axis=1))
                dKn = np.minimum(dKf, np.where(hasf, dMn[:, None, :] - caf, inf).min(axis=2))
                if np.array_equal(dKn, dKf) and np.array_equal(dMn, dMf):
                    break
                dKf, dMf = dKn, dMn
            g = active[fr]
            u[g] = ut
            dK_out[g] = dKf
            dM_out[g] = dMf
        amt = np.minimum(bn, rem[active])
        for alive_s, k, m_s, pk in steps:
            idx = np.nonzero(alive_s)[0]
            g = active[idx]
            x[g, k[idx], m_s[idx]] += amt[idx]
            d = pk[idx] < 0
            fk[g[d], k[idx][d]] += amt[idx][d]
            x[g[~d], k[idx][~d], pk[idx][~d]] -= amt[idx][~d]
        gm[active, mt] += amt
        rem[active] -= amt
        active = active[~finishing]
    a = np.maximum(0.0, dK_out)
    b = np.maximum(0.0, u[:, None] - dM_out)
    return u, a, b, (x * c).sum(axis=(1, 2))
