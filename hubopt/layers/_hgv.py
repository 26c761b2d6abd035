"""Legal speed limits of heavy goods vehicles on OSM road edges.

:func:`hgv_category` sorts an edge into ``urban``, ``rural`` or ``motorway`` from its
``highway`` class and ``maxspeed`` tag; :func:`hgv_limited_speeds` caps each edge's truck
speed at the limit of its country and category (the road profile's ``[hgv_speed_limits]``,
country = that of the nearest GeoNames city to the edge's start). Countries without an
entry keep the speeds they have.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from hubopt.layers._geo import NearestIndex
from hubopt.layers._osm import parse_speed_kmh
from hubopt.profiles import ModeProfile

URBAN_CLASSES = frozenset({"residential", "living_street", "service", "unclassified"})
URBAN_TAG_KMH = 50.0
CATEGORIES = ("urban", "rural", "motorway")


def hgv_category(kind: object, maxspeed: object) -> str:
    """``motorway``, ``urban`` (a street class or a maxspeed tag <= 50 km/h) or ``rural``."""
    classes = [str(k) for k in kind] if isinstance(kind, list | tuple) else str(kind).split(";")
    if all(c.startswith("motorway") for c in classes):
        return "motorway"
    if any(c in URBAN_CLASSES for c in classes):
        return "urban"
    tag = parse_speed_kmh(str(maxspeed)) if maxspeed is not None else None
    if tag is not None and tag <= URBAN_TAG_KMH:
        return "urban"
    return "rural"


def _groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group of each non-negative integer key and the distinct keys, in key order:
    ``np.unique(keys, return_inverse=True)`` without a sort, for keys of a small range."""
    present = np.bincount(keys) > 0
    return (np.cumsum(present) - 1)[keys], np.flatnonzero(present)


@functools.cache
def _cities() -> tuple[NearestIndex, np.ndarray]:
    """The GeoNames cities :func:`hubopt.demand.country_codes` uses, indexed, and their
    country codes."""
    from hubopt.layers._world_data import geonames_table

    cities = geonames_table(15000).sort_values("geonameid", kind="stable")
    index = NearestIndex(cities["longitude"].to_numpy(), cities["latitude"].to_numpy())
    return index, np.array([str(c) for c in cities["countrycode"].tolist()], dtype=object)


def countries_of(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """:func:`hubopt.demand.country_codes` of many points, decided per grid cell where
    a whole cell has one nearest country (:meth:`NearestIndex.nearest_labels`)."""
    from hubopt.demand import country_codes  # lazy: demand imports the layers package

    index, labels = _cities()
    out, unsure = index.nearest_labels(labels, lon, lat)
    if unsure.any():
        out[unsure] = country_codes(np.asarray(lon)[unsure], np.asarray(lat)[unsure])
    return out


def hgv_limited_speeds(speeds: np.ndarray, kind: tuple[np.ndarray, np.ndarray],
                       maxspeed: tuple[np.ndarray, np.ndarray], start: np.ndarray,
                       lon: np.ndarray, lat: np.ndarray,
                       profile: ModeProfile) -> np.ndarray:
    """``speeds`` (km/h, one per edge) capped by the country's HGV limit per category.

    ``kind`` and ``maxspeed`` are each edge's text as ``(codes, labels)`` (code -1: none;
    :meth:`hubopt.layers._ways.WayGraph.edge_codes`); ``start`` indexes each edge's start
    node in ``lon``/``lat``. The country is decided once per distinct start node, the
    category once per distinct (class, maxspeed) pair: a road layer of a regional extract
    has millions of edges.
    """
    limits = profile.hgv_limits
    if not limits or len(speeds) == 0:
        return speeds
    start = np.asarray(start, dtype="int64")
    is_start = np.zeros(len(lon), dtype=bool)
    is_start[start] = True
    at = (np.cumsum(is_start) - 1)[start]
    pos = np.flatnonzero(is_start)
    country, countries = pd.factorize(countries_of(np.asarray(lon, "float64")[pos],
                                                   np.asarray(lat, "float64")[pos]))
    country = country[at]
    # code -1 (no class or no maxspeed) picks the trailing None: hgv_category reads NaN
    kind_code, kind_labels = kind
    speed_code, speed_labels = maxspeed
    kinds = np.array([*np.asarray(kind_labels, dtype=object).tolist(), None], dtype=object)
    tagged = np.array([*np.asarray(speed_labels, dtype=object).tolist(), None], dtype=object)
    width = len(tagged)
    pair_at, pairs = _groups((np.asarray(kind_code, "int64") + 1) * width
                             + np.asarray(speed_code, "int64") + 1)
    category = np.array([CATEGORIES.index(hgv_category(kinds[p // width - 1],
                                                       tagged[p % width - 1]))
                         for p in pairs.tolist()], dtype="int64")[pair_at]
    cc_at, cc = _groups(country.astype("int64") * len(CATEGORIES) + category)
    cap = np.array([limits[c][k] if c in limits else np.inf
                    for c, k in zip(countries[cc // len(CATEGORIES)].tolist(),
                                    (cc % len(CATEGORIES)).tolist(), strict=True)])
    return np.minimum(speeds, cap[cc_at])


__all__ = ["CATEGORIES", "countries_of", "hgv_category", "hgv_limited_speeds"]
