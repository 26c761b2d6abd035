"""Solver behaviour: time limits, determinism, bounds, bad input, published values."""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pytest
from oracles import brute_single, random_instance, sets_of_size

from hubopt._errors import InfeasibleModelError, ModelSpecificationError
from hubopt.bench import BenchCase, matches_reference, run_case
from hubopt.instances import find_optimum, load_ap, load_optima
from hubopt.models import (
    CSAHLP,
    UMAHLP,
    Problem,
    Solution,
    SolveParameters,
    Status,
    UMApHMP,
    USApHMP,
    build_model,
)
from hubopt.models._search import _evaluate_in_chunks, _hub_sets
from hubopt.models.heuristics import ma_costs


def ap_model(problem: str, n: int, **kwargs):
    inst = load_ap(n)
    return build_model(
        problem,
        inst.costs,
        inst.scaled_flows(),
        chi=inst.chi,
        alpha=inst.alpha,
        delta=inst.delta,
        **kwargs,
    )


def assert_consistent(model, sol: Solution) -> None:
    assert math.isfinite(sol.objective)
    assert sol.bound <= sol.objective + 1e-9
    assert sol.gap == pytest.approx((sol.objective - sol.bound) / sol.objective, abs=1e-12)
    assert model.objective(sol) == pytest.approx(sol.objective, rel=1e-9)


@pytest.mark.slow
def test_time_limited_mip_returns_its_best_solution_with_bound_and_gap():
    inst = load_ap(40)
    model = CSAHLP.from_cost_matrix(
        inst.costs,
        inst.scaled_flows(),
        fixed_costs=inst.fixed_costs["T"],
        capacities=inst.capacities["T"] * inst.flow_scale,
        chi=inst.chi,
        alpha=inst.alpha,
        delta=inst.delta,
    )
    sol = model.solve(time_limit=3.0)
    # (no assertion on the wall-clock time: the machine's load decides it)
    assert sol.method.startswith("mip")
    assert sol.status in (Status.FEASIBLE, Status.OPTIMAL)
    assert_consistent(model, sol)


@pytest.mark.slow
def test_time_limited_hub_set_search_returns_incumbent_and_valid_bound():
    # AP 40, p = 4: 91,390 hub sets, far more than 0.3 s can search; how far it gets
    # depends on the machine's load, so the bound and the incumbent are checked against
    # the published optimum, not a gap figure
    ref = find_optimum(load_optima(), problem="USApHMP", suite="ap", n=40, p=4)
    assert ref is not None
    model = ap_model("usaphmp", 40, p=4)
    sol = model.solve(time_limit=0.3, method="search")
    assert sol.status is Status.FEASIBLE
    assert_consistent(model, sol)
    assert sol.bound <= ref.objective + 0.006 <= sol.objective + 0.012
    assert sol.gap == pytest.approx((sol.objective - sol.bound) / sol.objective, rel=1e-9)
    assert sol.gap > 0


def test_hub_set_evaluation_stops_on_its_deadline_with_every_evaluated_cost_exact():
    """The multiple-allocation costs of the hub sets come in chunks sized to end by the
    deadline: without one every set is evaluated; with one past, none; with a short one,
    a prefix, and each cost in it equals the one-call evaluation."""
    model = ap_model("umaphmp", 40, p=3)
    sets = _hub_sets(model.data, 3)  # 9,880 sets
    truth = ma_costs(model.data, sets)
    everything = np.zeros(len(sets))
    assert _evaluate_in_chunks(model.data, sets, everything, None) == len(sets)
    np.testing.assert_allclose(everything, truth, rtol=1e-12)
    assert _evaluate_in_chunks(model.data, sets, np.zeros(len(sets)), time.perf_counter()) == 0
    many = np.concatenate([sets] * 40)  # about 400,000 sets: more than 10 ms can take
    part = np.zeros(len(many))
    k = _evaluate_in_chunks(model.data, many, part, time.perf_counter() + 0.01)
    assert 0 < k < len(many)
    np.testing.assert_allclose(part[:k], np.concatenate([truth] * 40)[:k], rtol=1e-12)
    assert (part[k:] == 0).all()


@pytest.mark.slow
def test_same_input_gives_the_same_solution():
    first = ap_model("usaphmp", 20, p=4).solve()
    second = ap_model("usaphmp", 20, p=4).solve()
    assert first.hubs == second.hubs
    assert np.array_equal(first.allocation, second.allocation)
    assert first.objective == second.objective
    inst = load_ap(20)
    kwargs = {"fixed_costs": inst.fixed_costs["L"]}
    a = ap_model("umahlp", 20, **kwargs).solve()
    b = ap_model("umahlp", 20, **kwargs).solve()
    assert (a.hubs, a.objective) == (b.hubs, b.objective)


@pytest.mark.slow
def test_heuristic_bound_brackets_the_optimum():
    C, W, _, _ = random_instance(8, 7)
    model = USApHMP.from_cost_matrix(C, W, p=3, chi=3, alpha=0.75, delta=2)
    optimum = brute_single(C, W, sets_of_size(8, 3))
    sol = model.solve(method="heuristic")
    assert sol.bound <= optimum + 1e-9 <= sol.objective + 2e-9
    assert sol.status in (Status.FEASIBLE, Status.OPTIMAL)


