"""From a case to hubs, routes, a scorecard and GIS layers: the chain behind ``hubopt run``.

Steps (each timed, with the process's peak memory, and reported through ``progress``):

1. ``inputs``: demand points, OD flows, candidate sites from a file; infeasibility checks
   that need no network (p larger than the candidates, capacities below the demand,
   targets that no configuration can reach);
2. ``network``: the multimodal network (:func:`hubopt.network.build_network`);
3. ``candidates``: sites from the network's terminals (when the case asks for that);
4. ``matrices``: points snapped to the road network; generalized-cost matrix between
   model nodes; road travel times; terminal reach;
5. ``model``: the hub model (engine) or the coverage model, solved;
6. ``flows``: allocations, inter-hub flows, least-cost routes, objective split by mode;
7. ``scorecard``: measures and targets;
8. ``outputs``: GeoJSON layers, network.gpkg, scorecard.json, report.md + map.png,
   run.json.

:func:`validate_case` runs step 1 only (``hubopt validate``); :func:`run_case` runs all.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hubopt._errors import InfeasibleModelError, OutputExistsError
from hubopt._routing import Matrices, compute_matrices, motorway_junctions
from hubopt.candidates import Candidates, candidates_from_case
from hubopt.case import (
    CandidateSource,
    Case,
    Metric,
    NetworkSource,
    ProblemKind,
    load_case,
)
from hubopt.demand import DemandPoints, demand_from_case, region_bounds, region_polygon
from hubopt.flows import flows_from_case
from hubopt.scorecard import score_run

if TYPE_CHECKING:
    from hubopt._routing import Leg, Router, Snap
    from hubopt.network import MultimodalNetwork
    from hubopt.scorecard import Measures, TargetResult

Progress = Callable[[str], None]


def _silent(_: str) -> None:
    return None


@dataclass
class StepLog:
    """Wall time and peak memory (MB, process high-water mark) after each step."""

    steps: list[dict[str, Any]] = field(default_factory=list)
    progress: Progress = _silent

    @contextmanager
    def step(self, name: str, what: str) -> Iterator[None]:
        """Time one step and report it."""
        n = len(self.steps) + 1
        self.progress(f"[{n}/8] {name}: {what} ...")
        start = time.perf_counter()
        yield
        seconds = time.perf_counter() - start
        peak = _peak_mb()
        self.steps.append({"step": name, "seconds": round(seconds, 3),
                           "peak_rss_mb": round(peak, 1)})
        self.progress(f"[{n}/8] {name}: done in {seconds:.1f} s (peak memory {peak:.0f} MB)")


def _peak_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


@dataclass(frozen=True)
class Inputs:
    """Demand, flows between demand points, and sites when they need no network."""

    case: Case
    demand: DemandPoints
    flows: np.ndarray
    candidates: Candidates | None


@dataclass(frozen=True)
class Solved:
    """The model's answer in site terms (indices into the candidate sites)."""

    hubs: tuple[int, ...]
    single: np.ndarray | None  # (n_demand,) site index of each demand point
    multiple: np.ndarray | None  # (n_demand, n_demand, 2) first and last site per OD pair
    objective: float
    bound: float
    gap: float
    status: str
    seconds: float
    method: str
    covered: np.ndarray | None = None  # coverage model: demand points covered


@dataclass
class RunResult:
    """Everything a run produced (what the output writers consume)."""

    case: Case
    out: Path
    demand: DemandPoints
    candidates: Candidates
    network: MultimodalNetwork
    flows: np.ndarray
    solved: Solved
    costs: np.ndarray  # (n_model, n_model) generalized cost between model nodes
    demand_minutes: np.ndarray  # road minutes demand x sites
    site_mode_minutes: np.ndarray  # minutes from each site to the nearest terminal per mode
    lines: list[dict[str, Any]]  # allocation and inter-hub lines
    routes: list[dict[str, Any]]  # route segments
    throughput: np.ndarray  # per site
    measures: Measures
    results: tuple[TargetResult, ...]
    transport_cost: float
    fixed_cost_total: float
    steps: list[dict[str, Any]]
    options: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------
# step 1: inputs


def load_inputs(case: Case) -> Inputs:
    """Demand, flows and (file or demand) sites; raise on infeasibility found without network."""
    demand = demand_from_case(case)
    flows = flows_from_case(case, demand)
    cands = None
    if case.candidates.source != CandidateSource.TERMINALS:
        cands = candidates_from_case(case, demand)
    check_feasible(case, demand, flows, cands)
    return Inputs(case, demand, flows, cands)


