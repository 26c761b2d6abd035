"""Low-level number readers shared by the instance readers.

Every reader raises :class:`hubopt._errors.InputFormatError` whose message starts
with the file path and says what was expected, e.g.
``.../AP/40.3: expected 1 + 2*40 + 40*40 + 4 numbers, found 1630``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from hubopt._errors import InputFormatError

FloatArray = npt.NDArray[np.float64]


def read_text(path: Path | str) -> str:
    """Return the text of ``path``, or raise InputFormatError if it cannot be read."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8-sig", errors="strict")
    except FileNotFoundError:
        msg = f"{path}: file not found"
        raise InputFormatError(msg) from None
    except IsADirectoryError:
        msg = f"{path}: expected a file, found a directory"
        raise InputFormatError(msg) from None
    except UnicodeDecodeError as exc:
        msg = f"{path}: expected a text file, found undecodable bytes at offset {exc.start}"
        raise InputFormatError(msg) from None
    except OSError as exc:
        msg = f"{path}: cannot be read ({exc.strerror})"
        raise InputFormatError(msg) from None


def _bad_token(path: Path, text: str, *, sep: str | None, first_line: int) -> InputFormatError:
    """Locate the first token that is not a finite number and describe it."""
    for lineno, line in enumerate(text.splitlines(), start=first_line):
        for raw in line.split(sep):
            tok = raw.strip()
            if not tok and sep is not None:
                return InputFormatError(
                    f"{path}, line {lineno}: expected a number, found an empty field"
                )
            if not tok:
                continue
            try:
                val = float(tok)
            except ValueError:
                return InputFormatError(f"{path}, line {lineno}: expected a number, found {tok!r}")
            if not np.isfinite(val):
                return InputFormatError(
                    f"{path}, line {lineno}: expected a finite number, found {tok!r}"
                )
    return InputFormatError(f"{path}: expected finite numbers only")


def parse_numbers(path: Path, text: str, *, first_line: int = 1) -> FloatArray:
    """Parse whitespace-separated numbers (line breaks irrelevant) into a flat array.

    ``first_line`` is the line number of the first line of ``text`` in the file
    (used in error messages when ``text`` is a tail of the file).
    """
    tokens = text.split()
    try:
        values = np.array(tokens, dtype=np.float64)
    except ValueError:
        raise _bad_token(path, text, sep=None, first_line=first_line) from None
    if not np.all(np.isfinite(values)):
        raise _bad_token(path, text, sep=None, first_line=first_line)
    return values


def read_numbers(path: Path | str) -> FloatArray:
    """Read all whitespace-separated numbers of a file (tokens, not lines)."""
    path = Path(path)
    return parse_numbers(path, read_text(path))


def read_vector(path: Path | str, *, length: int | None = None) -> FloatArray:
    """Read a vector of numbers from a file, reading tokens rather than lines.

    ``FcostL.NN`` puts one value per line, ``FcostT.NN`` all values on one line and
    ``Fcost.NN`` separates them by tabs: all read the same way.  With ``length``
    the number of values is checked.
    """
    path = Path(path)
    values = read_numbers(path)
    if length is not None and values.size != length:
        msg = f"{path}: expected {length} numbers, found {values.size}"
        raise InputFormatError(msg)
    if values.size == 0:
        msg = f"{path}: expected at least one number, found none"
        raise InputFormatError(msg)
    return values


def read_delimited_matrix(path: Path | str, *, sep: str, n: int | None = None) -> FloatArray:
    """Read a square matrix with one row per line and fields separated by ``sep``.

    Blank lines (e.g. a trailing newline) are ignored.  With ``n`` the size is checked.
    """
    path = Path(path)
    text = read_text(path)
    rows: list[list[str]] = []
    linenos: list[int] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        rows.append([tok.strip() for tok in line.split(sep)])
        linenos.append(lineno)
    size = n if n is not None else len(rows)
    sep_name = {",": "comma", ";": "semicolon", "\t": "tab"}.get(sep, repr(sep))
    if len(rows) != size:
        msg = f"{path}: expected {size} rows, found {len(rows)}"
        raise InputFormatError(msg)
    if size == 0:
        msg = f"{path}: expected a matrix, found an empty file"
        raise InputFormatError(msg)
    for row, lineno in zip(rows, linenos, strict=True):
        if len(row) != size:
            msg = (
                f"{path}, line {lineno}: expected {size} {sep_name}-separated numbers, "
                f"found {len(row)}"
            )
            raise InputFormatError(msg)
    try:
        matrix = np.array(rows, dtype=np.float64)
    except ValueError:
        raise _bad_token(path, text, sep=sep, first_line=1) from None
    if not np.all(np.isfinite(matrix)):
        raise _bad_token(path, text, sep=sep, first_line=1)
    return matrix


def check_nonnegative(path: Path | str, what: str, values: FloatArray) -> None:
    """Raise InputFormatError if ``values`` has a negative entry (1-based position named)."""
    if values.size and values.min() < 0:
        idx = np.unravel_index(int(np.argmin(values)), values.shape)
        where = ",".join(str(int(i) + 1) for i in idx)
        msg = f"{path}: expected non-negative {what}, found {values[idx]:g} at ({where})"
        raise InputFormatError(msg)


def readonly(array: npt.ArrayLike) -> FloatArray:
    """Return a read-only float64 copy of ``array``."""
    out = np.array(array, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out
