"""From a case to a model and back: the one adapter between case terms and model terms.

A case speaks of demand points and candidate sites; a hub model of nodes ``0..n-1`` of one
cost matrix. :func:`model_from_case` builds the model with the models' one real
constructor (``from_cost_matrix``): the model nodes are the demand points, then the
candidate sites (unless the sites are the demand points, ``Matrices.shared``), demand
points may not become hubs, existing sites are fixed open and excluded ones closed.
:func:`solve_case` solves it and maps the solution back to site indices
(:class:`~hubopt.records.Solved`). :func:`check_feasible` finds, before any network is
built, the reasons why no solution can exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hubopt._errors import InfeasibleModelError, ModelSpecificationError
from hubopt.case import Metric, ProblemKind
from hubopt.records import Solved

if TYPE_CHECKING:
    from hubopt.candidates import Candidates
    from hubopt.case import Case
    from hubopt.demand import DemandPoints
    from hubopt.ext_model import ExternalModel
    from hubopt.matrices import Matrices
    from hubopt.models import HubCenterModel, HubModel


def site_values(cands: Candidates, per_site: np.ndarray | None, uniform: float | None
                ) -> np.ndarray:
    """Per-site values: the sites' own, else one value for all (0 when none)."""
    if per_site is not None:
        return np.asarray(per_site, dtype=float)
    return np.full(len(cands), float(uniform or 0.0))


def site_fixed_costs(case: Case, cands: Candidates) -> np.ndarray:
    """Fixed cost per site (zeros for models without fixed costs)."""
    if not case.model.problem.uses_fixed_costs:
        return np.zeros(len(cands))
    return site_values(cands, cands.fixed_cost, case.model.fixed_cost)


def site_capacities(case: Case, cands: Candidates) -> np.ndarray | None:
    """Capacity per site (None for uncapacitated models)."""
    if case.model.problem != ProblemKind.CSAHLP:
        return None
    return site_values(cands, cands.capacity, case.model.capacity)


def check_feasible(case: Case, demand: DemandPoints, flows: np.ndarray,
                   cands: Candidates | None, *, external_flow: float = 0.0) -> None:
    """Raise :class:`InfeasibleModelError` listing every reason no solution can exist.

    ``external_flow``: the flow to, from and between ``[external]`` markets, which the
    hubs handle too.
    """
    del demand  # the checks need the flows and the sites only
    reasons: list[str] = []
    src = str(case.path)
    model = case.model
    if cands is not None:
        allowed = cands.allowed
        if model.p is not None and model.p > len(allowed):
            reasons.append(f"{src}: model.p: infeasible: p = {model.p} hubs asked but only "
                           f"{len(allowed)} candidate sites may open ({len(cands)} sites, "
                           f"{len(cands.excluded)} excluded)")
        cap = site_capacities(case, cands)
        if cap is not None:
            total_cap = float(cap[list(allowed)].sum()) if allowed else 0.0
            demand_total = float(flows.sum()) + external_flow
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


def model_flows(flows: np.ndarray, n: int) -> np.ndarray:
    """The (n, n) flows between model nodes: the demand points' flows, zeros for the sites."""
    nd = len(flows)
    W = np.zeros((n, n))
    W[:nd, :nd] = flows
    return W


@dataclass(frozen=True)
class CaseModel:
    """A hub model built from a case, with the map between the two index spaces.

    Model node ``i < n_demand`` is demand point ``i``; site ``k`` is model node
    ``offset + k``.
    """

    model: HubModel | HubCenterModel
    n_demand: int
    offset: int


def model_from_case(case: Case, demand: DemandPoints, flows: np.ndarray, cands: Candidates,
                    mx: Matrices, external: ExternalModel | None = None) -> CaseModel:
    """The case's hub model (not the coverage model) over the run's cost matrix; the
    p-hub center and hub covering models bound the routes between the nodes with flow
    (``max_cost`` in the units of the generalized cost).

    With ``external`` (:mod:`hubopt.ext_model`), the markets follow the sites as model
    nodes that may not be hubs, with their costs and flows; without it the model is the
    internal one alone.
    """
    from hubopt.models import Problem, build_model

    spec = case.model
    nd, ns = len(demand), len(cands)
    n = nd if mx.shared else nd + ns
    offset = 0 if mx.shared else nd
    W = model_flows(flows, n)
    C = mx.costs
    fixed_hubs = tuple(offset + k for k in cands.existing)
    excluded = tuple(offset + k for k in cands.excluded)
    if not mx.shared:
        excluded = tuple(range(nd)) + excluded
    if external is not None:
        C, W = external.extend(mx.costs, W, nd)
        excluded = excluded + tuple(range(n, n + external.n_markets))
        n = C.shape[0]
    kwargs: dict[str, Any] = {"chi": spec.chi, "alpha": spec.alpha, "delta": spec.delta,
                              "fixed_hubs": fixed_hubs, "excluded": excluded}
    if spec.problem.uses_p:
        kwargs["p"] = spec.p
    if spec.problem.uses_max_cost:
        kwargs["max_cost"] = spec.max_cost
    if spec.problem.uses_fixed_costs:
        f = np.zeros(n)
        f[offset:offset + ns] = site_fixed_costs(case, cands)
        kwargs["fixed_costs"] = f
    cap_sites = site_capacities(case, cands)
    if cap_sites is not None:
        cap = np.zeros(n)
        cap[offset:offset + ns] = cap_sites
        kwargs["capacities"] = cap
    try:
        model = build_model(Problem(spec.problem.value), C, W, **kwargs)
    except (ModelSpecificationError, InfeasibleModelError) as exc:
        msg = f"{case.path}: model: infeasible {spec.problem.value} model: {exc}"
        raise InfeasibleModelError(msg) from exc
    return CaseModel(model, nd, offset)


