"""The records of a network layer: :class:`Layer`, :class:`Source`, :class:`BBox`.

Also the empty tables with the layer schema and :func:`apply_unit_costs`. A leaf of
:mod:`hubopt.layers`: the mode modules import from here, and the package re-exports
every public name (see :mod:`hubopt.layers` for the schema).
"""

from __future__ import annotations

import enum
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from hubopt._errors import InputFormatError
from hubopt.modes import Mode

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from hubopt.profiles import ModeProfile

CRS = "EPSG:4326"


class EmptyLayerWarning(UserWarning):
    """A requested mode has nothing in the region; its layer is empty."""


class TerminalEvidenceWarning(UserWarning):
    """Places a source lists as terminals that the evidence rules leave out (named)."""


@dataclass(frozen=True)
class BBox:
    """A bounding box in degrees (EPSG:4326): west, south, east, north."""

    west: float
    south: float
    east: float
    north: float

    def __post_init__(self) -> None:
        """Check the order and range of the four values; report all problems at once."""
        problems = []
        for name in ("west", "east"):
            if not -180.0 <= getattr(self, name) <= 180.0:
                problems.append(f"{name}={getattr(self, name)} is not in [-180, 180]")
        for name in ("south", "north"):
            if not -90.0 <= getattr(self, name) <= 90.0:
                problems.append(f"{name}={getattr(self, name)} is not in [-90, 90]")
        if self.west > self.east:
            problems.append(f"west ({self.west}) > east ({self.east})")
        if self.south > self.north:
            problems.append(f"south ({self.south}) > north ({self.north})")
        if problems:
            msg = "bounding box W,S,E,N: " + "; ".join(problems)
            raise InputFormatError(msg)

    @classmethod
    def parse(cls, text: str | Sequence[float]) -> BBox:
        """Parse ``"W,S,E,N"`` (or a 4-sequence) into a checked :class:`BBox`."""
        parts = text.split(",") if isinstance(text, str) else list(text)
        if len(parts) != 4:
            msg = f"bounding box {text!r}: expected four numbers W,S,E,N"
            raise InputFormatError(msg)
        try:
            w, s, e, n = (float(p) for p in parts)
        except (TypeError, ValueError):
            msg = f"bounding box {text!r}: expected four numbers W,S,E,N"
            raise InputFormatError(msg) from None
        return cls(w, s, e, n)

    def buffered(self, km: float) -> BBox:
        """Return the box grown by ``km`` on every side (clamped to the globe)."""
        dlat = km / 111.32
        coslat = max(np.cos(np.radians(max(abs(self.south), abs(self.north)))), 0.05)
        dlon = km / (111.32 * coslat)
        return BBox(
            max(-180.0, self.west - dlon),
            max(-90.0, self.south - dlat),
            min(180.0, self.east + dlon),
            min(90.0, self.north + dlat),
        )

    def contains(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Boolean mask of the points inside the box (edges included)."""
        lon = np.asarray(lon)
        lat = np.asarray(lat)
        return (lon >= self.west) & (lon <= self.east) & (lat >= self.south) & (lat <= self.north)

    def as_tuple(self) -> tuple[float, float, float, float]:
        """Return ``(west, south, east, north)``."""
        return (self.west, self.south, self.east, self.north)


@enum.unique
class SourceKind(enum.StrEnum):
    """Where OpenStreetMap data comes from."""

    PBF = "pbf"
    XML = "xml"
    PLACE = "place"
    BBOX = "bbox"
    POLYGON = "polygon"


@dataclass(frozen=True)
class Source:
    """One OpenStreetMap source: build with :meth:`pbf`, :meth:`xml`, :meth:`place`, ..."""

    kind: SourceKind
    path: Path | None = None
    place: str | None = None
    bbox: BBox | None = None
    polygon: BaseGeometry | None = None

    @classmethod
    def pbf(cls, path: str | os.PathLike[str]) -> Source:
        """A local ``.osm.pbf`` file."""
        return cls(SourceKind.PBF, path=_existing_file(path))

    @classmethod
    def xml(cls, path: str | os.PathLike[str]) -> Source:
        """A local ``.osm`` XML file."""
        return cls(SourceKind.XML, path=_existing_file(path))

    @classmethod
    def from_place(cls, name: str) -> Source:
        """A place name geocoded online by osmnx (Nominatim)."""
        if not name.strip():
            msg = "place name is empty"
            raise InputFormatError(msg)
        return cls(SourceKind.PLACE, place=name)

    @classmethod
    def from_bbox(cls, bbox: BBox | str | Sequence[float]) -> Source:
        """A bounding box ``W,S,E,N``: online through osmnx, or world-scale layers."""
        box = bbox if isinstance(bbox, BBox) else BBox.parse(bbox)
        return cls(SourceKind.BBOX, bbox=box)

    @classmethod
    def from_polygon(cls, polygon: BaseGeometry) -> Source:
        """A (multi)polygon in EPSG:4326, online through osmnx."""
        minx, miny, maxx, maxy = polygon.bounds
        return cls(SourceKind.POLYGON, polygon=polygon, bbox=BBox(minx, miny, maxx, maxy))

    @classmethod
    def infer(cls, value: Source | str | os.PathLike[str]) -> Source:
        """Return ``value`` as a :class:`Source`; a path picks PBF or XML by its suffix.

        ``.pbf`` is PBF; ``.osm``, ``.xml``, ``.osm.bz2`` and ``.osm.gz`` are OSM XML.
        """
        if isinstance(value, Source):
            return value
        name = str(value).lower()
        if name.endswith(".pbf"):
            return cls.pbf(value)
        if name.endswith((".osm", ".xml", ".osm.bz2", ".osm.gz")):
            return cls.xml(value)
        msg = f"{value}: cannot tell the source kind; expected a .osm.pbf or .osm file"
        raise InputFormatError(msg)

    @property
    def is_file(self) -> bool:
        """True for local PBF and XML files."""
        return self.kind in (SourceKind.PBF, SourceKind.XML)

    def describe(self) -> str:
        """A short human-readable description (file name, place or box)."""
        if self.path is not None:
            return str(self.path)
        if self.place is not None:
            return f"place {self.place!r}"
        if self.bbox is not None:
            return "bbox " + ",".join(f"{v:g}" for v in self.bbox.as_tuple())
        return "polygon"


def _existing_file(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.is_file():
        msg = f"{p}: OSM file not found"
        raise InputFormatError(msg)
    return p


EDGE_COLUMNS = ("u", "v", "mode", "kind", "name", "length_m", "time_h", "cost", "co2_kg")
TERMINAL_COLUMNS = ("terminal_id", "mode", "kind", "name", "ref", "node_id", "source")


@dataclass(frozen=True)
class Layer:
    """The network of one mode: nodes, directed edges and terminals (see module docstring)."""

    mode: Mode
    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    terminals: gpd.GeoDataFrame
    source: str = ""

    @property
    def is_empty(self) -> bool:
        """True when the layer has no nodes."""
        return len(self.nodes) == 0

    def summary(self) -> dict[str, float | int | str]:
        """Counts and total length: mode, nodes, edges, terminals, length_km."""
        return {
            "mode": self.mode.value,
            "nodes": len(self.nodes),
            "edges": len(self.edges),
            "terminals": len(self.terminals),
            "length_km": float(self.edges["length_m"].sum()) / 1000.0 if len(self.edges) else 0.0,
        }


def empty_nodes() -> gpd.GeoDataFrame:
    """An empty node table with the layer schema."""
    frame = gpd.GeoDataFrame(
        {"x": pd.Series(dtype="float64"), "y": pd.Series(dtype="float64")},
        geometry=gpd.GeoSeries([], crs=CRS),
        crs=CRS,
    )
    frame.index = pd.Index([], dtype="int64", name="node_id")
    return frame


def empty_edges() -> gpd.GeoDataFrame:
    """An empty edge table with the layer schema."""
    cols: dict[str, pd.Series] = {
        "u": pd.Series(dtype="int64"),
        "v": pd.Series(dtype="int64"),
        "mode": pd.Series(dtype="object"),
        "kind": pd.Series(dtype="object"),
        "name": pd.Series(dtype="object"),
        "length_m": pd.Series(dtype="float64"),
        "time_h": pd.Series(dtype="float64"),
        "cost": pd.Series(dtype="float64"),
        "co2_kg": pd.Series(dtype="float64"),
    }
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)


def empty_terminals() -> gpd.GeoDataFrame:
    """An empty terminal table with the layer schema."""
    cols = {c: pd.Series(dtype="int64" if c == "node_id" else "object") for c in TERMINAL_COLUMNS}
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)


def empty_layer(mode: Mode, source: str = "", *, reason: str | None = None) -> Layer:
    """An empty layer of ``mode``; with ``reason``, also emit an :class:`EmptyLayerWarning`."""
    if reason:
        warnings.warn(
            f"{mode.value} layer is empty: {reason} ({source})", EmptyLayerWarning, stacklevel=2
        )
    return Layer(mode, empty_nodes(), empty_edges(), empty_terminals(), source)


def apply_unit_costs(edges: gpd.GeoDataFrame, profile: ModeProfile) -> gpd.GeoDataFrame:
    """Fill ``cost`` and ``co2_kg`` from ``length_m`` and ``time_h`` (CO2 may be pre-scaled)."""
    km = edges["length_m"].to_numpy(dtype="float64") / 1000.0
    hours = edges["time_h"].to_numpy(dtype="float64")
    edges["cost"] = km * profile.cost_per_km + hours * profile.cost_per_hour
    factor = edges["co2_factor"].to_numpy(dtype="float64") if "co2_factor" in edges else 1.0
    edges["co2_kg"] = km * profile.co2_per_unit_km * factor
    if "co2_factor" in edges:
        edges = edges.drop(columns="co2_factor")
    return edges


__all__ = [
    "CRS",
    "EDGE_COLUMNS",
    "TERMINAL_COLUMNS",
    "BBox",
    "EmptyLayerWarning",
    "Layer",
    "Source",
    "SourceKind",
    "TerminalEvidenceWarning",
    "apply_unit_costs",
    "empty_edges",
    "empty_layer",
    "empty_nodes",
    "empty_terminals",
]
