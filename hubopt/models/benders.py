"""Benders decomposition for multiple-allocation hub location (UMApHMP, UMAHLP).

Once the hub set ``H`` is fixed, the best multiple-allocation route of every OD pair
is a shortest path through at most two hubs, ``c*_ij(H) = min_{k, m in H} c_ijkm`` with
``c_ijkm = chi C_ik + alpha C_km + delta C_mj``.  The decomposition keeps only the hub
variables ``y`` in a master problem and one variable ``theta_i`` per origin for the
routing cost of all flows leaving ``i`` (Contreras, Cordeau & Laporte 2011 use the
same per-origin aggregation)::

    min  sum_i theta_i + sum_k f_k y_k
    s.t. sum_k y_k = p             (p-hub median)   or   sum_k y_k >= 1 (fixed costs)
         theta_i >= Benders cuts,   y binary.

Cuts.  For one OD pair the routing subproblem, in the transportation form of the
path formulation (``sum_m x_km <= y_k``, ``sum_k x_km <= y_m``, ``sum x = 1``), has the
dual ``max u - sum_k a_k y_k - sum_m b_m y_m`` with ``u - a_k - b_m <= c_km`` and
``a, b >= 0``.  Every dual-feasible point gives a valid cut.  At a point ``y*`` with
support ``S``, :meth:`_CutGenerator.separate` solves the subproblem restricted to
``S x S`` exactly for every OD pair with the compiled kernel of
:mod:`hubopt.models._cuts` (successive shortest paths, in parallel over origins), which
gives ``u`` and the optimal duals of ``S``; a site outside ``S`` gets the smallest duals
that keep the dual constraints satisfied (with ``G_kj = min_m alpha C_km + delta C_mj``
for pairs of two such sites).  The cut equals the routing LP at ``y*`` (at an integer
point: ``c*(H)``) and is valid for every ``y``.  The pairs of an origin are summed into
one cut on ``theta_i``.  (:func:`transport_duals` and ``_separate_numpy`` are the same
computation in vectorised numpy: the slow reference the tests check the kernel against.)

Algorithm.

1. LP phase: cutting planes on the master's LP relaxation (GLOP, re-solved
   incrementally), seeded with cuts at the incumbent and its closest swap neighbours
   (up to ``warm_neighbours`` per hub, nearest first over all hubs, within a tenth of
   the time left).
   In-out stabilisation (Ben-Ameur & Neto 2007; Fischetti, Ljubić & Sinnl 2017):
   separation at ``lam y* + (1 - lam) c`` with a centre ``c`` that starts uniform
   (``p / n`` everywhere) and moves a tenth of the way to each LP point
   (``center_step``); plain ``y*`` once the bound stalls.  The slow centre matters:
   moving half-way, the cuts crowd around the LP points and the bound crept (AP 200
   UMApHMP p = 10: 106.3k after 26 rounds, 1.4 % below the optimum; 106.8k after 59
   from a poor start, ``benchmarks/lp_phase.md``); a centre that stays near the
   uniform point keeps every site in the cuts (107.7k after 13 rounds; the solve is
   then proven optimal in 338 s instead of ending at 0.8 %,
   ``benchmarks/center_step.md``).  Entries below 0.02 are dropped from the
   separation point (a cheaper point, still a valid cut), except while the centre
   keeps its uniform share (``>= q / 4n``): with few hubs (``q / n < 0.04``) that
   share is below 0.02, and a cut that knows only the LP support leaves the other
   sites cheap (AP 200 p = 5: LP bound 91.8k after 5 rounds sparse, 122k after 3 with
   the whole support).  The whole support costs 20-30 s per separation at AP 200
   p = 4/5, so it is used only when a timed sample of origins says it fits in
   ``dense_budget`` of the time left.  Every
   round also adds the exact cut at the rounded hub set (top ``p`` sites); for the
   p-hub median the swap descent from it (``polish_lp_points``, a fraction of a second
   at AP 200) gives the candidate incumbent: at AP 200 p = 15 the first rounded point
   led to the optimum that the VNS had missed.  Cuts slack for ``purge_after`` rounds
   leave the master model and return when violated (:class:`_CutPool`).  After every
   round the reduced-cost test closes the sites it prices out (``close_during_lp``); a
   closed site leaves the centre too, so the dense points shrink: AP 200 p = 5 went
   200, 171, 135, 87, 60, 37 sites and was proven in 291 s beside another solve, where
   it had ended at 1.46 % after 558 s with 200-site rounds of about 90 s each.  The
   phase ends when the bound gains less than 0.05 % in 5 rounds: the integer phase
   closes the tail faster.
2. Reduction tests: with the LP bound ``LB`` and reduced cost ``r_k``, a site with
   ``LB + r_k > UB`` cannot be a hub of a better solution and is fixed closed; one with
   ``LB - r_k > UB`` (at its upper bound) is fixed open.  Then, when at least
   ``probe_min_seconds`` are left (or without a deadline), probing in
   ``probe_budget`` of the time left (:func:`_probe`): the master LP is re-solved with
   one variable fixed, ``y_k = 0`` for the sites of the LP support (fixed open if that
   LP reaches the incumbent) and ``y_k = 1`` for the others (fixed closed if it does);
   the reduced-cost test is the first-order estimate of the same LPs.  Measured
   (``benchmarks/probing.md``, AP 200 UMApHMP, 600 s): p = 5 fixes 26 more sites, gap
   0.84 % instead of 1.11 %; p = 10 fixes 12, 0.75 % instead of 0.83 %.  With 60 s
   (AP 100) it fixed none and cost time, hence the threshold.
   ``probe_separation_rounds`` (default 0) also separates new cuts at the LP point of a
   probe that ends at least half-way to the incumbent: on small instances that fixes
   many more sites (2 -> 16 on a 20-node one), but at AP 200 with 600 s it changed
   little (``benchmarks/probe_separation.md``: p = 10 9 sites and 0.84 % against 6 and
   0.85 %; p = 5 21 and 1.29 % against 24 and 1.21 %), so it is off.
3. Integer phase: the master MIP (MathOpt/HiGHS, incumbent as hint and as objective
   bound, primal heuristics off) is solved repeatedly; each master solution ``H``
   also gets the cuts at its closest swap neighbours (``mip_neighbours`` per hub)
   that the master does not already imply, and their costs update the incumbent.
   With less than 120 s left it first drops the cuts slack at both the last LP point
   and the incumbent (``drop_slack_cuts``): faster node LPs but a weaker master.  Measured on AP 100
   UMApHMP: with 60 s, dropping proves p = 20 (gap 0.24 % keeping all); with 240 s,
   keeping all gets p = 5 to 0.004 % (0.64 % dropping).  Each master solution ``H`` is
   evaluated exactly and cuts at ``H`` are added.  "Infeasible" under the objective
   bound means no hub set beats the incumbent: optimal.  The master's dual bound is
   valid at any time.
   ``integer_phase="tree"`` replaces the master MIP by hubopt's own best-first branch
   and bound over the master LP (:mod:`hubopt.models._tree`), which separates cuts at
   every node's LP point (up to ``node_rounds`` rounds, fewer once a round gains less
   than ``node_gain``), so each node bound is the true LP bound of its sub-problem.
   Measured slower than the master MIP, it is not the default
   (``benchmarks/integer_phase.md``: AP 100 UMApHMP with 60 s, gaps 0.52 / 0.74 / 0.13
   % against 0.22 / 0.58 / 0 % for p = 5 / 10 / 15; both prove p = 20): 0.3-1 s per
   node against HiGHS's thousands of node LPs.

Multiple allocation is a relaxation of single allocation on the same hubs, so the
bound is also a valid lower bound for USApHMP and USAHLP.
"""

