"""Reading local OSM files (``.osm.pbf`` or ``.osm`` XML) in one pass.

:func:`scan_osm_file` reads a file once and returns, per mode, the mode's ways as flat
arrays (:class:`WaySet`: node references with their coordinates and the tags the layers
use; references missing from a clipped extract are dropped), plus the point features that
become terminals (ports, ferry terminals, stations, yards, aerodromes). Only ways with
one of the keys in :data:`SCAN_KEYS` and nodes with one of :data:`FEATURE_KEYS` count.

``.osm.pbf`` files are decoded by :mod:`hubopt.layers._pbf_decode` (numpy and numba):
the way filters and :func:`feature_kind` run once per distinct combination of the tag
values they read, and node locations are found by binary search. OSM XML, and PBF
encodings the decoder leaves aside, go through pyosmium (``osmium.filter.KeyFilter``,
pyosmium's location store, node lists through osmium's OPL writer). Both give the same
arrays, bit for bit. :mod:`hubopt.layers._ways` turns a :class:`WaySet` into a
simplified graph. The arrays are cached under
``settings.cache_folder/osm/<digest>-v<version>/``, where the digest is the SHA-256 of the
file's content: a changed file is read again whatever its name or date.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import pandas as pd

from hubopt import settings
from hubopt._errors import InputFormatError
from hubopt._io import atomic_path, write_json_atomic
from hubopt.layers._heap import retained_heap
from hubopt.layers._layer import BBox
from hubopt.modes import Mode

_CACHE_VERSION = "5"

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
        tags.get("highway", None) in DRIVABLE
        and tags.get("area", None) != "yes"
        and tags.get("access", None) not in _NO_ACCESS
        and tags.get("motor_vehicle", None) not in _NO_ACCESS
        and tags.get("service", None) not in _EXCLUDED_SERVICE
    )


def is_rail_way(tags: Mapping[str, str]) -> bool:
    """Main-line gauge railway (``railway=rail``), not an area."""
    return tags.get("railway", None) == "rail" and tags.get("area", None) != "yes"


def is_ferry_way(tags: Mapping[str, str]) -> bool:
    """Ferry route (``route=ferry``)."""
    return tags.get("route", None) == "ferry"


WAY_FILTERS: dict[Mode, Callable[[Mapping[str, str]], bool]] = {
    Mode.ROAD: is_road_way,
    Mode.RAIL: is_rail_way,
    Mode.SEA: is_ferry_way,
}


def feature_kind(tags: Mapping[str, str]) -> tuple[Mode, str] | None:
    """Classify a tagged object as a terminal feature: ``(mode, kind)`` or ``None``."""
    if tags.get("aeroway", None) == "aerodrome":
        return Mode.AIR, "aerodrome"
    if tags.get("amenity", None) == "ferry_terminal":
        return Mode.SEA, "ferry_terminal"
    if tags.get("industrial", None) == "port" or tags.get("landuse", None) == "port":
        return Mode.SEA, "port"
    harbour = tags.get("harbour", None)
    if (harbour and harbour != "no") or tags.get("seamark:type", None) == "harbour":
        return Mode.SEA, "harbour"
    railway = tags.get("railway", None)
    if railway in ("station", "halt") and tags.get("station", None) not in _NON_RAIL_STATIONS:
        return Mode.RAIL, "station"
    if railway == "yard" or (railway == "rail" and tags.get("service", None) == "yard"):
        return Mode.RAIL, "yard"
    if tags.get("landuse", None) == "railway" and railway in ("freight", "goods"):
        return Mode.RAIL, "freight_terminal"
    return None


# way tags the layers read (road: class, speed, direction, names; rail: usage, power, gauge;
# sea: ferry duration and operator)
WAY_TAGS = ("highway", "railway", "route", "name", "ref", "maxspeed", "oneway", "junction",
            "usage", "electrified", "gauge", "service", "duration", "operator")
FEATURE_KEYS = ("aeroway", "amenity", "industrial", "landuse", "harbour", "seamark:type",
                "railway")
SCAN_KEYS = tuple(sorted({"highway", "route", *FEATURE_KEYS}))
# node lists go through osmium's OPL writer (C++) and are parsed in bulk: a Python object
# per node reference would cost more than the rest of the pass
_OPL = "opl,add_metadata=false,locations_on_ways=true"
_MISSING = 999.0  # stands for the empty coordinates OPL writes for a missing node


@dataclass(frozen=True)
class TagColumn:
    """One tag over many ways: ``codes[i]`` indexes ``vocab`` (sorted), -1 when untagged."""

    codes: np.ndarray
    vocab: np.ndarray

    @classmethod
    def of(cls, values: Sequence[str | None]) -> TagColumn:
        """Encode a list of values (``None`` when untagged)."""
        codes, uniques = pd.factorize(pd.Series(list(values), dtype=object), sort=True)
        return cls(np.asarray(codes, dtype="int32"), np.asarray(list(uniques), dtype=object))

    def __len__(self) -> int:
        """Number of ways."""
        return len(self.codes)

    def take(self, index: np.ndarray) -> TagColumn:
        """The column of the ways at ``index``."""
        return TagColumn(self.codes[index], self.vocab)

    def mask(self, accept: Callable[[str], bool]) -> np.ndarray:
        """Boolean per way: tagged with a value that ``accept`` accepts."""
        ok = np.array([accept(str(v)) for v in self.vocab] + [False], dtype=bool)
        return np.asarray(ok[self.codes])  # -1 (untagged) picks the trailing False


@dataclass(frozen=True)
class WaySet:
    """One mode's ways as flat arrays.

    Way ``i`` (OSM id ``way_id[i]``) has the node references ``refs[offsets[i]:
    offsets[i + 1]]`` at ``lon``/``lat`` (degrees); ``tags[key]`` holds the values of the
    tag ``key`` of :data:`WAY_TAGS`. Ways are in OSM id order, with at least two
    references and no consecutive repeats. ``node``, when known (the PBF decoder),
    numbers the references' nodes in id order (equal for equal references), which spares
    :func:`~hubopt.layers._ways.build_way_graph` a sort.
    """

    way_id: np.ndarray
    offsets: np.ndarray
    refs: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    tags: Mapping[str, TagColumn]
    node: np.ndarray | None = None

    def __len__(self) -> int:
        """Number of ways."""
        return len(self.way_id)


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


def _parse_opl(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Node counts per way, references and coordinates of an OPL file of ways.

    Each line is ``w<id> T<tags> N<ref>x<lon>y<lat>,...`` (``x``/``y`` empty for a node
    missing from the file; those get NaN coordinates).
    """
    lines = text.split("\n")
    if lines and not lines[-1]:
        lines.pop()
    parts = [line[line.rfind(" N") + 2:] for line in lines]
    counts = np.array([p.count(",") + 1 if p else 0 for p in parts], dtype="int64")
    flat = ",".join(p for p in parts if p).replace("xy", f"x{_MISSING:g}y{_MISSING:g}")
    nums = np.fromstring(flat.translate(_SEPARATORS), sep=" ") if flat else np.zeros(0)
    if len(nums) != 3 * counts.sum():
        msg = "unexpected OPL node list from osmium"
        raise ValueError(msg)
    triples = nums.reshape(-1, 3)
    refs = triples[:, 0].astype("int64")
    lon, lat = triples[:, 1].copy(), triples[:, 2].copy()
    missing = lon == _MISSING
    lon[missing] = np.nan
    lat[missing] = np.nan
    return counts, refs, lon, lat


