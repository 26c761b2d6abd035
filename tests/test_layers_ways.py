"""The compiled way graph against independent truths: brute force on random data,
networkx degrees, pandas' own text dtype, the online (osmnx) path on the same ways, and
the per-point country lookup."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from test_layers_pbf import _filtered_xml, _osmnx_graph
from test_network_helpers import osm_file

from hubopt.layers import Mode
from hubopt.layers import _ways_kernels as kernels
from hubopt.layers._osm import way_graph_of
from hubopt.layers._pbf import scan_osm_file
from hubopt.layers._ways import build_way_graph, string_array
from hubopt.layers.road import road_speeds
from hubopt.profiles import load_profiles


def test_edge_value_sets_are_the_distinct_sorted_codes_of_each_edge() -> None:
    rng = np.random.default_rng(7)
    seg_edge = np.sort(rng.integers(0, 300, 2000))
    seg_code = rng.integers(-1, 12, 2000)
    off, codes = kernels.edge_sets(310, seg_edge, seg_code)
    for e in range(310):
        truth = sorted({int(c) for c, s in zip(seg_code, seg_edge, strict=True)
                        if s == e and c >= 0})
        assert codes[off[e]:off[e + 1]].tolist() == truth
    # segments out of edge order are refused (the caller sorts them first)
    assert len(kernels.edge_sets(310, seg_edge[::-1], seg_code)[0]) == 0


def test_simple_degree_is_networkx_degree_of_the_simple_graph() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(0, 60, 400)
    b = rng.integers(0, 60, 400)  # parallel edges and self-loops included
    g = nx.Graph()
    g.add_nodes_from(range(60))
    g.add_edges_from(zip(a.tolist(), b.tolist(), strict=True))
    assert kernels.simple_degree(60, a, b).tolist() == [g.degree(x) for x in range(60)]


@pytest.mark.parametrize("values", [["a", None, "b;c", "a"], [None, None], []])
def test_text_columns_have_the_dtype_and_values_pandas_infers(values) -> None:
    labels = np.array(sorted({v for v in values if v is not None}), dtype=object)
    codes = np.array([-1 if v is None else labels.tolist().index(v) for v in values],
                     dtype="int64")
    expected = pd.Series(np.array(values, dtype=object))
    got = pd.Series(string_array(codes, labels))
    assert got.dtype == expected.dtype
    pd.testing.assert_series_equal(got, expected)


@pytest.fixture(scope="module")
def malta_two_ways(tmp_path_factory):
    """Malta's road graph from the file, and from osmnx's graph of the same ways."""
    xml = _filtered_xml(osm_file("malta"), Mode.ROAD,
                        tmp_path_factory.mktemp("malta-ways") / "road.osm")
    online = way_graph_of(_osmnx_graph(xml))
    return build_way_graph(scan_osm_file(osm_file("malta")).ways[Mode.ROAD]), online


def test_the_online_path_gives_the_same_layer_frames_as_the_file(malta_two_ways) -> None:
    """osmnx graphs (online sources) carry merged tags as lists and no node positions;
    their frames, degrees, components and speeds equal the file's."""
    g, online = malta_two_ways
    assert online.u_index is None
    assert len(online) == len(g) > 40_000
    profile = load_profiles()[Mode.ROAD]
    frames = []
    for graph in (g, online):
        keep = graph.keep_components(50)
        # not ``oneway``: osmnx's flag on merged edges follows its own rules (a list on
        # 270 Malta edges, missing on 2,449), as it did before the compiled graph
        nodes, edges = graph.frames(Mode.ROAD, ("maxspeed", "ref"), keep=keep)
        edges = pd.DataFrame(edges.drop(columns="geometry"))
        edges["speed"] = road_speeds(graph, profile)[keep]
        edges["degree_v"] = graph.end_degree()[keep]
        degree = graph.node_degree()
        assert (edges["degree_v"].to_numpy() == degree.reindex(edges["v"]).to_numpy()).all()
        frames.append((nodes.drop(columns="geometry"),
                       edges.sort_values(["u", "v", "length_m"]).reset_index(drop=True)))
    (n1, e1), (n2, e2) = frames
    pd.testing.assert_frame_equal(n1, n2)
    # hubopt's Earth radius is 6,371,008.8 m, osmnx's 6,371,009 m: 3e-8 apart
    pd.testing.assert_frame_equal(e1, e2, check_exact=False, rtol=1e-7)


def test_countries_decided_per_cell_equal_the_nearest_city_lookup() -> None:
    from hubopt.demand import country_codes
    from hubopt.layers._hgv import countries_of

    rng = np.random.default_rng(11)
    # dense points over borders (Benelux, Germany, Denmark) and around Malta's nodes
    lon = np.concatenate([rng.uniform(3.0, 12.0, 40_000), rng.uniform(14.1, 14.6, 5_000)])
    lat = np.concatenate([rng.uniform(49.0, 56.0, 40_000), rng.uniform(35.8, 36.1, 5_000)])
    expected = np.array(country_codes(lon, lat), dtype=object)
    got = countries_of(lon, lat)
    assert len(set(expected.tolist())) >= 5
    assert got.tolist() == expected.tolist()


def test_the_decoders_node_numbers_build_the_graph_that_sorting_the_references_builds(
        tmp_path, monkeypatch) -> None:
    import dataclasses

    from hubopt import settings

    monkeypatch.setattr(settings, "cache_folder", tmp_path / "cache")
    ways = scan_osm_file(osm_file("malta")).ways[Mode.ROAD]
    assert ways.node is not None
    assert len(ways.node) == len(ways.refs)
    # equal references, equal numbers; larger ids, larger numbers
    order = np.argsort(ways.refs, kind="stable")
    r, k = ways.refs[order], ways.node[order]
    assert ((np.diff(r) == 0) == (np.diff(k) == 0)).all()
    assert (np.diff(k) >= 0).all()
    counted = build_way_graph(ways)
    sorted_ = build_way_graph(dataclasses.replace(ways, node=None))
    for name in ("node_id", "lon", "lat", "u", "v", "length_m", "seg_edge", "seg_way",
                 "u_index", "v_index"):
        np.testing.assert_array_equal(getattr(counted, name), getattr(sorted_, name))
    assert all(a.equals(b) for a, b in zip(counted.geometry, sorted_.geometry, strict=True))
