"""Reading point and flow files: encoding, CSV dialect, decimal comma, GeoJSON/GPKG CRS.

One place for what every input-file reader needs (:func:`read_records`):

* **Encoding.** UTF-8 is expected, with or without a BOM. Bytes that are not UTF-8 are
  refused, naming the encoding they look like (cp1251 Windows Cyrillic, or Latin-1 /
  Windows-1252), so that a file is never read with mangled names.
* **CSV dialect.** The delimiter (comma, semicolon or tab) is found with
  :class:`csv.Sniffer` and then checked: the header and every row must split into the
  same number of fields; otherwise the rows that differ are reported.
* **Decimal comma.** In a semicolon- or tab-separated file a cell such as ``59,93``
  (digits, one comma, digits) is read as ``59.93``.
* **CRS.** A GeoJSON file's ``crs`` member (older GeoJSON; GDAL writes it) and a
  GeoPackage layer's CRS are read and the points reprojected to EPSG:4326. A GeoJSON
  without ``crs`` is EPSG:4326 by RFC 7946; a GeoPackage without a CRS, or a CRS that
  pyproj does not know, is refused naming it.

Every problem of a file is returned at once, as ``"field: message"`` strings.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

GEO_SUFFIXES = (".geojson", ".json", ".gpkg")
DELIMITERS = ",;\t"
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d+,\d+\s*$")
_WGS84 = ("EPSG:4326", "OGC:CRS84")


def is_geo(path: Path) -> bool:
    """Whether ``path`` is read as a GeoJSON or GeoPackage file (else as CSV)."""
    return path.suffix.lower() in GEO_SUFFIXES


def guess_encoding(data: bytes) -> str:
    """Name of the 8-bit encoding that non-UTF-8 ``data`` most likely uses.

    Both cp1251 and Latin-1 decode any byte, so the test is the bytes' neighbours: Cyrillic
    words are made of high bytes only, while accented Latin letters (``Å``, ``á``) sit
    among ASCII letters.
    """
    high = [i for i, b in enumerate(data) if b >= 0x80]
    if not high:
        return "ASCII"

    def ascii_letter(i: int) -> bool:
        return 0 <= i < len(data) and chr(data[i]).isascii() and chr(data[i]).isalpha()

    mixed = sum(1 for i in high if ascii_letter(i - 1) or ascii_letter(i + 1))
    text = data.decode("cp1251", errors="replace")
    cyr = sum(1 for ch in text if "\u0400" <= ch <= "\u04ff")
    if mixed < 0.2 * len(high) and cyr >= 0.8 * len(high):
        return "cp1251 (Windows Cyrillic)"
    latin = sum(1 for ch in data.decode("latin-1") if ch.isalpha() and ord(ch) >= 0xC0)
    if latin >= 0.8 * len(high):
        return "Latin-1 (ISO-8859-1 / Windows-1252)"
    return "an unknown 8-bit encoding"


def decode_utf8(data: bytes) -> tuple[str | None, str | None]:
    """``(text, None)`` for UTF-8 bytes (BOM dropped), else ``(None, problem)``."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, (
            f"is not UTF-8 (byte {data[exc.start]:#04x} on line {line}); it looks like "
            f"{guess_encoding(data)}; save it as UTF-8"
        )


def sniff_delimiter(text: str) -> tuple[str | None, str | None]:
    """The CSV delimiter of ``text`` (comma, semicolon or tab), checked on every line."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return ",", None
    try:
        delim: str | None = csv.Sniffer().sniff("\n".join(lines[:50]), DELIMITERS).delimiter
    except csv.Error:
        delim = None
    if delim is None or delim not in lines[0]:
        counts = {d: lines[0].count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        delim = best if counts[best] else None
    if delim is None:
        return None, "expected a header with fields separated by comma, semicolon or tab"
    return delim, None


def _decimal(value: Any) -> Any:
    if isinstance(value, str) and _DECIMAL_COMMA.match(value):
        return value.strip().replace(",", ".")
    return value


def read_csv_text(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows of CSV ``text`` with its delimiter detected and decimal commas read."""
    delim, problem = sniff_delimiter(text)
    if delim is None:
        return [], [f"file: {problem}"]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    records = [r for r in reader if any(c.strip() for c in r)]
    if not records:
        return [], []
    header = [h.strip() for h in records[0]]
    problems: list[str] = []
    rows: list[dict[str, Any]] = []
    comma_decimal = delim != ","
    for line_no, rec in enumerate(records[1:], start=2):
        if len(rec) != len(header):
            problems.append(
                f"row {line_no}: expected {len(header)} fields separated by "
                f"{_DELIMITER_NAMES[delim]}; got {len(rec)}"
            )
        # a ragged row is kept (padded or cut) so that later rows keep their row numbers
        cells = (list(rec) + [""] * len(header))[: len(header)]
        if comma_decimal:
            cells = [_decimal(c) for c in cells]
        rows.append(dict(zip(header, cells, strict=True)))
    return rows, problems


