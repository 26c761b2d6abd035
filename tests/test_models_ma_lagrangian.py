"""The Lagrangian relaxation of the path formulation in its multiple-allocation form
(``single_allocation_lagrangian(..., multiple_allocation=True)``), checked against brute
force over all hub sets, the LP of the formulation (SciPy's HiGHS) and published optima,
and the UMApHMP solve path that uses it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from _ap_models import ap_pmedian_model, published
from scipy.optimize import linprog

from hubopt.instances import random_euclidean
from hubopt.models import UMAHLP, UMApHMP
from hubopt.models.evaluate import evaluate
from hubopt.models.heuristics import local_search_hubs
from hubopt.models.sa_lagrangian import single_allocation_lagrangian

CHI, ALPHA, DELTA = 3.0, 0.75, 2.0


def instance(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A random Euclidean instance with a third of the flows removed (pairs without flow
    occur) and fixed costs of the order of the transport cost."""
    inst = random_euclidean(n, seed=seed)
    rng = np.random.default_rng(seed)
    W = inst.flows * (rng.uniform(size=(n, n)) < 0.7)
    return inst.costs, W, rng.uniform(20_000, 80_000, size=n)


def routing_cost(C: np.ndarray, W: np.ndarray, H: tuple[int, ...]) -> float:
    """Brute force: every OD pair on its cheapest route through one or two hubs of H."""
    h = list(H)
    route = (
        CHI * C[:, h][:, :, None, None]
        + ALPHA * C[np.ix_(h, h)][None, :, :, None]
        + DELTA * C[h, :][None, None, :, :]
    )  # [i, k, l, j]
    return float((W * route.min(axis=(1, 2))).sum())


def hub_set_costs(C, W, sizes, f=None) -> dict[tuple[int, ...], float]:
    n = len(C)
    return {
        H: routing_cost(C, W, H) + (0.0 if f is None else float(f[list(H)].sum()))
        for q in sizes
        for H in itertools.combinations(range(n), q)
    }


def transportation_lp(C: np.ndarray, W: np.ndarray, p: int) -> float:
    """LP optimum of the multiple-allocation path formulation whose constraints the
    relaxation relaxes: ``sum_l x_ijkl <= y_k``, ``sum_k x_ijkl <= y_l``, ``sum x_ij =
    1``, ``sum y = p``.  The Lagrangian dual equals it."""
    n = len(C)
    pairs = [(i, j) for i in range(n) for j in range(n) if W[i, j] > 0]
    cost = [0.0] * n
    for i, j in pairs:
        for k in range(n):
            for m in range(n):
                cost.append(W[i, j] * (CHI * C[i, k] + ALPHA * C[k, m] + DELTA * C[m, j]))
    nvar = len(cost)
    A_ub, A_eq, b_eq = [], [], []
    for q in range(len(pairs)):
        base = n + q * n * n
        row = np.zeros(nvar)
        row[base : base + n * n] = 1
        A_eq.append(row)
        b_eq.append(1)
        for k in range(n):
            first = np.zeros(nvar)
            first[base + k * n : base + (k + 1) * n] = 1
            first[k] = -1
            last = np.zeros(nvar)
            last[base + k : base + n * n : n] = 1
            last[k] = -1
            A_ub += [first, last]
    row = np.zeros(nvar)
    row[:n] = 1
    A_eq.append(row)
    b_eq.append(p)
    res = linprog(cost, A_ub=A_ub, b_ub=np.zeros(len(A_ub)), A_eq=A_eq, b_eq=b_eq, bounds=(0, 1))
    assert res.status == 0
    return float(res.fun)


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "p"), [(1, 2), (2, 3), (3, 3)])
def test_bound_never_exceeds_the_brute_force_optimum_and_sites_keep_every_cheaper_hub_set(
    seed: int, p: int
) -> None:
    C, W, _ = instance(7, seed)
    costs = hub_set_costs(C, W, [p])
    optimum = min(costs.values())
    model = UMApHMP.from_cost_matrix(C, W, p=p, chi=CHI, alpha=ALPHA, delta=DELTA)
    upper = 1.03 * optimum  # the reduction must keep every hub set that beats it
    res = single_allocation_lagrangian(
        model.data, upper=upper, time_limit=None, max_iterations=2000, multiple_allocation=True
    )
    assert 0.9 * optimum < res.bound <= optimum * (1 + 1e-9)
    for H, cost in costs.items():
        if cost < upper:
            assert set(H) <= set(res.sites), (H, cost, res.sites)


@pytest.mark.parametrize("seed", [4, 6])
def test_bound_climbs_to_the_transportation_lp_and_never_above(seed: int) -> None:
    C, W, _ = instance(5, seed)
    lp = transportation_lp(C, W, 2)
    optimum = min(hub_set_costs(C, W, [2]).values())
    model = UMApHMP.from_cost_matrix(C, W, p=2, chi=CHI, alpha=ALPHA, delta=DELTA)
    res = single_allocation_lagrangian(
        model.data, upper=optimum, time_limit=None, max_iterations=3000, multiple_allocation=True
    )
    assert lp <= optimum * (1 + 1e-9)
    assert lp * (1 - 5e-3) <= res.bound <= lp * (1 + 1e-7)


