"""Flows through the hubs of a solved case: allocation lines, throughput and routes.

:func:`hub_flows` turns a :class:`~hubopt.records.Solved` into lines (demand point to
hub, ``access``; hub to hub, ``inter_hub``) with their flow and cost, the throughput of
every site, and the transport cost, which comes from the models' one evaluator
(:mod:`hubopt.models.evaluate`); the line costs add up to it. :func:`route_legs` finds
the least-cost path of every line with :func:`hubopt.costs.shortest_paths` and splits
it into same-mode segments, with the objective split by mode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from hubopt.costs import NetworkPath, shortest_paths

if TYPE_CHECKING:
    from hubopt.candidates import Candidates
    from hubopt.case import Case
    from hubopt.demand import DemandPoints
    from hubopt.matrices import Matrices
    from hubopt.network import MultimodalNetwork, SnappedPoints
    from hubopt.records import Solved


def transport_cost(solved: Solved) -> float:
    """The solution's transport cost, recomputed from the matrix (no fixed costs).

    ``nan`` when the solution carries no model data.
    """
    from hubopt.models.evaluate import multiple_allocation_od_costs, single_allocation_od_costs

    if solved.data is None or solved.allocation is None:
        return float("nan")
    alloc = np.asarray(solved.allocation)
    if alloc.ndim == 1:
        return float(single_allocation_od_costs(solved.data, alloc).sum())
    return float(multiple_allocation_od_costs(solved.data, alloc).sum())


def hub_flows(case: Case, demand: DemandPoints, flows: np.ndarray, cands: Candidates, *,
              mx: Matrices, solved: Solved) -> tuple[list[dict[str, Any]], np.ndarray, float]:
    """Allocation and inter-hub lines with flow and cost; throughput per site; transport cost.

    Line costs add up to the transport part of the objective:
    ``sum_ij W_ij (chi C_ik + alpha C_km + delta C_mj)``.
    """
    spec = case.model
    nd, ns = len(demand), len(cands)
    off = 0 if mx.shared else nd
    C = mx.costs
    lines: list[dict[str, Any]] = []
    through = np.zeros(ns)
    out_f = np.zeros((nd, ns))
    in_f = np.zeros((nd, ns))
    inter = np.zeros((ns, ns))
    if solved.single is not None:
        a = solved.single
        out_f[np.arange(nd), a] = flows.sum(axis=1)
        in_f[np.arange(nd), a] = flows.sum(axis=0)
        np.add.at(inter, (a[:, None].repeat(nd, 1), a[None, :].repeat(nd, 0)), flows)
        ii, jj = np.nonzero(flows > 0)
        np.add.at(through, a[ii], flows[ii, jj])
        other = a[jj] != a[ii]
        np.add.at(through, a[jj][other], flows[ii, jj][other])
    else:
        assert solved.multiple is not None
        first, last = solved.multiple[:, :, 0], solved.multiple[:, :, 1]
        ii, jj = np.nonzero(flows > 0)
        for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
            k, m, w = int(first[i, j]), int(last[i, j]), float(flows[i, j])
            out_f[i, k] += w
            in_f[j, m] += w
            inter[k, m] += w
            through[k] += w
            if m != k:
                through[m] += w
    for i in range(nd):
        for k in np.flatnonzero((out_f[i] > 0) | (in_f[i] > 0)).tolist():
            cost = (spec.chi * C[i, off + k] * out_f[i, k]
                    + spec.delta * C[off + k, i] * in_f[i, k])
            lines.append({"kind": "access", "from_index": i, "to_site": k,
                          "flow": float(out_f[i, k] + in_f[i, k]), "flow_out": float(out_f[i, k]),
                          "flow_in": float(in_f[i, k]), "unit_cost_out": float(C[i, off + k]),
                          "unit_cost_in": float(C[off + k, i]), "cost": float(cost)})
    if solved.single is not None:  # every demand point appears, even one without flow
        seen = {ln["from_index"] for ln in lines}
        for i in range(nd):
            if i not in seen:
                k = int(solved.single[i])
                lines.append({"kind": "access", "from_index": i, "to_site": k, "flow": 0.0,
                              "flow_out": 0.0, "flow_in": 0.0,
                              "unit_cost_out": float(C[i, off + k]),
                              "unit_cost_in": float(C[off + k, i]), "cost": 0.0})
    for k, m in zip(*np.nonzero(inter > 0), strict=True):
        if k == m:
            continue
        cost = spec.alpha * C[off + k, off + m] * inter[k, m]
        lines.append({"kind": "inter_hub", "from_site": int(k), "to_site": int(m),
                      "flow": float(inter[k, m]), "flow_out": float(inter[k, m]), "flow_in": 0.0,
                      "unit_cost_out": float(C[off + k, off + m]), "unit_cost_in": 0.0,
                      "cost": float(cost)})
    if solved.covered is not None:  # coverage: say which points reach their hub in time
        for ln in lines:
            if ln["kind"] == "access":
                i, k = ln["from_index"], ln["to_site"]
                ln["minutes"] = float(mx.demand_minutes[i, k])
                ln["covered"] = bool(solved.covered[i])
    lines.sort(key=lambda ln: (ln["kind"], ln.get("from_index", -1), ln.get("from_site", -1),
                               ln["to_site"]))
    transport = transport_cost(solved)
    if np.isnan(transport):  # coverage: the lines' own costs
        transport = float(sum(ln["cost"] for ln in lines))
    return lines, through, transport


class _End:
    """One end of a leg: network node, connector and the point itself."""

    def __init__(self, snap: SnappedPoints, i: int, xy: tuple[float, float],
                 gen_cost: float, km: float) -> None:
        self.node = int(snap.node[i])
        self.km = km
        self.time_h = float(snap.time_h[i])
        self.gen_cost = gen_cost
        self.xy = xy


def route_legs(case: Case, net: MultimodalNetwork, mx: Matrices, lines: list[dict[str, Any]],
               demand: DemandPoints, cands: Candidates
               ) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Least-cost paths of every leg with flow (segments by mode), and the objective by mode.

    Segment ``flow`` is the flow on the leg; the split by mode weighs each leg's cost by its
    flow and by chi (collection), alpha (inter-hub) or delta (distribution).
    """
    spec = case.model
    d_conn, d_km = mx.connector_cost(mx.demand_snap), mx.connector_km(mx.demand_snap)
    s_conn, s_km = mx.connector_cost(mx.site_snap), mx.connector_km(mx.site_snap)

    def dem(i: int) -> _End:
        return _End(mx.demand_snap, i, (float(demand.lon[i]), float(demand.lat[i])),
                    float(d_conn[i]), float(d_km[i]))

    def site(k: int) -> _End:
        return _End(mx.site_snap, k, (float(cands.lon[k]), float(cands.lat[k])),
                    float(s_conn[k]), float(s_km[k]))

    legs: list[tuple[str, str, str, _End, _End, float, float]] = []
    for ln in lines:
        if ln["kind"] == "access":
            i, k = ln["from_index"], ln["to_site"]
            dn, sn = demand.names[i], cands.names[k]
            if ln["unit_cost_out"] == 0 and ln["unit_cost_in"] == 0:
                continue  # the demand point is the hub itself: no leg to route
            if ln["flow_out"] > 0:
                legs.append(("collect", dn, sn, dem(i), site(k), ln["flow_out"], spec.chi))
            if ln["flow_in"] > 0:
                legs.append(("distribute", sn, dn, site(k), dem(i), ln["flow_in"], spec.delta))
        else:
            k, m = ln["from_site"], ln["to_site"]
            legs.append(("inter_hub", cands.names[k], cands.names[m], site(k), site(m),
                         ln["flow"], spec.alpha))
    paths = _paths(net, mx, [(a.node, b.node) for _, _, _, a, b, _, _ in legs])
    edge_cost = mx.weights.combine(net.edges["time_h"], net.edges["cost"], net.edges["co2_kg"])
    by_mode: dict[str, float] = {}
    segments: list[dict[str, Any]] = []
    for leg_id, ((kind, a_name, b_name, a, b, flow, factor), path) in enumerate(
            zip(legs, paths, strict=True)):
        split: dict[str, float] = {"road": a.gen_cost + b.gen_cost}
        for eid, m in zip(path.edges, path.edge_modes, strict=True):
            split[m] = split.get(m, 0.0) + float(edge_cost[eid])
        for mode, c in split.items():
            by_mode[mode] = by_mode.get(mode, 0.0) + c * flow * factor
        base = {"leg": leg_id + 1, "leg_kind": kind, "from_name": a_name, "to_name": b_name,
                "flow": float(flow)}
        segments.extend(_segments(net, path, edge_cost, base, a, b))
    return segments, dict(sorted(by_mode.items()))


