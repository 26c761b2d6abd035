"""Rail layer from real OSM extracts (Baltimore's freight rail, Kiel's port spurs)."""

from __future__ import annotations

import numpy as np
import osmium
import pytest
from test_network_helpers import osm_file

from hubopt.layers import extract_layer
from hubopt.layers._geo import haversine_m
from hubopt.profiles import default_profiles


@pytest.fixture(scope="module")
def baltimore_rail():
    return extract_layer("rail", osm_file("baltimore"))


def test_rail_graph_matches_the_counts_in_the_data_readme(baltimore_rail) -> None:
    """The shared README counts 699 nodes and 1,792 edges for Baltimore's rail graph."""
    assert len(baltimore_rail.nodes) == 699
    assert len(baltimore_rail.edges) == 1792


def test_rail_edges_keep_osm_attributes_and_speeds(baltimore_rail) -> None:
    e = baltimore_rail.edges
    assert (e["kind"] == "rail").all()
    assert (e["gauge"] == "1435").any()  # standard gauge, as tagged in OSM
    cap = default_profiles()["rail"].param("freight_speed_cap_kmh")
    assert (e["speed_kmh"] <= cap).all()
    np.testing.assert_allclose(e["time_h"], e["length_m"] / 1000 / e["speed_kmh"])


def test_rail_terminals_sit_on_rail_nodes_near_their_yards(baltimore_rail) -> None:
    """Each terminal is a rail node within the radius of a yard or station in the file."""
    t = baltimore_rail.terminals
    assert len(t) >= 50
    assert set(t["kind"]) <= {"station", "yard", "freight_terminal"}
    assert t["node_id"].isin(baltimore_rail.nodes.index).all()
    yard_ways = sum(1 for w in osmium.FileProcessor(str(osm_file("baltimore")), osmium.osm.WAY)
                    if w.tags.get("railway") == "rail" and w.tags.get("service") == "yard")
    assert len(t[t["kind"] == "yard"]) <= yard_ways
    radius = default_profiles()["rail"].param("terminal_radius_m")
    n = baltimore_rail.nodes.loc[t["node_id"]]
    assert (haversine_m(t.geometry.x, t.geometry.y, n["x"], n["y"]) <= radius).all()


def test_kiel_port_spurs_give_a_small_rail_layer() -> None:
    layer = extract_layer("rail", osm_file("kiel"))
    assert (len(layer.nodes), len(layer.edges)) == (8, 18)  # README: 8 / 18
