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
   from a poor start, ``benchmarks-history:benchmarks/lp_phase.md``); a centre that stays near the
   uniform point keeps every site in the cuts (107.7k after 13 rounds; the solve is
   then proven optimal in 338 s instead of ending at 0.8 %,
   ``benchmarks-history:benchmarks/center_step.md``).  Entries below 0.02 are dropped from the
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
   (``benchmarks-history:benchmarks/probing.md``, AP 200 UMApHMP, 600 s): p = 5 fixes 26
   more sites, gap
   0.84 % instead of 1.11 %; p = 10 fixes 12, 0.75 % instead of 0.83 %.  With 60 s
   (AP 100) it fixed none and cost time, hence the threshold.  (New cuts at the LP
   points of the probes were measured useless and deleted: ``docs/decisions.md``.)
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
   valid at any time.  (An own branch-and-cut tree in place of the master MIP was
   measured slower and deleted: ``docs/decisions.md``.)

Multiple allocation is a relaxation of single allocation on the same hubs, so the
bound is also a valid lower bound for USApHMP and USAHLP.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.math_opt.python import mathopt

from hubopt._errors import SolverError
from hubopt.models._benders_cuts import _CutGenerator, transport_duals
from hubopt.models._benders_master import (
    _VERBOSE_MIP,
    LP_SOLVER,
    _CutPool,
    _lp_params,
    _mip_params,
    _share_of_time_left,
    _sparsify,
    _swap_neighbours,
    _top,
)
from hubopt.models._benders_reductions import _probe, _screen
from hubopt.models._quiet import native_stdout_silenced
from hubopt.models.base import FloatArray, HubData, IntArray
from hubopt.models.heuristics import local_search_hubs, ma_costs

_log = logging.getLogger(__name__)


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
    sample_budget: float = 0.5,
    purge_after: int = 10,
    probe_budget: float = 0.25,
    probe_min_seconds: float = 120.0,
    mip_neighbours: int = 1,
    center_step: float = 0.1,
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
    centre moves to each LP point (0: it stays uniform).
    ``mip_neighbours``: swap neighbours per hub of each master solution that get cuts
    (0: none).
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
                    # (the timed sample itself must fit: at 300 nodes with all sites
                    # 16 origins took 200 s beside other solves, with a 60-s limit)
                    left = remaining()
                    budget = None if left is None else sample_budget * left
                    dense_seconds, dense_sites = gen.estimate(dense, budget=budget), sites
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
    mip_iter = 0
    # (probing may have fixed the master into infeasibility: a bound at the cutoff)
    proven = bound >= cutoff()
    for v in y:
        v.integer = True
    while not proven and not out_of_time():
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
            "lp_phase_objective": lp_phase_objective,
            **screen_info,
        },
    )


__all__ = ["BendersResult", "benders_multiple_allocation", "transport_duals"]