_SEPARATORS = str.maketrans("nxy,", "    ")


def _way_set(way_id: np.ndarray, n: np.ndarray, refs: np.ndarray, lon: np.ndarray,
             lat: np.ndarray, node: np.ndarray | None,
             tags: Mapping[str, TagColumn]) -> WaySet:
    """The ways in id order, from cleaned arrays (``n[i]`` references of way ``i``, 0 for a
    way dropped)."""
    good = n >= 2
    order = np.argsort(way_id[good], kind="stable")
    index = np.flatnonzero(good)[order]
    if (order != np.arange(len(order))).any():  # files are sorted by id; be safe if not
        rank = np.empty(len(n), dtype="int64")
        rank[index] = np.arange(len(index))
        way_of = np.repeat(np.arange(len(n)), n)
        perm = np.argsort(rank[way_of], kind="stable")
        refs, lon, lat = refs[perm], lon[perm], lat[perm]
        node = None if node is None else node[perm]
    offsets = np.zeros(len(index) + 1, dtype="int64")
    np.cumsum(n[index], out=offsets[1:])
    return WaySet(way_id[index], offsets, refs, lon, lat,
                  {k: c.take(index) for k, c in tags.items()}, node)


def _centroid(pts: list[tuple[float, float]]) -> tuple[float, float] | None:
    """Mean of a way's node locations, a closed ring's repeated end counted once."""
    if not pts:
        return None
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts = pts[:-1]
    return sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)


