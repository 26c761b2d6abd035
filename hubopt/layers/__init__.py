"""Network layers, one per mode, extracted from OpenStreetMap behind one interface.

A :class:`Layer` is three GeoDataFrames in EPSG:4326:

``nodes``
    index ``node_id`` (int64; OSM ids are positive, synthetic ones negative), columns
    ``x``, ``y`` (lon/lat), ``geometry`` (Point).
``edges``
    one row per *directed* edge: ``u``, ``v`` (node ids), ``mode``, ``kind`` (highway class,
    ``rail``, ``ferry``, ``lane``, ``port_leg``, ``air_link``, ...), ``name``, ``length_m``,
    ``time_h``, ``cost`` (EUR per unit), ``co2_kg`` (per unit), ``geometry`` (LineString),
    plus mode-specific text columns (``maxspeed``, ``usage``, ``electrified``, ``gauge``).
``terminals``
    places where freight changes mode: ``terminal_id``, ``mode``, ``kind``, ``name``, ``ref``
    (IATA, UN/LOCODE, ...), ``node_id`` (a node of this layer), ``source``, ``geometry``.

Sources (:class:`Source`): a local ``.osm.pbf`` or ``.osm`` XML file, a place name, a bounding
box or a polygon (the last three online through osmnx), or, with ``world=True``, the
world-scale strategic layers (scgraph-data roads and rails, searoute lanes and ports,
airportsdata airports) clipped to a bounding box.

Use :func:`extract_layer` for one mode and :func:`extract_layers` for several; both return
empty layers (with a :class:`EmptyLayerWarning`) for modes that have nothing in the region.
"""

from __future__ import annotations

import enum
import importlib
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from hubopt._errors import InputFormatError, LayerExtractionError

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from hubopt.profiles import ModeProfile, Profiles

CRS = "EPSG:4326"


@enum.unique
class Mode(enum.StrEnum):
    """Transport mode of a layer."""

    ROAD = "road"
    RAIL = "rail"
    SEA = "sea"
    AIR = "air"

    @classmethod
    def parse(cls, value: Mode | str) -> Mode:
        """Return the mode named ``value``; raise ``ValueError`` naming the valid modes."""
        if isinstance(value, Mode):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            valid = ", ".join(m.value for m in cls)
            msg = f"unknown mode {value!r}; expected one of: {valid}"
            raise LayerExtractionError(msg) from None


ALL_MODES: tuple[Mode, ...] = tuple(Mode)


def parse_modes(modes: Iterable[Mode | str] | str | None) -> tuple[Mode, ...]:
    """Parse ``"road,rail"`` or a sequence of modes; ``None`` means all four."""
    if modes is None:
        return ALL_MODES
    items = modes.split(",") if isinstance(modes, str) else list(modes)
    out: list[Mode] = []
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        mode = Mode.parse(item)
        if mode not in out:
            out.append(mode)
    if not out:
        msg = "no mode given; expected some of: road, rail, sea, air"
        raise LayerExtractionError(msg)
    return tuple(out)


class EmptyLayerWarning(UserWarning):
    """A requested mode has nothing in the region; its layer is empty."""


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


def extract_layer(
    mode: Mode | str,
    source: Source | str | os.PathLike[str],
    *,
    profiles: Profiles | None = None,
    world: bool = False,
) -> Layer:
    """Extract the layer of one ``mode`` from ``source``.

    Parameters
    ----------
    mode
        ``road``, ``rail``, ``sea`` or ``air``.
    source
        A :class:`Source`, or a path to a ``.osm.pbf`` / ``.osm`` file.
    profiles
        Mode profiles (default: ``networks/``).
    world
        Use the world-scale strategic layers clipped to the source's bounding box.

    Raises
    ------
    InputFormatError
        Missing or corrupt file, bad bounding box.
    LayerExtractionError
        Unknown mode, or a source that cannot give the layer.
    """
    from hubopt.profiles import default_profiles

    mode = Mode.parse(mode)
    src = Source.infer(source)
    prof = profiles if profiles is not None else default_profiles()
    if world:
        from hubopt.layers import world as world_mod

        if src.bbox is None:
            msg = "world-scale layers need a bounding box (--bbox W,S,E,N)"
            raise LayerExtractionError(msg)
        return world_mod.world_layer(mode, src.bbox, prof)
    builder = _builder(mode)
    return builder(src, prof[mode], prof)


def _builder(mode: Mode) -> Callable[[Source, ModeProfile, Profiles], Layer]:
    module = importlib.import_module(f"hubopt.layers.{mode.value}")
    builder: Callable[[Source, ModeProfile, Profiles], Layer] = getattr(
        module, f"{mode.value}_layer"
    )
    return builder


def extract_layers(
    source: Source | str | os.PathLike[str],
    modes: Iterable[Mode | str] | str | None = None,
    *,
    profiles: Profiles | None = None,
    world: bool = False,
) -> dict[Mode, Layer]:
    """Extract several modes (default all four) from one source, in mode order."""
    return {
        m: extract_layer(m, source, profiles=profiles, world=world) for m in parse_modes(modes)
    }


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
    "ALL_MODES",
    "CRS",
    "BBox",
    "EmptyLayerWarning",
    "Layer",
    "Mode",
    "Source",
    "SourceKind",
    "apply_unit_costs",
    "empty_edges",
    "empty_layer",
    "empty_nodes",
    "empty_terminals",
    "extract_layer",
    "extract_layers",
    "parse_modes",
]
