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


def market_paths(case: Case, net: MultimodalNetwork, mx: Matrices, demand: DemandPoints,
                 cands: Candidates, solved: Solved, em: ExternalModel
                 ) -> list[list[dict[str, Any]]]:
    """Per market, per demand point: the least-cost and the fastest path (see module doc)."""
    assert solved.data is not None
    assert solved.allocation is not None
    spec = case.model
    C = solved.data.costs
    alloc = np.asarray(solved.allocation)
    nd, off = len(demand), solved.offset
    n_int = C.shape[0] - em.n_markets
    links = em.gateways.links
    paths = _Paths(net)
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
            if alloc.ndim == 1:
                k, l_ = int(alloc[i]), int(alloc[M])
            else:
                k, l_ = int(alloc[i, M, 0]), int(alloc[i, M, 1])
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
            rows.append({"point": demand.names[i], "least_cost": least, "fastest": fastest})
        out.append(rows)
    return out


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
        else:
            value = (sum(len(s["gateways_linked"]) >= t.count for s in summaries) / nm
                     if nm else 1.0)
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
    per_point = market_paths(case, net, mx, demand, cands, solved, em)
    summaries = market_summaries(em, per_point, demand)
    return summaries, evaluate_market_targets(case.external.targets, summaries, demand)


__all__ = ["evaluate_market_targets", "market_paths", "market_summaries", "score_markets"]