def _record(is_node: bool, osm_id: int, kind: tuple[Mode, str],
            get: Callable[[str], str | None], lon: float, lat: float) -> dict[str, object]:
    return {
        "osm_type": "node" if is_node else "way",
        "osm_id": osm_id,
        "mode": kind[0].value,
        "kind": kind[1],
        "name": get("name"),
        "iata": get("iata"),
        "icao": get("icao"),
        "ref": get("ref"),
        "lon": lon,
        "lat": lat,
    }


def _feature(obj: Any, kind: tuple[Mode, str], is_node: bool) -> dict[str, object] | None:
    if is_node:
        lon, lat = obj.location.lon, obj.location.lat
    else:
        mean = _centroid([(n.lon, n.lat) for n in obj.nodes if n.location.valid()])
        if mean is None:
            return None
        lon, lat = mean
    return _record(is_node, int(obj.id), kind, obj.tags.get, lon, lat)


class _RawTags:
    """Tags read through pyosmium's C++ accessor (``get(key, default)``), which skips the
    Python wrapper of ``TagList.get``: a third of the pass on large files."""

    __slots__ = ("get",)

    def __init__(self, get: Callable[[str, str | None], str | None]) -> None:
        self.get = get


def _fast_tags(obj: Any) -> Any:
    raw = getattr(getattr(obj, "_pyosmium_data", None), "tags_get_value_by_key", None)
    return _RawTags(raw) if raw is not None else obj.tags


def _read(path: Path, work: Path) -> tuple[dict[Mode, WaySet], list[dict[str, object]],
                                          BBox | None]:
    if path.name.lower().endswith(".pbf"):
        from hubopt.layers._pbf_decode import UnsupportedPbf

        try:
            result = _read_pbf(path)
        except UnsupportedPbf:
            pass  # a valid file in an encoding the decoder leaves to pyosmium
        else:
            return result
    return _read_osmium(path, work)


def _read_osmium(path: Path, work: Path) -> tuple[dict[Mode, WaySet],
                                                  list[dict[str, object]], BBox | None]:
    """The pyosmium pass: OSM XML, PBF files the decoder leaves aside, and the reference
    that the decoder is tested against."""
    features: list[dict[str, object]] = []
    way_ids: list[int] = []
    masks: list[int] = []
    rows: list[tuple[str | None, ...]] = []
    # nodes matter only as terminal features; ways as a mode's ways or features
    node_filter = osmium.filter.KeyFilter(*FEATURE_KEYS)
    node_filter.enable_for(osmium.osm.NODE)
    way_filter = osmium.filter.KeyFilter(*SCAN_KEYS)
    way_filter.enable_for(osmium.osm.WAY)
    proc = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations().with_filter(node_filter).with_filter(way_filter))
    opl = work / "ways.opl"
    writer = osmium.SimpleWriter(osmium.io.File(str(opl), _OPL), overwrite=True)
    try:
        obj: Any
        for obj in proc:
            is_node = obj.is_node()
            tags = _fast_tags(obj)
            if not is_node:
                mask = way_mask(tags)
                if mask:
                    writer.add_way(obj)
                    way_ids.append(obj.id)
                    masks.append(mask)
                    get = tags.get
                    rows.append(tuple([get(k, None) for k in WAY_TAGS]))
            kind = feature_kind(tags)
            if kind is not None:
                feat = _feature(obj, kind, is_node)
                if feat is not None:
                    features.append(feat)
    finally:
        writer.close()
    counts, refs, lon, lat = _parse_opl(opl.read_text(encoding="utf-8"))
    opl.unlink()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in WAY_TAGS]
    tag_cols = {k: TagColumn.of(col) for k, col in zip(WAY_TAGS, columns, strict=True)}
    ways = mode_way_sets(np.asarray(way_ids, dtype="int64"), np.asarray(masks, dtype="int64"),
                         counts, refs, lon, lat, tag_cols)
    bbox = _header_bbox(path)
    if bbox is None:
        bbox = _node_bbox(path)
    return ways, features, bbox


