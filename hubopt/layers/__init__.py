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

import importlib
import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from hubopt._errors import LayerExtractionError
from hubopt.layers._layer import (
    CRS,
    EDGE_COLUMNS,
    TERMINAL_COLUMNS,
    BBox,
    EmptyLayerWarning,
    Layer,
    Source,
    SourceKind,
    TerminalEvidenceWarning,
    apply_unit_costs,
    empty_edges,
    empty_layer,
    empty_nodes,
    empty_terminals,
)
from hubopt.modes import ALL_MODES, Mode, parse_modes

if TYPE_CHECKING:
    from hubopt.profiles import ModeProfile, Profiles


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
        Mode profiles (default: the built-in ones, ``hubopt/data/profiles/``).
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
    from hubopt.layers._heap import retained_heap

    builder = _builder(mode)
    with retained_heap():
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


__all__ = [
    "ALL_MODES",
    "CRS",
    "EDGE_COLUMNS",
    "TERMINAL_COLUMNS",
    "BBox",
    "EmptyLayerWarning",
    "Layer",
    "Mode",
    "Source",
    "SourceKind",
    "TerminalEvidenceWarning",
    "apply_unit_costs",
    "empty_edges",
    "empty_layer",
    "empty_nodes",
    "empty_terminals",
    "extract_layer",
    "extract_layers",
    "parse_modes",
]
