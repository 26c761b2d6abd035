"""Resilient p-hub medians against brute force: every hub set, every primary/backup plan,
every attack, recomputed from the matrices by :mod:`resilience_oracles`."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from oracles import ALPHA, CHI, DELTA, random_instance, sets_of_size
from resilience_oracles import (
    brute_ma,
    brute_sa_plan,
    fallback,
    ma_cost,
    sa_cost,
    sa_resilient,
)

from hubopt._errors import ModelSpecificationError
from hubopt.instances import load_instance
from hubopt.models import Status
from hubopt.models._resilience_eval import improve_plan, initial_plan
from hubopt.models._resilience_mip import solve_plan_mip
from hubopt.models.base import SolveParameters
from hubopt.models.heuristics import improve_allocation
from hubopt.models.resilience import (
    ResilienceOptions,
    ResilientHubModel,
    attack,
)

W_ARGS = {"chi": CHI, "alpha": ALPHA, "delta": DELTA}


def build(C, W, problem, p, kind, q=0.05, r=1, **kw):
    return ResilientHubModel.from_cost_matrix(
        C, W, problem=problem, p=p, **W_ARGS,
        resilience=ResilienceOptions(kind, failure_probability=q, attacks=r), **kw)


def assert_proven(model, sol, expected):
    assert sol.status is Status.OPTIMAL
    assert sol.objective == pytest.approx(expected, rel=1e-7)
    assert model.objective(sol) == pytest.approx(sol.objective, rel=1e-9)
    assert sol.bound == pytest.approx(sol.objective, rel=1e-7)


@pytest.mark.parametrize(("kind", "r"), [("expected", 1), ("worst", 1), ("worst", 2)])
@pytest.mark.parametrize(("n", "p", "seed"), [(8, 3, 1), (9, 4, 2), (10, 3, 3)])
def test_multiple_allocation_optimum_equals_brute_force_over_hub_sets(n, p, seed, kind, r):
    C, W, _, _ = random_instance(n, seed)
    model = build(C, W, "umaphmp", p, kind, q=0.07, r=r)
    sol = model.solve()
    best, _hubs = brute_ma(C, W, sets_of_size(n, p), kind, model.q, r, CHI, ALPHA, DELTA)
    assert_proven(model, sol, best)
    assert sol.nominal_objective == pytest.approx(ma_cost(C, W, sol.hubs, CHI, ALPHA, DELTA))


def test_kept_open_and_excluded_sites_are_respected_with_per_site_probabilities():
    C, W, _, _ = random_instance(9, 5)
    q = np.linspace(0.01, 0.2, 9)
    fixed, banned = (4,), (0, 1)
    model = build(C, W, "umaphmp", 3, "expected", q=tuple(q), fixed_hubs=fixed, excluded=banned)
    sol = model.solve()
    sets = sets_of_size(9, 3, fixed=fixed, excluded=banned)
    best, _ = brute_ma(C, W, sets, "expected", q, 1, CHI, ALPHA, DELTA)
    assert_proven(model, sol, best)
    assert 4 in sol.hubs
    assert not {0, 1} & set(sol.hubs)


@pytest.mark.parametrize(("kind", "r", "n", "p", "seed"), [
    ("expected", 1, 5, 2, 1), ("expected", 1, 5, 3, 2), ("worst", 1, 5, 3, 3),
    ("worst", 2, 5, 3, 4), pytest.param("expected", 1, 6, 3, 5, marks=pytest.mark.slow),
])
def test_single_allocation_optimum_equals_brute_force_over_hub_sets_and_plans(kind, r, n, p, seed):
    C, W, _, _ = random_instance(n, seed)
    model = build(C, W, "usaphmp", p, kind, q=0.1, r=r)
    sol = model.solve()
    best = min(brute_sa_plan(C, W, H, kind, model.q, r, CHI, ALPHA, DELTA)
               for H in sets_of_size(n, p))
    assert sol.objective == pytest.approx(best, rel=1e-7)
    assert model.objective(sol) == pytest.approx(sol.objective, rel=1e-9)
    assert sa_resilient(C, W, sol.hubs, sol.plan.tolist(), kind, model.q, r, CHI, ALPHA,
                        DELTA) == pytest.approx(sol.objective, rel=1e-9)
    if r == 1:  # the plan MIP proves one attack / one failure
        assert sol.status is Status.OPTIMAL
    assert sol.nominal_objective == pytest.approx(
        sa_cost(C, W, sol.plan[:, 0].tolist(), CHI, ALPHA, DELTA))


@pytest.mark.parametrize("kind", ["expected", "worst"])
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_plan_mip_finds_the_best_primary_backup_plan_for_given_hubs(kind, seed):
    C, W, _, _ = random_instance(6, seed)
    model = build(C, W, "usaphmp", 3, kind, q=0.15)
    H = [0, 2, 5]
    res = solve_plan_mip(model.data, H, kind, model.q, SolveParameters(), time_limit=None)
    best = brute_sa_plan(C, W, H, kind, model.q, 1, CHI, ALPHA, DELTA)
    assert res.proven_optimal
    assert sa_resilient(C, W, H, res.plan.tolist(), kind, model.q, 1, CHI, ALPHA,
                        DELTA) == pytest.approx(best, rel=1e-7)
    # the descent is a heuristic: never better than the optimum, and its value is exact
    start = initial_plan(model.data, H, improve_allocation(model.data, H), 2)
    plan, value = improve_plan(model.data, H, start, kind, 1, model.q)
    assert value >= best * (1 - 1e-9)
    assert value == pytest.approx(
        sa_resilient(C, W, H, plan.tolist(), kind, model.q, 1, CHI, ALPHA, DELTA), rel=1e-9)


@pytest.mark.parametrize("r", [1, 2, 3])
def test_attacker_finds_the_costliest_hubs_to_remove(r):
    C, W, _, _ = random_instance(10, 21)
    model = build(C, W, "umaphmp", 4, "worst", r=r)
    H = (1, 3, 6, 8)
    result = attack(model.data, H, r)
    truth = {F: ma_cost(C, W, [h for h in H if h not in F], CHI, ALPHA, DELTA)
             for F in itertools.combinations(H, r)}
    worst = max(truth.values())
    assert result.cost == pytest.approx(worst, rel=1e-9)
    assert truth[result.failed] == pytest.approx(worst, rel=1e-9)
    assert result.nominal == pytest.approx(ma_cost(C, W, H, CHI, ALPHA, DELTA), rel=1e-9)
    assert len(result.ranking) == len(truth)


def test_attacker_on_a_single_allocation_plan_follows_the_backups():
    C, W, _, _ = random_instance(7, 22)
    model = build(C, W, "usaphmp", 3, "worst", r=1)
    sol = model.solve()
    result = model.attack(sol)
    plan = sol.plan.tolist()
    truth = {(k,): sa_cost(C, W, fallback(plan, (k,)), CHI, ALPHA, DELTA) for k in sol.hubs}
    assert result.cost == pytest.approx(max(truth.values()), rel=1e-9)
    assert result.cost == pytest.approx(sol.objective, rel=1e-9)


def test_a_time_limited_heuristic_returns_a_valid_bound_and_gap():
    C, W, _, _ = random_instance(16, 31)
    model = build(C, W, "umaphmp", 3, "expected", q=0.05)
    sol = model.solve(method="heuristic", time_limit=10)
    best, _ = brute_ma(C, W, sets_of_size(16, 3), "expected", model.q, 1, CHI, ALPHA, DELTA)
    assert sol.bound <= best * (1 + 1e-9)
    assert sol.objective >= best * (1 - 1e-9)
    assert sol.gap == pytest.approx((sol.objective - sol.bound) / sol.objective, abs=1e-12)
    assert model.objective(sol) == pytest.approx(sol.objective, rel=1e-9)


def test_bad_resilience_options_are_all_reported_at_once():
    with pytest.raises(ModelSpecificationError) as err:
        ResilienceOptions("sometimes", failure_probability=1.5, attacks=0)
    text = str(err.value)
    assert "resilience" in text
    assert "failure_probability" in text
    assert "attacks" in text
    C, W, _, _ = random_instance(6, 1)
    with pytest.raises(ModelSpecificationError, match="attacks: expected r < p"):
        build(C, W, "umaphmp", 2, "worst", r=2)
    with pytest.raises(ModelSpecificationError, match="at most 1"):
        build(C, W, "umaphmp", 3, "expected", q=0.4)
    with pytest.raises(ModelSpecificationError, match="p >= 2"):
        build(C, W, "usaphmp", 1, "expected")


def _cab_cases(n):
    return [(n, p, a, kind) for p in (2, 3, 4) for a in (0.2, 0.8)
            for kind in ("expected", "worst")]


@pytest.mark.parametrize(("n", "p", "alpha", "kind"), [*_cab_cases(10), *_cab_cases(15)])
def test_cab_multiple_allocation_resilient_optima_equal_brute_force(hub_data_dir, n, p, alpha,
                                                                    kind):
    inst = load_instance("cab", n, data_dir=hub_data_dir)
    C, W = inst.costs, inst.scaled_flows()
    model = ResilientHubModel.from_cost_matrix(
        C, W, problem="umaphmp", p=p, chi=1.0, alpha=alpha, delta=1.0,
        resilience=ResilienceOptions(kind, failure_probability=0.05, attacks=1))
    sol = model.solve()
    best, _ = brute_ma(C, W, sets_of_size(n, p), kind, model.q, 1, 1.0, alpha, 1.0)
    assert_proven(model, sol, best)


@pytest.mark.parametrize(("kind", "seed"), [("expected", 41), ("expected", 42), ("worst", 43),
                                            ("worst", 44)])
def test_single_allocation_bound_stays_valid_without_the_triangle_inequality(kind, seed):
    rng = np.random.default_rng(seed)
    n, p = 5, 3
    C = rng.uniform(1, 100, (n, n))
    np.fill_diagonal(C, 0.0)
    W = rng.uniform(0, 10, (n, n))
    chi, alpha, delta = 0.5, 1.0, 0.5  # inter-hub legs dearer than access: no ordering
    model = ResilientHubModel.from_cost_matrix(
        C, W, problem="usaphmp", p=p, chi=chi, alpha=alpha, delta=delta,
        resilience=ResilienceOptions(kind, failure_probability=0.1, attacks=1))
    sol = model.solve()
    best = min(brute_sa_plan(C, W, H, kind, model.q, 1, chi, alpha, delta)
               for H in sets_of_size(n, p))
    assert sol.bound <= best * (1 + 1e-9)
    assert sol.objective >= best * (1 - 1e-9)
    assert model.objective(sol) == pytest.approx(sol.objective, rel=1e-9)
    if sol.status is Status.OPTIMAL:
        assert sol.objective == pytest.approx(best, rel=1e-7)


@pytest.mark.parametrize("seed", [51, 52, 53])
def test_polishing_a_worst_case_plan_keeps_its_worst_case_and_lowers_its_normal_day(seed):
    from hubopt.models._resilience_eval import polish_worst_plan

    C, W, _, _ = random_instance(7, seed)
    model = build(C, W, "usaphmp", 3, "worst", r=1)
    H = [1, 3, 5]
    rng = np.random.default_rng(seed)
    plan = np.array([[i, *[h for h in rng.permutation(H) if h != i][:1]] if i in H
                     else list(rng.permutation(H)[:2]) for i in range(7)])
    polished = polish_worst_plan(model.data, H, plan, 1)
    worst = sa_resilient(C, W, H, plan.tolist(), "worst", model.q, 1, CHI, ALPHA, DELTA)
    assert sa_resilient(C, W, H, polished.tolist(), "worst", model.q, 1, CHI, ALPHA,
                        DELTA) <= worst * (1 + 1e-12)
    assert sa_cost(C, W, polished[:, 0].tolist(), CHI, ALPHA, DELTA) <= sa_cost(
        C, W, plan[:, 0].tolist(), CHI, ALPHA, DELTA) * (1 + 1e-12)


@pytest.mark.parametrize(("kind", "r"), [("expected", 1), ("worst", 1), ("worst", 2)])
@pytest.mark.parametrize("metric", [True, False])
def test_lagrangian_set_bounds_never_exceed_the_best_plan_of_each_hub_set(kind, r, metric):
    from hubopt.models._resilience_lagrange import LagrangianCache, lagrangian_set_bounds

    n, p = 6, 3
    C, W, _, _ = random_instance(n, 41)
    if not metric:  # random asymmetric costs: no triangle inequality
        C = np.random.default_rng(41).uniform(1, 100, size=(n, n))
        np.fill_diagonal(C, 0.0)
    model = build(C, W, "usaphmp", p, kind, q=0.1, r=r)
    sets = np.array(sets_of_size(n, p), dtype=np.int64)
    truth = np.array([brute_sa_plan(C, W, H, kind, model.q, r, CHI, ALPHA, DELTA)
                      for H in sets.tolist()])
    bounds, done = lagrangian_set_bounds(LagrangianCache(model.data), sets, kind, r, model.q,
                                         float(truth.mean()), None)
    assert done == sets.shape[0]
    assert np.all(bounds <= truth * (1 + 1e-9))
    assert np.all(bounds > 0)
