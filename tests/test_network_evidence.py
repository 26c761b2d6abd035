"""Terminals from evidence: sea ports on the coast with legs over water, open airports with
scheduled service, rail at ports a line reaches, ferry times from OSM ``duration`` tags."""

from __future__ import annotations

import dataclasses
import functools
import warnings

import numpy as np
import pytest
import shapely
from test_network_helpers import osm_file, world_network

from hubopt.layers import (
    BBox,
    EmptyLayerWarning,
    Mode,
    Source,
    TerminalEvidenceWarning,
    extract_layer,
)
from hubopt.layers._geo import haversine_m
from hubopt.layers._seamask import sea_mask
from hubopt.layers.sea import parse_duration_h
from hubopt.network import build_network
from hubopt.profiles import Profiles, default_profiles

PRIMORYE = BBox(130.0, 42.0, 135.0, 45.0)
KHARKIV = BBox(35.0, 49.0, 37.5, 51.0)
MOSCOW = BBox(35.0, 54.0, 40.0, 57.0)
DEFAULT_CASE_BOX = BBox(21.5, 58.3, 31.0, 61.3)


@functools.cache
def _world(box: BBox) -> tuple[object, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net = build_network(source=Source.from_bbox(box), world=True)
    return net, [str(w.message) for w in caught]


def _refs(net: object, mode: str) -> set[str]:
    t = net.terminals  # type: ignore[attr-defined]
    return set(t.loc[t["mode"] == mode, "ref"].dropna())


def test_inland_rail_towns_and_lake_ports_are_not_sea_terminals() -> None:
    net, notes = _world(DEFAULT_CASE_BOX)
    refs = _refs(net, "sea")
    # searoute lists Kouvola (a rail town 50 km inland) and Lake Saimaa ports as ports
    assert {"FIKVO", "FIIMA", "FIJOU", "FIMUS"}.isdisjoint(refs)
    assert any("Kouvola (FIKVO)" in n and "Imatra (FIIMA)" in n for n in notes)
    assert {"FIHEL", "FIKTK", "EETLL", "RULED"} <= refs  # Helsinki, Kotka, Tallinn, St P.


def test_port_legs_run_over_water_and_no_longer_than_the_limit() -> None:
    net = world_network()
    sea = net.layers[Mode.SEA]
    legs = sea.edges[sea.edges["kind"] == "port_leg"]
    assert len(legs)
    mask = sea_mask(BBox(22.0, 59.0, 30.5, 61.0))
    assert mask is not None
    limit = default_profiles()["sea"].param("port_leg_radius_km") * 1000.0
    for geom, length in zip(legs.geometry, legs["length_m"], strict=True):
        xy = np.asarray(geom.coords)
        on_land = sum(mask.land_km(*xy[i], *xy[i + 1]) for i in range(len(xy) - 1))
        # the port end may sit on the quay or the town centre: at most port_coast_km
        assert on_land <= 5.0 + 1.0
        assert length <= limit + 1.0
        # a sailed leg is never shorter than the straight line between its ends
        assert length >= haversine_m(*xy[0], *xy[-1])[()] - 1.0


def test_an_inland_region_has_an_empty_sea_layer_and_names_the_inland_port() -> None:
    net, notes = _world(KHARKIV)
    assert net.layers[Mode.SEA].is_empty
    assert not net.layers[Mode.ROAD].is_empty
    assert any("Kharkiv" in n and "inland" in n for n in notes)


def test_inland_ports_count_as_sea_only_when_the_profile_asks() -> None:
    prof = default_profiles()
    sea = dataclasses.replace(prof["sea"], params={**prof["sea"].params, "inland_ports": 1.0})
    asked = Profiles({**prof.modes, Mode.SEA: sea}, prof.transfers, prof.connector_speed_kmh)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyLayerWarning)
        layer = extract_layer("sea", Source.from_bbox("22,59,30.5,61"), profiles=asked,
                              world=True)
    t = layer.terminals.set_index("ref")
    assert t.at["FIKVO", "kind"] == "inland_port"


def test_closed_and_military_airfields_are_not_air_terminals() -> None:
    net, notes = _world(MOSCOW)
    refs = _refs(net, "air")
    assert "BKA" not in refs  # Bykovo, closed 2010 (OurAirports type "closed")
    assert {"SVO", "DME", "VKO"} <= refs
    assert any("Bykovo" in n and "closed" in n for n in notes)
    assert "UTI" not in _refs(world_network(), "air")  # Utti air base, no scheduled service
    assert "HEL" in _refs(world_network(), "air")


def test_kiel_holtenau_is_an_air_terminal_only_without_the_scheduled_service_rule() -> None:
    with pytest.warns(TerminalEvidenceWarning, match="Kiel-Holtenau.*no scheduled service"):
        strict = extract_layer("air", osm_file("kiel"))
    assert "KEL" not in set(strict.terminals["ref"])
    prof = default_profiles()
    air = dataclasses.replace(prof["air"], params={**prof["air"].params,
                                                   "require_scheduled_service": 0.0})
    loose = Profiles({**prof.modes, Mode.AIR: air}, prof.transfers, prof.connector_speed_kmh)
    layer = extract_layer("air", osm_file("kiel"), profiles=loose)
    assert "KEL" in set(layer.terminals["ref"])


