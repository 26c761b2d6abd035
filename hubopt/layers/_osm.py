"""The only module that calls osmnx: graphs from filtered XML or online, and graph frames.

Online sources (place name, bounding box, polygon) go through osmnx and Overpass; local
files go through :mod:`hubopt.layers._pbf` (pyosmium) to a mode-filtered XML file that
:func:`graph_from_filtered_xml` reads with ``osmnx.graph_from_xml``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from hubopt._errors import LayerExtractionError
from hubopt.layers._layer import CRS, BBox, Source, SourceKind
from hubopt.modes import Mode

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


def graph_from_filtered_xml(path: Path, *, retain_all: bool) -> nx.MultiDiGraph | None:
    """Read a mode-filtered OSM XML file with osmnx; ``None`` if it has no ways."""
    import osmnx as ox

    with _useful_tags():
        try:
            return ox.graph_from_xml(path, simplify=True, retain_all=retain_all)
        except ox._errors.InsufficientResponseError:  # no ways in the file
            return None
        except (ValueError, KeyError) as exc:
            msg = f"{path}: osmnx cannot build a graph from the filtered ways ({exc})"
            raise LayerExtractionError(msg) from exc


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


def text(value: object) -> str | None:
    """Flatten an osmnx attribute (scalar, list after simplification, NaN) to text."""
    if isinstance(value, list | tuple | set):
        parts = sorted({str(v) for v in value if v is not None and not pd.isna(v)})
        return ";".join(parts) if parts else None
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)


def graph_frames(G: nx.MultiDiGraph, mode: Mode,
                 columns: tuple[str, ...] = ()) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Nodes and directed edges of an osmnx graph in the layer schema (cost not yet set)."""
    import osmnx as ox

    nodes, edges = ox.convert.graph_to_gdfs(G, nodes=True, edges=True, fill_edge_geometry=True)
    nodes = gpd.GeoDataFrame({"x": nodes["x"].astype("float64"),
                              "y": nodes["y"].astype("float64")},
                             geometry=nodes.geometry.values, crs=CRS,
                             index=pd.Index(nodes.index.astype("int64"), name="node_id"))
    edges = edges.reset_index()
    out = gpd.GeoDataFrame({
        "u": edges["u"].astype("int64").to_numpy(),
        "v": edges["v"].astype("int64").to_numpy(),
        "mode": mode.value,
        "kind": [text(v) for v in edges.get("highway", edges.get("railway", edges.get(
            "route", pd.Series([mode.value] * len(edges)))))],
        "name": [text(v) for v in edges["name"]] if "name" in edges else None,
        "length_m": edges["length"].astype("float64").to_numpy(),
    }, geometry=edges.geometry.to_numpy(), crs=CRS)
    for col in columns:
        out[col] = [text(v) for v in edges[col]] if col in edges else None
    return nodes, out


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


def mode_input(
    source: Source, mode: Mode, *, retain_all: bool
) -> tuple[nx.MultiDiGraph | None, list[dict[str, object]], BBox | None]:
    """Graph of the mode's ways (or ``None``), its terminal features and the region's box.

    Local files are scanned once by pyosmium and read back by osmnx from the filtered XML;
    online sources are downloaded by osmnx.
    """
    from hubopt.layers._pbf import WAY_FILTERS, scan_osm_file

    if source.is_file:
        assert source.path is not None
        scan = scan_osm_file(source.path)
        graph = None
        if mode in WAY_FILTERS and scan.way_counts.get(mode, 0) > 0:
            graph = graph_from_filtered_xml(scan.xml[mode], retain_all=retain_all)
        feats = [dict(f) for f in scan.features if f["mode"] == mode.value]
        return graph, feats, scan.bbox
    graph = graph_online(source, mode, retain_all=retain_all) if mode in CUSTOM_FILTERS else None
    feats = features_online(source, mode) if mode in FEATURE_TAGS else []
    return graph, feats, bbox_of(source)
