"""Cheap valid lower bounds for instances too large for the exact methods.

Every path from ``i`` to ``j`` costs at least ``chi d(i, H) + delta d(H, j)`` (the
inter-hub leg costs at least 0), so the optimum of any of the five problems is at least
the optimum of a facility-location problem: open hubs (``p`` of them, or paying the
fixed costs) and send each node's outgoing flow ``O_i`` from its nearest hub and its
incoming flow ``D_j`` to its nearest hub.  Its MIP is small (``2 n^2`` continuous
variables) and is solved with OR-Tools MathOpt; its dual bound is the returned bound.

When the costs satisfy the triangle inequality and ``chi, delta >= alpha``, the inter-hub
leg is bounded too: ``alpha C_km >= alpha (C_ij - C_ik - C_mj)``, and the path cost is
non-decreasing in ``C_ik`` and ``C_mj``, so every OD pair costs at least
``chi d_i + delta d_j + alpha max(0, C_ij - d_i - d_j)`` (one more variable per OD pair).
For CSAHLP the outgoing assignment also respects the hub capacities (single allocation
puts all of ``O_i`` at one hub), which keeps the bound valid and much closer.
"""

from __future__ import annotations

import datetime

import numpy as np
from ortools.math_opt.python import mathopt

from hubopt.models._quiet import native_stdout_silenced
from hubopt.models.base import HubData, Problem, SolveParameters


def facility_location_bound(
    problem: Problem,
    data: HubData,
    params: SolveParameters,
    *,
    time_limit: float | None,
    transfer: bool = True,
) -> float:
    """Dual bound of the facility-location relaxation described in the module docstring.

    ``transfer=False`` leaves out the inter-hub term: a weaker bound, but a model that
    HiGHS solves quickly even for n = 200.
    """
    n = data.n
    C = data.costs
    O = data.origin_totals
    D = data.destination_totals
    sites = list(data.candidates)
    model = mathopt.Model(name="facility-location-bound")
    y = {
        k: model.add_variable(lb=1.0 if k in data.fixed_hubs else 0.0, ub=1.0, is_integer=True)
        for k in sites
    }
    terms: list[mathopt.LinearTypes] = []
    if data.fixed_costs is not None:
        terms.extend(data.fixed_costs[k] * y[k] for k in sites)
    if problem.has_p:
        model.add_linear_constraint(mathopt.fast_sum(y.values()) == float(data.p or 0))
    transfer = transfer and data.alpha > 0 and data.chi >= data.alpha
    transfer = transfer and data.delta >= data.alpha and is_metric(C)
    dist: dict[tuple[int, int], mathopt.Variable] = {}
    outgoing: dict[int, dict[int, mathopt.Variable]] = {}
    for side, (weight, costs) in enumerate(((data.chi * O, C), (data.delta * D, C.T))):
        for i in range(n):
            if weight[i] <= 0 and not transfer:
                continue
            x = {k: model.add_variable(lb=0.0, ub=1.0) for k in sites}
            model.add_linear_constraint(mathopt.fast_sum(x.values()) == 1.0)
            for k, v in x.items():
                model.add_linear_constraint(v <= y[k])
                if costs[i, k] and weight[i] > 0:
                    terms.append(weight[i] * costs[i, k] * v)
            if side == 0 and problem is Problem.CSAHLP and data.capacities is not None:
                outgoing[i] = x
            if transfer:  # d = distance to the assigned hub, as one variable
                d = model.add_variable(lb=0.0)
                model.add_linear_constraint(
                    d == mathopt.fast_sum(costs[i, k] * v for k, v in x.items() if costs[i, k])
                )
                dist[side, i] = d
    if outgoing and data.capacities is not None:
        # single allocation: node i's outgoing flow O_i sits at its hub, within capacity
        for k in sites:
            load = mathopt.fast_sum(float(O[i]) * x[k] for i, x in outgoing.items() if O[i])
            model.add_linear_constraint(load <= float(data.capacities[k]) * y[k])
    if transfer:
        W = data.flows
        for i, j in zip(*np.nonzero(W), strict=True):
            if C[i, j] <= 0:
                continue
            s = model.add_variable(lb=0.0)
            model.add_linear_constraint(
                s >= data.alpha * (C[i, j] - dist[0, int(i)] - dist[1, int(j)])
            )
            terms.append(float(W[i, j]) * s)
    model.minimize(mathopt.fast_sum(terms))
    kwargs: dict[str, object] = {"relative_gap_tolerance": 1e-6, "random_seed": params.seed}
    if time_limit is not None:
        kwargs["time_limit"] = datetime.timedelta(seconds=max(0.5, time_limit))
    with native_stdout_silenced():
        res = mathopt.solve(
            model,
            mathopt.SolverType.HIGHS,
            params=mathopt.SolveParameters(**kwargs),
        )
    bound = float(res.termination.objective_bounds.dual_bound)
    return bound if bound > float("-inf") else 0.0


def is_metric(costs: np.ndarray, *, tolerance: float = 1e-9) -> bool:
    """True when ``C_ij <= C_ik + C_kj`` for all ``i, j, k`` (to a relative tolerance)."""
    C = np.asarray(costs, dtype=np.float64)
    scale = max(1.0, float(C.max(initial=0.0)))
    for k in range(C.shape[0]):
        if np.any(C > C[:, k, None] + C[None, k, :] + tolerance * scale):
            return False
    return True


def nearest_neighbour_bound(data: HubData) -> float:
    """A bound computed in ``O(n^2)``, valid for all five problems, for any size.

    A node ``i`` that is not a hub sends its outgoing flow to a hub at distance at least
    ``nn_i`` (its nearest other node) and receives its incoming flow from one, so it
    costs at least ``(chi O_i + delta D_i) nn_i``; a hub may cost nothing.  With ``q``
    hubs the total is at least the sum over all nodes minus the ``q`` largest terms of
    candidate sites, plus the ``q`` smallest fixed costs; ``q = p`` for the p-hub
    medians, the minimum over ``q`` otherwise.  Weak, but always available: it is the
    floor under the facility-location bound when that one runs out of time.
    """
    C = np.array(data.costs, dtype=np.float64)
    n = data.n
    np.fill_diagonal(C, np.inf)
    nn = C.min(axis=1) if n > 1 else np.zeros(n)
    nn = np.where(np.isfinite(nn), nn, 0.0)
    w = (data.chi * data.origin_totals + data.delta * data.destination_totals) * nn
    cand = np.asarray(data.candidates, dtype=np.int64)
    savings = np.sort(w[cand])[::-1]
    total = float(w.sum())
    if data.p is not None:
        q = min(int(data.p), cand.size)
        return max(0.0, total - float(savings[:q].sum()))
    f = np.zeros(cand.size)
    if data.fixed_costs is not None:
        f = np.sort(np.asarray(data.fixed_costs, dtype=np.float64)[cand])
    values = total - np.cumsum(savings) + np.cumsum(f)
    return max(0.0, float(values.min()))
