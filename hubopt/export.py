"""Export a multimodal network: a GeoPackage with one layer per mode, GeoJSON per layer.

* :func:`network_to_gdfs` ``(network, *, flow_unit=None) -> dict[str, GeoDataFrame]`` with
  the layers ``road``, ``rail``, ``sea``, ``air`` (the edges of each mode; empty for a mode
  with nothing in the region or not requested), ``transfers`` and ``terminals``, all in
  EPSG:4326 with flat properties (text, numbers or booleans). Lines of zero length and
  invalid or empty geometries are left out. With ``flow_unit`` (e.g. ``"t/year"``) the
  columns are named with their units: ``cost`` -> ``cost_eur_per_t``, ``co2_kg`` ->
  ``co2_kg_per_t`` (:func:`field_units` lists every field's unit).
* :func:`save_network_geopackage` ``(network, path, *, overwrite=True) -> Path``: one
  GeoPackage, written atomically; the attribution "© OpenStreetMap contributors (ODbL)"
  is in the dataset and layer metadata; each layer has a description, each field its
  unit (``gpkg_data_columns``) and, with ``styles=True``, a QGIS default style
  (``layer_styles``, see :mod:`hubopt.qgis_styles`).
* :func:`save_network_geojson` ``(network, folder, *, overwrite=True) -> dict[str, Path]``:
  one RFC 7946 GeoJSON file per layer (``<folder>/<layer>.geojson``), with the
  attribution as the collection's description.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from hubopt._io import atomic_path
from hubopt.layers import ALL_MODES, CRS, empty_edges
from hubopt.network import MultimodalNetwork
from hubopt.settings import OSM_ATTRIBUTION

LAYER_NAMES: tuple[str, ...] = (*(m.value for m in ALL_MODES), "transfers", "terminals")
GEOMETRY_TYPES = {"terminals": "Point"}
GPKG_VERSION = "1.2"
"""GeoPackage version written: readable by older GDAL (and so QGIS) releases too."""
DEFAULT_FLOW_UNIT = "t/year"
"""The flow unit a bare network is exported for (the case default)."""
LAYER_DESCRIPTIONS: dict[str, str] = {
    "road": "Road network edges (one line per edge)",
    "rail": "Rail network edges (one line per edge)",
    "sea": "Sea lanes between ports (one line per edge)",
    "air": "Air links between airports (great-circle lines)",
    "transfers": "Transfers between modes at terminals (lines of zero length left out)",
    "terminals": "Terminals: stations, ports and airports that join a mode to the others",
}
_BASE_UNITS = {"u": "", "v": "", "u_key": "", "v_key": "", "mode": "", "kind": "", "name": "",
               "length_m": "m", "speed_kmh": "km/h", "time_h": "h", "from_mode": "",
               "to_mode": "", "terminal_id": "", "ref": "", "node_id": "", "source": "",
               "node": ""}


def _unit_names(flow_unit: str, currency: str = "EUR"
                ) -> tuple[dict[str, str], dict[str, str]]:
    """Renames (cost -> cost_eur_per_t ...) and the units of every network field."""
    from hubopt.features import Units

    u = Units.of(flow_unit, currency)
    cost = f"cost_{u.unit_cost_suffix}"
    co2 = f"co2_kg_per_{Units.suffix(u.amount)}"
    return ({"cost": cost, "co2_kg": co2},
            {**_BASE_UNITS, cost: u.unit_cost, co2: f"kg CO2e/{u.amount}"})


def field_units(flow_unit: str = "t/year", currency: str = "EUR"
                ) -> dict[str, dict[str, str]]:
    """Layer -> field -> unit of the export layers named for ``flow_unit``."""
    units = _unit_names(flow_unit, currency)[1]
    return dict.fromkeys(LAYER_NAMES, units)


def _flat(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Only text, integer, float and boolean columns (lists and objects become text).

    Rows whose geometry is missing, empty, invalid beyond repair or a line of zero length
    are left out.
    """
    import shapely

    out = frame.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        series = out[col]
        if series.dtype == object or str(series.dtype).startswith(("string", "category")):
            out[col] = pd.Series(
                [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                 for v in series], index=out.index, dtype=object)
    out = out.to_crs(CRS) if out.crs is not None else out.set_crs(CRS)
    geoms = np.asarray(out.geometry.to_numpy(), dtype=object).copy()
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.flatnonzero(~bad & ~shapely.is_valid(geoms)):  # repair, keeping the type
        fixed = shapely.make_valid(geoms[i])
        if fixed.geom_type == geoms[i].geom_type and fixed.is_valid and not fixed.is_empty:
            geoms[i] = fixed
        else:
            bad[i] = True
    lines = np.isin(shapely.get_type_id(geoms), (1, 5))
    bad |= lines & ~bad & ~(shapely.length(geoms) > 0)
    out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=CRS))
    return out.loc[~bad].reset_index(drop=True)