from __future__ import annotations

import datetime
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.math_opt.python import mathopt
from ortools.math_opt.solvers import highs_pb2

from hubopt._errors import ModelSpecificationError, SolverError
from hubopt.models._cuts import origin_cuts
from hubopt.models._quiet import native_stdout_silenced
from hubopt.models._tree import NodeLP, best_first_search
from hubopt.models.base import FloatArray, HubData, IntArray
from hubopt.models.heuristics import local_search_hubs, ma_costs

_log = logging.getLogger(__name__)
_VERBOSE_MIP = False  # HiGHS log of the master MIPs (debugging)
LP_SOLVER = mathopt.SolverType.GLOP
_CHUNK_ELEMENTS = 3_000_000  # bound on the (origins x n x n) temporaries of a cut batch


@dataclass(frozen=True)
class BendersResult:
    """Outcome of :func:`benders_multiple_allocation`."""

    hubs: tuple[int, ...]
    objective: float  # exact multiple-allocation cost plus fixed costs of ``hubs``
    bound: float  # valid lower bound on the optimum
    proven: bool
    lp_bound: float
    lp_iterations: int
    mip_iterations: int
    cuts: int
    fixed_closed: int
    fixed_open: int
    info: dict[str, float] = field(default_factory=dict)
    # sites ruled out / forced in for every solution below ``screen_above`` (see
    # :func:`benders_multiple_allocation`); empty without screening
    screened_out: tuple[int, ...] = ()
    screened_in: tuple[int, ...] = ()

    def summary(self) -> dict[str, float]:
        """The figures a :class:`~hubopt.models.base.Solution` reports in its ``info``."""
        return {
            "lp_bound": self.lp_bound,
            "lp_iterations": self.lp_iterations,
            "mip_iterations": self.mip_iterations,
            "cuts": self.cuts,
            "fixed_closed": self.fixed_closed,
            "fixed_open": self.fixed_open,
            **{k: v for k, v in self.info.items() if k != "seconds"},
        }


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

    def estimate(self, point: FloatArray, origins: int = 16) -> float:
        """Seconds a separation at ``point`` should take, timed on a few origins.

        The work of a pair grows with the support and the number of small capacities
        it must fill, by three orders of magnitude between an integer point and the
        whole support at AP 200 p = 4-5 (20-30 s); a timed sample of evenly spaced
        origins (pairs without flow cost nothing) scales that without a model.  At AP
        200 p = 5 (18 s): 16 origins estimate 21.5 s in 1.7 s, 4 origins 35 s."""
        n = self.data.n
        rows = np.unique(np.linspace(0, n - 1, min(n, origins)).astype(np.int64))
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


