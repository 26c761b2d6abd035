"""The grouped bound with exact first hubs per OD pair (issue 27): below the brute-force
multiple-allocation optimum on tiny instances of both kinds (every node a site with
Euclidean costs; demand points and separate sites with asymmetric non-metric costs),
with fixed hubs, excluded sites and fixed costs; above the grouped bound of the same
groups on them; its site scores match a plain loop; its pruning changes no value; the
engine runs it for multiple allocation where the path formulation's relaxation does
not fit."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hubopt.instances.random import random_euclidean
from hubopt.instances.random_case import random_case
from hubopt.models import SolveParameters, build_model
from hubopt.models._group_kernels import cheapest_first_hubs
from hubopt.models.group_lagrangian import grouped_lagrangian_bound, node_groups
from hubopt.models.pair_group_lagrangian import pair_grouped_bound, pair_scores
from hubopt.models.strategy import EngineOptions
from tests.oracles import brute_multiple

FACTORS = {"chi": 3.0, "alpha": 0.75, "delta": 2.0}


def _euclidean(seed: int, n: int = 7):
    inst = random_euclidean(n, seed=seed)
    return np.asarray(inst.costs), np.asarray(inst.flows)


@pytest.mark.parametrize("reduce", [False, True])
@pytest.mark.parametrize("groups", [1, 3, 7])
@pytest.mark.parametrize("seed", [1, 2])
def test_bound_stays_below_the_multiple_allocation_optimum(seed, groups, reduce) -> None:
    C, W = _euclidean(seed)
    sets = list(itertools.combinations(range(7), 3))
    best = brute_multiple(C, W, sets, **FACTORS)
    model = build_model("umaphmp", C, W, p=3, **FACTORS)
    res = pair_grouped_bound(model.data, upper=best * 1.3, hubs=sets[0], deadline=None,
                             groups=groups, max_steps=400, reduce=reduce)  # fmt: skip
    assert res.steps > 0
    assert 0 < res.bound <= best * (1 + 1e-9)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_with_one_group_it_rises_above_the_grouped_bound(seed) -> None:
    C, W = _euclidean(seed, n=8)
    sets = list(itertools.combinations(range(8), 3))
    best = brute_multiple(C, W, sets, **FACTORS)
    model = build_model("umaphmp", C, W, p=3, **FACTORS)
    kw = {"upper": best * 1.3, "hubs": sets[0], "deadline": None, "groups": 1,
          "max_steps": 800}  # fmt: skip
    pairs = pair_grouped_bound(model.data, **kw)
    grouped = grouped_lagrangian_bound(model.data, **kw)
    assert grouped.bound < best * (1 - 1e-3)  # one group: Ernst & Krishnamoorthy's bound
    assert best * (1 - 1e-6) <= pairs.bound <= best * (1 + 1e-9)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_bound_stays_below_the_optimum_on_non_metric_case_like_instances(seed) -> None:
    inst = random_case(5, 4, seed=seed, flow_density=0.6, p=2)
    sets = list(itertools.combinations(range(5, 9), 2))
    best = brute_multiple(inst.C, inst.W, sets, chi=inst.chi, alpha=inst.alpha,
                          delta=inst.delta)  # fmt: skip
    model = build_model("umaphmp", inst.C, inst.W, **inst.model_kwargs(problem="umaphmp",
                                                                       p=2))  # fmt: skip
    res = pair_grouped_bound(model.data, upper=best * 1.2, hubs=(5, 6), deadline=None,
                             groups=3, max_steps=400)  # fmt: skip
    assert 0 < res.bound <= best * (1 + 1e-9)


def test_fixed_hubs_excluded_sites_and_fixed_costs_keep_it_below_the_optimum() -> None:
    C, W = _euclidean(5, n=7)
    pinned = build_model("umaphmp", C, W, p=3, fixed_hubs=(1,), excluded=(0, 6), **FACTORS)
    sets = [h for h in itertools.combinations(range(1, 6), 3) if 1 in h]
    best = brute_multiple(C, W, sets, **FACTORS)
    res = pair_grouped_bound(pinned.data, upper=best * 1.3, hubs=sets[0], deadline=None,
                             max_steps=400)  # fmt: skip
    assert 0 < res.bound <= best * (1 + 1e-9)
    f = np.linspace(50.0, 110.0, 7)
    located = build_model("umahlp", C, W, fixed_costs=f, **FACTORS)
    every = [h for r in range(1, 8) for h in itertools.combinations(range(7), r)]
    best = brute_multiple(C, W, every, f=f, **FACTORS)
    res = pair_grouped_bound(located.data, upper=best * 1.3, hubs=(0, 3), deadline=None,
                             max_steps=400)  # fmt: skip
    assert 0 < res.bound <= best * (1 + 1e-9)


def test_site_scores_match_a_plain_loop() -> None:
    inst = random_case(6, 4, seed=2, flow_density=0.7, p=2)
    C, W = np.asarray(inst.C), np.asarray(inst.W)
    sites = np.arange(6, 10)
    group = node_groups(C, 2)
    rng = np.random.default_rng(1)
    mu = rng.uniform(0.0, 5.0, (10, 2, 4))
    nu = rng.uniform(0.0, 200.0, (10, 10))
    cols = np.flatnonzero(W.sum(axis=0) > 0)
    rows = np.flatnonzero(W.sum(axis=1) > 0)
    last_leg = np.ascontiguousarray(C[sites, :].T)
    between_t = np.ascontiguousarray(C[np.ix_(sites, sites)].T)
    best, _ = cheapest_first_hubs(last_leg, between_t, inst.delta, inst.alpha, mu, cols,
                                  False, 0.0)  # fmt: skip
    got = pair_scores(W, np.ascontiguousarray(C[:, sites]), best, group, nu, inst.chi, rows)
    want = np.zeros(4)
    for i, j in itertools.product(range(10), range(10)):
        if W[i, j] <= 0:
            continue
        for a, k in enumerate(sites):
            route = inst.chi * C[i, k] + min(inst.alpha * C[k, ll] + inst.delta * C[ll, j]
                                             + mu[j, group[i], b] for b, ll in enumerate(sites))
            want[a] += W[i, j] * min(0.0, route - nu[i, j])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_pruning_changes_no_value() -> None:
    inst = random_euclidean(40, seed=3)
    model = build_model("umaphmp", inst.costs, inst.flows, p=4, **FACTORS)
    upper = model.solve(SolveParameters(time_limit=20.0)).objective
    runs = [
        pair_grouped_bound(model.data, upper=upper, hubs=(0, 10, 20, 30), deadline=None,
                           max_steps=40, prune=prune)
        for prune in (True, False, True)
    ]
    assert runs[0].bound == runs[1].bound == runs[2].bound
    assert runs[0].steps == 40
    assert 0.8 * upper < runs[0].bound <= upper


def test_the_engine_takes_it_for_multiple_allocation_beyond_the_relaxation() -> None:
    inst = random_case(6, 4, seed=7, flow_density=0.5, p=2)
    model = build_model("umaphmp", inst.C, inst.W, **inst.model_kwargs(problem="umaphmp",
                                                                       p=2))  # fmt: skip
    beyond = EngineOptions(max_sets=0, mip_max_n=0, benders_max_n=1, benders_many_hubs_max_n=1,
                           sa_lagrangian_max_n=1, sa_lagrangian_many_hubs_max_n=1,
                           large_lagrangian_max_bytes=0.0)  # fmt: skip
    params = SolveParameters(time_limit=20.0, method="heuristic")
    sol = model.solve(params, options=beyond)
    best = brute_multiple(inst.C, inst.W, list(itertools.combinations(range(6, 10), 2)),
                          chi=inst.chi, alpha=inst.alpha, delta=inst.delta)  # fmt: skip
    assert sol.info["group_form"] == "pairs"
    assert 0 < sol.info["group_bound"] <= best * (1 + 1e-9)
    assert sol.bound <= best * (1 + 1e-9)
    assert best <= sol.objective * (1 + 1e-9)
    grouped = model.solve(params, options=EngineOptions(**{**beyond.__dict__,
                                                           "pair_group_lagrangian": False}))
    assert "group_form" not in grouped.info
    assert "group_bound" in grouped.info
