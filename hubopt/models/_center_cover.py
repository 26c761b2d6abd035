"""The covering oracle of the p-hub center and hub covering problems.

Given a radius ``r``, which hub sets (and, for single allocation, which allocations)
keep the route ``i -> k -> m -> j`` of every origin-destination pair with flow within
``chi C_ik + alpha C_km + delta C_mj <= r``?  :func:`cover` answers with the 0-1
programs below (:mod:`hubopt.models._binary`), for the pairs of an active set, and adds
the pairs that the answer leaves uncovered until none is (row generation: a pair left
out can only make the program looser, so infeasibility and bounds of the reduced
program hold for the whole one).

Multiple allocation (hub-pair form; a pair is covered when both hubs of one of its
covering hub pairs are open)::

    y_k                  hub k open;   w_km <= y_k,  w_km <= y_m   (k < m)
    sum_{(k, m) in S_ij(r)} w_km  >=  1     for every active pair (i, j), w_kk = y_k
    sum_{k in F_ij(r)} y_k  >=  1           (implied: F_ij the hubs of S_ij's pairs)

The implied clause halved the time of TR 81 UMApHCP p = 3 (alpha 0.5: 45.8 s against
84.7 s, the same optimum; CAB 25 and AP 40/50 rows the same or faster).

Single allocation (allocation form; Kara & Tansel 2000, Ernst et al. 2009: ``x_ik`` = 1
when node i is allocated to hub k, ``x_kk`` = hub k open)::

    sum_k x_ik = 1,   x_ik <= x_kk
    x_ik <= sum_{m in B_ijk(r)} x_jm        for every active pair (i, j) and hub k

where ``B_ijk(r) = {m : chi C_ik + alpha C_km + delta C_mj <= r}``; when ``B`` holds
more than half of the sites the row is written over its complement,
``x_ik + sum_{m not in B} x_jm <= 1`` (the same set of 0-1 points, as ``sum_m x_jm = 1``),
and an empty ``B`` fixes ``x_ik = 0``.

Either ``p`` hubs (the center problem's feasibility test; multiple allocation: at most
``p``, as more hubs never lengthen a route) or the cheapest set (``weights``: one per
site, the covering problem).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from hubopt.models._binary import BinaryProgram, solve_binary
from hubopt.models.base import FloatArray, HubData, IntArray
from hubopt.models.evaluate import best_routes, route_unit_costs

__all__ = ["CenterInstance", "CoverOutcome", "cover"]

MAX_NEW_PAIRS = 200
BOTH_SIDES = False
HUB_CLAUSES = True


@dataclass(frozen=True, eq=False)
class CenterInstance:
    """The OD pairs with flow (``I``, ``J``), the candidate sites ``K`` and the data."""

    data: HubData
    single: bool
    I: IntArray
    J: IntArray
    K: IntArray

    @classmethod
    def of(cls, data: HubData, *, single: bool) -> CenterInstance:
        """Pairs with ``W_ij > 0`` and the sites that may open."""
        I, J = np.nonzero(data.flows > 0)
        K = np.asarray(data.candidates, dtype=np.int64)
        return cls(data, single, I.astype(np.int64), J.astype(np.int64), K)

    def block(self, i: int, j: int) -> FloatArray:
        """``(m, m)`` route costs of pair (i, j) through the candidate hubs (k, m)."""
        d, K = self.data, self.K
        C = d.costs
        first = d.chi * C[i, K][:, None] + d.alpha * C[np.ix_(K, K)]
        return np.asarray(first + d.delta * C[K, j][None, :])

    def floors(self) -> FloatArray:
        """Per pair, its cheapest route with every candidate open (a lower bound of
        the pair's cost under any hub set, and under any allocation)."""
        d, K = self.data, self.K
        C = d.costs
        out = np.empty(len(self.I))
        legs = d.chi * C[:, K][:, :, None] + d.alpha * C[np.ix_(K, K)][None, :, :]
        first = legs.min(axis=1)  # (n, m): best first leg to each second hub
        step = max(1, 2_000_000 // max(1, len(K)))
        for s in range(0, len(self.I), step):
            i, j = self.I[s:s + step], self.J[s:s + step]
            out[s:s + step] = (first[i] + d.delta * C[K][:, j].T).min(axis=1)
        return out

    def values(self, lo: float, hi: float, limit: int) -> FloatArray | None:
        """The distinct route costs in ``[lo, hi)`` (sorted), or ``None`` beyond ``limit``."""
        d, K = self.data, self.K
        C = d.costs
        m = len(K)
        first = d.chi * C[:, K][:, :, None] + d.alpha * C[np.ix_(K, K)][None, :, :]
        last = d.delta * C[K, :]  # (m, n)
        step = max(1, 4_000_000 // max(1, m * m))
        found: list[FloatArray] = []
        count = 0
        for s in range(0, len(self.I), step):
            i, j = self.I[s:s + step], self.J[s:s + step]
            block = first[i] + last[:, j].T[:, None, :]
            v = np.unique(block[(block >= lo) & (block < hi)])
            found.append(v)
            count += len(v)
            if count > 4 * limit:
                found = [np.unique(np.concatenate(found))]
                count = len(found[0])
                if count > limit:
                    return None
        out = np.unique(np.concatenate(found)) if found else np.zeros(0)
        return out if len(out) <= limit else None

    def forbidden(self, r: float) -> np.ndarray:
        """Single allocation: ``(n, m)`` True where node i cannot use site a, as some
        pair with flow from or to i has no route within ``r`` through a (every pair is
        scanned, not only the active ones)."""
        d, K = self.data, self.K
        C = d.costs
        m = len(K)
        first = d.chi * C[:, K][:, :, None] + d.alpha * C[np.ix_(K, K)][None, :, :]
        last = d.delta * C[K, :]
        out = np.zeros((d.n, m), dtype=bool)
        step = max(1, 4_000_000 // max(1, m * m))
        for s in range(0, len(self.I), step):
            i, j = self.I[s:s + step], self.J[s:s + step]
            block = first[i] + last[:, j].T[:, None, :]  # (pairs, a, b)
            np.logical_or.at(out, i, block.min(axis=2) > r)
            np.logical_or.at(out, j, block.min(axis=1) > r)
        return out

    def nearest_value(self, r: float, *, above: bool) -> float:
        """The smallest route cost ``> r`` (``above``) or the largest ``<= r`` (``inf`` or
        ``-inf`` when there is none), scanning every pair's block once."""
        d, K = self.data, self.K
        C = d.costs
        m = len(K)
        first = d.chi * C[:, K][:, :, None] + d.alpha * C[np.ix_(K, K)][None, :, :]
        last = d.delta * C[K, :]
        step = max(1, 4_000_000 // max(1, m * m))
        best = math.inf if above else -math.inf
        for s in range(0, len(self.I), step):
            i, j = self.I[s:s + step], self.J[s:s + step]
            block = first[i] + last[:, j].T[:, None, :]
            if above:
                sel = block[block > r]
                if sel.size:
                    best = min(best, float(sel.min()))
            else:
                sel = block[block <= r]
                if sel.size:
                    best = max(best, float(sel.max()))
        return best

    def pair_costs(self, hubs: tuple[int, ...], allocation: IntArray | None
                   ) -> tuple[FloatArray, IntArray]:
        """Route cost of every pair (in the order of ``I``, ``J``) and the allocation:
        the best routes through ``hubs`` (multiple allocation) or ``allocation``."""
        if self.single:
            assert allocation is not None
            unit = route_unit_costs(True, self.data, allocation)
            return unit[self.I, self.J], allocation
        unit, routes = best_routes(self.data, hubs)
        return unit[self.I, self.J], routes


@dataclass(frozen=True)
class CoverOutcome:
    """What :func:`cover` found.

    ``status``: ``"optimal"`` (a cover, optimal for ``weights``; any cover for ``p``),
    ``"feasible"`` (a cover, not proven cheapest), ``"infeasible"`` (proven: no cover)
    or ``"unknown"`` (stopped before).  ``bound``: proven lower bound of the weight.
    """

    status: str
    hubs: tuple[int, ...] | None
    allocation: IntArray | None
    cost: float  # largest route cost of the cover
    bound: float
    rounds: int
    active: int


def _ma_program(inst: CenterInstance, pairs: list[int], r: float, p: int | None,
                weights: FloatArray | None, hint: tuple[int, ...] | None
                ) -> tuple[BinaryProgram, dict[tuple[int, int], int]] | None:
    m = len(inst.K)
    prog = BinaryProgram(m)
    pos = {int(k): a for a, k in enumerate(inst.K.tolist())}
    w: dict[tuple[int, int], int] = {}
    for k in inst.data.fixed_hubs:
        prog.fix(pos[k], 1)
    for t in pairs:
        ok = inst.block(int(inst.I[t]), int(inst.J[t])) <= r
        ok = np.triu(ok | ok.T)
        a_idx, b_idx = np.nonzero(ok)
        if len(a_idx) == 0:
            return None
        lits = []
        for a, b in zip(a_idx.tolist(), b_idx.tolist(), strict=True):
            if a == b:
                lits.append(a)
                continue
            v = w.get((a, b))
            if v is None:
                v = w[(a, b)] = prog.n_vars
                prog.n_vars += 1
                prog.add_implies_any(v, [a])
                prog.add_implies_any(v, [b])
            lits.append(v)
        prog.add_at_least_one(lits)
        if HUB_CLAUSES:  # implied: one of the hubs that serve the pair is open
            prog.add_at_least_one(np.flatnonzero((ok | ok.T).any(axis=1)).tolist())
    if p is not None:
        prog.add_row(list(range(m)), [1.0] * m, -math.inf, float(p))
    else:
        assert weights is not None
        prog.objective = np.zeros(prog.n_vars)
        prog.objective[:m] = weights
    if hint is not None:
        on = {pos[h] for h in hint if h in pos}
        for a in range(m):
            prog.hint[a] = int(a in on)
        for (a, b), v in w.items():
            prog.hint[v] = int(a in on and b in on)
    return prog, w


def _sa_program(inst: CenterInstance, pairs: list[int], r: float, p: int | None,
                weights: FloatArray | None,
                hint: tuple[tuple[int, ...], IntArray] | None) -> BinaryProgram | None:
    n, m = inst.data.n, len(inst.K)
    K = inst.K.tolist()
    pos = {k: a for a, k in enumerate(K)}
    prog = BinaryProgram(n * m)

    def x(i: int, a: int) -> int:
        return i * m + a

    banned = inst.forbidden(r)
    zero: set[int] = {x(i, a) for i, a in zip(*np.nonzero(banned), strict=True)}
    for i in range(n):
        prog.add_exactly_one([x(i, a) for a in range(m)])
        for a, k in enumerate(K):
            if k != i:
                prog.add_implies_any(x(i, a), [x(k, a)])
    for t in pairs:
        i, j = int(inst.I[t]), int(inst.J[t])
        ok = inst.block(i, j) <= r
        if i == j:
            zero.update(x(i, a) for a in range(m) if not ok[a, a])
            continue
        for src, dst, table in ((i, j, ok), (j, i, ok.T)) if BOTH_SIDES else ((i, j, ok),):
            allowed = table & ~banned[dst][None, :]
            sizes = allowed.sum(axis=1)
            for a in np.flatnonzero((sizes < m) & ~banned[src]).tolist():
                size = int(sizes[a])
                if size == 0:
                    zero.add(x(src, a))
                elif size <= m - size:
                    prog.add_implies_any(x(src, a), [dst * m + b for b in
                                                     np.flatnonzero(allowed[a]).tolist()])
                else:
                    prog.add_at_most_one([x(src, a), *(dst * m + b for b in
                                                       np.flatnonzero(~allowed[a]).tolist())])
    for k in inst.data.fixed_hubs:
        if x(k, pos[k]) in zero:
            return None
        prog.fix(x(k, pos[k]), 1)
    for v in zero:
        prog.fix(v, 0)
    hubs_var = [x(k, a) for a, k in enumerate(K)]
    if p is not None:
        prog.add_row(hubs_var, [1.0] * m, float(p), float(p))
    else:
        assert weights is not None
        prog.objective = np.zeros(prog.n_vars)
        prog.objective[hubs_var] = weights
    if hint is not None:
        hubs, alloc = hint
        if set(hubs) <= set(pos):
            for i in range(n):
                for a in range(m):
                    prog.hint[x(i, a)] = int(K[a] == int(alloc[i]))
    return prog


def _decode(inst: CenterInstance, values: np.ndarray, p: int | None
            ) -> tuple[tuple[int, ...], IntArray | None]:
    m, K = len(inst.K), inst.K.tolist()
    if not inst.single:
        opened = [int(K[a]) for a in range(m) if values[a]]
        if p is not None:  # more hubs never lengthen a route: open the first others
            opened += [k for k in K if k not in opened][: max(0, p - len(opened))]
        return tuple(sorted(opened)), None
    x = np.asarray(values[: inst.data.n * m]).reshape(inst.data.n, m)
    alloc = np.asarray(inst.K[x.argmax(axis=1)], dtype=np.int64)
    return tuple(sorted(int(K[a]) for a in range(m) if x[K[a], a])), alloc


def cover(inst: CenterInstance, active: list[int], r: float, *, p: int | None = None,
          weights: FloatArray | None = None, deadline: float | None, backend: str,
          seed: int = 0, relative_gap: float = 0.0,
          hint: tuple[tuple[int, ...], IntArray | None] | None = None) -> CoverOutcome:
    """Cover every pair within ``r`` with ``p`` hubs or at the least ``weights``.

    ``active`` (indices into the pairs) is extended in place by the pairs that a
    solution leaves uncovered.
    """
    rounds = 0
    bound = -math.inf
    while True:
        rounds += 1
        if inst.single:
            sa_hint = None if hint is None or hint[1] is None else (hint[0], hint[1])
            prog = _sa_program(inst, active, r, p, weights, sa_hint)
        else:
            built = _ma_program(inst, active, r, p, weights, None if hint is None else hint[0])
            prog = None if built is None else built[0]
        if prog is None:
            return CoverOutcome("infeasible", None, None, math.inf, math.inf, rounds,
                                len(active))
        left = None if deadline is None else deadline - time.perf_counter()
        res = solve_binary(prog, backend=backend, time_limit=left, seed=seed,
                           relative_gap=relative_gap)
        if res.status == "infeasible":
            return CoverOutcome("infeasible", None, None, math.inf, math.inf, rounds,
                                len(active))
        bound = max(bound, res.bound)
        if res.values is None:
            return CoverOutcome("unknown", None, None, math.inf, bound, rounds, len(active))
        hubs, alloc = _decode(inst, res.values, p)
        costs, alloc_full = inst.pair_costs(hubs, alloc)
        bad = np.flatnonzero(costs > r)
        if len(bad) == 0:
            return CoverOutcome(res.status, hubs, alloc_full, float(costs.max(initial=0.0)),
                                bound, rounds, len(active))
        worst = bad[np.argsort(-costs[bad], kind="stable")][:MAX_NEW_PAIRS]
        have = set(active)
        active.extend(int(t) for t in worst if int(t) not in have)
        hint = (hubs, alloc)
        if deadline is not None and time.perf_counter() >= deadline:
            return CoverOutcome("unknown", None, None, math.inf, bound, rounds, len(active))
