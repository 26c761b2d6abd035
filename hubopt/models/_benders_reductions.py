"""Reduction tests of the Benders master (:mod:`hubopt.models.benders`) beyond the
reduced costs: probing (:func:`_probe`) and the screening of the sites against a
threshold (:func:`_screen`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
from ortools.math_opt.python import mathopt

from hubopt.models._benders_master import _CutPool, _lp_params
from hubopt.models.base import FloatArray


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
) -> tuple[int, int, float]:
    """Reduction tests by probing: the master LP with one hub variable fixed.

    A site whose LP with ``y_k = 1`` reaches ``cutoff`` cannot be a hub of a solution
    below it and is fixed closed; a site of the LP support whose LP with ``y_k = 0``
    reaches it is fixed open.  Stronger than the reduced-cost test, which is the
    first-order estimate of the same LP.  Cuts of the pool that the probe's solution
    violates come back first (up to three times per probe).  Returns
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
        restored = 0
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
