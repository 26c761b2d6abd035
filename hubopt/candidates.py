"""Candidate hub sites: from the network's terminals, from a file, or the demand points.

From terminals, the terminals of all modes that lie within ``cluster_km`` of
each other (single linkage) form one site; the site joins the modes of its
terminals plus road (every terminal is linked to the road network), and sites
that join fewer than ``min_modes`` modes are dropped. Existing hubs (which must
stay open) and excluded sites are matched by name or by coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hubopt._tables import is_geo
from hubopt._validate import Problems
from hubopt.demand import DemandPoints, _as_float, great_circle_km, read_records_with_columns

if TYPE_CHECKING:
    import geopandas as gpd

    from hubopt.case import CandidateSpec, Case, SiteRef

_MODE_ORDER = ("sea", "air", "rail", "road")


@dataclass(frozen=True)
class Candidates:
    """Candidate hub sites (WGS84 degrees) with the modes each joins.

    ``existing`` and ``excluded`` are indices into the sites; ``demand_index``
    maps a site to its demand point when the sites are the demand points.
    ``fixed_cost`` and ``capacity`` are per site when the source gave them.
    """

    names: tuple[str, ...]
    lon: np.ndarray
    lat: np.ndarray
    modes: tuple[tuple[str, ...], ...]
    existing: tuple[int, ...] = ()
    excluded: tuple[int, ...] = ()
    demand_index: tuple[int, ...] | None = None
    fixed_cost: np.ndarray | None = None
    capacity: np.ndarray | None = None
    terminals: tuple[tuple[str, ...], ...] = ()

    def __len__(self) -> int:
        return len(self.names)

    @property
    def allowed(self) -> tuple[int, ...]:
        """Indices of the sites that may be opened (not excluded)."""
        ex = set(self.excluded)
        return tuple(i for i in range(len(self)) if i not in ex)

    def to_gdf(self) -> gpd.GeoDataFrame:
        """The sites as a GeoDataFrame in EPSG:4326."""
        import geopandas as gpd

        ex, ko = set(self.existing), set(self.excluded)
        return gpd.GeoDataFrame(
            {
                "name": list(self.names),
                "modes": [",".join(m) for m in self.modes],
                "existing": [i in ex for i in range(len(self))],
                "excluded": [i in ko for i in range(len(self))],
            },
            geometry=gpd.points_from_xy(self.lon, self.lat),
            crs="EPSG:4326",
        )


def _sort_modes(modes: set[str]) -> tuple[str, ...]:
    return tuple(m for m in _MODE_ORDER if m in modes)


def candidates_from_terminals(
    terminals: gpd.GeoDataFrame,
    *,
    cluster_km: float = 15.0,
    min_modes: int = 2,
    max_candidates: int | None = None,
    road: bool = True,
) -> Candidates:
    """Sites from a terminal table (columns ``mode``, ``name``, geometry in EPSG:4326).

    Sites are ranked by the number of modes joined, then by the number of
    terminals, then by name; ``max_candidates`` keeps the first ones.
    """
    if len(terminals) == 0:
        return Candidates((), np.zeros(0), np.zeros(0), ())
    pts = terminals.geometry.to_crs("EPSG:4326") if terminals.crs else terminals.geometry
    lon = np.asarray(pts.x, dtype=float)
    lat = np.asarray(pts.y, dtype=float)
    modes = [str(m) for m in terminals["mode"]]
    names = [
        str(n) if isinstance(n, str) and n.strip() else ""
        for n in (terminals["name"] if "name" in terminals else [""] * len(terminals))
    ]
    refs = [
        str(r) if isinstance(r, str) and r.strip() else ""
        for r in (terminals["ref"] if "ref" in terminals else [""] * len(terminals))
    ]
    kinds = [
        str(k).replace("_", " ") if isinstance(k, str) and k.strip() else "terminal"
        for k in (terminals["kind"] if "kind" in terminals else [""] * len(terminals))
    ]
    labels = _cluster(lon, lat, cluster_km)
    sites = []
    for lab in sorted(set(labels)):
        members = [i for i in range(len(labels)) if labels[i] == lab]
        site_modes = {modes[i] for i in members} | ({"road"} if road else set())
        if len(site_modes) < min_modes:
            continue
        # name: the named terminal of the highest-ranked mode (sea, air, rail, road)
        ranked = sorted(
            members,
            key=lambda i: (
                _MODE_ORDER.index(modes[i]) if modes[i] in _MODE_ORDER else 9,
                names[i] == "",
                names[i],
                refs[i],
                lon[i],
                lat[i],
            ),
        )
        head = ranked[0]
        name = names[head] or refs[head] or f"{modes[head]} {kinds[head]}"
        mem_lon = float(np.mean(lon[members]))
        mem_lat = float(np.mean(lat[members]))
        desc = tuple(sorted(f"{modes[i]}:{names[i] or refs[i] or '?'}" for i in members))
        sites.append(
            (-len(site_modes), -len(members), name, mem_lon, mem_lat, _sort_modes(site_modes), desc)
        )
    sites.sort(key=lambda s: (s[0], s[1], s[2], s[3], s[4]))
    if max_candidates is not None:
        sites = sites[:max_candidates]
    unique = _unique_names([s[2] for s in sites])
    return Candidates(
        names=tuple(unique),
        lon=np.array([s[3] for s in sites], dtype=float),
        lat=np.array([s[4] for s in sites], dtype=float),
        modes=tuple(s[5] for s in sites),
        terminals=tuple(s[6] for s in sites),
    )


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out


def _cluster(lon: np.ndarray, lat: np.ndarray, km: float) -> list[int]:
    """Single-linkage clusters of points closer than ``km`` (union-find over pairs)."""
    n = len(lon)
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    d = great_circle_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    ii, jj = np.nonzero(np.triu(d <= km, k=1))
    for a, b in zip(ii.tolist(), jj.tolist(), strict=True):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return [find(i) for i in range(n)]


def candidates_from_demand(demand: DemandPoints, modes: tuple[str, ...] = ("road",)) -> Candidates:
    """Every demand point is a candidate site (the classic hub-location setting)."""
    return Candidates(
        names=demand.names,
        lon=demand.lon.copy(),
        lat=demand.lat.copy(),
        modes=tuple(modes for _ in demand.names),
        demand_index=tuple(range(len(demand))),
    )


def candidates_from_file(
    path: Path,
    *,
    name_field: str = "name",
    lon_field: str = "lon",
    lat_field: str = "lat",
) -> Candidates:
    """Sites from a CSV or GeoJSON point file.

    Optional columns: ``modes`` (e.g. ``"road;rail;sea"``), ``fixed_cost`` and
    ``capacity`` (numbers, per site; they override the model's uniform values),
    ``existing`` and ``excluded`` (per-site flags: true/false, yes/no, 1/0 or empty for
    false; they add to the case's ``candidates.existing`` and ``candidates.excluded``).
    """
    from hubopt.case import MODES

    rows, problems = read_records_with_columns(path, (name_field, lon_field, lat_field))
    names: list[str] = []
    lon: list[float] = []
    lat: list[float] = []
    modes: list[tuple[str, ...]] = []
    fixed: list[float] = []
    cap: list[float] = []
    flags: dict[str, list[int]] = {"existing": [], "excluded": []}
    csv_file = not is_geo(path)
    present = {col for col in ("fixed_cost", "capacity") if any(col in row for row in rows)}
    for i, row in enumerate(rows, start=2 if csv_file else 0):
        where = f"row {i}" if csv_file else f"features[{i}]"
        nm = str(row[name_field] or "").strip()
        x, y = _as_float(row[lon_field]), _as_float(row[lat_field])
        if not nm:
            problems.add(f"{where}.{name_field}", "a non-empty name", row[name_field])
        if x is None or not -180 <= x <= 180:
            problems.add(f"{where}.{lon_field}", "a longitude in [-180, 180]", row[lon_field])
        if y is None or not -90 <= y <= 90:
            problems.add(f"{where}.{lat_field}", "a latitude in [-90, 90]", row[lat_field])
        raw_modes = str(row.get("modes") or "road").replace(",", ";")
        ms = {m.strip() for m in raw_modes.split(";") if m.strip()}
        if not ms <= set(MODES):
            problems.add(
                f"{where}.modes",
                "modes from road, rail, sea, air separated by ';'",
                row.get("modes"),
            )
        for col, store in (("fixed_cost", fixed), ("capacity", cap)):
            if col in present:  # a column some rows give must be given by every row
                v = _as_float(row.get(col))
                if v is None or v < 0:
                    problems.add(f"{where}.{col}", f"a {col.replace('_', ' ')} >= 0",
                                 row.get(col))
                store.append(v or 0.0)
        for col, marked in flags.items():
            if col in row:
                flag = _as_flag(row[col])
                if flag is None:
                    problems.add(f"{where}.{col}", "true/false, yes/no, 1/0 or empty",
                                 row[col])
                elif flag:
                    marked.append(len(names))
        names.append(nm)
        lon.append(x or 0.0)
        lat.append(y or 0.0)
        modes.append(_sort_modes(ms | {"road"}))
    dups = sorted({n for n in names if n and names.count(n) > 1})
    if dups:
        problems.add(name_field, "unique site names", dups)
    both = sorted(set(flags["existing"]) & set(flags["excluded"]))
    if both:
        problems.add("excluded", "no site flagged both existing and excluded",
                     [names[k] for k in both])
    if not rows:
        problems.add("rows", "at least one candidate site", 0)
    problems.raise_if_any()
    return Candidates(
        names=tuple(names),
        lon=np.array(lon),
        lat=np.array(lat),
        modes=tuple(modes),
        fixed_cost=np.array(fixed) if fixed else None,
        capacity=np.array(cap) if cap else None,
        existing=tuple(flags["existing"]),
        excluded=tuple(flags["excluded"]),
    )


_TRUE = {"true", "yes", "1", "y", "t"}
_FALSE = {"false", "no", "0", "n", "f", ""}


def _as_flag(value: object) -> bool | None:
    """A per-site flag: ``True``/``False``, or ``None`` when the value is not one."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().casefold()
    return True if text in _TRUE else False if text in _FALSE else None


def match_site(cands: Candidates, ref: SiteRef, *, within_km: float) -> int | None:
    """Index of the site that ``ref`` names (exact, then unique substring, case-insensitive)
    or, for coordinates, the nearest site within ``within_km``; ``None`` if none matches.
    """
    if ref.name is not None:
        low = ref.name.casefold()
        exact = [i for i, n in enumerate(cands.names) if n.casefold() == low]
        if len(exact) == 1:
            return exact[0]
        part = [i for i, n in enumerate(cands.names) if low in n.casefold()]
        return part[0] if len(part) == 1 else None
    if len(cands) == 0:
        return None
    d = great_circle_km(cands.lon, cands.lat, ref.lon, ref.lat)
    k = int(np.argmin(d))
    return k if float(d[k]) <= within_km else None


def apply_site_rules(cands: Candidates, spec: CandidateSpec, case_path: Path) -> Candidates:
    """Mark existing (must stay) and excluded sites; every unmatched reference is a problem."""
    problems = Problems(case_path)
    # flags from the candidates file come first; the case's lists add to them
    found: dict[str, list[int]] = {"existing": list(cands.existing),
                                   "excluded": list(cands.excluded)}
    for key, refs in (("existing", spec.existing), ("excluded", spec.excluded)):
        for i, ref in enumerate(refs):
            k = match_site(cands, ref, within_km=spec.match_km)
            if k is None:
                near = ", ".join(cands.names[:12]) + (" ..." if len(cands) > 12 else "")
                how = (
                    "the name of exactly one candidate site"
                    if ref.name is not None
                    else f"a candidate site within candidates.match_km = {spec.match_km:g} km"
                )
                problems.add(f"candidates.{key}[{i}]", f"{how} (sites: {near})", ref.label())
            else:
                found[key].append(k)
    clash = sorted(set(found["existing"]) & set(found["excluded"]))
    if clash:
        problems.add(
            "candidates.excluded", "no site that is also existing", [cands.names[k] for k in clash]
        )
    problems.raise_if_any()
    return replace(
        cands,
        existing=tuple(sorted(set(found["existing"]))),
        excluded=tuple(sorted(set(found["excluded"]))),
    )


def candidates_from_case(
    case: Case, demand: DemandPoints, terminals: gpd.GeoDataFrame | None = None
) -> Candidates:
    """The case's candidate sites with existing and excluded sites applied."""
    from hubopt.case import CandidateSource

    spec = case.candidates
    if spec.source == CandidateSource.FILE:
        assert spec.file is not None
        cands = candidates_from_file(
            spec.file,
            name_field=spec.name_field,
            lon_field=spec.lon_field,
            lat_field=spec.lat_field,
        )
        _check_site_values(case, cands)
    elif spec.source == CandidateSource.DEMAND:
        cands = candidates_from_demand(demand)
    else:
        if terminals is None:
            msg = "candidates from terminals need the network's terminal table"
            raise ValueError(msg)
        cands = candidates_from_terminals(
            terminals,
            cluster_km=spec.cluster_km,
            min_modes=spec.min_modes,
            max_candidates=None,
            road="road" in case.network.modes,
        )
    if case.demand.countries and spec.source != CandidateSource.DEMAND:
        cands = _in_countries(cands, case.demand.countries)
    cands = apply_site_rules(cands, spec, case.path)
    if spec.max_candidates is not None and len(cands) > spec.max_candidates:
        cands = _keep(cands, spec.max_candidates)
    return cands


def _in_countries(cands: Candidates, countries: tuple[str, ...]) -> Candidates:
    """The sites that lie in one of ``countries`` (:func:`hubopt.demand.country_codes`)."""
    from hubopt.demand import country_codes

    if len(cands) == 0:
        return cands
    codes = country_codes(cands.lon, cands.lat)
    keep = [i for i, c in enumerate(codes) if c in set(countries)]
    return cands if len(keep) == len(cands) else _subset(cands, keep)


def _check_site_values(case: Case, cands: Candidates) -> None:
    """Every site needs a fixed cost (and a capacity) where the model uses them: from the
    file's columns, else from the model's one value for all."""
    from hubopt.case import ProblemKind

    problems = Problems(case.path)
    model, spec = case.model, case.candidates
    need = []
    if model.problem.uses_fixed_costs:
        need.append(("fixed_cost", cands.fixed_cost, model.fixed_cost, "a hub opening cost"))
    if model.problem == ProblemKind.CSAHLP:
        need.append(("capacity", cands.capacity, model.capacity, "a hub capacity"))
    for key, per_site, uniform, what in need:
        if per_site is None and uniform is None:
            problems.add(f"model.{key}", f"{what} for {model.problem.value}, here or as a "
                         f"'{key}' column in the candidates file {spec.file}",
                         "neither")
    problems.raise_if_any()


def _keep(cands: Candidates, k: int) -> Candidates:
    """The first ``k`` sites, keeping every existing site (existing first, then rank order)."""
    keep = list(cands.existing) + [i for i in range(len(cands)) if i not in cands.existing]
    return _subset(cands, sorted(keep[: max(k, len(cands.existing))]))


def _subset(cands: Candidates, keep: list[int]) -> Candidates:
    """The sites at positions ``keep`` (sorted), with every index remapped."""
    pos = {old: new for new, old in enumerate(keep)}

    def sub(a: Any) -> Any:
        return None if a is None else np.asarray(a)[keep]

    return Candidates(
        names=tuple(cands.names[i] for i in keep),
        lon=cands.lon[keep],
        lat=cands.lat[keep],
        modes=tuple(cands.modes[i] for i in keep),
        existing=tuple(pos[i] for i in cands.existing if i in pos),
        excluded=tuple(pos[i] for i in cands.excluded if i in pos),
        demand_index=None
        if cands.demand_index is None
        else tuple(cands.demand_index[i] for i in keep),
        fixed_cost=sub(cands.fixed_cost),
        capacity=sub(cands.capacity),
        terminals=tuple(cands.terminals[i] for i in keep) if cands.terminals else (),
    )


__all__ = [
    "Candidates",
    "apply_site_rules",
    "candidates_from_case",
    "candidates_from_demand",
    "candidates_from_file",
    "candidates_from_terminals",
    "match_site",
]
