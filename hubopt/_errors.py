"""Typed errors of hubopt, all under one root :class:`HuboptError`.

Each error mixes in the closest builtin so that callers may catch either.
Messages name the file or field at fault and what was expected.
"""

from __future__ import annotations

from collections.abc import Iterable


class HuboptError(Exception):
    """Root of every error that hubopt raises on purpose."""


class InputFormatError(ValueError, HuboptError):
    """A data file (instance, OSM extract, matrix) is missing, malformed or inconsistent."""


class ModelSpecificationError(ValueError, HuboptError):
    """A model's parameters are inconsistent (p > n, negative costs, wrong shapes, ...)."""


class InfeasibleModelError(HuboptError):
    """The model has no feasible solution; the message says why."""


class SolverError(RuntimeError, HuboptError):
    """The solver failed without a usable solution."""


class LayerExtractionError(ValueError, HuboptError):
    """A network layer could not be built from its source."""


class EmptyLayerError(LayerExtractionError):
    """A requested mode has no data in the region."""


class OutputExistsError(FileExistsError, HuboptError):
    """An output already exists and overwriting was not allowed."""


class CaseValidationError(ValueError, HuboptError):
    """A case file has one or more problems; ``problems`` lists them all."""

    def __init__(self, problems: Iterable[str], *, source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        n = len(self.problems)
        msg = f"{head}{n} problem{'s' if n != 1 else ''}:\n" + "\n".join(
            f"  - {p}" for p in self.problems
        )
        super().__init__(msg)
