"""p-hub center and hub covering (single and multiple allocation) against brute force.

The oracles (:mod:`tests.oracles`) enumerate every hub set and, for single allocation,
every allocation to it; they share no code with the engine.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hubopt._errors import InfeasibleModelError, ModelSpecificationError
from hubopt.instances import load_instance
from hubopt.models import (
    UMAHCP,
    USAHCP,
    Problem,
    SolveParameters,
    Status,
    UMApHCP,
    USApHCP,
    build_model,
)
from tests.oracles import (
    all_sets,
    brute_center_multiple,
    brute_center_single,
    brute_covering,
    max_route_cost_loops,
    random_instance,
    sets_of_size,
    single_allocation_below,
)

FACTORS = {"chi": 3.0, "alpha": 0.75, "delta": 2.0}


def assert_proven(model, sol, expected: float) -> None:
    assert sol.status is Status.OPTIMAL
    assert sol.objective == pytest.approx(expected, rel=1e-12)
    assert sol.bound == pytest.approx(expected, rel=1e-12)
    assert sol.gap == pytest.approx(0.0, abs=1e-12)
    assert model.objective(sol) == pytest.approx(sol.objective, rel=1e-12)


def loops_value(model, sol) -> float:
    d = model.data
    return max_route_cost_loops(d.costs, d.flows, sol.allocation,
                                single=model.problem.single_allocation, chi=d.chi,
                                alpha=d.alpha, delta=d.delta)


@pytest.mark.parametrize("method", ["auto", "mip"])
@pytest.mark.parametrize(("n", "p", "seed"), [(6, 2, 1), (7, 3, 2), (8, 2, 3), (8, 4, 4)])
def test_multiple_allocation_p_hub_center_equals_brute_force(n, p, seed, method):
    C, W, _, _ = random_instance(n, seed)
    model = UMApHCP.from_cost_matrix(C, W, p=p, **FACTORS)
    sol = model.solve(time_limit=60, method=method)
    value, _ = brute_center_multiple(C, W, sets_of_size(n, p), **FACTORS)
    assert_proven(model, sol, value)
    assert len(sol.hubs) == p
    assert loops_value(model, sol) == pytest.approx(sol.objective, rel=1e-12)


@pytest.mark.parametrize("method", ["auto", "mip"])
@pytest.mark.parametrize(("n", "p", "seed"), [(6, 2, 5), (7, 3, 6), (7, 2, 7), (8, 3, 8)])
def test_single_allocation_p_hub_center_equals_brute_force_over_allocations(n, p, seed, method):
    C, W, _, _ = random_instance(n, seed)
    model = USApHCP.from_cost_matrix(C, W, p=p, **FACTORS)
    sol = model.solve(time_limit=60, method=method)
    value, _, _ = brute_center_single(C, W, sets_of_size(n, p), **FACTORS)
    assert_proven(model, sol, value)
    alloc = np.asarray(sol.allocation)
    assert set(alloc.tolist()) <= set(sol.hubs)
    assert all(alloc[h] == h for h in sol.hubs)
    assert loops_value(model, sol) == pytest.approx(sol.objective, rel=1e-12)


@pytest.mark.parametrize("single", [False, True])
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_hub_covering_finds_the_fewest_hubs_of_brute_force(single, seed):
    n = 7
    C, W, _, _ = random_instance(n, seed)
    # a bound between the 1-hub and 3-hub center values, so that covers of 2-4 hubs win
    lo = brute_center_multiple(C, W, sets_of_size(n, 3), **FACTORS)[0]
    hi = brute_center_multiple(C, W, sets_of_size(n, 1), **FACTORS)[0]
    max_cost = lo + 0.3 * (hi - lo)
    weight, _ = brute_covering(C, W, all_sets(n), max_cost, single=single, **FACTORS)
    cls = USAHCP if single else UMAHCP
    model = cls.from_cost_matrix(C, W, max_cost=max_cost, **FACTORS)
    sol = model.solve(time_limit=60)
    assert_proven(model, sol, weight)
    assert len(sol.hubs) == weight
    assert model.max_route_cost(sol) <= max_cost


@pytest.mark.parametrize("single", [False, True])
def test_hub_covering_with_fixed_costs_finds_the_cheapest_set(single):
    n = 7
    C, W, f, _ = random_instance(n, 21)
    lo = brute_center_multiple(C, W, sets_of_size(n, 3), **FACTORS)[0]
    hi = brute_center_multiple(C, W, sets_of_size(n, 1), **FACTORS)[0]
    max_cost = lo + 0.4 * (hi - lo)
    weight, _hubs = brute_covering(C, W, all_sets(n), max_cost, single=single, f=f, **FACTORS)
    cls = USAHCP if single else UMAHCP
    model = cls.from_cost_matrix(C, W, max_cost=max_cost, fixed_costs=f, **FACTORS)
    sol = model.solve(time_limit=60, method="mip")
    assert_proven(model, sol, weight)
    assert model.objective(sol) == pytest.approx(float(sum(f[k] for k in sol.hubs)))


@pytest.mark.parametrize("single", [False, True])
def test_kept_open_and_excluded_sites_are_honoured(single):
    n, p = 8, 3
    C, W, _, _ = random_instance(n, 31)
    fixed, excluded = (2,), (0, 5)
    cls = USApHCP if single else UMApHCP
    model = cls.from_cost_matrix(C, W, p=p, fixed_hubs=fixed, excluded=excluded, **FACTORS)
    sol = model.solve(time_limit=60)
    sets = sets_of_size(n, p, fixed=fixed, excluded=excluded)
    if single:
        value = brute_center_single(C, W, sets, **FACTORS)[0]
    else:
        value = brute_center_multiple(C, W, sets, **FACTORS)[0]
    assert_proven(model, sol, value)
    assert 2 in sol.hubs
    assert not {0, 5} & set(sol.hubs)


def test_only_pairs_with_flow_count():
    n = 7
    C, W, _, _ = random_instance(n, 41)
    W = np.zeros_like(W)
    W[0, 6] = W[3, 1] = 1.0
    model = UMApHCP.from_cost_matrix(C, W, p=2, **FACTORS)
    sol = model.solve(time_limit=60)
    value, _ = brute_center_multiple(C, W, sets_of_size(n, 2), **FACTORS)
    assert_proven(model, sol, value)
    dense = UMApHCP.from_cost_matrix(C, np.ones((n, n)), p=2, **FACTORS).solve(time_limit=60)
    assert dense.objective >= sol.objective


def test_single_allocation_never_beats_multiple_allocation_on_cab():
    inst = load_instance("cab", 10)
    kw = {"chi": 1.0, "alpha": 0.4, "delta": 1.0}
    ma = UMApHCP.from_cost_matrix(inst.costs, inst.flows, p=3, **kw).solve(time_limit=60)
    sa = USApHCP.from_cost_matrix(inst.costs, inst.flows, p=3, **kw).solve(time_limit=60)
    assert ma.status is Status.OPTIMAL
    assert sa.status is Status.OPTIMAL
    assert sa.objective >= ma.objective


CAB_FAST = [(10, 2, 0.2), (10, 3, 0.6), (15, 2, 1.0), (15, 3, 0.4)]
CAB_SLOW = [(n, p, a) for n, p, a in itertools.product((10, 15, 20, 25), (2, 3, 4),
                                                         (0.2, 0.4, 0.6, 0.8, 1.0))
            if (n, p, a) not in CAB_FAST]


def _cab_multiple(n, p, alpha):
    inst = load_instance("cab", n)
    kw = {"chi": inst.chi, "alpha": alpha, "delta": inst.delta}
    model = build_model("umaphcp", inst.costs, inst.flows, p=p, **kw)
    sol = model.solve(time_limit=300)
    value, _ = brute_center_multiple(inst.costs, inst.flows, sets_of_size(n, p), **kw)
    assert_proven(model, sol, value)


@pytest.mark.parametrize(("n", "p", "alpha"), CAB_FAST)
def test_cab_multiple_allocation_p_hub_center_equals_brute_force(n, p, alpha):
    _cab_multiple(n, p, alpha)


@pytest.mark.slow
@pytest.mark.parametrize(("n", "p", "alpha"), CAB_SLOW)
def test_cab_multiple_allocation_p_hub_center_equals_brute_force_grid(n, p, alpha):
    _cab_multiple(n, p, alpha)


def _cab_single(n, p, alpha):
    inst = load_instance("cab", n)
    kw = {"chi": inst.chi, "alpha": alpha, "delta": inst.delta}
    model = build_model("usaphcp", inst.costs, inst.flows, p=p, **kw)
    sol = model.solve(time_limit=300)
    value, _, _ = brute_center_single(inst.costs, inst.flows, sets_of_size(n, p), **kw)
    assert_proven(model, sol, value)


@pytest.mark.parametrize(("p", "alpha"), [(2, 0.2), (2, 1.0)])
def test_cab10_single_allocation_p_hub_center_equals_brute_force(p, alpha):
    _cab_single(10, p, alpha)


@pytest.mark.slow
@pytest.mark.parametrize(("n", "p", "alpha"), [(10, 3, 0.2), (10, 3, 0.6), (10, 3, 1.0),
                                               (10, 2, 0.6), (15, 2, 0.4)])
def test_cab_single_allocation_p_hub_center_equals_brute_force_grid(n, p, alpha):
    _cab_single(n, p, alpha)


@pytest.mark.parametrize("seed", [81, 82])
def test_allocation_search_oracle_agrees_with_every_allocation(seed):
    # the oracle used on the larger CAB grid, checked against plain enumeration: for each
    # hub set, an allocation below a threshold exists exactly when enumeration finds one
    from tests.oracles import allocations_of, route_tensor

    n = 7
    C, W, _, _ = random_instance(n, seed)
    T = route_tensor(C, **FACTORS)
    I, J = np.nonzero(W > 0)
    for H in sets_of_size(n, 3)[::4]:
        allocs = allocations_of(n, H)
        values = np.sort(T[I, J, allocs[:, I], allocs[:, J]].max(axis=1))
        for threshold in (values[0], values[len(values) // 2], values[0] * 1.000001):
            found = single_allocation_below(C, W, H, threshold, **FACTORS)
            assert (found is not None) == bool(values[0] < threshold)
            if found is not None:
                assert max_route_cost_loops(C, W, found, single=True, **FACTORS) < threshold


CAB_GRID = list(itertools.product((10, 15, 20, 25), (2, 3, 4), (0.2, 0.4, 0.6, 0.8, 1.0)))


@pytest.mark.slow
@pytest.mark.parametrize(("n", "p", "alpha"), CAB_GRID)
def test_cab_single_allocation_p_hub_center_has_no_better_hub_set_and_allocation(n, p, alpha):
    # every hub set, and for each an exhaustive search over its allocations, finds none
    # whose every route with flow is cheaper than the solver's optimum
    inst = load_instance("cab", n)
    kw = {"chi": inst.chi, "alpha": alpha, "delta": inst.delta}
    model = build_model("usaphcp", inst.costs, inst.flows, p=p, **kw)
    sol = model.solve(time_limit=300)
    assert sol.status is Status.OPTIMAL
    assert loops_value(model, sol) == pytest.approx(sol.objective, rel=1e-12)
    better = [H for H in sets_of_size(n, p)
              if single_allocation_below(inst.costs, inst.flows, H, sol.objective, **kw)
              is not None]
    assert better == []


@pytest.mark.parametrize("single", [False, True])
def test_cab_hub_covering_equals_brute_force(single):
    inst = load_instance("cab", 10)
    kw = {"chi": 1.0, "alpha": 0.6, "delta": 1.0}
    # a bound between the 2- and the 3-hub center values
    two = brute_center_multiple(inst.costs, inst.flows, sets_of_size(10, 2), **kw)[0]
    three = brute_center_multiple(inst.costs, inst.flows, sets_of_size(10, 3), **kw)[0]
    max_cost = 0.5 * (two + three)
    sets = [H for q in range(1, 6) for H in sets_of_size(10, q)]
    weight, _ = brute_covering(inst.costs, inst.flows, sets, max_cost, single=single, **kw)
    model = build_model("usahcp" if single else "umahcp", inst.costs, inst.flows,
                        max_cost=max_cost, **kw)
    sol = model.solve(time_limit=120)
    assert_proven(model, sol, weight)


def test_hub_covering_that_no_hub_set_meets_is_reported_before_solving():
    C, W, _, _ = random_instance(6, 51)
    model = UMAHCP.from_cost_matrix(C, W, max_cost=1.0, **FACTORS)
    with pytest.raises(InfeasibleModelError, match="max_cost = 1 cannot be met"):
        model.solve(time_limit=10)


def test_objective_rejects_a_cover_that_breaks_max_cost():
    C, W, _, _ = random_instance(6, 52)
    big = UMAHCP.from_cost_matrix(C, W, max_cost=1e9, **FACTORS).solve(time_limit=10)
    assert big.objective == 1.0  # one hub reaches everything within a huge bound
    tight = UMAHCP.from_cost_matrix(C, W, max_cost=big.info["max_route_cost"] * 0.99,
                                    **FACTORS)
    with pytest.raises(InfeasibleModelError, match="above max_cost"):
        tight.objective(big)


def test_specification_errors_name_every_field():
    C, W, _, _ = random_instance(5, 53)
    with pytest.raises(ModelSpecificationError) as err:
        UMAHCP.from_cost_matrix(C, W, max_cost=-1.0, alpha=-2.0)
    assert "max_cost" in str(err.value)
    assert "alpha" in str(err.value)
    with pytest.raises(ModelSpecificationError, match="p: expected"):
        build_model("usaphcp", C, W, p=0)


@pytest.mark.parametrize("cls", [USApHCP, UMApHCP])
def test_time_limit_returns_a_solution_with_a_valid_bound(cls):
    C, W, _, _ = random_instance(22, 61)
    model = cls.from_cost_matrix(C, W, p=4, **FACTORS)
    short = model.solve(SolveParameters(time_limit=0.3))
    full = model.solve(SolveParameters(time_limit=600))
    assert full.status is Status.OPTIMAL
    assert short.status in (Status.OPTIMAL, Status.FEASIBLE)
    assert model.objective(short) == pytest.approx(short.objective, rel=1e-12)
    assert short.bound <= full.objective * (1 + 1e-12)
    assert short.objective >= full.objective * (1 - 1e-12)
    assert short.gap == pytest.approx((short.objective - short.bound) / short.objective)


def test_same_seed_gives_the_same_solution():
    C, W, _, _ = random_instance(12, 62)
    model = USApHCP.from_cost_matrix(C, W, p=3, **FACTORS)
    a, b = model.solve(time_limit=60, seed=3), model.solve(time_limit=60, seed=3)
    assert a.hubs == b.hubs
    np.testing.assert_array_equal(a.allocation, b.allocation)
    assert a.objective == b.objective


def test_problem_enum_knows_the_four_problems():
    for name, single, has_p in (("usaphcp", True, True), ("umaphcp", False, True),
                                ("usahcp", True, False), ("umahcp", False, False)):
        prob = Problem.parse(name)
        assert prob.minimax
        assert not prob.hub_location
        assert prob.single_allocation is single
        assert prob.has_p is has_p
        assert prob.covering is (not has_p)


@pytest.mark.parametrize("seed", [71, 72, 73])
def test_allocation_descent_never_raises_the_largest_route_cost(seed):
    from hubopt.models._center_cover import CenterInstance
    from hubopt.models._center_search import improve_allocation

    n, hubs = 15, (2, 7, 11)
    C, W, _, _ = random_instance(n, seed)
    model = USApHCP.from_cost_matrix(C, W, p=3, **FACTORS)
    alloc = np.random.default_rng(seed).choice(hubs, size=n)
    alloc[list(hubs)] = hubs
    before = max_route_cost_loops(C, W, alloc, single=True, **FACTORS)
    value, new = improve_allocation(CenterInstance.of(model.data, single=True), hubs, alloc,
                                    None)
    assert value == pytest.approx(max_route_cost_loops(C, W, new, single=True, **FACTORS),
                                  rel=1e-12)
    assert value < before
    assert set(new.tolist()) <= set(hubs)
    assert all(new[h] == h for h in hubs)