def way_mask(tags: Mapping[str, str]) -> int:
    """Bit ``i`` set when the ``i``-th filter of :data:`WAY_FILTERS` keeps the way."""
    mask = 0
    for bit, keep in enumerate(WAY_FILTERS.values()):
        if keep(tags):
            mask |= 1 << bit
    return mask


def mode_way_sets(ids: np.ndarray, bits: np.ndarray, counts: np.ndarray, refs: np.ndarray,
                  lon: np.ndarray, lat: np.ndarray, tag_cols: Mapping[str, TagColumn],
                  starts: np.ndarray | None = None,
                  node: np.ndarray | None = None) -> dict[Mode, WaySet]:
    """Each mode's :class:`WaySet` from the ways any mode keeps, in file order: their ids,
    :func:`way_mask` bits, node counts, references and coordinates (NaN: missing node),
    and optionally the nodes of :attr:`WaySet.node`. Way ``i``'s references start at
    ``starts[i]`` of the flat arrays (default: one way after the other)."""
    from hubopt.layers._pbf_arrays import gather_ways

    if starts is None:
        starts = np.zeros(len(counts), dtype="int64")
        np.cumsum(counts[:-1], out=starts[1:])
    nodes = np.zeros(0, dtype="int64") if node is None else np.asarray(node, dtype="int64")
    ways = {}
    for bit, mode in enumerate(WAY_FILTERS):
        sel = np.flatnonzero(bits & (1 << bit))
        n, r, x, y, nd = gather_ways(np.asarray(starts, dtype="int64"),
                                     np.asarray(counts, dtype="int64"), sel, refs, lon, lat,
                                     nodes)
        ways[mode] = _way_set(ids[sel], n, r, x, y, None if node is None else nd,
                              {k: c.take(sel) for k, c in tag_cols.items()})
    return ways


# the keys the filters and feature_kind read, and all the decoder keeps of a tag list
_DECISION_KEYS = tuple(dict.fromkeys(("highway", "area", "access", "motor_vehicle",
                                      "service", "railway", "route", *FEATURE_KEYS,
                                      "station")))
_COLUMNS = tuple(dict.fromkeys((*_DECISION_KEYS, *WAY_TAGS, "name", "iata", "icao", "ref")))


class UnreadTagError(Exception):
    """A filter asked for a tag that the decoder does not keep (a bug: extend
    ``_DECISION_KEYS``)."""


class _DecidingTags(dict[str, str]):
    """The tags of a distinct combination of :data:`_DECISION_KEYS` values."""

    def get(self, key: str, default: Any = None) -> Any:
        if key not in _DECISION_KEYS:
            msg = f"the filters read the tag {key!r}, which the PBF decoder does not keep"
            raise UnreadTagError(msg)
        return super().get(key, default)


def _decide(rows: np.ndarray, strings: Sequence[str]
            ) -> tuple[np.ndarray, np.ndarray, list[tuple[Mode, str]]]:
    """Per row of string numbers, the :func:`way_mask` bits and the :func:`feature_kind`
    (an index into the returned list, -1 for none); each distinct combination of values is
    decided once."""
    from hubopt.layers._pbf_arrays import distinct_rows

    cols = [_COLUMNS.index(k) for k in _DECISION_KEYS]
    first, inverse = distinct_rows(rows, cols)
    bits = np.zeros(len(first), dtype=np.int64)
    index = np.full(len(first), -1, dtype=np.int64)
    kinds: list[tuple[Mode, str]] = []
    for u, row in enumerate(rows[first][:, cols].tolist()):
        tags = _DecidingTags({k: strings[v] for k, v in zip(_DECISION_KEYS, row, strict=True)
                              if v >= 0})
        bits[u] = way_mask(tags)
        kind = feature_kind(tags)
        if kind is not None:
            if kind not in kinds:
                kinds.append(kind)
            index[u] = kinds.index(kind)
    return bits[inverse], index[inverse], kinds