class _CutPool:
    """Every Benders cut found, with the ones in the master model marked ``active``.

    A cut slack at ``purge_after`` consecutive LP points, and not tight at the
    incumbent, leaves the model (the master LP re-solves faster: at AP 200 p = 5 only
    about 650 of 11,000 cuts are tight after 30 rounds); it comes back as soon as a
    master solution violates it.  Every cut stays valid, so the bound does not depend
    on which are in the model."""

    def __init__(
        self, model: mathopt.Model, y: list[mathopt.Variable], theta: list[mathopt.Variable]
    ) -> None:
        self.model, self.y, self.theta = model, y, theta
        self.cons: list[mathopt.LinearConstraint | None] = []
        self.origin: list[int] = []
        self.const: list[float] = []
        self.coef: list[FloatArray] = []
        self.tight: list[int] = []  # the last LP round at which the cut was tight
        self._arrays: tuple[IntArray, FloatArray, FloatArray] | None = None

    def __len__(self) -> int:
        return len(self.cons)

    def _constraint(self, i: int, const: float, coef: FloatArray) -> mathopt.LinearConstraint:
        nz = np.nonzero(coef > 1e-12)[0]
        expr = self.theta[i] + mathopt.fast_sum(float(coef[k]) * self.y[k] for k in nz)
        return self.model.add_linear_constraint(expr >= const)

    def add(self, i: int, const: float, coef: FloatArray, round_: int) -> None:
        self.cons.append(self._constraint(i, const, coef))
        self.origin.append(i)
        self.const.append(const)
        self.coef.append(coef.copy())
        self.tight.append(round_)
        self._arrays = None

    def arrays(self) -> tuple[IntArray, FloatArray, FloatArray]:
        """``(origin, const, coef)`` of every cut as arrays."""
        if self._arrays is None:
            self._arrays = (
                np.array(self.origin, dtype=np.int64),
                np.array(self.const),
                np.array(self.coef),
            )
        return self._arrays

    def values(self, yv: FloatArray) -> FloatArray:
        """The right-hand side ``const - coef . yv`` of every cut."""
        _, const, coef = self.arrays()
        return const - coef @ yv

    def envelope(self, yv: FloatArray) -> FloatArray:
        """Per origin, the largest value at ``yv`` of the cuts in the model (what the
        master knows of ``theta`` there; ``-inf`` without a cut)."""
        out = np.full(len(self.theta), -np.inf)
        if len(self):
            origin, _, _ = self.arrays()
            act = self.active()
            np.maximum.at(out, origin[act], self.values(yv)[act])
        return out

    def active(self) -> np.ndarray:
        return np.array([c is not None for c in self.cons], dtype=bool)

    def restore_violated(self, yv: FloatArray, tv: FloatArray, round_: int | None = None) -> int:
        """Put back the cuts out of the model that ``(yv, tv)`` violates; their number.
        With ``round_``, a cut put back counts as tight in that round (otherwise it
        could leave again at the next purge, its old stamp being out of date)."""
        if not len(self):
            return 0
        origin, _, _ = self.arrays()
        at = self.values(yv)
        tol = 1e-9 * np.maximum(1.0, np.abs(tv[origin]))
        back = np.nonzero((at > tv[origin] + tol) & ~self.active())[0]
        for q in back:
            self.cons[q] = self._constraint(int(origin[q]), self.const[q], self.coef[q])
            if round_ is not None:
                self.tight[q] = round_
        return len(back)

    def keep_only(self, keep: np.ndarray) -> None:
        """Take the cuts with ``keep`` False out of the model."""
        for q in np.nonzero(~keep & self.active())[0]:
            con = self.cons[q]
            assert con is not None
            self.model.delete_linear_constraint(con)
            self.cons[q] = None

    def purge(
        self, yv: FloatArray, tv: FloatArray, y_best: FloatArray, round_: int, after: int
    ) -> None:
        """Record the cuts tight at the LP point ``(yv, tv)`` of round ``round_``, and
        take out those slack for ``after`` rounds unless tight at the incumbent."""
        stamps = np.array(self.tight)
        stamps[self.tight_at(yv, tv)] = round_
        self.tight = stamps.tolist()
        self.keep_only((round_ - stamps < after) | self.tight_at_hubs(y_best))

    def tight_at(self, yv: FloatArray, tv: FloatArray) -> np.ndarray:
        """Cuts that hold ``theta = tv`` at ``yv`` (within a relative ``1e-6``)."""
        origin, _, _ = self.arrays()
        tol = 1e-6 * np.maximum(1.0, np.abs(tv[origin]))
        return self.values(yv) >= tv[origin] - tol

    def tight_at_hubs(self, y_int: FloatArray) -> np.ndarray:
        """Cuts that give an origin's largest value at the hub set ``y_int``."""
        origin, _, _ = self.arrays()
        at = self.values(y_int)
        best = np.full(len(self.theta), -np.inf)
        np.maximum.at(best, origin, at)
        return at >= best[origin] - 1e-6 * np.maximum(1.0, np.abs(best[origin]))


def _sparsify(point: FloatArray, threshold: float = 0.02) -> FloatArray:
    """``point`` without its entries below ``threshold`` (a cheaper separation point),
    unless that would leave less than one unit of hub capacity."""
    out = np.where(point >= threshold, point, 0.0)
    return out if out.sum() >= 1.0 else point


def _top(point: FloatArray, q: int, allowed: FloatArray) -> IntArray:
    score = np.where(allowed > 0, point, -np.inf)
    order = np.argsort(-score, kind="stable")
    return np.sort(order[:q])


