"""Reading local OSM files (``.osm.pbf`` or ``.osm`` XML) with pyosmium, in one pass.

:func:`scan_osm_file` reads a file once and returns, per mode, a *filtered* OSM XML file
that holds only that mode's ways and the nodes they reference (node references missing
from a clipped extract are dropped, so osmnx never sees an edge without its nodes), plus
the point features that become terminals (ports, ferry terminals, stations, yards,
aerodromes). Filtered files are cached under ``settings.cache_folder/osm/<digest>/``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import osmium

from hubopt import settings
from hubopt._errors import InputFormatError
from hubopt._io import atomic_path, write_json_atomic
from hubopt.layers._layer import BBox
from hubopt.modes import Mode

_CACHE_VERSION = "2"

DRIVABLE = frozenset({
    "motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential",
    "living_street", "service", "road", "motorway_link", "trunk_link", "primary_link",
    "secondary_link", "tertiary_link",
})
_NO_ACCESS = frozenset({"no", "private"})
_EXCLUDED_SERVICE = frozenset({"parking", "parking_aisle", "driveway", "private",
                               "emergency_access"})
_NON_RAIL_STATIONS = frozenset({"subway", "light_rail", "tram", "monorail", "funicular"})


def is_road_way(tags: Mapping[str, str]) -> bool:
    """Drivable highway (osmnx-like 'drive' filter) that is not an area or private."""
    return (
        tags.get("highway") in DRIVABLE
        and tags.get("area") != "yes"
        and tags.get("access") not in _NO_ACCESS
        and tags.get("motor_vehicle") not in _NO_ACCESS
        and tags.get("service") not in _EXCLUDED_SERVICE
    )


def is_rail_way(tags: Mapping[str, str]) -> bool:
    """Main-line gauge railway (``railway=rail``), not an area."""
    return tags.get("railway") == "rail" and tags.get("area") != "yes"


def is_ferry_way(tags: Mapping[str, str]) -> bool:
    """Ferry route (``route=ferry``)."""
    return tags.get("route") == "ferry"


WAY_FILTERS: dict[Mode, Callable[[Mapping[str, str]], bool]] = {
    Mode.ROAD: is_road_way,
    Mode.RAIL: is_rail_way,
    Mode.SEA: is_ferry_way,
}


def feature_kind(tags: Mapping[str, str]) -> tuple[Mode, str] | None:
    """Classify a tagged object as a terminal feature: ``(mode, kind)`` or ``None``."""
    if tags.get("aeroway") == "aerodrome":
        return Mode.AIR, "aerodrome"
    if tags.get("amenity") == "ferry_terminal":
        return Mode.SEA, "ferry_terminal"
    if tags.get("industrial") == "port" or tags.get("landuse") == "port":
        return Mode.SEA, "port"
    harbour = tags.get("harbour")
    if (harbour and harbour != "no") or tags.get("seamark:type") == "harbour":
        return Mode.SEA, "harbour"
    railway = tags.get("railway")
    if railway in ("station", "halt") and tags.get("station") not in _NON_RAIL_STATIONS:
        return Mode.RAIL, "station"
    if railway == "yard" or (railway == "rail" and tags.get("service") == "yard"):
        return Mode.RAIL, "yard"
    if tags.get("landuse") == "railway" and tags.get("railway") in ("freight", "goods"):
        return Mode.RAIL, "freight_terminal"
    return None


@dataclass(frozen=True)
class OsmScan:
    """Result of :func:`scan_osm_file`: filtered XML per mode, features and the extent."""

    path: Path
    xml: Mapping[Mode, Path]
    way_counts: Mapping[Mode, int]
    features: tuple[dict[str, object], ...]
    bbox: BBox | None


def file_digest(path: Path) -> str:
    """SHA-256 of the file content (first 16 hex digits)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def _write_osm_xml(target: Path, nodes: dict[int, tuple[float, float]],
                   ways: list[tuple[int, list[int], dict[str, str]]]) -> None:
    with atomic_path(target) as tmp, tmp.open("w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="hubopt">\n')
        for nid in sorted(nodes):
            lon, lat = nodes[nid]
            fh.write(f'  <node id="{nid}" lat="{lat:.7f}" lon="{lon:.7f}"/>\n')
        for wid, refs, tags in sorted(ways, key=lambda w: w[0]):
            fh.write(f'  <way id="{wid}">\n')
            fh.writelines(f'    <nd ref="{r}"/>\n' for r in refs)
            fh.writelines(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>\n"
                          for k, v in sorted(tags.items()))
            fh.write("  </way>\n")
        fh.write("</osm>\n")


def _read(path: Path) -> tuple[dict[Mode, dict[int, tuple[float, float]]],
                               dict[Mode, list[tuple[int, list[int], dict[str, str]]]],
                               list[dict[str, object]], BBox | None]:
    nodes: dict[Mode, dict[int, tuple[float, float]]] = {m: {} for m in WAY_FILTERS}
    ways: dict[Mode, list[tuple[int, list[int], dict[str, str]]]] = {m: [] for m in WAY_FILTERS}
    features: list[dict[str, object]] = []
    west, south, east, north = 180.0, 90.0, -180.0, -90.0
    proc = osmium.FileProcessor(str(path)).with_locations()
    for obj in proc:
        if isinstance(obj, osmium.osm.Node):
            loc = obj.location
            if loc.valid():
                lon, lat = loc.lon, loc.lat
                west, east = min(west, lon), max(east, lon)
                south, north = min(south, lat), max(north, lat)
        if not isinstance(obj, osmium.osm.Node | osmium.osm.Way) or not obj.tags:
            continue
        tags = {t.k: t.v for t in obj.tags}
        if isinstance(obj, osmium.osm.Way):
            coords = [(n.ref, n.location.lon, n.location.lat) for n in obj.nodes
                      if n.location.valid()]
            for mode, keep in WAY_FILTERS.items():
                if keep(tags) and len(coords) >= 2:
                    refs = [c[0] for c in coords]
                    # drop consecutive duplicates left after removing missing references
                    refs = [r for i, r in enumerate(refs) if i == 0 or r != refs[i - 1]]
                    if len(refs) < 2:
                        continue
                    ways[mode].append((obj.id, refs, tags))
                    for ref, lon, lat in coords:
                        nodes[mode][ref] = (lon, lat)
        kind = feature_kind(tags)
        if kind is None:
            continue
        if isinstance(obj, osmium.osm.Node):
            lon, lat = obj.location.lon, obj.location.lat
        else:
            pts = [(n.location.lon, n.location.lat) for n in obj.nodes if n.location.valid()]
            if not pts:
                continue
            if len(pts) > 1 and pts[0] == pts[-1]:
                pts = pts[:-1]
            lon = sum(p[0] for p in pts) / len(pts)
            lat = sum(p[1] for p in pts) / len(pts)
        features.append({
            "osm_type": "node" if isinstance(obj, osmium.osm.Node) else "way",
            "osm_id": int(obj.id),
            "mode": kind[0].value,
            "kind": kind[1],
            "name": tags.get("name"),
            "iata": tags.get("iata"),
            "icao": tags.get("icao"),
            "ref": tags.get("ref"),
            "lon": lon,
            "lat": lat,
        })
    bbox = _header_bbox(path)
    if bbox is None and west <= east and south <= north:
        bbox = BBox(west, south, east, north)
    return nodes, ways, features, bbox


def _header_bbox(path: Path) -> BBox | None:
    """The bounding box in the file header (PBF extracts have one), else ``None``."""
    reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
    try:
        box = reader.header().box()
    finally:
        reader.close()
    if not box.valid():
        return None
    return BBox(box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)


def scan_osm_file(path: str | Path) -> OsmScan:
    """Read ``path`` once; return filtered XML per mode, terminal features and the extent.

    Raises
    ------
    InputFormatError
        The file is missing or cannot be read as OSM PBF/XML.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"{path}: OSM file not found"
        raise InputFormatError(msg)
    folder = Path(settings.cache_folder) / "osm" / f"{file_digest(path)}-v{_CACHE_VERSION}"
    meta_path = folder / "scan.json"
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        xml = {Mode(m): folder / f"{m}.osm" for m in meta["way_counts"]}
        if all(p.is_file() for p in xml.values()):
            box = meta.get("bbox")
            return OsmScan(path, xml, {Mode(m): int(c) for m, c in meta["way_counts"].items()},
                           tuple(meta["features"]), BBox(*box) if box else None)
    try:
        nodes, ways, features, bbox = _read(path)
    except (RuntimeError, ValueError, OSError) as exc:
        msg = f"{path}: cannot read as an OSM PBF/XML file ({exc})"
        raise InputFormatError(msg) from exc
    xml = {}
    for mode in WAY_FILTERS:
        xml[mode] = folder / f"{mode.value}.osm"
        _write_osm_xml(xml[mode], nodes[mode], ways[mode])
    counts = {m: len(ways[m]) for m in WAY_FILTERS}
    write_json_atomic(meta_path, {
        "source": str(path),
        "way_counts": {m.value: c for m, c in counts.items()},
        "features": features,
        "bbox": list(bbox.as_tuple()) if bbox else None,
    })
    return OsmScan(path, xml, counts, tuple(features), bbox)
