"""Snapping onto road edges: the connector is the perpendicular, the edge is split exactly,
only components that join the network on their own mode, islands kept, limits reported."""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import numpy as np
import pytest
import shapely
from test_network_helpers import network_of, osm_file, world_network

from hubopt._errors import CaseValidationError, InfeasibleModelError
from hubopt.case import load_case
from hubopt.costs import Weights, shortest_path, travel_costs
from hubopt.layers import Source
from hubopt.layers._geo import haversine_m
from hubopt.network import MultimodalNetwork, build_network, snap_points
from hubopt.pipeline import check_with_network, load_inputs
from hubopt.snapping import cut_off_notes, served_components, snap_to_edges

# (lon, lat) of town centres (OpenStreetMap place nodes, rounded)
HELSINKI = (24.9384, 60.1699)
KOTKA = (26.9458, 60.4664)
IMATRA = (28.7640, 61.1719)
MGARR = (14.2986, 36.0253)  # Mġarr harbour, Gozo
VICTORIA = (14.2397, 36.0443)  # Victoria (Rabat), Gozo
VALLETTA = (14.5126, 35.8989)


def _brute_distance_m(net: object, lon: float, lat: float, allowed: np.ndarray) -> float:
    """Shortest distance from a point to any allowed road edge, by brute force.

    Every edge vertex pair is a segment; the distance to a segment is computed in a local
    equirectangular frame around the point (metres), independently of the STRtree.
    """
    e = net.edges  # type: ignore[attr-defined]
    sel = (e["mode"] == "road").to_numpy() & allowed[e["u"].to_numpy()] & allowed[
        e["v"].to_numpy()]
    kx = 111_320.0 * np.cos(np.radians(lat))
    ky = 110_570.0
    best = np.inf
    for geom in e.geometry.to_numpy()[sel]:
        xy = np.asarray(geom.coords)
        x = (xy[:, 0] - lon) * kx
        y = (xy[:, 1] - lat) * ky
        ax, ay, bx, by = x[:-1], y[:-1], x[1:], y[1:]
        dx, dy = bx - ax, by - ay
        t = np.clip(-(ax * dx + ay * dy) / np.maximum(dx * dx + dy * dy, 1e-12), 0, 1)
        best = min(best, float(np.min(np.hypot(ax + t * dx, ay + t * dy))))
    return best


