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

    # the country of each distinct start node, the category of each distinct
    # (class, maxspeed) pair: a road layer of a regional extract has millions of edges
    start, at = np.unique(edges["u"].to_numpy(), return_inverse=True)
    xy = nodes.loc[start, ["x", "y"]].to_numpy(dtype="float64")
    country = np.asarray(country_codes(xy[:, 0], xy[:, 1]), dtype=object)[at]
    maxspeed = edges["maxspeed"] if "maxspeed" in edges.columns else pd.Series(
        [None] * len(edges), index=edges.index)
    pair = pd.DataFrame({"kind": edges["kind"].to_numpy(dtype=object),
                         "maxspeed": maxspeed.to_numpy(dtype=object)})
    code = pair.groupby(["kind", "maxspeed"], dropna=False, sort=False).ngroup().to_numpy()
    _, row = np.unique(code, return_index=True)
    category = np.array([CATEGORIES.index(hgv_category(pair["kind"].iat[r],
                                                       pair["maxspeed"].iat[r]))
                         for r in row.tolist()], dtype="int64")[code]  # fmt: skip
    cc = pd.DataFrame({"country": country, "category": category})
    cc_code = cc.groupby(["country", "category"], dropna=False, sort=False).ngroup().to_numpy()
    _, row = np.unique(cc_code, return_index=True)
    cap = np.array([limits[c][k] if c in limits else np.inf
                    for c, k in zip(country[row], category[row], strict=True)])
    return np.minimum(speeds, cap[cc_code])


__all__ = ["CATEGORIES", "hgv_category", "hgv_limited_speeds"]