def test_rail_served_ports_get_a_rail_terminal_from_the_rail_layer() -> None:
    net, _ = _world(PRIMORYE)
    t = net.terminals
    port_rail = t[(t["mode"] == "rail") & (t["kind"] == "port_rail")]
    assert {"RUNJK", "RUVYP"} <= set(port_rail["ref"])  # Nakhodka, Vostochny
    rail = net.nodes[net.nodes["mode"] == "rail"]
    radius = default_profiles()["rail"].param("world_port_rail_radius_m")
    for _, row in port_rail.iterrows():
        port = t[(t["mode"] == "sea") & (t["ref"] == row["ref"])].iloc[0]
        d = haversine_m(port.geometry.x, port.geometry.y, rail.loc[row["node"], "x"],
                        rail.loc[row["node"], "y"])[()]
        assert d <= radius


@pytest.mark.parametrize(("text", "hours"), [
    ("01:45", 1.75), ("1:45:00", 1.75), ("90", 1.5), ("PT1H45M", 1.75), ("PT30M", 0.5),
])
def test_osm_duration_values_parse_to_hours(text: str, hours: float) -> None:
    assert parse_duration_h(text) == pytest.approx(hours)


@pytest.mark.parametrize("text", ["", "soon", "1:2:3:4", "01:45;02:00", "0"])
def test_unreadable_durations_are_nan(text: str) -> None:
    assert np.isnan(parse_duration_h(text))


def test_valletta_pozzallo_ferry_takes_its_tagged_1h45() -> None:
    # OSM way "Malta - Pozzallo" (route=ferry) is tagged duration=01:45
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sea = extract_layer("sea", osm_file("malta"))
    e = sea.edges[sea.edges["name"] == "Malta - Pozzallo"]
    assert len(e) == 2  # one edge each way
    assert e["time_h"].to_numpy() == pytest.approx([1.75, 1.75])
    # untagged ferries keep the profile speed
    other = sea.edges[(sea.edges["kind"] == "ferry") & (sea.edges["name"] == "Sliema-Valletta "
                                                                              "Ferry")]
    assert len(other)


def test_transfer_links_charge_drayage_money() -> None:
    net = world_network()
    prof = net.profiles
    road = prof["road"]
    tr = net.transfers
    for fm, tm in (("sea", "road"), ("rail", "road"), ("air", "rail")):
        sel = tr[(tr["from_mode"] == fm) & (tr["to_mode"] == tm)]
        assert len(sel)
        rule = prof.transfer(fm, tm)
        km = sel["length_m"].to_numpy() / 1000.0
        want = rule.cost + km * road.cost_per_km + km / prof.connector_speed_kmh * (
            road.cost_per_hour)
        assert sel["cost"].to_numpy() == pytest.approx(want)
        assert (sel["cost"].to_numpy() >= rule.cost).all()
    assert shapely is not None


def test_osm_road_edges_into_a_junction_carry_the_junction_delay() -> None:
    import networkx as nx

    from hubopt.layers._osm import mode_input

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        road = extract_layer("road", osm_file("kiel"))
    prof = default_profiles()["road"]
    delay_h = prof.param("junction_delay_s") / 3600.0
    e = road.edges
    free = e["length_m"] / 1000.0 / e["speed_kmh"]
    extra = (e["time_h"] - free).to_numpy()
    # every edge either carries exactly one junction delay or none
    assert np.all(np.isclose(extra, 0.0, atol=1e-12) | np.isclose(extra, delay_h))
    graph, _, _ = mode_input(Source.pbf(osm_file("kiel")), Mode.ROAD)
    assert graph is not None
    simple = nx.Graph()
    simple.add_edges_from(zip(graph.u.tolist(), graph.v.tolist(), strict=True))
    degree = dict(simple.degree())
    into_junction = np.array([degree.get(int(v), 0) >= 3 for v in e["v"]])
    motor = e["kind"].astype(str).str.contains("motorway|trunk").to_numpy()
    assert np.allclose(extra[into_junction & ~motor], delay_h)
    assert np.allclose(extra[motor], 0.0)
    assert (into_junction & ~motor).sum() > 100


@pytest.mark.parametrize("seed", range(6))
def test_sea_leg_cell_search_finds_what_a_kd_tree_over_every_cell_finds(seed: int) -> None:
    from scipy.spatial import cKDTree

    from hubopt.layers._seamask import _GridWindow

    rng = np.random.default_rng(seed)
    cell, kx, ky = float(rng.uniform(0.5, 2.0)), float(rng.uniform(40, 111)), 110.57
    nx_, ny_ = int(rng.integers(30, 90)), int(rng.integers(30, 90))
    gx = 20.0 + np.arange(nx_) * cell / kx
    gy = 55.0 + np.arange(ny_) * cell / ky
    wet = rng.random(ny_ * nx_) < rng.uniform(0.05, 0.9)
    ids = np.full(ny_ * nx_, -1)
    ids[wet] = np.arange(int(wet.sum()))
    lon_g, lat_g = np.meshgrid(gx, gy)
    tree = cKDTree(np.column_stack([lon_g.ravel()[wet] * kx, lat_g.ravel()[wet] * ky]))
    lon = rng.uniform(gx[0], gx[-1], 400)
    lat = rng.uniform(gy[0], gy[-1], 400)
    radius = float(rng.uniform(1.0, 8.0)) * cell
    got_d, got_i = _GridWindow(gx, gy, kx, ky, cell).nearest(ids.reshape(ny_, nx_), lon, lat,
                                                              radius)
    want_d, want_i = tree.query(np.column_stack([lon * kx, lat * ky]))
    within = want_d <= radius
    assert within.any()
    np.testing.assert_allclose(got_d[within], want_d[within], rtol=1e-12)
    assert np.array_equal(got_i[within], want_i[within])
    assert np.all(np.isinf(got_d[~within]))
    assert np.all(got_i[~within] == -1)
