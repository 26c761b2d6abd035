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
