"""Hub instances as files: what a run solved, saved so that it can be solved again.

Every ``hubopt run`` writes ``instance.npz`` (:func:`save_instance`), a plain numpy
archive that loads with ``allow_pickle=False``:

========== ========= ============================================================
array      type      meaning
========== ========= ============================================================
C          f8 (m, m) unit transport cost between the model's nodes (demand points,
                     then the candidate sites unless the sites are the demand points)
W          f8 (m, m) flows
candidate  bool (m,) nodes that may become hubs
fixed_cost f8 (m,)   opening cost of a hub (zeros when the problem has none)
capacity   f8 (m,)   capacity of a hub (``inf`` when the problem has none)
name       str (m,)  node names
lonlat     f8 (m, 2) longitude and latitude (``nan`` when unknown)
chi        f8 ()     collection factor
alpha      f8 ()     inter-hub (transfer) factor
delta      f8 ()     distribution factor
p          i8 ()     number of hubs (0 when free)
problem    str ()    ``usaphmp``, ``umaphmp``, ``usahlp``, ``umahlp``, ``csahlp``,
                     ``coverage``, ``usaphcp``, ``umaphcp``, ``usahcp`` or ``umahcp``
weight     f8 (m,)   optional: the demand weight of each node for the covering
                     models (default: the sum of its row and its column of ``W``)
========== ========= ============================================================

For the covering models (``hubopt bench --problem mclp|lscp``) ``C`` is read as travel
times in minutes: node i reaches candidate k when ``C[i, k] <= minutes``
(:meth:`InstanceFile.coverage_inputs`).

:func:`load_instance_file` reads it back, checking every array at once
(:class:`~hubopt._errors.InputFormatError` naming the file, the array and what was
expected), and :meth:`InstanceFile.model_kwargs` gives the arguments of the models'
``from_cost_matrix``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hubopt._errors import InputFormatError
from hubopt._io import atomic_path

PROBLEMS = ("usaphmp", "umaphmp", "usahlp", "umahlp", "csahlp", "coverage", "usaphcp",
            "umaphcp", "usahcp", "umahcp")


@dataclass(frozen=True, eq=False)
class InstanceFile:
    """The arrays of an ``instance.npz`` (see the module docstring)."""

    C: np.ndarray
    W: np.ndarray
    candidate: np.ndarray
    fixed_cost: np.ndarray
    capacity: np.ndarray
    name: np.ndarray
    lonlat: np.ndarray
    chi: float
    alpha: float
    delta: float
    p: int
    problem: str
    source: str = ""
    weight: np.ndarray | None = None

    @property
    def demand_weight(self) -> np.ndarray:
        """The covering models' weight per node: ``weight``, else row + column sum of W."""
        if self.weight is not None:
            return self.weight
        return np.asarray(self.W.sum(axis=1) + self.W.sum(axis=0), dtype=np.float64)

    def coverage_inputs(self) -> dict[str, Any]:
        """Arguments of ``CoverageModel.from_cost_matrix`` but ``minutes``/``p``/``share``:
        every node a demand point, every node a site (the non-candidates excluded),
        ``C`` as the travel minutes; the capacities when some are finite."""
        kwargs: dict[str, Any] = {
            "times": self.C, "weights": self.demand_weight,
            "excluded": tuple(int(k) for k in np.flatnonzero(~self.candidate)),
        }
        if np.isfinite(self.capacity).any():
            kwargs["capacities"] = self.capacity
        return kwargs

    @property
    def m(self) -> int:
        """Number of model nodes."""
        return int(self.C.shape[0])

    def model_kwargs(self, *, problem: str | None = None, p: int | None = None,
                     alpha: float | None = None) -> dict[str, Any]:
        """Keyword arguments of ``from_cost_matrix`` for ``problem`` (default: the file's)."""
        prob = problem or self.problem
        kwargs: dict[str, Any] = {
            "chi": self.chi, "alpha": self.alpha if alpha is None else alpha,
            "delta": self.delta,
            "excluded": tuple(int(k) for k in np.flatnonzero(~self.candidate)),
        }
        if prob in ("usaphmp", "umaphmp", "usaphcp", "umaphcp"):
            kwargs["p"] = p if p is not None else self.p
        if prob in ("usahlp", "umahlp", "csahlp"):
            kwargs["fixed_costs"] = self.fixed_cost
        if prob == "csahlp":
            kwargs["capacities"] = self.capacity
        return kwargs


