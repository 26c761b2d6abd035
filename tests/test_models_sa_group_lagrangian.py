"""The single-allocation grouped Lagrangian bound (issue 27): below the brute-force
single-allocation optimum on tiny instances of both kinds (every node a site with
Euclidean costs; demand points and separate sites with asymmetric non-metric costs),
with fixed hubs, excluded sites and fixed costs, and above the multiple-allocation
optimum where single allocation costs more, with plain and deflected steps; its
allocation costs match a plain loop, also after shut sites leave its kept scan orders;
its pruning changes no value; the engine runs it for single allocation where the path
formulation's relaxation does not fit."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hubopt.instances.random import random_euclidean
from hubopt.instances.random_case import random_case
from hubopt.models import SolveParameters, build_model
from hubopt.models.group_lagrangian import node_groups
from hubopt.models.sa_group_lagrangian import (
    SingleAllocationGroups,
    single_allocation_grouped_bound,
)
from hubopt.models.strategy import EngineOptions
from tests.oracles import brute_multiple, brute_single

FACTORS = {"chi": 3.0, "alpha": 0.75, "delta": 2.0}


def _euclidean(seed: int, n: int = 7):
    inst = random_euclidean(n, seed=seed)
    return np.asarray(inst.costs), np.asarray(inst.flows)


@pytest.mark.parametrize("deflection", [0.0, 1.5])
@pytest.mark.parametrize("reduce", [False, True])
@pytest.mark.parametrize("groups", [1, 3, 7])
@pytest.mark.parametrize("seed", [1, 4])
def test_bound_stays_below_the_single_allocation_optimum(seed, groups, reduce,
                                                         deflection) -> None:
    C, W = _euclidean(seed)
    sets = list(itertools.combinations(range(7), 2))
    best = brute_single(C, W, sets, **FACTORS)
    model = build_model("usaphmp", C, W, p=2, **FACTORS)
    res = single_allocation_grouped_bound(model.data, upper=best * 1.3, hubs=sets[0],
                                          deadline=None, groups=groups, max_steps=500,
                                          reduce=reduce, deflection=deflection)  # fmt: skip
    assert res.steps > 0
    assert 0 < res.bound <= best * (1 + 1e-9)


@pytest.mark.parametrize("deflection", [0.0, 1.5])
def test_it_rises_above_the_multiple_allocation_optimum(deflection) -> None:
    # random Euclidean 8 (seed 1), p = 2: single allocation costs 1.46 % more than
    # multiple allocation, which bounds every multiple-allocation relaxation
    C, W = _euclidean(1, n=8)
    sets = list(itertools.combinations(range(8), 2))
    sa = brute_single(C, W, sets, **FACTORS)
    ma = brute_multiple(C, W, sets, **FACTORS)
    assert sa > ma * 1.01
    model = build_model("usaphmp", C, W, p=2, **FACTORS)
    res = single_allocation_grouped_bound(model.data, upper=sa * 1.2, hubs=sets[0],
                                          deadline=None, groups=2, max_steps=2000,
                                          deflection=deflection)  # fmt: skip
    assert ma * 1.01 < res.bound <= sa * (1 + 1e-9)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_bound_stays_below_the_optimum_on_non_metric_case_like_instances(seed) -> None:
    inst = random_case(5, 4, seed=seed, flow_density=0.6, p=2)
    kw = inst.model_kwargs(problem="usaphmp", p=2)
    sets = list(itertools.combinations(range(5, 9), 2))
    best = brute_single(inst.C, inst.W, sets, chi=inst.chi, alpha=inst.alpha,
                        delta=inst.delta)  # fmt: skip
    model = build_model("usaphmp", inst.C, inst.W, **kw)
    res = single_allocation_grouped_bound(model.data, upper=best * 1.2, hubs=(5, 6),
                                          deadline=None, groups=3, max_steps=500)  # fmt: skip
    assert 0 < res.bound <= best * (1 + 1e-9)


def test_fixed_hubs_excluded_sites_and_fixed_costs_keep_it_below_the_optimum() -> None:
    C, W = _euclidean(5, n=7)
    pinned = build_model("usaphmp", C, W, p=3, fixed_hubs=(1,), excluded=(0, 6), **FACTORS)
    sets = [h for h in itertools.combinations(range(1, 6), 3) if 1 in h]
    best = brute_single(C, W, sets, **FACTORS)
    res = single_allocation_grouped_bound(pinned.data, upper=best * 1.3, hubs=sets[0],
                                          deadline=None, max_steps=500)  # fmt: skip
    assert 0 < res.bound <= best * (1 + 1e-9)
    f = np.linspace(50.0, 110.0, 7)
    located = build_model("usahlp", C, W, fixed_costs=f, **FACTORS)
    every = [h for r in range(1, 8) for h in itertools.combinations(range(7), r)]
    best = brute_single(C, W, every, f=f, **FACTORS)
    res = single_allocation_grouped_bound(located.data, upper=best * 1.3, hubs=(0, 3),
                                          deadline=None, max_steps=500)  # fmt: skip
    assert 0 < res.bound <= best * (1 + 1e-9)


@pytest.mark.parametrize("prune", [True, False])
def test_allocation_costs_match_a_plain_loop(prune) -> None:
    inst = random_case(5, 3, seed=2, flow_density=0.7, p=2)
    model = build_model("usaphmp", inst.C, inst.W, **inst.model_kwargs(problem="usaphmp",
                                                                       p=2))  # fmt: skip
    d = model.data
    C, W = np.asarray(d.costs), np.asarray(d.flows)
    group = node_groups(C, 2)
    sub = SingleAllocationGroups(d, group, prune)
    sites = list(d.candidates)
    rng = np.random.default_rng(0)
    mu = rng.normal(0.0, 3.0, (d.n, 2, len(sites)))
    F = sub.allocation_costs(mu)
    expect = np.zeros((d.n, len(sites)))
    for i in range(d.n):
        for a, k in enumerate(sites):
            v = d.chi * W[i].sum() * C[i, k]
            for j in range(d.n):
                if W[:, j].sum() > 0:
                    v += W[i, j] * min(d.alpha * C[k, ll] + d.delta * C[ll, j]
                                       + mu[j, group[i], b] for b, ll in enumerate(sites))
            v -= sum(W[group == g, i].sum() * mu[i, g, a] for g in range(2))
            expect[i, a] = v
    np.testing.assert_allclose(F, expect, rtol=1e-12, atol=1e-9)


def test_subgradient_matches_a_plain_loop() -> None:
    inst = random_case(6, 4, seed=3, flow_density=0.7, p=2)
    model = build_model("usaphmp", inst.C, inst.W, **inst.model_kwargs(problem="usaphmp",
                                                                       p=2))  # fmt: skip
    d = model.data
    C, W = np.asarray(d.costs), np.asarray(d.flows)
    group = node_groups(C, 2)
    sub = SingleAllocationGroups(d, group)
    sites = list(d.candidates)
    rng = np.random.default_rng(4)
    mu = rng.normal(0.0, 3.0, (d.n, 2, len(sites)))
    sub.allocation_costs(mu)
    x = rng.random((d.n, len(sites))) < 0.4
    s_mu, s_nu, _, _ = sub.subgradient(x, mu)
    expect = np.zeros_like(mu)
    for j in range(d.n):
        for a, k in enumerate(sites):
            for g in range(2):
                costs = [d.alpha * C[k, ll] + d.delta * C[ll, j] + mu[j, g, b]
                         for b, ll in enumerate(sites)]
                b = int(np.argmin(costs))
                expect[j, g, b] += sum(W[i, j] for i in range(d.n) if group[i] == g and x[i, a])
        for g in range(2):
            expect[j, g] -= W[group == g, j].sum() * x[j]
    np.testing.assert_allclose(s_mu, expect, rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(s_nu, 1.0 - x.sum(axis=1))
    # its weighted inner products with itself and with a last direction
    scale, last = rng.uniform(size=(d.n, 2)), rng.normal(size=mu.shape)
    _, _, own, cross = sub.subgradient(x, mu, scale, last)
    assert own == pytest.approx(float(np.einsum("jgl,jgl,jg->", expect, expect, scale)),
                                rel=1e-10)
    assert cross == pytest.approx(float(np.einsum("jgl,jgl,jg->", expect, last, scale)),
                                  rel=1e-10)


def test_shut_sites_leave_the_kept_scan_orders_with_the_same_costs() -> None:
    inst = random_case(12, 8, seed=4, flow_density=0.6, p=3)
    model = build_model("usaphmp", inst.C, inst.W, **inst.model_kwargs(problem="usaphmp",
                                                                       p=3))  # fmt: skip
    d = model.data
    group = node_groups(np.asarray(d.costs), 3)
    rng = np.random.default_rng(5)
    m = len(d.candidates)
    mu = rng.normal(0.0, 4.0, (d.n, 3, m))
    warm = SingleAllocationGroups(d, group)
    warm.allocation_costs(mu)  # the scan orders are kept
    alive = np.ones(m, dtype=bool)
    alive[[1, 4, 5]] = False
    warm.drop_sites(alive)
    fresh = SingleAllocationGroups(d, group)
    fresh.drop_sites(alive)
    mu = np.ascontiguousarray(mu[:, :, alive] + rng.normal(0.0, 1.0, (d.n, 3, m - 3)))
    np.testing.assert_array_equal(warm.allocation_costs(mu), fresh.allocation_costs(mu))
    seq = warm.order[warm.dests]
    assert np.array_equal(np.sort(seq, axis=2), np.broadcast_to(np.arange(m - 3), seq.shape))


def test_pruning_changes_no_value() -> None:
    inst = random_euclidean(40, seed=3)
    model = build_model("usaphmp", inst.costs, inst.flows, p=4, **FACTORS)
    upper = model.solve(SolveParameters(time_limit=20.0)).objective
    runs = [
        single_allocation_grouped_bound(model.data, upper=upper, hubs=(0, 10, 20, 30),
                                        deadline=None, max_steps=60, prune=prune)
        for prune in (True, False, True)
    ]
    assert runs[0].bound == runs[1].bound == runs[2].bound
    assert runs[0].steps == 60
    assert 0.8 * upper < runs[0].bound <= upper


def test_finer_groups_when_stalled_stay_below_the_optimum() -> None:
    C, W = _euclidean(2, n=9)
    sets = list(itertools.combinations(range(9), 2))
    best = brute_single(C, W, sets, **FACTORS)
    model = build_model("usaphmp", C, W, p=2, **FACTORS)
    res = single_allocation_grouped_bound(model.data, upper=best * 1.5, hubs=sets[0],
                                          deadline=None, groups=1, stall_window=5,
                                          stall_share=10.0, max_groups=4)  # fmt: skip
    assert res.groups == 4
    assert res.stalled
    assert 0 < res.bound <= best * (1 + 1e-9)


def test_the_engine_takes_it_for_single_allocation_beyond_the_relaxation() -> None:
    inst = random_case(6, 4, seed=7, flow_density=0.5, p=2)
    model = build_model("usaphmp", inst.C, inst.W, **inst.model_kwargs(problem="usaphmp",
                                                                       p=2))  # fmt: skip
    beyond = EngineOptions(max_sets=0, mip_max_n=0, benders_max_n=1, benders_many_hubs_max_n=1,
                           sa_lagrangian_max_n=1, sa_lagrangian_many_hubs_max_n=1,
                           large_lagrangian_max_bytes=0.0)  # fmt: skip
    params = SolveParameters(time_limit=20.0, method="heuristic")
    sol = model.solve(params, options=beyond)
    best = brute_single(inst.C, inst.W, list(itertools.combinations(range(6, 10), 2)),
                        chi=inst.chi, alpha=inst.alpha, delta=inst.delta)  # fmt: skip
    assert sol.info["group_form"] == "single"
    assert 0 < sol.info["group_bound"] <= best * (1 + 1e-9)
    assert sol.bound <= best * (1 + 1e-9)
    assert best <= sol.objective * (1 + 1e-9)
    multiple = model.solve(params, options=EngineOptions(**{**beyond.__dict__,
                                                            "sa_group_lagrangian": False}))
    assert "group_form" not in multiple.info
    assert "group_bound" in multiple.info