def check_feasible(case: Case, demand: DemandPoints, flows: np.ndarray,
                   cands: Candidates | None) -> None:
    """Raise :class:`InfeasibleModelError` listing every reason no solution can exist."""
    reasons: list[str] = []
    src = str(case.path)
    model = case.model
    if cands is not None:
        allowed = cands.allowed
        if model.p is not None and model.p > len(allowed):
            reasons.append(f"{src}: model.p: infeasible: p = {model.p} hubs asked but only "
                           f"{len(allowed)} candidate sites may open ({len(cands)} sites, "
                           f"{len(cands.excluded)} excluded)")
        if model.problem == ProblemKind.CSAHLP:
            cap = _site_values(cands, cands.capacity, model.capacity)
            total_cap = float(cap[list(allowed)].sum()) if allowed else 0.0
            demand_total = float(flows.sum())
            if total_cap < demand_total:
                reasons.append(
                    f"{src}: model.capacity: infeasible: the {len(allowed)} candidate sites "
                    f"can handle {total_cap:g} {case.flows.unit} together, less than the "
                    f"total flow {demand_total:g} {case.flows.unit}")
    n_hubs_max = model.p if model.p is not None else (len(cands.allowed) if cands else None)
    for t in case.targets:
        if t.metric == Metric.FULL_HUB_COUNT and n_hubs_max is not None:
            need = t.threshold + (1 if t.operator == ">" else 0)
            if t.operator in (">=", ">", "==") and need > n_hubs_max:
                what = "p" if model.p is not None else "the number of candidate sites"
                reasons.append(f"{src}: {t.field}.threshold: infeasible target {t.id!r}: "
                               f"{t.operator} {t.threshold:g} full four-mode hubs asked but "
                               f"{what} = {n_hubs_max}, so no configuration can reach it")
    if reasons:
        raise InfeasibleModelError("\n".join([f"{src}: infeasible model:", *(
            "  - " + r for r in reasons)]))


def _site_values(cands: Candidates, per_site: np.ndarray | None, uniform: float | None
                 ) -> np.ndarray:
    if per_site is not None:
        return np.asarray(per_site, dtype=float)
    return np.full(len(cands), float(uniform or 0.0))


def validate_case(case: str | Path | None) -> Inputs:
    """Check a case (schema, referenced files, feasibility without the network)."""
    return load_inputs(load_case(case))


# ------------------------------------------------------------------------------------------
# step 2: network


def network_for_case(case: Case) -> MultimodalNetwork:
    """Build the case's multimodal network."""
    from hubopt.layers import BBox, Source
    from hubopt.network import build_network
    from hubopt.profiles import default_profiles, load_profiles

    spec = case.network
    profiles = load_profiles(spec.profiles) if spec.profiles else default_profiles()
    region = case.region
    world = spec.source == NetworkSource.WORLD
    if spec.source == NetworkSource.FILE:
        assert region.osm_file is not None
        source = Source.infer(region.osm_file)
    elif region.polygon is not None and not world:
        source = Source.from_polygon(region_polygon(case))
    elif region.bbox is not None or region.polygon is not None:
        source = Source.from_bbox(BBox(*region_bounds(case)))
    else:
        assert region.place is not None
        source = Source.from_place(region.place)
    return build_network(source=source, modes=list(spec.modes), profiles=profiles, world=world)


# ------------------------------------------------------------------------------------------
# step 5: model


