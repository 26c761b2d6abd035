"""Sea layer: OSM ferries and ports, searoute ports and lanes (Kiel, Malta)."""

from __future__ import annotations

import pytest
from test_network_helpers import osm_file

from hubopt.layers import extract_layer
from hubopt.layers.world import searoute_ports


@pytest.fixture(scope="module")
def kiel_sea():
    return extract_layer("sea", osm_file("kiel"))


def test_kiel_ferries_to_oslo_and_goteborg_become_sea_edges(kiel_sea) -> None:
    ferries = kiel_sea.edges[kiel_sea.edges["kind"] == "ferry"]
    names = set(ferries["name"].dropna())
    assert "Kiel – Oslo" in names
    assert "Kiel – Göteborg" in names
    assert (ferries["mode"] == "sea").all()
    assert (ferries["length_m"] > 0).all()


def test_kiel_ports_are_terminals_joined_to_the_sea_lanes(kiel_sea) -> None:
    t = kiel_sea.terminals
    assert {"harbour", "ferry_terminal"} <= set(t["kind"])
    legs = kiel_sea.edges[kiel_sea.edges["kind"] == "port_leg"]
    assert set(t["node_id"]) <= set(legs["u"])  # every port has a leg to a lane
    lanes = kiel_sea.edges[kiel_sea.edges["kind"] == "lane"]
    assert len(lanes) > 10


def test_malta_freeport_and_gozo_ferry_are_in_the_sea_layer() -> None:
    layer = extract_layer("sea", osm_file("malta"))
    merged = layer.edges.loc[layer.edges["kind"] == "ferry", "name"].dropna()
    names = {part for name in merged for part in name.split(";")}  # simplified edges join names
    assert "Malta-Gozo" in names
    ports = layer.terminals[layer.terminals["kind"] == "port"]
    assert "Il-Port Ħieles ta' Malta" in set(ports["name"])  # industrial=port (Freeport)


def test_searoute_port_inside_the_region_keeps_its_locode(kiel_sea) -> None:
    sr = searoute_ports()
    inside = sr[(sr["lon"].between(10.124, 10.211)) & (sr["lat"].between(54.344, 54.377))]
    assert set(inside["locode"]) <= set(kiel_sea.terminals["ref"].dropna())


def test_kiel_ferry_routes_continue_on_the_sea_lanes(kiel_sea) -> None:
    """The Oslo and Göteborg routes, clipped at the file's edge, join searoute's lanes."""
    import networkx as nx

    e = kiel_sea.edges
    g = nx.Graph(list(zip(e["u"], e["v"], strict=True)))
    lanes = set(e.loc[e["kind"] == "lane", "u"])
    for route in ("Kiel – Oslo", "Kiel – Göteborg"):
        start = int(e.loc[e["name"] == route, "u"].iloc[0])
        assert nx.node_connected_component(g, start) & lanes
    # no lane fragment without a port or ferry route
    ports = set(kiel_sea.terminals["node_id"])
    for comp in nx.connected_components(g):
        assert comp & ports or any(n < 10**12 for n in comp)
