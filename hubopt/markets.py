"""The scorecard of global connectivity: each market's paths, gateways, modes and targets.

For every demand point ``i`` and market ``m`` (export direction, point -> market):

* **least-cost path**: the solution's own route, point -> its hub ``k`` -> the market's hub
  ``l`` -> the gateway that is cheapest from ``l`` -> world link -> market; its ``cost`` is
  the model's unit cost ``chi C[i,k] + alpha C[k,l] + delta C[l,m]``, its ``time_h`` the
  sum of the legs' path times (least generalized-cost paths on the network, connectors
  included, plus the link's time with the market-side transfer and access);
* **fastest path**: the least travel time over every open hub ``h`` and every link:
  point -> ``h`` -> gateway -> market on fastest network paths (its ``cost`` is that
  path's generalized cost).

``modes`` is the chain of modes of the region part and the world leg (``road>sea``); the
market-side road access is in the time and cost but not in the chain. A market's
``typical`` path is the gateway and chain carrying the most flow (exports plus imports)
among the points' least-cost paths, with flow-weighted mean time and cost.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hubopt.costs import Weights, shortest_paths, travel_costs
from hubopt.external_spec import MarketMetric, MarketTarget
from hubopt.scorecard import _OPS, TargetResult

if TYPE_CHECKING:
    from hubopt.candidates import Candidates
    from hubopt.case import Case
    from hubopt.costs import NetworkPath
    from hubopt.demand import DemandPoints
    from hubopt.ext_model import ExternalModel
    from hubopt.matrices import Matrices
    from hubopt.network import MultimodalNetwork
    from hubopt.records import Solved

TIME = Weights(time=1.0)


def _chain(*parts: Sequence[str]) -> str:
    out: list[str] = []
    for part in parts:
        for m in part:
            if not out or out[-1] != m:
                out.append(m)
    return ">".join(out)


class _Paths:
    """Network paths between node positions, one search per origin and weights."""

    def __init__(self, net: MultimodalNetwork) -> None:
        self.net = net
        self.cache: dict[tuple[int, int, Weights], NetworkPath | None] = {}

    def get(self, a: int, b: int, w: Weights) -> NetworkPath | None:
        key = (a, b, w)
        if key not in self.cache:
            self.cache[key] = shortest_paths(self.net, a, [b], weights=w)[0]
        return self.cache[key]


def _hub_pair(alloc: np.ndarray, i: int, M: int) -> tuple[int, int]:
    """Model nodes (point's hub, market's hub) of point ``i``'s route to market node ``M``."""
    if alloc.ndim == 1:
        return int(alloc[i]), int(alloc[M])
    return int(alloc[i, M, 0]), int(alloc[i, M, 1])


