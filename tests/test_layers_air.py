"""Air layer: OSM aerodromes, airportsdata airports, great-circle links with block time."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_network_helpers import osm_file, world_network

from hubopt.layers import Mode, extract_layer
from hubopt.layers._geo import haversine_m
from hubopt.layers.world import airports
from hubopt.profiles import Profiles, default_profiles


def test_kiel_holtenau_is_found_in_the_osm_extract() -> None:
    # no scheduled service since 2006: an air terminal only without that evidence rule
    prof = default_profiles()
    air = dataclasses.replace(prof["air"], params={**prof["air"].params,
                                                   "require_scheduled_service": 0.0})
    loose = Profiles({**prof.modes, Mode.AIR: air}, prof.transfers, prof.connector_speed_kmh)
    layer = extract_layer("air", osm_file("kiel"), profiles=loose)
    t = layer.terminals
    row = t[t["ref"] == "KEL"]
    assert len(row) == 1
    assert "Kiel-Holtenau" in row["name"].iloc[0]
    db = airports().set_index("iata").loc["KEL"]
    assert haversine_m(row.geometry.x.iloc[0], row.geometry.y.iloc[0], db["lon"], db["lat"])[()] \
        < 2000


def test_malta_international_is_an_air_terminal() -> None:
    layer = extract_layer("air", osm_file("malta"))
    assert "MLA" in set(layer.terminals["ref"])


def test_air_links_are_great_circles_with_block_time() -> None:
    layer = world_network().layers[Mode.AIR]
    e = layer.edges
    t = layer.terminals.set_index("ref")
    assert {"HEL", "TLL"} <= set(t.index)
    link = e[e["name"] == "HEL-TLL"]
    assert len(link) == 1
    db = airports().set_index("iata")
    d = haversine_m(db.at["HEL", "lon"], db.at["HEL", "lat"], db.at["TLL", "lon"],
                    db.at["TLL", "lat"])[()]
    assert link["length_m"].iloc[0] == pytest.approx(d)
    prof = default_profiles()["air"]
    assert link["time_h"].iloc[0] == pytest.approx(d / 1000 / prof.speed_kmh
                                                   + prof.param("taxi_climb_h"))
    # links only between airports with an IATA code, both directions
    assert np.array_equal(np.sort(e["u"].to_numpy()), np.sort(e["v"].to_numpy()))
