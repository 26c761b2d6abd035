"""Test helpers shared by the model tests: AP models built from the stored instances."""

from __future__ import annotations

import json

from hubopt.instances import load_instance
from hubopt.models import UMAHLP, USApHMP


def ap_fixed_cost_model(data_dir, n: int, fixed_cost: str, cls=UMAHLP, capacity=None):
    """An AP fixed-cost model of class ``cls`` (capacities bound raw flows: scaled here)."""
    inst = load_instance("ap", n, data_dir=data_dir)
    extra = {}
    if capacity is not None:
        extra["capacities"] = inst.capacities[capacity] * inst.flow_scale
    return cls.from_cost_matrix(
        inst.costs,
        inst.scaled_flows(),
        fixed_costs=inst.fixed_costs[fixed_cost],
        chi=inst.chi,
        alpha=inst.alpha,
        delta=inst.delta,
        **extra,
    )


def ap_pmedian_model(data_dir, n: int, p: int, cls=USApHMP):
    """An AP p-hub median model of class ``cls`` with ``p`` hubs."""
    inst = load_instance("ap", n, data_dir=data_dir)
    return cls.from_cost_matrix(
        inst.costs, inst.scaled_flows(), p=p, chi=inst.chi, alpha=inst.alpha, delta=inst.delta
    )


def published(problem: str, instance: str, hub_data_dir) -> dict:
    """The record of ``optima.json`` for ``problem`` on ``instance`` (e.g. "AP25.3")."""
    rows = json.loads((hub_data_dir / "optima.json").read_text())
    return next(r for r in rows if r["problem"] == problem and r["instance"] == instance)
