"""The connectivity scorecard: how far a region with its proposed hubs stands from world class.

Measures (all from travel-time arrays that the pipeline computes on the network):

* population share within T minutes by road of an open hub (and of a terminal of a mode);
* each hub's mode completeness: which of sea, air, rail and road it reaches within X
  minutes by road, and whether it is a full four-mode hub;
* inter-hub connectivity on the trunk modes (rail, sea, air): hub pairs whose nearby
  terminals lie in one connected component of that mode's network;
* resilience (N-1): each hub removed in turn, the transport-cost increase (its flows
  re-routed through the remaining hubs) and the population that loses T-minute access;
* the objective and its split by mode.

:func:`evaluate_targets` turns the measures into a pass/fail line per target with its
metric, operator, threshold, measured value and source. A target that no
configuration of the candidate sites could meet is marked ``unreachable``; one that the
network cannot measure (e.g. motorway junctions on world-scale roads, which have no road
classes) has ``measured`` false and does not pass.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hubopt.case import MODES, TRUNK_MODES, Metric, Target

if TYPE_CHECKING:
    from hubopt.candidates import Candidates
    from hubopt.case import Case
    from hubopt.demand import DemandPoints
    from hubopt.matrices import Matrices
    from hubopt.models.base import HubData
    from hubopt.records import Solved

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
    "==": lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12),
}


@dataclass(frozen=True)
class HubMeasure:
    """Per-hub measures: minutes to each mode, the modes reached, resilience figures."""

    name: str
    site: int
    minutes_to_mode: dict[str, float]
    modes_reached: tuple[str, ...]
    full: bool
    cost_increase: float = 0.0
    cost_increase_share: float = 0.0
    population_lost: float = 0.0
    population_lost_share: float = 0.0


@dataclass(frozen=True)
class TargetResult:
    """A target with its measured value and verdict."""

    id: str
    metric: str
    operator: str
    threshold: float
    value: float
    passed: bool
    source: str
    description: str = ""
    best_possible: float | None = None
    unreachable: bool = False
    measured: bool = True


@dataclass(frozen=True)
class Measures:
    """Every measure of a run, the inputs of :func:`evaluate_targets`."""

    access_minutes: float
    mode_reach_minutes: float
    population_total: float
    population_near_hub: float
    population_near_hub_best: float
    hubs: tuple[HubMeasure, ...]
    trunk_pairs: tuple[tuple[str, str, tuple[str, ...]], ...]
    objective: float
    fixed_cost_total: float
    objective_by_mode: dict[str, float]
    near_terminal: dict[str, dict[float, float]] = field(default_factory=dict)
    urban_nodes: dict[tuple[float, int], tuple[float, int]] = field(default_factory=dict)
    urban_nodes_best: dict[tuple[float, int], tuple[float, int]] = field(default_factory=dict)
    trunk_measured: bool = True  # False: no network (a run on the case's own matrix)
    failure_method: str = ""

    @property
    def trunk_connected_share(self) -> float:
        """Share of hub pairs joined on at least one trunk mode (1.0 with fewer than 2 hubs).

        ``nan`` (not measured) without a network, whose trunk components it needs.
        """
        if not self.trunk_measured:
            return math.nan
        if not self.trunk_pairs:
            return 1.0
        return sum(1 for p in self.trunk_pairs if p[2]) / len(self.trunk_pairs)


def covered_mask(minutes: np.ndarray, cols: Sequence[int], limit: float) -> np.ndarray:
    """Boolean per row: some column in ``cols`` is within ``limit`` minutes."""
    if len(cols) == 0:
        return np.zeros(minutes.shape[0], dtype=bool)
    return np.asarray((minutes[:, list(cols)] <= limit).any(axis=1), dtype=bool)


def share_within(minutes: np.ndarray, weights: np.ndarray, cols: Sequence[int],
                 limit: float) -> float:
    """Weighted share of rows within ``limit`` minutes of a column in ``cols``."""
    total = float(weights.sum())
    if total <= 0:
        return 0.0
    return float(weights[covered_mask(minutes, cols, limit)].sum()) / total


def mode_completeness(site_mode_minutes: np.ndarray, limit: float) -> list[tuple[str, ...]]:
    """For each site row of (n_sites, 4) minutes (MODES order), the modes within ``limit``."""
    return [tuple(m for j, m in enumerate(MODES) if row[j] <= limit)
            for row in np.asarray(site_mode_minutes)]


def trunk_pairs(
    hubs: Sequence[int],
    names: Sequence[str],
    site_components: Mapping[str, Sequence[frozenset[int]]],
) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """Hub pairs and the trunk modes that join them.

    ``site_components[mode][k]`` holds the component labels (in that mode's network) of
    the terminals that site k reaches within the mode-reach time; two hubs are joined
    on a mode when these sets intersect.
    """
    out = []
    for a_pos, a in enumerate(hubs):
        for b in hubs[a_pos + 1:]:
            joined = tuple(m for m in TRUNK_MODES if m in site_components
                           and site_components[m][a] & site_components[m][b])
            out.append((names[a], names[b], joined))
    return tuple(out)


def evaluate_targets(targets: Sequence[Target], m: Measures) -> tuple[TargetResult, ...]:
    """Measure every target and compare it with its threshold."""
    results = []
    for t in targets:
        value, best = _value(t, m)
        passed = bool(_OPS[t.operator](value, t.threshold)) if math.isfinite(value) else False
        unreachable = (not passed and best is not None and math.isfinite(best)
                       and not _OPS[t.operator](best, t.threshold))
        results.append(TargetResult(
            id=t.id, metric=t.metric.value, operator=t.operator, threshold=t.threshold,
            value=value, passed=passed, source=t.source, description=t.description,
            best_possible=best, unreachable=unreachable, measured=math.isfinite(value)))
    return tuple(results)


def _value(t: Target, m: Measures) -> tuple[float, float | None]:
    """The measured value of target ``t`` and, where defined, the best any configuration gets."""
    tot = m.population_total
    if t.metric == Metric.POPULATION_NEAR_HUB:
        assert t.minutes is not None
        if math.isclose(t.minutes, m.access_minutes):
            return (m.population_near_hub / tot if tot else 0.0,
                    m.population_near_hub_best / tot if tot else 0.0)
        near = m.near_terminal.get("hub", {}).get(t.minutes, math.nan)
        best = m.near_terminal.get("hub_best", {}).get(t.minutes)
        return near, best
    if t.metric == Metric.POPULATION_NEAR_TERMINAL:
        assert t.minutes is not None
        assert t.mode is not None
        v = m.near_terminal.get(t.mode, {}).get(t.minutes, math.nan)
        return v, v  # terminals are given by the network: no hub choice changes them
    if t.metric == Metric.POPULATION_NEAR_MOTORWAY:
        assert t.minutes is not None
        v = m.near_terminal.get("motorway", {}).get(t.minutes, math.nan)
        return v, v  # motorway junctions are given by the network
    if t.metric == Metric.FULL_HUB_COUNT:
        return float(sum(1 for h in m.hubs if h.full)), None
    if t.metric == Metric.URBAN_NODE_MULTIMODAL:
        assert t.minutes is not None
        key = (t.minutes, t.min_population)
        served, n = m.urban_nodes.get(key, (0.0, 0))
        best_served, _ = m.urban_nodes_best.get(key, (0.0, 0))
        return (served / n if n else 1.0), (best_served / n if n else 1.0)
    if t.metric == Metric.TRUNK_CONNECTED:
        return m.trunk_connected_share, None
    if t.metric == Metric.RESILIENCE_POPULATION_LOSS:
        return max((h.population_lost_share for h in m.hubs), default=0.0), None
    if t.metric == Metric.RESILIENCE_COST_INCREASE:
        return max((h.cost_increase_share for h in m.hubs), default=0.0), None
    raise AssertionError(t.metric)  # pragma: no cover


# ------------------------------------------------------------------------------------------
# transport cost of a hub network, used for resilience


REASSIGN_SECONDS = 20.0
"""Time limit of each re-optimised single allocation after a failure (the E&K allocation
MIP with the remaining hubs fixed)."""

FAILURE_METHOD = {
    "single": ("single allocation re-optimised after each failure: the best allocation of "
               "every node to the hubs left (allocation descent, then the Ernst & "
               "Krishnamoorthy allocation MIP with the hubs fixed, {proof})"),
    "multiple": "multiple allocation: every OD pair re-routed through the hubs left (exact)",
}


def reassign_after_failure(data: HubData, hubs: Sequence[int], removed: int
                           ) -> tuple[np.ndarray, bool]:
    """The best single allocation to the hubs left when ``removed`` fails: a descent from
    the nearest-hub reassignment, then the allocation MIP (``REASSIGN_SECONDS``), the
    cheaper of the two recomputed from the matrix.  Returns it and whether the MIP proved
    it optimal."""
    from hubopt.models._mip import solve_allocation_mip
    from hubopt.models.base import SolveParameters
    from hubopt.models.evaluate import single_allocation_od_costs
    from hubopt.models.heuristics import improve_allocation

    rest = [int(k) for k in hubs if int(k) != int(removed)]
    start = improve_allocation(data, rest)
    best = start
    cost = float(single_allocation_od_costs(data, start).sum())
    if len(rest) == 1:
        return best, True
    res = solve_allocation_mip(data, rest, SolveParameters(), time_limit=REASSIGN_SECONDS,
                               start=start)
    proven = False
    if res.allocation is not None:
        mip_cost = float(single_allocation_od_costs(data, res.allocation).sum())
        if mip_cost < cost:
            best, cost = res.allocation, mip_cost
        proven = res.proven_optimal and cost <= res.objective * (1 + 1e-7) + 1e-9
    return np.asarray(best, dtype=int), proven


def failure_cost(solved: Solved, site: int) -> float:
    """Transport cost while open hub ``site`` is down, from the models' one evaluator.

    Single allocation: every node is re-allocated to the hubs left, the best allocation
    (:func:`reassign_after_failure`).  Multiple allocation: every OD pair takes its
    cheapest path through the remaining hubs.  ``inf`` when no hub remains.
    """
    return failure_cost_proven(solved, site)[0]


def failure_cost_proven(solved: Solved, site: int) -> tuple[float, bool]:
    """:func:`failure_cost` and whether it is proven to be the best reassignment."""
    from hubopt.models.evaluate import best_routes, single_allocation_od_costs

    assert solved.data is not None
    assert solved.allocation is not None
    off = solved.offset
    hubs = [h + off for h in solved.hubs]
    removed = site + off
    rest = [h for h in hubs if h != removed]
    if not rest:
        return math.inf, True
    data = solved.data
    if solved.single is not None:
        alloc, proven = reassign_after_failure(data, hubs, removed)
        return float(single_allocation_od_costs(data, alloc).sum()), proven
    unit, _ = best_routes(data, rest)
    return float((data.flows * unit).sum()), True


def reallocate_without(C: np.ndarray, alloc: np.ndarray, hubs: Sequence[int], removed: int,
                       allowed_rows: np.ndarray | None = None) -> np.ndarray:
    """Single allocation after hub ``removed`` fails: its nodes go to the cheapest other hub
    (the others keep theirs); the start of a re-optimisation, not its result."""
    rest = [k for k in hubs if k != removed]
    new = np.asarray(alloc, dtype=int).copy()
    if not rest:
        return new
    moved = np.flatnonzero(new == removed)
    if len(moved):
        cand = np.asarray(rest)
        new[moved] = cand[np.argmin(C[np.ix_(moved, cand)], axis=1)]
    return new


def to_dict(
    m: Measures, results: Sequence[TargetResult], extra: Mapping[str, Any]
) -> dict[str, Any]:
    """A JSON-ready scorecard (deterministic key order, no timings)."""

    def clean(v: Any) -> Any:
        if isinstance(v, float):
            return None if not math.isfinite(v) else round(v, 9)
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        if isinstance(v, np.generic):
            return clean(v.item())
        return v

    return clean({
        **extra,
        "access_minutes": m.access_minutes,
        "mode_reach_minutes": m.mode_reach_minutes,
        "objective": m.objective,
        "fixed_cost_total": m.fixed_cost_total,
        "objective_by_mode": m.objective_by_mode,
        "population_total": m.population_total,
        "population_near_hub": m.population_near_hub,
        "population_near_hub_share": (m.population_near_hub / m.population_total
                                      if m.population_total else 0.0),
        "trunk_connected_share": m.trunk_connected_share,
        "targets": [r.__dict__ for r in results],
        "passed": sum(1 for r in results if r.passed),
        "failed": sum(1 for r in results if not r.passed),
        "hubs": [{
            "name": h.name,
            "minutes_to_mode": h.minutes_to_mode,
            "modes_reached": list(h.modes_reached),
            "full_four_mode_hub": h.full,
            "failure_cost_increase": h.cost_increase,
            "failure_cost_increase_share": h.cost_increase_share,
            "failure_population_lost": h.population_lost,
            "failure_population_lost_share": h.population_lost_share,
        } for h in m.hubs],
        "trunk_pairs": [{"a": a, "b": b, "modes": list(ms)} for a, b, ms in m.trunk_pairs],
        "failure_method": m.failure_method,
    })


# ------------------------------------------------------------------------------------------
# the scorecard of a run


def score_run(case: Case, demand: DemandPoints, cands: Candidates, *,
              mx: Matrices, solved: Solved, objective_by_mode: dict[str, float],
              transport: float, fixed_total: float) -> tuple[Measures, tuple[TargetResult, ...]]:
    """All scorecard measures of a run and the verdict on every target."""

    T = case.scorecard.access_minutes
    X = case.scorecard.mode_reach_minutes
    w = demand.weight.astype(float)
    hubs = list(solved.hubs)
    allowed = list(cands.allowed)
    reached = mode_completeness(mx.site_mode_minutes, X)
    near = covered_mask(mx.demand_minutes, hubs, T)
    # resilience: each hub fails in turn
    base_cost = transport
    hub_measures = []
    all_proven = True
    for k in hubs:
        rest = [h for h in hubs if h != k]
        lost = near & ~covered_mask(mx.demand_minutes, rest, T)
        pop_lost = float(w[lost].sum())
        after, proven = failure_cost_proven(solved, k) if rest else (math.inf, True)
        all_proven = all_proven and proven
        inc = after - base_cost
        base = base_cost
        hub_measures.append(HubMeasure(
            name=cands.names[k], site=k,
            minutes_to_mode={m: float(mx.site_mode_minutes[k, j]) for j, m in enumerate(MODES)},
            modes_reached=reached[k], full=len(reached[k]) == len(MODES),
            cost_increase=inc, cost_increase_share=(inc / base if base > 0 else 0.0),
            population_lost=pop_lost, population_lost_share=pop_lost / float(w.sum())))
    near_terminal: dict[str, dict[float, float]] = {"hub": {}, "hub_best": {}}
    urban: dict[tuple[float, int], tuple[float, int]] = {}
    urban_best: dict[tuple[float, int], tuple[float, int]] = {}
    multimodal = [k for k in range(len(cands)) if {"rail", "sea"} & set(reached[k])]
    for t in case.targets:
        if t.metric == Metric.POPULATION_NEAR_TERMINAL and t.minutes and t.mode:
            j = MODES.index(t.mode)
            ok = mx.demand_mode_minutes[:, j] <= t.minutes
            near_terminal.setdefault(t.mode, {})[t.minutes] = (
                float(w[ok].sum() / w.sum()) if mx.terminals_known else math.nan)
        if t.metric == Metric.POPULATION_NEAR_MOTORWAY and t.minutes:
            mm = mx.demand_motorway_minutes
            near_terminal.setdefault("motorway", {})[t.minutes] = (
                math.nan if mm is None else float(w[mm <= t.minutes].sum() / w.sum()))
        if t.metric == Metric.POPULATION_NEAR_HUB and t.minutes:
            near_terminal["hub"][t.minutes] = share_within(mx.demand_minutes, w, hubs,
                                                              t.minutes)
            near_terminal["hub_best"][t.minutes] = share_within(mx.demand_minutes, w,
                                                                   allowed, t.minutes)
        if t.metric == Metric.URBAN_NODE_MULTIMODAL and t.minutes:
            urb = w >= t.min_population
            open_mm = [k for k in hubs if k in multimodal]
            best_mm = [k for k in allowed if k in multimodal]
            served = covered_mask(mx.demand_minutes, open_mm, t.minutes) & urb
            best = covered_mask(mx.demand_minutes, best_mm, t.minutes) & urb
            urban[(t.minutes, t.min_population)] = (float(served.sum()), int(urb.sum()))
            urban_best[(t.minutes, t.min_population)] = (float(best.sum()), int(urb.sum()))
    measures = Measures(
        access_minutes=T, mode_reach_minutes=X, population_total=float(w.sum()),
        population_near_hub=float(w[near].sum()),
        population_near_hub_best=float(w[covered_mask(mx.demand_minutes, allowed, T)].sum()),
        hubs=tuple(hub_measures),
        trunk_pairs=trunk_pairs(hubs, cands.names, mx.site_components),
        objective=solved.objective, fixed_cost_total=fixed_total,
        objective_by_mode=objective_by_mode, near_terminal=near_terminal, urban_nodes=urban,
        urban_nodes_best=urban_best, trunk_measured=mx.terminals_known,
        failure_method=(FAILURE_METHOD["single"].format(
            proof="proven optimal for every failure" if all_proven else
            f"not proven within {REASSIGN_SECONDS:g} s for every failure: best found")
            if solved.single is not None else FAILURE_METHOD["multiple"]))
    return measures, evaluate_targets(case.targets, measures)


__all__ = [
    "HubMeasure",
    "Measures",
    "TargetResult",
    "covered_mask",
    "evaluate_targets",
    "failure_cost",
    "failure_cost_proven",
    "mode_completeness",
    "reallocate_without",
    "reassign_after_failure",
    "score_run",
    "share_within",
    "to_dict",
    "trunk_pairs",
]
