"""From a case to hubs, flows, routes and a scorecard: the chain behind ``hubopt run``.

Each step is a public function in its own module; this module only runs them in order,
times each one (wall time and the process's peak memory) and reports through
``progress``:

1. ``inputs``: demand points (:mod:`hubopt.demand`), OD flows (:mod:`hubopt.flows`),
   candidate sites from a file (:mod:`hubopt.candidates`), and the infeasibility checks
   that need no network (:func:`hubopt.case_model.check_feasible`);
2. ``network``: the multimodal network (:func:`hubopt.network.build_network`); with
   ``[network] source = "matrix"`` an empty one (:func:`hubopt.matrix_source.matrix_network`),
   the planner's matrix being read and checked in step 1 (:func:`hubopt.skims.read_skims`);
3. ``candidates``: sites from the network's terminals (when the case asks for that);
4. ``matrices``: :func:`hubopt.matrices.compute_matrices` (snapping and travel costs with
   :func:`hubopt.network.snap_points` and :func:`hubopt.costs.travel_costs`), or
   :func:`hubopt.matrix_source.matrices_from_skims` on the planner's matrix;
5. ``model``: :func:`hubopt.case_model.solve_case` (the case's model, built with
   ``from_cost_matrix``, solved, mapped back to sites);
6. ``flows``: :func:`hubopt.assignment.hub_flows` and :func:`hubopt.assignment.route_legs`
   (:func:`hubopt.matrix_source.straight_legs` on the planner's matrix);
7. ``scorecard``: :func:`hubopt.scorecard.score_run`.

:func:`run_case` returns a :class:`RunResult` and writes nothing; writing the outputs is
the separate step :func:`hubopt.outputs.write_outputs`. :func:`validate_case` runs step 1
only (``hubopt validate``).
"""

from __future__ import annotations

import dataclasses
import resource
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hubopt._errors import InfeasibleModelError
from hubopt.assignment import hub_flows, route_legs
from hubopt.candidates import Candidates, candidates_from_case
from hubopt.case import CandidateSource, Case, NetworkSource, load_case
from hubopt.case_model import check_feasible, minimax_objective, site_fixed_costs, solve_case
from hubopt.demand import DemandPoints, demand_from_case, region_bounds, region_polygon
from hubopt.flows import flows_from_case
from hubopt.matrices import Matrices, compute_matrices
from hubopt.matrix_source import matrices_from_skims, matrix_network, straight_legs
from hubopt.records import Solved
from hubopt.scorecard import score_run
from hubopt.skims import Skims, skims_from_case

if TYPE_CHECKING:
    from hubopt.ext_model import ExternalModel
    from hubopt.external import ExternalFlows
    from hubopt.network import MultimodalNetwork
    from hubopt.scorecard import Measures, TargetResult

Progress = Callable[[str], None]
STEPS = ("inputs", "network", "candidates", "matrices", "model", "flows", "scorecard",
         "outputs")
"""The steps of a run, in order (the last one is :func:`hubopt.outputs.write_outputs`)."""


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
        n = STEPS.index(name) + 1 if name in STEPS else len(self.steps) + 1
        total = len(STEPS)
        self.progress(f"[{n}/{total}] {name}: {what} ...")
        start = time.perf_counter()
        yield
        seconds = time.perf_counter() - start
        peak = _peak_mb()
        self.steps.append({"step": name, "seconds": round(seconds, 3),
                           "peak_rss_mb": round(peak, 1)})
        self.progress(f"[{n}/{total}] {name}: done in {seconds:.1f} s "
                      f"(peak memory {peak:.0f} MB)")


def _peak_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


@dataclass(frozen=True)
class Inputs:
    """Demand, flows between demand points, sites when they need no network, and the
    planner's matrix (``[network] source = "matrix"``)."""

    case: Case
    demand: DemandPoints
    flows: np.ndarray
    candidates: Candidates | None
    external: ExternalFlows | None = None  # [external]: markets and their flows
    skims: Skims | None = None  # [network] source = "matrix": the case's own matrix


@dataclass
class RunResult:
    """Everything a run produced (what the output writers consume)."""

    case: Case
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
    warnings: list[str] = field(default_factory=list)
    matrices: Matrices | None = None
    external: ExternalModel | None = None  # [external]: world links, market costs, flows
    markets: list[dict[str, Any]] = field(default_factory=list)  # scorecard "markets"


# ------------------------------------------------------------------------------------------
# step 1: inputs


def load_inputs(case: Case) -> Inputs:
    """Demand, flows, (file or demand) sites, external flows and the case's own matrix;
    raise on infeasibility found without network."""
    from hubopt.external import external_flows_from_case

    demand = demand_from_case(case)
    flows = flows_from_case(case, demand)
    external = external_flows_from_case(case, demand)
    cands = None
    if case.candidates.source != CandidateSource.TERMINALS:
        cands = candidates_from_case(case, demand)
    skims = None
    if case.network.source == NetworkSource.MATRIX:
        assert cands is not None  # sites from a file or the demand points (case schema)
        skims = skims_from_case(case, demand, cands)
    check_feasible(case, demand, flows, cands,
                   external_flow=external.total if external is not None else 0.0)
    return Inputs(case, demand, flows, cands, external, skims)


