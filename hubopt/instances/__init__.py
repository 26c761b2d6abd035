"""Readers for the standard hub-location benchmark instances (AP, CAB, TR).

The data lie in ``$HUBOPT_DATA/hub-instances`` (default ``../shared/data`` beside
the repository); they are read in place, never copied.  Every reader returns a
frozen :class:`HubInstance` whose ``flow_scale`` turns ``sum W_ij * cost`` into the
units of the published objectives (AP: /1000; CAB: normalised flows; TR: as given).
Malformed or missing files raise :class:`hubopt._errors.InputFormatError` naming
the file and what was expected.
"""

from __future__ import annotations

from pathlib import Path

from hubopt._errors import InputFormatError
from hubopt.instances._instance import HubInstance, resolve_hub_dir
from hubopt.instances._parse import read_vector
from hubopt.instances.ap import aggregate_ap, genfcost_fixed_costs, load_ap, read_ap_file
from hubopt.instances.cab import load_cab
from hubopt.instances.optima import ReferenceOptimum, find_optimum, load_optima
from hubopt.instances.random import random_euclidean
from hubopt.instances.tr import TR_NODES, load_tr

__all__ = [
    "SUITES",
    "HubInstance",
    "ReferenceOptimum",
    "aggregate_ap",
    "find_optimum",
    "genfcost_fixed_costs",
    "load_ap",
    "load_cab",
    "load_instance",
    "load_optima",
    "load_tr",
    "random_euclidean",
    "read_ap_file",
    "read_vector",
    "resolve_hub_dir",
]

SUITES = ("ap", "cab", "tr")


def load_instance(suite: str, n: int, *, data_dir: Path | str | None = None) -> HubInstance:
    """Load instance ``n`` of ``suite`` (``"ap"``, ``"cab"`` or ``"tr"``; TR has n = 81 only)."""
    key = suite.casefold()
    if key == "ap":
        return load_ap(n, data_dir=data_dir)
    if key == "cab":
        return load_cab(n, data_dir=data_dir)
    if key == "tr":
        if n != TR_NODES:
            msg = f"TR instance: expected n = {TR_NODES}, found {n!r}"
            raise InputFormatError(msg)
        return load_tr(data_dir=data_dir)
    msg = f"suite: expected one of {', '.join(SUITES)}, found {suite!r}"
    raise InputFormatError(msg)
