"""Legal speed limits of heavy goods vehicles on OSM road edges.

:func:`hgv_category` sorts an edge into ``urban``, ``rural`` or ``motorway`` from its
``highway`` class and ``maxspeed`` tag; :func:`hgv_limited_speeds` caps each edge's truck
speed at the limit of its country and category (the road profile's ``[hgv_speed_limits]``,
country = that of the nearest GeoNames city to the edge's start). Countries without an
entry keep the speeds they have.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hubopt.layers._osm import parse_speed_kmh
from hubopt.profiles import ModeProfile

URBAN_CLASSES = frozenset({"residential", "living_street", "service", "unclassified"})
URBAN_TAG_KMH = 50.0
CATEGORIES = ("urban", "rural", "motorway")


def hgv_category(kind: object, maxspeed: object) -> str:
    """``motorway``, ``urban`` (a street class or a maxspeed tag <= 50 km/h) or ``rural``."""
    classes = [str(k) for k in kind] if isinstance(kind, list | tuple) else str(kind).split(";")
    if all(c.startswith("motorway") for c in classes):
        return "motorway"
    if any(c in URBAN_CLASSES for c in classes):
        return "urban"
    tag = parse_speed_kmh(str(maxspeed)) if maxspeed is not None else None
    if tag is not None and tag <= URBAN_TAG_KMH:
        return "urban"
    return "rural"


def hgv_limited_speeds(edges: pd.DataFrame, nodes: pd.DataFrame, speeds: np.ndarray,
                       profile: ModeProfile) -> np.ndarray:
    """``speeds`` (km/h, one per edge row) capped by the country's HGV limit per category."""
    limits = profile.hgv_limits
    if not limits or edges.empty:
        return speeds
    from hubopt.demand import country_codes  # lazy: demand imports the layers package

    xy = nodes.loc[edges["u"].to_numpy(), ["x", "y"]].to_numpy(dtype="float64")
    country = np.array(country_codes(xy[:, 0], xy[:, 1]))
    maxspeed = edges["maxspeed"] if "maxspeed" in edges.columns else pd.Series(
        [None] * len(edges), index=edges.index)
    category = np.array([CATEGORIES.index(hgv_category(k, m)) for k, m in
                         zip(edges["kind"], maxspeed, strict=True)])  # fmt: skip
    cap = np.array([limits[c][k] if c in limits else np.inf
                    for c, k in zip(country, category, strict=True)])  # fmt: skip
    return np.minimum(speeds, cap)


__all__ = ["CATEGORIES", "hgv_category", "hgv_limited_speeds"]
