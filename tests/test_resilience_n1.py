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


def _relaxed_instance():  # type: ignore[no-untyped-def]
    """The first seed where the farthest-out point has only itself within T, and some
    3-hub set opens every site within reach of such points."""
    for seed in range(100):
        C, W, _, _ = random_instance(9, seed)
        lonely = int(np.argmax(np.sort(C, axis=1)[:, 1]))
        T = float(np.sort(C, axis=1)[lonely, 1]) * 0.99
        sites = (C <= T).sum(axis=1)
        feasible = [H for H in sets_of_size(9, 3)
                    if all((C[i, list(H)] <= T).sum() >= min(2, sites[i]) for i in range(9))]
        if feasible:
            return C, W, lonely, T, feasible
    raise AssertionError("no instance")


def test_relaxed_points_need_every_site_within_reach_open():
    C, W, lonely, T, feasible = _relaxed_instance()
    opts = ResilienceOptions("none", n1_access=T, n1_relax=True)
    model = ResilientHubModel.from_cost_matrix(C, W, problem="umaphmp", p=3, chi=CHI,
                                               alpha=ALPHA, delta=DELTA, resilience=opts)
    want, _ = brute_ma(C, W, feasible, "expected", np.zeros(9), 1, CHI, ALPHA, DELTA)
    sol = model.solve()
    assert lonely in sol.hubs
    assert sol.objective == pytest.approx(want, rel=1e-9)


def _case(**resilience):  # type: ignore[no-untyped-def]
    from pathlib import Path

    from hubopt.case import case_from_dict

    data = {
        "case": {"name": "t"},
        "region": {"bbox": [21.5, 58.3, 27.0, 61.0]},
        "network": {"source": "world"},
        "demand": {"source": "file", "file": "data/points.csv"},
        "flows": {"source": "gravity"},
        "candidates": {"source": "file", "file": "data/sites.csv"},
        "model": resilience.pop("model", {"problem": "usaphmp", "p": 3}),
        "resilience": resilience,
    }
    return case_from_dict(data, path=Path(__file__).parent / "broken_cases" / "virtual.toml")


def test_the_case_key_reaches_the_case_and_every_problem_is_reported_at_once():
    from hubopt._errors import CaseValidationError

    case = _case(n1_access_minutes=60, n1_access_relax=True)
    assert case.resilience.n1_access_minutes == 60
    assert case.resilience.n1_access_relax
    assert case.resilience.active
    with pytest.raises(CaseValidationError) as info:
        _case(n1_access_minutes=60, failure_probability=2, typo=1,
              model={"problem": "usaphmp", "p": 1})
    text = str(info.value)
    for field in ("resilience.typo", "resilience.failure_probability", "model.p"):
        assert field in text
    assert "n1_access_minutes" in text
    with pytest.raises(CaseValidationError, match=r"resilience\.n1_access_minutes.*>= 0"):
        _case(n1_access_minutes=-5)


@pytest.mark.slow
def test_default_case_with_n1_access_moves_the_hubs_and_meets_the_n1_target(tmp_path):
    # p = 6: since the world roads slow down in towns, the points with a single site
    # within 180 min force more than 5 sites open (p = 5 is infeasible, with the error)
    import json
    import subprocess
    import sys

    def run(out, *sets):
        args = [sys.executable, "-m", "hubopt", "run", "--out", str(out),
                "--set", "model.p=6", "--set", "scorecard.access_minutes=180", *sets]
        res = subprocess.run(args, capture_output=True, text=True, check=False)
        assert res.returncode == 0, res.stderr
        return json.loads((out / "scorecard.json").read_text())

    card = run(tmp_path / "n1", "--set", "resilience.n1_access_minutes=180",
               "--set", "resilience.n1_access_relax=true")
    block = card["resilience"]
    resilient, cheapest = block["designs"]["resilient"], block["designs"]["cheapest"]
    assert block["status"] == "optimal"
    assert sorted(resilient["hubs"]) != sorted(cheapest["hubs"])
    assert resilient["nominal_cost"] >= cheapest["nominal_cost"] * (1 - 1e-9)
    n1 = next(t for t in card["targets"] if t["id"] == "n1_population")
    assert n1["passed"]
    # the cheapest design solved on its own is the block's cheapest design
    plain = run(tmp_path / "plain")
    assert sorted(h["name"] for h in plain["hubs"]) == sorted(cheapest["hubs"])
    # strict (no relax): the points without two sites within reach are named
    res = subprocess.run([sys.executable, "-m", "hubopt", "run", "--out", str(tmp_path / "x"),
                          "--set", "resilience.n1_access_minutes=60"],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 2
    assert "Tallinn" in res.stderr
    assert "n1_access_relax" in res.stderr


@pytest.mark.parametrize(("problem", "kind", "seed"), [
    ("umaphmp", "expected", 3), ("umaphmp", "worst", 11), ("umaphmp", "none", 21),
    ("usaphmp", "expected", 5),
])
def test_heuristic_path_keeps_the_constraint_with_a_valid_bound(problem, kind, seed):
    n, p = 12, 3
    C, W, _, _ = random_instance(n, seed)
    T = binding_limit(C, W, p)
    feasible = [H for H in sets_of_size(n, p) if n1_ok(C, W, H, T)]
    q = 0.0 if kind == "none" else 0.05
    model = build(C, W, problem, p, kind, T)
    sol = model.solve(method="heuristic", time_limit=30)
    assert n1_ok(C, W, sol.hubs, T)
    assert model.objective(sol) == pytest.approx(sol.objective, rel=1e-9)
    if problem == "umaphmp":
        best, _ = brute_ma(C, W, feasible, "worst" if kind == "worst" else "expected",
                           np.full(n, q), 1, CHI, ALPHA, DELTA)
        assert sol.bound <= best * (1 + 1e-9)
        assert sol.objective >= best * (1 - 1e-9)
    assert sol.bound <= sol.objective * (1 + 1e-12)


def test_greedy_covering_builds_a_set_that_meets_the_constraint():
    C, W, _, _ = random_instance(12, 7)
    T = binding_limit(C, W, 3)
    model = build(C, W, "umaphmp", 3, "expected", T)
    found = model.n1.covering_set(model.data, 4, prefer=(0, 1))
    assert found is not None
    assert len(found) == 4
    assert n1_ok(C, W, found, T)
