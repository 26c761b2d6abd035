"""``hubopt matrix`` routing (contraction hierarchy, many-to-many) against brute force.

The truth is networkx's Dijkstra on the network with the points' edges split
(:func:`hubopt.snapping.snap_to_edges`), summed along its path: distance, time, money cost
and the mode chain, on every ordered pair.
"""

from __future__ import annotations

import functools
import itertools
import sys
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from test_network_helpers import network_of, osm_file

from hubopt.hierarchy import Hierarchy, Seeds, join_chains, unpack_chain
from hubopt.layers import EmptyLayerWarning
from hubopt.network import MultimodalNetwork, build_network, main_component_mask
from hubopt.od_matrix import od_table
from hubopt.snapping import snap_to_edges

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import tiled_road


@functools.cache
def kiel_tiled() -> MultimodalNetwork:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyLayerWarning)
        road = build_network(source=osm_file("kiel"), modes="road")
    return tiled_road.tile_network(road, 2, 2)


def _brute_force(net: MultimodalNetwork, lon: np.ndarray,
                 lat: np.ndarray) -> dict[tuple[int, int], tuple[float, float, float, str]]:
    """networkx on the split network: (distance_km, time_h, cost, modes) per pair."""
    snap = snap_to_edges(net, lon, lat)
    split, pts = snap.network, snap.points
    e = split.edges
    g = nx.DiGraph()
    for row in e[["u", "v", "length_m", "time_h", "cost"]].itertuples(index=False):
        u, v = int(row.u), int(row.v)
        if u != v and (not g.has_edge(u, v) or row.cost < g[u][v]["cost"]):
            g.add_edge(u, v, cost=row.cost, length_m=row.length_m, time_h=row.time_h)
    modes = split.nodes["mode"].astype(str).to_numpy()
    road = net.profiles["road"]
    km = pts.distance_m / 1000.0 * road.param("connector_detour", 1.0)
    out = {}
    for i in range(len(lon)):
        paths = nx.single_source_dijkstra_path(g, int(pts.node[i]), weight="cost")
        for j in range(len(lon)):
            path = paths.get(int(pts.node[j]))
            if i == j or path is None:
                continue
            hops = list(itertools.pairwise(path))
            chain: list[str] = []
            for m in modes[path]:
                if not chain or chain[-1] != m:
                    chain.append(str(m))
            out[i, j] = (
                sum(g[a][b]["length_m"] for a, b in hops) / 1000.0 + km[i] + km[j],
                sum(g[a][b]["time_h"] for a, b in hops) + pts.time_h[i] + pts.time_h[j],
                sum(g[a][b]["cost"] for a, b in hops) + pts.cost[i] + pts.cost[j],
                ">".join(chain))
    return out


def _assert_table_matches(net: MultimodalNetwork, lon: np.ndarray, lat: np.ndarray) -> None:
    names = [f"p{i}" for i in range(len(lon))]
    frame = od_table(net, names, lon, lat).frame
    truth = _brute_force(net, lon, lat)
    assert len(frame) == len(names) * (len(names) - 1)
    for row in frame.itertuples(index=False):
        i, j = names.index(row.origin), names.index(row.destination)
        if (i, j) not in truth:
            assert np.isnan(row.cost)
            continue
        d, t, c, modes = truth[i, j]
        assert row.cost == pytest.approx(c, rel=1e-7, abs=1e-12)
        assert row.distance_km == pytest.approx(d, rel=1e-6, abs=1e-9)
        assert row.time_h == pytest.approx(t, rel=1e-6, abs=1e-12)
        assert row.modes == modes


def test_od_table_on_a_tiled_road_graph_equals_brute_force_on_every_pair() -> None:
    net = kiel_tiled()
    pts = tiled_road.sample_points(net, 24, seed=3, jitter_m=150.0)
    _assert_table_matches(net, pts["lon"].to_numpy(), pts["lat"].to_numpy())