def validate_case(case: str | Path | Case | None, *, network: bool = False) -> Inputs:
    """Check a case: schema, referenced files and matrix, feasibility without the network.

    With ``network=True``, also build the network and run every check that ``run`` makes
    before solving (:func:`check_with_network`); all problems are raised at once.
    """
    case_obj = case if isinstance(case, Case) else load_case(case)
    inputs = load_inputs(case_obj)
    if network:
        check_with_network(case_obj, inputs)
    return inputs


def check_with_network(case: Case, inputs: Inputs) -> list[str]:
    """Build the network and check what ``run`` checks before solving.

    Candidate sites from terminals (and the existing/excluded site names matched against
    them), p and capacities against those sites, connectors longer than
    ``max_connector_km``, points the network cannot join, and requested modes with empty
    layers. Raises :class:`InfeasibleModelError` with every problem; returns the
    network's warnings.
    """
    from hubopt._errors import HuboptError

    if inputs.skims is not None:  # [network] source = "matrix": no network to build
        return []
    problems: list[str] = []
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        net = network_for_case(case)
    notes = sorted({str(x.message) for x in w})
    empty = [m.value for m, layer in net.layers.items() if layer.is_empty]
    if "road" in empty:
        problems.append(f"{case.path}: region: the road layer is empty (no roads in the "
                        "region: an ocean or a box outside the data?); demand reaches hubs "
                        "by road")
    elif empty:
        notes.append(f"network.modes: the region has no {', '.join(empty)} network; those "
                     "layers are empty")
    cands = inputs.candidates
    if cands is None and "road" not in empty:
        try:
            cands = candidates_from_case(case, inputs.demand, net.terminals)
        except HuboptError as exc:
            problems.append(str(exc))
            # go on without the site names that failed, so the other checks still run
            loose = dataclasses.replace(case, candidates=dataclasses.replace(
                case.candidates, existing=(), excluded=()))
            cands = candidates_from_case(loose, inputs.demand, net.terminals)
        if cands is not None and len(cands) == 0:
            problems.append(no_sites_message(case, net))
            cands = None
    if cands is not None and "road" not in empty:
        try:
            check_feasible(case, inputs.demand, inputs.flows, cands)
        except HuboptError as exc:
            problems.append(str(exc))
        try:
            notes += list(compute_matrices(case, net, inputs.demand, cands).notes)
        except HuboptError as exc:
            problems.append(str(exc))
    if problems:
        raise InfeasibleModelError("\n".join(problems))
    return notes


# ------------------------------------------------------------------------------------------
# step 2: network


def network_for_case(case: Case) -> MultimodalNetwork:
    """Build the case's multimodal network (an empty one for ``source = "matrix"``)."""
    from hubopt.layers import BBox, Source
    from hubopt.network import build_network
    from hubopt.profiles import default_profiles, load_profiles

    spec = case.network
    if spec.source == NetworkSource.MATRIX:
        return matrix_network(case)
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
# the whole run


