"""N-1 access constraint: every point keeps two hubs within T (brute force over hub sets)."""

from __future__ import annotations

import numpy as np
import pytest
from oracles import ALPHA, CHI, DELTA, random_instance, sets_of_size
from resilience_oracles import brute_ma, brute_sa_plan, ma_cost

from hubopt._errors import InfeasibleModelError
from hubopt.models import Status
from hubopt.models.resilience import ResilienceOptions, ResilientHubModel


def n1_ok(C, W, H, T) -> bool:
    """Every node with flow out or in has two of ``H`` within ``T``."""
    need = (W.sum(0) + W.sum(1)) > 0
    return all((C[i, list(H)] <= T).sum() >= 2 for i in range(len(C)) if need[i])


def binding_limit(C, W, p) -> float:
    """A limit under which every point has 3 sites but the nominal optimum breaks it."""
    third = np.sort(C, axis=1)[:, 2].max()
    best = min(sets_of_size(len(C), p), key=lambda H: ma_cost(C, W, H, CHI, ALPHA, DELTA))
    for T in np.linspace(third, C.max(), 40):
        if not n1_ok(C, W, best, T) and any(n1_ok(C, W, H, T) for H in sets_of_size(len(C), p)):
            return float(T)
    return float(third)


def build(C, W, problem, p, kind, T, q=0.05, r=1):
    opts = ResilienceOptions(kind, failure_probability=q, attacks=r, n1_access=T)
    return ResilientHubModel.from_cost_matrix(C, W, problem=problem, p=p, chi=CHI,
                                              alpha=ALPHA, delta=DELTA, resilience=opts)


@pytest.mark.parametrize("seed", [3, 11, 21])
@pytest.mark.parametrize("kind", ["none", "expected", "worst"])
def test_multiple_allocation_with_n1_access_equals_brute_force_over_feasible_sets(seed, kind):
    C, W, _, _ = random_instance(9, seed)
    p = 3
    T = binding_limit(C, W, p)
    feasible = [H for H in sets_of_size(9, p) if n1_ok(C, W, H, T)]
    q = 0.0 if kind == "none" else 0.05
    want, _ = brute_ma(C, W, feasible, "worst" if kind == "worst" else "expected", np.full(9, q),
                       1, CHI, ALPHA, DELTA)
    model = build(C, W, "umaphmp", p, kind, T)
    sol = model.solve()
    assert sol.status is Status.OPTIMAL
    assert n1_ok(C, W, sol.hubs, T)
    assert sol.objective == pytest.approx(want, rel=1e-9)
    assert model.objective(sol) == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("seed", [5, 8])
@pytest.mark.parametrize("kind", ["none", "expected", "worst"])
def test_single_allocation_with_n1_access_equals_brute_force_over_sets_and_plans(seed, kind):
    n, p = 6, 3
    C, W, _, _ = random_instance(n, seed)
    T = binding_limit(C, W, p)
    feasible = [H for H in sets_of_size(n, p) if n1_ok(C, W, H, T)]
    q = np.full(n, 0.0 if kind == "none" else 0.05)
    k = "worst" if kind == "worst" else "expected"
    want = min(brute_sa_plan(C, W, H, k, q, 1, CHI, ALPHA, DELTA) for H in feasible)
    model = build(C, W, "usaphmp", p, kind, T)
    sol = model.solve()
    assert sol.status is Status.OPTIMAL
    assert n1_ok(C, W, sol.hubs, T)
    assert sol.objective == pytest.approx(want, rel=1e-7)
    assert model.objective(sol) == pytest.approx(want, rel=1e-7)


def test_the_constraint_moves_the_hubs_on_a_binding_instance():
    C, W, _, _ = random_instance(9, 3)
    T = binding_limit(C, W, 3)
    free = ResilientHubModel.from_cost_matrix(
        C, W, problem="umaphmp", p=3, chi=CHI, alpha=ALPHA, delta=DELTA,
        resilience=ResilienceOptions("expected", failure_probability=0.0)).solve()
    bound = build(C, W, "umaphmp", 3, "none", T).solve()
    assert not n1_ok(C, W, free.hubs, T)
    assert n1_ok(C, W, bound.hubs, T)
    assert bound.objective >= free.objective


def test_a_point_without_two_sites_within_the_limit_is_named_in_the_error():
    C, W, _, _ = random_instance(8, 4)
    lonely = int(np.argmax(np.sort(C, axis=1)[:, 1]))  # farthest from its nearest neighbour
    T = float(np.sort(C, axis=1)[lonely, 1]) * 0.99
    with pytest.raises(InfeasibleModelError, match=rf"points \[.*\b{lonely}\b.*\]"):
        build(C, W, "umaphmp", 3, "expected", T)


def test_too_few_hubs_for_every_point_is_infeasible():
    C, W, _, _ = random_instance(9, 7)
    T = float(np.sort(C, axis=1)[:, 1].max())  # every point has 2 sites, not 2 shared hubs
    if any(n1_ok(C, W, H, T) for H in sets_of_size(9, 2)):
        pytest.skip("two hubs serve every point on this instance")
    with pytest.raises(InfeasibleModelError, match="no set of p = 2"):
        build(C, W, "umaphmp", 2, "none", T).solve()


def test_a_solution_breaking_the_constraint_is_rejected_by_the_objective():
    C, W, _, _ = random_instance(9, 3)
    T = binding_limit(C, W, 3)
    free = ResilientHubModel.from_cost_matrix(
        C, W, problem="umaphmp", p=3, chi=CHI, alpha=ALPHA, delta=DELTA,
        resilience=ResilienceOptions("expected", failure_probability=0.0)).solve()
    with pytest.raises(InfeasibleModelError, match="n1_access"):
        build(C, W, "umaphmp", 3, "expected", T).objective(free)
