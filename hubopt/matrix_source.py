"""Runs on the planner's own matrix: the matrices record, an empty network, straight legs.

With ``[network] source = "matrix"`` no layer is built. The pipeline reads the matrix
(:func:`hubopt.skims.skims_from_case`) and this module turns it into what the other steps
read:

* :func:`matrix_network`: a :class:`~hubopt.network.MultimodalNetwork` without nodes,
  edges or terminals (its profiles give the currency), so that every output writer runs;
  ``network.gpkg`` then holds the run's layers only (:func:`hubopt.outputs.network_gpkg_layers`);
* :func:`matrices_from_skims`: the :class:`~hubopt.matrices.Matrices` record. ``costs``
  is the generalized cost of the matrix (``[network.weights]``); ``demand_minutes`` the
  matrix's times (whatever modes the planner's model used, not road only); a site
  reaches the modes its candidate-site file says it joins, at 0 minutes; the nearest
  terminal of each mode, motorway junctions and trunk components are unknown, so the
  targets that need them are reported as not measured;
* :func:`straight_legs`: each routed leg as one straight line between its two points
  (mode ``"matrix"``), with the matrix's time, distance (else the great-circle distance)
  and generalized cost.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from hubopt._errors import InfeasibleModelError
from hubopt.case_spec import MODES
from hubopt.matrices import Matrices, case_weights
from hubopt.skims import great_circle_km

if TYPE_CHECKING:
    from hubopt.candidates import Candidates
    from hubopt.case_spec import Case
    from hubopt.demand import DemandPoints
    from hubopt.network import MultimodalNetwork, SnappedPoints
    from hubopt.skims import Skims

MATRIX_MODE = "matrix"
"""The mode of a leg on the planner's matrix, which does not say which modes it uses."""


def matrix_network(case: Case) -> MultimodalNetwork:
    """An empty network (no layers) with the case's profiles, naming the matrix file."""
    from hubopt.network import assemble_network
    from hubopt.profiles import default_profiles, load_profiles

    spec = case.network
    assert spec.matrix is not None
    profiles = load_profiles(spec.profiles) if spec.profiles else default_profiles()
    net = assemble_network({}, profiles=profiles, source=f"matrix {spec.matrix.file}")
    return dataclasses.replace(net, attribution=(
        f"travel times and costs from the case's own matrix {spec.matrix.file.name}; "
        "no network layers"))


def _unsnapped(n: int) -> SnappedPoints:
    from hubopt.network import SnappedPoints

    zero = np.zeros(n)
    return SnappedPoints(ids=tuple(range(n)), node=np.full(n, -1, dtype=np.int64),
                         distance_m=zero, time_h=zero.copy(), cost=zero.copy(),
                         co2_kg=zero.copy(), mode=MATRIX_MODE)


def site_nodes(skims: Skims, cands: Candidates) -> np.ndarray:
    """The matrix node of each site (its demand point when the sites are the demand points)."""
    if skims.shared:
        assert cands.demand_index is not None
        return np.asarray(cands.demand_index, dtype=np.int64)
    return skims.n_demand + np.arange(len(cands), dtype=np.int64)


def matrices_from_skims(case: Case, skims: Skims, demand: DemandPoints,
                        cands: Candidates) -> Matrices:
    """The :class:`~hubopt.matrices.Matrices` of a run on the planner's matrix."""
    weights = case_weights(case)
    costs = skims.generalized(weights)
    np.fill_diagonal(costs, 0.0)
    if not np.isfinite(costs).all():  # pragma: no cover - read_skims checks every value
        a, b = np.argwhere(~np.isfinite(costs))[0]
        msg = f"{skims.file}: no finite cost between {skims.names[a]!r} and {skims.names[b]!r}"
        raise InfeasibleModelError(msg)
    nd, ns = len(demand), len(cands)
    sites = site_nodes(skims, cands)
    demand_minutes = 60.0 * skims.hours()[np.ix_(np.arange(nd), sites)]
    site_mode = np.full((ns, len(MODES)), np.inf)
    for k, modes in enumerate(cands.modes):
        for j, m in enumerate(MODES):
            if m in modes:
                site_mode[k, j] = 0.0
    demand_mode = np.full((nd, len(MODES)), np.nan)
    return Matrices(weights, _unsnapped(nd), _unsnapped(ns), costs, demand_minutes,
                    site_mode, demand_mode, {}, skims.shared, None, 1.0, skims=skims,
                    terminals_known=False)


def straight_legs(case: Case, mx: Matrices, lines: list[dict[str, Any]],
                  demand: DemandPoints, cands: Candidates
                  ) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """The legs of :func:`hubopt.assignment.route_legs` as straight lines on the matrix.

    The same legs in the same order (access lines with a cost: collection, then
    distribution; every inter-hub line), one segment each, and the objective of the
    legs under the mode ``"matrix"``.
    """
    skims = mx.skims
    assert skims is not None
    spec = case.model
    sites = site_nodes(skims, cands)
    lon = np.concatenate([demand.lon, cands.lon])
    lat = np.concatenate([demand.lat, cands.lat])
    gc = great_circle_km(lon, lat)
    nd = len(demand)

    def end(kind: str, i: int) -> tuple[int, int, str, tuple[float, float]]:
        """(matrix node, point index in lon/lat, name, xy)."""
        if kind == "d":
            return i, i, demand.names[i], (float(demand.lon[i]), float(demand.lat[i]))
        return int(sites[i]), nd + i, cands.names[i], (float(cands.lon[i]), float(cands.lat[i]))

    legs: list[tuple[str, Any, Any, float, float]] = []
    for ln in lines:
        if ln["kind"] == "access":
            i, k = ln["from_index"], ln["to_site"]
            if ln["unit_cost_out"] == 0 and ln["unit_cost_in"] == 0:
                continue
            if ln["flow_out"] > 0:
                legs.append(("collect", end("d", i), end("s", k), ln["flow_out"], spec.chi))
            if ln["flow_in"] > 0:
                legs.append(("distribute", end("s", k), end("d", i), ln["flow_in"],
                             spec.delta))
        else:
            legs.append(("inter_hub", end("s", ln["from_site"]), end("s", ln["to_site"]),
                         ln["flow"], spec.alpha))
    total = 0.0
    segments: list[dict[str, Any]] = []
    for leg_id, (kind, a, b, flow, factor) in enumerate(legs, start=1):
        km = np.nan if skims.distance_km is None else float(skims.distance_km[a[0], b[0]])
        if not np.isfinite(km):
            km = float(gc[a[1], b[1]])
        unit = float(mx.costs[a[0], b[0]])
        total += unit * flow * factor
        segments.append({"leg": leg_id, "leg_kind": kind, "from_name": a[2], "to_name": b[2],
                         "flow": float(flow), "mode": MATRIX_MODE, "connector": False,
                         "length_km": km, "time_h": float(skims.time_h[a[0], b[0]]),
                         "unit_cost": unit, "coords": [a[3], b[3]], "seq": 1})
    return segments, ({MATRIX_MODE: total} if legs else {})


__all__ = ["MATRIX_MODE", "matrices_from_skims", "matrix_network", "site_nodes",
           "straight_legs"]