def market_paths(case: Case, net: MultimodalNetwork, mx: Matrices, demand: DemandPoints,
                 cands: Candidates, solved: Solved, em: ExternalModel,
                 paths: _Paths | None = None) -> list[list[dict[str, Any]]]:
    """Per market, per demand point: the least-cost and the fastest path (see module doc)."""
    assert solved.data is not None
    assert solved.allocation is not None
    spec = case.model
    C = solved.data.costs
    alloc = np.asarray(solved.allocation)
    nd, off = len(demand), solved.offset
    n_int = C.shape[0] - em.n_markets
    links = em.gateways.links
    paths = paths or _Paths(net)
    ds, ss = mx.demand_snap, mx.site_snap
    hubs = list(solved.hubs)
    # fastest times: points -> open hubs, open hubs -> gateways
    gw_nodes = np.array([ln.node for ln in links], dtype=np.int64)
    hub_snap_nodes = np.array([int(ss.node[h]) for h in hubs], dtype=np.int64)
    t_ph = travel_costs(net, ds, hub_snap_nodes, weights=TIME, dtype="float64").values
    t_ph = t_ph + ss.time_h[hubs][None, :]
    t_hg = travel_costs(net, hub_snap_nodes, gw_nodes, weights=TIME, dtype="float64").values
    t_hg = t_hg + ss.time_h[hubs][:, None]
    link_t = np.array([ln.time_h for ln in links])
    d_conn = mx.connector_cost(ds)
    s_conn = mx.connector_cost(ss)
    out: list[list[dict[str, Any]]] = []
    for m in range(em.n_markets):
        M = n_int + m
        ls = np.asarray(em.gateways.of_market(m), dtype=int)
        rows: list[dict[str, Any]] = []
        for i in range(nd):
            k, l_ = _hub_pair(alloc, i, M)
            cost = (spec.chi * C[i, k] + spec.alpha * C[k, l_] + spec.delta * C[l_, M]
                    if k != l_ else spec.chi * C[i, k] + spec.delta * C[k, M])
            best = int(ls[np.argmin(em.to_link[l_, ls])])
            ln = links[best]
            sk, sl = k - off, l_ - off
            legs: list[NetworkPath | None] = []
            t = ln.time_h
            if not (mx.shared and sk == i):  # the point is not its own hub
                legs.append(paths.get(int(ds.node[i]), int(ss.node[sk]), mx.weights))
                t += float(ds.time_h[i] + ss.time_h[sk])
            if sl != sk:
                legs.append(paths.get(int(ss.node[sk]), int(ss.node[sl]), mx.weights))
                t += float(ss.time_h[sk] + ss.time_h[sl])
            legs.append(paths.get(int(ss.node[sl]), ln.node, mx.weights))
            t += float(ss.time_h[sl]) + sum(p.time_h for p in legs if p is not None)
            least = {"hubs": [cands.names[sk]] + ([cands.names[sl]] if sl != sk else []),
                     "gateway": ln.gateway, "gateway_mode": ln.mode,
                     "modes": _chain(["road"], *[p.modes for p in legs if p is not None],
                                     [ln.mode]),
                     "time_h": t, "cost": float(cost)}
            # fastest: over open hubs and the market's links
            tot = t_ph[i][:, None] + t_hg[:, ls] + link_t[ls][None, :]
            hpos, lpos = np.unravel_index(int(np.argmin(tot)), tot.shape)
            h, fl = hubs[int(hpos)], links[int(ls[int(lpos)])]
            p1 = paths.get(int(ds.node[i]), int(ss.node[h]), TIME)
            p2 = paths.get(int(ss.node[h]), fl.node, TIME)
            gen = float(d_conn[i] + 2 * s_conn[h]) + fl.cost + sum(
                float(mx.weights.combine(p.time_h, p.money, p.co2_kg))
                for p in (p1, p2) if p is not None)
            fastest = {"hub": cands.names[h], "gateway": fl.gateway, "gateway_mode": fl.mode,
                       "modes": _chain(["road"], *[p.modes for p in (p1, p2) if p is not None],
                                       [fl.mode]),
                       "time_h": float(tot[hpos, lpos]), "cost": gen}
            rows.append({"point": demand.names[i], "least_cost": least, "fastest": fastest,
                         "least_cost_import": _import_path(case, mx, cands, solved, em, paths,
                                                           i, M, m)})
        out.append(rows)
    return out


def _import_path(case: Case, mx: Matrices, cands: Candidates, solved: Solved,
                 em: ExternalModel, paths: _Paths, i: int, M: int, m: int) -> dict[str, Any]:
    """The import direction of the solution's own route: market -> the gateway cheapest to
    the market's hub ``l`` -> ``l`` -> the point's hub ``k`` -> point ``i``; its ``cost``
    is the model's unit cost ``chi C[M,l] + alpha C[l,k] + delta C[k,i]``."""
    assert solved.data is not None
    assert solved.allocation is not None
    spec, C = case.model, solved.data.costs
    l_, k = _hub_pair(np.asarray(solved.allocation), M, i)
    cost = (spec.chi * C[M, l_] + spec.alpha * C[l_, k] + spec.delta * C[k, i]
            if k != l_ else spec.chi * C[M, l_] + spec.delta * C[l_, i])
    ls = np.asarray(em.gateways.of_market(m), dtype=int)
    ln = em.gateways.links[int(ls[np.argmin(em.from_link[ls, l_])])]
    ds, ss, off = mx.demand_snap, mx.site_snap, solved.offset
    sl, sk = l_ - off, k - off
    legs = [paths.get(ln.node, int(ss.node[sl]), mx.weights)]
    t = ln.time_h + float(ss.time_h[sl])
    if sk != sl:
        legs.append(paths.get(int(ss.node[sl]), int(ss.node[sk]), mx.weights))
        t += float(ss.time_h[sl] + ss.time_h[sk])
    if not (mx.shared and sk == i):
        legs.append(paths.get(int(ss.node[sk]), int(ds.node[i]), mx.weights))
        t += float(ss.time_h[sk] + ds.time_h[i])
    t += sum(p.time_h for p in legs if p is not None)
    return {"hubs": [cands.names[sl]] + ([cands.names[sk]] if sk != sl else []),
            "gateway": ln.gateway, "gateway_mode": ln.mode,
            "modes": _chain([ln.mode], *[p.modes for p in legs if p is not None], ["road"]),
            "time_h": t, "cost": float(cost)}


