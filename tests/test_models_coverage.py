"""The coverage model (maximal and share covering) against brute force on tiny instances."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from hubopt._errors import InfeasibleModelError, ModelSpecificationError
from hubopt.models import MODEL_CLASSES, CoverageModel, Problem, Status, build_model
from hubopt.models.base import Model


def covered_weight(t: np.ndarray, w: np.ndarray, minutes: float, hubs) -> float:
    """Brute-force oracle: the weight within ``minutes`` of one of ``hubs``."""
    if not hubs:
        return 0.0
    return float(w[(t[:, list(hubs)] <= minutes).any(axis=1)].sum())


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_maximal_covering_equals_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 100, (25, 7))
    w = rng.integers(1, 1000, 25).astype(float)
    m = CoverageModel.from_cost_matrix(t, w, minutes=35.0, p=3, fixed_hubs=(1,), excluded=(4,))
    sol = m.solve()
    best = max(
        covered_weight(t, w, 35.0, (1, *c)) for c in itertools.combinations([0, 2, 3, 5, 6], 2)
    )
    assert sol.objective == pytest.approx(best)
    assert sol.status is Status.OPTIMAL
    assert sol.problem is Problem.COVERAGE
    assert 1 in sol.hubs
    assert 4 not in sol.hubs
    assert len(sol.hubs) == 3
    assert m.objective(sol) == sol.objective
    assert covered_weight(t, w, 35.0, sol.hubs) == sol.objective
    # the bound of maximal covering lies at or above the covered weight
    assert sol.bound >= sol.objective - 1e-9
    # every point is allocated to its nearest open hub; the covered mask follows
    for i in range(25):
        assert t[i, sol.allocation[i]] == min(t[i, k] for k in sol.hubs)
    assert np.array_equal(sol.info["covered"], m.covered(sol))
    assert np.array_equal(sol.info["covered"], (t[:, list(sol.hubs)] <= 35.0).any(axis=1))


@pytest.mark.parametrize("seed", [0, 1])
def test_share_covering_opens_the_fewest_hubs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 100, (30, 8))
    w = rng.integers(1, 100, 30).astype(float)
    m = CoverageModel.from_cost_matrix(t, w, minutes=40.0, share=0.8)
    sol = m.solve()
    assert sol.objective >= 0.8 * w.sum() - 1e-9
    fewest = next(
        k
        for k in range(1, 9)
        if any(
            covered_weight(t, w, 40.0, c) >= 0.8 * w.sum()
            for c in itertools.combinations(range(8), k)
        )
    )
    assert len(sol.hubs) == fewest
    # ties broken by the largest covered weight among the hub sets of that size
    best = max(
        covered_weight(t, w, 40.0, c)
        for c in itertools.combinations(range(8), fewest)
        if covered_weight(t, w, 40.0, c) >= 0.8 * w.sum()
    )
    assert sol.objective == pytest.approx(best)
    assert m.objective(sol) == sol.objective
    assert sol.status is Status.OPTIMAL
    assert sol.gap == 0.0


def test_coverage_reports_why_it_is_infeasible() -> None:
    t = np.array([[10.0, 200.0], [300.0, 400.0]])
    w = np.array([1.0, 9.0])
    with pytest.raises(InfeasibleModelError, match=r"cover only 0\.100"):
        CoverageModel.from_cost_matrix(t, w, minutes=60.0, share=0.5).solve()
    with pytest.raises(InfeasibleModelError, match="p = 3 hubs asked but only 2"):
        CoverageModel.from_cost_matrix(t, w, minutes=60.0, p=3).solve()
    with pytest.raises(InfeasibleModelError, match="both existing"):
        CoverageModel.from_cost_matrix(
            t, w, minutes=60.0, p=1, fixed_hubs=(0,), excluded=(0,)
        ).solve()
    assert math.isfinite(CoverageModel.from_cost_matrix(t, w, minutes=60.0, p=1).solve().objective)


def test_an_inconsistent_specification_is_refused_when_built() -> None:
    t = np.ones((3, 2))
    with pytest.raises(ModelSpecificationError, match="exactly one of p"):
        CoverageModel.from_cost_matrix(t, np.ones(3), minutes=1.0)
    with pytest.raises(ModelSpecificationError, match="exactly one of p"):
        CoverageModel.from_cost_matrix(t, np.ones(3), minutes=1.0, p=1, share=0.5)
    with pytest.raises(ModelSpecificationError, match="weights"):
        CoverageModel.from_cost_matrix(t, np.ones(4), minutes=1.0, p=1)
    with pytest.raises(ModelSpecificationError, match=">= 0"):
        CoverageModel.from_cost_matrix(t, -np.ones(3), minutes=1.0, p=1)
    with pytest.raises(ModelSpecificationError, match="out of range"):
        CoverageModel.from_cost_matrix(t, np.ones(3), minutes=1.0, p=1, excluded=(5,))


def test_the_objective_refuses_an_allocation_to_a_closed_site() -> None:
    rng = np.random.default_rng(4)
    t = rng.uniform(0, 10, (6, 4))
    m = CoverageModel.from_cost_matrix(t, np.ones(6), minutes=5.0, p=2)
    sol = m.solve()
    closed = next(k for k in range(4) if k not in sol.hubs)
    bad = type(sol)(
        problem=sol.problem,
        hubs=sol.hubs,
        allocation=np.full(6, closed),
        objective=sol.objective,
        bound=sol.bound,
        gap=sol.gap,
        status=sol.status,
        seconds=sol.seconds,
        method=sol.method,
    )
    with pytest.raises(InfeasibleModelError, match="open hub"):
        m.objective(bad)


def test_the_same_seed_gives_the_same_solution() -> None:
    rng = np.random.default_rng(7)
    t = rng.uniform(0, 100, (40, 10))
    w = rng.integers(1, 50, 40).astype(float)
    m = CoverageModel.from_cost_matrix(t, w, minutes=30.0, p=3)
    a, b = m.solve(seed=3), m.solve(seed=3)
    assert a.hubs == b.hubs
    assert np.array_equal(a.allocation, b.allocation)


def test_coverage_is_a_model_of_the_family() -> None:
    """``Problem.COVERAGE`` builds through ``build_model``; every model class has an
    abstract ``from_cost_matrix`` made concrete."""
    assert MODEL_CLASSES[Problem.COVERAGE] is CoverageModel
    rng = np.random.default_rng(1)
    t = rng.uniform(0, 100, (12, 5))
    w = rng.integers(1, 10, 12).astype(float)
    model = build_model("coverage", t, w, minutes=40.0, p=2)
    assert isinstance(model, CoverageModel)
    assert model.objective(model.solve()) == pytest.approx(
        max(covered_weight(t, w, 40.0, c) for c in itertools.combinations(range(5), 2))
    )
    for cls in MODEL_CLASSES.values():
        assert issubclass(cls, Model)
    assert "from_cost_matrix" in Model.__abstractmethods__
    with pytest.raises(TypeError, match="abstract"):
        Model()  # type: ignore[abstract]


# -- the MIP with its reductions, against brute force -------------------------------------


def _clustered(seed: int, n: int = 30, m: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """Times with what the reductions act on: points with the same coverage set (copies),
    a site inside another's reach (a copy of a site, slightly slower), an unreachable point."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 100, (n, m))
    t[n // 2:n // 2 + 4] = t[0]  # four copies of point 0
    t[:, m - 1] = t[:, 0] + 1.0  # site m-1 reaches a subset of what site 0 reaches
    t[n - 1] = 500.0  # a point no site reaches
    w = rng.integers(1, 1000, n).astype(float)
    return t, w


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("p", [1, 2, 4])
def test_maximal_covering_with_reductions_equals_every_p_subset(seed: int, p: int) -> None:
    t, w = _clustered(seed)
    m = CoverageModel.from_cost_matrix(t, w, minutes=30.0, p=p)
    sol = m.solve()
    best = max(covered_weight(t, w, 30.0, c) for c in itertools.combinations(range(9), p))
    assert sol.status is Status.OPTIMAL
    assert len(sol.hubs) == p
    assert m.objective(sol) == sol.objective == pytest.approx(best)
    assert sol.bound == pytest.approx(best)
    assert sol.info["points_dropped"] == int((t > 30.0).all(axis=1).sum()) >= 1


@pytest.mark.parametrize("solver", ["highs", "scip", "cpsat"])
def test_every_mathopt_backend_reaches_the_brute_force_optimum(solver: str) -> None:
    t, w = _clustered(11, n=40, m=10)
    model = CoverageModel.from_cost_matrix(t, w, minutes=28.0, p=3)
    sol = model.solve(solver=solver, method="mip")
    best = max(covered_weight(t, w, 28.0, c) for c in itertools.combinations(range(10), 3))
    assert sol.objective == pytest.approx(best)
    assert sol.status is Status.OPTIMAL
    assert sol.method == f"mip-{solver}"
    assert model.solve().method == "mip-scip"  # the backend of method "auto"
    with pytest.raises(ModelSpecificationError, match="auto or mip"):
        model.solve(method="benders")


def test_more_hubs_than_useful_sites_still_opens_p() -> None:
    """Every site but one is dominated: p = 3 opens the best site and two others."""
    t = np.full((5, 4), 100.0)
    t[:, 0] = 10.0  # site 0 reaches everybody
    t[:2, 1] = 10.0
    w = np.arange(1.0, 6.0)
    m = CoverageModel.from_cost_matrix(t, w, minutes=20.0, p=3, excluded=(2,))
    sol = m.solve()
    assert sol.objective == w.sum()
    assert len(sol.hubs) == 3
    assert 0 in sol.hubs
    assert 2 not in sol.hubs
    assert m.objective(sol) == w.sum()


@pytest.mark.parametrize("seed", range(4))
def test_share_covering_with_existing_and_excluded_sites(seed: int) -> None:
    t, w = _clustered(seed + 20)
    m = CoverageModel.from_cost_matrix(t, w, minutes=35.0, share=0.7, fixed_hubs=(2,),
                                       excluded=(5,))  # fmt: skip
    sol = m.solve()
    goal = 0.7 * w.sum()
    sets = [(2, *c) for k in range(9) for c in itertools.combinations([0, 1, 3, 4, 6, 7, 8], k)]
    feasible = [c for c in sets if covered_weight(t, w, 35.0, c) >= goal - 1e-9]
    fewest = min(len(c) for c in feasible)
    best = max(covered_weight(t, w, 35.0, c) for c in feasible if len(c) == fewest)
    assert len(sol.hubs) == fewest
    assert sol.objective == pytest.approx(best)
    assert 2 in sol.hubs
    assert 5 not in sol.hubs
    assert sol.status is Status.OPTIMAL
    assert sol.info["hubs_bound"] == fewest


def _capacitated_brute_force(t, w, minutes, p, cap, fixed=(), excluded=()) -> float:
    """Every hub set and every allocation of every point to one of its hubs: the largest
    weight within reach of the allocated hub with no hub over its capacity."""
    n, m = t.shape
    sites = [k for k in range(m) if k not in excluded]
    best = -1.0
    for H in itertools.combinations(sites, p):
        if not set(fixed) <= set(H):
            continue
        for alloc in itertools.product(H, repeat=n):
            load = dict.fromkeys(H, 0.0)
            got = 0.0
            for i, k in enumerate(alloc):
                if t[i, k] <= minutes:
                    load[k] += w[i]
                    got += w[i]
            if all(load[k] <= cap[k] for k in H):
                best = max(best, got)
    return best


@pytest.mark.parametrize("seed", range(4))
def test_capacities_bound_the_covered_weight_of_each_hub(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 100, (6, 4))
    w = rng.integers(1, 10, 6).astype(float)
    cap = rng.integers(5, 15, 4).astype(float)
    m = CoverageModel.from_cost_matrix(t, w, minutes=60.0, p=2, capacities=cap,
                                       fixed_hubs=(1,), excluded=(3,))  # fmt: skip
    sol = m.solve()
    best = _capacitated_brute_force(t, w, 60.0, 2, cap, fixed=(1,), excluded=(3,))
    assert sol.objective == pytest.approx(best)
    assert m.objective(sol) == pytest.approx(best)
    assert sol.status is Status.OPTIMAL
    assert 1 in sol.hubs
    assert 3 not in sol.hubs
    covered = m.covered(sol)
    load = np.bincount(sol.allocation[covered], weights=w[covered], minlength=4)
    assert (load <= cap + 1e-9).all()


def test_capacities_apply_to_maximal_covering_only() -> None:
    with pytest.raises(ModelSpecificationError, match="capacities apply to maximal"):
        CoverageModel.from_cost_matrix(np.ones((3, 2)), np.ones(3), minutes=1.0, share=0.5,
                                       capacities=[1.0, 1.0])  # fmt: skip


def test_a_time_limited_solve_returns_its_best_set_with_a_bound() -> None:
    rng = np.random.default_rng(5)
    pts, sites = rng.uniform(0, 100, (1500, 2)), rng.uniform(0, 100, (150, 2))
    t = np.sqrt(((pts[:, None] - sites[None]) ** 2).sum(-1))
    w = rng.integers(1, 100, 1500).astype(float)
    m = CoverageModel.from_cost_matrix(t, w, minutes=12.0, p=10)
    sol = m.solve(time_limit=0.05)
    assert len(sol.hubs) == 10
    assert m.objective(sol) == sol.objective > 0
    assert sol.bound >= sol.objective - 1e-6
    assert sol.gap >= 0


# -- against spopt (the open peer), when installed ---------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_maximal_covering_equals_spopts_optimum(seed: int) -> None:
    pulp = pytest.importorskip("pulp")
    locate = pytest.importorskip("spopt.locate")
    rng = np.random.default_rng(100 + seed)
    pts, sites = rng.uniform(0, 50, (120, 2)), rng.uniform(0, 50, (25, 2))
    t = np.sqrt(((pts[:, None] - sites[None]) ** 2).sum(-1))
    w = rng.integers(1, 500, 120).astype(float)
    mclp = locate.MCLP.from_cost_matrix(t, w, service_radius=9.0, p_facilities=4)
    mclp.solve(pulp.PULP_CBC_CMD(msg=False), results=False)
    assert pulp.LpStatus[mclp.problem.status] == "Optimal"
    theirs = [k for k, v in enumerate(mclp.fac_vars) if (v.value() or 0) > 0.5]
    sol = CoverageModel.from_cost_matrix(t, w, minutes=9.0, p=4).solve()
    assert sol.objective == pytest.approx(covered_weight(t, w, 9.0, theirs))
    assert sol.objective == pytest.approx(pulp.value(mclp.problem.objective))


def test_full_share_covering_equals_spopts_set_covering() -> None:
    pulp = pytest.importorskip("pulp")
    locate = pytest.importorskip("spopt.locate")
    rng = np.random.default_rng(7)
    pts, sites = rng.uniform(0, 50, (100, 2)), rng.uniform(0, 50, (30, 2))
    t = np.sqrt(((pts[:, None] - sites[None]) ** 2).sum(-1))
    t[:, 0] = np.minimum(t[:, 0], 14.0)  # every point reachable: the set covering is feasible
    lscp = locate.LSCP.from_cost_matrix(t, service_radius=14.0)
    lscp.solve(pulp.PULP_CBC_CMD(msg=False), results=False)
    assert pulp.LpStatus[lscp.problem.status] == "Optimal"
    theirs = sum(1 for v in lscp.fac_vars if (v.value() or 0) > 0.5)
    w = rng.integers(1, 50, 100).astype(float)
    sol = CoverageModel.from_cost_matrix(t, w, minutes=14.0, share=1.0).solve()
    assert len(sol.hubs) == theirs
    assert sol.objective == w.sum()
