"""The best primary/backup plan for fixed hubs, as a MIP (single allocation, one failure).

Every node ``i`` picks one option ``(a, b)`` of distinct open hubs (a hub picks
``(i, b)``): ``x_iab`` binary, ``sum_ab x_iab = 1``.  In scenario ``s`` (nominal, or hub
``k`` down) node ``i`` sits at hub ``a`` unless ``a = k``, then at ``b``; its allocation
``y^s_ix = sum of the x_iab whose scenario hub is x`` is linear in ``x``.  Each scenario's
single-allocation cost is the Ernst & Krishnamoorthy (1996) flow model over that
allocation: access and egress ``sum_ix (chi O_i C_ix + delta D_i C_xi) y^s_ix``, and per
origin ``i`` a flow ``Y^si_km`` between the scenario's hubs with
``sum_m Y^si_km - sum_m Y^si_mk = O_i y^s_ik - sum_j W_ij y^s_jk`` at cost
``alpha C_km``.  The objective is ``sum_s w_s cost_s`` (expected) or ``theta >= cost_s``
for every single failure (worst case, one attack).

The flow model equals the single-allocation cost when ``C`` obeys the triangle
inequality between hubs and ``C_kk = 0``; otherwise it is a lower bound, and the caller
recomputes the plan's true objective.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.math_opt.python import mathopt

from hubopt.models._mip import _solve
from hubopt.models._resilience_eval import plan_options, plan_scenarios, scenario_weights
from hubopt.models.base import FloatArray, HubData, IntArray, SolveParameters


@dataclass(frozen=True)
class PlanMipResult:
    """A plan MIP's outcome: plan (``None`` without a solution), value, bound, proof."""

    plan: IntArray | None
    objective: float
    bound: float
    proven_optimal: bool
    seconds: float


def solve_plan_mip(
    data: HubData,
    hubs: Sequence[int],
    kind: str,
    q: FloatArray,
    params: SolveParameters,
    *,
    time_limit: float | None,
    start: IntArray | None = None,
) -> PlanMipResult:
    """Best two-hub plan for the open ``hubs`` under ``kind`` (``"expected"``/``"worst"``)."""
    t0 = time.perf_counter()
    H = sorted(int(h) for h in hubs)
    n = data.n
    C = data.costs.tolist()
    W = data.flows.tolist()
    O = data.origin_totals.tolist()
    D = data.destination_totals.tolist()
    chi, alpha, delta = data.chi, data.alpha, data.delta
    model = mathopt.Model(name="resilient_plan")
    scen = plan_scenarios(H, kind, 1)
    opts = {i: [tuple(int(v) for v in row) for row in plan_options(H, i, 2)] for i in range(n)}
    x: dict[tuple[int, tuple[int, ...]], mathopt.Variable] = {}
    for i in range(n):
        row = []
        for o in opts[i]:
            v = model.add_binary_variable()
            x[i, o] = v
            row.append(v)
        model.add_linear_constraint(mathopt.fast_sum(row) == 1.0)

    def y(s: int, i: int, hub: int) -> mathopt.LinearExpression:
        failed = scen[s]
        return mathopt.LinearExpression(mathopt.fast_sum(
            x[i, o] for o in opts[i] if (o[1] if o[0] in failed else o[0]) == hub
        ))

    scen_costs: list[mathopt.LinearExpression] = []
    for s, failed in enumerate(scen):
        Hs = [h for h in H if h not in failed]
        ys = {(i, k): y(s, i, k) for i in range(n) for k in Hs}
        terms: list[mathopt.LinearTypes] = [
            (chi * O[i] * C[i][k] + delta * D[i] * C[k][i]) * ys[i, k]
            for i in range(n) for k in Hs
        ]
        if alpha > 0 and len(Hs) > 1:
            for i in range(n):
                if O[i] <= 0:
                    continue
                Y = {(k, m): model.add_variable(lb=0.0) for k in Hs for m in Hs if k != m}
                terms.extend(alpha * C[k][m] * v for (k, m), v in Y.items() if C[k][m])
                for k in Hs:
                    out = mathopt.fast_sum(Y[k, m] for m in Hs if m != k)
                    inn = mathopt.fast_sum(Y[m, k] for m in Hs if m != k)
                    sent = mathopt.fast_sum(W[i][j] * ys[j, k] for j in range(n) if W[i][j])
                    model.add_linear_constraint(out - inn - O[i] * ys[i, k] + sent == 0.0)
        scen_costs.append(mathopt.LinearExpression(mathopt.fast_sum(terms)))
    if kind == "expected":
        w = scenario_weights(H, q)
        model.minimize(mathopt.fast_sum(float(w[s]) * c for s, c in enumerate(scen_costs)))
    else:
        theta = model.add_variable(lb=0.0)
        for c in scen_costs:
            model.add_linear_constraint(theta >= c)
        model.minimize(theta)
    hint = None
    if start is not None:
        hint = {
            v: 1.0 if (int(start[i, 0]), int(start[i, 1])) == o else 0.0 for (i, o), v in x.items()
        }
    remaining = None if time_limit is None else time_limit - (time.perf_counter() - t0)
    res = _solve(model, params, remaining, hint)
    bound = float(res.termination.objective_bounds.dual_bound)
    seconds = time.perf_counter() - t0
    if not res.has_primal_feasible_solution():
        return PlanMipResult(None, math.inf, bound, False, seconds)
    values = res.variable_values()
    plan = np.empty((n, 2), dtype=np.int64)
    for i in range(n):
        plan[i] = max((values[x[i, o]], o) for o in opts[i])[1]
    return PlanMipResult(
        plan,
        float(res.objective_value()),
        bound,
        res.termination.reason is mathopt.TerminationReason.OPTIMAL,
        seconds,
    )
