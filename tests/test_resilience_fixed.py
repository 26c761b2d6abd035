"""Resilient fixed-cost hub location (USAHLP / UMAHLP, hub count free) against brute force
over every hub set of every size (and every primary/backup plan for single allocation),
recomputed from the matrices by :mod:`resilience_oracles`."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from oracles import ALPHA, CHI, DELTA, random_instance, sets_of_size
from resilience_oracles import brute_sa_plan, ma_cost, ma_resilient, sa_cost, sa_resilient

from hubopt._errors import ModelSpecificationError
from hubopt.instances import load_instance
from hubopt.models import Status
from hubopt.models._resilience_fixed import count_floor, ufl_dual_bound
from hubopt.models.resilience import ResilienceOptions, ResilientHubModel


def build(C, W, f, problem, kind, q=0.05, r=1, chi=CHI, alpha=ALPHA, delta=DELTA, **kw):
    return ResilientHubModel.from_cost_matrix(
        C, W, problem=problem, fixed_costs=f, chi=chi, alpha=alpha, delta=delta,
        resilience=ResilienceOptions(kind, failure_probability=q, attacks=r), **kw)


def least(kind, r):
    return 2 if kind == "expected" else r + 1


def brute_ma_fixed(C, W, f, kind, q, r, chi, alpha, delta, fixed=(), excluded=()):
    n = len(C)
    sets = [H for m in range(least(kind, r), n + 1)
            for H in sets_of_size(n, m, fixed, excluded)]
    return min((ma_resilient(C, W, H, kind, q, r, chi, alpha, delta) + f[list(H)].sum(), H)
               for H in sets)


def assert_proven(model, sol, expected):
    assert sol.status is Status.OPTIMAL
    assert sol.objective == pytest.approx(expected, rel=1e-7)
    assert model.objective(sol) == pytest.approx(sol.objective, rel=1e-9)
    assert sol.bound == pytest.approx(sol.objective, rel=1e-7)


@pytest.mark.parametrize(("kind", "r"), [("expected", 1), ("worst", 1), ("worst", 2)])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_multiple_allocation_fixed_cost_optimum_equals_brute_force_over_every_hub_set(seed,
                                                                                      kind, r):
    C, W, f, _ = random_instance(8, seed)
    f = 20 * f  # a few hubs pay off
    model = build(C, W, f, "umahlp", kind, q=0.07, r=r)
    sol = model.solve()
    best, _ = brute_ma_fixed(C, W, f, kind, model.q, r, CHI, ALPHA, DELTA)
    assert_proven(model, sol, best)
    hubs = list(sol.hubs)
    assert sol.nominal_objective == pytest.approx(
        ma_cost(C, W, hubs, CHI, ALPHA, DELTA) + f[hubs].sum(), rel=1e-9)


def test_kept_open_excluded_sites_and_cheap_hubs_are_respected():
    C, W, f, _ = random_instance(8, 4)
    f = 5 * f  # cheap hubs: the optimum opens many
    q = tuple(np.linspace(0.01, 0.12, 8))
    model = build(C, W, f, "umahlp", "expected", q=q, fixed_hubs=(3,), excluded=(0, 7))
    sol = model.solve()
    best, _ = brute_ma_fixed(C, W, f, "expected", np.array(q), 1, CHI, ALPHA, DELTA,
                             fixed=(3,), excluded=(0, 7))
    assert_proven(model, sol, best)
    assert 3 in sol.hubs
    assert not {0, 7} & set(sol.hubs)


@pytest.mark.parametrize(("kind", "r", "seed"), [
    ("expected", 1, 1), ("expected", 1, 2), ("worst", 1, 3), ("worst", 1, 4),
])
def test_single_allocation_fixed_cost_optimum_equals_brute_force_over_sets_and_plans(kind, r,
                                                                                    seed):
    n = 5
    C, W, f, _ = random_instance(n, seed)
    f = 10 * f
    model = build(C, W, f, "usahlp", kind, q=0.1, r=r)
    sol = model.solve()
    best = min(brute_sa_plan(C, W, H, kind, model.q, r, CHI, ALPHA, DELTA) + f[list(H)].sum()
               for m in range(least(kind, r), n + 1) for H in sets_of_size(n, m))
    assert_proven(model, sol, best)
    hubs = list(sol.hubs)
    assert sa_resilient(C, W, hubs, sol.plan.tolist(), kind, model.q, r, CHI, ALPHA,
                        DELTA) + f[hubs].sum() == pytest.approx(sol.objective, rel=1e-9)
    assert sol.nominal_objective == pytest.approx(
        sa_cost(C, W, sol.plan[:, 0].tolist(), CHI, ALPHA, DELTA) + f[hubs].sum(), rel=1e-9)


CAB_FIXED = (100.0, 150.0, 200.0, 250.0, 300.0)  # opening costs by node number mod 5


@pytest.mark.parametrize("alpha", [0.2, 0.8])
@pytest.mark.parametrize("kind", ["expected", "worst"])
@pytest.mark.parametrize("n", [10, pytest.param(15, marks=pytest.mark.slow)])
def test_cab_fixed_cost_optima_equal_brute_force(hub_data_dir, n, kind, alpha):
    inst = load_instance("cab", n, data_dir=hub_data_dir)
    C, W = inst.costs, inst.scaled_flows()
    f = np.array([CAB_FIXED[k % 5] for k in range(n)])
    model = build(C, W, f, "umahlp", kind, chi=1.0, alpha=alpha, delta=1.0)
    sol = model.solve()
    best, _ = brute_ma_fixed(C, W, f, kind, model.q, 1, 1.0, alpha, 1.0)
    assert_proven(model, sol, best)


@pytest.mark.parametrize(("problem", "fc"), [("umahlp", "L"), ("umahlp", "T")])
@pytest.mark.parametrize("kind", ["expected", "worst"])
def test_ap10_fixed_cost_optima_equal_brute_force(hub_data_dir, problem, fc, kind):
    inst = load_instance("ap", 10, data_dir=hub_data_dir)
    C, W, f = inst.costs, inst.scaled_flows(), inst.fixed_costs[fc]
    model = build(C, W, f, problem, kind, chi=inst.chi, alpha=inst.alpha, delta=inst.delta)
    sol = model.solve()
    best, _ = brute_ma_fixed(C, W, f, kind, model.q, 1, inst.chi, inst.alpha, inst.delta)
    assert_proven(model, sol, best)


@pytest.mark.parametrize("kind", ["expected", "worst"])
def test_ap_subnetwork_single_allocation_equals_brute_force_over_sets_and_plans(hub_data_dir,
                                                                                kind):
    inst = load_instance("ap", 10, data_dir=hub_data_dir)
    keep = [0, 2, 4, 6, 8]
    C = inst.costs[np.ix_(keep, keep)]
    W = inst.scaled_flows()[np.ix_(keep, keep)]
    f = inst.fixed_costs["L"][keep] / 4  # the subnetwork carries a quarter of the flow or so
    args = (inst.chi, inst.alpha, inst.delta)
    model = build(C, W, f, "usahlp", kind, chi=args[0], alpha=args[1], delta=args[2])
    sol = model.solve()
    best = min(brute_sa_plan(C, W, H, kind, model.q, 1, *args) + f[list(H)].sum()
               for m in range(2, 6) for H in sets_of_size(5, m))
    assert_proven(model, sol, best)


@pytest.mark.parametrize(("alpha", "metric"), [(0.75, True), (0.75, False), (4.0, True)])
@pytest.mark.parametrize("seed", [5, 6])
def test_hub_count_floor_never_exceeds_the_best_set_of_that_many_hubs_or_more(seed, alpha,
                                                                              metric):
    n = 8
    C, W, f, _ = random_instance(n, seed)
    if not metric:  # random asymmetric costs: no triangle inequality
        C = np.random.default_rng(seed).uniform(1, 100, size=(n, n))
        np.fill_diagonal(C, 0.0)
    f = 20 * f
    model = build(C, W, f, "umahlp", "expected", q=0.05, alpha=alpha)
    floor = count_floor(model.data, f, n)
    by_count = {m: min(ma_resilient(C, W, H, "expected", model.q, 1, CHI, alpha, DELTA)
                       + f[list(H)].sum() for H in sets_of_size(n, m)) for m in range(2, n + 1)}
    for m in range(2, n + 1):
        assert floor[m] <= min(by_count[k] for k in range(m, n + 1)) * (1 + 1e-9)


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_facility_location_dual_bound_never_exceeds_the_best_facility_set(seed):
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0, 50, size=(9, 6))
    f = rng.uniform(0, 60, size=6)
    best = min(cost[:, list(S)].min(axis=1).sum() + f[list(S)].sum()
               for m in range(1, 7) for S in itertools.combinations(range(6), m))
    bound = ufl_dual_bound(cost, f)
    assert bound <= best * (1 + 1e-9)
    assert bound >= cost.min(axis=1).sum() - 1e-9  # at least every customer's cheapest


def test_capacitated_and_inconsistent_fixed_cost_specifications_are_refused():
    C, W, f, _ = random_instance(6, 1)
    with pytest.raises(ModelSpecificationError, match="csahlp has no resilient model"):
        ResilientHubModel.from_cost_matrix(C, W, problem="csahlp", fixed_costs=f,
                                           resilience=ResilienceOptions("expected"))
    with pytest.raises(ModelSpecificationError, match="fixed_costs"):
        ResilientHubModel.from_cost_matrix(C, W, problem="umahlp",
                                           resilience=ResilienceOptions("expected"))
    with pytest.raises(ModelSpecificationError, match="use usahlp or umahlp"):
        ResilientHubModel.from_cost_matrix(C, W, problem="umaphmp", p=2, fixed_costs=f,
                                           resilience=ResilienceOptions("expected"))
    with pytest.raises(ModelSpecificationError, match="hub count"):  # r + 1 > 6 candidates
        ResilientHubModel.from_cost_matrix(C, W, problem="umahlp", fixed_costs=f,
                                           resilience=ResilienceOptions("worst", attacks=6))


def test_failure_probabilities_cap_the_hub_count():
    C, W, f, _ = random_instance(8, 2)
    f = 0.01 * f  # nearly free hubs: without the cap every site would open
    model = build(C, W, f, "umahlp", "expected", q=0.3)  # at most 3 hubs (3 * 0.3 <= 1)
    sol = model.solve()
    assert len(sol.hubs) <= 3
    best = min((ma_resilient(C, W, H, "expected", model.q, 1, CHI, ALPHA, DELTA)
                + f[list(H)].sum()) for m in (2, 3) for H in sets_of_size(8, m))
    assert_proven(model, sol, best)


@pytest.mark.parametrize("kind", ["expected", "worst"])
def test_a_time_limited_fixed_cost_solve_returns_a_valid_bound_and_gap(kind):
    C, W, f, _ = random_instance(9, 6)
    f = 20 * f
    model = build(C, W, f, "umahlp", kind)
    sol = model.solve(time_limit=0.001)
    best, _ = brute_ma_fixed(C, W, f, kind, model.q, 1, CHI, ALPHA, DELTA)
    assert sol.bound <= best * (1 + 1e-9)
    assert sol.objective >= best * (1 - 1e-9)
    assert model.objective(sol) == pytest.approx(sol.objective, rel=1e-9)
    assert sol.gap == pytest.approx((sol.objective - sol.bound) / sol.objective, rel=1e-6)
