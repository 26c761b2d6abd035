"""p-hub median problems: exactly ``p`` hubs, no fixed costs.

USApHMP (single allocation; O'Kelly 1987, Ernst & Krishnamoorthy 1996)::

    min  sum_ij W_ij (chi C_{i a(i)} + alpha C_{a(i) a(j)} + delta C_{a(j) j})
    s.t. |H| = p,  a(i) in H for every node,  a(k) = k for k in H

UMApHMP (multiple allocation; Campbell 1994, Ernst & Krishnamoorthy 1998)::

    min  sum_ij W_ij min_{k, m in H} (chi C_ik + alpha C_km + delta C_mj)   s.t. |H| = p
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Self

from hubopt.models._model import HubModel
from hubopt.models.base import Problem


class _PHubMedian(HubModel):
    """Shared constructor of the two p-hub median models."""

    @classmethod
    def from_cost_matrix(
        cls,
        costs: Any,
        flows: Any,
        *,
        p: int,
        chi: float = 1.0,
        alpha: float = 1.0,
        delta: float = 1.0,
        fixed_hubs: Iterable[int] = (),
        excluded: Iterable[int] = (),
    ) -> Self:
        """Build the model from an (n, n) cost matrix and an (n, n) flow matrix."""
        return cls._build(
            costs,
            flows,
            p=p,
            chi=chi,
            alpha=alpha,
            delta=delta,
            fixed_hubs=fixed_hubs,
            excluded=excluded,
        )


class USApHMP(_PHubMedian):
    """Uncapacitated single allocation p-hub median problem."""

    problem: ClassVar[Problem] = Problem.USAPHMP


class UMApHMP(_PHubMedian):
    """Uncapacitated multiple allocation p-hub median problem."""

    problem: ClassVar[Problem] = Problem.UMAPHMP
