"""Independent truths for the resilient models: costs while hubs are down, recomputed from
the matrices with plain numpy broadcasting or loops, and brute force over every hub set
and every primary/backup plan.  Written from the definitions of issue 28; nothing here
shares code with hubopt.
"""

from __future__ import annotations

import itertools
import math

import numpy as np


def ma_cost(C, W, H, chi, alpha, delta) -> float:
    """Multiple allocation through the hubs ``H``: every pair on its cheapest path
    ``i -> k -> m -> j`` (all four indices broadcast, then the minimum)."""
    H = list(H)
    if not H:
        return math.inf
    path = (chi * C[:, H][:, :, None, None] + alpha * C[np.ix_(H, H)][None, :, :, None]
            + delta * C[H, :][None, None, :, :])  # (i, k, m, j)
    return float((W * path.min(axis=(1, 2))).sum())


def sa_cost(C, W, a, chi, alpha, delta) -> float:
    """Single allocation ``a`` (node -> hub), with loops."""
    n = len(C)
    return float(sum(W[i, j] * (chi * C[i, a[i]] + alpha * C[a[i], a[j]] + delta * C[a[j], j])
                     for i in range(n) for j in range(n)))


def fallback(plan, failed):
    """Each node's first hub of its plan row that is not in ``failed``."""
    return [next(h for h in row if h not in failed) for row in plan]


def expected_value(costs_by_failure, H, q) -> float:
    """``(1 - sum q) cost() + sum q_k cost(k)`` from a function of the failed set."""
    qs = sum(q[k] for k in H)
    return (1 - qs) * costs_by_failure(()) + sum(q[k] * costs_by_failure((k,)) for k in H)


def worst_value(costs_by_failure, H, r) -> float:
    """``max_F cost(F)`` over every set of ``r`` failed hubs."""
    return max(costs_by_failure(F) for F in itertools.combinations(H, r))


def ma_resilient(C, W, H, kind, q, r, chi, alpha, delta) -> float:
    """The resilient multiple-allocation objective of ``H``."""

    def cost(F):
        return ma_cost(C, W, [h for h in H if h not in F], chi, alpha, delta)

    return expected_value(cost, H, q) if kind == "expected" else worst_value(cost, H, r)


def sa_resilient(C, W, H, plan, kind, q, r, chi, alpha, delta) -> float:
    """The resilient single-allocation objective of the plan."""

    def cost(F):
        return sa_cost(C, W, fallback(plan, F), chi, alpha, delta)

    return expected_value(cost, H, q) if kind == "expected" else worst_value(cost, H, r)


def all_plans(n, H, length):
    """Every plan: each node an ordered list of ``length`` distinct hubs, a hub first."""
    rows = []
    for i in range(n):
        if i in H:
            rows.append([(i, *t) for t in itertools.permutations([h for h in H if h != i],
                                                                 length - 1)])
        else:
            rows.append(list(itertools.permutations(H, length)))
    return itertools.product(*rows)


def brute_sa_plan(C, W, H, kind, q, r, chi, alpha, delta) -> float:
    """The best plan for the hubs ``H`` by enumeration."""
    length = 2 if kind == "expected" else r + 1
    return min(sa_resilient(C, W, H, plan, kind, q, r, chi, alpha, delta)
               for plan in all_plans(len(C), list(H), length))


def brute_ma(C, W, sets, kind, q, r, chi, alpha, delta) -> tuple[float, tuple[int, ...]]:
    """The resilient multiple-allocation optimum over ``sets``."""
    return min((ma_resilient(C, W, H, kind, q, r, chi, alpha, delta), tuple(H)) for H in sets)
