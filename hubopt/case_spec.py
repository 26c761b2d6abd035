"""The records of a case: enums, frozen dataclasses and the cited default targets.

A leaf module (it imports only the leaf :mod:`hubopt.external_spec`): :mod:`hubopt.case`
reads case files into these records, and every step of a run reads them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

from hubopt.external_spec import ExternalSpec

MODES: tuple[str, ...] = ("road", "rail", "sea", "air")
TRUNK_MODES: tuple[str, ...] = ("rail", "sea", "air")
BUILTIN_FOLDER = Path(__file__).resolve().parent / "data" / "cases"
DEFAULT_CASE = "default"


@enum.unique
class NetworkSource(enum.StrEnum):
    """Where the network layers come from."""

    WORLD = "world"  # world-scale layers shipped by scgraph-data, searoute, airportsdata
    FILE = "file"  # a local .osm.pbf or .osm file
    ONLINE = "online"  # OpenStreetMap through osmnx (needs internet)
    MATRIX = "matrix"  # the planner's own travel-time / cost matrix (OMX, CSV, Parquet)


@enum.unique
class DemandSource(enum.StrEnum):
    """Where demand points come from."""

    GEONAMES = "geonames"
    FILE = "file"


@enum.unique
class FlowSource(enum.StrEnum):
    """How the origin-destination flows are obtained."""

    GRAVITY = "gravity"
    FILE = "file"


@enum.unique
class CandidateSource(enum.StrEnum):
    """Where candidate hub sites come from."""

    TERMINALS = "terminals"
    FILE = "file"
    DEMAND = "demand"


@enum.unique
class ProblemKind(enum.StrEnum):
    """The model to solve: one of the engine's hub problems, coverage of a target, or a
    bound on every hub-routed trip (p-hub center, hub covering)."""

    USAPHMP = "usaphmp"
    UMAPHMP = "umaphmp"
    USAHLP = "usahlp"
    UMAHLP = "umahlp"
    CSAHLP = "csahlp"
    COVERAGE = "coverage"
    USAPHCP = "usaphcp"
    UMAPHCP = "umaphcp"
    USAHCP = "usahcp"
    UMAHCP = "umahcp"

    @property
    def uses_p(self) -> bool:
        """Whether the number of hubs ``p`` is given (p-hub median, p-hub center and
        coverage)."""
        return self in (ProblemKind.USAPHMP, ProblemKind.UMAPHMP, ProblemKind.COVERAGE,
                        ProblemKind.USAPHCP, ProblemKind.UMAPHCP)

    @property
    def uses_max_cost(self) -> bool:
        """Whether every pair's route must stay within ``max_cost`` (hub covering)."""
        return self in (ProblemKind.USAHCP, ProblemKind.UMAHCP)

    @property
    def uses_fixed_costs(self) -> bool:
        """Whether hubs have fixed opening costs (the hub location problems)."""
        return self in (ProblemKind.USAHLP, ProblemKind.UMAHLP, ProblemKind.CSAHLP)

    @property
    def single_allocation(self) -> bool:
        """Whether each node sends all its flow through one hub."""
        return self in (ProblemKind.USAPHMP, ProblemKind.USAHLP, ProblemKind.CSAHLP,
                        ProblemKind.COVERAGE, ProblemKind.USAPHCP, ProblemKind.USAHCP)


@enum.unique
class Metric(enum.StrEnum):
    """Scorecard metrics that a target may constrain."""

    POPULATION_NEAR_HUB = "population_share_near_hub"
    POPULATION_NEAR_TERMINAL = "population_share_near_terminal"
    POPULATION_NEAR_MOTORWAY = "population_share_near_motorway_junction"
    FULL_HUB_COUNT = "full_hub_count"
    URBAN_NODE_MULTIMODAL = "urban_node_multimodal_share"
    TRUNK_CONNECTED = "trunk_connected_share"
    RESILIENCE_POPULATION_LOSS = "resilience_population_loss_share"
    RESILIENCE_COST_INCREASE = "resilience_cost_increase_share"


METRICS_WITH_MINUTES = {Metric.POPULATION_NEAR_HUB, Metric.POPULATION_NEAR_TERMINAL,
                  Metric.POPULATION_NEAR_MOTORWAY,
                  Metric.URBAN_NODE_MULTIMODAL}
SHARE_METRICS = set(Metric) - {Metric.FULL_HUB_COUNT, Metric.RESILIENCE_COST_INCREASE}
OPERATORS: tuple[str, ...] = (">=", ">", "<=", "<", "==")


@dataclass(frozen=True)
class SiteRef:
    """A reference to a candidate site: by name, or by coordinates (nearest within a radius)."""

    name: str | None = None
    lon: float | None = None
    lat: float | None = None

    def label(self) -> str:
        """Text for messages."""
        return self.name if self.name is not None else f"({self.lon:g}, {self.lat:g})"


@dataclass(frozen=True)
class Region:
    """The study region: a bounding box, a polygon file, a place name or an OSM file."""

    bbox: tuple[float, float, float, float] | None = None
    polygon: Path | None = None
    place: str | None = None
    osm_file: Path | None = None


