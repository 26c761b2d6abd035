"""The planner's own matrix (``[network] source = "matrix"``): read, matched and validated.

:func:`read_skims` reads the case's matrix file (OMX, CSV or Parquet, see
:mod:`hubopt._skims_read`), matches its zone names to the case's model nodes (the demand
points, then the candidate sites unless the sites are the demand points) and checks it,
reporting every problem at once with the file and the field:

* every demand point and site names a zone of the file (each unmatched name is listed,
  with where it came from and the closest zone name);
* every pair that a hub route can use is listed (demand point -> site, site -> demand
  point, site -> site); pairs between two demand points are not needed, since a route
  always passes a hub;
* every value between the case's points is finite and ``>= 0``;
* units: times are hours (or minutes with ``time_unit = "minutes"``); an OMX matrix's
  ``units`` attribute must agree, a cost matrix's currency code must be the mode
  profiles' currency, and the median straight-line speed implied by the times must lie
  in :data:`SPEED_KMH` (a time in minutes read as hours gives under 1 km/h).

The result, :class:`Skims`, holds ``(n, n)`` arrays between model nodes: ``time_h``,
``cost`` (currency per flow unit), ``co2_kg`` (kg per flow unit) and ``distance_km``
(each ``None`` when not read). The same zone on both ends (a site named like a demand
point) and the diagonal are 0.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hubopt._skims_read import ZoneTable, listed, read_zone_table
from hubopt._validate import Problems
from hubopt.case_spec import CandidateSource, DemandSource

if TYPE_CHECKING:
    from hubopt.candidates import Candidates
    from hubopt.case_spec import Case, MatrixSpec
    from hubopt.costs import Weights
    from hubopt.demand import DemandPoints

SPEED_KMH = (1.0, 1200.0)
"""Bounds of the median straight-line speed (km/h) that the matrix's times may imply."""
_HOURS = {"h", "hr", "hrs", "hour", "hours"}
_MINUTES = {"min", "mins", "minute", "minutes"}
_KEYS = {"time": "time_matrix", "cost": "cost_matrix", "co2": "co2_matrix",
         "distance": "distance_matrix"}
_WHAT = {"time": "travel times", "cost": "costs", "co2": "kg CO2e", "distance": "distances"}


@dataclass(frozen=True, eq=False)
class Skims:
    """The matrix between the model nodes of a case (see module doc).

    ``filled`` counts the pairs between two demand points that the file lacks (filled by
    :meth:`generalized`); ``notes`` are warnings for the run (unused zones, filled pairs).
    """

    file: Path
    names: tuple[str, ...]
    n_demand: int
    shared: bool
    time_h: np.ndarray
    cost: np.ndarray | None
    co2_kg: np.ndarray | None
    distance_km: np.ndarray | None
    filled: int = 0
    notes: tuple[str, ...] = ()

    def generalized(self, weights: Weights) -> np.ndarray:
        """Generalized cost ``time * time_h + money * cost + co2 * co2_kg`` between nodes.

        Pairs the file lacks (between two demand points only; no route uses them) get the
        cheapest path through one site, so that the matrix is complete.
        """
        zero = np.zeros_like(self.time_h)
        cost = weights.time * self.time_h
        cost = cost + weights.money * (self.cost if self.cost is not None else zero)
        cost = cost + weights.co2 * (self.co2_kg if self.co2_kg is not None else zero)
        return fill_through_sites(cost, self.n_demand, self.shared)

    def hours(self) -> np.ndarray:
        """Travel times (hours), pairs the file lacks filled as in :meth:`generalized`."""
        return fill_through_sites(self.time_h, self.n_demand, self.shared)


def fill_through_sites(m: np.ndarray, n_demand: int, shared: bool) -> np.ndarray:
    """``m`` with NaN entries replaced by ``min_k m[i, k] + m[k, j]`` over the sites ``k``."""
    out = np.array(m, dtype=np.float64)
    gaps = np.argwhere(np.isnan(out))
    if not len(gaps):
        return out
    sites = np.arange(out.shape[0]) if shared else np.arange(n_demand, out.shape[0])
    through = out[sites, :]  # site -> every node (all needed, so all known)
    for i in np.unique(gaps[:, 0]).tolist():
        row = out[i]
        gap = np.isnan(row)
        row[gap] = (out[i, sites][:, None] + through[:, gap]).min(axis=0)
    return out


