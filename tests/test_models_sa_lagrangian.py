"""The single-allocation Lagrangian bound and its site reduction, against independent truths.

Truths: the single-allocation optimum of every hub set by brute force over all
allocations (plain loops, no engine code), the published optima of the AP instances,
and the published multiple-allocation optimum (which a single-allocation bound may
exceed, and a multiple-allocation bound cannot).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
from typing import Any

import numba
import numpy as np
import pytest
from _ap_models import ap_fixed_cost_model, ap_pmedian_model, published
from oracles import ALPHA, CHI, DELTA, gappy_instance
from scipy.optimize import linprog

from hubopt.models import CSAHLP, USAHLP, USApHMP
from hubopt.models._sa_relaxation import _opening_rise, _shutting_rise
from hubopt.models.bounds import lagrangian_hubs
from hubopt.models.sa_lagrangian import single_allocation_lagrangian
from hubopt.models.strategy import EngineOptions

# small instances down the path ``auto`` takes beyond enumeration and MIP
LARGE = EngineOptions(max_sets=0, mip_max_n=0)


def best_allocation(C, W, H, f=None) -> tuple[np.ndarray, float]:
    """Brute force: the cheapest single allocation to exactly the hubs ``H``."""
    n = len(C)
    others = [i for i in range(n) if i not in H]
    best: tuple[np.ndarray, float] = (np.arange(n), math.inf)
    for choice in itertools.product(H, repeat=len(others)):
        a = np.arange(n)
        a[others] = choice
        total = sum(
            W[i, j] * (CHI * C[i, a[i]] + ALPHA * C[a[i], a[j]] + DELTA * C[a[j], j])
            for i in range(n)
            for j in range(n)
        )
        total += 0.0 if f is None else sum(f[k] for k in H)
        if total < best[1]:
            best = (a, total)
    return best


def record_relaxation_argument(monkeypatch: pytest.MonkeyPatch, name: str) -> list[Any]:
    """Wrap the relaxation that the solve path calls: the returned list receives the
    value of keyword argument ``name`` of every call, and the real function runs."""
    from hubopt.models import _bounding

    seen: list[Any] = []

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs[name])
        return single_allocation_lagrangian(*args, **kwargs)

    monkeypatch.setattr(_bounding, "single_allocation_lagrangian", recording)
    return seen


def hub_set_costs(C, W, sizes, f=None) -> dict[tuple[int, ...], float]:
    n = len(C)
    return {
        H: best_allocation(C, W, H, f)[1]
        for q in sizes
        for H in itertools.combinations(range(n), q)
    }


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "p"), [(1, 2), (2, 3), (3, 3)])
def test_bound_never_exceeds_the_brute_force_optimum_and_sites_keep_every_cheaper_hub_set(
    seed: int, p: int
) -> None:
    C, W, _ = gappy_instance(7, seed)
    costs = hub_set_costs(C, W, [p])
    optimum = min(costs.values())
    model = USApHMP.from_cost_matrix(C, W, p=p, chi=CHI, alpha=ALPHA, delta=DELTA)
    # an incumbent 3 % above the optimum: the reduction must keep every hub set that
    # beats it, and the bound must stay below the optimum whatever the target
    upper = 1.03 * optimum
    res = single_allocation_lagrangian(
        model.data, upper=upper, time_limit=None, max_iterations=2000
    )
    assert res.bound <= optimum * (1 + 1e-9)
    assert res.bound > 0.9 * optimum  # and it is a real bound, not a trivial one
    for H, cost in costs.items():
        if cost < upper:
            assert set(H) <= set(res.sites), (H, cost, res.sites)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("n", "seed", "p", "share"),
    [(7, 1, 2, 1.03), (7, 3, 3, 1.03), (7, 4, 2, 1.01), (6, 5, None, 1.05)],
)
def test_sites_proved_open_are_in_every_hub_set_cheaper_than_the_incumbent(
    n: int, seed: int, p: int | None, share: float
) -> None:
    """USApHMP, and USAHLP (``p`` None: any number of hubs, fixed costs)."""
    C, W, f = gappy_instance(n, seed)
    if p is None:
        costs = hub_set_costs(C, W, range(1, n + 1), f)
        model = USAHLP.from_cost_matrix(C, W, fixed_costs=f, chi=CHI, alpha=ALPHA, delta=DELTA)
    else:
        costs = hub_set_costs(C, W, [p])
        model = USApHMP.from_cost_matrix(C, W, p=p, chi=CHI, alpha=ALPHA, delta=DELTA)
    upper = share * min(costs.values())
    res = single_allocation_lagrangian(
        model.data, upper=upper, time_limit=None, max_iterations=2000
    )
    assert res.opened  # the test fixes some site open on each of these instances
    assert set(res.opened) <= set(res.sites)
    for H, cost in costs.items():
        if cost < upper:
            assert set(res.opened) <= set(H), (H, cost, res.opened)


def path_formulation_lp(C, W, p=None, f=None) -> float:
    """LP optimum of the path formulation (module docstring of ``sa_lagrangian``), with
    SciPy's HiGHS: the Lagrangian dual equals it, so no multiplier may exceed it."""
    n = len(C)
    pairs = [(i, j) for i in range(n) for j in range(n) if W[i, j] > 0]
    nz = n * n
    cost = [0.0] * nz
    if f is not None:
        for k in range(n):
            cost[k * n + k] = f[k]
    for i, j in pairs:
        for k in range(n):
            for m in range(n):
                cost.append(W[i, j] * (CHI * C[i, k] + ALPHA * C[k, m] + DELTA * C[m, j]))
    nvar = len(cost)
    A_eq, b_eq = [], []
    for q, (i, j) in enumerate(pairs):
        base = nz + q * n * n
        for k in range(n):  # (A) and (B)
            row = np.zeros(nvar)
            row[base + k * n : base + (k + 1) * n] = 1
            row[i * n + k] = -1
            A_eq.append(row)
            b_eq.append(0)
            row = np.zeros(nvar)
            row[base + k : base + n * n : n] = 1
            row[j * n + k] = -1
            A_eq.append(row)
            b_eq.append(0)
    for i in range(n):
        row = np.zeros(nvar)
        row[i * n : (i + 1) * n] = 1
        A_eq.append(row)
        b_eq.append(1)
    if p is not None:
        row = np.zeros(nvar)
        row[[k * n + k for k in range(n)]] = 1
        A_eq.append(row)
        b_eq.append(p)
    A_ub = []
    for i in range(n):
        for k in range(n):
            if i != k:
                row = np.zeros(nvar)
                row[i * n + k] = 1
                row[k * n + k] = -1
                A_ub.append(row)
    res = linprog(cost, A_ub=A_ub, b_ub=np.zeros(len(A_ub)), A_eq=A_eq, b_eq=b_eq, bounds=(0, 1))
    assert res.status == 0
    return float(res.fun)