def solve_model(case: Case, demand: DemandPoints, flows: np.ndarray, cands: Candidates,
                mx: Matrices) -> Solved:
    """Solve the case's model; return hubs and allocations in site indices."""
    from hubopt._errors import ModelSpecificationError

    spec = case.model
    nd, ns = len(demand), len(cands)
    if spec.problem == ProblemKind.COVERAGE:
        from hubopt.coverage import CoverageModel

        assert spec.coverage_minutes is not None
        cm = CoverageModel(mx.demand_minutes, demand.weight, spec.coverage_minutes, p=spec.p,
                           share=spec.coverage_share, fixed_hubs=cands.existing,
                           excluded=cands.excluded)
        try:
            cs = cm.solve(time_limit=spec.time_limit, seed=spec.seed)
        except InfeasibleModelError as exc:
            field = "model.share" if spec.coverage_share is not None else "model.p"
            msg = f"{case.path}: {field}: infeasible: {exc}"
            raise InfeasibleModelError(msg) from exc
        return Solved(cs.hubs, cs.allocation, None, cs.objective, cs.bound, cs.gap, cs.status,
                      cs.seconds, cs.method, covered=cs.covered)
    from hubopt.models import Problem, SolveParameters, Status, build_model

    n = nd if mx.shared else nd + ns
    offset = 0 if mx.shared else nd
    W = np.zeros((n, n))
    W[:nd, :nd] = flows
    fixed_hubs = tuple(offset + k for k in cands.existing)
    excluded = tuple(offset + k for k in cands.excluded)
    if not mx.shared:
        excluded = tuple(range(nd)) + excluded
    kwargs: dict[str, Any] = {"chi": spec.chi, "alpha": spec.alpha, "delta": spec.delta,
                              "fixed_hubs": fixed_hubs, "excluded": excluded}
    if spec.problem.uses_p:
        kwargs["p"] = spec.p
    if spec.problem.uses_fixed_costs:
        f = np.zeros(n)
        f[offset:offset + ns] = _site_values(cands, cands.fixed_cost, spec.fixed_cost)
        kwargs["fixed_costs"] = f
    if spec.problem == ProblemKind.CSAHLP:
        cap = np.zeros(n)
        cap[offset:offset + ns] = _site_values(cands, cands.capacity, spec.capacity)
        kwargs["capacities"] = cap
    try:
        model = build_model(Problem(spec.problem.value), mx.costs, W, **kwargs)
        sol = model.solve(SolveParameters(time_limit=spec.time_limit, seed=spec.seed))
    except (ModelSpecificationError, InfeasibleModelError) as exc:
        msg = f"{case.path}: model: infeasible {spec.problem.value} model: {exc}"
        raise InfeasibleModelError(msg) from exc
    if sol.status in (Status.INFEASIBLE, Status.NO_SOLUTION):
        msg = (f"{case.path}: model: the {spec.problem.value} model has no solution "
               f"(solver status {sol.status.name})")
        raise InfeasibleModelError(msg)
    hubs = tuple(int(h) - offset for h in sol.hubs)
    single = multiple = None
    alloc = np.asarray(sol.allocation)
    if spec.problem.single_allocation:
        single = alloc[:nd].astype(int) - offset
    else:
        multiple = alloc[:nd, :nd].astype(int) - offset
    return Solved(hubs, single, multiple, float(sol.objective), float(sol.bound),
                  float(sol.gap), sol.status.name.lower(), float(sol.seconds), str(sol.method))


# ------------------------------------------------------------------------------------------
# step 6: flows through the hubs


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
        for i in range(nd):
            for j in range(nd):
                if flows[i, j] > 0:
                    through[a[i]] += flows[i, j]
                    if a[j] != a[i]:
                        through[a[j]] += flows[i, j]
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
    transport = 0.0
    for i in range(nd):
        for k in np.flatnonzero((out_f[i] > 0) | (in_f[i] > 0)).tolist():
            cost = (spec.chi * C[i, off + k] * out_f[i, k]
                    + spec.delta * C[off + k, i] * in_f[i, k])
            transport += cost
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
        transport += cost
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
    return lines, through, float(transport)


