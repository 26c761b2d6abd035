"""The path beyond every size of Benders and the relaxation (issue 27), on tiny case-like
instances (demand points and separate candidate sites, asymmetric non-metric costs,
sparse flows) with the thresholds moved below them: its bound never exceeds the brute-force
optimum, its objective is the one recomputed from the matrices, and multiple allocation
is proven optimal."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hubopt.instances.random_case import random_case
from hubopt.models import SolveParameters, Status, build_model
from hubopt.models.strategy import EngineOptions, effective_size, large_lagrangian_fits
from tests.oracles import brute_multiple, brute_single, single_allocation_cost

# every instance here lies beyond every size switch
BEYOND = EngineOptions(
    max_sets=0,
    mip_max_n=0,
    benders_max_n=1,
    benders_many_hubs_max_n=1,
    sa_lagrangian_max_n=1,
    sa_lagrangian_many_hubs_max_n=1,
)
NO_LAGRANGIAN = EngineOptions(**{**BEYOND.__dict__, "large_lagrangian_max_bytes": 0.0})


def _case(seed: int, points: int = 6, sites: int = 4):
    inst = random_case(points, sites, seed=seed, flow_density=0.5, p=2)
    sets = [tuple(h) for h in itertools.combinations(range(points, points + sites), 2)]
    return inst, sets


def test_random_cases_have_what_real_cases_have() -> None:
    inst, _ = _case(0, points=30, sites=10)
    C, W = inst.C, inst.W
    assert inst.candidate.sum() == 10
    assert not inst.candidate[:30].any()
    assert not np.allclose(C, C.T)  # asymmetric
    m = inst.m
    violated = sum(
        C[i, j] > C[i, k] + C[k, j] + 1e-9 for i in range(m) for j in range(m) for k in range(m)
    )
    assert violated > 0  # not metric
    assert 0 < np.count_nonzero(W) < 30 * 29  # sparse, between demand points only
    assert not W[30:].any()
    assert not W[:, 30:].any()
    assert random_case(30, 10, seed=0).C.tolist() == C.tolist()  # deterministic


@pytest.mark.parametrize("options", [BEYOND, NO_LAGRANGIAN], ids=["lagrangian", "benders"])
@pytest.mark.parametrize("seed", [1, 2])
def test_single_allocation_beyond_every_size_keeps_a_valid_bound(options, seed) -> None:
    inst, sets = _case(seed)
    kw = inst.model_kwargs(problem="usaphmp", p=2)
    model = build_model("usaphmp", inst.C, inst.W, **kw)
    params = SolveParameters(time_limit=30.0, method="heuristic")
    plan = model.plan(params, options)
    assert plan.large_bound
    assert plan.sa_lagrangian
    sol = model.solve(params, options=options)
    best = brute_single(inst.C, inst.W, sets, chi=1.0, alpha=0.75, delta=1.0)
    recomputed = single_allocation_cost(inst.C, inst.W, sol.allocation, chi=1.0, alpha=0.75,
                                        delta=1.0)  # fmt: skip
    assert sol.objective == pytest.approx(recomputed, rel=1e-9)
    assert sol.bound <= best * (1 + 1e-9)
    assert sol.objective >= best * (1 - 1e-9)
    if options is NO_LAGRANGIAN:
        assert "benders_bound" in sol.info
    else:
        assert "sa_lagrangian_bound" in sol.info


@pytest.mark.parametrize("options", [BEYOND, NO_LAGRANGIAN], ids=["lagrangian", "benders"])
@pytest.mark.parametrize("seed", [3, 4])
def test_multiple_allocation_beyond_every_size_is_proven_optimal(options, seed) -> None:
    inst, sets = _case(seed)
    kw = inst.model_kwargs(problem="umaphmp", p=2)
    model = build_model("umaphmp", inst.C, inst.W, **kw)
    params = SolveParameters(time_limit=30.0, method="heuristic")
    assert model.plan(params, options).large_bound
    sol = model.solve(params, options=options)
    best = brute_multiple(inst.C, inst.W, sets, chi=1.0, alpha=0.75, delta=1.0)
    assert sol.objective == pytest.approx(best, rel=1e-9)
    assert sol.objective == pytest.approx(model.objective(sol), rel=1e-9)
    assert sol.status is Status.OPTIMAL


def test_the_lagrangian_fits_by_memory_and_by_time() -> None:
    """Its arrays hold one row of sites per OD pair with flow."""
    o = EngineOptions()
    assert large_lagrangian_fits(250 * 249, 150, None, o)
    assert large_lagrangian_fits(250 * 249, 150, 600.0, o)
    # 1,000 nodes with flow between all x 300 sites: 3e8 elements, 8.4 GB; 150 steps
    # do not fit in 120 s
    assert not large_lagrangian_fits(1000 * 999, 300, 120.0, o)
    assert not large_lagrangian_fits(3000 * 2999, 1000, None, o)  # memory
    # the same nodes with flow between a tenth of the pairs: a tenth of the memory
    tenth = EngineOptions(large_lagrangian_max_bytes=1e9)
    assert not large_lagrangian_fits(1000 * 999, 300, None, tenth)
    assert large_lagrangian_fits(1000 * 999 // 10, 300, None, tenth)
    assert effective_size(1000, 300, 700 * 699) < 1000


def test_a_relaxation_too_large_for_the_memory_is_declined_on_the_benders_path() -> None:
    inst, sets = _case(5)
    kw = inst.model_kwargs(problem="usaphmp", p=2)
    model = build_model("usaphmp", inst.C, inst.W, **kw)
    params = SolveParameters(time_limit=30.0, method="heuristic")
    tiny = EngineOptions(max_sets=0, mip_max_n=0, large_lagrangian_max_bytes=1.0)
    assert model.plan(params, tiny).sa_lagrangian  # planned, then declined for memory
    sol = model.solve(params, options=tiny)
    assert "sa_lagrangian_bound" not in sol.info
    best = brute_single(inst.C, inst.W, sets, chi=1.0, alpha=0.75, delta=1.0)
    assert sol.bound <= best * (1 + 1e-9)
    assert sol.objective >= best * (1 - 1e-9)
    assert sol.objective == pytest.approx(model.objective(sol), rel=1e-9)


@pytest.mark.parametrize("seed", [1, 2])
def test_where_neither_fits_the_time_the_relaxation_runs_its_first_steps(seed) -> None:
    """150 steps of the relaxation and Benders' set-up both exceed the time left (their
    per-element times moved up): without the grouped bound the relaxation still runs in
    it when a couple of steps fit, and its bound stays below the brute-force optimum;
    when not even those fit, neither runs.  With the grouped bound (the default), that
    bound runs there instead."""
    inst, sets = _case(seed)
    kw = inst.model_kwargs(problem="usaphmp", p=2)
    model = build_model("usaphmp", inst.C, inst.W, **kw)
    params = SolveParameters(time_limit=30.0, method="heuristic")
    elements = model.pairs * len(model.data.candidates)
    slow = {**BEYOND.__dict__, "large_lagrangian_step_seconds": 3.0 / elements,
            "large_benders_setup_seconds": 1.0, "group_lagrangian": False}  # fmt: skip
    best = brute_single(inst.C, inst.W, sets, chi=1.0, alpha=0.75, delta=1.0)
    sol = model.solve(params, options=EngineOptions(**slow))
    assert not large_lagrangian_fits(model.pairs, len(model.data.candidates), 30.0,
                                     EngineOptions(**slow))  # fmt: skip
    assert "sa_lagrangian_bound" in sol.info
    assert "benders_bound" not in sol.info
    assert sol.bound <= best * (1 + 1e-9)
    none = model.solve(params, options=EngineOptions(**{**slow, "large_lagrangian_min_steps": 1e3}))
    assert "sa_lagrangian_bound" not in none.info
    assert "benders_bound" not in none.info
    assert none.bound <= best * (1 + 1e-9)
    grouped = model.solve(params, options=EngineOptions(**{**slow, "group_lagrangian": True}))
    assert "sa_lagrangian_bound" not in grouped.info
    assert "benders_bound" not in grouped.info
    assert 0 < grouped.info["group_bound"] <= best * (1 + 1e-9)
    assert grouped.bound <= best * (1 + 1e-9)
