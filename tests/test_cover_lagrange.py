"""Lagrangian bounds and site fixing of maximal covering, against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from hubopt.models import CoverageModel, Status
from hubopt.models._cover_fix import fix_sites
from hubopt.models._cover_lagrange import lagrangian, open_probe
from hubopt.models._cover_mip import max_cover_lp
from hubopt.models._cover_reduce import greedy_cover, merge_rows

STEP = 1.0 - 1e-6  # integer weights: a better set covers at least one unit more


def _instance(seed: int, n: int = 40, m: int = 12,
              radius: float = 28.0) -> tuple[sp.csr_array, np.ndarray]:  # fmt: skip
    """Reach (rows merged) and integer weights of random points and sites in a square."""
    rng = np.random.default_rng(seed)
    pts, sites = rng.uniform(0, 100, (n, 2)), rng.uniform(0, 100, (m, 2))
    d = np.hypot(*(pts[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    w = rng.integers(1, 100, n).astype(float)
    A, w2 = merge_rows(sp.csr_array(d <= radius), w)
    return A, w2


def _weights_of_every_set(A: sp.csr_array, w: np.ndarray, p: int) -> dict[tuple[int, ...], float]:
    dense = A.toarray()
    return {c: float(w[dense[:, list(c)].any(axis=1)].sum())
            for c in itertools.combinations(range(A.shape[1]), p)}  # fmt: skip


@pytest.mark.parametrize("seed", range(8))
def test_the_lagrangian_bound_lies_above_the_optimum_for_any_multipliers(seed: int) -> None:
    A, w = _instance(seed)
    p = 3
    best = max(_weights_of_every_set(A, w, p).values())
    C = sp.csc_array(A, dtype=np.float64)
    rng = np.random.default_rng(seed)
    for lam in (np.zeros(len(w)), w * rng.random(len(w)), 2 * w * rng.random(len(w))):
        assert lagrangian(C, w, p, lam)[0] >= best - 1e-9
    lp = max_cover_lp(A, w, p, None)
    assert lp is not None
    # the LP duals minimise the Lagrangian: its value is the LP bound
    assert lagrangian(C, w, p, lp.lam)[0] == pytest.approx(lp.value, rel=1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_the_open_probe_bounds_every_set_that_holds_the_site(seed: int) -> None:
    A, w = _instance(seed)
    p = 3
    sets = _weights_of_every_set(A, w, p)
    C = sp.csc_array(A, dtype=np.float64)
    rng = np.random.default_rng(100 + seed)
    lp = max_cover_lp(A, w, p, None)
    assert lp is not None
    sites = np.arange(A.shape[1])
    for lam in (lp.lam, w * rng.random(len(w))):
        probe = open_probe(A, w, p, lam, sites)
        full, c = lagrangian(C, w, p, lam)
        pth = np.sort(c)[-p]
        for k in sites:
            holding = max(v for s, v in sets.items() if k in s)
            assert probe[k] >= holding - 1e-9
            # never weaker than the reduced-cost test with the same multipliers
            assert probe[k] <= full - min(pth, c[k]) + c[k] + 1e-6


def _fano_times(seed: int, extra_points: int = 6,
                extra_sites: int = 2) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Travel minutes with a fractional LP: two Fano planes (7 points, 7 sites each
    reaching the 3 points of a line; two lines meet in one point) plus random points
    and sites; 1 minute within reach, 100 otherwise."""
    lines = [(0, 1, 2), (0, 3, 4), (0, 5, 6), (1, 3, 5), (1, 4, 6), (2, 3, 6), (2, 4, 5)]
    rng = np.random.default_rng(seed)
    n, m = 14 + extra_points, 14 + extra_sites
    t = np.full((n, m), 100.0)
    for block in (0, 7):
        for k, line in enumerate(lines):
            t[[block + i for i in line], block + k] = 1.0
    t[14:, :] = np.where(rng.random((extra_points, m)) < 0.2, 1.0, 100.0)
    t[:14, 14:] = np.where(rng.random((14, extra_sites)) < 0.2, 1.0, 100.0)
    w = rng.integers(40, 60, n).astype(float)
    return t, w


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("known", ["greedy", "optimum - 1", "optimum - 30"])
def test_fixing_keeps_every_set_better_than_the_known_one(seed: int, known: str) -> None:
    if seed % 2:
        A, w = _instance(seed, n=50, m=12, radius=25.0)
    else:
        t, w0 = _fano_times(seed)
        A, w = merge_rows(sp.csr_array(t <= 1.0), w0)
    p = 3
    sets = _weights_of_every_set(A, w, p)
    best = max(sets.values())
    lp = max_cover_lp(A, w, p, None)
    assert lp is not None
    lb = {"greedy": float(w[np.asarray(A[:, greedy_cover(A, w, p)].sum(axis=1)).ravel() > 0]
                          .sum()),
          "optimum - 1": best - 1.0, "optimum - 30": best - 30.0}[known]  # fmt: skip
    fx = fix_sites(A, w, p, lb, lp, STEP, None)
    better = [s for s, v in sets.items() if v >= lb + STEP]
    if fx.proven:
        assert not better
        assert fx.bound < lb + STEP
    if better:  # the bound holds, and the model left still holds the optimum
        assert best <= fx.bound + 1e-9
        assert not fx.proven
        rest = _weights_of_every_set(fx.A, fx.w, fx.p) if fx.p < fx.A.shape[1] else {
            tuple(range(fx.A.shape[1])): float(fx.w.sum())}
        assert max(rest.values()) + fx.constant == pytest.approx(best)


def test_fixing_acts_on_the_random_instances() -> None:
    """The fixing test above is not vacuous: on its instances sites do get fixed."""
    fixed = 0
    for seed in range(12):
        A, w = _instance(seed, n=50, m=12, radius=25.0)
        lp = max_cover_lp(A, w, 3, None)
        assert lp is not None
        lb = max(_weights_of_every_set(A, w, 3).values()) - 1.0
        fx = fix_sites(A, w, 3, lb, lp, STEP, None)
        fixed += A.shape[1] - len(fx.keep)
    assert fixed >= 12


@pytest.mark.parametrize("seed", range(8))
def test_the_solve_with_fixing_equals_brute_force(seed: int) -> None:
    t, w = _fano_times(seed)
    p = 3 + seed % 2
    model = CoverageModel.from_cost_matrix(t, w, minutes=1.0, p=p)
    sol = model.solve()
    best = max(float(w[(t[:, list(c)] <= 1.0).any(axis=1)].sum())
               for c in itertools.combinations(range(t.shape[1]), p))  # fmt: skip
    assert sol.info["lp_bound"] > best + 0.5  # the LP is fractional: the fixing runs
    assert sol.status is Status.OPTIMAL
    assert model.objective(sol) == sol.objective == best
    assert sol.bound == pytest.approx(best)