@functools.cache
def _default_box_network() -> MultimodalNetwork:
    """World layers over the default case's box (it includes Imatra, 61.2 N)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_network(source=Source.from_bbox("21.5,58.3,31.0,61.3"), world=True)


def test_connector_is_the_perpendicular_to_the_nearest_allowed_edge() -> None:
    net = _default_box_network()
    allowed = served_components(net)
    pts = [HELSINKI, KOTKA, IMATRA]
    snap = snap_to_edges(net, [p[0] for p in pts], [p[1] for p in pts])
    for (lon, lat), d in zip(pts, snap.points.distance_m, strict=True):
        assert d == pytest.approx(_brute_distance_m(net, lon, lat, allowed), rel=0.02, abs=20)
    # node snapping put Imatra 3.7 km away; its nearest road edge is 1.5 km away
    node = snap_points(net, [IMATRA], main_component=True)
    assert snap.points.distance_m[2] < node.distance_m[0]
    assert snap.points.distance_m[2] < 2000


def test_splitting_an_edge_keeps_every_path_between_old_nodes() -> None:
    net = world_network()
    snap = snap_to_edges(net, [HELSINKI[0], KOTKA[0], IMATRA[0]],
                         [HELSINKI[1], KOTKA[1], IMATRA[1]])
    split = snap.network
    assert split.n_nodes == net.n_nodes + int((snap.points.node >= net.n_nodes).sum())
    rng = np.random.default_rng(0)
    road = np.flatnonzero((net.nodes["mode"] == "road").to_numpy())
    sample = rng.choice(road, 12, replace=False)
    w = Weights(money=1.0)
    before = travel_costs(net, sample, weights=w, dtype="float64").values
    after = travel_costs(split, sample, weights=w, dtype="float64").values
    np.testing.assert_allclose(after, before, rtol=1e-9)
    # the pieces of a split edge add up to it, in both directions
    e = split.edges
    new = snap.points.node[0]
    ins = e[(e["v"] == new) & (e["mode"] == "road")]
    outs = e[(e["u"] == new) & (e["mode"] == "road")]
    assert len(ins) >= 1
    assert len(outs) >= 1
    for _, a in ins.iterrows():
        b = outs[outs["v"] != a["u"]]
        orig = net.edges[(net.edges["u"] == a["u"]) & (net.edges["v"].isin(b["v"]))]
        if len(orig):
            total = a["length_m"] + b[b["v"] == orig["v"].iloc[0]]["length_m"].iloc[0]
            assert total == pytest.approx(orig["length_m"].iloc[0], rel=1e-9)


def test_helsinki_kotka_goes_by_road_not_through_a_fragment() -> None:
    net = world_network()
    snap = snap_to_edges(net, [HELSINKI[0], KOTKA[0]], [HELSINKI[1], KOTKA[1]])
    path = shortest_path(snap.network, int(snap.points.node[0]), int(snap.points.node[1]),
                         weights=Weights(money=1.0))
    assert path.modes == ("road",)
    # the road (E18 along the coast) is longer than the straight line, but not 1.4x longer
    km = path.length_m / 1000.0
    straight = haversine_m(*HELSINKI, *KOTKA)[()] / 1000.0
    assert straight < km < 1.4 * straight


def test_gozo_keeps_its_roads_and_mgarr_victoria_is_by_road() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = network_of("malta")
    road = net.nodes[net.nodes["mode"] == "road"]
    gozo = road[(road["x"] < 14.36) & (road["y"] > 36.0)]
    assert len(gozo) > 500  # Gozo's own road network is kept
    snap = snap_to_edges(net, [MGARR[0], VICTORIA[0], VALLETTA[0]],
                         [MGARR[1], VICTORIA[1], VALLETTA[1]])
    assert (snap.points.distance_m < 300).all()
    path = shortest_path(snap.network, int(snap.points.node[0]), int(snap.points.node[1]),
                         weights=Weights(money=1.0))
    assert path.modes == ("road",)
    straight = haversine_m(*MGARR, *VICTORIA)[()]
    assert straight < path.length_m < 1.6 * straight
    # Valletta is on the main island: the trip to Gozo takes the ferry
    to_gozo = shortest_path(snap.network, int(snap.points.node[2]), int(snap.points.node[0]),
                            weights=Weights(money=1.0))
    assert "sea" in to_gozo.modes


def test_fragments_joined_only_by_transfers_are_not_snapped_to() -> None:
    net = world_network()
    allowed = served_components(net)
    road = (net.nodes["mode"] == "road").to_numpy()
    # a strongly connected road network: from one allowed node, road alone reaches all
    # allowed nodes of its component, and allowed nodes all lie in the multimodal main SCC
    assert allowed[road].mean() > 0.9
    assert not allowed[~road].any()


def test_a_connector_beyond_the_limit_is_an_error_naming_the_point() -> None:
    case = load_case(None, overrides=["network.max_connector_km=5"])
    inputs = load_inputs(case)
    with pytest.raises(InfeasibleModelError) as info:
        check_with_network(case, inputs)
    text = str(info.value)
    assert "network.max_connector_km" in text
    assert "Sosnovyy Bor" in text
    assert " km from the nearest road" in text


def test_validate_reports_an_unknown_existing_site_and_p_above_the_sites() -> None:
    case = load_case(None, overrides=['candidates.existing=["Nowhere"]',
                                      "candidates.min_modes=4", "model.p=9",
                                      "candidates.max_candidates=10"])
    inputs = load_inputs(case)
    with pytest.raises(InfeasibleModelError) as info:
        check_with_network(case, inputs)
    text = str(info.value)
    assert "candidates.existing[0]" in text
    assert "Nowhere" in text
    assert "model.p: infeasible" in text


def test_countries_filter_applies_to_candidate_sites() -> None:
    from hubopt.candidates import candidates_from_case
    from hubopt.demand import country_codes
    from hubopt.pipeline import network_for_case

    case = load_case(None, overrides=['demand.countries=["FI"]'])
    inputs = load_inputs(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = network_for_case(case)
    cands = candidates_from_case(case, inputs.demand, net.terminals)
    assert len(cands)
    assert set(country_codes(cands.lon, cands.lat)) == {"FI"}
    # Finland lies north of the Gulf: every site is above 59.7 N and west of 31.6 E
    assert (np.asarray(cands.lat) > 59.7).all()
    assert shapely is not None


def test_demand_points_outside_the_region_are_an_error_unless_allowed(tmp_path: Path) -> None:
    from hubopt.case import builtin_cases
    from hubopt.demand import demand_from_case

    pts = tmp_path / "pts.csv"
    pts.write_text("name,population,lon,lat\nHelsinki,650000,24.94,60.17\n"
                   "Tartu,95000,26.72,58.38\nRiga,600000,24.11,56.95\n", encoding="utf-8")
    text = builtin_cases()["default"].read_text(encoding="utf-8")
    head, rest = text.split("[demand]", 1)
    tail = rest[rest.index("[flows]"):]
    case_file = tmp_path / "case.toml"
    case_file.write_text(head + f'[demand]\nsource = "file"\nfile = "{pts}"\n\n' + tail,
                         encoding="utf-8")
    # Riga (56.95 N) lies south of the default region (58.3-61.3 N)
    with pytest.raises(CaseValidationError, match=r"Riga \(24\.1100, 56\.9500\)"):
        demand_from_case(load_case(case_file))
    ok = demand_from_case(load_case(case_file, overrides=["demand.allow_outside=true"]))
    assert "Riga" in ok.names


def test_helsinki_vaalimaa_road_length_matches_national_road_7() -> None:
    # Finnish national road 7 (E18) runs 189 km from Erottaja in Helsinki to the Vaalimaa
    # border crossing (Wikipedia, "Finnish national road 7"); the world-layer road route
    # between the two, connectors included, must lie within 5 % of it
    net = _default_box_network()
    erottaja, vaalimaa = (24.9440, 60.1661), (27.8398, 60.5847)
    snap = snap_to_edges(net, [erottaja[0], vaalimaa[0]], [erottaja[1], vaalimaa[1]])
    path = shortest_path(snap.network, int(snap.points.node[0]), int(snap.points.node[1]),
                         weights=Weights(time=1.0))
    assert path.modes == ("road",)
    km = (path.length_m + snap.points.distance_m.sum()) / 1000.0
    assert abs(km / 189.0 - 1.0) <= 0.05


def test_an_inland_case_that_needs_four_modes_is_told_the_region_has_no_sea() -> None:
    case = load_case(None, overrides=["region.bbox=[35.0, 49.0, 37.5, 51.0]",
                                      "candidates.min_modes=4", "demand.min_population=20000",
                                      "network.max_connector_km=200"])
    inputs = load_inputs(case)
    with pytest.raises(InfeasibleModelError, match=r"the region has no sea network"):
        check_with_network(case, inputs)


def test_a_point_whose_road_is_cut_off_is_reported_not_moved_silently() -> None:
    # without the sea layer, Gozo's roads do not join Malta's: Victoria's nearest road is
    # cut off, and the point is snapped across the water to Malta, which is reported
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = build_network(source=osm_file("malta"), modes="road")
    snap = snap_to_edges(net, [VICTORIA[0], VALLETTA[0]], [VICTORIA[1], VALLETTA[1]])
    assert snap.nearest_any_m is not None
    assert snap.nearest_any_m[0] < 300
    assert snap.points.distance_m[0] > 3000  # the Gozo channel is 4-5 km wide
    assert list(snap.cut_off()) == [0]
    notes = cut_off_notes(["Victoria", "Valletta"], snap, 0, "demand point")
    assert len(notes) == 1
    assert "'Victoria'" in notes[0]
