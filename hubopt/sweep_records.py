"""Records of a sweep (a leaf module): its scenarios, result rows and summary table.

See :mod:`hubopt.sweep` for how a sweep runs.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULT_COLUMNS = ("scenario", "objective", "bound", "gap", "status", "hubs", "n_hubs",
                  "targets_met", "targets_total", "n1_population_share", "n1_cost_share",
                  "seconds", "error")
"""The columns of ``scenarios.csv`` after the swept keys."""


@dataclass(frozen=True)
class Scenario:
    """One combination of the swept values: its folder name and its overrides."""

    name: str
    values: tuple[tuple[str, str], ...]  # (key, value text) in the order of the --set options

    @property
    def overrides(self) -> tuple[str, ...]:
        """The ``KEY=VALUE`` overrides of this scenario."""
        return tuple(f"{k}={v}" for k, v in self.values)


@dataclass(frozen=True)
class SweepResult:
    """The rows of a sweep (in scenario order), the swept keys and the output folder."""

    keys: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    folder: Path
    seconds: float

    def to_csv(self) -> str:
        """``scenarios.csv`` text: swept keys, then :data:`RESULT_COLUMNS`."""
        buf = io.StringIO()
        columns = [*self.keys, *RESULT_COLUMNS]
        writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore",
                                lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({c: _cell(row.get(c, "")) for c in columns})
        return buf.getvalue()


def _cell(v: Any) -> Any:
    if isinstance(v, float):
        return "" if math.isnan(v) else repr(v)
    return v


__all__ = ["RESULT_COLUMNS", "Scenario", "SweepResult"]