@pytest.mark.parametrize("flow_scaling", [0.0, 1.0])  # plain and flow-scaled metric
@pytest.mark.parametrize("seed", [4, 6])
def test_bound_climbs_to_the_path_formulation_lp_and_never_above(
    seed: int, flow_scaling: float
) -> None:
    C, W, _ = gappy_instance(5, seed)
    lp = path_formulation_lp(C, W, p=2)
    optimum = min(hub_set_costs(C, W, [2]).values())
    model = USApHMP.from_cost_matrix(C, W, p=2, chi=CHI, alpha=ALPHA, delta=DELTA)
    res = single_allocation_lagrangian(
        model.data,
        upper=optimum,
        time_limit=None,
        max_iterations=3000,
        flow_scaling=flow_scaling,
    )
    assert lp <= optimum * (1 + 1e-9)
    assert lp * (1 - 5e-3) <= res.bound <= lp * (1 + 1e-7)


def test_fixed_cost_bound_never_exceeds_the_brute_force_optimum() -> None:
    C, W, f = gappy_instance(6, 5)
    costs = hub_set_costs(C, W, range(1, 7), f)
    optimum = min(costs.values())
    model = USAHLP.from_cost_matrix(C, W, fixed_costs=f, chi=CHI, alpha=ALPHA, delta=DELTA)
    upper = 1.05 * optimum
    res = single_allocation_lagrangian(
        model.data, upper=upper, time_limit=None, max_iterations=2000
    )
    assert 0.8 * optimum < res.bound <= optimum * (1 + 1e-9)
    for H, cost in costs.items():
        if cost < upper:
            assert set(H) <= set(res.sites), (H, cost, res.sites)


def capacitated_instance(seed: int):
    """A 6-node CSAHLP instance whose hubs hold 40 % of the flow each: ``C, W, f``, the
    capacities and the model."""
    C, W, f = gappy_instance(6, seed)
    supply = W.sum(axis=1)
    capacity = np.maximum(np.full(6, 0.4 * supply.sum()), supply)
    model = CSAHLP.from_cost_matrix(
        C, W, fixed_costs=f, capacities=capacity, chi=CHI, alpha=ALPHA, delta=DELTA
    )
    return C, W, f, capacity, model


def capacitated_costs(C, W, f, capacity) -> dict[tuple[int, ...], float]:
    """Brute force: every hub set's cheapest single allocation within the capacities
    (a hub's load is the origin flow of the nodes it serves, its own included)."""
    n = len(C)
    supply = W.sum(axis=1)
    out: dict[tuple[int, ...], float] = {}
    for q in range(1, n + 1):
        for H in itertools.combinations(range(n), q):
            others = [i for i in range(n) if i not in H]
            for choice in itertools.product(H, repeat=len(others)):
                a = np.arange(n)
                a[others] = choice
                if (np.bincount(a, weights=supply, minlength=n) > capacity).any():
                    continue
                total = sum(
                    W[i, j] * (CHI * C[i, a[i]] + ALPHA * C[a[i], a[j]] + DELTA * C[a[j], j])
                    for i in range(n)
                    for j in range(n)
                ) + sum(f[k] for k in H)
                out[H] = min(out.get(H, math.inf), total)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 4])
def test_capacitated_bound_stays_below_the_brute_force_csahlp_optimum_and_above_uncapacitated(
    seed: int,
) -> None:
    """With ``capacitated`` each open hub's allocations are a knapsack: the bound stays
    valid for CSAHLP and climbs above the uncapacitated optimum, where the relaxation
    without capacities stops."""
    C, W, f, capacity, model = capacitated_instance(seed)
    costs = capacitated_costs(C, W, f, capacity)
    optimum = min(costs.values())
    uncapacitated = min(hub_set_costs(C, W, range(1, 7), f).values())
    assert optimum > 1.25 * uncapacitated  # the capacities bind
    upper = 1.05 * optimum
    res = single_allocation_lagrangian(
        model.data, upper=upper, time_limit=None, max_iterations=3000, capacitated=True
    )
    plain = single_allocation_lagrangian(
        model.data, upper=upper, time_limit=None, max_iterations=3000
    )
    assert plain.bound <= uncapacitated * (1 + 1e-9)
    assert uncapacitated * 1.1 < res.bound <= optimum * (1 + 1e-9)
    for H, cost in costs.items():
        if cost < upper:
            assert set(H) <= set(res.sites), (H, cost, res.sites)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 3])
def test_auto_beyond_enumeration_proves_the_brute_force_csahlp_optimum(
    seed: int,
) -> None:
    """On the large-instance path CSAHLP gets the capacitated bound and its branch and
    bound, whose leaves solve the hub set's allocation MIP within the capacities."""
    from hubopt.models import Status

    C, W, f, capacity, model = capacitated_instance(seed)
    optimum = min(capacitated_costs(C, W, f, capacity).values())
    sol = model.solve(options=LARGE)  # no limit: the proof must not depend on the load
    assert sol.method == "heuristic+benders"
    assert sol.objective == pytest.approx(optimum, rel=1e-9)
    assert model.objective(sol) == pytest.approx(sol.objective, rel=1e-12)
    assert sol.status is Status.OPTIMAL
    assert sol.bound <= optimum * (1 + 1e-9)


