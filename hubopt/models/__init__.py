"""Hub-location and coverage models over a cost matrix, solved with OR-Tools.

>>> from hubopt.models import USApHMP
>>> model = USApHMP.from_cost_matrix(costs, flows, p=3, chi=3, alpha=0.75, delta=2)
>>> solution = model.solve(time_limit=60)
>>> model.objective(solution) == solution.objective

Every model derives from :class:`~hubopt.models.base.Model`: ``from_cost_matrix`` builds
it, ``solve`` returns a :class:`Solution`, ``objective`` recomputes its objective.  The
engine's strategy is data (:class:`~hubopt.models.strategy.EngineOptions`, passed as
``solve(params, options=...)``; :func:`~hubopt.models.strategy.choose_plan`).
"""

from __future__ import annotations

from typing import Any, Literal, overload

from hubopt.models._model import HubModel
from hubopt.models.base import HubData, Model, Problem, Solution, SolveParameters, Status
from hubopt.models.coverage import CoverageModel
from hubopt.models.hub_center import UMAHCP, USAHCP, HubCenterModel, UMApHCP, USApHCP
from hubopt.models.hub_location import CSAHLP, UMAHLP, USAHLP
from hubopt.models.p_hub_median import UMApHMP, USApHMP
from hubopt.models.strategy import EngineOptions, Plan, choose_plan

MODEL_CLASSES: dict[Problem, type[Model]] = {
    Problem.USAPHMP: USApHMP,
    Problem.UMAPHMP: UMApHMP,
    Problem.USAHLP: USAHLP,
    Problem.UMAHLP: UMAHLP,
    Problem.CSAHLP: CSAHLP,
    Problem.COVERAGE: CoverageModel,
    Problem.USAPHCP: USApHCP,
    Problem.UMAPHCP: UMApHCP,
    Problem.USAHCP: USAHCP,
    Problem.UMAHCP: UMAHCP,
}


@overload
def build_model(
    problem: Literal[Problem.COVERAGE, "coverage"], costs: Any, flows: Any, **kwargs: Any
) -> CoverageModel: ...
@overload
def build_model(
    problem: Literal[
        Problem.USAPHCP, Problem.UMAPHCP, Problem.USAHCP, Problem.UMAHCP,
        "usaphcp", "umaphcp", "usahcp", "umahcp",
    ],
    costs: Any,
    flows: Any,
    **kwargs: Any,
) -> HubCenterModel: ...
@overload
def build_model(problem: Problem | str, costs: Any, flows: Any, **kwargs: Any) -> HubModel: ...
def build_model(problem: Problem | str, costs: Any, flows: Any, **kwargs: Any) -> Model:
    """Build the model of ``problem`` (enum or name such as ``"usaphmp"``) from a matrix.

    For the hub problems ``costs`` and ``flows`` are the ``(n, n)`` matrices; for
    ``"coverage"`` they are the travel times ``(n_demand, n_sites)`` and the demand
    weights, with ``minutes=`` and ``p=`` or ``share=`` among the keywords; the p-hub
    center problems take ``p=``, the hub covering problems ``max_cost=`` (and optional
    ``fixed_costs=``).
    """
    cls = MODEL_CLASSES[Problem.parse(problem)]
    return cls.from_cost_matrix(costs, flows, **kwargs)


__all__ = [
    "CSAHLP",
    "MODEL_CLASSES",
    "UMAHCP",
    "UMAHLP",
    "USAHCP",
    "USAHLP",
    "CoverageModel",
    "EngineOptions",
    "HubCenterModel",
    "HubData",
    "HubModel",
    "Model",
    "Plan",
    "Problem",
    "Solution",
    "SolveParameters",
    "Status",
    "UMApHCP",
    "UMApHMP",
    "USApHCP",
    "USApHMP",
    "build_model",
    "choose_plan",
]
