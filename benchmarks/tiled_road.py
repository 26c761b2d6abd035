"""A road network of about a million nodes, tiled from the real Malta road network.

The Malta extract's road layer is built by hubopt (``build_network(modes="road")``, cached
as GeoParquet in the cache folder, keyed on the extract's content and the code and
profiles that build the road layer) and copied into a grid
of ``cols x rows`` tiles: each copy gets new node ids and positions, and coordinates shifted
so that the tiles sit side by side (the extract's width and height plus ``gap_deg``). On
each side that faces a neighbour, the ``joins`` nodes of the tile's largest strongly
connected component that lie farthest out are linked, both ways, to the nearest of the
facing tile's outermost nodes, by road edges of the real (great-circle) length at the road
profile's speed, cost and CO2 per km. The result is a :class:`hubopt.network.MultimodalNetwork`
held in memory, the structure ``hubopt matrix`` routes on; nothing is written but the cache.

:func:`sample_points` draws seeded points near random road nodes of the tiled network
(within ``jitter_m``), for ``od_table`` to snap as ``hubopt matrix`` does.

Map data © OpenStreetMap contributors (ODbL).
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import connected_components

from hubopt import settings
from hubopt.layers import Mode, empty_layer
from hubopt.layers._geo import haversine_m
from hubopt.network import MultimodalNetwork, _structure, build_network
from hubopt.profiles import default_profiles

MALTA = "malta_2018-08-27.osm.pbf"


def _digest(path: Path) -> str:
    """The extract's content and the code and profiles that build its road layer."""
    import hubopt

    h = hashlib.sha256()
    package = Path(hubopt.__file__).resolve().parent
    code = sorted([*(package / "layers").glob("*.py"), package / "network.py",
                   package / "profiles.py", *(package / "data" / "profiles").glob("*")])
    for file in [path, *code]:
        with file.open("rb") as f:
            for chunk in iter(lambda f=f: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:16]


def _network(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame,
             source: str) -> MultimodalNetwork:
    terminals = gpd.GeoDataFrame({"node": pd.Series([], dtype="int64")},
                                 geometry=gpd.GeoSeries([], crs=nodes.crs))
    return MultimodalNetwork(layers={Mode.ROAD: empty_layer(Mode.ROAD, source)}, nodes=nodes,
                             edges=edges, terminals=terminals, profiles=default_profiles(),
                             source=source)


def malta_road(extract: Path | None = None, cache: Path | None = None) -> MultimodalNetwork:
    """The Malta road network as hubopt builds it (cached; see the module doc)."""
    extract = extract or settings.resolve_data_folder() / "osm" / MALTA
    folder = (cache or settings.cache_folder) / "tiled_road"
    key = _digest(extract)
    nodes_file = folder / f"malta-road-{key}-nodes.parquet"
    edges_file = folder / f"malta-road-{key}-edges.parquet"
    if nodes_file.exists() and edges_file.exists():
        return _network(gpd.read_parquet(nodes_file), gpd.read_parquet(edges_file),
                        str(extract))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = build_network(source=extract, modes="road")
    folder.mkdir(parents=True, exist_ok=True)
    net.nodes.to_parquet(nodes_file)
    net.edges.to_parquet(edges_file)
    return _network(net.nodes, net.edges, str(extract))


def _outermost(x: np.ndarray, y: np.ndarray, ok: np.ndarray, side: str, k: int) -> np.ndarray:
    score = {"east": x, "west": -x, "north": y, "south": -y}[side]
    cand = np.flatnonzero(ok)
    return cand[np.argsort(-score[cand], kind="stable")[:k]]


