"""GVNS for USApHMP against published optima, brute force and the independent evaluator."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from oracles import brute_single, random_instance

from hubopt._errors import InfeasibleModelError, ModelSpecificationError
from hubopt.instances import ReferenceOptimum, load_instance, load_optima
from hubopt.models.base import HubData, Problem, make_hub_data
from hubopt.models.evaluate import evaluate
from hubopt.models.gvns import gvns_single_allocation, gvns_single_allocation_fixed_cost


def hub_data(C, W, p, *, chi=3.0, alpha=0.75, delta=2.0, fixed=(), excluded=()) -> HubData:
    return make_hub_data(
        C,
        W,
        chi=chi,
        alpha=alpha,
        delta=delta,
        p=p,
        fixed_hubs=fixed,
        excluded=excluded,
        need_p=True,
        need_fixed_costs=False,
        need_capacities=False,
    )


def instance_data(suite: str, n: int, p: int, alpha: float | None = None) -> HubData:
    inst = load_instance(suite, n)
    return hub_data(
        inst.costs,
        inst.scaled_flows(),
        p,
        chi=inst.chi,
        alpha=inst.alpha if alpha is None else alpha,
        delta=inst.delta,
    )


def brute_force(C, W, p, *, chi, alpha, delta, fixed=(), excluded=()) -> float:
    """Every hub set of size p and every allocation, with plain loops."""
    n = len(C)
    sites = [k for k in range(n) if k not in excluded]
    best = math.inf
    for H in itertools.combinations(sites, p):
        if not set(fixed) <= set(H):
            continue
        others = [i for i in range(n) if i not in H]
        for choice in itertools.product(H, repeat=len(others)):
            a = list(range(n))
            for i, k in zip(others, choice, strict=True):
                a[i] = k
            total = sum(
                W[i, j] * (chi * C[i, a[i]] + alpha * C[a[i], a[j]] + delta * C[a[j], j])
                for i in range(n)
                for j in range(n)
            )
            best = min(best, total)
    return best


def matches(objective: float, reference: float) -> bool:
    # published values have two decimals
    return abs(objective - reference) <= max(1e-6 * abs(reference), 0.005 + 1e-9)


@pytest.fixture(scope="module")
def optima(hub_data_dir: Path) -> list[ReferenceOptimum]:
    return load_optima(data_dir=hub_data_dir)


def single_allocation_records(optima: list[ReferenceOptimum], suite: str) -> list:
    return [r for r in optima if r.problem == "USApHMP" and r.suite == suite]


@pytest.mark.slow
def test_published_ap_optima_are_found(optima: list[ReferenceOptimum]) -> None:
    records = single_allocation_records(optima, "ap")
    assert {r.n for r in records} == {10, 20, 25, 40}
    for rec in records:
        assert rec.p is not None
        data = instance_data("ap", rec.n, rec.p)
        hubs, alloc, value = gvns_single_allocation(data, rec.p)
        assert matches(value, rec.objective), (rec.instance, value, rec.objective)
        assert value == pytest.approx(evaluate(Problem.USAPHMP, data, hubs, alloc), rel=1e-12)


@pytest.mark.slow
def test_published_cab_optima_are_found(optima: list[ReferenceOptimum]) -> None:
    records = single_allocation_records(optima, "cab")
    assert len(records) == 60
    for rec in records:
        assert rec.p is not None
        data = instance_data("cab", rec.n, rec.p, alpha=rec.alpha)
        hubs, _, value = gvns_single_allocation(data, rec.p, max_iterations=20)
        assert matches(value, rec.objective), (rec.instance, rec.alpha, rec.p, value)
        assert len(hubs) == rec.p


@pytest.mark.parametrize(("n", "seed"), [(6, 1), (6, 2), (7, 3), (7, 4)])
def test_equals_brute_force_on_tiny_instances(n: int, seed: int) -> None:
    C, W, _, _ = random_instance(n, seed)
    for p in (1, 2, 3):
        data = hub_data(C, W, p)
        hubs, alloc, value = gvns_single_allocation(data, p, seed=seed)
        exact = brute_force(C, W, p, chi=3.0, alpha=0.75, delta=2.0)
        assert value == pytest.approx(exact, rel=1e-9)
        assert value == pytest.approx(evaluate(Problem.USAPHMP, data, hubs, alloc), rel=1e-12)


def test_equals_brute_force_with_fixed_and_excluded_sites_and_asymmetric_costs() -> None:
    rng = np.random.default_rng(7)
    C, W, _, _ = random_instance(7, 11)
    C = C * rng.uniform(0.8, 1.2, size=C.shape)  # asymmetric, triangle inequality broken
    fixed, excluded = (5,), (0, 2)
    for p in (2, 3):
        data = hub_data(C, W, p, chi=1.0, alpha=0.4, delta=1.5, fixed=fixed, excluded=excluded)
        hubs, _, value = gvns_single_allocation(data, p)
        exact = brute_force(C, W, p, chi=1.0, alpha=0.4, delta=1.5, fixed=fixed, excluded=excluded)
        assert value == pytest.approx(exact, rel=1e-9)
        assert 5 in hubs
        assert not {0, 2} & set(hubs)


def test_equals_brute_force_with_nonzero_diagonal_costs() -> None:
    # own-flow W_ii travels i -> hub -> hub -> i and pays alpha * C[h, h]
    rng = np.random.default_rng(21)
    C = rng.uniform(1, 10, size=(6, 6))
    W = rng.uniform(0, 5, size=(6, 6))
    for p in (1, 2, 3):
        data = hub_data(C, W, p)
        hubs, alloc, value = gvns_single_allocation(data, p)
        assert value == pytest.approx(
            brute_force(C, W, p, chi=3.0, alpha=0.75, delta=2.0), rel=1e-9
        )
        assert value == pytest.approx(evaluate(Problem.USAPHMP, data, hubs, alloc), rel=1e-12)


def test_fixed_hubs_stay_open_and_excluded_sites_stay_closed_on_ap40() -> None:
    inst = load_instance("ap", 40)
    free = hub_data(inst.costs, inst.scaled_flows(), 4)
    free_hubs, _, free_value = gvns_single_allocation(free, 4)
    fixed = (0,) if 0 not in free_hubs else (1,)
    excluded = tuple(free_hubs[:2])
    data = hub_data(inst.costs, inst.scaled_flows(), 4, fixed=fixed, excluded=excluded)
    hubs, alloc, value = gvns_single_allocation(data, 4)
    assert set(fixed) <= set(hubs)
    assert not set(excluded) & set(hubs)
    assert len(hubs) == 4
    assert np.all(alloc[list(hubs)] == np.array(hubs))
    assert set(alloc.tolist()) <= set(hubs)
    assert value == pytest.approx(evaluate(Problem.USAPHMP, data, hubs, alloc), rel=1e-12)
    assert value >= free_value  # the restricted problem cannot be cheaper


def test_same_seed_gives_the_same_solution() -> None:
    data = instance_data("ap", 40, 6)
    first = gvns_single_allocation(data, 6, seed=3, max_iterations=15)
    second = gvns_single_allocation(data, 6, seed=3, max_iterations=15)
    assert first[0] == second[0]
    assert np.array_equal(first[1], second[1])
    assert first[2] == second[2]


def test_result_is_never_worse_than_the_start() -> None:
    data = instance_data("ap", 25, 5)
    rng = np.random.default_rng(0)
    for trial in range(3):
        hubs = tuple(sorted(rng.choice(25, size=5, replace=False).tolist()))
        alloc = np.array(hubs)[rng.integers(0, 5, size=25)]
        alloc[list(hubs)] = hubs
        start_value = evaluate(Problem.USAPHMP, data, hubs, alloc)
        for limit in (0, 5):
            got_hubs, got_alloc, value = gvns_single_allocation(
                data, 5, start=(hubs, alloc), max_iterations=limit, seed=trial
            )
            assert value <= start_value
            assert value == pytest.approx(
                evaluate(Problem.USAPHMP, data, got_hubs, got_alloc), rel=1e-12
            )


def test_a_past_deadline_still_returns_a_valid_solution() -> None:
    data = instance_data("ap", 40, 5)
    hubs, alloc, value = gvns_single_allocation(data, 5, deadline=0.0)
    assert len(hubs) == 5
    assert value == pytest.approx(evaluate(Problem.USAPHMP, data, hubs, alloc), rel=1e-12)


def test_bad_start_and_capacities_are_rejected_clearly() -> None:
    data = instance_data("ap", 10, 2)
    alloc = np.zeros(10, dtype=np.int64)
    with pytest.raises(ModelSpecificationError, match="start: expected 2 distinct hubs"):
        gvns_single_allocation(data, 2, start=((0, 1, 2), alloc))
    alloc[5] = 7
    with pytest.raises(ModelSpecificationError, match="allocated to a closed hub"):
        gvns_single_allocation(data, 2, start=((0, 1), alloc))
    with pytest.raises(ModelSpecificationError, match="p: expected"):
        gvns_single_allocation(data, 11)
    with pytest.raises(ModelSpecificationError, match="capacities: expected 10"):
        gvns_single_allocation(data, 2, capacities=np.ones(9))


def fixed_cost_data(C, W, f, *, chi=3.0, alpha=0.75, delta=2.0, fixed=(), excluded=()) -> HubData:
    return make_hub_data(
        C,
        W,
        chi=chi,
        alpha=alpha,
        delta=delta,
        p=None,
        fixed_costs=f,
        fixed_hubs=fixed,
        excluded=excluded,
        need_p=False,
        need_fixed_costs=True,
        need_capacities=False,
    )


@pytest.mark.slow
def test_fixed_cost_variant_finds_the_published_usahlp_optima(
    optima: list[ReferenceOptimum],
) -> None:
    records = [r for r in optima if r.problem == "USAHLP" and r.suite == "ap"]
    assert len(records) == 8
    for rec in records:
        inst = load_instance("ap", rec.n)
        assert rec.fixed_cost_type is not None
        data = fixed_cost_data(
            inst.costs, inst.scaled_flows(), inst.fixed_costs[rec.fixed_cost_type]
        )
        hubs, alloc, value = gvns_single_allocation_fixed_cost(data)
        assert matches(value, rec.objective), (rec.instance, value, rec.objective)
        assert value == pytest.approx(evaluate(Problem.USAHLP, data, hubs, alloc), rel=1e-12)


@pytest.mark.parametrize(("n", "seed"), [(6, 5), (7, 6)])
def test_fixed_cost_variant_equals_brute_force_over_every_hub_count(n: int, seed: int) -> None:
    C, W, _, _ = random_instance(n, seed)
    rng = np.random.default_rng(seed)
    for scale in (200.0, 2000.0, 20000.0):  # few to many hubs
        f = rng.uniform(0.5, 1.5, size=n) * scale
        fixed, excluded = (n - 1,), (0,)
        data = fixed_cost_data(C, W, f, fixed=fixed, excluded=excluded)
        hubs, alloc, value = gvns_single_allocation_fixed_cost(data, seed=seed)
        exact = min(
            brute_force_fixed(C, W, f, p, fixed=fixed, excluded=excluded) for p in range(1, n)
        )
        assert value == pytest.approx(exact, rel=1e-9)
        assert value == pytest.approx(evaluate(Problem.USAHLP, data, hubs, alloc), rel=1e-12)
        assert n - 1 in hubs
        assert 0 not in hubs


def brute_force_fixed(C, W, f, p, *, fixed, excluded, cap=None) -> float:
    """Every hub set of size p with its opening costs and every allocation (within cap)."""
    sites = [k for k in range(len(C)) if k not in excluded]
    sets = [H for H in itertools.combinations(sites, p) if set(fixed) <= set(H)]
    return brute_single(C, W, sets, f=f, cap=cap)


def test_fixed_cost_variant_is_never_worse_than_its_start_and_needs_fixed_costs() -> None:
    inst = load_instance("ap", 25)
    data = fixed_cost_data(inst.costs, inst.scaled_flows(), inst.fixed_costs["L"])
    hubs = (0, 5, 10, 20)
    alloc = np.array(hubs)[np.arange(25) % 4]
    alloc[list(hubs)] = hubs
    start_value = evaluate(Problem.USAHLP, data, hubs, alloc)
    _, _, value = gvns_single_allocation_fixed_cost(data, start=(hubs, alloc), max_iterations=0)
    assert value <= start_value
    with pytest.raises(ModelSpecificationError, match="fixed_costs"):
        gvns_single_allocation_fixed_cost(instance_data("ap", 10, 2))


@pytest.mark.slow
def test_capacitated_variant_finds_the_published_csahlp_optima(
    optima: list[ReferenceOptimum],
) -> None:
    records = [r for r in optima if r.problem == "CSAHLP" and r.suite == "ap" and r.n <= 25]
    assert len(records) == 12
    for rec in records:
        inst = load_instance("ap", rec.n)
        assert rec.fixed_cost_type is not None
        assert rec.capacity_type is not None
        cap = inst.capacities[rec.capacity_type] * inst.flow_scale
        data = fixed_cost_data(
            inst.costs, inst.scaled_flows(), inst.fixed_costs[rec.fixed_cost_type]
        )
        _, alloc, value = gvns_single_allocation_fixed_cost(data, capacities=cap)
        assert matches(value, rec.objective), (rec.instance, value, rec.objective)
        load = np.bincount(alloc, weights=data.origin_totals, minlength=rec.n)
        assert np.all(load <= cap * (1 + 1e-9))


@pytest.mark.slow
@pytest.mark.parametrize(("n", "seed"), [(6, 8), (7, 9)])
def test_capacitated_search_equals_brute_force(n: int, seed: int) -> None:
    C, W, _, _ = random_instance(n, seed)
    rng = np.random.default_rng(seed)
    O = W.sum(axis=1)
    cap = O.sum() * rng.uniform(0.3, 0.7, size=n)
    f = rng.uniform(0.5, 1.5, size=n) * 2000.0
    for p in (2, 3):
        data = hub_data(C, W, p)
        hubs, alloc, value = gvns_single_allocation(data, p, capacities=cap)
        exact = brute_force_fixed(C, W, np.zeros(n), p, fixed=(), excluded=(), cap=cap)
        assert value == pytest.approx(exact, rel=1e-9)
        assert len(hubs) == p
        load = np.bincount(alloc, weights=O, minlength=n)
        assert np.all(load <= cap * (1 + 1e-9))
    data = fixed_cost_data(C, W, f)
    _, alloc, value = gvns_single_allocation_fixed_cost(data, capacities=cap)
    exact = min(
        brute_force_fixed(C, W, f, p, fixed=(), excluded=(), cap=cap) for p in range(1, n + 1)
    )
    assert value == pytest.approx(exact, rel=1e-9)
    assert np.all(np.bincount(alloc, weights=O, minlength=n) <= cap * (1 + 1e-9))


def test_capacities_too_small_for_the_flow_are_reported_as_infeasible() -> None:
    C, W, _, _ = random_instance(6, 1)
    data = hub_data(C, W, 2)
    with pytest.raises(InfeasibleModelError, match="capacities"):
        gvns_single_allocation(data, 2, capacities=np.full(6, W.sum() / 10))
    hubs = (0, 1)
    alloc = np.array([0, 1, 0, 0, 0, 0])
    with pytest.raises(ModelSpecificationError, match="exceed their capacities"):
        gvns_single_allocation(data, 2, start=(hubs, alloc), capacities=np.full(6, W.sum() / 3))
