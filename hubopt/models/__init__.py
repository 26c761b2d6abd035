"""Hub-location models over a cost matrix, solved with OR-Tools.

>>> from hubopt.models import USApHMP
>>> model = USApHMP.from_cost_matrix(costs, flows, p=3, chi=3, alpha=0.75, delta=2)
>>> solution = model.solve(time_limit=60)
>>> model.objective(solution) == solution.objective
"""

from __future__ import annotations

from typing import Any

from hubopt.models._model import HubModel
from hubopt.models.base import HubData, Problem, Solution, SolveParameters, Status
from hubopt.models.hub_location import CSAHLP, UMAHLP, USAHLP
from hubopt.models.p_hub_median import UMApHMP, USApHMP

MODEL_CLASSES: dict[Problem, type[HubModel]] = {
    Problem.USAPHMP: USApHMP,
    Problem.UMAPHMP: UMApHMP,
    Problem.USAHLP: USAHLP,
    Problem.UMAHLP: UMAHLP,
    Problem.CSAHLP: CSAHLP,
}


def build_model(problem: Problem | str, costs: Any, flows: Any, **kwargs: Any) -> HubModel:
    """Build the model of ``problem`` (enum or name such as ``"usaphmp"``) from a matrix."""
    cls = MODEL_CLASSES[Problem.parse(problem)]
    return cls.from_cost_matrix(costs, flows, **kwargs)  # type: ignore[attr-defined]


__all__ = [
    "CSAHLP",
    "MODEL_CLASSES",
    "UMAHLP",
    "USAHLP",
    "HubData",
    "HubModel",
    "Problem",
    "Solution",
    "SolveParameters",
    "Status",
    "UMApHMP",
    "USApHMP",
    "build_model",
]