def is_shared(demand: DemandPoints, cands: Candidates) -> bool:
    """Whether the sites are all the demand points, in order (then they share model nodes).

    Sites that are only some of the demand points (``max_candidates``) get nodes of their own.
    """
    return (cands.demand_index is not None
            and tuple(cands.demand_index) == tuple(range(len(demand))))


def _origin_of(case: Case, kind: str) -> str:
    """Where the names of demand points or sites come from, for messages."""
    if kind == "demand":
        d = case.demand
        if d.source == DemandSource.FILE:
            return f"demand.file {d.file}, field {d.name_field!r}"
        return "GeoNames cities (demand.source = 'geonames')"
    c = case.candidates
    if c.source == CandidateSource.FILE:
        return f"candidates.file {c.file}, field {c.name_field!r}"
    return f"candidates.source = {c.source.value!r}"


def _match(case: Case, table: ZoneTable, names: tuple[str, ...], n_demand: int,
           field: str, problems: Problems) -> np.ndarray | None:
    index = {z: i for i, z in enumerate(table.zones)}
    idx = np.full(len(names), -1, dtype=np.int64)
    for a, name in enumerate(names):
        z = index.get(name)
        if z is not None:
            idx[a] = z
            continue
        kind = "demand" if a < n_demand else "site"
        what = "demand point" if kind == "demand" else "candidate site"
        close = difflib.get_close_matches(name, table.zones, n=1)
        if not close:  # a zone that contains the name, ignoring case ('Kotka harbour')
            low = name.lower()
            close = [z for z in table.zones if low in z.lower()][:1]
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        problems.note(field, f"no zone named {name!r}, the {what} of "
                      f"{_origin_of(case, kind)}{hint}")
    return None if (idx < 0).any() else idx


def _pair(names: tuple[str, ...], a: int, b: int) -> str:
    return f"{names[a]!r} -> {names[b]!r}"


def _needed(n: int, n_demand: int, shared: bool) -> np.ndarray:
    """Pairs a hub route can use: every pair but those between two demand points."""
    need = np.ones((n, n), dtype=bool)
    if not shared:
        need[:n_demand, :n_demand] = False
    np.fill_diagonal(need, False)
    return need


def _check_units(spec: MatrixSpec, table: ZoneTable, currency: str,
                 problems: Problems) -> None:
    unit = table.units.get("time", "").lower()
    said = "hours" if unit in _HOURS else "minutes" if unit in _MINUTES else None
    if said is not None and said != spec.time_unit:
        problems.add(table.where["time"], f"times in {spec.time_unit} (network.time_unit)",
                     f"units attribute {table.units['time']!r}")
    money = table.units.get("cost", "")
    if len(money) == 3 and money.isalpha() and money.upper() != currency.upper():
        problems.add(table.where["cost"], f"costs in {currency}, the mode profiles' currency",
                     f"units attribute {money!r}")


def _check_speed(spec: MatrixSpec, where: str, hours: np.ndarray, km: np.ndarray,
                 mask: np.ndarray, problems: Problems) -> None:
    sel = mask & (hours > 0) & (km > 1.0)
    if sel.sum() < 3:
        return
    speed = float(np.median(km[sel] / hours[sel]))
    lo, hi = SPEED_KMH
    if lo <= speed <= hi:
        return
    other = "minutes" if spec.time_unit == "hours" else "hours"
    problems.add(where, f"times in {spec.time_unit} (network.time_unit), implying a median "
                 f"straight-line speed between {lo:g} and {hi:g} km/h",
                 f"{speed:.3g} km/h; are the times in {other}?")