def _paths(net: MultimodalNetwork, mx: Matrices, pairs: list[tuple[int, int]]
           ) -> list[NetworkPath]:
    """The least-cost path of every (origin, destination) pair: one search per origin."""
    by_origin: dict[int, list[int]] = {}
    for s, t in pairs:
        by_origin.setdefault(s, []).append(t)
    found: dict[tuple[int, int], NetworkPath] = {}
    for s, ts in by_origin.items():
        uniq = sorted(set(ts))
        for t, path in zip(uniq, shortest_paths(net, s, uniq, weights=mx.weights), strict=True):
            if path is None:
                msg = f"node {t} is not reachable from node {s}"
                raise ValueError(msg)
            found[(s, t)] = path
    return [found[p] for p in pairs]


def _segments(net: MultimodalNetwork, path: NetworkPath, edge_cost: np.ndarray,
              base: dict[str, Any], a: _End, b: _End) -> list[dict[str, Any]]:
    """Runs of same-mode edges along a leg, with the two connectors as road segments."""
    e = net.edges
    geoms = e.geometry.to_numpy()
    node_x = net.nodes["x"].to_numpy(dtype=float)
    node_y = net.nodes["y"].to_numpy(dtype=float)
    runs: list[tuple[str, list[int]]] = []
    for eid, m in zip(path.edges, path.edge_modes, strict=True):
        if runs and runs[-1][0] == m:
            runs[-1][1].append(eid)
        else:
            runs.append((m, [eid]))
    a_node = (float(node_x[a.node]), float(node_y[a.node]))
    b_node = (float(node_x[b.node]), float(node_y[b.node]))
    out: list[dict[str, Any]] = [{
        **base, "mode": "road", "connector": True, "length_km": a.km, "time_h": a.time_h,
        "unit_cost": a.gen_cost, "coords": [a.xy, a_node]}]
    lengths = e["length_m"].to_numpy(dtype=float)
    times = e["time_h"].to_numpy(dtype=float)
    for m, eids in runs:
        coords: list[tuple[float, float]] = []
        for eid in eids:
            for xy in geoms[eid].coords:
                pt = (float(xy[0]), float(xy[1]))
                if not coords or coords[-1] != pt:
                    coords.append(pt)
        if len(coords) < 2:
            coords = coords * 2
        out.append({**base, "mode": m, "connector": False,
                    "length_km": float(lengths[eids].sum()) / 1000.0,
                    "time_h": float(times[eids].sum()),
                    "unit_cost": float(edge_cost[eids].sum()), "coords": coords})
    out.append({**base, "mode": "road", "connector": True, "length_km": b.km,
                "time_h": b.time_h, "unit_cost": b.gen_cost, "coords": [b_node, b.xy]})
    for seq, seg in enumerate(out, start=1):
        seg["seq"] = seq
    return out


__all__ = ["hub_flows", "route_legs", "transport_cost"]
