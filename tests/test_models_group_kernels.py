"""The min-plus kernels of the grouped bounds: the values of the branch-free scan from
kept orders (:func:`cheapest_first_costs`) are those of a plain loop and of
:func:`cheapest_first_hubs`, to the last bit, whatever order the rows start from, on
metric and non-metric costs; :func:`first_hubs_at` gives the first argmin in the keys'
order, pruned or not; :func:`weighted_dot` and :func:`deflect_and_move` do numpy's
sums."""

from __future__ import annotations

import numpy as np
import pytest

from hubopt.instances.random import random_euclidean
from hubopt.instances.random_case import random_case
from hubopt.models._group_kernels import (
    cheapest_first_costs,
    cheapest_first_hubs,
    deflect_and_move,
    first_hubs_at,
    triangle_slack,
    weighted_dot,
)


def _costs(kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Costs, flows and sites: every node a site (Euclidean), or separate sites with
    asymmetric non-metric costs."""
    if kind == "euclidean":
        inst = random_euclidean(30, seed=5)
        return np.asarray(inst.costs), np.asarray(inst.flows), np.arange(30)
    case = random_case(20, 12, seed=3, flow_density=0.5, p=3)
    return np.asarray(case.C), np.asarray(case.W), np.arange(20, 32)


def _plain(to_site, between, chi, alpha, lam, rows):
    n, groups, m = lam.shape
    first = np.full((n, groups, m), np.nan)
    for i in rows:
        for g in range(groups):
            for b in range(m):
                first[i, g, b] = min(chi * to_site[i, a] + lam[i, g, a] + alpha * between[a, b]
                                     for a in range(m))
    return first


@pytest.mark.parametrize("prune", [True, False])
@pytest.mark.parametrize("kind", ["euclidean", "case"])
def test_the_branch_free_scan_matches_a_plain_loop_from_any_kept_order(kind, prune) -> None:
    C, W, sites = _costs(kind)
    rows = np.flatnonzero(W.sum(axis=0) > 0).astype(np.int64)
    last_leg = np.ascontiguousarray(C[sites, :].T)
    between_t = np.ascontiguousarray(C[np.ix_(sites, sites)].T)
    e1 = triangle_slack(np.ascontiguousarray(C.T), sites.astype(np.int64), rows) if prune \
        else 0.0
    rng = np.random.default_rng(7)
    n, m, groups = C.shape[0], sites.shape[0], 3
    order = np.full((n, groups, m), -1, dtype=np.int32)
    # multipliers of both signs, then small and large moves: the rows are sorted
    # afresh, then from the last call's order
    lam = rng.normal(0.0, 5.0, (n, groups, m))
    for move in (0.0, 0.5, 40.0, 0.1):
        lam = lam + rng.normal(0.0, move, lam.shape)
        got = cheapest_first_costs(last_leg, between_t, 2.0, 0.75, lam, rows, prune, e1,
                                   order).transpose(1, 0, 2)
        others = np.setdiff1d(np.arange(n), rows)
        assert not got[others].any()
        ref, _ = cheapest_first_hubs(last_leg, between_t, 2.0, 0.75, lam, rows, prune, e1)
        np.testing.assert_array_equal(got[rows], ref[rows])
        np.testing.assert_allclose(got[rows], _plain(last_leg, between_t, 2.0, 0.75, lam,
                                                     rows)[rows], rtol=1e-13)
        keys = (2.0 - 0.75) * last_leg[rows][:, None, :] + lam[rows]
        for r, i in enumerate(rows):
            for g in range(groups):
                seq = order[i, g]
                assert sorted(seq.tolist()) == list(range(m))
                # the kept order is the keys' order, ties by site
                pairs = list(zip(keys[r, g, seq], seq, strict=True))
                assert pairs == sorted(pairs)


@pytest.mark.parametrize("prune", [True, False])
def test_first_hubs_at_gives_the_first_argmin_in_the_keys_order(prune) -> None:
    rng = np.random.default_rng(3)
    n, m = 12, 9
    # small integer costs and multipliers make many ties
    last_leg = rng.integers(0, 4, (n, m)).astype(np.float64)
    between_t = rng.integers(0, 4, (m, m)).astype(np.float64)
    lam = rng.integers(-2, 3, (n, 2, m)).astype(np.float64)
    rows = np.arange(1, n, dtype=np.int64)
    cols = np.array([0, 4, 7, m - 1], dtype=np.int64)
    # the triangle slack of these costs: last_leg[i, b] <= last_leg[i, a] + between[a, b]
    e1 = float(max(0.0, (last_leg[:, None, :] - last_leg[:, :, None] - between_t).max()))
    order = np.full(lam.shape, -1, dtype=np.int32)
    cheapest_first_costs(last_leg, between_t, 1.0, 1.0, lam, rows, prune, e1, order)
    via = first_hubs_at(last_leg, between_t, 1.0, 1.0, lam, rows, prune, e1, order, cols)
    ties = 0
    for i in rows:
        for g in range(2):
            seq = sorted(range(m), key=lambda a, i=i, g=g: (lam[i, g, a], a))
            for c, b in enumerate(cols):
                v = [last_leg[i, a] + lam[i, g, a] + between_t[a, b] for a in seq]
                assert via[i, g, c] == seq[int(np.argmin(v))]
                ties += v.count(min(v)) > 1
    assert ties > 0  # the tie rule was exercised


def test_weighted_dot_matches_numpy() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(6, 3, 5)), rng.normal(size=(6, 3, 5))
    w = rng.uniform(size=(6, 3))
    assert weighted_dot(a, b, w) == pytest.approx(float(np.einsum("igk,igk,ig->", a, b, w)),
                                                  rel=1e-12)


@pytest.mark.parametrize("beta", [0.0, 0.7])
def test_deflect_and_move_matches_numpy(beta) -> None:
    rng = np.random.default_rng(4)
    mu, s, last = (rng.normal(size=(5, 3, 4)) for _ in range(3))
    scale = rng.uniform(size=(5, 3))
    want_s = s + beta * last
    want_mu = mu + 0.3 * scale[:, :, None] * want_s
    deflect_and_move(mu, s, last, beta, 0.3, scale)
    np.testing.assert_allclose(s, want_s, rtol=1e-14)
    np.testing.assert_allclose(mu, want_mu, rtol=1e-14)
