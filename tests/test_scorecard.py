"""Scorecard measures and the failure analysis against brute force on small instances."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from hubopt.case import Metric, Target
from hubopt.models.base import HubData, Problem
from hubopt.records import Solved
from hubopt.scorecard import (
    HubMeasure,
    Measures,
    evaluate_targets,
    failure_cost,
    reallocate_without,
    share_within,
    trunk_pairs,
)


def _instance(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (n, 2))
    C = np.linalg.norm(xy[:, None] - xy[None, :], axis=2) * rng.uniform(1.0, 1.3, (n, n))
    np.fill_diagonal(C, 0.0)
    W = rng.uniform(0, 10, (n, n))
    np.fill_diagonal(W, 0.0)
    return C, W


def _solved(C: np.ndarray, W: np.ndarray, hubs: tuple[int, ...], alloc: np.ndarray,
            problem: Problem, chi: float, alpha: float, delta: float) -> Solved:
    data = HubData(costs=C, flows=W, chi=chi, alpha=alpha, delta=delta)
    single = alloc if alloc.ndim == 1 else None
    multiple = alloc if alloc.ndim == 3 else None
    return Solved(hubs, single, multiple, 0.0, 0.0, 0.0, "optimal", 0.0, "test",
                  problem=problem, data=data, allocation=alloc)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_multiple_allocation_failure_reroutes_every_pair_through_the_remaining_hubs(
        seed: int) -> None:
    C, W = _instance(7, seed)
    hubs = (1, 4, 5)
    chi, alpha, delta = 1.0, 0.6, 1.2
    routes = np.zeros((7, 7, 2), dtype=int) + 1
    solved = _solved(C, W, hubs, routes, Problem.UMAPHMP, chi, alpha, delta)
    for down in hubs:
        rest = [h for h in hubs if h != down]
        want = sum(W[i, j] * min(chi * C[i, k] + alpha * C[k, m] + delta * C[m, j]
                                 for k in rest for m in rest)
                   for i, j in itertools.product(range(7), repeat=2))
        assert failure_cost(solved, down) == pytest.approx(want)


def test_single_allocation_failure_moves_only_the_failed_hubs_nodes() -> None:
    C, W = _instance(6, 3)
    alloc = np.array([2, 2, 2, 5, 5, 5])
    solved = _solved(C, W, (2, 5), alloc, Problem.USAPHMP, 1.0, 0.75, 1.0)
    new = np.array([5, 5, 5, 5, 5, 5])  # hub 2 down: its nodes go to the only other hub
    want = sum(W[i, j] * (C[i, new[i]] + 0.75 * C[new[i], new[j]] + C[new[j], j])
               for i in range(6) for j in range(6))
    assert failure_cost(solved, 2) == pytest.approx(want)
    assert failure_cost(_solved(C, W, (2,), np.full(6, 2), Problem.USAPHMP, 1.0, 0.75, 1.0),
                        2) == math.inf


def test_failed_hub_sends_its_nodes_to_the_cheapest_other_hub() -> None:
    C, _ = _instance(6, 4)
    alloc = np.array([0, 0, 3, 3, 5, 5])
    new = reallocate_without(C, alloc, [0, 3, 5], 3)
    assert set(new.tolist()) <= {0, 5}
    for i in (2, 3):
        assert new[i] == min((0, 5), key=lambda k: C[i, k])
    assert (new[[0, 1, 4, 5]] == alloc[[0, 1, 4, 5]]).all()


def test_share_within_counts_weight_reaching_an_open_column() -> None:
    minutes = np.array([[10.0, 80.0], [70.0, 50.0], [90.0, 95.0]])
    w = np.array([1.0, 2.0, 3.0])
    assert share_within(minutes, w, [0], 60) == pytest.approx(1 / 6)
    assert share_within(minutes, w, [0, 1], 60) == pytest.approx(3 / 6)
    assert share_within(minutes, w, [], 60) == 0.0


def test_trunk_pairs_join_hubs_that_share_a_component() -> None:
    comps = {"rail": [frozenset({1}), frozenset({1}), frozenset({2})],
             "sea": [frozenset({7}), frozenset(), frozenset({7})]}
    pairs = trunk_pairs([0, 1, 2], ["a", "b", "c"], comps)
    assert pairs == (("a", "b", ("rail",)), ("a", "c", ("sea",)), ("b", "c", ()))


def _measures(hubs: tuple[HubMeasure, ...]) -> Measures:
    return Measures(access_minutes=60.0, mode_reach_minutes=30.0, population_total=100.0,
                    population_near_hub=70.0, population_near_hub_best=75.0, hubs=hubs,
                    trunk_pairs=(("a", "b", ("rail",)),), objective=1.0, fixed_cost_total=0.0,
                    objective_by_mode={})


def test_targets_pass_fail_and_unreachable() -> None:
    hub = HubMeasure("a", 0, {}, ("road", "rail"), False, cost_increase=1.0,
                     cost_increase_share=0.3, population_lost=20.0, population_lost_share=0.2)
    m = _measures((hub,))
    targets = [
        Target("near", Metric.POPULATION_NEAR_HUB, ">=", 0.6, "s", minutes=60.0),
        Target("near_hi", Metric.POPULATION_NEAR_HUB, ">=", 0.72, "s", minutes=60.0),
        Target("near_max", Metric.POPULATION_NEAR_HUB, ">=", 0.9, "s", minutes=60.0),
        Target("full", Metric.FULL_HUB_COUNT, ">=", 1, "s"),
        Target("n1", Metric.RESILIENCE_POPULATION_LOSS, "<=", 0.1, "s"),
        Target("trunk", Metric.TRUNK_CONNECTED, "==", 1.0, "s"),
    ]
    r = {t.id: t for t in evaluate_targets(targets, m)}
    assert r["near"].passed
    assert r["near"].value == pytest.approx(0.7)
    assert not r["near_hi"].passed
    assert not r["near_hi"].unreachable  # opening more sites would reach 0.75
    assert not r["near_max"].passed
    assert r["near_max"].unreachable  # even all sites give 0.75 < 0.9
    assert not r["full"].passed
    assert not r["n1"].passed
    assert r["n1"].value == pytest.approx(0.2)
    assert r["trunk"].passed


def test_motorway_junctions_lie_near_osm_tagged_junctions(osm_data_dir: Path) -> None:
    """Baltimore's extract: every OSM ``highway=motorway_junction`` has a ramp end nearby."""
    import osmium

    from hubopt.demand import great_circle_km
    from hubopt.matrices import motorway_junctions
    from hubopt.network import build_network

    pbf = osm_data_dir / "baltimore_2015-02.osm.pbf"
    if not pbf.is_file():
        pytest.skip(f"{pbf} not found")
    net = build_network(source=pbf, modes="road")
    nodes = motorway_junctions(net)
    assert nodes is not None
    assert len(nodes) > 0
    tagged = [(n.location.lon, n.location.lat) for n in osmium.FileProcessor(str(pbf))
              .with_filter(osmium.filter.TagFilter(("highway", "motorway_junction")))
              if n.is_node()]
    assert tagged, "the extract has tagged motorway junctions"
    x = net.nodes.loc[nodes, "x"].to_numpy()
    y = net.nodes.loc[nodes, "y"].to_numpy()
    inner = [(lon, lat) for lon, lat in tagged if -76.60 < lon < -76.54 and 39.265 < lat < 39.30]
    assert len(inner) >= 3
    for lon, lat in inner:
        assert float(great_circle_km(x, y, lon, lat).min()) < 1.5