@pytest.mark.slow
@pytest.mark.parametrize(("n", "seed", "p"), [(7, 4, 2), (7, 6, 3), (7, 8, 3), (6, 5, None)])
def test_branch_and_bound_finds_and_proves_the_brute_force_optimum(
    n: int, seed: int, p: int | None
) -> None:
    """UMApHMP, and UMAHLP (``p`` None: any number of hubs, fixed costs)."""
    C, W, f = instance(n, seed)
    if p is None:
        costs = hub_set_costs(C, W, range(1, n + 1), f)
        model = UMAHLP.from_cost_matrix(C, W, fixed_costs=f, chi=CHI, alpha=ALPHA, delta=DELTA)
    else:
        costs = hub_set_costs(C, W, [p])
        model = UMApHMP.from_cost_matrix(C, W, p=p, chi=CHI, alpha=ALPHA, delta=DELTA)
    optimum = min(costs.values())
    # from an incumbent 3 % above the optimum and a root stopped after one step, so
    # that the tree does the work; its leaves cost their hub sets by brute force
    res = single_allocation_lagrangian(
        model.data,
        upper=1.03 * optimum,
        time_limit=None,
        max_iterations=1,
        node_iterations=300,
        branch=True,
        solve_hubs=lambda H: (None, costs[H]),
        multiple_allocation=True,
    )
    assert res.bound == pytest.approx(optimum, rel=1e-9)
    assert res.hubs is not None
    assert costs[res.hubs] == pytest.approx(optimum, rel=1e-9)
    assert res.nodes > 0


@pytest.mark.slow
def test_umaphmp_beyond_benders_range_on_a_short_limit_takes_the_bound(
    hub_data_dir,
) -> None:
    """Between ``benders_max_n`` and ``benders_many_hubs_max_n`` nodes, below
    ``benders_few_hubs_min_seconds`` and with fewer than
    ``ma_lagrangian_max_hub_share * n`` hubs, UMApHMP is bounded by this relaxation: on
    AP 25 it proves the published optimum, and the objective recomputed from the matrix
    is that optimum.  With more hubs or a longer limit Benders bounds it."""
    from hubopt.models.strategy import EngineOptions

    opts = EngineOptions(
        max_sets=10,
        mip_max_n=10,
        benders_max_n=20,
        benders_few_hubs_min_seconds=40.0,
        ma_lagrangian_max_hub_share=0.15,  # p < 3.75
    )
    optimum = published("UMApHMP", "AP25.3", hub_data_dir)["objective"]
    model = ap_pmedian_model(hub_data_dir, 25, 3, UMApHMP)
    sol = model.solve(time_limit=30, options=opts)
    assert sol.method == "heuristic+bound"
    objective = evaluate(model.problem, model.data, sol.hubs, sol.allocation)
    assert objective == pytest.approx(optimum, abs=0.006)
    assert sol.objective == pytest.approx(objective, rel=1e-12)
    assert sol.info["ma_lagrangian_bound"] <= optimum + 0.006
    assert sol.status.name == "OPTIMAL"
    assert sol.bound >= optimum * (1 - 1e-4)
    # a longer limit, or more hubs: Benders
    assert sol.info.keys() & {"benders_bound"} == set()
    longer = model.solve(time_limit=40, options=opts)
    assert "ma_lagrangian_bound" not in longer.info
    assert "benders_bound" in longer.info
    more = ap_pmedian_model(hub_data_dir, 25, 4, UMApHMP).solve(time_limit=30, options=opts)
    assert "ma_lagrangian_bound" not in more.info


def test_improved_subproblem_hubs_replace_a_poor_incumbent() -> None:
    """``improve`` gets the subproblem's hub sets (p hubs each, each set once); a cheaper
    set it returns becomes the incumbent that the result reports, and the bound stays
    below the brute-force optimum."""
    C, W, _ = instance(7, 2)
    costs = hub_set_costs(C, W, [3])
    optimum = min(costs.values())
    model = UMApHMP.from_cost_matrix(C, W, p=3, chi=CHI, alpha=ALPHA, delta=DELTA)
    seen: list[tuple[int, ...]] = []

    def improve(H: tuple[int, ...]) -> tuple[tuple[int, ...], float]:
        seen.append(H)
        better, cost = local_search_hubs(model.data, H)
        return tuple(sorted(better)), cost

    res = single_allocation_lagrangian(
        model.data,
        upper=1.5 * optimum,
        time_limit=None,
        max_iterations=400,
        multiple_allocation=True,
        improve=improve,
    )
    assert seen
    assert all(len(H) == 3 for H in seen)
    assert len(set(seen)) == len(seen)
    assert res.hubs is not None
    assert res.allocation is None
    assert costs[res.hubs] < 1.5 * optimum
    assert res.bound <= optimum * (1 + 1e-9)
