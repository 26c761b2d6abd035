"""Origin-destination travel-cost tables between named points, as ``hubopt matrix`` writes.

:func:`od_table` ``(network, names, lon, lat, *, weights=Weights(money=1)) -> OdTable``:
the points are snapped onto the road edges (:func:`hubopt.snapping.snap_to_edges`, as in
``hubopt run``) and, for every ordered pair, the least generalized-cost path is searched
(:func:`hubopt.costs.shortest_paths`, one search per origin). Each row gives the path's
distance, time and money cost with both connectors included, its mode chain
(``road>sea>road``) and the connector lengths at each end. Unreachable pairs have empty
values and are listed in ``OdTable.unreachable``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hubopt._errors import InputFormatError
from hubopt._io import atomic_path
from hubopt.costs import Weights, shortest_paths
from hubopt.network import MultimodalNetwork
from hubopt.snapping import snap_to_edges

COLUMNS = ("origin", "destination", "distance_km", "time_h", "cost", "modes", "access_km",
           "egress_km")


@dataclass(frozen=True, eq=False)
class OdTable:
    """One row per ordered pair of distinct points (see :data:`COLUMNS`)."""

    frame: pd.DataFrame
    unreachable: tuple[tuple[str, str], ...]


def od_table(network: MultimodalNetwork, names: Sequence[str],
             lon: Sequence[float] | np.ndarray, lat: Sequence[float] | np.ndarray, *,
             weights: Weights | None = None) -> OdTable:
    """Least-cost distance, time, cost and mode chain between every ordered pair."""
    w = weights if weights is not None else Weights(time=0.0, money=1.0)
    snap = snap_to_edges(network, np.asarray(lon, float), np.asarray(lat, float))
    net, pts = snap.network, snap.points
    detour = float(net.profiles["road"].param("connector_detour", 1.0))
    conn_km = pts.distance_m / 1000.0 * detour
    rows: list[tuple[object, ...]] = []
    unreachable: list[tuple[str, str]] = []
    n = len(names)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        paths = shortest_paths(net, int(pts.node[i]), pts.node[others], weights=w)
        for j, path in zip(others, paths, strict=True):
            if path is None:
                unreachable.append((names[i], names[j]))
                rows.append((names[i], names[j], None, None, None, None,
                             float(conn_km[i]), float(conn_km[j])))
                continue
            rows.append((
                names[i], names[j],
                path.length_m / 1000.0 + conn_km[i] + conn_km[j],
                path.time_h + pts.time_h[i] + pts.time_h[j],
                path.money + pts.cost[i] + pts.cost[j],
                ">".join(path.modes) or "road",
                float(conn_km[i]), float(conn_km[j]),
            ))
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for col in ("distance_km", "time_h", "cost", "access_km", "egress_km"):
        frame[col] = frame[col].astype("float64")
    return OdTable(frame, tuple(unreachable))


def write_od_table(table: OdTable, out: Path, *, overwrite: bool = False) -> Path:
    """Write the table as CSV or Parquet (by the suffix), atomically."""
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        msg = f"{out}: expected a .csv or .parquet output file"
        raise InputFormatError(msg)
    with atomic_path(out, overwrite=overwrite) as tmp:
        if suffix == ".csv":
            table.frame.to_csv(tmp, index=False, float_format="%.6g")
        else:
            table.frame.to_parquet(tmp, index=False)
    return out


__all__ = ["COLUMNS", "OdTable", "od_table", "write_od_table"]