def benders_multiple_allocation(
    data: HubData,
    *,
    start: Sequence[int],
    deadline: float | None,
    relative_gap: float = 1e-6,
    lp_max_iterations: int = 200,
    warm_neighbours: int = 5,
    stabilise: float = 0.5,
    tail_rounds: int = 5,
    tail_gain: float = 5e-4,
    drop_slack_cuts: bool | None = None,
    dense_budget: float = 0.3,
    purge_after: int = 10,
    probe_budget: float = 0.25,
    probe_min_seconds: float = 120.0,
    mip_neighbours: int = 1,
    probe_separation_rounds: int = 0,
    center_step: float = 0.1,
    integer_phase: str = "mip",
    node_rounds: int = 8,
    node_gain: float = 2e-4,
    polish_lp_points: bool = True,
    close_during_lp: bool = True,
    screen_above: float | None = None,
    screen_deadline: float | None = None,
    screen_share: float = 1.0,
) -> BendersResult:
    """Solve UMApHMP (``data.p`` set) or UMAHLP (fixed costs) by Benders decomposition.

    ``start`` is a feasible hub set (the incumbent to improve).  Returns the best hub
    set found with a valid lower bound; ``proven`` when the bound meets the objective.
    ``dense_budget``: the share of the time left that one separation at a point with
    the centre's whole support may take (otherwise entries below 0.02 are dropped).
    ``purge_after``: LP rounds after which a slack cut leaves the master model (0:
    never; see :class:`_CutPool`).  ``probe_budget``: share of the time left for the
    probing reduction tests (:func:`_probe`; 0: none), made only when at least
    ``probe_min_seconds`` are left; ``center_step``: the share of the way the in-out
    centre moves to each LP point (0: it stays uniform); ``probe_separation_rounds``:
    rounds of new cuts at the LP point of a probe that ends close to the incumbent.
    ``mip_neighbours``: swap neighbours per hub of each master solution that get cuts
    (0: none).
    ``integer_phase``: ``"mip"`` (the master MIP, repeated) or ``"tree"`` (own
    branch-and-cut tree; ``node_rounds`` and ``node_gain`` bound its cut rounds per node).
    ``polish_lp_points``: the p-hub median's rounded LP point of every LP round starts a
    swap descent whose local optimum can become the incumbent.  ``close_during_lp``:
    the reduced-cost test closes sites after every LP round, not only after the phase.
    ``screen_above``: after the solve (in ``screen_share`` of the time then left until
    ``screen_deadline``), the master LP with all its cuts and none of the solve's own
    fixings tells which sites no hub set whose multiple-allocation cost lies below this
    value can open, and which it must (:func:`_screen`): with the cost of a
    single-allocation solution, sites that no cheaper single-allocation solution uses
    (multiple allocation is never dearer).
    """
    if integer_phase not in ("mip", "tree"):
        msg = f"integer_phase: expected 'mip' or 'tree', got {integer_phase!r}"
        raise ModelSpecificationError(msg)
    t0 = time.perf_counter()
    n = data.n
    p = data.p
    f = np.zeros(n) if data.fixed_costs is None else np.asarray(data.fixed_costs, dtype=float)
    allowed = np.zeros(n)
    allowed[list(data.candidates)] = 1.0
    gen = _CutGenerator(data)

    def indicator(H: Sequence[int] | IntArray) -> FloatArray:
        """The 0/1 vector of the hub set ``H``."""
        out = np.zeros(n)
        out[list(H)] = 1.0
        return out

    def exact(H: Sequence[int]) -> float:
        arr = np.array([sorted(int(h) for h in H)], dtype=np.int64)
        return float(ma_costs(data, arr)[0] + f[arr[0]].sum())

    best_H = tuple(sorted(int(h) for h in start))
    UB = exact(best_H)
    seen: set[tuple[int, ...]] = {best_H}

    model = mathopt.Model(name="benders_master")
    y = []
    for k in range(n):
        lb = 1.0 if k in data.fixed_hubs else 0.0
        ub = allowed[k]
        y.append(model.add_variable(lb=lb, ub=ub, name=f"y_{k}"))
    theta = [model.add_variable(lb=float(gen.free[i]), name=f"t_{i}") for i in range(n)]
    if p is not None:
        model.add_linear_constraint(sum(y) == p)
    else:
        model.add_linear_constraint(sum(y) >= 1)
    model.minimize(sum(theta) + sum(float(f[k]) * y[k] for k in range(n) if f[k] != 0.0))
    n_cuts = 0
    lp_iter = 0
    pool = _CutPool(model, y, theta)

    def add_cuts(const: FloatArray, coef: FloatArray, yv: FloatArray, tv: FloatArray | None) -> int:
        nonlocal n_cuts
        added = 0
        viol = const - coef @ yv
        for i in range(n):
            t = math.inf if tv is None else float(tv[i])  # tv = -inf: no cut of i yet
            if math.isfinite(t) and viol[i] <= t + 1e-9 * max(1.0, abs(t)):
                continue
            pool.add(i, float(const[i]), coef[i], lp_iter)
            added += 1
        n_cuts += added
        return added

    def consider(H: IntArray, *, polish: bool = False) -> None:
        """Update the incumbent with the hub set ``H``; with ``polish`` (p-hub median
        only), with the swap descent from ``H`` instead (rounded LP points: the descent
        takes a fraction of a second at AP 200 and often finds sets the VNS missed)."""
        nonlocal UB, best_H
        key = tuple(sorted(int(h) for h in H))
        if key in seen:
            return
        seen.add(key)
        if polish and p is not None and data.fixed_costs is None:
            H2, _ = local_search_hubs(data, key, deadline=deadline)
            key = tuple(int(h) for h in H2)
            seen.add(key)
        v = exact(key)
        if v < UB - 1e-9 * max(1.0, abs(UB)):
            _log.debug("incumbent %.4f from %s", v, "a polished LP point" if polish else "a point")
            UB, best_H = v, key

    def out_of_time() -> bool:
        return deadline is not None and time.perf_counter() > deadline

    def cutoff() -> float:
        """Only solutions below this beat the incumbent (within the relative gap)."""
        return UB - relative_gap * max(1.0, abs(UB))

    def remaining() -> float | None:
        return None if deadline is None else max(0.01, deadline - time.perf_counter())

    # initial cuts at the incumbent
    y_inc = indicator(best_H)
    const, coef = gen.separate(y_inc)
    add_cuts(const, coef, y_inc, None)
    # cuts at the incumbent's closest swap neighbours: cheap (integer points) and they
    # tell the master what leaving the incumbent costs.  Nearest neighbours of every
    # hub first, then the next nearest, ..., within a tenth of the time left: at AP 200
    # p = 20 all five per hub take 20 s and give a master LP that is slow to re-solve
    # (LP gap 1.5 % after 13 s with one per hub; 8 % after 33 s, 1.4 % after 43 s, with five)
    if p is not None and warm_neighbours > 0:
        warm_end = None if deadline is None else _share_of_time_left(deadline, 0.1)
        swaps = _swap_neighbours(data.costs, best_H, allowed, set(data.fixed_hubs), warm_neighbours)
        for rank in swaps:
            for H_nb in rank:
                if warm_end is not None and time.perf_counter() > warm_end:
                    break
                y_nb = indicator(H_nb)
                add_cuts(*gen.separate(y_nb), y_nb, None)

    # ---- LP phase -------------------------------------------------------------------
    solver = mathopt.IncrementalSolver(model, LP_SOLVER)
    lp_bound = -math.inf
    yv = y_inc
    rc = np.zeros(n)
    tv_last = np.zeros(n)
    stall = 0
    history: list[float] = []
    q = p if p is not None else max(1, len(best_H))
    # in-out stabilisation: separate between the LP point and a centre that follows it
    # slowly (``center_step``)
    share = q / max(1.0, allowed.sum())
    center = allowed * share
    lam = stabilise
    # the separation point keeps entries >= 0.02 (cheaper) but that drops the centre's
    # uniform share once it falls below (in the first stabilised round when q / n < 0.04:
    # AP 200, p <= 7), and the cuts then know only the LP support: AP 200 p = 5 had an
    # LP bound of 91.8k after 5 rounds, against 131.2k after 3 rounds with the whole
    # support (two of them); the share is kept while it is at least q / 4n
    dense_threshold = min(0.02, 0.25 * share)
    dense_seconds: float | None = None
    dense_sites = 1
    fixed_closed = fixed_open = 0
    rc_value = -math.inf  # the objective of the LP that ``yv`` and ``rc`` come from

    def close_by_reduced_cost() -> int:
        """Close the sites that the reduced costs of the last LP price out of every
        solution better than the incumbent (that LP's value, not the best one: ``rc``
        belong to it, and purged cuts can leave it below ``lp_bound``)."""
        closed = 0
        for k in range(n):
            if allowed[k] == 0 or k in data.fixed_hubs or k in best_H or y[k].upper_bound < 0.5:
                continue
            if yv[k] <= 1e-9 and rc_value + rc[k] > UB * (1 + 1e-9):
                y[k].upper_bound = 0.0
                closed += 1
        return closed

    while lp_iter < lp_max_iterations and not out_of_time():
        lp_iter += 1
        lp_started = time.perf_counter()
        res = solver.solve(params=_lp_params(remaining()))
        if res.termination.reason != mathopt.TerminationReason.OPTIMAL:
            break
        # a separation stopped by the deadline leaves time for one more LP with its cuts
        sep_deadline = None if deadline is None else deadline - (time.perf_counter() - lp_started)
        value = res.objective_value()
        yv = np.array([res.variable_values(v) for v in y])
        tv = np.array([res.variable_values(v) for v in theta])
        tv_last = tv
        rc = np.array([res.reduced_costs(v) for v in y])
        rc_value = value
        if value > lp_bound + 1e-7 * max(1.0, abs(value)):
            stall = 0 if value > lp_bound + 1e-5 * max(1.0, abs(value)) else stall + 1
            lp_bound = max(lp_bound, value)
        else:
            stall += 1
        _log.debug(
            "LP %d: %.4f UB %.4f cuts %d support %d at %.1f s",
            lp_iter,
            value,
            UB,
            n_cuts,
            int((yv > 1e-9).sum()),
            time.perf_counter() - t0,
        )
        if UB - lp_bound <= relative_gap * max(1.0, abs(UB)):
            break
        if close_during_lp:  # closed sites leave the centre, so dense points get sparser
            closed = close_by_reduced_cost()
            if closed:
                fixed_closed += closed
                center[[k for k in range(n) if y[k].upper_bound < 0.5]] = 0.0
                center *= q / max(1e-12, center.sum())
                np.minimum(center, 1.0, out=center)
                _log.debug("LP %d: %d sites closed by reduced cost", lp_iter, closed)
        if purge_after > 0:  # cuts slack for a while leave the model, violated ones return
            pool.purge(yv, tv, indicator(best_H), lp_iter, purge_after)
        history.append(value)
        if stall >= 5 and lam < 1.0:
            lam, stall = 1.0, 0
        elif stall >= 8:
            break
        if len(history) > tail_rounds and history[-1] - history[-1 - tail_rounds] < (
            tail_gain * abs(history[-1])
        ):
            break  # the tail: the integer phase closes the rest faster
        top = _top(yv, q, allowed)
        point = _sparsify(lam * yv + (1.0 - lam) * center)
        if dense_threshold < 0.02 and dense_budget > 0:  # keep the small shares if affordable
            dense = _sparsify(lam * yv + (1.0 - lam) * center, dense_threshold)
            sites = int((dense > 0).sum())
            if sites > (point > 0).sum():
                if dense_seconds is None:  # timed once, then scaled by the squared support:
                    # an overestimate as sites close (AP 200 p = 5: 200 sites 90 s, 87 sites
                    # 8.5 s beside another solve)
                    dense_seconds, dense_sites = gen.estimate(dense), sites
                estimate = dense_seconds * (sites / dense_sites) ** 2
                left = remaining()
                if left is None or estimate <= dense_budget * left:
                    point = dense
                _log.debug(
                    "dense point (%d sites, estimated %.1f s): %s",
                    sites,
                    estimate,
                    "used" if point is dense else "declined",
                )
        if deadline is not None and time.perf_counter() + gen.predict(point) > deadline:
            break
        added = pool.restore_violated(yv, tv, lp_iter)
        added += add_cuts(*gen.separate(point, sep_deadline), yv, tv)
        if added == 0 and lam < 1.0:  # the stabilised cut does not cut off yv: plain one
            lam = 1.0
            added = add_cuts(*gen.separate(_sparsify(yv), sep_deadline), yv, tv)
        center = center_step * yv + (1.0 - center_step) * center
        if p is not None:  # the rounded point: an exact cut at an integer hub set
            y_top = indicator(top)
            added += add_cuts(*gen.separate(y_top), yv, tv)
        if p is not None:
            consider(top, polish=polish_lp_points)
        else:
            consider(np.nonzero((yv > 0.5) & (allowed > 0))[0] if (yv > 0.5).any() else top)
        if added == 0:
            break

    lp_phase_objective = UB
    # ---- reduction tests ------------------------------------------------------------
    if math.isfinite(rc_value):
        fixed_closed += close_by_reduced_cost()
        for k in best_H:
            if k in data.fixed_hubs or allowed[k] == 0:
                continue
            if yv[k] >= 1 - 1e-9 and rc_value - rc[k] > UB * (1 + 1e-9):
                y[k].lower_bound = 1.0
                fixed_open += 1

    # ---- reduction tests by probing ---------------------------------------------------
    probed = fixed_by_probe = 0
    if (
        math.isfinite(lp_bound)
        and probe_budget > 0
        and (deadline is None or deadline - time.perf_counter() >= probe_min_seconds)
        and UB - lp_bound > relative_gap * max(1.0, abs(UB))
    ):
        probed, fixed_by_probe, lp_bound = _probe(
            solver,
            y,
            pool,
            yv=yv,
            rc=rc,
            allowed=allowed,
            keep=set(best_H) | set(data.fixed_hubs),
            lp_bound=lp_bound,
            cutoff=cutoff(),
            deadline=None if deadline is None else _share_of_time_left(deadline, probe_budget),
            separate=lambda yp, tp: add_cuts(*gen.separate(_sparsify(yp)), yp, tp),
            separation_rounds=probe_separation_rounds,
        )
        _log.debug(
            "probing: %d LPs, %d sites fixed, LP bound %.4f at %.1f s",
            probed,
            fixed_by_probe,
            lp_bound,
            time.perf_counter() - t0,
        )

    # ---- integer phase --------------------------------------------------------------
    if drop_slack_cuts is None:  # measured on AP 100: dropping wins when time is short
        drop_slack_cuts = deadline is not None and deadline - time.perf_counter() < 120.0
    if math.isfinite(lp_bound) and drop_slack_cuts and len(pool):
        # the master MIP's node LPs are what costs: keep the cuts that hold the LP
        # optimum or the incumbent, drop the others (all stay valid; fewer is faster)
        pool.keep_only(pool.tight_at(yv, tv_last) | pool.tight_at_hubs(indicator(best_H)))
    _log.debug("integer phase with %d of %d cuts", int(pool.active().sum()), len(pool))
    bound = lp_bound
    mip_iter = nodes = 0
    # (probing may have fixed the master into infeasibility: a bound at the cutoff)
    proven = bound >= cutoff()
    if integer_phase == "tree" and not proven and math.isfinite(lp_bound):
        tree_round = lp_iter
        now_lo = np.array([v.lower_bound for v in y])
        now_up = np.array([v.upper_bound for v in y])

        def node_lp(lo: FloatArray, up: FloatArray) -> NodeLP:
            """The master LP at a node, with cuts separated at the node's own points."""
            nonlocal tree_round
            for k in np.nonzero((lo != now_lo) | (up != now_up))[0]:
                y[k].lower_bound, y[k].upper_bound = float(lo[k]), float(up[k])
            now_lo[:], now_up[:] = lo, up
            best = NodeLP(-math.inf, finished=False)
            prev = -math.inf
            for r in range(node_rounds):
                if out_of_time():
                    return NodeLP(best.value, best.point, best.reduced_costs, finished=False)
                res = solver.solve(params=_lp_params(remaining()))
                reason = res.termination.reason
                if reason == mathopt.TerminationReason.INFEASIBLE:
                    return NodeLP(math.inf)
                if reason != mathopt.TerminationReason.OPTIMAL:
                    return NodeLP(best.value, best.point, best.reduced_costs, finished=False)
                value = res.objective_value()
                yv = np.array([res.variable_values(v) for v in y])
                tv = np.array([res.variable_values(v) for v in theta])
                if value > best.value:
                    rc = np.array([res.reduced_costs(v) for v in y])
                    best = NodeLP(value, yv, rc, finished=True)
                if best.value >= cutoff():
                    return NodeLP(math.inf)
                tree_round += 1
                if purge_after > 0:
                    pool.purge(yv, tv, indicator(best_H), tree_round, purge_after)
                top = _top(yv, q, allowed * up)
                consider(top if p is not None else np.nonzero(yv > 0.5)[0])
                integral = bool((np.minimum(yv, 1.0 - yv) <= 1e-6).all())
                point = yv if integral else _sparsify(yv)
                added = pool.restore_violated(yv, tv, tree_round)
                added += add_cuts(*gen.separate(point), yv, tv)
                if added == 0 or (r >= 2 and value - prev < node_gain * abs(value)):
                    break
                prev = value
            if best.value >= cutoff():
                return NodeLP(math.inf)
            return best

        tree = best_first_search(
            node_lp,
            lower=now_lo.copy(),
            upper=now_up.copy(),
            root_bound=lp_bound,
            cutoff=cutoff,
            deadline=deadline,
        )
        nodes = tree.nodes
        bound = max(bound, tree.bound)
        proven = tree.proven
        _log.debug(
            "tree: %d nodes, %d open, %d fixed, bound %.4f UB %.4f",
            tree.nodes,
            tree.open_nodes,
            tree.fixed,
            bound,
            UB,
        )
    for v in y:
        v.integer = True
    while integer_phase == "mip" and not proven and not out_of_time():
        mip_iter += 1
        hint = mathopt.ModelSolveParameters(
            solution_hints=[
                mathopt.SolutionHint(
                    variable_values={y[k]: (1.0 if k in best_H else 0.0) for k in range(n)}
                )
            ]
        )
        # only master solutions below the incumbent matter: HiGHS prunes the rest, and
        # "infeasible" then means that none exists, i.e. the incumbent is optimal
        limit = cutoff()
        try:
            with native_stdout_silenced(not _VERBOSE_MIP):
                res = mathopt.solve(
                    model,
                    mathopt.SolverType.HIGHS,
                    params=_mip_params(remaining(), relative_gap, limit),
                    model_params=hint,
                )
        except Exception as exc:  # MathOpt wraps solver failures in several types
            msg = f"Benders master (MathOpt/HiGHS) failed: {exc}"
            raise SolverError(msg) from exc
        reason = res.termination.reason
        if reason == mathopt.TerminationReason.INFEASIBLE:
            bound = max(bound, limit)
            proven = True
            break
        # the master optimum is at least min(dual bound below the cutoff, cutoff)
        master_bound = min(res.termination.objective_bounds.dual_bound, limit)
        if math.isfinite(master_bound):
            bound = max(bound, master_bound)
        if reason not in (mathopt.TerminationReason.OPTIMAL, mathopt.TerminationReason.FEASIBLE):
            break
        yv = np.array([res.variable_values(v) for v in y])
        H = np.nonzero(yv > 0.5)[0]
        consider(H)
        _log.debug("MIP %d: bound %.4f UB %.4f cuts %d", mip_iter, bound, UB, n_cuts)
        if bound >= limit or UB - bound <= relative_gap * max(1.0, abs(UB)):
            proven = True
            break
        if reason != mathopt.TerminationReason.OPTIMAL:
            break
        # cuts at the master's hub set
        y_int = indicator(H)
        tv = np.array([res.variable_values(v) for v in theta])
        const, coef = gen.separate(y_int)
        if pool.restore_violated(y_int, tv) + add_cuts(const, coef, y_int, tv) == 0:
            # the master's value is exact at H: H is optimal for the master, so optimal
            bound = max(bound, UB) if exact(H.tolist()) <= UB * (1 + 1e-12) else bound
            proven = UB - bound <= relative_gap * max(1.0, abs(UB))
            break
        # and at its closest swap neighbours, where they tell the master more than its
        # cuts do: one master MIP costs minutes at AP 200, a neighbour's cut a fraction
        # of a second, and the next master solution is often one swap away
        if p is not None and mip_neighbours > 0:
            open_ = np.array([v.upper_bound > 0.5 for v in y], dtype=float) * allowed
            forced = {k for k in range(n) if y[k].lower_bound > 0.5}
            swaps = _swap_neighbours(data.costs, tuple(H.tolist()), open_, forced, mip_neighbours)
            for H_nb in (h for rank in swaps for h in rank):
                if out_of_time():
                    break
                consider(np.array(H_nb))
                y_nb = indicator(H_nb)
                add_cuts(*gen.separate(y_nb), y_nb, pool.envelope(y_nb))
    screened_out: tuple[int, ...] = ()
    screened_in: tuple[int, ...] = ()
    screen_info: dict[str, float] = {}
    if screen_above is not None and math.isfinite(screen_above) and len(pool):
        screen_until = screen_deadline
        if screen_deadline is not None:
            now = time.perf_counter()
            screen_until = now + screen_share * max(0.0, screen_deadline - now)
        screened_out, screened_in, screen_info = _screen(
            solver,
            y,
            pool,
            allowed=allowed,
            fixed_hubs=set(data.fixed_hubs),
            threshold=screen_above,
            deadline=screen_until,
            separate=lambda yp, tp, until: add_cuts(*gen.separate(_sparsify(yp), until), yp, tp),
        )
    return BendersResult(
        screened_out=screened_out,
        screened_in=screened_in,
        hubs=best_H,
        objective=UB,
        bound=min(bound, UB),
        proven=proven,
        lp_bound=lp_bound,
        lp_iterations=lp_iter,
        mip_iterations=mip_iter,
        cuts=n_cuts,
        fixed_closed=fixed_closed,
        fixed_open=fixed_open,
        info={
            "seconds": time.perf_counter() - t0,
            "probe_lps": float(probed),
            "fixed_by_probe": float(fixed_by_probe),
            "tree_nodes": float(nodes),
            "lp_phase_objective": lp_phase_objective,
            **screen_info,
        },
    )