def test_allocation_mip_keeps_within_capacities_and_reports_a_hub_set_that_cannot() -> None:
    from hubopt.models import Problem, SolveParameters
    from hubopt.models._mip import solve_allocation_mip
    from hubopt.models.evaluate import evaluate

    C, W, f, capacity, model = capacitated_instance(2)
    costs = capacitated_costs(C, W, f, capacity)
    params = SolveParameters()
    sets = [(0, 3), (1, 2, 5), (0, 2, 4), (0, 1, 2, 3)]  # two hubs hold 80 % of the flow
    assert any(H in costs for H in sets)
    assert any(H not in costs for H in sets)
    for H in sets:
        res = solve_allocation_mip(model.data, H, params, time_limit=None, capacities=capacity)
        if H in costs:
            assert res.proven_optimal
            assert res.allocation is not None
            cost = evaluate(Problem.CSAHLP, model.data, H, res.allocation)
            assert cost == pytest.approx(costs[H], rel=1e-9)
        else:
            assert res.infeasible
            assert res.allocation is None


@pytest.mark.slow
def test_bound_on_ap40_p5_reaches_the_published_optimum_above_the_multiple_allocation_one(
    hub_data_dir,
) -> None:
    sa = published("USApHMP", "AP40.5", hub_data_dir)
    ma = published("UMApHMP", "AP40.5", hub_data_dir)
    model = ap_pmedian_model(hub_data_dir, 40, 5)
    res = single_allocation_lagrangian(
        model.data, upper=sa["objective"], time_limit=None, max_iterations=20_000
    )
    # the multiple-allocation optimum is 2.9 % lower: no multiple-allocation bound gets here
    assert res.bound > ma["objective"]
    assert res.bound >= sa["objective"] * (1 - 1e-4)
    assert {h - 1 for h in sa["hubs"]} <= set(res.sites)


@pytest.mark.slow
def test_facility_location_path_bounds_usaphmp_above_the_multiple_allocation_optimum(
    hub_data_dir,
) -> None:
    """Where ``auto`` takes neither the search, the MIP nor Benders (AP 200 with few hubs
    and a short limit), the single-allocation bound still comes first."""
    opts = EngineOptions(max_sets=10, mip_max_n=10, benders_max_n=10, benders_many_hubs_max_n=10)
    sa = published("USApHMP", "AP25.3", hub_data_dir)
    ma = published("UMApHMP", "AP25.3", hub_data_dir)
    model = ap_pmedian_model(hub_data_dir, 25, 3)
    sol = model.solve(time_limit=30, options=opts)
    assert sol.method == "heuristic+bound"
    assert sol.objective == pytest.approx(sa["objective"], abs=0.006)
    assert ma["objective"] < sol.bound <= sa["objective"] + 0.006
    assert sol.info["sa_lagrangian_bound"] == pytest.approx(sol.bound)


@pytest.mark.slow
def test_beyond_its_size_limit_the_bound_runs_for_many_hubs_and_long_limits_only(
    hub_data_dir,
) -> None:
    """Past ``sa_lagrangian_max_n``, up to ``sa_lagrangian_many_hubs_max_n`` nodes, the
    single-allocation bound runs for USApHMP with a limit of at least
    ``sa_lagrangian_min_seconds``: with any number of hubs below
    ``sa_screen_min_seconds``, from there on with at least
    ``sa_lagrangian_min_hub_share * n`` hubs; there it proves the published optimum
    (above the multiple-allocation one).  With fewer hubs and a long limit it runs only
    on the sites that Benders' screening leaves.  The fixed-cost problems get it up to
    ``sa_lagrangian_many_hubs_max_n`` whatever the limit.  Elsewhere the bound comes
    from multiple allocation."""
    opts = EngineOptions(
        max_sets=10,
        mip_max_n=10,
        sa_lagrangian_max_n=10,
        sa_lagrangian_min_hub_share=0.1,
        sa_lagrangian_min_seconds=20.0,
        sa_screen_min_seconds=40.0,
    )

    def model(p: int) -> USApHMP:
        return ap_pmedian_model(hub_data_dir, 25, p)

    sa = published("USApHMP", "AP25.3", hub_data_dir)
    ma = published("UMApHMP", "AP25.3", hub_data_dir)
    many = model(3)  # 3 >= 0.1 * 25
    sol = many.solve(time_limit=40, options=opts)
    assert sol.method == "heuristic+lagrangian"
    assert sol.objective == pytest.approx(sa["objective"], abs=0.006)
    assert ma["objective"] < sol.info["sa_lagrangian_bound"] <= sa["objective"] + 0.006
    assert sol.status.name == "OPTIMAL"
    short = many.solve(time_limit=10, options=opts)  # below the minimum limit
    assert "sa_lagrangian_bound" not in short.info
    assert short.bound <= ma["objective"] + 0.006
    few_short = model(2).solve(time_limit=30, options=opts)  # any p below the screening's limit
    sa2 = published("USApHMP", "AP25.2", hub_data_dir)
    ma2 = published("UMApHMP", "AP25.2", hub_data_dir)
    assert ma2["objective"] < few_short.info["sa_lagrangian_bound"] <= sa2["objective"] + 0.006
    assert few_short.objective == pytest.approx(sa2["objective"], abs=0.006)
    few = model(2).solve(time_limit=40, options=opts)  # 2 < 0.1 * 25
    # with few hubs it runs only on the sites that Benders' screening leaves, if few
    assert few.info["sa_screened_sites"] < 25
    if few.info["sa_screened_sites"] > opts.sa_screen_max_share * 25:
        assert "sa_lagrangian_bound" not in few.info
    else:
        assert few.info["sa_lagrangian_bound"] <= few.objective + 1e-6
    fixed = ap_fixed_cost_model(hub_data_dir, 25, "T", USAHLP)
    usahlp = published("USAHLP", "AP25T", hub_data_dir)
    sol_fixed = fixed.solve(time_limit=30, options=opts)
    assert sol_fixed.info["sa_lagrangian_bound"] <= usahlp["objective"] + 0.006
    assert sol_fixed.objective == pytest.approx(usahlp["objective"], abs=0.006)
    opts = dataclasses.replace(opts, sa_lagrangian_many_hubs_max_n=24)
    assert "sa_lagrangian_bound" not in many.solve(time_limit=40, options=opts).info
    assert "sa_lagrangian_bound" not in fixed.solve(time_limit=30, options=opts).info


