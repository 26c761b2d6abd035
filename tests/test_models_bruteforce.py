"""Every model against brute force over all hub sets and allocations on tiny instances.

The brute force below is written from the problem definitions with plain loops; it
shares no code with the engine.
"""

from __future__ import annotations

import numpy as np
import pytest
from oracles import (
    ALPHA,
    CHI,
    DELTA,
    all_sets,
    brute_multiple,
    brute_single,
    random_instance,
    sets_of_size,
)

from hubopt.models import CSAHLP, UMAHLP, USAHLP, Status, UMApHMP, USApHMP


def assert_solution_matches(model, sol, expected):
    assert sol.status is Status.OPTIMAL
    assert sol.objective == pytest.approx(expected, rel=1e-7)
    assert model.objective(sol) == pytest.approx(sol.objective, rel=1e-9)
    assert sol.bound <= sol.objective + 1e-9
    assert sol.gap <= 1e-6


@pytest.mark.parametrize("method", ["search", "mip"])
@pytest.mark.parametrize(("n", "p", "seed"), [(6, 2, 1), (7, 3, 2), (7, 1, 3), (8, 2, 4)])
def test_single_allocation_p_hub_median_equals_brute_force(n, p, seed, method):
    C, W, _, _ = random_instance(n, seed)
    model = USApHMP.from_cost_matrix(C, W, p=p, chi=CHI, alpha=ALPHA, delta=DELTA)
    sol = model.solve(method=method)
    assert_solution_matches(model, sol, brute_single(C, W, sets_of_size(n, p)))
    assert len(sol.hubs) == p
    assert all(sol.allocation[h] == h for h in sol.hubs)


@pytest.mark.parametrize("method", ["search", "mip"])
@pytest.mark.parametrize(("n", "p", "seed"), [(6, 2, 5), (7, 3, 6), (8, 2, 7), (8, 4, 8)])
def test_multiple_allocation_p_hub_median_equals_brute_force(n, p, seed, method):
    C, W, _, _ = random_instance(n, seed)
    model = UMApHMP.from_cost_matrix(C, W, p=p, chi=CHI, alpha=ALPHA, delta=DELTA)
    sol = model.solve(method=method)
    assert_solution_matches(model, sol, brute_multiple(C, W, sets_of_size(n, p)))
    assert sol.allocation.shape == (n, n, 2)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_single_allocation_hub_location_equals_brute_force(seed):
    n = 6
    C, W, f, _ = random_instance(n, seed)
    model = USAHLP.from_cost_matrix(C, W, fixed_costs=f, chi=CHI, alpha=ALPHA, delta=DELTA)
    sol = model.solve()
    assert_solution_matches(model, sol, brute_single(C, W, all_sets(n), f=f))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [21, 22, 23])
def test_multiple_allocation_hub_location_equals_brute_force(seed):
    n = 8
    C, W, f, _ = random_instance(n, seed)
    model = UMAHLP.from_cost_matrix(C, W, fixed_costs=f, chi=CHI, alpha=ALPHA, delta=DELTA)
    sol = model.solve()
    assert_solution_matches(model, sol, brute_multiple(C, W, all_sets(n), f=f))


@pytest.mark.parametrize("seed", [31, 32, 33, 34])
def test_capacitated_hub_location_equals_brute_force_and_respects_capacities(seed):
    n = 6
    C, W, f, cap = random_instance(n, seed)
    model = CSAHLP.from_cost_matrix(
        C, W, fixed_costs=f, capacities=cap, chi=CHI, alpha=ALPHA, delta=DELTA
    )
    sol = model.solve()
    assert_solution_matches(model, sol, brute_single(C, W, all_sets(n), f=f, cap=cap))
    load = np.bincount(sol.allocation, weights=W.sum(1), minlength=n)
    assert np.all(load <= cap + 1e-9)