def route_legs(case: Case, mx: Matrices, lines: list[dict[str, Any]], demand: DemandPoints,
               cands: Candidates) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Least-cost paths of every leg with flow (segments by mode), and the objective by mode.

    Segment ``flow`` is the flow on the leg; the split by mode weighs each leg's cost by its
    flow and by chi (collection), alpha (inter-hub) or delta (distribution).
    """
    spec = case.model
    r = mx.router
    d_xy = list(zip(demand.lon.tolist(), demand.lat.tolist(), strict=True))
    s_xy = list(zip(cands.lon.tolist(), cands.lat.tolist(), strict=True))
    legs: list[tuple[str, str, str, Snap, Snap, tuple[float, float], tuple[float, float],
                     float, float]] = []
    for ln in lines:
        if ln["kind"] == "access":
            i, k = ln["from_index"], ln["to_site"]
            dn, sn = demand.names[i], cands.names[k]
            ds, ss = _pick(mx.demand_snap, i), _pick(mx.site_snap, k)
            if ln["unit_cost_out"] == 0 and ln["unit_cost_in"] == 0:
                continue  # the demand point is the hub itself: no leg to route
            if ln["flow_out"] > 0:
                legs.append(("collect", dn, sn, ds, ss, d_xy[i], s_xy[k], ln["flow_out"],
                             spec.chi))
            if ln["flow_in"] > 0:
                legs.append(("distribute", sn, dn, ss, ds, s_xy[k], d_xy[i], ln["flow_in"],
                             spec.delta))
        else:
            k, m = ln["from_site"], ln["to_site"]
            legs.append(("inter_hub", cands.names[k], cands.names[m], _pick(mx.site_snap, k),
                         _pick(mx.site_snap, m), s_xy[k], s_xy[m], ln["flow"], spec.alpha))
    by_mode: dict[str, float] = {}
    segments: list[dict[str, Any]] = []
    for leg_id, (kind, a_name, b_name, a, b, a_xy, b_xy, flow, factor) in enumerate(legs):
        leg: Leg = r.legs(a, b)[0][0]
        for mode, c in leg.by_mode.items():
            by_mode[mode] = by_mode.get(mode, 0.0) + c * flow * factor
        base = {"leg": leg_id + 1, "leg_kind": kind, "from_name": a_name, "to_name": b_name,
                "flow": float(flow)}
        segments.extend(_segments(r, leg, base, a, b, a_xy=a_xy, b_xy=b_xy))
    return segments, dict(sorted(by_mode.items()))


def _pick(s: Snap, i: int) -> Snap:
    from hubopt._routing import Snap

    return Snap(s.node[i:i + 1], s.km[i:i + 1], s.time_h[i:i + 1], s.gen_cost[i:i + 1])


def _segments(r: Router, leg: Leg, base: dict[str, Any], a: Snap, b: Snap, *,
              a_xy: tuple[float, float], b_xy: tuple[float, float]) -> list[dict[str, Any]]:
    """Runs of same-mode edges along a leg, with the two connectors as road segments."""
    e = r.network.edges
    geoms = e.geometry.to_numpy()
    runs: list[tuple[str, list[int]]] = []
    for eid in leg.edges:
        m = str(r.edge_mode[eid])
        if runs and runs[-1][0] == m:
            runs[-1][1].append(eid)
        else:
            runs.append((m, [eid]))
    a_node = (float(r.node_x[a.node[0]]), float(r.node_y[a.node[0]]))
    b_node = (float(r.node_x[b.node[0]]), float(r.node_y[b.node[0]]))
    out: list[dict[str, Any]] = [{
        **base, "mode": "road", "connector": True, "length_km": float(a.km[0]),
        "time_h": float(a.time_h[0]), "unit_cost": float(a.gen_cost[0]),
        "coords": [a_xy, a_node]}]
    lengths = e["length_m"].to_numpy(dtype=float)
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
                    "time_h": float(r.edge_time[eids].sum()),
                    "unit_cost": float(r.edge_cost[eids].sum()), "coords": coords})
    out.append({**base, "mode": "road", "connector": True, "length_km": float(b.km[0]),
                "time_h": float(b.time_h[0]), "unit_cost": float(b.gen_cost[0]),
                "coords": [b_node, b_xy]})
    for seq, seg in enumerate(out, start=1):
        seg["seq"] = seq
    return out


# ------------------------------------------------------------------------------------------
# the whole run


def prepare_output(case: Case, out: str | Path | None, *, force: bool) -> Path:
    """The output folder; refuse an existing non-empty one unless ``force``."""
    folder = Path(out) if out is not None else (case.output or Path("out") / case.name)
    if folder.exists() and not folder.is_dir():
        msg = f"{folder}: exists and is not a folder"
        raise OutputExistsError(msg)
    if folder.is_dir() and any(folder.iterdir()) and not force:
        msg = f"{folder}: output folder exists and is not empty; pass --force to overwrite it"
        raise OutputExistsError(msg)
    return folder


def run_case(case: str | Path | Case | None = None, *, out: str | Path | None = None,
             force: bool = False, progress: Progress = _silent) -> RunResult:
    """Run a case end to end and write its outputs; return what was computed."""
    import warnings

    from hubopt import outputs

    log = StepLog(progress=progress)
    caught: list[str] = []
    case_obj = case if isinstance(case, Case) else load_case(case)
    folder = prepare_output(case_obj, out, force=force)
    with log.step("inputs", "demand, flows, candidate sites, feasibility"):
        inputs = load_inputs(case_obj)
        progress(f"      {len(inputs.demand)} demand points, total flow "
                 f"{inputs.flows.sum():,.0f} {case_obj.flows.unit}")
    with log.step("network", f"{case_obj.network.source.value} layers "
                  f"{','.join(case_obj.network.modes)}"), warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        net = network_for_case(case_obj)
        caught += sorted({str(x.message) for x in w})
        progress(f"      {net.n_nodes} nodes, {len(net.edges)} edges, "
                 f"{len(net.terminals)} terminals")
    with log.step("candidates", case_obj.candidates.source.value):
        cands = inputs.candidates or candidates_from_case(case_obj, inputs.demand, net.terminals)
        if len(cands) == 0:
            msg = (f"{case_obj.path}: candidates: infeasible: no candidate site (no terminal "
                   f"cluster joins candidates.min_modes = {case_obj.candidates.min_modes} modes)")
            raise InfeasibleModelError(msg)
        check_feasible(case_obj, inputs.demand, inputs.flows, cands)
        progress(f"      {len(cands)} sites: " + ", ".join(cands.names[:8])
                 + (" ..." if len(cands) > 8 else ""))
    with log.step("matrices", "snapping, least-cost and road-time matrices"):
        mx = compute_matrices(case_obj, net, inputs.demand, cands)
        caught += far_from_network(inputs.demand.names, mx.demand_snap.km, "demand point")
        caught += far_from_network(cands.names, mx.site_snap.km, "candidate site")
    with log.step("model", f"{case_obj.model.problem.value}"):
        solved = solve_model(case_obj, inputs.demand, inputs.flows, cands, mx)
        progress(f"      {solved.status}: hubs " + ", ".join(cands.names[k] for k in solved.hubs)
                 + f"; objective {solved.objective:,.2f}")
    with log.step("flows", "allocations, inter-hub flows and routes"):
        lines, through, transport = hub_flows(case_obj, inputs.demand, inputs.flows, cands,
                                              mx=mx, solved=solved)
        routes, by_mode = route_legs(case_obj, mx, lines, inputs.demand, cands)
        fixed_total = _fixed_total(case_obj, cands, solved)
        if solved.covered is None:
            gap = abs(transport + fixed_total - solved.objective)
            if gap > 1e-6 * max(1.0, abs(solved.objective)):
                caught.append(f"objective recomputed from the flows "
                              f"({transport + fixed_total:,.4f}) differs from the solver's "
                              f"({solved.objective:,.4f})")
    with log.step("scorecard", f"{len(case_obj.targets)} targets"):
        measures, results = score_run(case_obj, inputs.demand, inputs.flows, cands, mx=mx,
                                  solved=solved, objective_by_mode=by_mode, transport=transport,
                                  fixed_total=fixed_total)
        progress(f"      {sum(r.passed for r in results)} of {len(results)} targets met")
    result = RunResult(case=case_obj, out=folder, demand=inputs.demand, candidates=cands,
                       network=net, flows=inputs.flows, solved=solved, costs=mx.costs,
                       demand_minutes=mx.demand_minutes,
                       site_mode_minutes=mx.site_mode_minutes, lines=lines, routes=routes,
                       throughput=through, measures=measures, results=results,
                       transport_cost=transport, fixed_cost_total=fixed_total, steps=log.steps,
                       options={"case": str(case_obj.path), "out": str(folder), "force": force},
                       warnings=caught)
    with log.step("outputs", str(folder)):
        outputs.write_outputs(result)
    outputs.write_run_json(result)  # again, with the outputs step timed
    return result


FAR_KM = 10.0


def far_from_network(names: tuple[str, ...], km: np.ndarray, what: str) -> list[str]:
    """A warning when points lie more than :data:`FAR_KM` (connector length) from the roads."""
    far = np.flatnonzero(np.asarray(km) > FAR_KM)
    if not len(far):
        return []
    worst = int(far[np.argmax(np.asarray(km)[far])])
    return [f"{len(far)} {what}(s) lie more than {FAR_KM:g} km from the road network "
            f"(farthest: {names[worst]}, {float(km[worst]):.1f} km by connector); check the "
            f"region and the data"]


def _fixed_total(case: Case, cands: Candidates, solved: Solved) -> float:
    if not case.model.problem.uses_fixed_costs:
        return 0.0
    f = _site_values(cands, cands.fixed_cost, case.model.fixed_cost)
    return float(sum(f[k] for k in solved.hubs))


def site_fixed_costs(case: Case, cands: Candidates) -> np.ndarray:
    """Fixed cost per site (zeros for models without fixed costs)."""
    if not case.model.problem.uses_fixed_costs:
        return np.zeros(len(cands))
    return _site_values(cands, cands.fixed_cost, case.model.fixed_cost)


def site_capacities(case: Case, cands: Candidates) -> np.ndarray | None:
    """Capacity per site (None for uncapacitated models)."""
    if case.model.problem != ProblemKind.CSAHLP:
        return None
    return _site_values(cands, cands.capacity, case.model.capacity)


__all__ = [
    "Inputs",
    "Matrices",
    "RunResult",
    "Solved",
    "StepLog",
    "check_feasible",
    "compute_matrices",
    "hub_flows",
    "load_inputs",
    "motorway_junctions",
    "network_for_case",
    "prepare_output",
    "route_legs",
    "run_case",
    "score_run",
    "site_capacities",
    "site_fixed_costs",
    "solve_model",
    "validate_case",
]
