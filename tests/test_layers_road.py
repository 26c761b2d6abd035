"""Road layer from real OSM extracts: PBF, XML and clipped files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import osmium
import pytest
from test_network_helpers import helsinki_pbf, osm_file

from hubopt.layers import Mode, Source, extract_layer
from hubopt.layers._geo import haversine_m
from hubopt.layers._osm import parse_speed_kmh
from hubopt.layers._pbf import is_road_way


@pytest.fixture(scope="module")
def kiel_road():
    return extract_layer("road", osm_file("kiel"))


def test_road_edges_join_existing_nodes_and_carry_costs(kiel_road) -> None:
    edges, nodes = kiel_road.edges, kiel_road.nodes
    assert len(edges) > 500
    assert edges["u"].isin(nodes.index).all()
    assert edges["v"].isin(nodes.index).all()
    assert (edges["mode"] == "road").all()
    free = edges["length_m"] / 1000 / edges["speed_kmh"]
    # time = length / speed, plus the junction delay where the edge runs into a junction
    assert (edges["time_h"] >= free - 1e-12).all()
    assert (edges["time_h"] - free).max() <= 20 / 3600
    assert (edges["cost"] > 0).all()
    assert (edges["co2_kg"] > 0).all()


def test_road_speed_comes_from_maxspeed_when_tagged(kiel_road) -> None:
    edges = kiel_road.edges
    tagged = edges[edges["maxspeed"].isin(["30", "50"])]
    assert len(tagged) > 20
    np.testing.assert_allclose(tagged["speed_kmh"], tagged["maxspeed"].astype(float))


def test_road_edge_length_is_at_least_the_great_circle_between_its_ends(kiel_road) -> None:
    e, n = kiel_road.edges, kiel_road.nodes
    straight = haversine_m(n.loc[e["u"], "x"], n.loc[e["u"], "y"], n.loc[e["v"], "x"],
                           n.loc[e["v"], "y"])
    assert (e["length_m"].to_numpy() >= straight * 0.999 - 0.5).all()


def test_road_layer_from_osm_xml_equals_layer_from_pbf(kiel_road, tmp_path: Path) -> None:
    """An .osm XML copy of the Kiel extract (all ways, buildings included) gives the same layer."""
    xml = tmp_path / "kiel.osm"
    with osmium.SimpleWriter(str(xml)) as writer:
        for obj in osmium.FileProcessor(str(osm_file("kiel"))):
            writer.add(obj)
    from_xml = extract_layer(Mode.ROAD, Source.xml(xml))
    assert sorted(from_xml.nodes.index) == sorted(kiel_road.nodes.index)
    assert len(from_xml.edges) == len(kiel_road.edges)
    assert from_xml.edges["length_m"].sum() == pytest.approx(kiel_road.edges["length_m"].sum())


def test_clipped_helsinki_extract_with_missing_node_refs_builds_a_road_layer() -> None:
    path = helsinki_pbf()
    # the file really references nodes it does not contain
    present = {n.id for n in osmium.FileProcessor(str(path), osmium.osm.NODE)}
    missing = sum(1 for w in osmium.FileProcessor(str(path), osmium.osm.WAY)
                  if is_road_way(dict(w.tags)) and any(r.ref not in present for r in w.nodes))
    assert missing > 0
    layer = extract_layer("road", path)
    assert len(layer.edges) > 100
    assert layer.edges["u"].isin(layer.nodes.index).all()


@pytest.mark.parametrize(("text", "kmh"), [("50", 50.0), ("30 mph", 48.28032), ("60;80", 60.0),
                                         ("none", None), (None, None)])
def test_maxspeed_parser_reads_osm_values(text, kmh) -> None:
    got = parse_speed_kmh(text)
    assert got == (pytest.approx(kmh) if kmh is not None else None)


def test_a_merged_edge_gets_the_slowest_class_whatever_the_way_order() -> None:
    # an edge merged from a trunk and a residential way takes the residential speed
    # (the conservative one), whichever way comes first
    import shapely

    from hubopt.layers._pbf import TagColumn
    from hubopt.layers._ways import WayGraph
    from hubopt.layers.road import road_speeds
    from hubopt.profiles import load_profiles

    profile = load_profiles()[Mode.ROAD]
    speeds = []
    for classes in (["trunk", "residential"], ["residential", "trunk"]):
        graph = WayGraph(np.array([1, 2]), np.array([0.0, 0.01]), np.array([0.0, 0.0]),
                         np.array([1]), np.array([2]), np.array([1000.0]),
                         np.array([shapely.LineString([(0, 0), (0.01, 0)])], dtype=object),
                         np.array([0, 0]), np.array([0, 1]),
                         {"highway": TagColumn.of(classes),
                          "maxspeed": TagColumn.of([None, None])})
        speeds.append(float(road_speeds(graph, profile)[0]))
    assert speeds == [profile.speed_by_class["residential"]] * 2