@pytest.mark.parametrize("method", ["search", "mip"])
def test_fixed_and_excluded_hubs_are_honoured_in_p_hub_median(method):
    n, p = 8, 3
    C, W, _, _ = random_instance(n, 41)
    fixed, excluded = (5,), (0, 2)
    sets = sets_of_size(n, p, fixed, excluded)
    for cls, brute in ((USApHMP, brute_single), (UMApHMP, brute_multiple)):
        model = cls.from_cost_matrix(
            C, W, p=p, chi=CHI, alpha=ALPHA, delta=DELTA, fixed_hubs=fixed, excluded=excluded
        )
        sol = model.solve(method=method)
        assert 5 in sol.hubs
        assert not set(sol.hubs) & set(excluded)
        assert_solution_matches(model, sol, brute(C, W, sets))


def test_fixed_and_excluded_hubs_are_honoured_in_hub_location():
    n = 6
    C, W, f, cap = random_instance(n, 42)
    fixed, excluded = (1,), (3,)
    sets = all_sets(n, fixed, excluded)
    m1 = USAHLP.from_cost_matrix(
        C, W, fixed_costs=f, chi=CHI, alpha=ALPHA, delta=DELTA, fixed_hubs=fixed, excluded=excluded
    )
    assert_solution_matches(m1, m1.solve(), brute_single(C, W, sets, f=f))
    m2 = UMAHLP.from_cost_matrix(
        C, W, fixed_costs=f, chi=CHI, alpha=ALPHA, delta=DELTA, fixed_hubs=fixed, excluded=excluded
    )
    sol2 = m2.solve()
    assert 1 in sol2.hubs
    assert 3 not in sol2.hubs
    assert_solution_matches(m2, sol2, brute_multiple(C, W, sets, f=f))
    big_cap = cap * 3
    m3 = CSAHLP.from_cost_matrix(
        C,
        W,
        fixed_costs=f,
        capacities=big_cap,
        chi=CHI,
        alpha=ALPHA,
        delta=DELTA,
        fixed_hubs=fixed,
        excluded=excluded,
    )
    assert_solution_matches(m3, m3.solve(), brute_single(C, W, sets, f=f, cap=big_cap))


@pytest.mark.parametrize("seed", [41, 42, 43])
def test_cheap_bounds_never_exceed_the_brute_force_optimum(seed):
    from hubopt.models import bounds
    from hubopt.models.base import SolveParameters

    n = 6
    C, W, f, _ = random_instance(n, seed)
    for p in (1, 2, 3):
        model = UMApHMP.from_cost_matrix(C, W, p=p, chi=CHI, alpha=ALPHA, delta=DELTA)
        truth = brute_multiple(C, W, sets_of_size(n, p))  # MA <= SA: valid for both
        nn = bounds.nearest_neighbour_bound(model.data)
        fl = bounds.facility_location_bound(
            model.problem, model.data, SolveParameters(), time_limit=30
        )
        assert 0 < nn <= truth + 1e-9
        assert fl <= truth + 1e-9
    model = UMAHLP.from_cost_matrix(C, W, fixed_costs=f, chi=CHI, alpha=ALPHA, delta=DELTA)
    assert (
        bounds.nearest_neighbour_bound(model.data) <= brute_multiple(C, W, all_sets(n), f=f) + 1e-9
    )


@pytest.mark.parametrize("seed", [51, 52, 53])
@pytest.mark.parametrize("nearest", [1, 3, 8])
def test_truncated_transfer_bound_never_exceeds_the_brute_force_optimum(seed, nearest):
    """The LP with distances truncated to the nearest sites is a valid bound however
    short the lists are, for p-hub medians and fixed costs, with fixed and excluded
    sites; with the full lists it is never below the plain facility-location LP's
    floor, the nearest-neighbour bound."""
    from hubopt.models import bounds

    n = 7
    C, W, f, _ = random_instance(n, seed)
    for p in (1, 2, 3):
        model = UMApHMP.from_cost_matrix(C, W, p=p, chi=CHI, alpha=ALPHA, delta=DELTA)
        truth = brute_multiple(C, W, sets_of_size(n, p))  # MA <= SA: valid for both
        tb = bounds.truncated_transfer_bound(
            model.problem, model.data, nearest=nearest, time_limit=30
        )
        assert tb is not None
        assert 0 < tb <= truth * (1 + 1e-9)
        if nearest >= n:
            assert tb >= bounds.nearest_neighbour_bound(model.data) * (1 - 1e-9)
    fixed, excluded = (2,), (4,)
    sets = [s for s in all_sets(n) if 2 in s and 4 not in s]
    model = UMAHLP.from_cost_matrix(
        C, W, fixed_costs=f, chi=CHI, alpha=ALPHA, delta=DELTA, fixed_hubs=fixed, excluded=excluded
    )
    tb = bounds.truncated_transfer_bound(model.problem, model.data, nearest=nearest, time_limit=30)
    assert tb is not None
    assert tb <= brute_multiple(C, W, sets, f=f) * (1 + 1e-9)


