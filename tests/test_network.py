"""The multimodal network: layers joined at terminals, snapping, real-data facts."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra
from test_network_helpers import network_of, osm_file, world_network

from hubopt._errors import InputFormatError, LayerExtractionError
from hubopt.costs import Weights, network_csr, shortest_path
from hubopt.layers import BBox, EmptyLayerWarning, Mode, Source
from hubopt.layers._geo import haversine_m
from hubopt.network import build_network, snap_points


@pytest.mark.parametrize("name", ["kiel", "baltimore"])
def test_every_terminal_reaches_the_road_network(name: str) -> None:
    net = network_of(name)
    road = np.flatnonzero(net.nodes["mode"].to_numpy() == "road")
    terms = net.terminals["node"].to_numpy()
    assert len(terms) > 0
    dist = dijkstra(network_csr(net), indices=terms, min_only=False)
    reach = np.isfinite(dist[:, road]).any(axis=1)
    missing = net.terminals.loc[~reach, ["terminal_id", "name"]]
    assert reach.all(), f"terminals that cannot reach a road: {missing.to_dict('records')}"


def test_terminal_ids_and_node_keys_are_unique() -> None:
    for net in (network_of("kiel"), network_of("baltimore"), world_network()):
        assert net.terminals["terminal_id"].is_unique
        assert net.terminals["node"].is_unique
        assert net.nodes["key"].is_unique
        assert (net.transfers["u"] != net.transfers["v"]).all()


def test_world_terminals_reach_the_road_network() -> None:
    net = world_network()
    road = np.flatnonzero(net.nodes["mode"].to_numpy() == "road")
    dist = dijkstra(network_csr(net), indices=net.terminals["node"].to_numpy())
    assert np.isfinite(dist[:, road]).any(axis=1).all()


def test_malta_airport_links_to_road_within_the_radius() -> None:
    net = network_of("malta")
    tr = net.transfers
    mla = net.terminals[(net.terminals["ref"] == "MLA") & (net.terminals["mode"] == "air")]
    links = tr[(tr["terminal_id"] == mla["terminal_id"].iloc[0]) & (tr["to_mode"] == "road")]
    assert len(links) == 1
    rule = net.profiles.transfer("air", "road")
    road = net.profiles["road"]
    km = links["length_m"].iloc[0] / 1000.0
    assert links["length_m"].iloc[0] <= rule.radius_m
    assert links["time_h"].iloc[0] >= rule.time_h
    drayage = km * road.cost_per_km + km / net.profiles.connector_speed_kmh * road.cost_per_hour
    assert links["cost"].iloc[0] == pytest.approx(rule.cost + drayage)


def test_transfer_links_join_a_terminal_to_the_nearest_node_of_the_other_mode() -> None:
    net = network_of("kiel")
    nodes = net.nodes
    term_node = dict(zip(net.terminals["terminal_id"], net.terminals["node"], strict=True))
    checked = 0
    for row in net.transfers.itertuples():
        if row.u != term_node[row.terminal_id]:
            continue  # the return link, from the other mode's node
        checked += 1
        other = nodes[nodes["mode"] == row.to_mode]
        d = haversine_m(nodes.at[row.u, "x"], nodes.at[row.u, "y"], other["x"], other["y"])
        assert row.length_m == pytest.approx(d.min(), abs=1e-6)
    assert checked == len(net.transfers) // 2


def test_least_cost_path_between_rail_served_points_in_baltimore_uses_rail() -> None:
    """The two yards farthest apart on one rail line: the freight path between them is rail."""
    net = network_of("baltimore")
    yards = net.terminals[(net.terminals["mode"] == "rail") & (net.terminals["kind"] == "yard")]
    pts = gpd.GeoDataFrame(yards[["terminal_id"]], geometry=yards.geometry, crs="EPSG:4326")
    snapped = snap_points(net, pts, mode="rail", id_column="terminal_id")
    rail = net.edges[net.edges["mode"] == "rail"]
    rail_only = sp.csr_matrix((np.ones(len(rail)), (rail["u"], rail["v"])),
                              shape=(net.n_nodes, net.n_nodes))
    _, comp = connected_components(rail_only, directed=False)
    x, y = pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()
    d = haversine_m(x[:, None], y[:, None], x[None, :], y[None, :])
    same_line = comp[snapped.node][:, None] == comp[snapped.node][None, :]
    d = np.where(same_line, d, -1)
    i, j = np.unravel_index(np.argmax(d), d.shape)
    assert d[i, j] > 5000  # really far apart
    path = shortest_path(net, int(snapped.node[i]), int(snapped.node[j]),
                         weights=Weights(time=0, money=1))
    assert path is not None
    assert "rail" in path.edge_modes
    assert path.modes == ("rail",)
    assert path.length_m >= d[i, j]


def test_snapping_reports_the_connector_cost() -> None:
    net = network_of("kiel")
    road = net.profiles["road"]
    pts = gpd.GeoDataFrame({"name": ["Kiel Hbf", "Holtenau"]},
                           geometry=gpd.points_from_xy([10.1318, 10.1547], [54.3150, 54.3700]),
                           crs="EPSG:4326")
    s = snap_points(net, pts, mode="road", id_column="name")
    assert s.ids == ("Kiel Hbf", "Holtenau")
    assert (net.nodes.loc[s.node, "mode"] == "road").all()
    n = net.nodes.loc[s.node]
    d = haversine_m(pts.geometry.x, pts.geometry.y, n["x"], n["y"])
    np.testing.assert_allclose(s.distance_m, d)
    km = d / 1000 * road.param("connector_detour")
    np.testing.assert_allclose(s.time_h, km / road.param("connector_speed_kmh"))
    np.testing.assert_allclose(s.cost, km * road.cost_per_km + s.time_h * road.cost_per_hour)
    # a projected CRS is converted first
    s2 = snap_points(net, pts.to_crs(25832), mode="road", id_column="name")
    np.testing.assert_array_equal(s.node, s2.node)


def test_points_beyond_the_limit_are_not_snapped() -> None:
    net = network_of("kiel")
    with pytest.warns(UserWarning, match="not snapped"):
        s = snap_points(net, [(10.15, 54.36), (0.0, 0.0)], max_distance_m=5000)
    assert s.node[0] >= 0
    assert s.node[1] == -1


def test_a_mode_with_nothing_in_the_region_gives_a_warning_and_an_empty_layer() -> None:
    # the middle of the Atlantic: no airport
    with pytest.warns(EmptyLayerWarning, match="air layer is empty"):
        net = build_network(source=Source.from_bbox(BBox(-30.0, 40.0, -29.0, 41.0)),
                            modes="air", world=True)
    assert net.layers[Mode.AIR].is_empty
    assert net.summary()["empty"].tolist() == [True]


def test_unknown_mode_and_bad_inputs_raise_typed_errors(tmp_path) -> None:
    with pytest.raises(LayerExtractionError, match=r"unknown mode .boat."):
        build_network(source=osm_file("kiel"), modes="road,boat")
    with pytest.raises(InputFormatError, match="not found"):
        build_network(source=tmp_path / "missing.osm.pbf")
    bad = tmp_path / "corrupt.osm.pbf"
    bad.write_bytes(b"this is not a pbf file" * 100)
    with pytest.raises(InputFormatError, match=r"corrupt\.osm\.pbf"):
        build_network(source=bad, modes="road")
    with pytest.raises(InputFormatError, match=r"west \(10.0\) > east \(2.0\)"):
        Source.from_bbox("10,50,2,51")


def test_network_build_is_deterministic() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyLayerWarning)
        a = build_network(source=osm_file("kiel"), modes="road,sea")
        b = build_network(source=osm_file("kiel"), modes="road,sea")
    assert a.nodes["key"].tolist() == b.nodes["key"].tolist()
    np.testing.assert_array_equal(a.edges[["u", "v"]].to_numpy(), b.edges[["u", "v"]].to_numpy())
    np.testing.assert_array_equal(a.edges["cost"].to_numpy(), b.edges["cost"].to_numpy())


@pytest.mark.online
def test_online_bbox_gives_a_road_layer() -> None:
    net = build_network(source=Source.from_bbox("10.13,54.35,10.16,54.37"), modes="road")
    assert len(net.layers[Mode.ROAD].edges) > 50


def test_main_component_snapping_reaches_every_other_snapped_point() -> None:
    from hubopt.costs import travel_costs
    from hubopt.network import main_component_mask

    net = network_of("kiel")
    mask = main_component_mask(net)
    assert mask.any()
    nodes = net.nodes
    rng = np.random.default_rng(2)
    pick = rng.choice(len(nodes), 25, replace=False)
    pts = list(zip(nodes["x"].to_numpy()[pick], nodes["y"].to_numpy()[pick], strict=True))
    snapped = snap_points(net, pts, mode="road", main_component=True)
    assert mask[snapped.node].all()
    assert (nodes["mode"].to_numpy()[snapped.node] == "road").all()
    assert np.isfinite(travel_costs(net, snapped).values).all()


def test_mode_components_label_only_nodes_on_that_modes_edges() -> None:
    import networkx as nx

    from hubopt.network import mode_components

    net = network_of("kiel")
    labels = mode_components(net, "rail")
    rail = net.edges[net.edges["mode"] == "rail"]
    on_rail = set(rail["u"].tolist()) | set(rail["v"].tolist())
    assert set(np.flatnonzero(labels >= 0).tolist()) == on_rail
    g = nx.Graph()
    g.add_edges_from(zip(rail["u"].tolist(), rail["v"].tolist(), strict=True))
    for comp in nx.connected_components(g):
        assert len({int(labels[x]) for x in comp}) == 1
