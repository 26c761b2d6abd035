"""The grouped Lagrangian bound (issue 27): below the brute-force optimum of both
allocation rules on tiny instances of both kinds (every node a site with Euclidean
costs; demand points and separate sites with asymmetric non-metric costs), with fixed
hubs, excluded sites and fixed costs; its pruning changes no value; a stall with the
groups at their cap hands over only where the next bound fits the time left (all three
forms); the engine runs it where the path formulation's relaxation does not fit."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest

from hubopt.instances.random import random_euclidean
from hubopt.instances.random_case import random_case
from hubopt.models import SolveParameters, bounds, build_model
from hubopt.models.group_lagrangian import (
    StepControl,
    grouped_lagrangian_bound,
    node_groups,
    split_groups,
)
from hubopt.models.pair_group_lagrangian import pair_grouped_bound
from hubopt.models.sa_group_lagrangian import single_allocation_grouped_bound
from hubopt.models.strategy import EngineOptions
from tests.oracles import brute_multiple, brute_single, multiple_allocation_cost

FACTORS = {"chi": 3.0, "alpha": 0.75, "delta": 2.0}


def _euclidean(seed: int, n: int = 7):
    inst = random_euclidean(n, seed=seed)
    return np.asarray(inst.costs), np.asarray(inst.flows)




@pytest.mark.parametrize("groups", [1, 2, 4, 7])
@pytest.mark.parametrize("seed", [1, 2])
def test_bound_stays_below_both_optima_with_every_node_a_site(seed, groups) -> None:
    C, W = _euclidean(seed)
    sets = list(itertools.combinations(range(7), 2))
    ma = brute_multiple(C, W, sets, **FACTORS)
    sa = brute_single(C, W, sets, **FACTORS)
    model = build_model("umaphmp", C, W, p=2, **FACTORS)
    sol = model.solve(SolveParameters(time_limit=20.0))
    assert sol.objective == pytest.approx(ma, rel=1e-9)
    res = grouped_lagrangian_bound(model.data, upper=sa * 1.5, hubs=sol.hubs, deadline=None,
                                   groups=groups, max_steps=400)  # fmt: skip
    assert res.steps > 0
    assert 0 < res.bound <= ma * (1 + 1e-9) <= sa * (1 + 1e-9)


@pytest.mark.parametrize("problem", ["umaphmp", "usaphmp"])
@pytest.mark.parametrize("seed", [3, 4])
def test_bound_stays_below_the_optimum_on_non_metric_case_like_instances(problem, seed) -> None:
    inst = random_case(5, 4, seed=seed, flow_density=0.6, p=2)
    kw = inst.model_kwargs(problem=problem, p=2)
    sets = list(itertools.combinations(range(5, 9), 2))
    factors = {"chi": inst.chi, "alpha": inst.alpha, "delta": inst.delta}
    best = (brute_multiple if problem == "umaphmp" else brute_single)(inst.C, inst.W, sets,
                                                                      **factors)  # fmt: skip
    model = build_model(problem, inst.C, inst.W, **kw)
    res = grouped_lagrangian_bound(model.data, upper=best * 1.2, hubs=(5, 6), deadline=None,
                                   groups=3, max_steps=400)  # fmt: skip
    assert 0 < res.bound <= best * (1 + 1e-9)


def test_fixed_hubs_excluded_sites_and_fixed_costs_keep_it_below_the_optimum() -> None:
    C, W = _euclidean(5, n=7)
    pinned = build_model("umaphmp", C, W, p=3, fixed_hubs=(1,), excluded=(0, 6), **FACTORS)
    sets = [h for h in itertools.combinations(range(1, 6), 3) if 1 in h]
    best = brute_multiple(C, W, sets, **FACTORS)
    res = grouped_lagrangian_bound(pinned.data, upper=best * 1.3, hubs=sets[0], deadline=None,
                                   max_steps=400)  # fmt: skip
    assert 0 < res.bound <= best * (1 + 1e-9)
    f = np.linspace(50.0, 110.0, 7)
    located = build_model("umahlp", C, W, fixed_costs=f, **FACTORS)
    every = [h for r in range(1, 8) for h in itertools.combinations(range(7), r)]
    best = brute_multiple(C, W, every, f=f, **FACTORS)
    res = grouped_lagrangian_bound(located.data, upper=best * 1.3, hubs=(0, 3), deadline=None,
                                   max_steps=400)  # fmt: skip
    assert 0 < res.bound <= best * (1 + 1e-9)


def test_pruning_and_threads_change_no_value() -> None:
    inst = random_euclidean(40, seed=3)
    model = build_model("umaphmp", inst.costs, inst.flows, p=4, **FACTORS)
    hubs = (0, 10, 20, 30)
    upper = model.solve(SolveParameters(time_limit=20.0)).objective
    runs = [
        grouped_lagrangian_bound(model.data, upper=upper, hubs=hubs, deadline=None,
                                 max_steps=60, prune=prune)
        for prune in (True, False, True)
    ]
    assert runs[0].bound == runs[1].bound == runs[2].bound
    assert runs[0].steps == 60
    assert 0.8 * upper < runs[0].bound <= upper


def test_it_stops_when_it_stalls_and_at_the_incumbent() -> None:
    C, W = _euclidean(6)
    model = build_model("umaphmp", C, W, p=2, **FACTORS)
    sol = model.solve(SolveParameters(time_limit=20.0))
    stalled = grouped_lagrangian_bound(model.data, upper=sol.objective * 2, hubs=sol.hubs,
                                       deadline=None, stall_window=20)  # fmt: skip
    assert stalled.stalled
    assert stalled.bound <= sol.objective * (1 + 1e-9)
    low = grouped_lagrangian_bound(model.data, upper=1e-6 * sol.objective, hubs=sol.hubs,
                                   deadline=None)  # fmt: skip
    assert low.bound == 1e-6 * sol.objective  # an incumbent below the bound caps it
    assert low.steps == 1


@pytest.mark.parametrize("form", ["grouped", "pairs", "single"])
def test_a_stall_at_the_cap_ends_only_where_the_next_bound_fits(form) -> None:
    # at the cap a stall ends the bound for Benders; where Benders' set-up (handover)
    # does not fit the time left the steps go on, until the step vanishes here
    C, W = _euclidean(6)
    problem = "usaphmp" if form == "single" else "umaphmp"
    model = build_model(problem, C, W, p=2, **FACTORS)
    sol = model.solve(SolveParameters(time_limit=20.0))
    run = {"grouped": grouped_lagrangian_bound, "pairs": pair_grouped_bound,
           "single": single_allocation_grouped_bound}[form]  # fmt: skip
    far = time.perf_counter() + 3600.0
    common = {"upper": sol.objective * 2, "hubs": sol.hubs, "deadline": far,
              "stall_window": 20, "groups": 2}  # fmt: skip
    ends = run(model.data, **common, handover=10.0)
    goes_on = run(model.data, **common, handover=math.inf)
    assert ends.stalled
    assert not goes_on.stalled
    assert goes_on.steps > ends.steps
    assert ends.bound <= goes_on.bound <= sol.objective * (1 + 1e-9)
    ctl = StepControl(1.0, 40, stall_window=20, handover=math.inf)
    assert ctl.hand_over(None)  # no time limit: the next bound always fits
    assert not ctl.hand_over(far)
    assert ctl.stall_window == 0


def test_groups_gather_nodes_around_spread_anchors() -> None:
    inst = random_euclidean(60, seed=2)
    group = node_groups(np.asarray(inst.costs), 4)
    assert sorted(set(group.tolist())) == [0, 1, 2, 3]
    assert (node_groups(np.asarray(inst.costs), 1) == 0).all()
    C = np.asarray(inst.costs)
    same = group[:, None] == group[None, :]
    np.fill_diagonal(same, False)
    other = group[:, None] != group[None, :]
    assert C[same].mean() < 0.6 * C[other].mean()  # compact groups
    assert np.bincount(group).min() >= 5  # none is a lone outlier


@pytest.mark.parametrize("problem", ["umaphmp", "usaphmp"])
def test_the_engine_uses_it_where_the_relaxation_does_not_fit(problem) -> None:
    inst = random_case(6, 4, seed=7, flow_density=0.5, p=2)
    kw = inst.model_kwargs(problem=problem, p=2)
    model = build_model(problem, inst.C, inst.W, **kw)
    beyond = EngineOptions(max_sets=0, mip_max_n=0, benders_max_n=1, benders_many_hubs_max_n=1,
                           sa_lagrangian_max_n=1, sa_lagrangian_many_hubs_max_n=1,
                           large_lagrangian_max_bytes=0.0)  # fmt: skip
    params = SolveParameters(time_limit=20.0, method="heuristic")
    sol = model.solve(params, options=beyond)
    sets = list(itertools.combinations(range(6, 10), 2))
    factors = {"chi": inst.chi, "alpha": inst.alpha, "delta": inst.delta}
    best = (brute_multiple if problem == "umaphmp" else brute_single)(inst.C, inst.W, sets,
                                                                      **factors)  # fmt: skip
    assert "group_bound" in sol.info
    assert 0 < sol.info["group_bound"] <= best * (1 + 1e-9)
    assert sol.bound <= best * (1 + 1e-9)
    assert best <= sol.objective * (1 + 1e-9)
    off = model.solve(params, options=EngineOptions(**{**beyond.__dict__,
                                                       "group_lagrangian": False}))  # fmt: skip
    assert "group_bound" not in off.info


@pytest.mark.parametrize("problem", ["umaphmp", "umahlp"])
def test_from_the_facility_location_prices_the_first_bound_is_at_least_theirs(problem) -> None:
    inst = random_euclidean(30, seed=8)
    extra = {"p": 3} if problem == "umaphmp" else {"fixed_costs": np.full(30, 40.0)}
    model = build_model(problem, inst.costs, inst.flows, **extra, **FACTORS)
    median, reach, serve = bounds.median_multipliers(model.data, time_limit=None)
    assert median == bounds.lagrangian_median_bound(model.data, time_limit=None)
    upper = model.solve(SolveParameters(time_limit=20.0)).objective
    first = grouped_lagrangian_bound(model.data, upper=upper, hubs=(0,), deadline=None,
                                     max_steps=1, prices=(reach, serve))  # fmt: skip
    assert median * (1 - 1e-9) <= first.bound <= upper


def _reduction_cases():
    C, W = _euclidean(6, n=8)
    yield "p = 3", build_model("umaphmp", C, W, p=3, **FACTORS), C, W, None, list(
        itertools.combinations(range(8), 3))
    f = np.linspace(40.0, 160.0, 8)
    yield "fixed costs", build_model("umahlp", C, W, fixed_costs=f, **FACTORS), C, W, f, [
        h for r in range(1, 9) for h in itertools.combinations(range(8), r)]


@pytest.mark.parametrize("rank", [1, 3, 12])
def test_the_reduction_keeps_every_hub_set_cheaper_than_the_incumbent(rank) -> None:
    """Every hub set cheaper than the ``upper`` the bound is given (brute force) avoids
    the sites it shuts and holds the sites it opens; with an incumbent near the optimum
    it shuts some."""
    shut_any = False
    for _, model, C, W, f, sets in _reduction_cases():
        cost = {h: multiple_allocation_cost(C, W, h, f=f, **FACTORS) for h in sets}
        upper = sorted(cost.values())[rank]
        res = grouped_lagrangian_bound(model.data, upper=upper, hubs=min(cost, key=cost.get),
                                       deadline=None, groups=4, max_steps=300)  # fmt: skip
        assert not set(res.closed) & set(res.opened)
        cheaper = [h for h, c in cost.items() if c < upper * (1 - 1e-9)]
        assert cheaper
        for h in cheaper:
            assert not set(h) & set(res.closed), (h, res.closed)
            assert set(res.opened) <= set(h), (h, res.opened)
        assert res.bound <= min(cost.values()) * (1 + 1e-9)
        shut_any = shut_any or bool(res.closed)
    assert shut_any or rank > 3



def test_without_the_reduction_no_site_is_shut_or_opened() -> None:
    _, model, C, W, _f, sets = next(_reduction_cases())
    upper = sorted(multiple_allocation_cost(C, W, h, **FACTORS) for h in sets)[12]
    res = grouped_lagrangian_bound(model.data, upper=upper, hubs=sets[0], deadline=None,
                                   groups=4, max_steps=300, reduce=False)  # fmt: skip
    assert res.steps > 0
    assert res.closed == ()
    assert res.opened == ()


def test_split_groups_cut_each_group_in_two_compact_halves() -> None:
    inst = random_euclidean(60, seed=2)
    C = np.asarray(inst.costs)
    group = node_groups(C, 4)
    finer, parent = split_groups(C, group)
    assert parent.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert (parent[finer] == group).all()  # each child within its parent
    assert np.bincount(finer).min() >= 1
    lone, kept = split_groups(C[:1, :1], np.array([0]))
    assert lone.tolist() == [0]
    assert kept.tolist() == [0]


def test_finer_groups_when_stalled_raise_the_bound_and_stay_below_the_optimum() -> None:
    """From one group (the flow formulation's relaxation, about 1.4 % below the optimum
    here) the cuts close most of the gap; every bound stays below the brute force."""
    inst = random_euclidean(9, seed=4)
    C, W = np.asarray(inst.costs), np.asarray(inst.flows)
    best = brute_multiple(C, W, list(itertools.combinations(range(9), 2)), **FACTORS)
    model = build_model("umaphmp", C, W, p=2, **FACTORS)
    kw = {"upper": best * 1.05, "hubs": (0, 1), "deadline": None, "groups": 1,
          "max_steps": 3000, "stall_window": 100, "reduce": False}
    one = grouped_lagrangian_bound(model.data, **kw)
    cut = grouped_lagrangian_bound(model.data, max_groups=9, **kw)
    assert one.groups == 1
    assert cut.groups > 1
    assert one.bound < 0.99 * best
    assert one.bound <= cut.bound <= best * (1 + 1e-9)
    assert cut.bound > 0.999 * best


def test_a_cut_keeps_the_bound_of_the_parent_groups() -> None:
    """Children inherit their parent's multipliers: the first step after the cut has the
    value of the last step before it (no step is taken in between)."""
    inst = random_euclidean(12, seed=5)
    model = build_model("umaphmp", np.asarray(inst.costs), np.asarray(inst.flows), p=3,
                        **FACTORS)  # fmt: skip
    kw = {"upper": 1e12, "hubs": (0, 1, 2), "deadline": None, "groups": 2, "reduce": False}
    # a stall window of 1 with an unreachable share: a cut after every step
    cut = grouped_lagrangian_bound(model.data, max_groups=4, stall_window=1,
                                   stall_share=2.0, max_steps=3, **kw)  # fmt: skip
    plain = grouped_lagrangian_bound(model.data, max_steps=2, **kw)
    assert cut.groups == 4
    assert cut.bound == pytest.approx(plain.bound, rel=1e-12)


def test_the_routes_kernel_prices_every_od_pair_at_its_cheapest_hub_pair() -> None:
    # more origins in a group than one block of the kernel's scan, sparse flows and a
    # subset of sites: the value and the routed flows against every hub pair in numpy
    from hubopt.models._group_kernels import price_routes, triangle_slack

    inst = random_euclidean(90, seed=4)
    rng = np.random.default_rng(7)
    C = np.ascontiguousarray(inst.costs)
    W = np.ascontiguousarray(inst.flows * (rng.random(C.shape) < 0.4))
    W[5] = 0.0
    sites = np.sort(rng.choice(90, size=25, replace=False))
    rows = np.flatnonzero(W.sum(axis=1) > 0)
    group = node_groups(C, 2)
    lam = rng.random((90, 2, 25)) * C.mean() * 0.2
    mu = rng.random((90, 2, 25)) * C.mean() * 0.2
    chi, alpha, delta = 1.0, 0.6, 1.2
    value, used_out, used_in = price_routes(
        np.ascontiguousarray(C[:, sites]), np.ascontiguousarray(C[np.ix_(sites, sites)]),
        np.ascontiguousarray(C[sites, :]), W, chi, alpha, delta, lam, mu, group, rows, True,
        triangle_slack(C, sites, rows))
    want = 0.0
    want_out = np.zeros_like(lam)
    want_in = np.zeros_like(mu)
    between = alpha * C[np.ix_(sites, sites)]
    for i, j in zip(*np.nonzero(W), strict=True):
        route = ((chi * C[i, sites] + lam[i, group[j]])[:, None] + between
                 + (delta * C[sites, j] + mu[j, group[i]])[None, :])
        a, b = np.unravel_index(np.argmin(route), route.shape)
        want += W[i, j] * route[a, b]
        want_out[i, group[j], a] += W[i, j]
        want_in[j, group[i], b] += W[i, j]
    assert max(np.bincount(group[rows])) > 32
    assert value == pytest.approx(want, rel=1e-12)
    np.testing.assert_allclose(used_out, want_out, rtol=1e-12)
    np.testing.assert_allclose(used_in, want_in, rtol=1e-12)

