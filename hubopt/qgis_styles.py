"""QGIS styles, layer descriptions and field units stored inside a GeoPackage.

After pyogrio has written the layers, :func:`finish_geopackage` adds, with sqlite3:

* ``gpkg_contents.description`` of every layer;
* the GeoPackage schema extension (``gpkg_data_columns``): one row per field with a
  title and its unit, which QGIS shows as the field's comment;
* the QGIS ``layer_styles`` table (the schema QGIS itself creates) with one default QML
  style per layer, so that the layers open styled: each mode in its own colour, the air
  mesh faint, hubs as large red stars, routes and allocations wide in proportion to flow.

The QML is written from small templates (:func:`layer_qml`); it uses only renderer and
symbol-layer properties that QGIS 3.x reads. Everything written is deterministic: the
styles' ``update_time`` is the layer's own ``gpkg_contents.last_change``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from xml.sax.saxutils import quoteattr

MODE_COLORS: dict[str, str] = {
    "road": "#7a7a7a", "rail": "#8b1a1a", "sea": "#1f6fb2", "air": "#9c5fc9",
    "transfer": "#ff9800", "matrix": "#37474f",
}
"""One colour per mode, shared by map.png and the QGIS styles (``matrix``: a straight leg on
the case's own matrix, ``[network] source = "matrix"``)."""
HUB_COLOR = "#d32f2f"
DEMAND_COLOR = "#2e7d32"
STYLE_NAME = "hubopt"

_LAYER_MODE = {"road": "road", "rail": "rail", "sea": "sea", "air": "air",
               "transfers": "transfer"}
_WIDTH_MM = {"road": 0.26, "rail": 0.46, "sea": 0.46, "air": 0.2, "transfer": 0.3}


def _rgba(color: str, alpha: float = 1.0) -> str:
    c = color.lstrip("#")
    r, g, b = (int(c[i:i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(alpha * 255)}"


def _props(props: Mapping[str, str]) -> str:
    """Symbol-layer properties in both forms QGIS 3.x reads (Option map and prop)."""
    opts = "".join(f'<Option type="QString" name="{k}" value={quoteattr(v)}/>'
                   for k, v in props.items())
    old = "".join(f"<prop k=\"{k}\" v={quoteattr(v)}/>" for k, v in props.items())
    return f'<Option type="Map">{opts}</Option>{old}'


def _data_defined(width_expression: str | None) -> str:
    if width_expression is None:
        return ""
    return ('<data_defined_properties><Option type="Map">'
            '<Option type="QString" name="name" value=""/>'
            '<Option type="Map" name="properties"><Option type="Map" name="outlineWidth">'
            '<Option type="bool" name="active" value="true"/>'
            f'<Option type="QString" name="expression" value={quoteattr(width_expression)}/>'
            '<Option type="int" name="type" value="3"/></Option></Option>'
            '<Option type="QString" name="type" value="collection"/>'
            "</Option></data_defined_properties>")


def line_symbol(name: str, color: str, width_mm: float, *, alpha: float = 1.0,
                dash: bool = False, width_expression: str | None = None) -> str:
    """A QML line symbol: one simple line, optionally dashed or with data-defined width."""
    props = {"line_color": _rgba(color), "line_width": f"{width_mm:g}",
             "line_width_unit": "MM", "line_style": "dash" if dash else "solid",
             "capstyle": "round", "joinstyle": "round", "offset": "0", "offset_unit": "MM"}
    return (f'<symbol type="line" name="{name}" alpha="{alpha:g}" clip_to_extent="1" '
            f'force_rhr="0"><layer class="SimpleLine" enabled="1" locked="0" pass="0">'
            f"{_props(props)}{_data_defined(width_expression)}</layer></symbol>")


def marker_symbol(name: str, shape: str, fill: str, size_mm: float, *,
                  outline: str = "#000000", outline_mm: float = 0.3,
                  alpha: float = 1.0) -> str:
    """A QML marker symbol: one simple marker (``circle``, ``square``, ``star`` ...)."""
    props = {"name": shape, "color": "0,0,0,0" if fill == "none" else _rgba(fill),
             "outline_color": _rgba(outline), "outline_style": "solid",
             "outline_width": f"{outline_mm:g}", "outline_width_unit": "MM",
             "size": f"{size_mm:g}", "size_unit": "MM", "angle": "0",
             "scale_method": "diameter", "joinstyle": "miter",
             "horizontal_anchor_point": "1", "vertical_anchor_point": "1"}
    return (f'<symbol type="marker" name="{name}" alpha="{alpha:g}" clip_to_extent="1" '
            f'force_rhr="0"><layer class="SimpleMarker" enabled="1" locked="0" pass="0">'
            f"{_props(props)}</layer></symbol>")


def single_renderer(symbol: str) -> str:
    """A single-symbol renderer around one symbol named ``0``."""
    return (f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" '
            f'forceraster="0"><symbols>{symbol}</symbols><rotation/><sizescale/></renderer-v2>')


def categorized_renderer(field: str, categories: list[tuple[str, str]]) -> str:
    """A categorized renderer; ``categories`` are (value, symbol XML named by position)."""
    cats = "".join(f'<category render="true" symbol="{i}" value={quoteattr(v)} '
                   f"label={quoteattr(v)}/>" for i, (v, _) in enumerate(categories))
    syms = "".join(s for _, s in categories)
    return (f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(field)} symbollevels="0" '
            f'enableorderby="0" forceraster="0"><categories>{cats}</categories>'
            f"<symbols>{syms}</symbols><rotation/><sizescale/></renderer-v2>")


def _labels(field: str, size_pt: float) -> str:
    return ('<labeling type="simple"><settings calloutType="simple">'
            f'<text-style fieldName={quoteattr(field)} fontSize="{size_pt:g}" '
            'fontSizeUnit="Point" fontWeight="75" textColor="0,0,0,255" textOpacity="1" '
            'isExpression="0" fontFamily="Sans Serif" namedStyle="Bold">'
            '<text-buffer bufferDraw="1" bufferSize="1" bufferSizeUnits="MM" '
            'bufferColor="255,255,255,255" bufferOpacity="1"/></text-style>'
            '<placement placement="6" dist="2" distUnits="MM" priority="10"/>'
            '<rendering obstacle="1" zIndex="10" displayAll="1"/></settings></labeling>')


def qml_document(renderer: str, *, opacity: float = 1.0, labeling: str = "") -> str:
    """A complete QML style document (symbology and labels)."""
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            '<qgis version="3.22.0" styleCategories="Symbology|Labeling" '
            f'labelsEnabled="{1 if labeling else 0}">'
            f"{renderer}{labeling}<blendMode>0</blendMode>"
            f"<featureBlendMode>0</featureBlendMode><layerOpacity>{opacity:g}</layerOpacity>"
            "</qgis>\n")


def _flow_width(field: str, lo: float, span: float) -> str:
    return (f'{lo:g} + {span:g} * sqrt(coalesce("{field}", 0) / '
            f'max(maximum("{field}"), 1e-12))')


def layer_qml(layer: str, fields: list[str]) -> str | None:
    """The QML style of one hubopt layer (by name), or None if it has none.

    ``fields`` are the layer's field names (the flow field is found among them).
    """
    flow = next((f for f in fields if f.startswith("flow_") and not f.startswith(
        ("flow_out", "flow_in"))), None)
    if layer in _LAYER_MODE:
        mode = _LAYER_MODE[layer]
        faint = mode == "air"
        sym = line_symbol("0", MODE_COLORS[mode], _WIDTH_MM[mode], alpha=0.35 if faint else 1.0,
                          dash=mode in ("air", "transfer"))
        return qml_document(single_renderer(sym), opacity=0.4 if faint else 1.0)
    if layer == "terminals":
        cats = [(m, marker_symbol(str(i), "circle", MODE_COLORS[m], 1.6, outline="#ffffff",
                                  outline_mm=0.2))
                for i, m in enumerate(("road", "rail", "sea", "air"))]
        return qml_document(categorized_renderer("mode", cats))
    if layer == "candidates":
        sym = marker_symbol("0", "square", "none", 2.6, outline="#000000", outline_mm=0.4)
        return qml_document(single_renderer(sym), labeling=_labels("name", 8))
    if layer == "hubs":
        sym = marker_symbol("0", "star", HUB_COLOR, 7.0, outline="#000000", outline_mm=0.4)
        return qml_document(single_renderer(sym), labeling=_labels("name", 10))
    if layer == "routes":
        width = _flow_width(flow, 0.4, 2.6) if flow else None
        cats = [(m, line_symbol(str(i), MODE_COLORS[m], 0.8, width_expression=width))
                for i, m in enumerate(("road", "rail", "sea", "air", "transfer", "matrix"))]
        return qml_document(categorized_renderer("mode", cats))
    if layer == "allocations":
        width = _flow_width(flow, 0.2, 1.4) if flow else None
        cats = [("access", line_symbol("0", DEMAND_COLOR, 0.3, dash=True,
                                       width_expression=width)),
                ("inter_hub", line_symbol("1", HUB_COLOR, 0.6, width_expression=width))]
        return qml_document(categorized_renderer("kind", cats), opacity=0.8)
    return None


_DATA_COLUMNS = """
CREATE TABLE IF NOT EXISTS gpkg_data_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT,
  description TEXT, mime_type TEXT, constraint_name TEXT,
  CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
  CONSTRAINT gdc_tn UNIQUE (table_name, name));
CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (
  constraint_name TEXT NOT NULL, constraint_type TEXT NOT NULL, value TEXT, min NUMERIC,
  min_is_inclusive BOOLEAN, max NUMERIC, max_is_inclusive BOOLEAN, description TEXT,
  CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value));
"""
_LAYER_STYLES = """
CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256),
  f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256),
  styleName TEXT(30), styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN,
  description TEXT, owner TEXT(30), ui TEXT(30), update_time DATETIME);
"""
_SCHEMA_EXT = "http://www.geopackage.org/spec121/#extension_schema"


def finish_geopackage(path: str | os.PathLike[str], descriptions: Mapping[str, str],
                      fields: Mapping[str, Mapping[str, str]], *, styles: bool = True) -> None:
    """Add layer descriptions, field units and (``styles``) QGIS default styles.

    ``descriptions`` maps layer -> description; ``fields`` maps layer -> field -> unit
    (``''`` for none). Layers not in the GeoPackage are ignored.
    """
    with closing(sqlite3.connect(str(path))) as db, db:
        cur = db.cursor()
        tables = {row[0]: row[1] for row in cur.execute(
            "SELECT table_name, last_change FROM gpkg_contents WHERE data_type = 'features'")}
        geom_col = dict(cur.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        for name, text in descriptions.items():
            if name in tables:
                cur.execute("UPDATE gpkg_contents SET description = ? WHERE table_name = ?",
                            (text, name))
        cur.executescript(_DATA_COLUMNS)
        for ext in ("gpkg_data_columns", "gpkg_data_column_constraints"):
            cur.execute("DELETE FROM gpkg_extensions WHERE table_name = ?", (ext,))
            cur.execute("INSERT INTO gpkg_extensions (table_name, column_name, extension_name, "
                        "definition, scope) VALUES (?, NULL, 'gpkg_schema', ?, 'read-write')",
                        (ext, _SCHEMA_EXT))
        for name, units in fields.items():
            if name not in tables:
                continue
            present = {row[1] for row in cur.execute(f'PRAGMA table_info("{name}")')}
            for col, unit in units.items():
                if col not in present:
                    continue
                cur.execute("INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, "
                            "name, title, description) VALUES (?, ?, ?, ?, ?)",
                            (name, col, col, f"{col} ({unit})" if unit else col,
                             f"unit: {unit}" if unit else "no unit"))
        if not styles:
            return
        cur.executescript(_LAYER_STYLES)
        last = max(tables.values(), default="1970-01-01T00:00:00.000Z")
        cur.execute("INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, "
                    "description, last_change) VALUES ('layer_styles', 'attributes', "
                    "'layer_styles', 'QGIS layer styles (hubopt)', ?)", (last,))
        for name, changed in tables.items():
            cols = [row[1] for row in cur.execute(f'PRAGMA table_info("{name}")')]
            qml = layer_qml(name, cols)
            if qml is None:
                continue
            cur.execute("DELETE FROM layer_styles WHERE f_table_name = ?", (name,))
            cur.execute("INSERT INTO layer_styles (f_table_catalog, f_table_schema, "
                        "f_table_name, f_geometry_column, styleName, styleQML, styleSLD, "
                        "useAsDefault, description, owner, ui, update_time) "
                        "VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', '', ?)",
                        (name, geom_col.get(name, "geom"), STYLE_NAME, qml,
                         f"hubopt style of {name}", changed))


__all__ = ["DEMAND_COLOR", "HUB_COLOR", "MODE_COLORS", "STYLE_NAME", "categorized_renderer",
           "finish_geopackage", "layer_qml", "line_symbol", "marker_symbol", "qml_document",
           "single_renderer"]