def _crs_problem(crs: Any) -> str:
    return f"crs: expected a known coordinate reference system (e.g. EPSG:4326); got {crs!r}"


def _to_wgs84(crs_text: str) -> tuple[Any, str | None]:
    """A lon/lat transform function from ``crs_text``, or None if already WGS84."""
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    try:
        crs = CRS.from_user_input(crs_text)
    except CRSError:
        return None, _crs_problem(crs_text)
    if crs == CRS.from_epsg(4326) or crs == CRS.from_user_input("OGC:CRS84"):
        return None, None
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform, None


def read_geojson_text(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Point features of GeoJSON ``text`` as rows (lon/lat from the geometry, in EPSG:4326)."""
    problems: list[str] = []
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        problems.append("type: expected a GeoJSON FeatureCollection")
    transform = None
    crs = data.get("crs") if isinstance(data, dict) else None
    if crs is not None:
        name = ((crs or {}).get("properties") or {}).get("name") if isinstance(crs, dict) else None
        if not isinstance(name, str):
            return [], [_crs_problem(crs)]
        transform, problem = _to_wgs84(name)
        if problem:
            return [], [problem]
    rows = []
    for i, feat in enumerate(data.get("features", []) if isinstance(data, dict) else []):
        geom = (feat or {}).get("geometry") or {}
        props = dict((feat or {}).get("properties") or {})
        coords = geom.get("coordinates")
        if geom.get("type") != "Point" or not isinstance(coords, list) or len(coords) < 2:
            problems.append(f"features[{i}].geometry: expected a Point; got {geom.get('type')!r}")
            continue
        x, y = coords[0], coords[1]
        if transform is not None:
            x, y = transform(x, y)
        props.setdefault("lon", x)
        props.setdefault("lat", y)
        rows.append(props)
    return rows, problems


def read_gpkg(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Point features of a GeoPackage's first layer as rows, reprojected to EPSG:4326."""
    import geopandas as gpd

    frame = gpd.read_file(path)
    if frame.crs is None:
        return [], ["crs: expected the layer to have a coordinate reference system; got none"]
    if not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs("EPSG:4326")
    problems: list[str] = []
    rows = []
    columns = [c for c in frame.columns if c != frame.geometry.name]
    for i, (geom, rec) in enumerate(zip(frame.geometry, frame[columns].to_dict("records"),
                                        strict=True)):
        if geom is None or geom.geom_type != "Point":
            kind = None if geom is None else geom.geom_type
            problems.append(f"features[{i}].geometry: expected a Point; got {kind!r}")
            continue
        rec.setdefault("lon", geom.x)
        rec.setdefault("lat", geom.y)
        rows.append(rec)
    return rows, problems


def read_records(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows of a CSV, GeoJSON or GeoPackage point file and every problem met reading it."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".gpkg":
            try:
                return read_gpkg(path)
            except Exception as exc:
                return [], [f"file: expected a readable GeoPackage point layer; got {exc}"]
        text, problem = decode_utf8(path.read_bytes())
        if text is None:
            return [], [f"file: {problem}"]
        if suffix in (".geojson", ".json"):
            return read_geojson_text(text)
        return read_csv_text(text)
    except json.JSONDecodeError as exc:
        return [], [f"file: expected a GeoJSON file; got invalid JSON ({exc})"]
    except (OSError, csv.Error, ValueError) as exc:
        return [], [f"file: expected a readable CSV, GeoJSON or GeoPackage file; got {exc}"]


__all__ = ["decode_utf8", "guess_encoding", "is_geo", "read_records", "sniff_delimiter"]
