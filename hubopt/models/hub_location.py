"""Hub location problems with fixed hub costs: the number of hubs is free.

USAHLP / UMAHLP (uncapacitated, single / multiple allocation)::

    min  sum_{k in H} f_k + transport cost of the p-hub median counterpart

CSAHLP (capacitated single allocation; Ernst & Krishnamoorthy 1999): as USAHLP, and
the flow originating at the nodes allocated to hub ``k`` is at most its capacity::

    sum_{i : a(i) = k} O_i <= Cap_k,   O_i = sum_j W_ij
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Self

from hubopt.models._model import HubModel
from hubopt.models.base import Problem


class _UncapacitatedHubLocation(HubModel):
    """Shared constructor of the two uncapacitated fixed-cost models."""

    @classmethod
    def from_cost_matrix(
        cls,
        costs: Any,
        flows: Any,
        *,
        fixed_costs: Any,
        chi: float = 1.0,
        alpha: float = 1.0,
        delta: float = 1.0,
        fixed_hubs: Iterable[int] = (),
        excluded: Iterable[int] = (),
    ) -> Self:
        """Build the model from costs, flows and one opening cost per node."""
        return cls._build(
            costs,
            flows,
            fixed_costs=fixed_costs,
            chi=chi,
            alpha=alpha,
            delta=delta,
            fixed_hubs=fixed_hubs,
            excluded=excluded,
        )


class USAHLP(_UncapacitatedHubLocation):
    """Uncapacitated single allocation hub location problem (fixed hub costs)."""

    problem: ClassVar[Problem] = Problem.USAHLP


class UMAHLP(_UncapacitatedHubLocation):
    """Uncapacitated multiple allocation hub location problem (fixed hub costs)."""

    problem: ClassVar[Problem] = Problem.UMAHLP


class CSAHLP(HubModel):
    """Capacitated single allocation hub location problem (fixed costs, capacities)."""

    problem: ClassVar[Problem] = Problem.CSAHLP

    @classmethod
    def from_cost_matrix(
        cls,
        costs: Any,
        flows: Any,
        *,
        fixed_costs: Any,
        capacities: Any,
        chi: float = 1.0,
        alpha: float = 1.0,
        delta: float = 1.0,
        fixed_hubs: Iterable[int] = (),
        excluded: Iterable[int] = (),
    ) -> Self:
        """Build the model from costs, flows, opening costs and hub capacities."""
        return cls._build(
            costs,
            flows,
            fixed_costs=fixed_costs,
            capacities=capacities,
            chi=chi,
            alpha=alpha,
            delta=delta,
            fixed_hubs=fixed_hubs,
            excluded=excluded,
        )