def tree_from_one_step(
    model, optimum: float, solve_hubs, root_iterations: int = 1, **kwargs: Any
) -> Any:
    """The branch and bound from an incumbent 3 % above the optimum and a root stopped
    after one step (or ``root_iterations``), so that the tree does the work."""
    return single_allocation_lagrangian(
        model.data,
        upper=1.03 * optimum,
        time_limit=None,
        max_iterations=root_iterations,
        node_iterations=300,
        branch=True,
        solve_hubs=solve_hubs,
        **kwargs,
    )


@pytest.mark.slow
@pytest.mark.parametrize("stall_window", [0, 10, 200])  # never, eagerly, by default
@pytest.mark.parametrize(("seed", "p"), [(4, 2), (6, 3), (8, 3)])
def test_branch_and_bound_finds_and_proves_the_brute_force_optimum(
    seed: int, p: int, stall_window: int
) -> None:
    C, W, _ = gappy_instance(7, seed)
    costs = hub_set_costs(C, W, [p])
    optimum = min(costs.values())
    model = USApHMP.from_cost_matrix(C, W, p=p, chi=CHI, alpha=ALPHA, delta=DELTA)
    res = tree_from_one_step(
        model, optimum, lambda H: best_allocation(C, W, H), stall_window=stall_window
    )
    assert res.bound == pytest.approx(optimum, rel=1e-9)
    assert res.hubs is not None
    assert res.allocation is not None
    a = res.allocation
    cost = sum(
        W[i, j] * (CHI * C[i, a[i]] + ALPHA * C[a[i], a[j]] + DELTA * C[a[j], j])
        for i in range(7)
        for j in range(7)
    )
    assert cost == pytest.approx(optimum, rel=1e-9)
    assert set(a) == set(res.hubs)
    assert res.nodes > 0


