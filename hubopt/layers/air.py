"""Air layer: aerodromes from OSM and airportsdata, great-circle links with block time.

Airports are OSM ``aeroway=aerodrome`` features and airportsdata airports (IATA database)
inside the region; an OSM aerodrome whose ``iata`` or ``icao`` tag matches an airportsdata
entry is the same airport. Air links join every pair of airports that have an IATA code and
lie between ``min_link_km`` and ``max_link_km`` apart, by great circle; the block time is the
great-circle distance over the cruise speed plus ``taxi_climb_h``. Every airport is a
terminal.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd

from hubopt.layers._geo import haversine_m, segments
from hubopt.layers._layer import (
    CRS,
    BBox,
    Layer,
    Source,
    TerminalEvidenceWarning,
    apply_unit_costs,
    empty_layer,
)
from hubopt.layers._osm import mode_input
from hubopt.layers._world_data import AIRPORT_EVIDENCE, airport_status, airports
from hubopt.modes import Mode
from hubopt.profiles import ModeProfile, Profiles

OSM_AIRPORT_ID_OFFSET = 4_000_000_000_000
IATA_AIRPORT_ID_OFFSET = 4_500_000_000_000


def _iata_number(code: str) -> int:
    return sum((ord(c) - 32) * 100**i for i, c in enumerate(reversed(code.upper()[:3])))


def _airports(features: list[dict[str, object]], bbox: BBox | None) -> pd.DataFrame:
    osm = pd.DataFrame(features, columns=["osm_type", "osm_id", "kind", "name", "iata", "icao",
                                          "ref", "lon", "lat"])
    osm = osm.sort_values(["osm_type", "osm_id"], kind="stable").reset_index(drop=True)
    db = airports()
    if bbox is not None:
        db = db[bbox.contains(db["lon"].to_numpy(), db["lat"].to_numpy())]
    else:
        db = db.iloc[0:0]
    rows = []
    matched: set[str] = set()
    by_icao = {c: i for i, c in zip(db["iata"], db["icao"], strict=True) if c}
    for rec in osm.itertuples(index=False):
        iata = rec.iata if isinstance(rec.iata, str) and rec.iata in set(db["iata"]) else None
        if iata is None and isinstance(rec.icao, str):
            iata = by_icao.get(rec.icao)
        if iata is None and isinstance(rec.iata, str) and len(rec.iata) == 3:
            iata = rec.iata
        if iata:
            matched.add(iata)
        rows.append({
            "terminal_id": f"air:{rec.osm_type[0]}/{rec.osm_id}", "kind": "aerodrome",
            "name": rec.name, "ref": iata or (rec.icao if isinstance(rec.icao, str) else None),
            "iata": iata, "icao": rec.icao if isinstance(rec.icao, str) else None,
            "lon": rec.lon, "lat": rec.lat, "source": "osm",
            "node_id": OSM_AIRPORT_ID_OFFSET + 2 * int(rec.osm_id) + (rec.osm_type != "node"),
        })
    for rec in db.itertuples(index=False):
        if rec.iata in matched:
            continue
        rows.append({
            "terminal_id": f"air:iata/{rec.iata}", "kind": "airport", "name": rec.name,
            "ref": rec.iata, "iata": rec.iata, "icao": rec.icao, "lon": rec.lon, "lat": rec.lat,
            "source": "airportsdata", "node_id": IATA_AIRPORT_ID_OFFSET + _iata_number(rec.iata),
        })
    return pd.DataFrame(rows, columns=["terminal_id", "kind", "name", "ref", "iata", "icao",
                                       "lon", "lat", "source", "node_id"])


def _with_evidence(ports: pd.DataFrame, *, scheduled_only: bool) -> pd.DataFrame:
    """The airports that OurAirports shows open (and, by default, with scheduled service).

    The others are left out with a :class:`TerminalEvidenceWarning` naming each one and why.
    """
    if ports.empty:
        return ports
    why = airport_status([c if isinstance(c, str) else None for c in ports["icao"]],
                         [c if isinstance(c, str) else None for c in ports["iata"]])
    if not scheduled_only:
        why = [None if w == "no scheduled service" else w for w in why]
    drop = np.array([w is not None for w in why])
    if drop.any():
        named = sorted(f"{n if isinstance(n, str) and n else 'unnamed'}"
                       f"{f' ({r})' if isinstance(r, str) and r else ''}: {w}"
                       for n, r, w, d in zip(ports["name"], ports["ref"], why, drop, strict=True)
                       if d)
        warnings.warn(f"air: {len(named)} airfield(s) are not air terminals ({AIRPORT_EVIDENCE}): "
                      + "; ".join(named), TerminalEvidenceWarning, stacklevel=3)
    return ports[~drop].reset_index(drop=True)


def build_air_layer(features: list[dict[str, object]], bbox: BBox | None,
                    profile: ModeProfile, *, source: str) -> Layer:
    """Airports of the region and the air links between those with an IATA code."""
    ports = _with_evidence(_airports(features, bbox),
                           scheduled_only=profile.param("require_scheduled_service", 1.0) > 0)
    if ports.empty:
        return empty_layer(Mode.AIR, source, reason="no aerodromes")
    ids = ports["node_id"].astype("int64").to_numpy()
    lon, lat = ports["lon"].to_numpy("float64"), ports["lat"].to_numpy("float64")
    nodes = gpd.GeoDataFrame({"x": lon, "y": lat}, geometry=gpd.points_from_xy(lon, lat),
                             crs=CRS, index=pd.Index(ids, name="node_id"))
    has_iata = ports["iata"].notna().to_numpy()
    i, j = np.nonzero(has_iata[:, None] & has_iata[None, :])
    off = i != j
    i, j = i[off], j[off]
    dist = haversine_m(lon[i], lat[i], lon[j], lat[j])
    ok = (dist >= profile.param("min_link_km", 0.0) * 1000.0) & (
        dist <= profile.param("max_link_km", 1e9) * 1000.0)
    i, j, dist = i[ok], j[ok], dist[ok]
    iata = ports["iata"].to_numpy()
    edges = gpd.GeoDataFrame({
        "u": ids[i], "v": ids[j], "mode": Mode.AIR.value, "kind": "air_link",
        "name": [f"{a}-{b}" for a, b in zip(iata[i], iata[j], strict=True)],
        "length_m": dist,
    }, geometry=segments(lon[i], lat[i], lon[j], lat[j]), crs=CRS)
    edges["time_h"] = dist / 1000.0 / profile.speed_kmh + profile.param("taxi_climb_h", 0.0)
    edges = apply_unit_costs(edges, profile)
    terminals = gpd.GeoDataFrame({
        "terminal_id": ports["terminal_id"].to_numpy(), "mode": Mode.AIR.value,
        "kind": ports["kind"].to_numpy(), "name": ports["name"].to_numpy(),
        "ref": ports["ref"].to_numpy(), "node_id": ids, "source": ports["source"].to_numpy(),
    }, geometry=gpd.points_from_xy(lon, lat), crs=CRS)
    return Layer(Mode.AIR, nodes, edges, terminals, source)


def air_layer(source: Source, profile: ModeProfile, profiles: Profiles | None = None) -> Layer:
    """Build the air layer of ``source`` (file or online)."""
    _, features, bbox = mode_input(source, Mode.AIR)
    return build_air_layer(features, bbox, profile, source=source.describe())