def test_multiple_allocation_routes_are_the_cheapest_paths_through_the_hubs():
    C, W, _, _ = random_instance(7, 3)
    model = UMApHMP.from_cost_matrix(C, W, p=3, chi=3, alpha=0.75, delta=2)
    sol = model.solve()
    H = sol.hubs
    for i in range(7):
        for j in range(7):
            k, m = sol.allocation[i, j]
            best = min(3 * C[i, a] + 0.75 * C[a, b] + 2 * C[b, j] for a in H for b in H)
            assert 3 * C[i, k] + 0.75 * C[k, m] + 2 * C[m, j] == pytest.approx(best)


def test_objective_evaluator_reproduces_a_published_allocation():
    ref = find_optimum(load_optima(), problem="USApHMP", suite="ap", n=10, p=2)
    assert ref is not None
    model = ap_model("usaphmp", 10, p=2)
    alloc = np.array(ref.allocation) - 1
    sol = Solution(
        Problem.USAPHMP,
        tuple(h - 1 for h in ref.hubs),
        alloc,
        0.0,
        0.0,
        0.0,
        Status.FEASIBLE,
        0.0,
        "published",
    )
    assert model.objective(sol) == pytest.approx(ref.objective, abs=0.005)


def test_evaluator_rejects_an_allocation_to_a_closed_hub():
    model = ap_model("usaphmp", 10, p=2)
    sol = model.solve()
    bad = sol.allocation.copy()
    bad[next(i for i in range(10) if i not in sol.hubs)] = next(
        k for k in range(10) if k not in sol.hubs
    )
    with pytest.raises(InfeasibleModelError, match="closed hub"):
        model.objective(dataclasses.replace(sol, allocation=bad))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("problem", "suite", "n", "p", "alpha", "fc", "cap"),
    [
        ("usaphmp", "ap", 20, 3, None, None, None),
        ("umaphmp", "ap", 25, 4, None, None, None),
        ("usaphmp", "cab", 15, 3, 0.8, None, None),
        ("umaphmp", "cab", 20, 4, 1.0, None, None),
        ("csahlp", "ap", 20, None, None, "L", "T"),
        ("usahlp", "ap", 25, None, None, "T", None),
        ("umahlp", "ap", 10, None, None, "L", None),
    ],
)
def test_published_optimum_is_reproduced(problem, suite, n, p, alpha, fc, cap):
    case = BenchCase(suite, Problem.parse(problem), n, p, alpha, fc, cap)
    record = run_case(case, SolveParameters(time_limit=120), optima=load_optima())
    assert record["status"] == "optimal"
    assert record["reference"] is not None
    assert matches_reference(record["objective"], record["reference"])


def test_p_larger_than_n_is_rejected_with_the_field_named():
    C, W, _, _ = random_instance(5, 1)
    with pytest.raises(ModelSpecificationError, match=r"p: expected 1 <= p <= n = 5, found 6"):
        USApHMP.from_cost_matrix(C, W, p=6)


def test_p_larger_than_the_candidate_sites_is_infeasible():
    C, W, _, _ = random_instance(5, 1)
    with pytest.raises(InfeasibleModelError, match="larger than the 3 candidate"):
        UMApHMP.from_cost_matrix(C, W, p=4, excluded=(0, 1))


def test_negative_cost_is_reported_with_its_position():
    C, W, _, _ = random_instance(5, 1)
    C[2, 3] = -1.0
    with pytest.raises(ModelSpecificationError, match=r"costs: expected non-negative.*\[2, 3\]"):
        USApHMP.from_cost_matrix(C, W, p=2)


def test_every_problem_is_reported_at_once():
    C, W, _, _ = random_instance(5, 1)
    with pytest.raises(ModelSpecificationError) as err:
        UMAHLP.from_cost_matrix(C, W[:4, :4], fixed_costs=np.ones(5), alpha=-1)
    assert "flows" in str(err.value)
    assert "alpha" in str(err.value)


def test_capacities_below_total_demand_are_infeasible_before_solving():
    C, W, f, _ = random_instance(5, 1)
    cap = np.full(5, W.sum() / 10)
    with pytest.raises(InfeasibleModelError, match="below the total flow"):
        CSAHLP.from_cost_matrix(C, W, fixed_costs=f, capacities=cap)


def test_unknown_problem_name_lists_the_choices():
    with pytest.raises(ModelSpecificationError, match="usaphmp, umaphmp"):
        Problem.parse("p-median")


@pytest.mark.slow
@pytest.mark.parametrize("seed", [31, 33])
def test_capacitated_bound_stays_below_the_optimum(seed):
    from test_models_bruteforce import all_sets

    C, W, f, cap = random_instance(6, seed)
    model = CSAHLP.from_cost_matrix(C, W, fixed_costs=f, capacities=cap, chi=3, alpha=0.75, delta=2)
    optimum = brute_single(C, W, all_sets(6), f=f, cap=cap)
    sol = model.solve(method="heuristic")
    assert sol.bound <= optimum + 1e-9 <= sol.objective + 2e-9