def market_summaries(em: ExternalModel, per_point: list[list[dict[str, Any]]],
                     demand: DemandPoints) -> list[dict[str, Any]]:
    """One entry per market: typical path, gateways, modes and the points' paths."""
    f = em.flows
    mk = f.markets
    out = []
    for m in range(len(mk)):
        w = f.export[:, m] + f.imports[m, :]
        rows = per_point[m]
        by: dict[tuple[str, str, str], float] = {}
        for i, r in enumerate(rows):
            lc = r["least_cost"]
            key = (lc["gateway"], lc["gateway_mode"], lc["modes"])
            by[key] = by.get(key, 0.0) + float(w[i])
        total = float(w.sum())
        weights = w / total if total > 0 else demand.weight / demand.weight.sum()
        top = max(sorted(by), key=lambda k: by[k])
        links = [em.gateways.links[k] for k in em.gateways.of_market(m)]
        modes = sorted({ln.mode for ln in links})
        out.append({
            "market": mk.names[m],
            "lon": float(mk.lon[m]), "lat": float(mk.lat[m]),
            "gateway": top[0], "gateway_mode": top[1], "modes": top[2],
            "time_h": float(sum(wi * r["least_cost"]["time_h"]
                                for wi, r in zip(weights, rows, strict=True))),
            "cost": float(sum(wi * r["least_cost"]["cost"]
                              for wi, r in zip(weights, rows, strict=True))),
            "flow_share_typical": (by[top] / total) if total > 0 else None,
            "flow_export": float(f.export[:, m].sum()),
            "flow_import": float(f.imports[m, :].sum()),
            "flow_transit": float(f.transit[m, :].sum() + f.transit[:, m].sum()),
            "modes_linked": modes,
            "modes_missing": {mode: why for (mm, mode), why in sorted(em.gateways.missing.items())
                              if mm == m},
            "gateways_linked": sorted({ln.gateway for ln in links}),
            "links": [{"gateway": ln.gateway, "mode": ln.mode, "far_end": ln.far_end,
                       "km": ln.km, "access_km": ln.access_km, "time_h": ln.time_h,
                       "money": ln.money, "co2_kg": ln.co2_kg, "cost": ln.cost}
                      for ln in links],
            "paths": rows,
        })
    return out


