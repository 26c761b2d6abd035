"""Truck speeds on the world road layer (scgraph-data roads, GeoNames towns), offline.

The layer knows nothing per edge but its length, so an edge runs at the open-road speed
except where it passes through a town disc (road profile: ``world_road_speed_kmh``,
``world_urban_speed_kmh``, ``world_town_density_per_km2``, ``world_town_population``).
"""

from __future__ import annotations

import dataclasses
import functools
import re
import shutil
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import pytest
from test_network_helpers import GULF_OF_FINLAND

from hubopt._errors import CaseValidationError
from hubopt.layers import BBox, Mode
from hubopt.layers._geo import haversine_m
from hubopt.layers._world_data import geonames_table
from hubopt.layers._world_speed import SAMPLE_M, town_share, towns
from hubopt.layers.world import world_layer
from hubopt.profiles import PROFILE_FOLDER, Profiles, default_profiles, load_profiles

# south-east Finland, Leningrad and Novgorod oblasts, north-east Estonia in one box
BORDER_BOX = BBox(26.5, 58.0, 34.0, 61.0)


def _with_road(**params: float) -> Profiles:
    base = default_profiles()
    road = base[Mode.ROAD]
    new = dataclasses.replace(road, params=MappingProxyType({**road.params, **params}))
    return dataclasses.replace(base, modes=MappingProxyType({**base.modes, Mode.ROAD: new}))


@functools.cache
def _road(bbox: BBox, open_kmh: float | None = None) -> pd.DataFrame:
    prof = default_profiles() if open_kmh is None else _with_road(world_road_speed_kmh=open_kmh)
    layer = world_layer(Mode.ROAD, bbox, prof)
    e = layer.edges
    xy = layer.nodes[["x", "y"]]
    out = pd.DataFrame({
        "x1": xy.loc[e["u"], "x"].to_numpy(), "y1": xy.loc[e["u"], "y"].to_numpy(),
        "x2": xy.loc[e["v"], "x"].to_numpy(), "y2": xy.loc[e["v"], "y"].to_numpy(),
        "length_m": e["length_m"].to_numpy(),
        "speed": e["length_m"].to_numpy() / 1000.0 / e["time_h"].to_numpy(),
    })
    return out[out["x1"] < out["x2"]].reset_index(drop=True)  # one direction of each edge


def _outside_every_town(edges: pd.DataFrame) -> np.ndarray:
    """Edges that stay over 1 km outside every GeoNames town disc (all places of 15,000+
    people, districts included), checked at points at most 1 km apart."""
    road = default_profiles()[Mode.ROAD]
    cities = geonames_table(15000)
    cities = cities[cities["population"] >= road.param("world_town_population")]
    radius = np.sqrt(cities["population"].to_numpy(dtype=float) / np.pi
                     / road.param("world_town_density_per_km2")) * 1000.0
    clear = np.ones(len(edges), dtype=bool)
    for i, r in enumerate(edges.itertuples()):
        t = np.linspace(0.0, 1.0, int(np.ceil(r.length_m / 1000.0)) + 2)
        lon, lat = r.x1 + t * (r.x2 - r.x1), r.y1 + t * (r.y2 - r.y1)
        for cx, cy, rad in zip(cities["longitude"], cities["latitude"], radius, strict=True):
            if abs(cy - r.y1) > 3 or abs(cx - r.x1) > 6:  # cheap reject: far apart
                continue
            if (haversine_m(lon, lat, cx, cy) < rad + 1000.0).any():
                clear[i] = False
                break
    return clear


def test_town_share_matches_a_brute_force_count_on_real_world_edges() -> None:
    edges = _road(GULF_OF_FINLAND)
    table = towns(GULF_OF_FINLAND, default_profiles()[Mode.ROAD])
    share = town_share(*(edges[c].to_numpy() for c in ("x1", "y1", "x2", "y2")),
                       edges["length_m"].to_numpy(), table)
    partly = np.flatnonzero((share > 0) & (share < 1))
    inside = np.flatnonzero(share == 1)
    assert len(partly) >= 20
    assert len(inside) >= 20
    rng = np.random.default_rng(32)
    pick = np.concatenate([rng.choice(partly, 40), rng.choice(inside, 10),
                           rng.choice(np.flatnonzero(share == 0), 10)])
    t = np.linspace(0.0, 1.0, 2001)
    for i in pick:
        r = edges.iloc[i]
        lon = r["x1"] + t * (r["x2"] - r["x1"])
        lat = r["y1"] + t * (r["y2"] - r["y1"])
        hit = np.zeros(len(t), dtype=bool)
        for town in table.itertuples():
            hit |= haversine_m(lon, lat, town.lon, town.lat) < town.radius_m
        parts = max(1, int(np.ceil(r["length_m"] / SAMPLE_M)))
        assert abs(share[i] - hit.mean()) <= 2.0 / parts + 0.01, (i, share[i], hit.mean())


