"""Best-first branch and bound over 0/1 site variables, with a node LP from outside.

The tree knows nothing of hubs or cuts: the caller's ``evaluate(lower, upper)`` solves
the relaxation at a node (for Benders: the master LP with cuts separated at that
node's own points, so every node bound is the true LP bound of its sub-problem, not
just the bound of the cuts found so far) and reports the LP value, point and reduced
costs.  The tree keeps the open nodes ordered by bound, prunes against the caller's
incumbent (``cutoff()``, read again before every node, so new incumbents found while
evaluating prune at once), fixes variables by reduced cost at every node, and branches
on the most fractional variable.

The bound it returns is the smallest bound of the nodes still open (the bound of a
node stopped by the deadline is its parent's), never above the cutoff: valid at any
time.
"""

from __future__ import annotations

import heapq
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hubopt._errors import SolverError
from hubopt.models.base import FloatArray

_log = logging.getLogger(__name__)

#: a node: the bound it inherited, its depth, and its variable bounds
_Entry = tuple[float, int, int, FloatArray, FloatArray]


@dataclass(frozen=True)
class NodeLP:
    """What the caller's evaluation of one node found.

    ``value``: a valid lower bound on every solution of the node (``inf`` when the node
    is infeasible or cannot beat the cutoff); ``point`` and ``reduced_costs``: the LP
    solution behind it, of an LP whose optimum is ``value`` (``None`` with an infinite
    value); ``finished``: False when the
    deadline stopped the evaluation (the value is still valid but the node is kept).
    """

    value: float
    point: FloatArray | None = None
    reduced_costs: FloatArray | None = None
    finished: bool = True


@dataclass(frozen=True)
class TreeResult:
    bound: float  # valid lower bound: smallest open bound, at most the cutoff
    proven: bool  # no node left below the cutoff
    nodes: int  # nodes evaluated
    open_nodes: int  # nodes left when the search stopped
    fixed: int  # variables fixed by reduced cost over all nodes


def best_first_search(
    evaluate: Callable[[FloatArray, FloatArray], NodeLP],
    *,
    lower: FloatArray,
    upper: FloatArray,
    root_bound: float,
    cutoff: Callable[[], float],
    deadline: float | None,
    integrality_tolerance: float = 1e-6,
    max_nodes: int | None = None,
) -> TreeResult:
    """Branch and bound from the root with variable bounds ``lower``/``upper``.

    ``root_bound``: a valid bound of the root (the search starts from it).  A node is
    pruned when its bound reaches ``cutoff()``; an integer LP point whose value is
    below the cutoff means the caller's evaluation has not priced it exactly, which
    breaks the contract: the caller must update its incumbent from integer points (so
    that the value then reaches the cutoff).
    """
    counter = 0
    heap: list[_Entry] = [(root_bound, 0, counter, lower.copy(), upper.copy())]
    nodes = fixed = 0
    tol = integrality_tolerance

    def out_of_time() -> bool:
        return deadline is not None and time.perf_counter() > deadline

    while heap and not out_of_time() and (max_nodes is None or nodes < max_nodes):
        bound, neg_depth, _, lo, up = heap[0]
        depth = -neg_depth
        if bound >= cutoff():
            heap.clear()  # best first: every other open node is above the cutoff too
            break
        heapq.heappop(heap)
        res = evaluate(lo, up)
        nodes += 1
        value = max(bound, res.value)
        _log.debug(
            "node %d depth %d: %.4f (from %.4f), %d open", nodes, depth, value, bound, len(heap)
        )
        if not res.finished:
            counter += 1
            heapq.heappush(heap, (value, -depth, counter, lo, up))
            break
        limit = cutoff()
        if value >= limit or res.point is None:
            continue
        yv = res.point
        free = (lo < 0.5) & (up > 0.5)
        # reduced-cost fixing, valid in the whole sub-tree of this node
        if res.reduced_costs is not None:  # (with the value of the LP they belong to)
            rc = res.reduced_costs
            close = free & (yv <= tol) & (res.value + rc >= limit)
            open_ = free & (yv >= 1 - tol) & (res.value - rc >= limit)
            if close.any() or open_.any():
                up = up.copy()
                lo = lo.copy()
                up[close] = 0.0
                lo[open_] = 1.0
                fixed += int(close.sum() + open_.sum())
                free &= ~(close | open_)
        frac = np.where(free, np.minimum(yv, 1.0 - yv), -1.0)
        k = int(np.argmax(frac))
        if frac[k] <= tol:
            # an integer point below the cutoff that the caller did not price
            msg = f"node LP is integral at value {value} below the cutoff {limit}"
            raise SolverError(msg)
        for side in (1.0, 0.0):
            child_lo, child_up = lo.copy(), up.copy()
            child_lo[k] = child_up[k] = side
            counter += 1
            heapq.heappush(heap, (value, -(depth + 1), counter, child_lo, child_up))
    limit = cutoff()
    bound = min((e[0] for e in heap), default=math.inf)
    return TreeResult(
        bound=min(bound, limit),
        proven=not heap,
        nodes=nodes,
        open_nodes=len(heap),
        fixed=fixed,
    )