def _read_pbf(path: Path) -> tuple[dict[Mode, WaySet], list[dict[str, object]],
                                   BBox | None]:
    """The decoder's pass (:mod:`hubopt.layers._pbf_decode`), equal to the pyosmium one."""
    from hubopt.layers._pbf_arrays import MAX_X, MAX_Y, vocabulary
    from hubopt.layers._pbf_decode import decode_pbf

    dec = decode_pbf(path, _COLUMNS, SCAN_KEYS, FEATURE_KEYS)
    col = {k: i for i, k in enumerate(_COLUMNS)}

    def getter(row: np.ndarray) -> Callable[[str], str | None]:
        return lambda key: dec.strings[row[col[key]]] if row[col[key]] >= 0 else None

    features: list[tuple[int, dict[str, object]]] = []  # (group number, record)
    _, node_kind, kinds = _decide(dec.tagged_rows, dec.strings)
    for i in np.flatnonzero(node_kind >= 0).tolist():
        node = int(dec.tagged[i])
        x, y = int(dec.node_x[node]), int(dec.node_y[node])
        if not (abs(x) <= MAX_X and abs(y) <= MAX_Y):
            msg = f"node {dec.node_id[node]} has an invalid location"
            raise ValueError(msg)
        features.append((int(dec.node_group[node]), _record(
            True, int(dec.node_id[node]), kinds[node_kind[i]], getter(dec.tagged_rows[i]),
            x / 1e7, y / 1e7)))
    bits, way_kind, kinds = _decide(dec.way_rows, dec.strings)
    need = np.flatnonzero((bits != 0) | (way_kind >= 0))
    starts = np.zeros(len(dec.way_id) + 1, dtype="int64")
    np.cumsum(dec.way_count, out=starts[1:])
    counts = dec.way_count[need]
    ends = np.cumsum(counts)
    refs = dec.way_refs[_spans(starts[need], counts)]
    lon, lat, valid, ref_node = _locations(dec, refs,
                                           np.repeat(dec.way_group[need], counts))
    for j in np.flatnonzero(way_kind[need] >= 0).tolist():
        w, span = int(need[j]), slice(int(ends[j] - counts[j]), int(ends[j]))
        mean = _centroid([(float(a), float(b)) for a, b in zip(
            lon[span][valid[span]], lat[span][valid[span]], strict=True)])
        if mean is not None:
            features.append((int(dec.way_group[w]), _record(
                False, int(dec.way_id[w]), kinds[way_kind[w]], getter(dec.way_rows[w]),
                *mean)))
    keep = np.flatnonzero(bits[need] != 0)
    kept = need[keep]
    tag_cols = {key: TagColumn(*vocabulary(dec.way_rows[kept, col[key]], dec.strings))
                for key in WAY_TAGS}
    ways = mode_way_sets(dec.way_id[kept], bits[kept], counts[keep], refs, lon, lat,
                         tag_cols, starts=ends[keep] - counts[keep], node=ref_node)
    features.sort(key=lambda item: item[0])  # file order (stable within a group)
    bbox = _header_bbox(path)
    if bbox is None:
        ok = (np.abs(dec.node_x.astype(np.int64)) <= MAX_X) & (
            np.abs(dec.node_y.astype(np.int64)) <= MAX_Y)
        if ok.any():
            xs, ys = dec.node_x[ok], dec.node_y[ok]
            bbox = BBox(int(xs.min()) / 1e7, int(ys.min()) / 1e7, int(xs.max()) / 1e7,
                        int(ys.max()) / 1e7)
    return ways, [f for _, f in features], bbox