def test_od_table_mode_chains_equal_brute_force_on_the_multimodal_kiel_network() -> None:
    net = network_of("kiel")
    # points at the sea terminals' nearest roads and at random road nodes
    rng = np.random.default_rng(5)
    road = np.flatnonzero(net.nodes["mode"].astype(str).to_numpy() == "road")
    pick = rng.choice(road, 14, replace=False)
    lon = net.nodes["x"].to_numpy()[pick] + rng.normal(0, 0.001, len(pick))
    lat = net.nodes["y"].to_numpy()[pick] + rng.normal(0, 0.001, len(pick))
    _assert_table_matches(net, lon, lat)


def test_batched_origins_give_the_same_table_as_one_batch() -> None:
    net = kiel_tiled()
    pts = tiled_road.sample_points(net, 30, seed=4)
    names = list(pts["name"])
    whole = od_table(net, names, pts["lon"], pts["lat"]).frame
    for batch in (1, 7, 29):
        assert od_table(net, names, pts["lon"], pts["lat"], batch_size=batch).frame.equals(whole)


def test_tiles_are_shifted_copies_joined_into_one_component() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyLayerWarning)
        road = build_network(source=osm_file("kiel"), modes="road")
    net = kiel_tiled()
    assert net.n_nodes == 4 * road.n_nodes
    joins = net.edges[net.edges["kind"] == "tile_join"]
    assert len(net.edges) == 4 * len(road.edges) + len(joins)
    assert len(joins) > 0
    assert len(set(net.nodes["node_id"])) == net.n_nodes  # new ids in every tile
    # the tiles' main parts join into one strongly connected component
    assert main_component_mask(net).sum() >= 4 * main_component_mask(road).sum()


def _random_graph(rng: np.random.Generator, n: int, m: int,
                  integer: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    u, v = rng.integers(0, n, m), rng.integers(0, n, m)
    w = rng.integers(0, 4, m).astype(float) if integer else rng.random(m)
    _, first = np.unique(u * n + v, return_index=True)
    u, v, w = u[first], v[first], w[first]
    keep = u != v
    return u[keep], v[keep], w[keep]


def test_hierarchy_equals_dijkstra_on_random_graphs_with_ties_and_zero_weights() -> None:
    rng = np.random.default_rng(0)
    for trial in range(40):
        n = int(rng.integers(2, 80))
        u, v, w = _random_graph(rng, n, int(rng.integers(1, 5 * n)), integer=trial % 2 == 0)
        attrs = np.column_stack([3.0 * w, np.ones(len(w))])
        h = Hierarchy.from_edges(n, u, v, w, attrs, np.ones(len(w), dtype="int64"),
                                 settle_limit=int(rng.integers(1, 30)))
        truth = dijkstra(sp.csr_matrix((w, (u, v)), shape=(n, n)), directed=True)
        seeds = Seeds.at_nodes(np.arange(n), np.ones(n, dtype="int64"), 2)
        cost, sums, _ = h.many_to_many(seeds, seeds)
        np.testing.assert_allclose(cost, truth, rtol=1e-12, atol=1e-12)
        fin = np.isfinite(truth)
        np.testing.assert_allclose(sums[..., 0][fin], 3.0 * truth[fin], rtol=1e-9, atol=1e-9)


def test_hierarchy_chains_follow_the_least_cost_path_modes() -> None:
    rng = np.random.default_rng(1)
    n = 60
    u, v, w = _random_graph(rng, n, 240, integer=False)
    mode = rng.integers(1, 4, n)
    h = Hierarchy.from_edges(n, u, v, w, np.zeros((len(w), 1)), join_chains(mode[u], mode[v]))
    seeds = Seeds.at_nodes(np.arange(n), mode, 1)
    cost, _, chains = h.many_to_many(seeds, seeds)
    g = nx.DiGraph()
    g.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist(), strict=True))
    g.add_nodes_from(range(n))
    for s in range(n):
        paths = nx.single_source_dijkstra_path(g, s)
        for t in range(n):
            if t not in paths:
                assert not np.isfinite(cost[s, t])
                continue
            want: list[int] = []
            for m in mode[paths[t]].tolist():
                if not want or want[-1] != m:
                    want.append(m)
            assert unpack_chain(int(chains[s, t])) == tuple(want)
