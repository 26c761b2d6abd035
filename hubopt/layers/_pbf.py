"""Reading local OSM files (``.osm.pbf`` or ``.osm`` XML) with pyosmium, in one pass.

:func:`scan_osm_file` reads a file once and returns, per mode, the mode's ways as flat
arrays (:class:`WaySet`: node references with their coordinates and the tags the layers
use; references missing from a clipped extract are dropped), plus the point features that
become terminals (ports, ferry terminals, stations, yards, aerodromes). Only objects with
one of the keys in :data:`SCAN_KEYS` reach Python (an ``osmium.filter.KeyFilter``); node
locations are kept by pyosmium's own location store. :mod:`hubopt.layers._ways` turns a
:class:`WaySet` into a simplified graph. The arrays are cached under
``settings.cache_folder/osm/<digest>-v<version>/``, where the digest is the SHA-256 of the
file's content: a changed file is read again whatever its name or date.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import osmium

from hubopt import settings
from hubopt._errors import InputFormatError
from hubopt._io import atomic_path, write_json_atomic
from hubopt.layers._layer import BBox
from hubopt.modes import Mode

_CACHE_VERSION = "3"

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


# way tags the layers read (road: class, speed, direction, names; rail: usage, power, gauge;
# sea: ferry duration and operator); ``osmid`` (the way id) is added by the graph builder
WAY_TAGS = ("highway", "railway", "route", "name", "ref", "maxspeed", "oneway", "junction",
            "usage", "electrified", "gauge", "service", "duration", "operator")
FEATURE_KEYS = ("aeroway", "amenity", "industrial", "landuse", "harbour", "seamark:type",
                "railway")
SCAN_KEYS = tuple(sorted({"highway", "route", *FEATURE_KEYS}))
_UNDEFINED = 2**31 - 1  # osmium's undefined fixed-point coordinate
_SCALE = 1e7  # fixed-point coordinates (1e-7 degree) to degrees


@dataclass(frozen=True)
class WaySet:
    """One mode's ways as flat arrays.

    Way ``i`` (OSM id ``way_id[i]``) has the node references ``refs[offsets[i]:
    offsets[i + 1]]`` at ``lon``/``lat`` (degrees); ``tags[key][i]`` is its value of the tag
    ``key`` of :data:`WAY_TAGS` (``None`` when untagged). Ways are in OSM id order, with at
    least two references and no consecutive repeats.
    """

    way_id: np.ndarray
    offsets: np.ndarray
    refs: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    tags: Mapping[str, list[str | None]]

    def __len__(self) -> int:
        """Number of ways."""
        return len(self.way_id)

    @classmethod
    def empty(cls) -> WaySet:
        """No ways."""
        return cls(np.zeros(0, "int64"), np.zeros(1, "int64"), np.zeros(0, "int64"),
                   np.zeros(0), np.zeros(0), {k: [] for k in WAY_TAGS})


@dataclass(frozen=True)
class OsmScan:
    """Result of :func:`scan_osm_file`: the ways of each mode, features and the extent."""

    path: Path
    ways: Mapping[Mode, WaySet]
    features: tuple[dict[str, object], ...]
    bbox: BBox | None

    @property
    def way_counts(self) -> dict[Mode, int]:
        """Number of ways per mode."""
        return {m: len(w) for m, w in self.ways.items()}


def file_digest(path: Path) -> str:
    """SHA-256 of the file content (first 16 hex digits)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


class _Collector:
    """Growing flat buffers of one mode's ways (Python lists: cheap appends)."""

    def __init__(self) -> None:
        self.way_id: list[int] = []
        self.lengths: list[int] = []
        self.refs: list[int] = []
        self.x: list[int] = []
        self.y: list[int] = []
        self.tags: dict[str, list[str | None]] = {k: [] for k in WAY_TAGS}

    def add(self, way_id: int, refs: list[int], xs: list[int], ys: list[int],
            tags: Any) -> None:
        self.way_id.append(way_id)
        self.lengths.append(len(refs))
        self.refs += refs
        self.x += xs
        self.y += ys
        for key, column in self.tags.items():
            column.append(tags.get(key))

    def finish(self) -> WaySet:
        order = np.argsort(np.asarray(self.way_id, dtype="int64"), kind="stable")
        lengths = np.asarray(self.lengths, dtype="int64")
        offsets = np.zeros(len(lengths) + 1, dtype="int64")
        np.cumsum(lengths, out=offsets[1:])
        if (order != np.arange(len(order))).any():  # files are sorted; be safe if not
            take = np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in order])
            lengths = lengths[order]
            offsets = np.zeros(len(lengths) + 1, dtype="int64")
            np.cumsum(lengths, out=offsets[1:])
        else:
            take = slice(None)
        refs = np.asarray(self.refs, dtype="int64")[take]
        lon = np.asarray(self.x, dtype="int64")[take] / _SCALE
        lat = np.asarray(self.y, dtype="int64")[take] / _SCALE
        tags = {k: [v[i] for i in order] for k, v in self.tags.items()}
        return WaySet(np.asarray(self.way_id, dtype="int64")[order], offsets, refs, lon, lat,
                      tags)


