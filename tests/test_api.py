"""The package's shape: no import cycles between hubopt modules, a light ``import hubopt``.

The import graph is read from the source with :mod:`ast`, so it sees every import:
module-level, inside functions, and under ``if TYPE_CHECKING:`` (a cycle there still ties
the two modules together for readers and type checkers). ``from hubopt.layers import X``
is an edge to ``hubopt.layers`` (the package ``__init__``) unless ``X`` is a submodule,
in which case it is an edge to ``hubopt.layers.X``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "hubopt"

HEAVY = ("ortools", "geopandas", "matplotlib", "numba", "numpy", "pandas", "scipy",
         "networkx", "shapely", "pyproj", "osmnx", "osmium", "pyrosm", "searoute", "click",
         "dask", "distributed")
"""Third-party packages that ``import hubopt`` must not load (hubopt imports on use)."""


@dataclass(frozen=True)
class Edge:
    """``source`` imports ``target`` at ``path:line``."""

    source: str
    target: str
    path: str
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))
            if "__pycache__" not in p.parts}


def _owner(name: str, modules: dict[str, Path]) -> str | None:
    """The longest known module that ``name`` lies in (``hubopt.a.b.C`` -> ``hubopt.a.b``)."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        candidate = ".".join(parts[:k])
        if candidate in modules:
            return candidate
    return None


def _base(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module named by a (possibly relative) ``from ... import``."""
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join([*package, node.module] if node.module else package)


def import_edges() -> list[Edge]:
    """Every import of a hubopt module by a hubopt module, with its location."""
    modules = _modules()
    edges: list[Edge] = []
    for module, path in modules.items():
        rel = str(path.relative_to(REPO))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=rel)):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _base(module, path, node)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]
            for name in targets:
                target = _owner(name, modules) if name.split(".")[0] == "hubopt" else None
                edge = Edge(module, target or "", rel, node.lineno)
                if target is not None and target != module and edge not in edges:
                    edges.append(edge)
    return edges


def import_cycles(edges: list[Edge]) -> list[list[Edge]]:
    """The strongly connected components of more than one module, as their inner edges."""
    graph = nx.DiGraph()
    graph.add_edges_from((e.source, e.target) for e in edges)
    out = []
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:
            inner = [e for e in edges if e.source in component and e.target in component]
            out.append(sorted(inner, key=lambda e: (e.source, e.target, e.line)))
    return sorted(out, key=lambda c: c[0].source)


def test_import_graph_sees_every_kind_of_import() -> None:
    edges = {(e.source, e.target) for e in import_edges()}
    # module level, from-import of a submodule, function level and TYPE_CHECKING imports
    assert ("hubopt.layers.world", "hubopt.settings") in edges
    assert ("hubopt.layers.world", "hubopt.layers.air") in edges
    assert ("hubopt.layers", "hubopt.layers.world") in edges
    assert ("hubopt.layers", "hubopt.profiles") in edges
    assert ("hubopt.profiles", "hubopt.modes") in edges


@pytest.mark.parametrize(
    ("module", "filename", "statement", "expected"),
    [
        ("hubopt.layers.air", "air.py", "from . import _geo", "hubopt.layers"),
        ("hubopt.layers.air", "air.py", "from ._geo import x", "hubopt.layers._geo"),
        ("hubopt.layers.air", "air.py", "from ..profiles import x", "hubopt.profiles"),
        ("hubopt.layers", "__init__.py", "from .world import x", "hubopt.layers.world"),
        ("hubopt.layers", "__init__.py", "from hubopt.modes import x", "hubopt.modes"),
    ],
)
def test_relative_imports_resolve_to_absolute_modules(
    module: str, filename: str, statement: str, expected: str
) -> None:
    node = ast.parse(statement).body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _base(module, Path(filename), node) == expected


def test_no_import_cycles() -> None:
    cycles = import_cycles(import_edges())
    lines = []
    for inner in cycles:
        members = sorted({e.source for e in inner})
        lines.append(f"cycle of {len(members)} modules: {', '.join(members)}")
        lines += [f"    {e.source} -> {e.target}  ({e.path}:{e.line})" for e in inner]
    assert not cycles, "import cycles between hubopt modules:\n" + "\n".join(lines)


def _loaded_after(statement: str) -> set[str]:
    code = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, check=True, timeout=120)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _top_level(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_import_hubopt_has_no_side_effects() -> None:
    before = _loaded_after("pass")
    after = _loaded_after("import hubopt")
    new = after - before
    assert {m for m in new if m.startswith("hubopt")} == {"hubopt"}
    assert not _top_level(new) & set(HEAVY), sorted(_top_level(new) & set(HEAVY))
    assert not any(m.startswith("hubopt") for m in before)


@pytest.mark.parametrize(
    ("module", "not_loaded"),
    [
        ("hubopt.modes", HEAVY),
        ("hubopt.profiles", HEAVY),
        ("hubopt.settings", HEAVY),
        ("hubopt.layers", ("ortools", "matplotlib", "numba", "osmnx", "osmium", "pyrosm",
                           "searoute")),
    ],
)
def test_light_modules_load_no_heavy_dependency(module: str, not_loaded: tuple[str, ...]) -> None:
    loaded = _top_level(_loaded_after(f"import {module}"))
    assert not loaded & set(not_loaded), sorted(loaded & set(not_loaded))


def test_layers_package_keeps_its_public_names() -> None:
    import hubopt.layers
    import hubopt.modes

    for name in hubopt.layers.__all__:
        assert getattr(hubopt.layers, name) is not None
    assert hubopt.layers.Mode is hubopt.modes.Mode
    assert callable(hubopt.layers.extract_layer)