def run_case(case: str | Path | Case | None = None, *, progress: Progress = _silent
             ) -> RunResult:
    """Run a case end to end (steps 1-7) and return what was computed; write nothing.

    ``case`` is a case file, the name of a built-in case, a loaded :class:`Case`, or
    ``None`` for the built-in default case. Write the outputs with
    :func:`hubopt.outputs.write_outputs`.
    """
    log = StepLog(progress=progress)
    caught: list[str] = []
    case_obj = case if isinstance(case, Case) else load_case(case)
    with log.step("inputs", "demand, flows, candidate sites, feasibility"):
        inputs = load_inputs(case_obj)
        progress(f"      {len(inputs.demand)} demand points, total flow "
                 f"{inputs.flows.sum():,.0f} {case_obj.flows.unit}")
    what = (f"{case_obj.network.source.value} layers {','.join(case_obj.network.modes)}"
            if inputs.skims is None else "none: the case's own matrix")
    with log.step("network", what), warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        net = network_for_case(case_obj)
        caught += sorted({str(x.message) for x in w})
        progress(f"      {net.n_nodes} nodes, {len(net.edges)} edges, "
                 f"{len(net.terminals)} terminals")
    with log.step("candidates", case_obj.candidates.source.value):
        cands = inputs.candidates or candidates_from_case(case_obj, inputs.demand, net.terminals)
        if len(cands) == 0:
            raise InfeasibleModelError(no_sites_message(case_obj, net))
        check_feasible(case_obj, inputs.demand, inputs.flows, cands,
                       external_flow=(inputs.external.total if inputs.external is not None
                                      else 0.0))
        progress(f"      {len(cands)} sites: " + ", ".join(cands.names[:8])
                 + (" ..." if len(cands) > 8 else ""))
    mx_what = ("snapping, least-cost and road-time matrices" if inputs.skims is None
               else f"from {inputs.skims.file.name}")
    with log.step("matrices", mx_what):
        if inputs.skims is not None:
            mx = matrices_from_skims(case_obj, inputs.skims, inputs.demand, cands)
            caught += list(inputs.skims.notes)
        else:
            mx = compute_matrices(case_obj, net, inputs.demand, cands)
            if mx.network is not None:
                net = mx.network  # the snapped edges are split there
            caught += list(mx.notes)
            caught += far_from_network(inputs.demand.names,
                                       mx.demand_snap.distance_m / 1000.0,
                                       "demand point")
            caught += far_from_network(cands.names, mx.site_snap.distance_m / 1000.0,
                                       "candidate site")
        em = None
        if inputs.external is not None:
            from hubopt.ext_model import external_model

            em = external_model(case_obj, net, mx, inputs.demand, inputs.external)
            progress(f"      {len(em.gateways.links)} world links to {em.n_markets} markets, "
                     f"external flow {inputs.external.total:,.0f} {case_obj.flows.unit}")
    with log.step("model", f"{case_obj.model.problem.value}"):
        solved = solve_case(case_obj, inputs.demand, inputs.flows, cands, mx, em)
        progress(f"      {solved.status}: hubs " + ", ".join(cands.names[k] for k in solved.hubs)
                 + f"; objective {solved.objective:,.2f}")
    with log.step("flows", "allocations, inter-hub flows and routes"):
        lines, through, transport = hub_flows(case_obj, inputs.demand, inputs.flows, cands,
                                              mx=mx, solved=solved)
        if mx.skims is not None:
            routes, by_mode = straight_legs(case_obj, mx, lines, inputs.demand, cands)
        else:
            routes, by_mode = route_legs(case_obj, net, mx, lines, inputs.demand, cands)
        fixed_total = _fixed_total(case_obj, cands, solved)
        if solved.covered is None:
            again = (minimax_objective(case_obj, solved)
                     if solved.problem is not None and solved.problem.minimax
                     else transport + fixed_total)
            gap = abs(again - solved.objective)
            if not gap <= 1e-6 * max(1.0, abs(solved.objective)):
                caught.append(f"objective recomputed from the matrix "
                              f"({again:,.4f}) differs from the solver's "
                              f"({solved.objective:,.4f})")
    n_targets = len(case_obj.targets) + (len(case_obj.external.targets)
                                         if case_obj.external is not None else 0)
    with log.step("scorecard", f"{n_targets} targets"):
        measures, results = score_run(case_obj, inputs.demand, cands, mx=mx,
                                      solved=solved, objective_by_mode=by_mode,
                                      transport=transport, fixed_total=fixed_total)
        market_list: list[dict[str, Any]] = []
        if em is not None:
            from hubopt.markets import score_markets

            market_list, market_results = score_markets(case_obj, net, mx, inputs.demand,
                                                        cands, solved, em)
            results = results + market_results
        progress(f"      {sum(r.passed for r in results)} of {len(results)} targets met")
    return RunResult(case=case_obj, demand=inputs.demand, candidates=cands, network=net,
                     flows=inputs.flows, solved=solved, costs=mx.costs,
                     demand_minutes=mx.demand_minutes, site_mode_minutes=mx.site_mode_minutes,
                     lines=lines, routes=routes, throughput=through, measures=measures,
                     results=results, transport_cost=transport, fixed_cost_total=fixed_total,
                     steps=log.steps, warnings=caught, matrices=mx, external=em,
                     markets=market_list)


FAR_KM = 10.0


def no_sites_message(case: Case, net: MultimodalNetwork) -> str:
    """Why no terminal cluster makes a site, naming the requested modes the region lacks."""
    empty = [m.value for m, layer in net.layers.items() if layer.is_empty]
    lacks = (f"; the region has no {', '.join(empty)} network, so at most "
             f"{len(net.layers) - len(empty)} modes can meet" if empty else "")
    return (f"{case.path}: candidates: infeasible: no candidate site (no terminal cluster "
            f"joins candidates.min_modes = {case.candidates.min_modes} modes{lacks})")


def far_from_network(names: tuple[str, ...], km: np.ndarray, what: str) -> list[str]:
    """A warning when points lie more than :data:`FAR_KM` from the road network.

    ``km`` is each point's distance to the nearest road edge it snapped to (the
    perpendicular; the connector is priced at ``connector_detour`` times it)."""
    far = np.flatnonzero(np.asarray(km) > FAR_KM)
    if not len(far):
        return []
    worst = int(far[np.argmax(np.asarray(km)[far])])
    return [f"{len(far)} {what}(s) lie more than {FAR_KM:g} km from the road network "
            f"(farthest: {names[worst]}, {float(km[worst]):.1f} km to the nearest road); check the "
            f"region and the data"]


def _fixed_total(case: Case, cands: Candidates, solved: Solved) -> float:
    return float(sum(site_fixed_costs(case, cands)[k] for k in solved.hubs))


__all__ = [
    "STEPS",
    "Inputs",
    "RunResult",
    "StepLog",
    "check_with_network",
    "far_from_network",
    "load_inputs",
    "network_for_case",
    "no_sites_message",
    "run_case",
    "validate_case",
]
