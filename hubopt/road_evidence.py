"""Road distances and times of hubopt against a cited table of real city pairs.

:func:`read_pairs` ``(path) -> DataFrame`` reads the table (``tests/data/road_pairs.csv``:
``layer, origin, destination, origin_lon, origin_lat, destination_lon, destination_lat,
origin_kind, destination_kind, distance_km, car_time_h, car_time_kind, source, note``;
``layer`` is ``world`` or the name of an OSM extract; a kind is ``centre``, ``airport``
or ``border crossing``; ``car_time_kind`` is ``stated`` or ``at most`` when the source gives an
upper bound). :func:`compare` ``(pairs, network) -> DataFrame`` computes hubopt's road
distance and truck time for every pair through :func:`hubopt.od_matrix.od_table` (the code
of ``hubopt matrix``: edge snapping, connectors at both ends, least-cost path) and adds
``hubopt_km, km_ratio, hubopt_h, time_ratio, access_km, egress_km, modes``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hubopt._errors import InputFormatError
from hubopt.network import MultimodalNetwork
from hubopt.od_matrix import od_table

PAIR_COLUMNS = ("layer", "origin", "destination", "origin_lon", "origin_lat",
                "destination_lon", "destination_lat", "origin_kind", "destination_kind",
                "distance_km", "car_time_h", "car_time_kind", "source", "note", "role")  # fmt: skip
TIME_KINDS = ("precise", "approximate", "at most")
ROLES = ("report", "training")


def read_pairs(path: Path) -> pd.DataFrame:
    """The cited pairs; an error names the file and every missing column or bad value."""
    frame = pd.read_csv(path, dtype={"car_time_kind": "string"}, keep_default_na=True)
    problems = [f"missing column {c!r}" for c in PAIR_COLUMNS if c not in frame.columns]
    if not problems:
        bad = ~frame["car_time_kind"].isna() & ~frame["car_time_kind"].isin(TIME_KINDS)
        problems += [f"row {i + 2}: car_time_kind must be one of {TIME_KINDS}"
                     for i in np.flatnonzero(bad.to_numpy())]  # fmt: skip
        problems += [f"row {i + 2}: role must be one of {ROLES}"
                     for i in np.flatnonzero(~frame["role"].isin(ROLES).to_numpy())]  # fmt: skip
        problems += [f"row {i + 2}: distance_km must be > 0"
                     for i in np.flatnonzero(~(frame["distance_km"] > 0).to_numpy())]  # fmt: skip
    if problems:
        raise InputFormatError(f"{path}: " + "; ".join(problems))
    return frame


OSM_EXTRACTS = {"malta": "malta_2018-08-27.osm.pbf", "kiel": "kiel-north_2025-01-27.osm.pbf",
                "baltimore": "baltimore_2015-02.osm.pbf"}  # fmt: skip
WORLD_MARGIN_DEG = 0.5


def road_network(layer: str, pairs: pd.DataFrame) -> MultimodalNetwork:
    """The road-only network a layer's pairs are routed on.

    ``world``: the world-scale road layer over the pairs' box grown by
    :data:`WORLD_MARGIN_DEG`; otherwise the shared OSM extract of that name
    (:data:`OSM_EXTRACTS`, in the data folder's ``osm``). As ``hubopt matrix --modes road``.
    """
    import warnings

    from hubopt.layers import EmptyLayerWarning, Source
    from hubopt.network import build_network
    from hubopt.settings import resolve_data_folder

    sel = pairs[pairs["layer"] == layer]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyLayerWarning)
        if layer == "world":
            lon = np.concatenate([sel["origin_lon"], sel["destination_lon"]])
            lat = np.concatenate([sel["origin_lat"], sel["destination_lat"]])
            m = WORLD_MARGIN_DEG
            box = f"{lon.min() - m},{lat.min() - m},{lon.max() + m},{lat.max() + m}"
            return build_network(source=Source.from_bbox(box), world=True, modes="road")
        if layer not in OSM_EXTRACTS:
            msg = f"layer {layer!r}: expected 'world' or one of {sorted(OSM_EXTRACTS)}"
            raise InputFormatError(msg)
        path = resolve_data_folder() / "osm" / OSM_EXTRACTS[layer]
        return build_network(source=path, modes="road")


def compare(pairs: pd.DataFrame, network: MultimodalNetwork) -> pd.DataFrame:
    """hubopt's distance, time and connectors for each pair (all on ``network``)."""
    names: dict[tuple[float, float], str] = {}
    for side in ("origin", "destination"):
        for name, lon, lat in pairs[[side, f"{side}_lon", f"{side}_lat"]].itertuples(
                index=False):
            names.setdefault((float(lon), float(lat)), str(name))
    keys = list(names)
    label = [f"{names[k]}@{i}" for i, k in enumerate(keys)]
    index = {k: label[i] for i, k in enumerate(keys)}
    table = od_table(network, label, [k[0] for k in keys], [k[1] for k in keys]).frame
    table = table.set_index(["origin", "destination"])
    rows = []
    for r in pairs.itertuples(index=False):
        o = index[(float(r.origin_lon), float(r.origin_lat))]
        d = index[(float(r.destination_lon), float(r.destination_lat))]
        t = table.loc[(o, d)]
        rows.append({"hubopt_km": t["distance_km"], "hubopt_h": t["time_h"],
                     "access_km": t["access_km"], "egress_km": t["egress_km"],
                     "modes": t["modes"]})  # fmt: skip
    out = pd.concat([pairs.reset_index(drop=True), pd.DataFrame(rows)], axis=1)
    out["km_ratio"] = out["hubopt_km"] / out["distance_km"]
    out["time_ratio"] = out["hubopt_h"] / out["car_time_h"]
    return out


__all__ = ["OSM_EXTRACTS", "PAIR_COLUMNS", "ROLES", "TIME_KINDS", "compare", "read_pairs",
           "road_network"]