def network_to_gdfs(network: MultimodalNetwork, *,
                    flow_unit: str | None = None) -> dict[str, gpd.GeoDataFrame]:
    """The six export layers (see module docstring), flat and in EPSG:4326.

    With ``flow_unit``, cost and CO2 columns are named with their units.
    """
    out: dict[str, gpd.GeoDataFrame] = {}
    keys = network.nodes["key"].to_numpy()
    for mode in ALL_MODES:
        layer = network.layers.get(mode)
        edges = layer.edges if layer is not None and not layer.is_empty else empty_edges()
        out[mode.value] = _flat(edges)
    t = network.transfers.copy()
    t.insert(0, "u_key", keys[t["u"].to_numpy()] if len(t) else pd.Series(dtype=object))
    t.insert(1, "v_key", keys[t["v"].to_numpy()] if len(t) else pd.Series(dtype=object))
    t = t.drop(columns=["u", "v", "name"])
    out["transfers"] = _flat(gpd.GeoDataFrame(t, geometry="geometry", crs=CRS))
    out["terminals"] = _flat(network.terminals)
    if flow_unit is not None:
        renames = _unit_names(flow_unit, network.profiles.currency)[0]
        out = {name: frame.rename(columns=renames) for name, frame in out.items()}
    return out


@contextmanager
def _quiet_gdal() -> Iterator[None]:
    """Silence pyogrio's per-layer 'Created N records' info messages."""
    logger = logging.getLogger("pyogrio")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def save_network_geopackage(network: MultimodalNetwork, path: str | os.PathLike[str], *,
                            overwrite: bool = True, styles: bool = False) -> Path:
    """Write the six layers to one GeoPackage at ``path`` (atomically).

    With ``styles``, the GeoPackage also gets a ``layer_styles`` table (an attribute
    table beside the six layers) with a default QGIS style per layer.
    """

    target = Path(path)
    meta = {"attribution": network.attribution, "source": network.source,
            "license": "Map data " + OSM_ATTRIBUTION}
    with _quiet_gdal(), atomic_path(target, overwrite=overwrite) as tmp:
        write_layers(tmp, network_to_gdfs(network, flow_unit=DEFAULT_FLOW_UNIT),
                     dataset_metadata=meta, attribution=network.attribution,
                     descriptions=LAYER_DESCRIPTIONS,
                     fields=field_units(DEFAULT_FLOW_UNIT, network.profiles.currency),
                     styles=styles)
    return target


def write_layers(path: str | os.PathLike[str], layers: dict[str, gpd.GeoDataFrame], *,
                 dataset_metadata: dict[str, str], attribution: str,
                 descriptions: dict[str, str], fields: dict[str, dict[str, str]],
                 geometry_types: dict[str, str] | None = None, styles: bool = True) -> None:
    """Write GeoDataFrames as GeoPackage layers at ``path`` (a new file), then add the layer
    descriptions, field units and QGIS styles (:func:`hubopt.qgis_styles.finish_geopackage`).

    Each layer's metadata has the attribution and one ``unit_<field>`` item per field.
    """
    import pyogrio

    from hubopt.qgis_styles import finish_geopackage

    kinds = {**GEOMETRY_TYPES, **(geometry_types or {})}
    with _quiet_gdal():
        for i, (name, frame) in enumerate(layers.items()):
            units = fields.get(name, {})
            meta = {"attribution": attribution,
                    **{f"unit_{c}": units.get(c, "") or "none" for c in frame.columns
                       if c != frame.geometry.name}}
            pyogrio.write_dataframe(
                frame, path, layer=name, driver="GPKG", append=i > 0,
                geometry_type=kinds.get(name, "LineString"),
                dataset_metadata=dataset_metadata if i == 0 else None,
                dataset_options={"VERSION": GPKG_VERSION} if i == 0 else None,
                layer_metadata=meta,
                layer_options={"DESCRIPTION": descriptions.get(name, name)},
            )
    finish_geopackage(path, descriptions, fields, styles=styles)


def save_network_geojson(network: MultimodalNetwork, folder: str | os.PathLike[str], *,
                         overwrite: bool = True) -> dict[str, Path]:
    """Write one RFC 7946 GeoJSON file per layer into ``folder``; return the paths."""
    import pyogrio

    base = Path(folder)
    base.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, frame in network_to_gdfs(network, flow_unit=DEFAULT_FLOW_UNIT).items():
        target = base / f"{name}.geojson"
        with _quiet_gdal(), atomic_path(target, overwrite=overwrite) as tmp:
            pyogrio.write_dataframe(
                frame, tmp, driver="GeoJSON", geometry_type=GEOMETRY_TYPES.get(name, "LineString"),
                layer_options={"RFC7946": "YES", "DESCRIPTION": network.attribution,
                               "WRITE_NAME": "YES"},
            )
        paths[name] = target
    return paths


__all__ = ["DEFAULT_FLOW_UNIT", "LAYER_DESCRIPTIONS", "LAYER_NAMES", "field_units",
           "network_to_gdfs", "save_network_geojson", "save_network_geopackage",
           "write_layers"]