def test_world_roads_run_at_the_urban_speed_in_helsinki_and_the_open_speed_far_from_towns() -> None:
    road = default_profiles()[Mode.ROAD]
    edges = _road(GULF_OF_FINLAND)
    helsinki = haversine_m((edges["x1"] + edges["x2"]) / 2, (edges["y1"] + edges["y2"]) / 2,
                           24.9384, 60.1699) < 2000.0
    short = edges["length_m"] < 1000.0
    assert (helsinki & short).sum() >= 5
    urban = road.param("world_urban_speed_kmh")
    np.testing.assert_allclose(edges.loc[helsinki & short, "speed"], urban, rtol=1e-9)
    far = _outside_every_town(edges)
    assert far.sum() >= 20
    np.testing.assert_allclose(edges.loc[far, "speed"], road.param("world_road_speed_kmh"),
                               rtol=1e-9)
    assert urban < edges["speed"].max() <= road.param("truck_speed_cap_kmh")


def test_russian_world_roads_keep_the_70_kmh_truck_limit_when_the_open_speed_is_80() -> None:
    # Russian rules of the road 10.3: goods vehicles over 3.5 t, 70 km/h off motorways;
    # Finland 80 and Estonia 90 km/h, both under the 80 km/h truck cap
    edges = _road(BORDER_BOX, 80.0)
    far = _outside_every_town(edges)
    mid_x = (edges["x1"] + edges["x2"]) / 2
    mid_y = (edges["y1"] + edges["y2"]) / 2
    from hubopt.demand import country_codes

    country = np.array(country_codes(mid_x.to_numpy(), mid_y.to_numpy()))
    for code, kmh in (("RU", 70.0), ("FI", 80.0), ("EE", 80.0)):
        sel = far & (country == code)
        assert sel.sum() >= 3, code
        np.testing.assert_allclose(edges.loc[sel, "speed"], kmh, rtol=1e-9)


def test_town_radius_grows_with_the_square_root_of_population_and_districts_merge() -> None:
    road = default_profiles()[Mode.ROAD]
    density = road.param("world_town_density_per_km2")
    table = towns(GULF_OF_FINLAND, road)
    cities = geonames_table(15000)
    for name in ("Helsinki", "Lahti", "Kotka"):
        pop = float(cities.loc[(cities["name"] == name) & (cities["countrycode"] == "FI"),
                               "population"].iloc[0])
        radius = table.loc[table["name"] == name, "radius_m"].iloc[0]
        assert radius == np.sqrt(pop / np.pi / density) * 1000.0
    # GeoNames lists districts beside Helsinki (Vuosaari, Mellunkylä...), counted in its
    # people: a place whose centre lies in a larger town's disc is no town of its own
    grown = BBox(GULF_OF_FINLAND.west - 0.5, GULF_OF_FINLAND.south - 0.5,
                 GULF_OF_FINLAND.east + 0.5, GULF_OF_FINLAND.north + 0.5)
    big = cities[(cities["population"] >= road.param("world_town_population"))
                 & grown.contains(cities["longitude"], cities["latitude"])]
    big = big.sort_values(["population", "geonameid"], ascending=[False, True])
    pop, lon, lat = (big[c].to_numpy(dtype=float) for c in ("population", "longitude",
                                                             "latitude"))
    radius = np.sqrt(pop / np.pi / density) * 1000.0
    kept: list[int] = []
    for i in range(len(big)):  # brute force over all larger places kept so far
        if not any(haversine_m(lon[k], lat[k], lon[i], lat[i]) < radius[k] for k in kept):
            kept.append(i)
    inner = table[GULF_OF_FINLAND.contains(table["lon"], table["lat"])]
    expected = big.iloc[kept]
    expected = expected[GULF_OF_FINLAND.contains(expected["longitude"], expected["latitude"])]
    assert sorted(inner["name"]) == sorted(expected["name"])
    assert len(kept) < len(big)
    assert "Vuosaari" not in set(inner["name"])
    assert "Espoo" in set(inner["name"])  # its own town, outside Helsinki's disc


def test_a_zero_town_density_names_the_profile_file_and_field(tmp_path: Path) -> None:
    folder = tmp_path / "profiles"
    shutil.copytree(PROFILE_FOLDER, folder)
    road = folder / "road.toml"
    text = road.read_text(encoding="utf-8")
    road.write_text(re.sub(r"(?m)^world_town_density_per_km2 = [0-9.]+",
                           "world_town_density_per_km2 = 0", text), encoding="utf-8")
    with pytest.raises(CaseValidationError,
                       match=r"road\.toml: \[defaults\] world_town_density_per_km2 must be a "
                             r"number > 0"):
        load_profiles(folder)