def _way_nodes(obj: Any) -> tuple[list[int], list[int], list[int]]:
    """References and fixed-point coordinates of a way's located nodes, no repeats."""
    refs: list[int] = []
    xs: list[int] = []
    ys: list[int] = []
    last = None
    for n in obj.nodes:
        x = n.x
        if x == _UNDEFINED:  # missing from a clipped extract
            continue
        ref = n.ref
        if ref == last:
            continue
        last = ref
        refs.append(ref)
        xs.append(x)
        ys.append(n.y)
    return refs, xs, ys


def _feature(obj: Any, kind: tuple[Mode, str], is_node: bool) -> dict[str, object] | None:
    if is_node:
        lon, lat = obj.location.lon, obj.location.lat
    else:
        pts = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
        if not pts:
            return None
        if len(pts) > 1 and pts[0] == pts[-1]:
            pts = pts[:-1]
        lon = sum(p[0] for p in pts) / len(pts)
        lat = sum(p[1] for p in pts) / len(pts)
    tags = obj.tags
    return {
        "osm_type": "node" if is_node else "way",
        "osm_id": int(obj.id),
        "mode": kind[0].value,
        "kind": kind[1],
        "name": tags.get("name"),
        "iata": tags.get("iata"),
        "icao": tags.get("icao"),
        "ref": tags.get("ref"),
        "lon": lon,
        "lat": lat,
    }


def _read(path: Path) -> tuple[dict[Mode, WaySet], list[dict[str, object]], BBox | None]:
    collectors = {m: _Collector() for m in WAY_FILTERS}
    filters = list(WAY_FILTERS.items())
    features: list[dict[str, object]] = []
    proc = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.KeyFilter(*SCAN_KEYS)))
    for obj in proc:
        is_node = obj.is_node()
        tags = obj.tags
        if not is_node:
            nodes: tuple[list[int], list[int], list[int]] | None = None
            for mode, keep in filters:
                if keep(tags):
                    if nodes is None:
                        nodes = _way_nodes(obj)
                    if len(nodes[0]) >= 2:
                        collectors[mode].add(obj.id, *nodes, tags)
        kind = feature_kind(tags)
        if kind is not None:
            feat = _feature(obj, kind, is_node)
            if feat is not None:
                features.append(feat)
    bbox = _header_bbox(path)
    if bbox is None:
        bbox = _node_bbox(path)
    return {m: c.finish() for m, c in collectors.items()}, features, bbox


def _node_bbox(path: Path) -> BBox | None:
    """The extent of every node (files without a header box: XML written by tools)."""
    west, south, east, north = 180.0, 90.0, -180.0, -90.0
    for node in osmium.FileProcessor(str(path), osmium.osm.NODE):
        loc = node.location
        if loc.valid():
            lon, lat = loc.lon, loc.lat
            west, east = min(west, lon), max(east, lon)
            south, north = min(south, lat), max(north, lat)
    return BBox(west, south, east, north) if west <= east and south <= north else None


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


def _save(target: Path, ways: WaySet) -> None:
    arrays: dict[str, np.ndarray] = {"way_id": ways.way_id, "offsets": ways.offsets,
                                     "refs": ways.refs, "lon": ways.lon, "lat": ways.lat}
    for key, column in ways.tags.items():
        vocab = sorted({v for v in column if v is not None})
        code = {v: i for i, v in enumerate(vocab)}
        arrays[f"code:{key}"] = np.array([code.get(v, -1) if v is not None else -1
                                          for v in column], dtype="int32")  # type: ignore[arg-type]
        arrays[f"vocab:{key}"] = np.array(vocab, dtype=str)
    with atomic_path(target) as tmp, tmp.open("wb") as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]


def _load(source: Path) -> WaySet:
    with np.load(source, allow_pickle=False) as data:
        tags: dict[str, list[str | None]] = {}
        for key in WAY_TAGS:
            vocab = data[f"vocab:{key}"].tolist()
            tags[key] = [vocab[c] if c >= 0 else None for c in data[f"code:{key}"].tolist()]
        return WaySet(data["way_id"], data["offsets"], data["refs"], data["lon"], data["lat"],
                      tags)


def scan_osm_file(path: str | Path) -> OsmScan:
    """Read ``path`` once; return the ways of each mode, terminal features and the extent.

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
    files = {m: folder / f"{m.value}.npz" for m in WAY_FILTERS}
    if meta_path.is_file() and all(p.is_file() for p in files.values()):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        box = meta.get("bbox")
        return OsmScan(path, {m: _load(p) for m, p in files.items()},
                       tuple(meta["features"]), BBox(*box) if box else None)
    try:
        ways, features, bbox = _read(path)
    except (RuntimeError, ValueError, OSError) as exc:
        msg = f"{path}: cannot read as an OSM PBF/XML file ({exc})"
        raise InputFormatError(msg) from exc
    for mode, target in files.items():
        _save(target, ways[mode])
    write_json_atomic(meta_path, {
        "source": str(path),
        "way_counts": {m.value: len(w) for m, w in ways.items()},
        "features": features,
        "bbox": list(bbox.as_tuple()) if bbox else None,
    })
    return OsmScan(path, ways, tuple(features), bbox)
