"""A case's resilient design and its price: the ``[resilience]`` table of a case at work.

:func:`solve_resilient` solves the case's p-hub median twice over the same model nodes:
the cheapest design (the nominal model) and the resilient design
(:class:`~hubopt.models.resilience.ResilientHubModel`), and reports both side by side
with their nominal cost, their expected cost under single-hub failures, their worst case
under the attack, and their N-1 figures (the worst single failure's cost increase and
the population share that loses hub access within the scorecard's time).  The price of
resilience is the extra nominal cost of the resilient design.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from hubopt._errors import InfeasibleModelError, ModelSpecificationError
from hubopt.records import Solved

if TYPE_CHECKING:
    from hubopt.candidates import Candidates
    from hubopt.case import Case
    from hubopt.demand import DemandPoints
    from hubopt.matrices import Matrices
    from hubopt.models import HubModel, SolveParameters
    from hubopt.models.resilience import ResilientHubModel


def _models(case: Case, model: HubModel) -> dict[str, ResilientHubModel]:
    """The expected-cost and worst-case models over the case's model nodes."""
    from hubopt.models.resilience import ResilienceOptions, ResilientHubModel

    d = model.data
    spec = case.resilience
    out = {}
    for kind in ("expected", "worst"):
        opts = ResilienceOptions(kind, spec.failure_probability, spec.attacks)
        out[kind] = ResilientHubModel.from_cost_matrix(
            d.costs, d.flows, problem=model.problem, p=int(d.p or 0), chi=d.chi,
            alpha=d.alpha, delta=d.delta, fixed_hubs=d.fixed_hubs, excluded=d.excluded,
            resilience=opts)
    return out


def _n1_model(case: Case, model: HubModel, demand: DemandPoints, mx: Matrices,
              n_demand: int, offset: int) -> ResilientHubModel:
    """The model the case solves: its objective (``none``: the nominal cost) and, with
    ``n1_access_minutes``, every demand point (positive weight) keeping two hubs within
    that time on the time matrix."""
    from hubopt.models.resilience import ResilienceOptions, ResilientHubModel

    d = model.data
    spec = case.resilience
    T = spec.n1_access_minutes
    times = weights = None
    if T is not None:
        w = demand.weight.astype(float)
        short = [demand.names[i] for i in range(n_demand)
                 if w[i] > 0 and int((mx.demand_minutes[i] <= T).sum()) < 2]
        if short and not spec.n1_access_relax:
            msg = (f"resilience.n1_access_minutes = {T:g}: demand points {short} have fewer "
                   f"than 2 candidate sites within {T:g} min; no design keeps them within "
                   f"reach after a single hub failure (or set resilience.n1_access_relax = true: "
                   f"every site within reach of them open)")
            raise InfeasibleModelError(msg)
        times = np.full((d.n, d.n), np.inf)
        times[:n_demand, offset : offset + mx.demand_minutes.shape[1]] = mx.demand_minutes
        weights = np.zeros(d.n)
        weights[:n_demand] = w
    opts = ResilienceOptions(
        spec.objective, spec.failure_probability, spec.attacks, n1_access=T,
        n1_relax=spec.n1_access_relax,
        n1_weights=None if weights is None else tuple(weights.tolist()))
    return ResilientHubModel.from_cost_matrix(
        d.costs, d.flows, problem=model.problem, p=int(d.p or 0), chi=d.chi, alpha=d.alpha,
        delta=d.delta, fixed_hubs=d.fixed_hubs, excluded=d.excluded, resilience=opts,
        n1_times=times)


def _design(case: Case, hub_model: HubModel, offset: int, demand: DemandPoints,
            cands: Candidates, mx: Matrices,
            models: dict[str, ResilientHubModel], hubs: tuple[int, ...],
            plans: dict[str, Any], nominal: float) -> dict[str, Any]:
    """Nominal (given: the design's own allocation), expected and worst-case costs and
    N-1 figures of one design (model hubs)."""
    from hubopt.models._resilience_search import sa_plan_for
    from hubopt.models.resilience import attack

    data = hub_model.data
    single = hub_model.problem.single_allocation
    spec = case.resilience
    values: dict[str, float] = {}
    for kind, model in models.items():
        plan = plans.get(kind)
        if single and plan is None:
            plan, _ = sa_plan_for(data, hubs, kind, spec.attacks, model.q)
        values[kind] = model.value(hubs, plan if single else None)[0]
    plan1 = plans.get("expected") if single else None
    if single and plan1 is None:
        plan1, _ = sa_plan_for(data, hubs, "expected", 1, models["expected"].q)
    n1 = attack(data, hubs, 1, plan1 if single else None)
    sites = [h - offset for h in hubs]
    w = demand.weight.astype(float)
    T = case.scorecard.access_minutes
    near = (mx.demand_minutes[:, sites] <= T).any(axis=1)
    lost = 0.0
    for k in sites:
        rest = [s for s in sites if s != k]
        still = (mx.demand_minutes[:, rest] <= T).any(axis=1) if rest else np.zeros_like(near)
        lost = max(lost, float(w[near & ~still].sum()) / float(w.sum()))
    worst_name = ", ".join(cands.names[h - offset] for h in n1.failed)
    return {
        "hubs": [cands.names[s] for s in sites],
        "nominal_cost": float(nominal),
        "expected_cost": values["expected"],
        "worst_case_cost": values["worst"],
        "n1_worst_failure": worst_name,
        "n1_worst_cost_increase_share": n1.increase,
        "n1_worst_population_lost_share": lost,
    }


