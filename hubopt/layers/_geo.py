"""Small geodesic helpers: haversine distances and nearest-node search on the sphere."""

from __future__ import annotations

import numpy as np
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
