"""The engine's strategy as data: ``choose_plan`` against a table of cases, and the
threshold positions against the reported benchmark grid."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest

from hubopt._errors import SolverError
from hubopt.models import SolveParameters, USApHMP
from hubopt.models.base import Problem
from hubopt.models.strategy import (
    EngineOptions,
    Heuristic,
    Path,
    Plan,
    choose_plan,
    effective_size,
)

# the reported benchmark grid (CAB, AP, TR): sizes, hubs, time limits (None: no limit)
GRID_N = (10, 15, 20, 25, 40, 50, 81, 100, 200)
GRID_P = (1, 2, 3, 4, 5, 10, 15, 20)
GRID_SECONDS = (60.0, 120.0, 300.0, 600.0)
GRID_LIMITS = (*GRID_SECONDS, None)

# the thresholds where they stood before issue 26 moved them off the grid (same
# operators: ``>=`` for the limits and the hub shares of Benders and the relaxation,
# ``<`` for the multiple-allocation Lagrangian share)
ON_GRID = EngineOptions(
    benders_min_hub_share=0.05,
    benders_few_hubs_min_seconds=600.0,
    sa_lagrangian_min_hub_share=0.02,
    sa_long_limit_seconds=600.0,
    sa_screen_min_seconds=600.0,
    ma_lagrangian_max_hub_share=0.1,
    csahlp_improve_min_seconds=600.0,
    vns_many_hubs_min_p=10,
)


def plan(
    problem: Problem,
    n: int,
    p: int | None,
    limit: float | None,
    options: EngineOptions | None = None,
    method: str = "auto",
) -> Plan:
    hub_sets = math.comb(n, p) if p is not None else 0
    return choose_plan(
        problem, n=n, p=p, hub_sets=hub_sets, time_limit=limit, options=options, method=method
    )


def grid() -> list[tuple[Problem, int, int | None, float | None]]:
    cases = []
    for problem in (p for p in Problem if p.hub_location):
        for n, limit in itertools.product(GRID_N, GRID_LIMITS):
            hubs = [p for p in GRID_P if p <= n] if problem.has_p else [None]
            cases += [(problem, n, p, limit) for p in hubs]
    return cases


P, M = Problem.USAPHMP, Problem.UMAPHMP
UL, ML, CL = Problem.USAHLP, Problem.UMAHLP, Problem.CSAHLP
HB, HF = Path.HEURISTIC_BENDERS, Path.HEURISTIC_BOUND

# (problem, n, p, limit, method) -> the fields of the plan that the case is about; the
# pairs sit on both sides of a switch, at grid points where possible
CASES: list[tuple[Problem, int, int | None, float | None, str, dict[str, object]]] = [
    # hub-set search while C(n, p) <= max_sets (C(100, 4) = 3.9e6, C(81, 5) = 2.6e7)
    (P, 100, 4, 60.0, "auto", {"path": Path.SEARCH, "heuristic": Heuristic.GVNS}),
    (M, 100, 4, 60.0, "auto", {"path": Path.SEARCH, "heuristic": None}),
    (P, 81, 5, 60.0, "auto", {"path": HB, "heuristic": Heuristic.GVNS}),
    # the E&K MIP up to mip_max_n (50 | 81)
    (P, 50, 10, 60.0, "auto", {"path": Path.MIP}),
    (ML, 50, None, 60.0, "auto", {"path": Path.MIP, "heuristic": Heuristic.DESCENT}),
    (ML, 81, None, 60.0, "auto", {"path": HB}),
    (M, 81, 5, 60.0, "auto", {"path": HB, "heuristic": Heuristic.VNS}),
    # Benders up to benders_max_n (100 | 200) on any limit
    (M, 100, 5, 60.0, "auto", {"path": HB, "ma_lagrangian": False}),
    (M, 200, 5, 60.0, "auto", {"path": HF, "ma_lagrangian": True}),
    # beyond: many hubs (p >= 0.0375 n: 5 | 10 at n = 200) or a limit >= 400 s (300 | 600)
    (P, 200, 5, 300.0, "auto", {"path": HF}),
    (P, 200, 10, 300.0, "auto", {"path": HB}),
    (P, 200, 5, 600.0, "auto", {"path": HB}),
    (P, 200, 5, None, "auto", {"path": HB}),
    (UL, 200, None, 300.0, "auto", {"path": HF, "sa_lagrangian": True}),
    (UL, 200, None, 600.0, "auto", {"path": HB, "sa_lagrangian": True}),
    # multiple allocation below 400 s: its Lagrangian bound while p < 0.0975 n (15 | 20)
    (M, 200, 15, 300.0, "auto", {"path": HF, "ma_lagrangian": True, "vns_budget_share": 0.25}),
    (M, 200, 20, 300.0, "auto", {"path": HB, "ma_lagrangian": False}),
    (M, 200, 15, 600.0, "auto", {"path": HB, "ma_lagrangian": False}),
    (ML, 200, None, 120.0, "auto", {"path": HF, "ma_lagrangian": True, "benders_trial": True}),
    (ML, 200, None, 600.0, "auto", {"path": HB, "benders_trial": False}),
    # the single-allocation relaxation beyond sa_lagrangian_max_n: below 400 s any p,
    # from there on p >= 0.0175 n (3 | 4 at n = 200; p = 3 only with method "heuristic",
    # as "auto" enumerates its hub sets), else Benders' screening
    (P, 200, 4, 600.0, "auto", {"path": HB, "sa_lagrangian": True, "sa_screening": False}),
    (P, 200, 3, 600.0, "heuristic", {"sa_lagrangian": False, "sa_screening": True}),
    (P, 200, 3, 300.0, "heuristic", {"sa_lagrangian": True, "sa_screening": False}),
    (P, 200, 3, None, "heuristic", {"sa_lagrangian": False, "sa_screening": True}),
    (P, 100, 5, 60.0, "auto", {"path": HB, "sa_lagrangian": True}),
    # beyond every size of Benders and the relaxation (250 | 300): the Lagrangian bound
    # of the path formulation in all the time the heuristic leaves
    (P, 300, 20, 600.0, "auto", {"path": HF, "sa_lagrangian": True, "mathopt_bounds": False}),
    (M, 300, 5, 600.0, "auto", {"path": HF, "ma_lagrangian": True, "vns_budget_share": 0.25}),
    (P, 200, 20, 60.0, "auto", {"path": HB, "sa_lagrangian": True}),
    (P, 300, 20, None, "auto", {"path": HF, "mathopt_bounds": True, "truncated_bound": False}),
    (P, 200, 5, 60.0, "auto", {"truncated_bound": True, "mathopt_bounds": True}),
    # the patience floor: p-hub medians from 400 s (300 | 600) and without a limit
    (P, 200, 5, 300.0, "auto", {"sa_min_patience": 30}),
    (P, 200, 5, 600.0, "auto", {"sa_min_patience": 60}),
    (P, 100, 5, None, "auto", {"sa_min_patience": 60}),
    (UL, 200, None, 600.0, "auto", {"sa_min_patience": 30}),
    # CSAHLP restarts and polish from 400 s (300 | 600)
    (CL, 200, None, 300.0, "auto", {"csahlp_improve": False, "sa_lagrangian": True}),
    (CL, 200, None, 600.0, "auto", {"csahlp_improve": True, "path": HB}),
    (CL, 100, None, None, "auto", {"csahlp_improve": True}),
    # the VNS of multiple allocation on the facility-location path: 30 % of the limit
    # from 8 hubs (5 | 10); only beyond the Benders range on defaults
    (M, 300, 5, 60.0, "auto", {"path": HF, "vns_budget_share": 0.25}),
    (M, 300, 10, 60.0, "auto", {"path": HF, "vns_budget_share": 0.25}),
    # the methods asked for
    (M, 20, 3, 60.0, "benders", {"path": Path.BENDERS, "heuristic": Heuristic.VNS}),
    (P, 20, 3, 60.0, "mip", {"path": Path.MIP}),
    (CL, 20, None, 60.0, "heuristic", {"path": HB, "heuristic": Heuristic.GVNS_FIXED_COST}),
]


@pytest.mark.parametrize(("problem", "n", "p", "limit", "method", "expected"), CASES)
def test_the_plan_of_each_case(
    problem: Problem,
    n: int,
    p: int | None,
    limit: float | None,
    method: str,
    expected: dict[str, object],
) -> None:
    got = plan(problem, n, p, limit, method=method)
    assert {name: getattr(got, name) for name in expected} == expected


def test_moving_the_thresholds_off_the_grid_changed_no_plan_on_it() -> None:
    """Every reported grid point gets the same plan with the thresholds where they
    stood (on grid points) and where they stand now (between them)."""
    changed = [case for case in grid() if plan(*case) != plan(*case, options=ON_GRID)]
    assert changed == []


def test_no_threshold_sits_on_a_grid_point() -> None:
    o = EngineOptions()
    for seconds in (
        o.benders_few_hubs_min_seconds,
        o.sa_screen_min_seconds,
        o.sa_long_limit_seconds,
        o.csahlp_improve_min_seconds,
        o.sa_lagrangian_min_seconds,
    ):
        assert seconds not in GRID_SECONDS
    for size in (
        o.mip_max_n,
        o.benders_max_n,
        o.benders_many_hubs_max_n,
        o.sa_lagrangian_max_n,
        o.sa_lagrangian_many_hubs_max_n,
        o.truncated_bound_max_n,
        o.mathopt_bound_max_n,
    ):
        assert size not in GRID_N
    ratios = {p / n for n, p in itertools.product(GRID_N, GRID_P)}
    for share in (
        o.benders_min_hub_share,
        o.sa_lagrangian_min_hub_share,
        o.ma_lagrangian_max_hub_share,
    ):
        assert all(not math.isclose(share, r) for r in ratios), share
    assert o.vns_many_hubs_min_p not in GRID_P
    assert o.max_sets not in {math.comb(n, p) for n, p in itertools.product(GRID_N, GRID_P)}


def test_the_grid_points_each_side_of_every_moved_switch_are_in_the_table() -> None:
    """Each moved switch flips between two grid points that the table holds."""
    keys = {(c[0], c[1], c[2], c[3]) for c in CASES}
    for pair in (
        [(P, 200, 5, 300.0), (P, 200, 10, 300.0)],  # benders_min_hub_share
        [(P, 200, 5, 300.0), (P, 200, 5, 600.0)],  # benders_few_hubs_min_seconds
        [(M, 200, 15, 300.0), (M, 200, 20, 300.0)],  # ma_lagrangian_max_hub_share
        [(P, 200, 3, 600.0), (P, 200, 4, 600.0)],  # sa_lagrangian_min_hub_share
        [(P, 200, 3, 300.0), (P, 200, 3, 600.0)],  # sa_screen_min_seconds
        [(CL, 200, None, 300.0), (CL, 200, None, 600.0)],  # csahlp_improve_min_seconds
    ):
        assert set(pair) <= keys, pair
        a, b = (plan(*case, method="heuristic") for case in pair)
        assert a != b


def test_a_method_that_does_not_fit_the_problem_is_refused() -> None:
    with pytest.raises(SolverError, match="p-hub median"):
        plan(ML, 20, None, 60.0, method="search")
    with pytest.raises(SolverError, match="multiple-allocation"):
        plan(P, 20, 3, 60.0, method="benders")
    with pytest.raises(SolverError, match="hub-location engine"):
        plan(Problem.COVERAGE, 20, 3, 60.0)


def test_the_model_plans_with_the_options_it_is_given() -> None:
    """``HubModel.plan`` counts the hub sets over the candidates and fixed hubs, and
    ``solve(options=...)`` follows the plan (here the MIP instead of the search)."""
    rng = np.random.default_rng(0)
    pts = rng.uniform(size=(8, 2))
    C = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    W = rng.uniform(size=(8, 8))
    model = USApHMP.from_cost_matrix(C, W, p=2)
    assert model.plan().path is Path.SEARCH
    no_search = EngineOptions(max_sets=0)
    assert model.plan(options=no_search).path is Path.MIP
    sol = model.solve(time_limit=60, options=no_search)
    assert sol.method.startswith("mip")
    assert sol.objective == pytest.approx(model.solve(time_limit=60).objective, rel=1e-9)
    fixed = USApHMP.from_cost_matrix(C, W, p=2, fixed_hubs=[0])
    # C(7, 1) = 7 hub sets with node 0 fixed
    assert fixed.plan(options=EngineOptions(max_sets=7)).path is Path.SEARCH
    assert fixed.plan(options=EngineOptions(max_sets=6)).path is Path.MIP


def test_options_are_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        EngineOptions().mip_max_n = 0  # type: ignore[misc]


def test_the_work_size_of_ap_like_instances_is_their_node_count() -> None:
    """Every node a site and flows between all pairs (with or without the diagonal)."""
    for n in (10, 81, 200, 1000):
        assert effective_size(n, n, n * n) == n
        assert effective_size(n, n, n * (n - 1)) == n


def test_the_work_size_of_a_case_follows_its_sites_and_pairs() -> None:
    # 250 demand points with flows between all of them, 150 other nodes as sites
    assert effective_size(400, 150, 250 * 249) == round((250 * 249 * 150**2) ** 0.25)
    assert effective_size(400, 150, 250 * 249) < 200
    # never more than the nodes, fewer pairs or sites never more work
    assert effective_size(50, 50, 10**9) == 50
    assert effective_size(400, 100, 250 * 249) < effective_size(400, 150, 250 * 249)
    assert effective_size(400, 150, 6000) < effective_size(400, 150, 250 * 249)


def test_a_case_with_candidate_sites_plans_at_its_work_size() -> None:
    """A model whose sites are other nodes than its demand points, with flows only
    between the points, plans like the AP instance of its work size."""
    rng = np.random.default_rng(3)
    points, sites = 120, 60
    n = points + sites
    C = rng.uniform(1.0, 10.0, size=(n, n))
    np.fill_diagonal(C, 0.0)
    W = np.zeros((n, n))
    W[:points, :points] = rng.uniform(0.0, 1.0, size=(points, points))
    np.fill_diagonal(W, 0.0)
    model = USApHMP.from_cost_matrix(C, W, p=5, excluded=range(points))
    size = effective_size(n, sites, points * (points - 1))
    assert model.size == size < n
    params = SolveParameters(time_limit=60.0, method="heuristic")
    by_size = choose_plan(Problem.USAPHMP, n=size, p=5, hub_sets=0, time_limit=60.0,
                          method="heuristic")
    assert model.plan(params) == by_size
    by_nodes = choose_plan(Problem.USAPHMP, n=n, p=5, hub_sets=0, time_limit=60.0,
                           method="heuristic")
    assert by_size.path is Path.HEURISTIC_BENDERS
    assert by_nodes.path is Path.HEURISTIC_BOUND  # 180 nodes: past benders_max_n


def test_beyond_every_size_the_lagrangian_bound_can_be_switched_off() -> None:
    off = EngineOptions(large_lagrangian=False)
    assert not plan(P, 300, 20, 600.0, options=off).sa_lagrangian
    assert not plan(M, 300, 5, 600.0, options=off).ma_lagrangian
    assert plan(P, 300, 20, 600.0).sa_lagrangian
    assert plan(ML, 300, None, 600.0).ma_lagrangian
    assert plan(CL, 300, None, 600.0).sa_lagrangian


def test_a_cases_umaphmp_on_the_benders_path_runs_the_lagrangian_bound_first() -> None:
    """A case (work size below its node count) in Benders' range with few hubs and a
    long limit: the multiple-allocation Lagrangian bound first, then Benders; an AP-like
    instance of the same size keeps Benders alone; short limits keep the bound path."""
    case = choose_plan(Problem.UMAPHMP, n=400, size=200, p=5, hub_sets=10**9,
                       time_limit=600.0, method="heuristic")  # fmt: skip
    assert case.path is Path.HEURISTIC_BENDERS
    assert case.ma_first
    ap_like = choose_plan(Problem.UMAPHMP, n=200, p=5, hub_sets=10**9, time_limit=600.0,
                          method="heuristic")  # fmt: skip
    assert ap_like.path is Path.HEURISTIC_BENDERS
    assert not ap_like.ma_first
    short = choose_plan(Problem.UMAPHMP, n=400, size=200, p=5, hub_sets=10**9,
                        time_limit=120.0, method="heuristic")  # fmt: skip
    assert short.path is Path.HEURISTIC_BOUND
    assert short.ma_lagrangian
    many = choose_plan(Problem.UMAPHMP, n=400, size=200, p=20, hub_sets=10**9,
                       time_limit=600.0, method="heuristic")  # fmt: skip
    assert not many.ma_first
    single = choose_plan(Problem.USAPHMP, n=400, size=200, p=5, hub_sets=10**9,
                         time_limit=600.0, method="heuristic")  # fmt: skip
    assert not single.ma_first


def test_the_lagrangian_bound_first_reaches_the_brute_force_optimum() -> None:
    from hubopt.instances.random_case import random_case
    from hubopt.models import UMApHMP
    from tests.oracles import brute_multiple

    inst = random_case(8, 5, seed=4, flow_density=0.7, p=2)
    kw = inst.model_kwargs(problem="umaphmp", p=2)
    model = UMApHMP.from_cost_matrix(inst.C, inst.W, **kw)
    assert model.size < model.n
    opts = EngineOptions(benders_max_n=2, benders_few_hubs_min_seconds=10.0,
                         ma_lagrangian_max_hub_share=1.0)  # fmt: skip
    params = SolveParameters(time_limit=60.0, method="heuristic")
    assert model.plan(params, options=opts).ma_first
    sol = model.solve(params, options=opts)
    sites = [k for k in range(model.n) if k not in set(kw.get("excluded", ()))]
    best = brute_multiple(inst.C, inst.W, list(itertools.combinations(sites, 2)),
                          chi=inst.chi, alpha=inst.alpha, delta=inst.delta)  # fmt: skip
    assert sol.proven_optimal
    assert sol.objective == pytest.approx(best, rel=1e-9)
    assert sol.method in ("heuristic+lagrangian", "heuristic+benders")
