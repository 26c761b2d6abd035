"""Origin-destination flows between demand points: a gravity model or an OD file.

Gravity model (stated parameters, see :class:`hubopt.case.FlowSpec`)::

    W_ij = k * P_i**a * P_j**b * f(d_ij)   for i != j,   W_ii = 0
    f(d) = d**(-beta)          (decay = "power")
    f(d) = exp(-beta * d)      (decay = "exponential", beta per km)

with ``P`` the demand weights, ``d`` the great-circle distance in km (at least
1 km, so that near-coincident points stay finite) and ``k`` chosen so that the
flows sum to ``total``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hubopt.demand import DemandPoints, _as_float, great_circle_km, read_records_with_columns

if TYPE_CHECKING:
    from hubopt.case import Case


def gravity_flows(
    demand: DemandPoints,
    *,
    total: float = 1.0e6,
    origin_exponent: float = 1.0,
    destination_exponent: float = 1.0,
    decay: str = "power",
    beta: float = 1.0,
) -> np.ndarray:
    """The (n, n) gravity-model flow matrix; rows are origins, columns destinations."""
    lon, lat = demand.lon, demand.lat
    d = np.maximum(great_circle_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :]), 1.0)
    f = np.exp(-beta * d) if decay == "exponential" else d ** (-beta)
    p = demand.weight.astype(float)
    w = (p[:, None] ** origin_exponent) * (p[None, :] ** destination_exponent) * f
    np.fill_diagonal(w, 0.0)
    s = float(w.sum())
    if s <= 0:
        return np.zeros_like(w)
    return np.asarray(w * (total / s), dtype=float)


def flows_from_file(
    path: Path,
    names: tuple[str, ...],
    *,
    origin_field: str = "origin",
    destination_field: str = "destination",
    flow_field: str = "flow",
) -> np.ndarray:
    """The flow matrix from a CSV of (origin, destination, flow) rows naming demand points.

    Repeated pairs add up. Every unknown name and bad value is reported at once.
    """
    rows, problems = read_records_with_columns(path, (origin_field, destination_field, flow_field))
    index = {n: i for i, n in enumerate(names)}
    w = np.zeros((len(names), len(names)), dtype=float)
    for r, row in enumerate(rows, start=2):
        o, d = str(row[origin_field]).strip(), str(row[destination_field]).strip()
        q = _as_float(row[flow_field])
        for field, nm in ((origin_field, o), (destination_field, d)):
            if nm not in index:
                problems.add(f"row {r}.{field}", "the name of a demand point", nm)
        if q is None or q < 0:
            problems.add(f"row {r}.{flow_field}", "a flow >= 0", row[flow_field])
        if not problems and o in index and d in index and q is not None:
            w[index[o], index[d]] += q
    if not rows:
        problems.add("rows", "at least one flow row", 0)
    if not problems and w.sum() <= 0:
        problems.add(flow_field, "at least one positive flow", 0)
    problems.raise_if_any()
    np.fill_diagonal(w, 0.0)
    return w


def flows_from_case(case: Case, demand: DemandPoints) -> np.ndarray:
    """The case's OD flows between ``demand`` points (gravity model or file)."""
    from hubopt.case import FlowSource

    spec = case.flows
    if spec.source == FlowSource.FILE:
        assert spec.file is not None
        return flows_from_file(
            spec.file,
            demand.names,
            origin_field=spec.origin_field,
            destination_field=spec.destination_field,
            flow_field=spec.flow_field,
        )
    return gravity_flows(
        demand,
        total=spec.total,
        origin_exponent=spec.origin_exponent,
        destination_exponent=spec.destination_exponent,
        decay=spec.decay,
        beta=spec.beta,
    )


__all__ = ["flows_from_case", "flows_from_file", "gravity_flows"]