MATRIX_TIME_UNITS: tuple[str, ...] = ("hours", "minutes")


@dataclass(frozen=True)
class MatrixSpec:
    """The planner's own matrix (``[network] source = "matrix"``): file, names, units.

    ``file`` is an OMX file (``.omx``) or a tidy table (``.csv``, ``.parquet``) with one row
    per origin-destination pair. ``time``, ``cost``, ``co2`` and ``distance`` name the OMX
    matrices or the table's columns; ``lookup`` the OMX mapping whose entries are the
    names of the case's points; ``time_unit`` the unit of the time values. Costs are in
    the mode profiles' currency per flow unit, CO2 in kg per flow unit, distances in km.
    """

    file: Path
    time: str = "time_h"
    cost: str = "cost"
    co2: str = "co2_kg"
    distance: str = "distance_km"
    lookup: str | None = None
    origin_field: str = "origin"
    destination_field: str = "destination"
    time_unit: str = "hours"


DEFAULT_MAX_CONNECTOR_KM = {"world": 25.0, "file": 5.0, "online": 5.0}
"""Longest connector (perpendicular from a point to the nearest road edge) by source.

World-scale roads are main roads only, tens of km apart in rural areas; OSM extracts
hold every street, so a point 5 km from any road is a data error.
"""


@dataclass(frozen=True)
class NetworkSpec:
    """Layers, their source, mode profiles and the generalized-cost weights.

    Generalized cost of an edge = ``time_weight`` (EUR per hour) * time_h
    + ``money_weight`` * cost (EUR per unit) + ``co2_weight`` (EUR per kg) * co2_kg.
    """

    source: NetworkSource
    modes: tuple[str, ...] = MODES
    profiles: Path | None = None
    time_weight: float = 0.0
    money_weight: float = 1.0
    co2_weight: float = 0.0
    matrix: MatrixSpec | None = None


    max_connector_km: float | None = None  # None: DEFAULT_MAX_CONNECTOR_KM of the source

    @property
    def connector_limit_km(self) -> float:
        """The longest connector accepted (km): the case's, else the source's default."""
        if self.max_connector_km is not None:
            return self.max_connector_km
        return DEFAULT_MAX_CONNECTOR_KM.get(self.source.value, 5.0)


@dataclass(frozen=True)
class DemandSpec:
    """Demand points: GeoNames cities or a file of weighted points.

    ``min_separation_km`` drops a GeoNames city closer than that to a more populous one
    already kept (GeoNames lists city districts, e.g. "East Helsinki", beside the city,
    whose population already includes them).
    """

    source: DemandSource
    min_population: int = 15000
    countries: tuple[str, ...] = ()
    max_points: int | None = None
    min_separation_km: float = 0.0
    file: Path | None = None
    name_field: str = "name"
    weight_field: str = "population"
    lon_field: str = "lon"
    lat_field: str = "lat"
    allow_outside: bool = False  # demand points outside the region are an error unless set


@dataclass(frozen=True)
class FlowSpec:
    """Origin-destination flows: a file, or a gravity model with stated parameters.

    Gravity: ``W_ij = k * P_i**a * P_j**b * f(d_ij)`` for i != j, with
    ``f(d) = d**-beta`` (``decay = "power"``) or ``exp(-beta*d)`` (``"exponential"``),
    ``d`` the great-circle distance in km, ``k`` scaling the total to ``total``.
    """

    source: FlowSource
    unit: str = "t/year"
    total: float = 1.0e6
    origin_exponent: float = 1.0
    destination_exponent: float = 1.0
    decay: str = "power"
    beta: float = 1.0
    file: Path | None = None
    origin_field: str = "origin"
    destination_field: str = "destination"
    flow_field: str = "flow"


@dataclass(frozen=True)
class CandidateSpec:
    """Candidate hub sites, existing hubs that must stay, and excluded sites."""

    source: CandidateSource
    file: Path | None = None
    min_modes: int = 2
    max_candidates: int | None = None
    cluster_km: float = 15.0
    name_field: str = "name"
    lon_field: str = "lon"
    lat_field: str = "lat"
    existing: tuple[SiteRef, ...] = ()
    excluded: tuple[SiteRef, ...] = ()
    match_km: float = 10.0


@dataclass(frozen=True)
class ModelSpec:
    """The hub model and its parameters (``max_cost``: the hub covering problems' bound
    on every route, in the units of the generalized cost)."""

    problem: ProblemKind
    p: int | None = None
    alpha: float = 0.75
    chi: float = 1.0
    delta: float = 1.0
    fixed_cost: float | None = None
    capacity: float | None = None
    coverage_minutes: float | None = None
    coverage_share: float | None = None
    max_cost: float | None = None
    time_limit: float = 60.0
    seed: int = 0