def test_truncated_transfer_bound_declines_where_its_argument_fails():
    from hubopt.models import bounds

    C, W, f, cap = random_instance(6, 7)
    bad = C.copy()
    bad[0, 1] = bad[1, 0] = 10 * C.max()  # breaks the triangle inequality
    model = UMApHMP.from_cost_matrix(bad, W, p=2, chi=CHI, alpha=ALPHA, delta=DELTA)
    assert bounds.truncated_transfer_bound(model.problem, model.data, time_limit=30) is None
    cheap_collection = UMApHMP.from_cost_matrix(C, W, p=2, chi=0.5, alpha=ALPHA, delta=DELTA)
    assert (
        bounds.truncated_transfer_bound(
            cheap_collection.problem, cheap_collection.data, time_limit=30
        )
        is None
    )
    capacitated = CSAHLP.from_cost_matrix(
        C, W, fixed_costs=f, capacities=cap, chi=CHI, alpha=ALPHA, delta=DELTA
    )
    assert (
        bounds.truncated_transfer_bound(capacitated.problem, capacitated.data, time_limit=30)
        is None
    )


def test_bounds_whose_time_is_gone_before_the_solve_give_up_without_solving():
    """The time limit of the facility-location bounds covers building their models: with
    no time left they return the trivial bound (0, or None for the truncated LP) instead
    of starting a solve that would run past the caller's deadline; with time they give
    a positive bound below the brute-force optimum."""
    from hubopt.models import bounds
    from hubopt.models.base import SolveParameters

    n = 7
    C, W, _, _ = random_instance(n, 51)
    model = UMApHMP.from_cost_matrix(C, W, p=2, chi=CHI, alpha=ALPHA, delta=DELTA)
    truth = brute_multiple(C, W, sets_of_size(n, 2))
    for transfer in (False, True):
        none_left = bounds.facility_location_bound(
            model.problem, model.data, SolveParameters(), time_limit=0.0, transfer=transfer
        )
        assert none_left == 0.0
        with_time = bounds.facility_location_bound(
            model.problem, model.data, SolveParameters(), time_limit=30, transfer=transfer
        )
        assert 0.0 < with_time <= truth * (1 + 1e-9)
    assert bounds.truncated_transfer_bound(model.problem, model.data, time_limit=0.0) is None


@pytest.mark.parametrize("method", ["search", "mip"])
@pytest.mark.parametrize("seed", [5, 6])
def test_single_allocation_optimum_with_asymmetric_costs_equals_brute_force(seed, method):
    # costs that differ by direction (distribution k -> j costs C[k, j], not C[j, k]) and
    # keep the triangle inequality: C'_ij = C_ij + s_j - s_i with |s_j - s_i| <= C_ij
    C, W, _, _ = random_instance(7, seed)
    s = 0.4 * C[0]
    C = C + s[None, :] - s[:, None]
    assert not np.allclose(C, C.T)
    model = USApHMP.from_cost_matrix(C, W, p=3, chi=CHI, alpha=ALPHA, delta=DELTA)
    sol = model.solve(method=method)
    assert_solution_matches(model, sol, brute_single(C, W, sets_of_size(7, 3)))
