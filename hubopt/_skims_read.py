"""Reading a planner's matrix file into zones and per-zone matrices (no case logic).

Two formats (see ``docs/cases.md``, "Matrix file"):

* **OMX** (Open Matrix, an HDF5 file read with the ``openmatrix`` package): square
  matrices under ``/data`` and mappings under ``/lookup``; the mapping named by
  ``[network] lookup`` (or the file's only mapping) gives the zone name of each row and
  column. Integer zone ids become their decimal text (``101``), byte strings are
  decoded as UTF-8.
* **tidy tables** (``.csv``, ``.parquet``): one row per origin-destination pair with the
  origin and destination names and one column per quantity.

:func:`read_zone_table` returns a :class:`ZoneTable`: the zone names, one dense
``(Z, Z)`` float array per quantity that the file has (NaN where the file has no value),
and ``present``, the pairs the file lists. Every problem of the file is collected in
:class:`~hubopt._validate.Problems` (file, field, what was expected, what was found).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hubopt._validate import Problems

MAX_LISTED = 20
"""At most this many examples of one kind of problem are listed; the rest are counted."""


@dataclass(frozen=True, eq=False)
class ZoneTable:
    """Zones and the matrices of one file.

    ``values[key]`` is a ``(Z, Z)`` float64 array for each quantity key found (``time``,
    ``cost``, ``co2``, ``distance``); ``present[a, b]`` says whether the file lists the
    pair; ``units[key]`` is the ``units`` attribute of an OMX matrix (``""`` if none);
    ``where[key]`` names the matrix or column in messages; ``rows[a, b]`` is the row of a
    listed pair in a tidy table (for messages; ``None`` for OMX); ``available`` lists the
    file's matrices or columns.
    """

    zones: tuple[str, ...]
    values: dict[str, np.ndarray]
    present: np.ndarray
    available: tuple[str, ...]
    units: dict[str, str] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)
    rows: np.ndarray | None = None


def listed(problems: Problems, field_name: str, expected: str, items: Sequence[str]) -> None:
    """Report ``items`` (at most :data:`MAX_LISTED`, then how many more) under one field."""
    for item in items[:MAX_LISTED]:
        problems.note(field_name, f"expected {expected}; got {item}")
    if len(items) > MAX_LISTED:
        problems.note(field_name, f"... and {len(items) - MAX_LISTED} more like these")


def zone_text(value: Any) -> str:
    """A zone id as text: bytes decoded, integral numbers without a decimal point.

    A missing value (``None``, NaN) is the empty text.
    """
    if value is None or (isinstance(value, float | np.floating) and math.isnan(value)):
        return ""
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", errors="replace").strip()
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value).strip()


def read_zone_table(path: Path, wanted: dict[str, str], *, lookup: str | None,
                    origin_field: str, destination_field: str,
                    problems: Problems) -> ZoneTable | None:
    """Read ``path`` (OMX or tidy); ``wanted`` maps quantity keys to matrix/column names.

    Missing matrices or columns are left out of ``values`` (the caller decides which are
    required). ``None`` when the file cannot be read at all (problems say why).
    """
    if path.suffix.lower() == ".omx":
        return _read_omx(path, wanted, lookup=lookup, problems=problems)
    return _read_tidy(path, wanted, origin_field=origin_field,
                      destination_field=destination_field, problems=problems)


# ------------------------------------------------------------------------------------------
# OMX


def _units_attr(node: Any) -> str:
    attrs = node.attrs
    for name in attrs._v_attrnamesuser:
        if str(name).lower() in ("units", "unit"):
            return zone_text(attrs[name])
    return ""


def _read_omx(path: Path, wanted: dict[str, str], *, lookup: str | None,
              problems: Problems) -> ZoneTable | None:
    import openmatrix as omx
    import tables

    try:
        f = omx.open_file(str(path), "r")
    except (tables.HDF5ExtError, OSError, ValueError) as exc:
        problems.note("file", f"expected an OMX (HDF5) file; could not open it: {exc}")
        return None
    try:
        mappings = list(f.list_mappings())
        if lookup is None and len(mappings) != 1:
            problems.add("lookup", "the name of the OMX mapping that names the zones "
                         "(network.lookup; required when the file has no mapping or several)",
                         mappings)
            return None
        name = lookup if lookup is not None else mappings[0]
        if name not in mappings:
            problems.add(f"lookup {name!r}", "a mapping of the file (network.lookup)", mappings)
            return None
        zones = tuple(zone_text(v) for v in f.map_entries(name))
        dup = []
        if len(set(zones)) < len(zones):
            dup = sorted({z for z in zones if zones.count(z) > 1})
        if dup:
            listed(problems, f"lookup {name!r}", "unique zone names", dup)
        matrices = list(f.list_matrices())
        values: dict[str, np.ndarray] = {}
        units: dict[str, str] = {}
        where: dict[str, str] = {}
        for key, mat in wanted.items():
            if mat not in matrices:
                continue
            node = f[mat]
            arr = np.asarray(node.read(), dtype=np.float64)
            where[key] = f"matrix {mat!r}"
            if arr.shape != (len(zones), len(zones)):
                problems.add(f"matrix {mat!r}", f"a square matrix of {len(zones)} x "
                             f"{len(zones)} values (the zones of lookup {name!r})",
                             f"shape {arr.shape}")
                continue
            values[key] = arr
            units[key] = _units_attr(node)
    except (tables.HDF5ExtError, tables.NoSuchNodeError, OSError, ValueError,
            LookupError) as exc:
        problems.note("file", f"expected an OMX file with /data matrices and /lookup "
                      f"mappings; could not read it: {exc}")
        return None
    finally:
        f.close()
    present = np.ones((len(zones), len(zones)), dtype=bool)
    if dup:
        return None
    return ZoneTable(zones, values, present, tuple(matrices), units, where)


# ------------------------------------------------------------------------------------------
# tidy tables


def _read_frame(path: Path, problems: Problems) -> Any:
    import pandas as pd

    try:
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        return pd.read_parquet(path)
    except (OSError, ValueError, UnicodeDecodeError, ImportError) as exc:
        kind = "CSV" if path.suffix.lower() == ".csv" else "Parquet"
        problems.note("file", f"expected a readable {kind} table; could not read it: {exc}")
        return None


def _read_tidy(path: Path, wanted: dict[str, str], *, origin_field: str,
               destination_field: str, problems: Problems) -> ZoneTable | None:
    import pandas as pd

    frame = _read_frame(path, problems)
    if frame is None:
        return None
    csv = path.suffix.lower() == ".csv"
    first_row = 2 if csv else 1  # a CSV's header is row 1; a Parquet table's rows from 1
    columns = [str(c) for c in frame.columns]
    for col, key in ((origin_field, "origin_field"), (destination_field, "destination_field")):
        if col not in columns:
            problems.add(f"column {col!r}", f"a column of zone names (network.{key})",
                         columns)
    if "time" in wanted and wanted["time"] not in columns:
        problems.add(f"column {wanted['time']!r}", "a column of travel times "
                     "(network.time_matrix)", columns)
    if problems:
        return None
    origin = _names(frame[origin_field])
    dest = _names(frame[destination_field])
    zones_index = pd.Index(np.union1d(origin, dest))
    zones = tuple(str(z) for z in zones_index)
    oi = zones_index.get_indexer(origin).astype(np.int64)
    di = zones_index.get_indexer(dest).astype(np.int64)
    row_no = np.arange(len(frame), dtype=np.int64) + first_row
    names_field = f"columns {origin_field!r}, {destination_field!r}"
    empty = (origin == "") | (dest == "")
    listed(problems, names_field, "non-empty zone names",
           [f"row {r}" for r in row_no[empty].tolist()])
    n = len(zones)
    rows = np.full((n, n), -1, dtype=np.int64)
    pair = pd.Series(oi * max(n, 1) + di)
    dup = pair.duplicated(keep="first").to_numpy()
    rows[oi[~dup], di[~dup]] = row_no[~dup]
    listed(problems, names_field, "one row per origin-destination pair", [
        f"row {r}: {zones[a]!r} -> {zones[b]!r} (first in row {rows[a, b]})"
        for r, a, b in zip(row_no[dup].tolist(), oi[dup].tolist(), di[dup].tolist(),
                           strict=True)])
    present = rows >= 0
    values: dict[str, np.ndarray] = {}
    where: dict[str, str] = {}
    for key, col in wanted.items():
        if col not in columns:
            continue
        raw = frame[col]
        nums = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
        text = raw.astype(str).str.strip()
        bad = (np.isnan(nums) & (text != "").to_numpy() & ~text.str.lower().isin(
            ["nan", "none", "<na>"]).to_numpy())
        listed(problems, f"column {col!r}", "a number", [
            f"row {r + first_row}: {raw.iloc[r]!r}" for r in np.flatnonzero(bad).tolist()])
        arr = np.full((n, n), np.nan)
        arr[oi[~dup], di[~dup]] = nums[~dup]
        values[key] = arr
        where[key] = f"column {col!r}"
    return ZoneTable(zones, values, present, tuple(columns), {}, where, rows)


def _names(col: Any) -> np.ndarray:
    """A column of zone names as text (see :func:`zone_text`), vectorized for text."""
    if col.dtype == object or str(col.dtype).startswith("string"):
        text = col.astype(object).where(col.notna(), "")
        if all(isinstance(v, str) for v in text.head(1000)):
            return np.asarray(text.astype(str).str.strip().to_numpy(), dtype=object)
    return np.asarray([zone_text(v) for v in col.tolist()], dtype=object)


__all__ = ["MAX_LISTED", "ZoneTable", "listed", "read_zone_table", "zone_text"]
