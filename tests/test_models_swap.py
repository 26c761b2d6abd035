"""The compiled swap neighbourhood of multiple allocation, its descent and its use in Benders.

Truth: the multiple-allocation cost of a hub set recomputed here from its definition
(every pair on its cheapest route ``i -> k -> m -> j`` over the hub set, plain loops
over the hubs), and brute force over every hub set of small instances.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hubopt.models import UMAHLP, UMApHMP
from hubopt.models._swap import ma_add_costs, ma_swap_costs
from hubopt.models.benders import benders_multiple_allocation
from hubopt.models.heuristics import greedy_hubs, local_search_hubs

CHI, ALPHA, DELTA = 2.0, 0.6, 1.5


def asymmetric_instance(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Asymmetric costs with a non-zero diagonal, and flows with many zero pairs."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, size=(n, 2))
    C = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    C = C * rng.uniform(0.8, 1.3, size=(n, n)) + rng.uniform(0, 3, size=(n, n))
    W = rng.uniform(0, 10, size=(n, n)) * (rng.uniform(size=(n, n)) < 0.7)
    return C, W


def cost_by_definition(C: np.ndarray, W: np.ndarray, H: tuple[int, ...]) -> float:
    best = np.full(C.shape, np.inf)
    for k in H:
        for m in H:
            best = np.minimum(best, CHI * C[:, [k]] + ALPHA * C[k, m] + DELTA * C[[m], :])
    return float((W * best).sum())


@pytest.mark.parametrize(("n", "p", "seed"), [(9, 1, 0), (10, 3, 1), (12, 5, 2)])
def test_swap_costs_equal_the_cost_of_every_swapped_hub_set(n: int, p: int, seed: int) -> None:
    C, W = asymmetric_instance(n, seed)
    data = UMApHMP.from_cost_matrix(C, W, p=p, chi=CHI, alpha=ALPHA, delta=DELTA).data
    hubs = tuple(range(1, 2 * p, 2))
    ins = np.array([c for c in range(n) if c not in hubs])
    table = ma_swap_costs(data, np.array(hubs), np.array(hubs), ins)
    assert table.shape == (p, n - p)
    for a, o in enumerate(hubs):
        for b, c in enumerate(ins):
            swapped = tuple(sorted([*(h for h in hubs if h != o), int(c)]))
            assert table[a, b] == pytest.approx(cost_by_definition(C, W, swapped), rel=1e-12)


@pytest.mark.parametrize("hubs", [(), (3,), (0, 4, 7)])
def test_add_costs_equal_the_cost_of_every_enlarged_hub_set(hubs: tuple[int, ...]) -> None:
    n = 10
    C, W = asymmetric_instance(n, 7)
    data = UMApHMP.from_cost_matrix(C, W, p=4, chi=CHI, alpha=ALPHA, delta=DELTA).data
    ins = [c for c in range(n) if c not in hubs]
    values = ma_add_costs(data, np.array(hubs, dtype=np.int64), np.array(ins))
    for c, v in zip(ins, values, strict=True):
        assert v == pytest.approx(cost_by_definition(C, W, (*hubs, c)), rel=1e-12)


def test_fixed_cost_greedy_and_descent_count_the_fixed_costs() -> None:
    """With fixed costs (UMAHLP data) greedy adds the hub that lowers transport plus
    fixed cost most, and the descent ends where no swap lowers that sum."""
    n, q = 10, 3
    C, W = asymmetric_instance(n, 8)
    f = np.random.default_rng(8).uniform(500, 5_000, size=n)
    data = UMAHLP.from_cost_matrix(C, W, fixed_costs=f, chi=CHI, alpha=ALPHA, delta=DELTA).data

    def total(H: tuple[int, ...]) -> float:
        return cost_by_definition(C, W, H) + float(f[list(H)].sum())

    first = min(range(n), key=lambda c: total((c,)))
    assert greedy_hubs(data, 1) == [first]
    start = max(itertools.combinations(range(n), q), key=total)
    hubs, value = local_search_hubs(data, start)
    H = tuple(hubs)
    assert value == pytest.approx(total(H), rel=1e-12)
    for o in H:
        for c in range(n):
            if c not in H:
                swapped = tuple(sorted([*(h for h in H if h != o), c]))
                assert total(swapped) >= value * (1 - 1e-12)


def test_swap_descent_ends_in_a_local_optimum_that_keeps_fixed_and_avoids_excluded_sites() -> None:
    n, p = 11, 4
    C, W = asymmetric_instance(n, 3)
    fixed, excluded = (0,), (5, 6)
    model = UMApHMP.from_cost_matrix(
        C, W, p=p, chi=CHI, alpha=ALPHA, delta=DELTA, fixed_hubs=fixed, excluded=excluded
    )
    allowed = [k for k in range(n) if k not in excluded]
    sets = [H for H in itertools.combinations(allowed, p) if 0 in H]
    worst = max(sets, key=lambda H: cost_by_definition(C, W, H))
    hubs, value = local_search_hubs(model.data, worst)
    H = tuple(hubs)
    assert 0 in H
    assert not set(H) & set(excluded)
    assert len(set(H)) == p
    assert value == pytest.approx(cost_by_definition(C, W, H), rel=1e-12)
    assert value < cost_by_definition(C, W, worst)
    for o in H:  # no swap of a free hub with an allowed non-hub improves
        if o in fixed:
            continue
        for c in allowed:
            if c in H:
                continue
            swapped = tuple(sorted([*(h for h in H if h != o), c]))
            assert cost_by_definition(C, W, swapped) >= value * (1 - 1e-12)


def _swap_local_optima(C: np.ndarray, W: np.ndarray, p: int) -> set[float]:
    """Rounded costs of the hub sets that no single swap improves (brute force)."""
    n = len(C)
    costs = {H: cost_by_definition(C, W, H) for H in itertools.combinations(range(n), p)}
    optima = set()
    for H, v in costs.items():
        swaps = (
            tuple(sorted([*(h for h in H if h != o), c])) for o in H for c in range(n) if c not in H
        )
        if all(costs[S] >= v for S in swaps):
            optima.add(round(v, 6))
    return optima


@pytest.mark.slow
@pytest.mark.parametrize("seed", [4, 5])
def test_polished_lp_points_make_the_lp_phase_incumbent_a_swap_local_optimum(seed: int) -> None:
    """From the worst hub set, after one LP round, the incumbent comes from the swap
    descent at the rounded LP point, and it is no worse than without polishing."""
    n, p = 10, 3
    C, W = asymmetric_instance(n, seed)
    data = UMApHMP.from_cost_matrix(C, W, p=p, chi=CHI, alpha=ALPHA, delta=DELTA).data
    costs = {H: cost_by_definition(C, W, H) for H in itertools.combinations(range(n), p)}
    worst = max(costs, key=lambda H: costs[H])
    optima = _swap_local_optima(C, W, p)
    runs = {
        polish: benders_multiple_allocation(
            data, start=worst, deadline=None, lp_max_iterations=1, polish_lp_points=polish
        )
        for polish in (True, False)
    }
    polished = runs[True].info["lp_phase_objective"]
    assert round(polished, 6) in optima
    assert polished <= runs[False].info["lp_phase_objective"] * (1 + 1e-12)
    truth = min(costs.values())
    for res in runs.values():  # either way the integer phase proves the optimum
        assert res.proven
        assert res.objective == pytest.approx(truth, rel=1e-9)


def test_numpy_and_compiled_neighbourhoods_agree_to_the_bit():
    """Small instances use the numpy kernels (no JIT start-up), larger ones the compiled
    ones: the switch must never change a value, so no search changes its path."""
    from hubopt.models._swap import _swap_sums, _swap_sums_numpy, _without, _without_numpy

    rng = np.random.default_rng(7)
    for trial in range(120):
        n = int(rng.integers(3, 35))
        C = rng.random((n, n)) * 1000.0
        if trial % 3 == 0:
            C = np.round(C)
        W = rng.random((n, n)) * (rng.random((n, n)) < 0.6)
        q = int(rng.integers(0, min(6, n - 1)))
        perm = rng.permutation(n)
        hubs = np.sort(perm[:q]).astype(np.int64)
        ins = perm[q:q + int(rng.integers(1, n - q + 1))].astype(np.int64)
        chi, alpha, delta = (float(rng.choice([1, 3])), float(rng.choice([0.2, 0.75, 1.0])),
                             float(rng.choice([1, 2])))
        V = _without(C, hubs, chi, alpha, delta)
        assert np.array_equal(V, _without_numpy(C, hubs, chi, alpha, delta))
        assert np.array_equal(_swap_sums(C, W, V, hubs, ins, chi, alpha, delta),
                              _swap_sums_numpy(C, W, V, hubs, ins, chi, alpha, delta))


def test_small_and_large_instances_take_the_kernels_the_switch_names():
    from hubopt.models import _swap

    small = _swap._kernels(10, 10)
    large = _swap._kernels(200, 190)
    assert small == (_swap._without_numpy, _swap._swap_sums_numpy)
    assert large == (_swap._without, _swap._swap_sums)
