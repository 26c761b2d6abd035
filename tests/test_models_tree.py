"""The best-first branch and bound of :mod:`hubopt.models._tree`, on its own.

The node relaxation here is the textbook LP of the p-median problem solved by scipy's
HiGHS (an oracle independent of hubopt's Benders master); the truth is brute force
over all sets of p facilities.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.optimize import linprog

from hubopt.models._tree import NodeLP, best_first_search


class PMedian:
    """A random p-median instance with its LP relaxation and incumbent (random, not
    Euclidean, costs: their LPs are fractional often enough for the tree to branch)."""

    def __init__(self, n: int, p: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.n, self.p = n, p
        self.d = rng.uniform(1.0, 100.0, size=(n, n))
        np.fill_diagonal(self.d, 0.0)
        self.best = math.inf
        self.best_set: tuple[int, ...] = ()
        self.evaluations = 0

    def cost(self, facilities: tuple[int, ...]) -> float:
        return float(self.d[:, list(facilities)].min(axis=1).sum())

    def brute_force(self) -> float:
        return min(self.cost(S) for S in itertools.combinations(range(self.n), self.p))

    def offer(self, facilities: tuple[int, ...]) -> None:
        value = self.cost(facilities)
        if value < self.best:
            self.best, self.best_set = value, facilities

    def lp(self, lo: np.ndarray, up: np.ndarray) -> NodeLP:
        """min sum d_ij x_ij: sum_j x_ij = 1, x_ij <= y_j, sum y = p, lo <= y <= up."""
        self.evaluations += 1
        n = self.n
        c = np.concatenate([self.d.ravel(), np.zeros(n)])
        a_eq = np.zeros((n + 1, n * n + n))
        for i in range(n):
            a_eq[i, i * n : (i + 1) * n] = 1.0
        a_eq[n, n * n :] = 1.0
        b_eq = np.concatenate([np.ones(n), [self.p]])
        a_ub = np.zeros((n * n, n * n + n))
        for i in range(n):
            for j in range(n):
                a_ub[i * n + j, i * n + j] = 1.0
                a_ub[i * n + j, n * n + j] = -1.0
        bounds = [(0.0, None)] * (n * n) + list(zip(lo, up, strict=True))
        res = linprog(c, A_ub=a_ub, b_ub=np.zeros(n * n), A_eq=a_eq, b_eq=b_eq, bounds=bounds)
        if res.status == 2:  # infeasible
            return NodeLP(math.inf)
        assert res.status == 0
        yv = res.x[n * n :]
        rc = res.lower.marginals[n * n :] + res.upper.marginals[n * n :]
        # the caller's side of the contract: integer points (and the rounded point)
        # update the incumbent
        self.offer(tuple(sorted(int(k) for k in np.argsort(-yv, kind="stable")[: self.p])))
        return NodeLP(float(res.fun), yv, rc)


def _search(inst: PMedian, max_nodes: int | None = None):
    lo, up = np.zeros(inst.n), np.ones(inst.n)
    return best_first_search(
        inst.lp,
        lower=lo,
        upper=up,
        root_bound=-math.inf,
        cutoff=lambda: inst.best - 1e-7 * max(1.0, inst.best),
        deadline=None,
        max_nodes=max_nodes,
    )


@pytest.mark.parametrize("seed", range(8))
def test_tree_search_proves_the_brute_force_p_median_optimum(seed: int) -> None:
    inst = PMedian(9, 3, seed)
    truth = inst.brute_force()
    inst.offer((0, 1, 2))  # a poor start
    res = _search(inst)
    assert res.proven
    assert res.open_nodes == 0
    assert inst.best == pytest.approx(truth, rel=1e-12)
    assert res.bound <= truth * (1 + 1e-9)
    assert res.bound >= truth * (1 - 1e-6)


def test_tree_search_branches_where_the_lp_is_fractional() -> None:
    """Among these instances some root LPs are fractional: the tree then branches
    (more than one node) and still proves the brute-force optimum."""
    branched = 0
    for seed in range(8):
        inst = PMedian(9, 3, seed)
        truth = inst.brute_force()
        res = _search(inst)
        assert res.proven
        assert inst.best == pytest.approx(truth, rel=1e-12)
        branched += res.nodes > 1
    assert branched >= 1


def test_a_tree_stopped_early_reports_the_smallest_open_bound() -> None:
    """Stopped after its first node, the tree is not proven and its bound (the root
    LP) lies below the optimum; run on, it closes the gap."""
    seeds = [s for s in range(8) if _search(PMedian(9, 3, s)).nodes > 1]
    inst = PMedian(9, 3, seeds[0])
    truth = inst.brute_force()
    inst.offer((0, 1, 2))
    res = _search(inst, max_nodes=1)
    assert not res.proven
    assert res.open_nodes == 2
    assert res.bound < truth * (1 - 1e-9)
    assert res.bound == pytest.approx(inst.lp(np.zeros(9), np.ones(9)).value, rel=1e-9)


def test_an_unpriced_integer_point_below_the_cutoff_is_an_error() -> None:
    """The caller must update its incumbent from integer LP points; a node LP that is
    integral and still below the cutoff breaks that contract and is reported."""
    from hubopt._errors import SolverError

    def lp(lo: np.ndarray, up: np.ndarray) -> NodeLP:
        return NodeLP(1.0, np.array([1.0, 0.0]), np.zeros(2))

    with pytest.raises(SolverError, match="integral"):
        best_first_search(
            lp,
            lower=np.zeros(2),
            upper=np.ones(2),
            root_bound=0.0,
            cutoff=lambda: 10.0,
            deadline=None,
        )