def solve_case(case: Case, demand: DemandPoints, flows: np.ndarray, cands: Candidates,
               mx: Matrices, external: ExternalModel | None = None) -> Solved:
    """Solve the case's model; return hubs and allocations in site indices.

    With ``external``, the model nodes after the sites are the markets (the solution's
    ``allocation`` and ``data`` include them).
    """
    spec = case.model
    if spec.problem == ProblemKind.COVERAGE:
        return _solve_coverage(case, demand, flows, cands, mx, external)
    from hubopt.models import SolveParameters, Status

    cm = model_from_case(case, demand, flows, cands, mx, external)
    if case.resilience.active:
        from hubopt.case_resilience import solve_resilient
        from hubopt.models import HubModel

        if not isinstance(cm.model, HubModel):  # the case reader allows p-hub medians only
            msg = f"{case.path}: resilience: resilient designs exist for usaphmp and umaphmp"
            raise InfeasibleModelError(msg)
        return solve_resilient(case, demand, cands, mx, cm.model, cm.n_demand, cm.offset,
                               SolveParameters(time_limit=spec.time_limit, seed=spec.seed))
    try:
        sol = cm.model.solve(SolveParameters(time_limit=spec.time_limit, seed=spec.seed))
    except (ModelSpecificationError, InfeasibleModelError) as exc:
        where = "model.max_cost" if spec.problem.uses_max_cost else "model"
        msg = f"{case.path}: {where}: infeasible {spec.problem.value} model: {exc}"
        raise InfeasibleModelError(msg) from exc
    if sol.status in (Status.INFEASIBLE, Status.NO_SOLUTION):
        msg = (f"{case.path}: model: the {spec.problem.value} model has no solution "
               f"(solver status {sol.status.name})")
        raise InfeasibleModelError(msg)
    nd, offset = cm.n_demand, cm.offset
    hubs = tuple(int(h) - offset for h in sol.hubs)
    single = multiple = None
    alloc = np.asarray(sol.allocation)
    if sol.problem.single_allocation:
        single = alloc[:nd].astype(int) - offset
    else:
        multiple = alloc[:nd, :nd].astype(int) - offset
    return Solved(hubs, single, multiple, float(sol.objective), float(sol.bound),
                  float(sol.gap), sol.status.name.lower(), float(sol.seconds), str(sol.method),
                  problem=sol.problem, data=cm.model.data, allocation=alloc, offset=offset)


def minimax_objective(case: Case, solved: Solved) -> float:
    """The p-hub center or hub covering objective of ``solved``, recomputed from the
    matrix by the independent evaluator: the largest route cost between demand points
    with flow, or (hub covering) the number of hubs, ``inf`` if a route breaks
    ``max_cost``."""
    from hubopt.models.evaluate import max_route_cost

    assert solved.problem is not None
    assert solved.data is not None
    assert solved.allocation is not None
    hubs = [h + solved.offset for h in solved.hubs]
    worst = max_route_cost(solved.problem, solved.data, hubs, solved.allocation)
    if not solved.problem.covering:
        return worst
    limit = case.model.max_cost
    return float(len(hubs)) if limit is not None and worst <= limit else float("inf")


def _solve_coverage(case: Case, demand: DemandPoints, flows: np.ndarray, cands: Candidates,
                    mx: Matrices, external: ExternalModel | None = None) -> Solved:
    from hubopt.models import CoverageModel, SolveParameters, Status
    from hubopt.models.base import HubData

    spec = case.model
    assert spec.coverage_minutes is not None
    field = "model.share" if spec.coverage_share is not None else "model.p"
    try:
        cm = CoverageModel.from_cost_matrix(
            mx.demand_minutes, demand.weight, minutes=spec.coverage_minutes, p=spec.p,
            share=spec.coverage_share, fixed_hubs=cands.existing, excluded=cands.excluded)
        cs = cm.solve(SolveParameters(time_limit=spec.time_limit, seed=spec.seed))
    except (ModelSpecificationError, InfeasibleModelError) as exc:
        msg = f"{case.path}: {field}: infeasible: {exc}"
        raise InfeasibleModelError(msg) from exc
    if cs.status in (Status.INFEASIBLE, Status.NO_SOLUTION):
        msg = (f"{case.path}: {field}: the coverage model has no solution "
               f"(solver status {cs.status.name})")
        raise InfeasibleModelError(msg)
    # the flows' cost with each point at its hub, for the flows and the failure analysis
    nd = len(demand)
    offset = 0 if mx.shared else nd
    n = mx.costs.shape[0]
    W = model_flows(flows, n)
    C = mx.costs
    if external is not None:  # markets (not in the coverage model) use their cheapest hub
        C, W = external.extend(mx.costs, W, nd)
    alloc = np.arange(C.shape[0])
    alloc[:nd] = np.asarray(cs.allocation, dtype=int) + offset
    if external is not None:
        hubs = np.asarray([h + offset for h in cs.hubs], dtype=int)
        for m in range(n, C.shape[0]):
            alloc[m] = int(hubs[np.argmin(C[m, hubs] + C[hubs, m])])
    data = HubData(costs=C, flows=W, chi=spec.chi, alpha=spec.alpha, delta=spec.delta)
    return Solved(tuple(int(h) for h in cs.hubs), np.asarray(cs.allocation, dtype=int), None,
                  float(cs.objective), float(cs.bound), float(cs.gap), cs.status.value,
                  float(cs.seconds), str(cs.method), covered=cm.covered(cs), data=data,
                  allocation=alloc, offset=offset)


__all__ = ["CaseModel", "check_feasible", "minimax_objective", "model_from_case",
           "site_capacities",
           "site_fixed_costs", "site_values", "solve_case"]
