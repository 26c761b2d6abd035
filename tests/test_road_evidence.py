"""hubopt's road distances and truck times against cited real city pairs
(``tests/data/road_pairs.csv``: every row names its source), offline, on the world road
layer and the shared OSM extracts, through the code of ``hubopt matrix --modes road``.

Only rows with ``role = report`` are checked; the ``training`` rows chose the world road
speed and town density (road profile, ``world_road_speed_kmh``,
``world_town_density_per_km2``) and are never reported.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import pytest

from hubopt._errors import CaseValidationError, InputFormatError
from hubopt.layers import EmptyLayerWarning, Source
from hubopt.layers._hgv import hgv_category
from hubopt.modes import Mode
from hubopt.network import MultimodalNetwork, build_network
from hubopt.profiles import PROFILE_FOLDER, default_profiles, load_profiles
from hubopt.road_evidence import compare, read_pairs, road_network

PAIRS = Path(__file__).parent / "data" / "road_pairs.csv"
TIMED = ("precise", "approximate")


@functools.cache
def _network(layer: str) -> MultimodalNetwork:
    return road_network(layer, read_pairs(PAIRS))


@functools.cache
def _measured() -> pd.DataFrame:
    pairs = read_pairs(PAIRS)
    parts = [compare(pairs[pairs["layer"] == layer], _network(layer))
             for layer in pairs["layer"].unique()]  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def _reported() -> pd.DataFrame:
    m = _measured()
    return m[m["role"] == "report"]


def test_the_table_has_25_cited_pairs_with_10_precise_car_times() -> None:
    pairs = read_pairs(PAIRS)
    assert len(pairs) >= 25
    assert (pairs["car_time_kind"] == "precise").sum() >= 10
    assert pairs["source"].str.startswith("http").all()


def test_every_pair_cites_a_source_and_is_routed_by_road() -> None:
    m = _measured()
    assert len(m) == len(read_pairs(PAIRS))
    assert m["source"].str.startswith("http").all()
    assert (m["modes"] == "road").all()
    assert m["hubopt_km"].notna().all()


def test_median_road_distance_is_within_5_percent_of_the_cited_distances() -> None:
    m = _reported()
    assert float(np.median(np.abs(m["km_ratio"] - 1.0))) <= 0.05


def test_every_city_centre_is_snapped_with_a_connector_under_3_km() -> None:
    m = _reported()
    centre = pd.concat([m.loc[m["origin_kind"] == "centre", "access_km"],
                        m.loc[m["destination_kind"] == "centre", "egress_km"]])  # fmt: skip
    assert len(centre) > 0
    assert (centre < 3.0).all(), centre[centre >= 3.0]


def test_median_truck_time_is_1_to_1_4_times_the_cited_car_time() -> None:
    m = _reported()
    timed = m[m["car_time_kind"].isin(TIMED)]
    assert len(timed) >= 8
    assert 1.0 <= float(np.median(timed["time_ratio"])) <= 1.4


def test_truck_time_is_never_below_0_9_times_the_cited_car_time() -> None:
    m = _reported()
    timed = m[m["car_time_kind"].isin(TIMED)]
    assert (timed["time_ratio"] >= 0.9).all(), timed[["origin", "destination", "time_ratio"]]


def test_truck_time_is_never_below_0_9_times_a_precise_car_time() -> None:
    # precise = a routing-service figure to the minute (airmilescalculator.com); this
    # split from the rounded statements was made when Helsinki-Joensuu failed the check
    # above (before world roads slowed down in towns), and is reported as such
    m = _reported()
    precise = m[m["car_time_kind"] == "precise"]
    assert len(precise) >= 6
    assert (precise["time_ratio"] >= 0.9).all(), precise[["origin", "destination",
                                                           "time_ratio"]]


def _training_ratios(**params: float) -> pd.Series:
    pairs = read_pairs(PAIRS)
    world = pairs[pairs["layer"] == "world"]
    base = default_profiles()
    road = base[Mode.ROAD]
    road = dataclasses.replace(road, params=MappingProxyType({**road.params, **params}))
    prof = dataclasses.replace(base, modes=MappingProxyType({**base.modes, Mode.ROAD: road}))
    lon = np.concatenate([world["origin_lon"], world["destination_lon"]])
    lat = np.concatenate([world["origin_lat"], world["destination_lat"]])
    box = f"{lon.min() - 0.5},{lat.min() - 0.5},{lon.max() + 0.5},{lat.max() + 0.5}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyLayerWarning)
        net = build_network(source=Source.from_bbox(box), world=True, modes="road",
                            profiles=prof)
    return compare(world[world["role"] == "training"], net)["time_ratio"]


def test_world_road_speed_is_the_largest_5_kmh_step_no_training_truck_beats_the_car() -> None:
    # the rule that set world_road_speed_kmh (road profile), on the training pairs only
    chosen = default_profiles()[Mode.ROAD].param("world_road_speed_kmh")
    assert len(_training_ratios()) == 4
    assert (_training_ratios() >= 1.0).all()
    assert (_training_ratios(world_road_speed_kmh=chosen + 5.0) < 1.0).any()


def test_town_density_is_the_one_whose_training_ratios_spread_least() -> None:
    # the rule that set world_town_density_per_km2 within its range (1500-3000): at each
    # density the open-road speed by the rule above, then the narrowest training spread
    road = default_profiles()[Mode.ROAD]
    spread = {}
    for density in (1500.0, 2000.0, 3000.0):
        speed = road.param("truck_speed_cap_kmh")
        while True:  # largest 5 km/h step at which no training truck beats the car
            r = _training_ratios(world_town_density_per_km2=density, world_road_speed_kmh=speed)
            if (r >= 1.0).all():
                break
            speed -= 5.0
        spread[density] = float(r.max() - r.min())
    assert min(spread, key=spread.__getitem__) == road.param("world_town_density_per_km2")


def test_truck_time_is_not_above_1_4_times_a_car_time_upper_bound() -> None:
    # a source giving "at most X h" bounds the car time from above, so hubopt / X is a
    # lower bound of the true ratio: above 1.4 would show the truck far too slow
    m = _reported()
    bound = m[m["car_time_kind"] == "at most"]
    assert len(bound) > 0
    assert (bound["time_ratio"] <= 1.4).all()


def test_no_malta_road_edge_is_faster_than_maltas_60_kmh_goods_vehicle_limit() -> None:
    # Malta: goods vehicles 60 km/h on open roads, 30 km/h in built-up areas (road
    # profile, [hgv_speed_limits]); the extract's trunk roads are tagged up to 80 km/h
    e = _network("malta").edges
    road = e[(e["mode"] == "road") & (e["length_m"] > 0)]
    speed = road["length_m"].to_numpy() / 1000.0 / road["time_h"].to_numpy()
    assert speed.max() <= 60.0 + 1e-6
    streets = road["kind"].astype(str).isin(["residential", "living_street"])
    assert streets.any()
    assert (speed[streets.to_numpy()] <= 30.0 + 1e-6).all()


def test_a_pairs_table_with_a_bad_time_kind_names_the_file_and_row(tmp_path: Path) -> None:
    bad = tmp_path / "pairs.csv"
    text = PAIRS.read_text(encoding="utf-8").replace(",approximate,", ",roughly,", 1)
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputFormatError, match=r"pairs\.csv: row 3: car_time_kind"):
        read_pairs(bad)


def test_hgv_categories_follow_the_highway_class_and_maxspeed_tag() -> None:
    assert hgv_category("motorway", None) == "motorway"
    assert hgv_category("motorway;motorway_link", "120") == "motorway"
    assert hgv_category("residential", None) == "urban"
    assert hgv_category("trunk", "50") == "urban"
    assert hgv_category("trunk", "70") == "rural"
    assert hgv_category("primary", float("nan")) == "rural"


def test_a_bad_hgv_limit_row_names_the_profile_file_and_country(tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "profiles"
    shutil.copytree(PROFILE_FOLDER, folder)
    road = folder / "road.toml"
    road.write_text(road.read_text(encoding="utf-8").replace(
        "MT = [30.0, 60.0, 60.0]", "MT = [30.0, 60.0]"), encoding="utf-8")
    with pytest.raises(CaseValidationError, match=r"road\.toml: \[hgv_speed_limits\] MT"):
        load_profiles(folder)