def test_a_node_that_is_one_hub_set_goes_to_the_exact_solve_without_steps(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With p = n - 1, shutting a site leaves one hub set: that child takes no step, its
    set is solved exactly, and the tree still proves the brute-force optimum."""
    C, W, _ = gappy_instance(6, 3)
    costs = hub_set_costs(C, W, [5])
    optimum = min(costs.values())
    model = USApHMP.from_cost_matrix(C, W, p=5, chi=CHI, alpha=ALPHA, delta=DELTA)
    solved: list[tuple[int, ...]] = []

    def solve(H: tuple[int, ...]) -> tuple[np.ndarray, float]:
        solved.append(H)
        return best_allocation(C, W, H)

    with caplog.at_level(logging.DEBUG, logger="hubopt.models.sa_lagrangian"):
        res = tree_from_one_step(model, optimum, solve)
    assert res.bound == pytest.approx(optimum, rel=1e-9)
    shut = [r.args for r in caplog.records if r.msg.startswith("SA node") and r.args[2] == "shut"]
    assert shut  # (the root branched)
    assert all(args[5] == 5 and args[6] == 0 for args in shut)  # one hub set, no step
    assert solved
    assert all(costs[H] >= optimum * (1 - 1e-9) for H in solved)


@pytest.mark.slow
def test_branch_and_bound_with_fixed_costs_proves_the_brute_force_optimum() -> None:
    C, W, f = gappy_instance(6, 5)
    costs = hub_set_costs(C, W, range(1, 7), f)
    optimum = min(costs.values())
    model = USAHLP.from_cost_matrix(C, W, fixed_costs=f, chi=CHI, alpha=ALPHA, delta=DELTA)
    best = min(costs, key=costs.__getitem__)
    start = 1.05 * optimum
    res = single_allocation_lagrangian(
        model.data,
        upper=start,
        time_limit=None,
        max_iterations=300,
        node_iterations=300,
        branch=True,
        solve_hubs=lambda H: best_allocation(C, W, H, f),
    )
    assert res.bound == pytest.approx(optimum, rel=1e-9)
    assert res.hubs is not None
    assert costs[res.hubs] == pytest.approx(costs[best], rel=1e-9)


def test_branch_and_bound_stopped_by_its_deadline_keeps_a_valid_bound() -> None:
    C, W, _ = gappy_instance(7, 9)
    optimum = min(hub_set_costs(C, W, [3]).values())
    model = USApHMP.from_cost_matrix(C, W, p=3, chi=CHI, alpha=ALPHA, delta=DELTA)
    res = single_allocation_lagrangian(
        model.data, upper=1.03 * optimum, time_limit=0.05, branch=True
    )
    assert 0 <= res.bound <= optimum * (1 + 1e-9)


@pytest.mark.slow
def test_branch_and_bound_within_a_memory_budget_keeps_a_valid_bound() -> None:
    """Children beyond the memory budget stay unexplored; their bounds still count, so
    the bound stays valid (and below what the unlimited tree proves)."""
    C, W, _ = gappy_instance(7, 10)  # the unlimited tree solves 6 nodes
    optimum = min(hub_set_costs(C, W, [3]).values())
    model = USApHMP.from_cost_matrix(C, W, p=3, chi=CHI, alpha=ALPHA, delta=DELTA)
    kwargs = {
        "upper": 1.03 * optimum,
        "time_limit": None,
        "max_iterations": 1,
        "node_iterations": 300,
        "branch": True,
        "solve_hubs": lambda H: best_allocation(C, W, H),
        # the start and metric for which this tree has 6 nodes
        "start_share": 0.25,
        "flow_scaling": 0.0,
    }
    full = single_allocation_lagrangian(model.data, **kwargs)
    tight = single_allocation_lagrangian(model.data, memory_budget=0.0, **kwargs)
    assert full.bound == pytest.approx(optimum, rel=1e-9)
    assert 0 <= tight.bound <= optimum * (1 + 1e-9)
    assert tight.nodes <= 2  # only the root's children were solved
    assert tight.nodes < full.nodes


@pytest.mark.slow
@pytest.mark.parametrize("factors", [(CHI, ALPHA, DELTA), (1.0, 1.0, 1.0), (1.0, 2.0, 1.0)])
@pytest.mark.parametrize(
    ("n", "sites", "seed", "noise"),
    [
        (30, 30, 0, 0.0),
        (30, 24, 1, 0.01),
        (40, 40, 5, 0.003),
        (60, 60, 6, 0.003),
        (25, 20, 2, 0.3),
        (10, 2, 3, 0.01),
        (8, 1, 4, 0.01),
    ],
)
@pytest.mark.parametrize("metric", [True, False])
def test_route_pricing_finds_every_pairs_cheapest_route_under_the_multipliers(
    n: int,
    sites: int,
    seed: int,
    noise: float,
    factors: tuple[float, float, float],
    metric: bool,
) -> None:
    """The pruned route pricing returns, for every OD pair with flow, a route as cheap as
    the brute-force minimum over all first and last hubs of
    ``W (chi C_ik + alpha C_kl + delta C_lj) - u_ijk - v_ijl``, whatever last
    iteration's (possibly stale) routes it is given; pairs without flow get -1.  A dear
    inter-hub leg (``alpha = 2``) makes the best last hub often one of the dearest to
    reach the destination from, so the pricing's bound on the other last hubs matters.
    Costs that break the triangle inequality (``metric`` False: Euclidean ones with
    random detours and short cuts) get a slack that keeps its test valid.  With some
    allocations fixed out (every node keeps one site), the routes use only the sites
    left to their origin and destination."""
    from hubopt.models._sa_kernels import _by_last_hub, _routes, _triangle_slack
    from hubopt.models._sa_pairs import pairs_of

    C, W, _ = gappy_instance(n, seed)
    rng = np.random.default_rng(seed)
    if not metric:
        C = C * rng.choice([0.2, 1.0, 3.0], size=C.shape)
    S = np.sort(rng.choice(n, size=sites, replace=False))
    scale = float(W.max() * C.max())
    u = rng.normal(0.0, noise * scale, size=(n, n, sites))
    v = rng.normal(0.0, noise * scale, size=(n, n, sites))
    # brute force over all (k, l): a[i, j, k] + alpha W C[S_k, S_l] + b[i, j, l]
    chi, alpha, delta = factors
    a = chi * W[:, :, None] * C[:, S][:, None, :] - u
    b = delta * W[:, :, None] * C[S, :].T[None, :, :] - v
    between = np.ascontiguousarray(C[np.ix_(S, S)])
    slack = _triangle_slack(between)
    assert slack <= 1e-9 * C.max() if metric or sites <= 2 else slack > 0.1 * C.max()
    # metric costs order the last hubs by the triangle bound, the others by their own cost
    off = between + np.diag(np.full(sites, math.inf))
    near = off.min(axis=1) if sites > 1 else np.zeros(1)
    assert _by_last_hub(near, slack) == (not metric and sites > 2)
    allow = rng.uniform(size=(n, sites)) < 0.6
    allow[np.arange(n), rng.integers(sites, size=n)] = True
    pairs = pairs_of(W)
    flow = W > 0
    ii, jj = np.nonzero(flow)
    assert (pairs.orig == ii).all()
    assert (pairs.dest == jj).all()
    assert flow.sum() < n * n  # (gappy: the pairs without flow have no row)
    cases = [
        (stale, mask)
        for stale in (
            np.zeros(pairs.size, dtype=np.int64),
            rng.integers(-1, sites + 3, size=pairs.size),
        )
        for mask in (np.ones((n, sites), dtype=bool), allow)
    ]
    for stale, mask in cases:
        a_in = np.where(mask[:, None, :], a, math.inf)
        b_in = np.where(mask[None, :, :], b, math.inf)
        route = (
            a_in[:, :, :, None]
            + alpha * W[:, :, None, None] * C[np.ix_(S, S)]
            + b_in[:, :, None, :]
        )
        truth = route.reshape(n, n, -1).min(axis=2)
        kpos = stale.copy()
        lpos = stale[::-1].copy()
        total = _routes(
            np.ascontiguousarray(C[:, S]),
            np.ascontiguousarray(C[S, :].T),
            between,
            pairs.out_start,
            pairs.dest,
            pairs.flow,
            chi,
            alpha,
            delta,
            np.ascontiguousarray(u[ii, jj]),
            np.ascontiguousarray(v[ii, jj]),
            kpos,
            lpos,
            slack,
            np.where(mask, 0.0, math.inf),
        )
        assert total == pytest.approx(truth[flow].sum(), rel=1e-12, abs=1e-9 * scale)
        chosen = route[ii, jj, kpos, lpos]
        np.testing.assert_allclose(chosen, truth[flow], rtol=1e-12, atol=1e-9 * scale)


@pytest.mark.slow
def test_the_memory_budget_of_the_solve_parameters_reaches_the_branch_and_bound(
    hub_data_dir, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``SolveParameters.memory_budget`` is the budget the relaxation's branch and
    bound gets (recorded on the way to the real function), the solve still proves the
    published AP 25 p = 3 optimum, and a negative budget is a specification error."""
    from hubopt._errors import ModelSpecificationError
    from hubopt.models import SolveParameters

    seen = record_relaxation_argument(monkeypatch, "memory_budget")
    model = ap_pmedian_model(hub_data_dir, 25, 3)
    sol = model.solve(SolveParameters(time_limit=60, memory_budget=1e8), options=LARGE)
    assert seen == [1e8]
    assert sol.status.name == "OPTIMAL"
    optimum = published("USApHMP", "AP25.3", hub_data_dir)["objective"]
    assert sol.objective == pytest.approx(optimum, abs=0.006)
    with pytest.raises(ModelSpecificationError, match="memory_budget"):
        SolveParameters(memory_budget=-1.0)


def _capacitated(n: int, seed: int) -> tuple[CSAHLP, np.ndarray, np.ndarray, np.ndarray]:
    """A CSAHLP instance whose capacities bind: each hub can serve 40-70 % of the flow."""
    C, W, f = gappy_instance(n, seed)
    rng = np.random.default_rng(seed + 100)
    cap = W.sum() * rng.uniform(0.4, 0.7, size=n)
    model = CSAHLP.from_cost_matrix(
        C, W, fixed_costs=f, capacities=cap, chi=CHI, alpha=ALPHA, delta=DELTA
    )
    return model, C, W, cap


def _cost(model: CSAHLP, hubs: tuple[int, ...], alloc: np.ndarray) -> float:
    from hubopt.models.evaluate import evaluate

    return evaluate(model.problem, model.data, hubs, alloc)


def _best_within_capacity(C, W, H, cap) -> tuple[np.ndarray | None, float]:
    """Brute force: the cheapest allocation to the hubs ``H`` within the capacities
    (origin flow; transport cost only)."""
    n = len(C)
    O = W.sum(axis=1)
    others = [i for i in range(n) if i not in H]
    best: tuple[np.ndarray | None, float] = (None, math.inf)
    for choice in itertools.product(H, repeat=len(others)):
        a = np.arange(n)
        a[others] = choice
        if np.any(np.bincount(a, weights=O, minlength=n) > cap * (1 + 1e-9)):
            continue
        total = sum(
            W[i, j] * (CHI * C[i, a[i]] + ALPHA * C[a[i], a[j]] + DELTA * C[a[j], j])
            for i in range(n)
            for j in range(n)
        )
        if total < best[1]:
            best = (a, total)
    return best


@pytest.mark.parametrize(("n", "seed", "hubs"), [(9, 3, (1, 4, 7)), (8, 7, (0, 3, 6))])
def test_polishing_gives_the_brute_force_allocation_within_the_capacities(
    n: int, seed: int, hubs: tuple[int, ...]
) -> None:
    """From the dearest allocation that keeps within the capacities, the polish (the
    allocation MIP) returns the cheapest one to the same hubs (brute force)."""
    from hubopt.models import SolveParameters
    from hubopt.models._local import polished

    model, C, W, cap = _capacitated(n, seed)
    O = W.sum(axis=1)
    others = [i for i in range(n) if i not in hubs]
    feasible = []
    for choice in itertools.product(hubs, repeat=len(others)):
        a = np.arange(n)
        a[others] = choice
        if np.all(np.bincount(a, weights=O, minlength=n) <= cap * (1 + 1e-9)):
            feasible.append(a)
    assert len(feasible) > 1
    worst = max(feasible, key=lambda a: _cost(model, hubs, a))
    best, cost = _best_within_capacity(C, W, hubs, cap)
    assert best is not None
    got_hubs, got = polished(
        model.problem, model.data, SolveParameters(), EngineOptions(), None, hubs, worst
    )
    assert got_hubs == hubs
    assert np.all(np.bincount(got, weights=O, minlength=n) <= cap * (1 + 1e-9))
    fixed = float(sum(model.data.fixed_costs[k] for k in hubs))
    assert _cost(model, hubs, got) == pytest.approx(cost + fixed, rel=1e-9)
    assert _cost(model, hubs, got) < _cost(model, hubs, worst)


@pytest.mark.slow
def test_the_capacitated_heuristic_keeps_the_best_of_its_restarts() -> None:
    """With time for restarts, CSAHLP's heuristic returns a solution within the
    capacities that costs no more than the GVNS from any of the seeds it tried (each
    run here on its own); with a short limit it is the GVNS from the solve's seed."""
    from hubopt.models import SolveParameters
    from hubopt.models._local import feasible_heuristic
    from hubopt.models.gvns import gvns_single_allocation_fixed_cost

    opts = EngineOptions(csahlp_restarts=3)
    model, _, W, cap = _capacitated(30, 5)
    params = SolveParameters()
    plan = model.plan(params, opts)
    hubs, alloc = feasible_heuristic(model.problem, model.data, params, opts, plan, None, 600.0)
    O = W.sum(axis=1)
    assert np.all(np.bincount(alloc, weights=O, minlength=30) <= cap * (1 + 1e-9))
    cost = _cost(model, hubs, alloc)
    for seed in range(4):
        _, _, value = gvns_single_allocation_fixed_cost(model.data, seed=seed, capacities=cap)
        assert cost <= value * (1 + 1e-9)
    # below ``csahlp_improve_min_seconds`` it is the GVNS from the solve's seed alone
    short = SolveParameters(time_limit=60, seed=2)
    plan = model.plan(short, opts)
    got_hubs, got_alloc = feasible_heuristic(
        model.problem, model.data, short, opts, plan, None, 600.0
    )
    plain_hubs, plain_alloc, _ = gvns_single_allocation_fixed_cost(
        model.data, seed=2, capacities=cap
    )
    assert got_hubs == plain_hubs
    assert np.array_equal(got_alloc, plain_alloc)


@pytest.mark.slow
def test_p_hub_medians_and_fixed_cost_problems_start_the_relaxation_from_their_own_shares(
    hub_data_dir, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The solve path passes ``sa_pmedian_start_share`` to the relaxation of a p-hub
    median and ``sa_fixed_cost_start_share`` to that of a fixed-cost problem; both
    still prove the published AP 25 optima."""
    opts = EngineOptions(max_sets=10, mip_max_n=10)
    shares = record_relaxation_argument(monkeypatch, "start_share")
    median = ap_pmedian_model(hub_data_dir, 25, 3)
    sol = median.solve(time_limit=60, options=opts)
    assert shares
    assert set(shares) == {opts.sa_pmedian_start_share}
    assert sol.objective == pytest.approx(
        published("USApHMP", "AP25.3", hub_data_dir)["objective"], abs=0.006
    )
    assert sol.status.name == "OPTIMAL"
    shares.clear()
    fixed = ap_fixed_cost_model(hub_data_dir, 25, "T", USAHLP)
    sol_fixed = fixed.solve(time_limit=60, options=opts)
    assert shares
    assert set(shares) == {opts.sa_fixed_cost_start_share}
    assert sol_fixed.objective == pytest.approx(
        published("USAHLP", "AP25T", hub_data_dir)["objective"], abs=0.006
    )
    assert sol_fixed.bound <= sol_fixed.objective + 1e-6


@pytest.mark.slow
def test_long_limits_give_the_relaxation_a_longer_patience_floor(
    hub_data_dir, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below ``sa_long_limit_seconds`` the solve passes ``sa_min_patience`` as the
    relaxation's patience floor, from there on (and without a limit)
    ``sa_long_min_patience`` to the p-hub medians; the fixed-cost problems keep
    ``sa_min_patience``.  Either way the published optimum is proven."""
    from hubopt.models import SolveParameters

    opts = EngineOptions(max_sets=10, mip_max_n=10, sa_long_limit_seconds=40.0)
    floors = record_relaxation_argument(monkeypatch, "min_patience")
    model = ap_pmedian_model(hub_data_dir, 25, 3)
    optimum = published("USApHMP", "AP25.3", hub_data_dir)["objective"]
    short, long = opts.sa_min_patience, opts.sa_long_min_patience
    for limit, floor in ((30.0, short), (40.0, long), (None, long)):
        floors.clear()
        sol = model.solve(SolveParameters(time_limit=limit), options=opts)
        assert floors
        assert set(floors) == {floor}
        assert sol.status.name == "OPTIMAL"
        assert sol.objective == pytest.approx(optimum, abs=0.006)
    assert short < long
    floors.clear()
    fixed = ap_fixed_cost_model(hub_data_dir, 25, "T", USAHLP).solve(time_limit=40, options=opts)
    assert set(floors) == {short}
    assert fixed.objective == pytest.approx(
        published("USAHLP", "AP25T", hub_data_dir)["objective"], abs=0.006
    )


@pytest.mark.slow
def test_the_solve_passes_the_models_halvings_to_the_relaxation(
    hub_data_dir, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``EngineOptions.sa_halvings`` reaches the relaxation (the patience is cut so that the
    step can halve about that often in the time left), and with a different value the
    published optimum is still proven."""
    from hubopt.models import SolveParameters

    seen = record_relaxation_argument(monkeypatch, "halvings")
    model = ap_pmedian_model(hub_data_dir, 25, 3)
    optimum = published("USApHMP", "AP25.3", hub_data_dir)["objective"]
    for halvings in (EngineOptions().sa_halvings, 30.0):
        opts = EngineOptions(max_sets=10, mip_max_n=10, sa_halvings=halvings)
        seen.clear()
        sol = model.solve(SolveParameters(time_limit=30.0), options=opts)
        assert seen
        assert set(seen) == {halvings}
        assert sol.status.name == "OPTIMAL"
        assert sol.objective == pytest.approx(optimum, abs=0.006)


@pytest.mark.slow
@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two numba threads")
def test_the_bound_does_not_depend_on_the_number_of_threads() -> None:
    """The kernels sum in index order, so 1 and 2 threads give the same bound bit for
    bit (a threaded sum rounds differently, and 300 steps amplify that)."""
    C, W, _ = gappy_instance(40, 2)
    model = USApHMP.from_cost_matrix(C, W, p=4, chi=CHI, alpha=ALPHA, delta=DELTA)
    hubs, rows = np.array([0, 10, 20, 30]), np.arange(len(C))
    a = hubs[np.argmin(C[:, hubs], axis=1)]  # each node at its nearest hub: an upper bound
    legs = CHI * C[rows, a][:, None] + ALPHA * C[np.ix_(a, a)] + DELTA * C[a, rows][None, :]
    upper = float((W * legs).sum())
    bounds = []
    before = numba.get_num_threads()
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            res = single_allocation_lagrangian(
                model.data, upper=upper, time_limit=None, max_iterations=300
            )
            bounds.append((res.bound, res.iterations, res.sites))
    finally:
        numba.set_num_threads(before)
    assert bounds[0] == bounds[1]
    assert bounds[0][1] == 300  # (a run that stopped early would prove little)


def _subproblem_values(rho: np.ndarray, forced: np.ndarray, p: int | None):
    """Every hub set the Lagrangian subproblem may choose, with its value (brute force)."""
    m = rho.size
    sizes = [p] if p is not None else range(1, m + 1)
    for size in sizes:
        for S in itertools.combinations(range(m), size):
            if set(np.flatnonzero(forced)) <= set(S):
                yield S, float(rho[list(S)].sum())


@pytest.mark.parametrize("p", [None, 1, 2, 3])
@pytest.mark.parametrize("seed", range(6))
def test_the_rises_of_opening_and_shutting_a_site_are_the_brute_force_ones(
    seed: int, p: int | None
) -> None:
    """The reduction tests' rises against every hub set of the subproblem: the least
    value with site ``k`` open (shut) minus the subproblem's optimum.  Seeds 0-2 have
    only positive hub values (without ``p``, one site opens all the same)."""
    rng = np.random.default_rng(seed)
    m = 6
    rho = rng.uniform(1.0, 9.0, m) if seed < 3 else rng.uniform(-5.0, 5.0, m)
    forced = np.zeros(m, dtype=bool)
    if seed % 2:
        forced[int(rng.integers(m))] = True
    chosen = lagrangian_hubs(rho, forced, p)
    sets = list(_subproblem_values(rho, forced, p))
    best = min(value for _, value in sets)
    assert float(rho[chosen].sum()) == pytest.approx(best)
    opening = _opening_rise(rho, chosen, forced, p)
    shutting = _shutting_rise(rho, chosen, p)
    for k in range(m):
        with_k = [value for S, value in sets if k in S]
        without_k = [value for S, value in sets if k not in S]
        assert opening[k] == pytest.approx(min(with_k, default=math.inf) - best)
        if chosen[k] and not forced[k]:
            assert shutting[k] == pytest.approx(min(without_k, default=math.inf) - best)


def _relaxed_and_integer_subproblem(G, sites, fixed, forced, allow, p):
    """The relaxed allocation subproblem (:func:`_hub_values`) and, by brute force over
    every hub set, the subproblem with "each node is served by exactly one open hub"
    (a hub's own node by itself)."""
    from hubopt.models._sa_relaxation import _hub_values

    rho = _hub_values(G, sites, fixed, allow)
    chosen = lagrangian_hubs(rho, forced, p)
    relaxed = float(rho[chosen].sum())
    m = sites.size
    sizes = [p] if p is not None else range(1, m + 1)
    best = math.inf
    for q in sizes:
        for H in itertools.combinations(range(m), q):
            if forced[list(H)].sum() != forced.sum():
                continue
            total = float(fixed[list(H)].sum())
            for i in range(G.shape[0]):
                own = [k for k in H if sites[k] == i]
                if own:
                    total += G[i, own[0]] if allow[i, own[0]] else math.inf
                    continue
                total += min((G[i, k] if allow[i, k] else math.inf) for k in H)
            best = min(best, total)
    return relaxed, best


@pytest.mark.parametrize(
    ("seed", "p", "fixed_costs", "masked"),
    [(1, 2, False, False), (2, 3, False, True), (3, 2, True, False), (4, None, True, True)],
)
def test_the_allocation_lp_shift_lifts_the_bound_to_its_lp_below_the_integer_subproblem(
    seed: int, p: int | None, fixed_costs: bool, masked: bool
) -> None:
    """At random multipliers, the LP of the allocation subproblem with "each node served
    once" lies between the relaxed subproblem and its integer optimum (brute force over
    every hub set), and moving its duals into the allocation prices gives multipliers
    whose Lagrangian value, recomputed from scratch, is the routes' old total plus that
    LP."""
    from hubopt.models._sa_kernels import _allocation_prices, _routes, _triangle_slack
    from hubopt.models._sa_pairs import pairs_of, shift_multipliers
    from hubopt.models._sa_relaxation import _allocation_shift

    n = 6
    C, W, f = gappy_instance(n, seed)
    rng = np.random.default_rng(seed)
    sites = np.sort(rng.choice(n, size=5, replace=False))
    m = sites.size
    fixed = f[sites] if fixed_costs else np.zeros(m)
    forced = np.zeros(m, dtype=bool)
    allow = np.ones((n, m), dtype=bool)
    if masked:
        forced[0] = True
        allow = rng.uniform(size=(n, m)) < 0.7
        allow[:, 0] = True  # (every node keeps a site)
        allow[sites, np.arange(m)] = True  # (and its own)
    scale = float(W.max() * C.max())
    pairs = pairs_of(W)
    u = rng.normal(0.0, 0.3 * scale, size=(pairs.size, m))
    v = rng.normal(0.0, 0.3 * scale, size=(pairs.size, m))
    served = (W.sum(axis=0) + W.sum(axis=1)) > 0
    to_site = np.ascontiguousarray(C[:, sites])
    from_site = np.ascontiguousarray(C[sites, :].T)
    between = np.ascontiguousarray(C[np.ix_(sites, sites)])
    slack = _triangle_slack(between)
    barrier = np.where(allow, 0.0, math.inf)

    def routes_and_prices(u, v):
        kpos = np.zeros(pairs.size, dtype=np.int64)
        lpos = np.zeros(pairs.size, dtype=np.int64)
        flow = (pairs.out_start, pairs.dest, pairs.flow)
        total = _routes(
            to_site, from_site, between, *flow, CHI, ALPHA, DELTA, u, v, kpos, lpos, slack, barrier
        )
        prices = _allocation_prices(
            u, v, pairs.orig, pairs.dest, pairs.out_start, pairs.into, pairs.in_start
        )
        return total, prices

    routes, G = routes_and_prices(u, v)
    relaxed, integer = _relaxed_and_integer_subproblem(G, sites, fixed, forced, allow, p)
    lp = _allocation_shift(G, sites, fixed, forced, allow, served, p)
    assert lp is not None
    value, w = lp
    tol = 1e-9 * scale * n * n
    assert relaxed - tol <= value <= integer + tol
    assert value > relaxed + 1e-6 * scale  # (random multipliers leave room)
    shift_multipliers(u, v, pairs, w)
    routes2, G2 = routes_and_prices(u, v)
    relaxed2, _ = _relaxed_and_integer_subproblem(G2, sites, fixed, forced, allow, p)
    assert routes2 == pytest.approx(routes - w.sum(), abs=tol)
    assert routes2 + relaxed2 == pytest.approx(routes + value, abs=tol)


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "p"), [(4, 2), (6, 3), (8, 3)])
def test_branch_and_bound_with_the_allocation_lp_proves_the_brute_force_optimum(
    seed: int, p: int
) -> None:
    C, W, _ = gappy_instance(7, seed)
    optimum = min(hub_set_costs(C, W, [p]).values())
    model = USApHMP.from_cost_matrix(C, W, p=p, chi=CHI, alpha=ALPHA, delta=DELTA)
    res = tree_from_one_step(
        model, optimum, lambda H: best_allocation(C, W, H), allocation_lp_every=3
    )
    assert res.bound == pytest.approx(optimum, rel=1e-9)
    assert res.hubs is not None
    assert hub_set_costs(C, W, [p])[res.hubs] == pytest.approx(optimum, rel=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "p"), [(4, 2), (6, 3), (8, 3)])
def test_a_stalled_root_hands_over_to_the_tree_which_still_proves_the_optimum(
    seed: int, p: int, caplog: pytest.LogCaptureFixture
) -> None:
    """With an incumbent above the optimum the root's bound flattens below it; after a
    window without progress the root stops early and the branch and bound proves the
    brute-force optimum."""
    C, W, _ = gappy_instance(7, seed)
    optimum = min(hub_set_costs(C, W, [p]).values())
    model = USApHMP.from_cost_matrix(C, W, p=p, chi=CHI, alpha=ALPHA, delta=DELTA)
    with caplog.at_level(logging.DEBUG, logger="hubopt.models.sa_lagrangian"):
        res = tree_from_one_step(
            model,
            optimum,
            lambda H: best_allocation(C, W, H),
            root_iterations=5000,
            root_stall_window=30,
        )
    assert any(r.msg.startswith("SA root stalled") for r in caplog.records)
    assert res.bound == pytest.approx(optimum, rel=1e-9)
    assert res.hubs is not None
    assert hub_set_costs(C, W, [p])[res.hubs] == pytest.approx(optimum, rel=1e-9)
