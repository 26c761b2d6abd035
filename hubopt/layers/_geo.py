"""Small geodesic helpers: haversine distances and nearest-node search on the sphere."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(
    lon1: np.ndarray | float, lat1: np.ndarray | float, lon2: np.ndarray | float,
    lat2: np.ndarray | float,
) -> np.ndarray:
    """Great-circle distance in metres (vectorized, spherical Earth of mean radius)."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype="float64")) for a in
                              (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(
        (lon2 - lon1) / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


def _unit_xyz(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lon_r = np.radians(np.asarray(lon, dtype="float64"))
    lat_r = np.radians(np.asarray(lat, dtype="float64"))
    return np.column_stack(
        (np.cos(lat_r) * np.cos(lon_r), np.cos(lat_r) * np.sin(lon_r), np.sin(lat_r))
    )


class NearestIndex:
    """Nearest-point queries by great-circle distance over fixed points (lon/lat)."""

    def __init__(self, lon: np.ndarray, lat: np.ndarray) -> None:
        """Index the points ``(lon[i], lat[i])``."""
        self.lon = np.asarray(lon, dtype="float64")
        self.lat = np.asarray(lat, dtype="float64")
        self._tree = cKDTree(_unit_xyz(self.lon, self.lat)) if len(self.lon) else None

    def __len__(self) -> int:
        """Number of indexed points."""
        return len(self.lon)

    def nearest(
        self, lon: np.ndarray, lat: np.ndarray, *, max_m: float = np.inf
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (position, distance in m) of the nearest point; -1 and inf beyond ``max_m``."""
        lon = np.atleast_1d(np.asarray(lon, dtype="float64"))
        lat = np.atleast_1d(np.asarray(lat, dtype="float64"))
        if self._tree is None or len(lon) == 0:
            return np.full(len(lon), -1, dtype="int64"), np.full(len(lon), np.inf)
        _, pos = self._tree.query(_unit_xyz(lon, lat), k=1)
        pos = np.asarray(pos, dtype="int64")
        dist = haversine_m(lon, lat, self.lon[pos], self.lat[pos])
        far = dist > max_m
        pos[far] = -1
        dist[far] = np.inf
        return pos, dist

    def nearest_labels(self, labels: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                       cell_deg: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
        """``labels`` of the nearest indexed point of each query point, decided per grid
        cell of ``cell_deg`` degrees where the whole cell provably has one answer.

        A cell's points lie within ``r`` (chord) of their mean ``c``; if every indexed point
        within ``d1 + 2r`` of ``c`` (``d1``: the distance from ``c`` to its nearest indexed
        point) has the same label, so has every point of the cell (triangle inequality).
        Returns the labels (``None`` where undecided) and the mask of undecided points,
        to be looked up one by one.
        """
        lon = np.asarray(lon, dtype="float64")
        lat = np.asarray(lat, dtype="float64")
        out = np.full(len(lon), None, dtype=object)
        if self._tree is None or len(lon) == 0:
            return out, np.ones(len(lon), dtype=bool)
        key = (np.floor(lon / cell_deg).astype("int64") * 4_000_000
               + np.floor(lat / cell_deg).astype("int64"))
        cell = np.asarray(pd.factorize(key)[0], dtype="int64")
        n_cell = int(cell.max()) + 1
        if n_cell * 4 > len(lon):  # sparse points: cells would cost more than they save
            return out, np.ones(len(lon), dtype=bool)
        xyz = _unit_xyz(lon, lat)
        count = np.bincount(cell, minlength=n_cell)
        centre = np.column_stack([np.bincount(cell, weights=xyz[:, k], minlength=n_cell)
                                  for k in range(3)]) / count[:, None]
        radius = np.zeros(n_cell)
        np.maximum.at(radius, cell, np.linalg.norm(xyz - centre[cell], axis=1))
        k = min(16, len(self.lon))
        dist, found = self._tree.query(centre, k=k)
        dist, found = dist.reshape(n_cell, k), found.reshape(n_cell, k)
        first = found[:, 0]
        reach = dist[:, :1] + 2 * radius[:, None] + 1e-9
        code = np.unique(np.asarray(labels, dtype=str), return_inverse=True)[1]
        inside = dist <= reach
        same = (~inside | (code[found] == code[first][:, None])).all(axis=1)
        # one label within reach, and nothing unseen inside: the k-th neighbour is beyond
        sure = same if k == len(self.lon) else same & ~inside[:, -1]
        decided = sure[cell]
        out[decided] = np.asarray(labels, dtype=object)[np.asarray(first)[cell[decided]]]
        return out, ~decided

    def within(self, lon: float, lat: float, radius_m: float) -> np.ndarray:
        """Positions of all points within ``radius_m`` of one point."""
        if self._tree is None:
            return np.empty(0, dtype="int64")
        chord = 2 * np.sin(min(radius_m / EARTH_RADIUS_M, np.pi) / 2)
        found = self._tree.query_ball_point(_unit_xyz(np.array([lon]), np.array([lat]))[0], chord)
        return np.asarray(sorted(found), dtype="int64")


def segments(x1: np.ndarray, y1: np.ndarray, x2: np.ndarray, y2: np.ndarray) -> np.ndarray:
    """Straight LineStrings from (x1, y1) to (x2, y2), vectorized."""
    n = len(x1)
    if n == 0:
        return np.empty(0, dtype=object)
    coords = np.empty((n * 2, 2), dtype="float64")
    coords[0::2, 0] = x1
    coords[0::2, 1] = y1
    coords[1::2, 0] = x2
    coords[1::2, 1] = y2
    return np.asarray(shapely.linestrings(coords, indices=np.repeat(np.arange(n), 2)))
