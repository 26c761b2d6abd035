"""Records that pass between the steps of a run (a leaf module: no hubopt step imports).

:class:`Solved` is a solved model in the terms of the case: hubs and allocations are
indices into the candidate sites and the demand points. It also keeps the model's own
input (:class:`~hubopt.models.base.HubData`) and solution in model-node indices, so that
every later step (flows, scorecard, failure analysis) recomputes costs with the one
independent evaluator, :mod:`hubopt.models.evaluate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from hubopt.models.base import HubData, Problem


@dataclass(frozen=True, eq=False)
class Solved:
    """The model's answer in site terms (indices into the candidate sites).

    ``single``: (n_demand,) site of each demand point (single allocation); ``multiple``:
    (n_demand, n_demand, 2) first and last site of each OD pair (multiple allocation);
    ``covered``: the demand points that reach their hub in time (coverage model).
    ``data`` (the model's input), ``allocation`` (in model-node indices: ``(n,)`` or
    ``(n, n, 2)``) and ``offset`` (model index of site 0) are the model's own terms, for
    the one evaluator; ``problem`` is the hub problem solved (``None`` for coverage).
    ``resilience``: the resilient design beside the cheapest one, when the case asks for
    one (:func:`hubopt.case_resilience.solve_resilient`).
    """

    hubs: tuple[int, ...]
    single: np.ndarray | None
    multiple: np.ndarray | None
    objective: float
    bound: float
    gap: float
    status: str
    seconds: float
    method: str
    covered: np.ndarray | None = None
    problem: Problem | None = None
    data: HubData | None = None
    allocation: np.ndarray | None = None
    offset: int = 0
    resilience: dict[str, Any] | None = None


__all__ = ["Solved"]
