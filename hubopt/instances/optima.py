"""Reference optima of the hub-location benchmarks (``hub-instances/optima.json``).

Each record gives a problem (``USApHMP``, ``UMApHMP``, ``USAHLP``, ``UMAHLP``,
``CSAHLP``), an instance name (``AP10.2``, ``AP10LT``, ``CAB15`` ...), the cost
parameters, the objective in the published units, the hubs and, where
published, the single allocation.  All node numbers are 1-based.  ``status`` says
whether a value is a literature optimum or was computed as a test oracle.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from hubopt._errors import InputFormatError
from hubopt.instances._instance import resolve_hub_dir
from hubopt.instances._parse import read_text

__all__ = ["OPTIMA_FILE", "ReferenceOptimum", "find_optimum", "load_optima"]

OPTIMA_FILE = "optima.json"
_SUITES = {"AP": "ap", "CAB": "cab", "TR": "tr"}


@dataclass(frozen=True)
class ReferenceOptimum:
    """One record of ``optima.json`` (node numbers 1-based).

    ``allocation[i]`` is the hub (1-based) of node i+1 for single-allocation
    records that publish it, else ``None``.  ``fixed_cost_type`` and
    ``capacity_type`` are ``"L"``, ``"T"`` or ``None``.
    """

    problem: str
    instance: str
    n: int
    p: int | None
    alpha: float
    chi: float
    delta: float
    fixed_cost_type: str | None
    capacity_type: str | None
    objective: float
    hubs: tuple[int, ...]
    allocation: tuple[int, ...] | None
    status: str
    source: str

    @property
    def suite(self) -> str:
        """``"ap"``, ``"cab"`` or ``"tr"``, from the instance name."""
        return _suite_of(self.instance)

    @property
    def is_literature_value(self) -> bool:
        """True for values published by the instance authors (not computed oracles)."""
        return self.status in {"optimal", "best known"}


def _suite_of(instance: str) -> str:
    for prefix in sorted(_SUITES, key=len, reverse=True):
        if instance.upper().startswith(prefix):
            return _SUITES[prefix]
    return ""


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _int_list(value: Any, n: int | None) -> bool:
    if not isinstance(value, list) or not all(_is_int(v) for v in value):
        return False
    return n is None or all(1 <= v <= n for v in value)


def _check_record(rec: Any) -> list[str]:
    if not isinstance(rec, dict):
        return [f"expected an object, found {type(rec).__name__}"]
    problems: list[str] = []
    for key in ("problem", "instance", "status", "source"):
        if not isinstance(rec.get(key), str):
            problems.append(f"field {key!r}: expected a string, found {rec.get(key)!r}")
    raw_n = rec.get("n")
    n: int | None = raw_n if _is_int(raw_n) and raw_n >= 1 else None
    if n is None:
        problems.append(f"field 'n': expected a positive integer, found {raw_n!r}")
    p = rec.get("p")
    if p is not None and not (_is_int(p) and p >= 0):
        problems.append(f"field 'p': expected a non-negative integer or null, found {p!r}")
    for key in ("alpha", "chi", "delta", "objective"):
        if not _is_num(rec.get(key)):
            problems.append(f"field {key!r}: expected a number, found {rec.get(key)!r}")
    for key in ("fixed_cost_type", "capacity_type"):
        if rec.get(key) not in (None, "L", "T"):
            problems.append(f"field {key!r}: expected 'L', 'T' or null, found {rec.get(key)!r}")
    if not _int_list(rec.get("hubs"), n):
        problems.append(
            f"field 'hubs': expected a list of node numbers 1..n, found {rec.get('hubs')!r}"
        )
    alloc = rec.get("allocation")
    if alloc is not None and (not _int_list(alloc, n) or (n is not None and len(alloc) != n)):
        problems.append("field 'allocation': expected n node numbers 1..n or null")
    return problems


def read_optima(path: Path | str) -> list[ReferenceOptimum]:
    """Read an optima file; every malformed record is reported in one error."""
    path = Path(path)
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        msg = f"{path}, line {exc.lineno}: expected JSON, {exc.msg}"
        raise InputFormatError(msg) from None
    if not isinstance(data, list):
        msg = f"{path}: expected a JSON list of records, found {type(data).__name__}"
        raise InputFormatError(msg)
    problems: list[str] = []
    for k, rec in enumerate(data):
        problems.extend(f"record {k}: {pr}" for pr in _check_record(rec))
    if problems:
        msg = f"{path}: {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems)
        raise InputFormatError(msg)
    return [
        ReferenceOptimum(
            problem=rec["problem"],
            instance=rec["instance"],
            n=rec["n"],
            p=rec.get("p"),
            alpha=float(rec["alpha"]),
            chi=float(rec["chi"]),
            delta=float(rec["delta"]),
            fixed_cost_type=rec.get("fixed_cost_type"),
            capacity_type=rec.get("capacity_type"),
            objective=float(rec["objective"]),
            hubs=tuple(rec["hubs"]),
            allocation=None if rec.get("allocation") is None else tuple(rec["allocation"]),
            status=rec["status"],
            source=rec["source"],
        )
        for rec in data
    ]


def load_optima(*, data_dir: Path | str | None = None) -> list[ReferenceOptimum]:
    """Load ``optima.json`` from the ``hub-instances`` folder (default: the data folder)."""
    return read_optima(resolve_hub_dir(data_dir) / OPTIMA_FILE)


def find_optimum(
    optima: Iterable[ReferenceOptimum],
    *,
    problem: str,
    suite: str,
    n: int,
    p: int | None = None,
    alpha: float | None = None,
    fixed_cost: str | None = None,
    capacity: str | None = None,
) -> ReferenceOptimum | None:
    """Return the reference record for one benchmark instance, or ``None``.

    ``problem`` and ``suite`` are matched case-insensitively.  ``p`` and ``alpha``
    are wildcards when ``None`` (fixed-cost problems have no p); ``alpha`` matches
    to 1e-9.  ``fixed_cost`` and ``capacity`` must equal the record's type (``None``
    matches records without one).  When several records match, the first in file
    order is returned.
    """
    want_problem = problem.casefold()
    want_suite = suite.casefold()
    for rec in optima:
        if rec.problem.casefold() != want_problem or rec.suite != want_suite or rec.n != n:
            continue
        if p is not None and rec.p != p:
            continue
        if alpha is not None and not math.isclose(rec.alpha, alpha, rel_tol=0, abs_tol=1e-9):
            continue
        if rec.fixed_cost_type != fixed_cost or rec.capacity_type != capacity:
            continue
        return rec
    return None


def hubs_of(allocation: Sequence[int]) -> tuple[int, ...]:
    """Sorted distinct hubs (1-based) of a single allocation vector."""
    return tuple(sorted(set(allocation)))