def solve_resilient(case: Case, demand: DemandPoints, cands: Candidates, mx: Matrices,
                    hub_model: HubModel, n_demand: int, offset: int,
                    params: SolveParameters) -> Solved:
    """Solve the cheapest and the resilient design; return the resilient one, with the
    comparison in ``Solved.resilience``.

    ``objective`` is the resilient design's nominal (no-failure) transport cost, so that
    it agrees with the flows; ``status`` and ``gap`` are those of the resilient solve
    (its objective and bound are in the block), and ``bound`` is NaN: the nominal cost
    was not what the solve minimised.
    """
    from hubopt.models import Status

    spec = case.resilience
    try:
        models = _models(case, hub_model)
        cheap = hub_model.solve(params)
        model = _n1_model(case, hub_model, demand, mx, n_demand, offset)
        sol = model.solve(params)
    except (ModelSpecificationError, InfeasibleModelError) as exc:
        msg = f"{case.path}: resilience: infeasible {spec.objective} design: {exc}"
        if spec.n1_access_minutes is not None:
            msg += f" (with n1_access_minutes = {spec.n1_access_minutes:g})"
        raise InfeasibleModelError(msg) from exc
    if sol.status in (Status.INFEASIBLE, Status.NO_SOLUTION):
        msg = f"{case.path}: resilience: no resilient design found ({sol.status.name})"
        raise InfeasibleModelError(msg)
    single = hub_model.problem.single_allocation
    own_plans = {spec.objective: sol.plan} if single else {}
    resilient = _design(case, hub_model, offset, demand, cands, mx, models, sol.hubs, own_plans,
                        sol.nominal_objective)
    cheapest = _design(case, hub_model, offset, demand, cands, mx, models, cheap.hubs, {},
                       cheap.objective)
    keys = {"expected": "expected_cost", "worst": "worst_case_cost"}
    key = keys.get(spec.objective, "nominal_cost")
    block = {
        "objective": spec.objective,
        "failure_probability": spec.failure_probability if spec.objective == "expected" else None,
        "attacks": spec.attacks if spec.objective == "worst" else None,
        "n1_access_minutes": spec.n1_access_minutes,
        "n1_access_relax": spec.n1_access_relax,
        "method": sol.method,
        "status": sol.status.value,
        "resilient_objective": sol.objective,
        "resilient_bound": sol.bound,
        "resilient_gap": sol.gap,
        "cheapest_status": cheap.status.value,
        "designs": {"resilient": resilient, "cheapest": cheapest},
        "price_of_resilience": (resilient["nominal_cost"] / cheapest["nominal_cost"] - 1
                                if cheapest["nominal_cost"] else math.nan),
        "resilient_cost_saving": (1 - resilient[key] / cheapest[key] if cheapest[key]
                                  else math.nan),
        "failures": ("single allocation: each node's primary/backup plan of the resilient "
                     "design (the cheapest design: a plan found by descent)" if single else
                     "multiple allocation: every OD pair re-routed through the hubs left"),
    }
    nd = n_demand
    alloc = np.asarray(sol.allocation)
    hubs = tuple(int(h) - offset for h in sol.hubs)
    s_alloc = alloc[:nd].astype(int) - offset if single else None
    m_alloc = None if single else alloc[:nd, :nd].astype(int) - offset
    nominal = float(sol.nominal_objective)
    return Solved(hubs, s_alloc, m_alloc, nominal, math.nan, float(sol.gap), sol.status.value,
                  float(sol.seconds + cheap.seconds), f"{sol.method} ({spec.objective})",
                  problem=sol.problem, data=hub_model.data, allocation=alloc, offset=offset,
                  resilience=block)


__all__ = ["solve_resilient"]