def _swap_neighbours(
    costs: FloatArray, hubs: tuple[int, ...], allowed: FloatArray, keep: set[int], ranks: int
) -> list[list[tuple[int, ...]]]:
    """The hub sets one swap away from ``hubs``, by rank: ``out[r]`` (``r < ranks``)
    swaps every hub not in ``keep`` for its ``r``-th closest allowed site outside
    ``hubs`` (closest by ``C_hk + C_kh``)."""
    outside = np.array([k for k in np.nonzero(allowed > 0)[0] if k not in hubs], dtype=np.int64)
    swaps = [h for h in hubs if h not in keep]
    if not len(outside) or not swaps:
        return []
    near = {
        h: outside[np.argsort(costs[h, outside] + costs[outside, h], kind="stable")] for h in swaps
    }
    return [
        [tuple(sorted({*hubs} - {h} | {int(near[h][r])})) for h in swaps]
        for r in range(min(ranks, len(outside)))
    ]


def _share_of_time_left(deadline: float, share: float) -> float:
    now = time.perf_counter()
    return now + share * max(0.0, deadline - now)


def _probe(
    solver: mathopt.IncrementalSolver,
    y: list[mathopt.Variable],
    pool: _CutPool,
    *,
    yv: FloatArray,
    rc: FloatArray,
    allowed: FloatArray,
    keep: set[int],
    lp_bound: float,
    cutoff: float,
    deadline: float | None,
    separate: Callable[[FloatArray, FloatArray], int] | None = None,
    separation_rounds: int = 0,
    close: float = 0.5,
) -> tuple[int, int, float]:
    """Reduction tests by probing: the master LP with one hub variable fixed.

    A site whose LP with ``y_k = 1`` reaches ``cutoff`` cannot be a hub of a solution
    below it and is fixed closed; a site of the LP support whose LP with ``y_k = 0``
    reaches it is fixed open.  Stronger than the reduced-cost test, which is the
    first-order estimate of the same LP.  Cuts of the pool that the probe's solution
    violates come back first (up to three times per probe).  A probe that ends at
    least ``close`` of the way from ``lp_bound`` to ``cutoff`` but short of it gets up
    to ``separation_rounds`` rounds of new cuts at its own LP point (``separate(y, theta)``
    adds them and returns how many): the pool's cuts know little of the region a fixing
    moves to, and a probe value that is still only the pool's misses fixings.  Returns
    the number of probe LPs, of sites fixed, and the LP bound of the reduced master
    (valid for every solution below ``cutoff``).
    """
    solves = fixed = 0

    def out_of_time() -> bool:
        return deadline is not None and time.perf_counter() > deadline

    def value(var: mathopt.Variable, lower: float, upper: float) -> float:
        nonlocal solves
        old = (var.lower_bound, var.upper_bound)
        var.lower_bound, var.upper_bound = lower, upper
        out = -math.inf
        restored = separated = 0
        try:
            while True:
                left = None if deadline is None else max(0.01, deadline - time.perf_counter())
                res = solver.solve(params=_lp_params(left))
                solves += 1
                reason = res.termination.reason
                if reason == mathopt.TerminationReason.INFEASIBLE:
                    return math.inf
                if reason != mathopt.TerminationReason.OPTIMAL:
                    return -math.inf
                out = res.objective_value()
                if out >= cutoff:
                    break
                yp = np.array([res.variable_values(v) for v in y])
                tp = np.array([res.variable_values(t) for t in pool.theta])
                if restored < 2 and pool.restore_violated(yp, tp) > 0:
                    restored += 1
                    continue
                if (
                    separate is None
                    or separated >= separation_rounds
                    or out < lp_bound + close * (cutoff - lp_bound)
                    or out_of_time()
                ):
                    break
                separated += 1
                if separate(yp, tp) == 0:
                    break
            return out
        finally:
            var.lower_bound, var.upper_bound = old

    free = [
        k for k in range(len(y)) if allowed[k] > 0 and y[k].lower_bound < 0.5 < y[k].upper_bound
    ]
    # the LP support first (fixing one open raises the bound for every later probe),
    # then the closed sites, the most expensive to open first
    for k in sorted((k for k in free if yv[k] > 1e-9), key=lambda k: -yv[k]):
        if out_of_time():
            break
        if value(y[k], 0.0, 0.0) >= cutoff:
            y[k].lower_bound = 1.0
            fixed += 1
    for k in sorted((k for k in free if yv[k] < 1 - 1e-9 and k not in keep), key=lambda k: -rc[k]):
        if out_of_time():
            break
        if y[k].lower_bound > 0.5:
            continue
        if value(y[k], 1.0, 1.0) >= cutoff:
            y[k].upper_bound = 0.0
            fixed += 1
    if fixed:
        res = solver.solve(params=_lp_params(None))
        solves += 1
        if res.termination.reason == mathopt.TerminationReason.INFEASIBLE:
            lp_bound = max(lp_bound, cutoff)
        elif res.termination.reason == mathopt.TerminationReason.OPTIMAL:
            lp_bound = max(lp_bound, min(res.objective_value(), cutoff))
    return solves, fixed, lp_bound