def great_circle_km(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Great-circle distances (km, mean Earth radius 6371.0088 km) between all points."""
    la, lo = np.radians(np.asarray(lat, float)), np.radians(np.asarray(lon, float))
    dlat = la[:, None] - la[None, :]
    dlon = lo[:, None] - lo[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(la[:, None]) * np.cos(la[None, :]) * np.sin(dlon / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def read_skims(case: Case, demand: DemandPoints, cands: Candidates, *,
               currency: str = "EUR") -> Skims:
    """Read, match and check the case's matrix; raise one error listing every problem.

    Raises
    ------
    CaseValidationError
        Naming the matrix file and the field (lookup, matrix, column, row) of each problem.
    """
    net = case.network
    spec = net.matrix
    assert spec is not None
    problems = Problems(spec.file)
    wanted = {"time": spec.time, "distance": spec.distance}
    if net.money_weight > 0:
        wanted["cost"] = spec.cost
    if net.co2_weight > 0:
        wanted["co2"] = spec.co2
    table = read_zone_table(spec.file, wanted, lookup=spec.lookup,
                            origin_field=spec.origin_field,
                            destination_field=spec.destination_field, problems=problems)
    if table is None:
        problems.raise_if_any()
        raise AssertionError  # pragma: no cover
    omx = spec.file.suffix.lower() == ".omx"
    for key, name in wanted.items():
        if key != "distance" and key not in table.where:
            kind = "an OMX matrix" if omx else "a column"
            weight = "" if key == "time" else (
                f", needed because network.weights.{'co2' if key == 'co2' else 'money'} > 0")
            problems.add(f"{'matrix' if omx else 'column'} {name!r}",
                         f"{kind} of {_WHAT[key]} (network.{_KEYS[key]}{weight})",
                         list(table.available))
    shared = is_shared(demand, cands)
    names = demand.names if shared else (*demand.names, *cands.names)
    nd = len(demand)
    lookup_field = (f"lookup {spec.lookup!r}" if spec.lookup else "lookup") if omx else (
        f"columns {spec.origin_field!r}, {spec.destination_field!r}")
    idx = _match(case, table, names, nd, lookup_field, problems)
    if idx is None:
        problems.raise_if_any()
        raise AssertionError  # pragma: no cover
    n = len(names)
    same = idx[:, None] == idx[None, :]
    need = _needed(n, nd, shared) & ~same
    present = table.present[np.ix_(idx, idx)] & ~same
    missing = np.argwhere(need & ~present)
    listed(problems, "pairs", "a row for every pair a hub route can use (demand point <-> "
           "site, site <-> site)", [f"missing {_pair(names, a, b)}" for a, b in missing])
    out: dict[str, np.ndarray] = {}
    for key, full in table.values.items():
        m = np.array(full[np.ix_(idx, idx)], dtype=np.float64)
        bad = present & (~np.isfinite(m) | (m < 0))
        rows = table.rows
        listed(problems, table.where[key], f"finite {_WHAT[key]} >= 0 between the case's "
               "points", [
                   f"{_pair(names, a, b)}: {float(m[a, b])!r}" + (
                       f" (row {rows[idx[a], idx[b]]})" if rows is not None else "")
                   for a, b in np.argwhere(bad)])
        m[~present] = np.nan
        m[same] = 0.0
        out[key] = m
    if "time" in out and spec.time_unit == "minutes":
        out["time"] = out["time"] / 60.0
    if "time" in table.where:
        _check_units(spec, table, currency, problems)
    lon = np.concatenate([demand.lon, [] if shared else cands.lon])
    lat = np.concatenate([demand.lat, [] if shared else cands.lat])
    if "time" in out:
        ok = need & present & np.isfinite(out["time"])
        _check_speed(spec, table.where["time"], out["time"], great_circle_km(lon, lat), ok,
                     problems)
    problems.raise_if_any()
    filled = int((~present & ~same & ~np.eye(n, dtype=bool)).sum())
    notes = []
    unused = len(table.zones) - len(set(idx.tolist()))
    if unused:
        notes.append(f"{spec.file.name}: {unused} of its {len(table.zones)} zones are neither "
                     "a demand point nor a candidate site (not used)")
    if filled:
        notes.append(f"{spec.file.name}: {filled} pairs between demand points are not in the "
                     "file; no hub route uses them (filled with the cheapest path through "
                     "one site)")
    return Skims(file=spec.file, names=tuple(names), n_demand=nd, shared=shared,
                 time_h=out["time"], cost=out.get("cost"), co2_kg=out.get("co2"),
                 distance_km=out.get("distance"), filled=filled, notes=tuple(notes))


def case_currency(case: Case) -> str:
    """The mode profiles' currency of a case (the unit of the matrix's costs)."""
    from hubopt.profiles import default_profiles, load_profiles

    prof = case.network.profiles
    return (load_profiles(prof) if prof else default_profiles()).currency


def skims_from_case(case: Case, demand: DemandPoints, cands: Candidates) -> Skims:
    """:func:`read_skims` with the case's currency."""
    return read_skims(case, demand, cands, currency=case_currency(case))


__all__ = ["SPEED_KMH", "Skims", "case_currency", "fill_through_sites", "great_circle_km",
           "is_shared", "read_skims", "skims_from_case"]
