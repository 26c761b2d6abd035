"""The only module that calls osmnx (online sources), and the entry of every OSM source.

Local files go through :mod:`hubopt.layers._pbf` (one pyosmium pass, cached) and
:mod:`hubopt.layers._ways` (the simplified graph, built in numpy and numba as osmnx
would build it).
Online sources (place name, bounding box, polygon) are downloaded by osmnx and Overpass and
their graph is turned into the same :class:`~hubopt.layers._ways.WayGraph`, so the layers
read both the same way.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from hubopt._errors import LayerExtractionError
from hubopt.layers._layer import BBox, Source, SourceKind
from hubopt.layers._ways import WayGraph
from hubopt.modes import Mode

if TYPE_CHECKING:
    import networkx as nx

    from hubopt.layers._pbf import OsmScan

_EXTRA_WAY_TAGS = ("railway", "usage", "electrified", "gauge", "route", "duration", "operator",
                   "service")

# osmnx custom filters (Overpass QL) for the online path, matching _pbf's way filters.
CUSTOM_FILTERS: dict[Mode, str] = {
    Mode.ROAD: (
        '["highway"]["area"!~"yes"]["access"!~"private|no"]'
        '["highway"~"motorway|trunk|primary|secondary|tertiary|unclassified|residential|'
        'living_street|service|road"]'
        '["service"!~"parking|parking_aisle|driveway|private|emergency_access"]'
    ),
    Mode.RAIL: '["railway"="rail"]',
    Mode.SEA: '["route"="ferry"]',
}

FEATURE_TAGS: dict[Mode, dict[str, Any]] = {
    Mode.SEA: {"harbour": True, "landuse": "port", "industrial": "port",
               "amenity": "ferry_terminal", "seamark:type": "harbour"},
    Mode.RAIL: {"railway": ["station", "halt", "yard"]},
    Mode.AIR: {"aeroway": "aerodrome"},
}


@contextmanager
def _useful_tags() -> Iterator[None]:
    import osmnx as ox

    saved = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = sorted(set(saved) | set(_EXTRA_WAY_TAGS))
    try:
        yield
    finally:
        ox.settings.useful_tags_way = saved


def polygon_of(source: Source) -> shapely.Geometry:
    """The polygon of an online source: geocoded place, bounding box or the polygon."""
    if source.kind is SourceKind.POLYGON and source.polygon is not None:
        return source.polygon
    if source.kind is SourceKind.BBOX and source.bbox is not None:
        return shapely.box(*source.bbox.as_tuple())
    if source.kind is SourceKind.PLACE and source.place is not None:
        import osmnx as ox

        try:
            gdf = ox.geocode_to_gdf(source.place)
        except Exception as exc:
            msg = f"place {source.place!r}: cannot geocode ({exc})"
            raise LayerExtractionError(msg) from exc
        return gdf.geometry.union_all()
    msg = f"{source.describe()}: not an online source"
    raise LayerExtractionError(msg)


def bbox_of(source: Source) -> BBox:
    """The bounding box of an online source."""
    if source.bbox is not None:
        return source.bbox
    minx, miny, maxx, maxy = polygon_of(source).bounds
    return BBox(minx, miny, maxx, maxy)


def graph_online(source: Source, mode: Mode, *, retain_all: bool) -> nx.MultiDiGraph | None:
    """Download the mode's ways inside an online source with osmnx; ``None`` if none."""
    import osmnx as ox

    polygon = polygon_of(source)
    with _useful_tags():
        try:
            return ox.graph_from_polygon(polygon, network_type="all", simplify=True,
                                         retain_all=retain_all,
                                         custom_filter=CUSTOM_FILTERS[mode])
        except ox._errors.InsufficientResponseError:
            return None
        except Exception as exc:  # network failures, Overpass errors
            msg = f"{source.describe()}: cannot download the {mode.value} ways ({exc})"
            raise LayerExtractionError(msg) from exc


def features_online(source: Source, mode: Mode) -> list[dict[str, object]]:
    """Download terminal features of ``mode`` with osmnx, as :mod:`_pbf` feature records."""
    import osmnx as ox

    from hubopt.layers._pbf import feature_kind

    try:
        gdf = ox.features_from_polygon(polygon_of(source), FEATURE_TAGS[mode])
    except ox._errors.InsufficientResponseError:
        return []
    except Exception as exc:  # network failures, Overpass errors
        msg = f"{source.describe()}: cannot download the {mode.value} terminals ({exc})"
        raise LayerExtractionError(msg) from exc
    out: list[dict[str, object]] = []
    points = gdf.geometry.representative_point()
    for (osm_type, osm_id), row in gdf.iterrows():
        tags = {k: str(v) for k, v in row.items() if isinstance(v, str)}
        kind = feature_kind(tags)
        if kind is None or kind[0] is not mode or osm_type == "relation":
            continue
        pt = points.loc[(osm_type, osm_id)]
        out.append({"osm_type": osm_type, "osm_id": int(osm_id), "mode": mode.value,
                    "kind": kind[1], "name": tags.get("name"), "iata": tags.get("iata"),
                    "icao": tags.get("icao"), "ref": tags.get("ref"), "lon": pt.x, "lat": pt.y})
    return out


