"""Objective evaluation independent of any solver (plain numpy).

These functions recompute a solution's cost from the cost matrix and the flows;
the tests assert that they agree with what the solvers report.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hubopt._errors import InfeasibleModelError
from hubopt.models.base import FloatArray, HubData, IntArray, Problem


def single_allocation_od_costs(data: HubData, allocation: IntArray) -> FloatArray:
    """Cost of each OD flow when node ``i`` uses hub ``allocation[i]`` for all its flow."""
    a = np.asarray(allocation, dtype=np.int64)
    C = data.costs
    n = data.n
    idx = np.arange(n)
    unit = (
        data.chi * C[idx, a][:, None]
        + data.alpha * C[a[:, None], a[None, :]]
        + data.delta * C[a, idx][None, :]
    )
    return np.asarray(data.flows * unit, dtype=np.float64)


def multiple_allocation_od_costs(data: HubData, routes: IntArray) -> FloatArray:
    """Cost of each OD flow when the flow ``i -> j`` takes the path ``i, k, m, j``."""
    r = np.asarray(routes, dtype=np.int64)
    C = data.costs
    n = data.n
    i = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    k = r[:, :, 0]
    m = r[:, :, 1]
    unit = data.chi * C[i, k] + data.alpha * C[k, m] + data.delta * C[m, j]
    return np.asarray(data.flows * unit, dtype=np.float64)


def best_routes(data: HubData, hubs: Sequence[int]) -> tuple[FloatArray, IntArray]:
    """Cheapest path of every OD pair through the open ``hubs`` (multiple allocation).

    Returns the unit cost matrix ``u[i, j] = min_{k, m in hubs} chi C_ik + alpha C_km +
    delta C_mj`` and the routes ``(n, n, 2)`` (first and second hub of each pair).
    """
    H = np.asarray(sorted(hubs), dtype=np.int64)
    C = data.costs
    # A[i, m] = min over first hub k of chi C_ik + alpha C_km, with its argmin
    first = data.chi * C[:, H][:, :, None] + data.alpha * C[np.ix_(H, H)][None, :, :]
    kbest = first.argmin(axis=1)  # (n, |H|): index into H of the first hub for (i, m)
    A = np.take_along_axis(first, kbest[:, None, :], axis=1)[:, 0, :]
    total = A[:, :, None] + data.delta * C[H, :][None, :, :]  # (n, m, j)
    mbest = total.argmin(axis=1)  # (n, j)
    unit = np.take_along_axis(total, mbest[:, None, :], axis=1)[:, 0, :]
    n = data.n
    routes = np.empty((n, n, 2), dtype=np.int64)
    routes[:, :, 1] = H[mbest]
    routes[:, :, 0] = H[np.take_along_axis(kbest, mbest, axis=1)]
    return np.asarray(unit, dtype=np.float64), routes


def check_solution(
    problem: Problem, data: HubData, hubs: Sequence[int], allocation: IntArray
) -> None:
    """Raise :class:`InfeasibleModelError` if the solution breaks a constraint of ``problem``."""
    n = data.n
    H = sorted({int(h) for h in hubs})
    errors: list[str] = []
    if not H:
        errors.append("no hub is open")
    bad = [h for h in H if not 0 <= h < n]
    if bad:
        errors.append(f"hubs {bad} are not nodes")
    if set(H) & set(data.excluded):
        errors.append(f"excluded sites {sorted(set(H) & set(data.excluded))} are open")
    if set(data.fixed_hubs) - set(H):
        errors.append(f"hubs {sorted(set(data.fixed_hubs) - set(H))} must stay open")
    if problem.has_p and len(H) != data.p:
        errors.append(f"{len(H)} hubs open, expected p = {data.p}")
    a = np.asarray(allocation)
    hubset = np.zeros(n, dtype=bool)
    hubset[[h for h in H if 0 <= h < n]] = True
    if problem.single_allocation:
        if a.shape != (n,):
            errors.append(f"allocation: expected shape ({n},), found {a.shape}")
        else:
            if not np.all(hubset[a]):
                errors.append("a node is allocated to a closed hub")
            if not np.all(a[H] == H):
                errors.append("a hub is not allocated to itself")
            if problem is Problem.CSAHLP and data.capacities is not None:
                load = np.bincount(a, weights=data.origin_totals, minlength=n)
                over = np.flatnonzero(load > data.capacities * (1 + 1e-9) + 1e-9)
                if over.size:
                    errors.append(f"hubs {over.tolist()} exceed their capacity")
    elif a.shape != (n, n, 2):
        errors.append(f"allocation: expected shape ({n}, {n}, 2), found {a.shape}")
    elif not np.all(hubset[a]):
        errors.append("a path uses a closed hub")
    if errors:
        msg = f"{problem.label} solution is infeasible: " + "; ".join(errors)
        raise InfeasibleModelError(msg)


def evaluate(problem: Problem, data: HubData, hubs: Sequence[int], allocation: IntArray) -> float:
    """Objective of a solution recomputed from the matrix (checks feasibility first)."""
    check_solution(problem, data, hubs, allocation)
    if problem.single_allocation:
        od = single_allocation_od_costs(data, allocation)
    else:
        od = multiple_allocation_od_costs(data, allocation)
    return float(od.sum()) + data.fixed_cost_of(sorted({int(h) for h in hubs}))


def route_unit_costs(single: bool, data: HubData, allocation: IntArray) -> FloatArray:
    """Unit cost ``chi C_ik + alpha C_km + delta C_mj`` of every OD pair's route (not
    weighted by the flow): ``allocation`` is ``(n,)`` (``single``) or ``(n, n, 2)``."""
    a = np.asarray(allocation, dtype=np.int64)
    C = data.costs
    n = data.n
    if single:
        idx = np.arange(n)
        k, m = a[:, None], a[None, :]
        first, last = C[idx, a][:, None], C[a, idx][None, :]
        return np.asarray(data.chi * first + data.alpha * C[k, m] + data.delta * last)
    i = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    k2, m2 = a[:, :, 0], a[:, :, 1]
    return np.asarray(data.chi * C[i, k2] + data.alpha * C[k2, m2] + data.delta * C[m2, j])


def max_route_cost(
    problem: Problem, data: HubData, hubs: Sequence[int], allocation: IntArray
) -> float:
    """The largest unit route cost over the OD pairs with flow ``W_ij > 0`` (p-hub center
    and hub covering), recomputed from the matrix after the feasibility checks of
    :func:`check_solution`; 0 when no pair has flow."""
    check_solution(problem, data, hubs, allocation)
    unit = route_unit_costs(problem.single_allocation, data, allocation)
    mask = data.flows > 0
    return float(unit[mask].max()) if mask.any() else 0.0