def _locations(dec: Any, refs: np.ndarray, groups: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Longitude and latitude of each reference (NaN where pyosmium has no location: see
    :func:`~hubopt.layers._pbf_arrays.locate`), whether the location is valid, and the
    node (numbered in id order, -1 without a location)."""
    from hubopt.layers._pbf_arrays import locate

    ids, xs, ys, gs = dec.node_id, dec.node_x, dec.node_y, dec.node_group
    if len(ids) > 1 and not (ids[1:] >= ids[:-1]).all():
        order = np.argsort(ids, kind="stable")  # files are sorted by id; be safe if not
        ids, xs, ys, gs = ids[order], xs[order], ys[order], gs[order]
    lon, lat, valid, node = locate(ids, xs, ys, gs, refs, groups)
    return lon, lat, valid, node


def _spans(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions ``starts[i]:starts[i] + lengths[i]``, one span after the other."""
    from hubopt.layers._pbf_arrays import spans

    return np.asarray(spans(np.asarray(starts, dtype=np.int64),
                            np.asarray(lengths, dtype=np.int64)))


def _node_bbox(path: Path) -> BBox | None:
    """The extent of every node (files without a header box: XML written by tools)."""
    west, south, east, north = 180.0, 90.0, -180.0, -90.0
    node: Any
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
    if ways.node is not None:
        arrays["node"] = ways.node
    for key, column in ways.tags.items():
        arrays[f"code:{key}"] = column.codes
        arrays[f"vocab:{key}"] = np.array([str(v) for v in column.vocab], dtype=str)
    with atomic_path(target) as tmp, tmp.open("wb") as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]


def _load(source: Path) -> WaySet:
    with np.load(source, allow_pickle=False) as data:
        tags = {key: TagColumn(data[f"code:{key}"],
                               np.asarray(data[f"vocab:{key}"].tolist(), dtype=object))
                for key in WAY_TAGS}
        node = data["node"] if "node" in data.files else None
        return WaySet(data["way_id"], data["offsets"], data["refs"], data["lon"], data["lat"],
                      tags, node)


# cache folders being written in the background, so that a second scan waits for them
_writers: dict[Path, threading.Thread] = {}
_writers_lock = threading.Lock()


def scan_osm_file(path: str | Path) -> OsmScan:
    """Read ``path`` once; return the ways of each mode, terminal features and the extent.

    The arrays are written to the cache in a background thread (files written under
    temporary names, then renamed; the ``scan.json`` that marks a complete entry last),
    while the caller goes on building the layers; a later scan of the same content waits
    for it, and the interpreter waits for it at exit.

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
    with _writers_lock:
        pending = _writers.pop(folder, None)
    if pending is not None:
        pending.join()
    meta_path = folder / "scan.json"
    files = {m: folder / f"{m.value}.npz" for m in WAY_FILTERS}
    if meta_path.is_file() and all(p.is_file() for p in files.values()):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        box = meta.get("bbox")
        return OsmScan(path, {m: _load(p) for m, p in files.items()},
                       tuple(meta["features"]), BBox(*box) if box else None)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(dir=folder) as work, retained_heap():
            ways, features, bbox = _read(path, Path(work))
    except (RuntimeError, ValueError, OSError) as exc:
        msg = f"{path}: cannot read as an OSM PBF/XML file ({exc})"
        raise InputFormatError(msg) from exc
    meta = {"source": str(path), "way_counts": {m.value: len(w) for m, w in ways.items()},
            "features": features, "bbox": list(bbox.as_tuple()) if bbox else None}
    writer = threading.Thread(target=_write_cache, args=(files, ways, meta_path, meta),
                              name=f"hubopt-cache-{folder.name}")
    with _writers_lock:
        _writers[folder] = writer
    writer.start()
    return OsmScan(path, ways, tuple(features), bbox)


def _write_cache(files: Mapping[Mode, Path], ways: Mapping[Mode, WaySet], meta_path: Path,
                 meta: dict[str, object]) -> None:
    """The cache entry of a scan: the arrays of each mode, then ``scan.json``. A failure
    (a full disk, a folder removed meanwhile) leaves no entry and a warning."""
    try:
        for mode, target in files.items():
            _save(target, ways[mode])
        write_json_atomic(meta_path, meta)
    except OSError as exc:
        warnings.warn(f"{meta_path.parent}: the scan was not cached ({exc})",
                      RuntimeWarning, stacklevel=1)
