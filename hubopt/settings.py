"""Typed module-level settings of hubopt.

Attributes
----------
data_folder
    Folder with the benchmark and test data (``hub-instances/``, ``osm/``).
    ``None`` means: the environment variable ``HUBOPT_DATA``, else
    ``../shared/data`` beside the repository (see :func:`resolve_data_folder`).
cache_folder
    Where derived data (compact world layers, converted OSM files) is cached.
"""

from __future__ import annotations

import os
from pathlib import Path

data_folder: Path | None = None
cache_folder: Path = Path(os.environ.get("HUBOPT_CACHE", Path.home() / ".cache" / "hubopt"))

OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"


def resolve_data_folder() -> Path:
    """Return the data folder: settings, then ``$HUBOPT_DATA``, then ``../shared/data``."""
    if data_folder is not None:
        return Path(data_folder)
    env = os.environ.get("HUBOPT_DATA")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parent.parent
    candidates = [repo.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    for cand in candidates:
        if cand.is_dir():
            return cand
    return candidates[0]
