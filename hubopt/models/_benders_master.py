"""The Benders master problem (:mod:`hubopt.models.benders`): its pool of cuts, the
separation points, the swap neighbours of a master solution and the MathOpt parameters
of its LPs and MIPs.
"""

from __future__ import annotations

import datetime
import time

import numpy as np
from ortools.math_opt.python import mathopt
from ortools.math_opt.solvers import highs_pb2

from hubopt.models.base import FloatArray, IntArray

_VERBOSE_MIP = False  # HiGHS log of the master MIPs (debugging)
LP_SOLVER = mathopt.SolverType.GLOP


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
