"""The :class:`HubInstance` record shared by the AP, CAB and TR readers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from hubopt._errors import InputFormatError
from hubopt.instances._parse import FloatArray, readonly


@dataclass(frozen=True, eq=False)
class HubInstance:
    """One hub-location benchmark instance, exactly as read from its files.

    Attributes
    ----------
    name
        ``"AP25"``, ``"CAB15"``, ``"TR81"``.
    suite
        ``"ap"``, ``"cab"`` or ``"tr"``.
    n
        Number of nodes.
    costs
        (n, n) distances: AP Euclidean from the coordinates, CAB O'Kelly's C in
        miles, TR km.
    flows
        (n, n) raw flows as in the file (row = origin, column = destination).
    flow_scale
        Factor that turns ``sum W_ij * cost`` into the published objective units:
        AP 1/1000, CAB 1/sum(W) of the n x n instance (normalised flows), TR 1.
    chi, alpha, delta
        Collection, inter-hub transfer and distribution factors (AP from the file:
        3, 0.75, 2; CAB 1, 0.4 (the files' example), 1; TR 1, 1, 1).
    p
        The file's ``p`` line: an example only (``None`` where there is none).
    coords
        (n, 2) planar coordinates (AP) or ``None``.
    fixed_costs
        ``{"L": ..., "T": ...}`` hub opening costs for AP sizes that ship
        ``FcostL/T.NN``, already on the published (divided by 1000) scale; else empty.
    capacities
        ``{"L": ..., "T": ...}`` hub capacities (``CapL/T.NN``) on the total flow
        originating at the nodes allocated to a hub; else empty.
    source
        The file the instance was read from (``None`` for derived instances).

    The arrays are read-only; arrays and mappings are copies owned by the record.
    """

    name: str
    suite: str
    n: int
    costs: FloatArray
    flows: FloatArray
    flow_scale: float
    chi: float
    alpha: float
    delta: float
    p: int | None = None
    coords: FloatArray | None = None
    fixed_costs: Mapping[str, FloatArray] = field(default_factory=dict)
    capacities: Mapping[str, FloatArray] = field(default_factory=dict)
    source: Path | None = None

    def __post_init__(self) -> None:
        """Freeze the arrays and check their shapes against ``n``."""
        n = self.n
        problems: list[str] = []
        costs = readonly(self.costs)
        flows = readonly(self.flows)
        if costs.shape != (n, n):
            problems.append(f"costs: expected shape ({n}, {n}), found {costs.shape}")
        if flows.shape != (n, n):
            problems.append(f"flows: expected shape ({n}, {n}), found {flows.shape}")
        coords = None if self.coords is None else readonly(self.coords)
        if coords is not None and coords.shape != (n, 2):
            problems.append(f"coords: expected shape ({n}, 2), found {coords.shape}")
        fixed = {k: readonly(v) for k, v in self.fixed_costs.items()}
        caps = {k: readonly(v) for k, v in self.capacities.items()}
        for label, vecs in (("fixed_costs", fixed), ("capacities", caps)):
            for key, vec in vecs.items():
                if vec.shape != (n,):
                    problems.append(f"{label}[{key!r}]: expected {n} values, found {vec.shape}")
        if problems:
            where = str(self.source) if self.source is not None else self.name
            msg = f"{where}: " + "; ".join(problems)
            raise InputFormatError(msg)
        object.__setattr__(self, "costs", costs)
        object.__setattr__(self, "flows", flows)
        object.__setattr__(self, "coords", coords)
        object.__setattr__(self, "fixed_costs", MappingProxyType(fixed))
        object.__setattr__(self, "capacities", MappingProxyType(caps))
        object.__setattr__(self, "flow_scale", float(self.flow_scale))
        object.__setattr__(self, "chi", float(self.chi))
        object.__setattr__(self, "alpha", float(self.alpha))
        object.__setattr__(self, "delta", float(self.delta))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle support (mapping proxies cannot be pickled; plain dicts are sent)."""
        values = []
        for f in fields(self):
            value = getattr(self, f.name)
            values.append(dict(value) if isinstance(value, MappingProxyType) else value)
        return (type(self), tuple(values))

    def scaled_flows(self) -> FloatArray:
        """Flows times ``flow_scale``: ``sum scaled_flows * cost`` is in published units."""
        return np.asarray(self.flows * self.flow_scale, dtype=np.float64)

    @property
    def total_flow(self) -> float:
        """Sum of the raw flows (diagonal included)."""
        return float(self.flows.sum())

    def __repr__(self) -> str:
        """Short summary (the arrays are not printed)."""
        return (
            f"HubInstance(name={self.name!r}, suite={self.suite!r}, n={self.n}, "
            f"chi={self.chi:g}, alpha={self.alpha:g}, delta={self.delta:g}, p={self.p}, "
            f"flow_scale={self.flow_scale:.6g}, fixed_costs={sorted(self.fixed_costs)}, "
            f"capacities={sorted(self.capacities)}, source={self.source})"
        )


def resolve_hub_dir(data_dir: Path | str | None) -> Path:
    """Return the ``hub-instances`` folder: ``data_dir`` or the configured data folder.

    ``data_dir`` may name the ``hub-instances`` folder itself.  Without it,
    ``hubopt.settings.resolve_data_folder() / "hub-instances"`` is used.
    """
    if data_dir is None:
        from hubopt.settings import resolve_data_folder

        folder = resolve_data_folder() / "hub-instances"
    else:
        folder = Path(data_dir)
    if not folder.is_dir():
        msg = (
            f"{folder}: expected the hub-instances data folder (set HUBOPT_DATA to the "
            "folder that contains hub-instances/), found no such directory"
        )
        raise InputFormatError(msg)
    return folder