def way_graph_of(G: nx.MultiDiGraph) -> WayGraph:
    """The :class:`WayGraph` of an osmnx graph (online sources).

    A merged edge whose tags are lists becomes one pseudo-way per list position, so that
    :meth:`WayGraph.values` gives the same sets of values.
    """
    from hubopt.layers._pbf import WAY_TAGS, TagColumn

    keys = (*WAY_TAGS, "osmid", "oneway")
    x = dict(G.nodes(data="x"))
    y = dict(G.nodes(data="y"))
    us, vs, lengths, geoms, seg_edge = [], [], [], [], []
    tags: dict[str, list[str | None]] = {k: [] for k in keys}
    for i, (u, v, data) in enumerate(G.edges(data=True)):
        us.append(int(u))
        vs.append(int(v))
        lengths.append(float(data.get("length", 0.0)))
        geom = data.get("geometry")
        geoms.append(geom if geom is not None else
                     shapely.LineString([(x[u], y[u]), (x[v], y[v])]))
        lists = {k: _as_list(data.get(k)) for k in keys}
        for j in range(max(1, *(len(vals) for vals in lists.values()))):
            seg_edge.append(i)
            for k in keys:
                tags[k].append(lists[k][j] if j < len(lists[k]) else None)
    ids = np.array(sorted(G.nodes), dtype="int64")
    seg = np.asarray(seg_edge, dtype="int64")
    return WayGraph(ids, np.array([x[n] for n in ids.tolist()], dtype="float64"),
                    np.array([y[n] for n in ids.tolist()], dtype="float64"),
                    np.asarray(us, "int64"), np.asarray(vs, "int64"),
                    np.asarray(lengths, "float64"), np.asarray(geoms, dtype=object),
                    seg, np.arange(len(seg), dtype="int64"),
                    {k: TagColumn.of(v) for k, v in tags.items()})


def _as_list(value: object) -> list[str]:
    if isinstance(value, list | tuple | set):
        return [str(v) for v in value if v is not None and not pd.isna(v)]
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return [str(value)]


_MAXSPEED = re.compile(r"^([0-9][\.,0-9]*?)(?:[ ]?(?:km/h|kmh|kph|mph|knots))?$")
_MPH_KMH = 1.60934


@functools.cache
def _implicit_maxspeeds() -> dict[str, float]:
    """osmnx's table of implicit speed limits (``DE:urban``, ``RO:rural``...), in km/h."""
    from osmnx.routing import _IMPLICIT_MAXSPEEDS

    return dict(_IMPLICIT_MAXSPEEDS)


def osm_maxspeed_kmh(value: str) -> float:
    """A ``maxspeed`` value in km/h as osmnx's ``add_edge_speeds`` reads it; NaN if none.

    Numbers with an optional unit (``mph`` converted), several ``|``-separated numbers
    averaged, implicit limits (``MT:urban``) from osmnx's table.
    """
    parts = value.split("|")
    numbers = []
    for part in parts:
        m = _MAXSPEED.match(part)
        if m is None:
            return float(_implicit_maxspeeds().get(value, np.nan))
        try:
            numbers.append(float(m.group(1).replace(",", ".")))
        except ValueError:
            return float(_implicit_maxspeeds().get(value, np.nan))
    factor = _MPH_KMH if "mph" in value.lower() else 1.0
    return float(np.mean(numbers)) * factor


def parse_speed_kmh(value: str | None) -> float | None:
    """Parse an OSM ``maxspeed`` value (``"80"``, ``"50 mph"``, ``"60;80"``) to km/h (min)."""
    if not value:
        return None
    speeds = []
    for part in str(value).split(";"):
        token = part.strip().lower()
        factor = 1.609344 if token.endswith("mph") else 1.0
        token = token.replace("mph", "").replace("km/h", "").replace("kmh", "").strip()
        try:
            speeds.append(float(token) * factor)
        except ValueError:
            continue
    positive = [s for s in speeds if s > 0]
    return min(positive) if positive else None


def _scan(path: Path) -> OsmScan:
    """:func:`~hubopt.layers._pbf.scan_osm_file`, kept in memory for the next mode of the
    same file (the four layers read one file in turn; hashing and loading it again would
    cost each of them). Keyed on the file's identity, size and modification time and on
    the cache folder."""
    from hubopt import settings
    from hubopt.layers._pbf import scan_osm_file

    if not Path(path).is_file():
        return scan_osm_file(path)  # the error naming the file
    stat = Path(path).stat()
    return _scan_memo(str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns,
                      str(settings.cache_folder))


@functools.lru_cache(maxsize=1)
def _scan_memo(path: str, inode: int, size: int, mtime_ns: int, cache: str) -> OsmScan:
    from hubopt.layers._pbf import scan_osm_file

    return scan_osm_file(path)


def mode_input(
    source: Source, mode: Mode
) -> tuple[WayGraph | None, list[dict[str, object]], BBox | None]:
    """Graph of the mode's ways (or ``None``), its terminal features and the region's box.

    Local files are scanned once by pyosmium (cached on their content) and simplified in
    numpy and numba; online sources are downloaded by osmnx. Every component is kept.
    """
    from hubopt.layers._pbf import WAY_FILTERS
    from hubopt.layers._ways import build_way_graph

    if source.is_file:
        assert source.path is not None
        scan = _scan(source.path)
        graph = None
        if mode in WAY_FILTERS and scan.way_counts.get(mode, 0) > 0:
            graph = build_way_graph(scan.ways[mode])
            if len(graph) == 0:
                graph = None
        feats = [dict(f) for f in scan.features if f["mode"] == mode.value]
        return graph, feats, scan.bbox
    online = graph_online(source, mode, retain_all=True) if mode in CUSTOM_FILTERS else None
    graph = way_graph_of(online) if online is not None and online.number_of_edges() else None
    feats = features_online(source, mode) if mode in FEATURE_TAGS else []
    return graph, feats, bbox_of(source)