def save_instance(path: str | os.PathLike[str], inst: InstanceFile) -> Path:
    """Write ``inst`` to ``path`` (``.npz``) atomically."""
    arrays: dict[str, Any] = {
        "C": np.asarray(inst.C, dtype=np.float64), "W": np.asarray(inst.W, dtype=np.float64),
        "candidate": np.asarray(inst.candidate, dtype=bool),
        "fixed_cost": np.asarray(inst.fixed_cost, dtype=np.float64),
        "capacity": np.asarray(inst.capacity, dtype=np.float64),
        "name": np.asarray([str(x) for x in inst.name], dtype=str),
        "lonlat": np.asarray(inst.lonlat, dtype=np.float64).reshape(-1, 2),
        "chi": np.asarray(float(inst.chi)), "alpha": np.asarray(float(inst.alpha)),
        "delta": np.asarray(float(inst.delta)), "p": np.asarray(int(inst.p), dtype=np.int64),
        "problem": np.asarray(str(inst.problem)),
    }
    if inst.weight is not None:
        arrays["weight"] = np.asarray(inst.weight, dtype=np.float64)
    target = Path(path)
    with atomic_path(target) as tmp, tmp.open("wb") as fh:
        np.savez_compressed(fh, **arrays)
    return target


def load_instance_file(path: str | os.PathLike[str]) -> InstanceFile:
    """Read an ``instance.npz``; raise :class:`InputFormatError` listing every problem."""
    path = Path(path)
    problems: list[str] = []

    def bad(array: str, expected: str, got: Any) -> None:
        problems.append(f"{path}: {array}: expected {expected}; got {got}")

    try:
        with np.load(path, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        msg = f"{path}: expected a numpy .npz archive (hubopt instance.npz): {exc}"
        raise InputFormatError(msg) from exc
    need = ("C", "W", "candidate", "fixed_cost", "capacity", "name", "lonlat", "chi", "alpha",
            "delta", "p", "problem")
    missing = [k for k in need if k not in data]
    if missing:
        msg = f"{path}: missing arrays {', '.join(missing)}; an instance.npz has {', '.join(need)}"
        raise InputFormatError(msg)
    C = data["C"]
    m = C.shape[0] if C.ndim == 2 else -1
    if C.ndim != 2 or C.shape[0] != C.shape[1] or not np.issubdtype(C.dtype, np.floating):
        bad("C", "a square float matrix", f"{C.dtype} {C.shape}")
    elif not np.isfinite(C).all() or (C < 0).any():
        bad("C", "finite costs >= 0", "negative or non-finite values")
    shapes = {"W": (m, m), "candidate": (m,), "fixed_cost": (m,), "capacity": (m,),
              "name": (m,), "lonlat": (m, 2)}
    for key, shape in shapes.items():
        if data[key].shape != shape:
            bad(key, f"shape {shape}", data[key].shape)
    if data["W"].shape == (m, m) and (not np.isfinite(data["W"]).all() or (data["W"] < 0).any()):
        bad("W", "finite flows >= 0", "negative or non-finite values")
    if data["candidate"].dtype != bool:
        bad("candidate", "a boolean array", data["candidate"].dtype)
    for key in ("chi", "alpha", "delta", "p", "problem"):
        if data[key].shape != ():
            bad(key, "a 0-d array", data[key].shape)
    weight = data.get("weight")
    if weight is not None:
        if weight.shape != (m,) or not np.issubdtype(weight.dtype, np.number):
            bad("weight", f"float64 shape ({m},)", f"{weight.dtype} {weight.shape}")
        elif not np.isfinite(weight).all() or (weight < 0).any():
            bad("weight", "finite weights >= 0", "negative or non-finite values")
    problem = str(data["problem"])
    if problem not in PROBLEMS:
        bad("problem", f"one of {', '.join(PROBLEMS)}", repr(problem))
    if problems:
        raise InputFormatError("\n".join(problems))
    return InstanceFile(
        C=C.astype(np.float64), W=data["W"].astype(np.float64), candidate=data["candidate"],
        fixed_cost=data["fixed_cost"].astype(np.float64),
        capacity=data["capacity"].astype(np.float64), name=data["name"].astype(str),
        lonlat=data["lonlat"].astype(np.float64), chi=float(data["chi"]),
        alpha=float(data["alpha"]), delta=float(data["delta"]), p=int(data["p"]),
        problem=problem, source=str(path),
        weight=None if weight is None else weight.astype(np.float64))


__all__ = ["PROBLEMS", "InstanceFile", "load_instance_file", "save_instance"]