def tile_network(base: MultimodalNetwork, cols: int, rows: int, *, gap_deg: float = 0.01,
                 joins: int = 4) -> MultimodalNetwork:
    """``cols x rows`` shifted copies of ``base`` joined at their borders (module doc)."""
    nodes, edges = base.nodes, base.edges
    n0 = len(nodes)
    x = nodes["x"].to_numpy(dtype="float64")
    y = nodes["y"].to_numpy(dtype="float64")
    dx = float(x.max() - x.min()) + gap_deg
    dy = float(y.max() - y.min()) + gap_deg
    _, lab = connected_components(_structure(base, np.ones(len(edges), dtype=bool)),
                                  directed=True, connection="strong")
    main = lab == np.bincount(lab).argmax()
    id_span = int(nodes["node_id"].max()) + 1
    node_parts, edge_parts = [], []
    geoms = edges.geometry.to_numpy()
    for t in range(cols * rows):
        c, r = t % cols, t // cols
        ox, oy = c * dx, r * dy
        part = pd.DataFrame({"mode": nodes["mode"].to_numpy(),
                             "node_id": nodes["node_id"].to_numpy() + t * id_span,
                             "x": x + ox, "y": y + oy})
        node_parts.append(part)
        e = edges.drop(columns="geometry").reset_index(drop=True)
        e["u"] = e["u"].to_numpy() + t * n0
        e["v"] = e["v"].to_numpy() + t * n0
        e["geometry"] = shapely.transform(geoms, lambda p, ox=ox, oy=oy: p + np.array([ox, oy]))
        edge_parts.append(e)
    road = base.profiles[Mode.ROAD]
    links: list[tuple[int, int]] = []
    for t in range(cols * rows):
        c, r = t % cols, t // cols
        for nb_c, nb_r, side, facing in ((c + 1, r, "east", "west"), (c, r + 1, "north",
                                                                       "south")):
            if nb_c >= cols or nb_r >= rows:
                continue
            nbt = nb_r * cols + nb_c
            mine = _outermost(x, y, main, side, joins)
            theirs = _outermost(x, y, main, facing, joins)
            sx = x[theirs] + (nb_c - c) * dx
            sy = y[theirs] + (nb_r - r) * dy
            for a in mine.tolist():
                b = theirs[int(np.argmin(haversine_m(x[a], y[a], sx, sy)))]
                links.append((t * n0 + a, nbt * n0 + int(b)))
    all_nodes = pd.concat(node_parts, ignore_index=True)
    ax = all_nodes["x"].to_numpy()
    ay = all_nodes["y"].to_numpy()
    lu = np.asarray([a for a, b in links] + [b for a, b in links], dtype="int64")
    lv = np.asarray([b for a, b in links] + [a for a, b in links], dtype="int64")
    km = haversine_m(ax[lu], ay[lu], ax[lv], ay[lv]) / 1000.0
    hours = km / road.speed_kmh
    join = pd.DataFrame({
        "u": lu, "v": lv, "mode": "road", "kind": "tile_join", "name": "",
        "length_m": km * 1000.0, "time_h": hours,
        "cost": km * road.cost_per_km + hours * road.cost_per_hour,
        "co2_kg": km * road.co2_per_unit_km,
        "geometry": shapely.linestrings(np.stack([np.column_stack([ax[lu], ay[lu]]),
                                                  np.column_stack([ax[lv], ay[lv]])], axis=1)),
    })
    all_edges = pd.concat([*edge_parts, join], ignore_index=True)
    all_edges.index.name = "edge"
    all_nodes["key"] = "road:" + all_nodes["node_id"].astype(str)
    all_nodes.index.name = "node"
    gnodes = gpd.GeoDataFrame(all_nodes[["key", "mode", "node_id", "x", "y"]],
                              geometry=gpd.points_from_xy(ax, ay), crs=nodes.crs)
    gedges = gpd.GeoDataFrame(all_edges, geometry="geometry", crs=edges.crs)
    return _network(gnodes, gedges, f"{base.source} tiled {cols}x{rows}")


def sample_points(network: MultimodalNetwork, n: int, *, seed: int = 0,
                  jitter_m: float = 100.0) -> pd.DataFrame:
    """``n`` named points near distinct random road nodes (seeded): name, lon, lat."""
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(network.n_nodes, size=n, replace=False))
    lon = network.nodes["x"].to_numpy()[pick]
    lat = network.nodes["y"].to_numpy()[pick]
    ang = rng.uniform(0, 2 * np.pi, n)
    dist = rng.uniform(0, jitter_m, n)
    lon = lon + dist * np.cos(ang) / (111_320.0 * np.cos(np.radians(lat)))
    lat = lat + dist * np.sin(ang) / 110_570.0
    return pd.DataFrame({"name": [f"p{i:04d}" for i in range(n)], "lon": lon, "lat": lat})


__all__ = ["malta_road", "sample_points", "tile_network"]