def gateway_n1_costs(head: np.ndarray, to_link: np.ndarray, links: Sequence[int],
                     failed: Sequence[int], delta: float
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per point: unit cost and link with all of a market's links, and without ``failed``.

    ``head[i]`` is the cost of point ``i``'s route up to its market hub (``chi C[i,k] +
    alpha C[k,l]``); ``to_link`` holds the rows of the points' market hubs (``to_link[i,
    x]``: cost from point ``i``'s market hub to the market through link ``x``). The hubs
    and allocation stay as solved; only the gateway leg is re-chosen among the remaining
    links (``inf`` cost and link ``-1`` when none remains).
    """
    ls = np.asarray(links, dtype=int)
    gone = {int(x) for x in failed}
    rest = np.asarray([x for x in ls if int(x) not in gone], dtype=int)
    j = np.argmin(to_link[:, ls], axis=1)
    rows = np.arange(len(head))
    before = head + delta * to_link[rows, ls[j]]
    if rest.size == 0:
        return before, ls[j], np.full(len(head), np.inf), np.full(len(head), -1)
    k = np.argmin(to_link[:, rest], axis=1)
    return before, ls[j], head + delta * to_link[rows, rest[k]], rest[k]


def gateway_n1(case: Case, mx: Matrices, solved: Solved, em: ExternalModel,
               summaries: list[dict[str, Any]], demand: DemandPoints, paths: _Paths
               ) -> list[dict[str, Any]]:
    """Per market: its flow-weighted typical path when its best gateway (the one carrying
    the most flow) fails, re-routed over the remaining gateways from the same hubs.

    ``gateway_n1_cost_increase_share`` is ``(cost' - cost) / cost`` of the flow-weighted
    mean unit cost (export direction, as the points' least-cost paths); ``None`` (and
    ``gateway_n1_reachable = False``) when no other gateway links the market.
    """
    assert solved.data is not None
    assert solved.allocation is not None
    spec, C = case.model, solved.data.costs
    alloc = np.asarray(solved.allocation)
    nd, off = len(demand), solved.offset
    n_int = C.shape[0] - em.n_markets
    links = em.gateways.links
    ss = mx.site_snap
    f = em.flows
    out = []
    for m, s in enumerate(summaries):
        M = n_int + m
        ls = em.gateways.of_market(m)
        failed = [x for x in ls if links[x].gateway == s["gateway"]]
        head = np.zeros(nd)
        hub_l = np.zeros(nd, dtype=int)
        for i in range(nd):
            k, l_ = _hub_pair(alloc, i, M)
            head[i] = spec.chi * C[i, k] + (spec.alpha * C[k, l_] if k != l_ else 0.0)
            hub_l[i] = l_
        before, old, after, new = gateway_n1_costs(head, em.to_link[hub_l], ls, failed,
                                                   spec.delta)
        w = f.export[:, m] + f.imports[m, :]
        w = w / w.sum() if w.sum() > 0 else demand.weight / demand.weight.sum()
        entry: dict[str, Any] = {"gateway_n1_failed": s["gateway"],
                                 "gateway_n1_reachable": bool((new >= 0).all())}
        if not entry["gateway_n1_reachable"]:
            entry.update({"gateway_n1_gateway": None, "gateway_n1_cost": None,
                          "gateway_n1_time_h": None, "gateway_n1_cost_increase_share": None,
                          "gateway_n1_time_increase_share": None})
            out.append(entry)
            continue

        def last_leg(sl: int, x: int) -> float:
            p = paths.get(int(ss.node[sl]), links[x].node, mx.weights)
            return (p.time_h if p is not None else 0.0) + links[x].time_h

        dt = np.array([last_leg(int(hub_l[i]) - off, int(new[i]))
                       - last_leg(int(hub_l[i]) - off, int(old[i])) for i in range(nd)])
        times = np.array([r["least_cost"]["time_h"] for r in s["paths"]])
        by: dict[str, float] = {}
        for i in range(nd):
            g = links[int(new[i])].gateway
            by[g] = by.get(g, 0.0) + float(w[i])
        c0, c1 = float(w @ before), float(w @ after)
        t0, t1 = float(w @ times), float(w @ (times + dt))
        entry.update({"gateway_n1_gateway": max(sorted(by), key=lambda g: by[g]),
                      "gateway_n1_cost": c1, "gateway_n1_time_h": t1,
                      "gateway_n1_cost_increase_share": (c1 - c0) / c0 if c0 > 0 else 0.0,
                      "gateway_n1_time_increase_share": (t1 - t0) / t0 if t0 > 0 else 0.0})
        out.append(entry)
    return out


def evaluate_market_targets(targets: Sequence[MarketTarget], summaries: list[dict[str, Any]],
                            demand: DemandPoints) -> tuple[TargetResult, ...]:
    """Measure every global-connectivity target and compare it with its threshold."""
    w = demand.weight.astype(float)
    nm = len(summaries)
    results = []
    for t in targets:
        if t.metric == MarketMetric.POPULATION_NEAR_MARKETS:
            assert t.hours is not None
            reached = np.zeros(len(w), dtype=int)
            for s in summaries:
                for i, r in enumerate(s["paths"]):
                    reached[i] += int(r["least_cost"]["time_h"] <= t.hours)
            value = float(w[reached >= t.markets].sum() / w.sum()) if w.sum() else 0.0
        elif t.metric == MarketMetric.MARKETS_MULTIMODAL:
            value = (sum(len(s["modes_linked"]) >= t.count for s in summaries) / nm
                     if nm else 1.0)
        else:  # gateway N-1: the typical path within max_increase when the best gateway fails
            value = (sum(s["gateway_n1_cost_increase_share"] is not None
                         and s["gateway_n1_cost_increase_share"] <= t.max_increase
                         for s in summaries) / nm if nm else 1.0)
        passed = bool(_OPS[t.operator](value, t.threshold)) if math.isfinite(value) else False
        results.append(TargetResult(
            id=t.id, metric=t.metric.value, operator=t.operator, threshold=t.threshold,
            value=value, passed=passed, source=t.source, description=t.description))
    return tuple(results)


def score_markets(case: Case, net: MultimodalNetwork, mx: Matrices, demand: DemandPoints,
                  cands: Candidates, solved: Solved, em: ExternalModel
                  ) -> tuple[list[dict[str, Any]], tuple[TargetResult, ...]]:
    """The ``markets`` list of scorecard.json and the global-connectivity target results."""
    assert case.external is not None
    paths = _Paths(net)
    per_point = market_paths(case, net, mx, demand, cands, solved, em, paths)
    summaries = market_summaries(em, per_point, demand)
    for s, n1 in zip(summaries, gateway_n1(case, mx, solved, em, summaries, demand, paths),
                     strict=True):
        paths_rows = s.pop("paths")
        s.update(n1)
        s["paths"] = paths_rows  # keep the long list last
    return summaries, evaluate_market_targets(case.external.targets, summaries, demand)


__all__ = ["evaluate_market_targets", "gateway_n1", "gateway_n1_costs", "market_paths",
           "market_summaries", "score_markets"]