def _screen(
    solver: mathopt.IncrementalSolver,
    y: list[mathopt.Variable],
    pool: _CutPool,
    *,
    allowed: FloatArray,
    fixed_hubs: set[int],
    threshold: float,
    deadline: float | None,
    separate: Callable[[FloatArray, FloatArray, float | None], int],
    rounds: int = 10,
    gain: float = 5e-4,
) -> tuple[tuple[int, ...], tuple[int, ...], dict[str, float]]:
    """Sites that no hub set whose multiple-allocation cost lies below ``threshold``
    opens (``out``), and those that every such set opens (``in``).

    The master's cuts are valid for every hub set, but the fixings of the solve are
    not: they hold only below the solve's own incumbent, which lies below
    ``threshold``.  So every site gets its original bounds back and the master LP is
    solved as an LP.  The sites the solve had closed early have few cuts, and that LP
    lies far below (AP 200 p = 5: 118.7k against the optimum 136.8k), so up to
    ``rounds`` rounds put back the pool's violated cuts or add new ones at the LP
    point (``separate(y, theta, deadline)`` adds them and returns how many) while the
    LP gains at least ``gain``.  Then a site whose reduced cost takes that LP to
    ``threshold`` is out, and :func:`_probe` fixes further sites with ``threshold`` as
    the cutoff until ``deadline``.  Returns ``out``, ``in`` and what to report.
    """
    t0 = time.perf_counter()
    for k, var in enumerate(y):
        var.integer = False
        var.lower_bound = 1.0 if k in fixed_hubs else 0.0
        var.upper_bound = float(allowed[k])
    info = {"screen_lp": -math.inf, "screen_probes": 0.0, "screen_rounds": 0.0}

    def out_of_time() -> bool:
        return deadline is not None and time.perf_counter() > deadline

    value = -math.inf
    for r in range(rounds + 1):
        left = None if deadline is None else max(0.01, deadline - time.perf_counter())
        res = solver.solve(params=_lp_params(left))
        if res.termination.reason != mathopt.TerminationReason.OPTIMAL:
            return (), (), info
        last, value = value, res.objective_value()
        yv = np.array([res.variable_values(v) for v in y])
        rc = np.array([res.reduced_costs(v) for v in y])
        if value >= threshold or r == rounds or out_of_time():
            break
        if math.isfinite(last) and value - last < gain * abs(value):
            break
        tv = np.array([res.variable_values(t) for t in pool.theta])
        if pool.restore_violated(yv, tv) == 0 and separate(yv, tv, deadline) == 0:
            break
        info["screen_rounds"] += 1
    info["screen_lp"] = value
    by_cost = 0
    for k in range(len(y)):
        if allowed[k] > 0 and k not in fixed_hubs and yv[k] <= 1e-9 and value + rc[k] >= threshold:
            y[k].upper_bound = 0.0
            by_cost += 1
    probes, _, bound = _probe(
        solver,
        y,
        pool,
        yv=yv,
        rc=rc,
        allowed=allowed,
        keep=set(fixed_hubs),
        lp_bound=value,
        cutoff=threshold,
        deadline=deadline,
    )
    out = tuple(k for k in range(len(y)) if allowed[k] > 0 and y[k].upper_bound < 0.5)
    in_ = tuple(k for k in range(len(y)) if k not in fixed_hubs and y[k].lower_bound > 0.5)
    info.update(
        screen_probes=float(probes),
        screen_by_cost=float(by_cost),
        screen_out=float(len(out)),
        screen_in=float(len(in_)),
        screen_bound=bound,
        screen_seconds=time.perf_counter() - t0,
    )
    return out, in_, info


def _lp_params(time_limit: float | None) -> mathopt.SolveParameters:
    kwargs: dict[str, object] = {}
    if time_limit is not None:
        kwargs["time_limit"] = datetime.timedelta(seconds=time_limit)
    return mathopt.SolveParameters(**kwargs)


def _mip_params(time_limit: float | None, gap: float, cutoff: float) -> mathopt.SolveParameters:
    highs = highs_pb2.HighsOptionsProto()
    highs.double_options["objective_bound"] = cutoff
    highs.double_options["mip_heuristic_effort"] = 0.0  # the incumbent comes from outside
    kwargs: dict[str, object] = {
        "relative_gap_tolerance": gap,
        "absolute_gap_tolerance": 1e-9,
        "highs": highs,
        "enable_output": _VERBOSE_MIP,
    }
    if time_limit is not None:
        kwargs["time_limit"] = datetime.timedelta(seconds=time_limit)
    return mathopt.SolveParameters(**kwargs)


__all__ = ["BendersResult", "benders_multiple_allocation", "transport_duals"]