@dataclass(frozen=True)
class ResilienceSpec:
    """The ``[resilience]`` table: the design objective under hub failures.

    ``objective``: ``none`` (the cheapest design), ``expected`` (expected cost when each
    hub is down with probability ``failure_probability``, one at a time) or ``worst``
    (worst case when ``attacks`` hubs are taken out); see :mod:`hubopt.models.resilience`.
    ``n1_access_minutes``: every demand point keeps two hubs within this time (the time
    matrix), so one is left after any single hub failure (a constraint; ``None``: off);
    ``n1_access_relax``: a point with fewer than two sites within reach needs them all open
    (instead of an error naming it).
    """

    objective: str = "none"
    failure_probability: float = 0.05
    attacks: int = 1
    n1_access_minutes: float | None = None
    n1_access_relax: bool = False

    @property
    def active(self) -> bool:
        """Whether the case needs the resilient solve (an objective or the N-1 constraint)."""
        return self.objective != "none" or self.n1_access_minutes is not None


@dataclass(frozen=True)
class Target:
    """One scorecard target: metric, operator, threshold and its public source.

    ``field`` is where the target was defined (``targets[0]``, or ``default_targets``).
    """

    id: str
    metric: Metric
    operator: str
    threshold: float
    source: str
    minutes: float | None = None
    mode: str | None = None
    min_population: int = 100_000
    description: str = ""
    field: str = "default_targets"


@dataclass(frozen=True)
class ScorecardSpec:
    """Scorecard settings: access time T and the mode-reach radius X (minutes)."""

    access_minutes: float = 60.0
    mode_reach_minutes: float = 30.0


@dataclass(frozen=True)
class Case:
    """A validated case. Build with :func:`load_case`."""

    name: str
    path: Path
    region: Region
    network: NetworkSpec
    demand: DemandSpec
    flows: FlowSpec
    candidates: CandidateSpec
    model: ModelSpec
    targets: tuple[Target, ...]
    scorecard: ScorecardSpec = field(default_factory=ScorecardSpec)
    resilience: ResilienceSpec = field(default_factory=ResilienceSpec)
    output: Path | None = None
    title: str = ""
    description: str = ""
    external: ExternalSpec | None = None  # [external]: markets beyond the region



# ------------------------------------------------------------------------------------------
# default targets, each with its public source

_BVWP = ("BMVI (2016), Bundesverkehrswegeplan 2030, accessibility analysis: an international "
         "airport within 60 min and a motorway junction within 30 min by car (RIN, FGSV 2008)")
_TENT_NODES = ("Regulation (EU) 2024/1679 (TEN-T guidelines), urban nodes: at least one "
               "multimodal freight terminal per urban node (urban areas of 100,000+ inhabitants)")
_TENT_LINKS = ("Regulation (EU) No 1315/2013 (TEN-T), art. 41: core maritime ports and main "
               "airports connected to the rail and road network")
_N1 = ("N-1 security criterion (no single point of failure), as in ENTSO-E grid planning; "
       "threshold: hubopt default")


def default_targets(scorecard: ScorecardSpec | None = None) -> tuple[Target, ...]:
    """The default world-class connectivity targets, each citing its source."""
    t = (scorecard or ScorecardSpec()).access_minutes
    return (
        Target("airport_60min", Metric.POPULATION_NEAR_TERMINAL, ">=", 0.9, _BVWP + "; share "
               "0.9: hubopt default", minutes=60.0, mode="air",
               description="population share within 60 min by road of an airport"),
        Target("motorway_30min", Metric.POPULATION_NEAR_MOTORWAY, ">=", 0.9, _BVWP + "; share "
               "0.9: hubopt default", minutes=30.0,
               description="population share within 30 min by road of a motorway junction"),
        Target("port_90min", Metric.POPULATION_NEAR_TERMINAL, ">=", 0.8,
               "container-port access within 90 min by road; threshold and share 0.8: hubopt "
               "default, after " + _TENT_LINKS, minutes=90.0, mode="sea",
               description="population share within 90 min by road of a sea port"),
        Target("hub_access", Metric.POPULATION_NEAR_HUB, ">=", 0.8,
               "hubopt default, after the 60-minute standard of " + _BVWP, minutes=t,
               description=f"population share within {t:g} min by road of a proposed hub"),
        Target("urban_node_terminal", Metric.URBAN_NODE_MULTIMODAL, ">=", 1.0, _TENT_NODES
               + "; 30 min reach: hubopt default", minutes=30.0, min_population=100_000,
               description="urban nodes with a rail- or sea-served hub within 30 min"),
        Target("four_mode_hub", Metric.FULL_HUB_COUNT, ">=", 1.0, _TENT_LINKS,
               description="hubs that reach sea, air, rail and road"),
        Target("trunk_links", Metric.TRUNK_CONNECTED, ">=", 1.0,
               "hubopt default: every pair of hubs joined on a trunk mode (rail, sea or air)",
               description="share of hub pairs joined on rail, sea or air"),
        Target("n1_population", Metric.RESILIENCE_POPULATION_LOSS, "<=", 0.1, _N1,
               description=f"largest population share losing {t:g}-min hub access "
                           "when one hub fails"),
        Target("n1_cost", Metric.RESILIENCE_COST_INCREASE, "<=", 0.25, _N1,
               description="largest relative cost increase when one hub fails"),
    )
