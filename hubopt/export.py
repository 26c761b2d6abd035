"""Export a multimodal network: a GeoPackage with one layer per mode, GeoJSON per layer.

* :func:`network_to_gdfs` ``(network) -> dict[str, GeoDataFrame]`` with the layers ``road``,
  ``rail``, ``sea``, ``air`` (the edges of each mode; empty for a mode with nothing in the
  region or not requested), ``transfers`` and ``terminals``, all in EPSG:4326 with flat
  properties (text or numbers only).
* :func:`save_network_geopackage` ``(network, path, *, overwrite=True) -> Path``: one
  GeoPackage, written atomically; the attribution "© OpenStreetMap contributors (ODbL)"
  is in the dataset and layer metadata.
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


def _flat(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Only text, integer and float columns (lists and objects become text)."""
    out = frame.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        series = out[col]
        if series.dtype == object and len(series) == 0:
            out[col] = series.astype("string")
        elif series.dtype == object or str(series.dtype).startswith(("string", "category")):
            out[col] = [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                        for v in series]
        elif series.dtype == bool:
            out[col] = series.astype("int64")
    out = out.reset_index(drop=True)
    return out.to_crs(CRS) if out.crs is not None else out.set_crs(CRS)


def network_to_gdfs(network: MultimodalNetwork) -> dict[str, gpd.GeoDataFrame]:
    """The six export layers (see module docstring), flat and in EPSG:4326."""
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
                            overwrite: bool = True) -> Path:
    """Write the six layers to one GeoPackage at ``path`` (atomically)."""
    import pyogrio

    target = Path(path)
    meta = {"attribution": network.attribution, "source": network.source,
            "license": "Map data " + OSM_ATTRIBUTION}
    with _quiet_gdal(), atomic_path(target, overwrite=overwrite) as tmp:
        for i, (name, frame) in enumerate(network_to_gdfs(network).items()):
            pyogrio.write_dataframe(
                frame, tmp, layer=name, driver="GPKG", append=i > 0,
                geometry_type=GEOMETRY_TYPES.get(name, "LineString"),
                dataset_metadata=meta if i == 0 else None,
                layer_metadata={"attribution": network.attribution},
            )
    return target


def save_network_geojson(network: MultimodalNetwork, folder: str | os.PathLike[str], *,
                         overwrite: bool = True) -> dict[str, Path]:
    """Write one RFC 7946 GeoJSON file per layer into ``folder``; return the paths."""
    import pyogrio

    base = Path(folder)
    base.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, frame in network_to_gdfs(network).items():
        target = base / f"{name}.geojson"
        with _quiet_gdal(), atomic_path(target, overwrite=overwrite) as tmp:
            pyogrio.write_dataframe(
                frame, tmp, driver="GeoJSON", geometry_type=GEOMETRY_TYPES.get(name, "LineString"),
                layer_options={"RFC7946": "YES", "DESCRIPTION": network.attribution,
                               "WRITE_NAME": "YES"},
            )
        paths[name] = target
    return paths


__all__ = ["LAYER_NAMES", "network_to_gdfs", "save_network_geojson", "save_network_geopackage"]
