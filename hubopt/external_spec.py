"""The records of a case's ``[external]`` table: markets beyond the region and their flows.

A leaf module (it imports no other hubopt module). :mod:`hubopt._external_read` reads the
table into these records; :mod:`hubopt.external` resolves the markets and their flows,
:mod:`hubopt.gateways` links them to the region's gateways on world-scale layers and
:mod:`hubopt.markets` scores the region's connectivity to them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path


@enum.unique
class ExternalFlowSource(enum.StrEnum):
    """How the flows between the region and its markets are obtained."""

    GRAVITY = "gravity"
    FILE = "file"


@enum.unique
class MarketMetric(enum.StrEnum):
    """Global-connectivity metrics that a market target may constrain."""

    POPULATION_NEAR_MARKETS = "population_share_within_hours_of_markets"
    MARKETS_MULTIMODAL = "market_share_reachable_by_modes"
    MARKETS_GATEWAY_N1 = "market_share_within_cost_when_best_gateway_fails"


@dataclass(frozen=True)
class MarketRef:
    """A market as the case names it: a GeoNames city, or a name with coordinates.

    ``population`` weighs the market in the gravity model (GeoNames' when not given);
    ``port`` (UN/LOCODE of a searoute port) and ``airport`` (IATA code) pin the market's
    own terminals instead of the nearest ones.
    """

    name: str
    lon: float | None = None
    lat: float | None = None
    country: str | None = None
    population: float | None = None
    port: str | None = None
    airport: str | None = None
    field: str = "external.markets"


@dataclass(frozen=True)
class MarketTarget:
    """One global-connectivity target with its public source (or "hubopt default").

    ``population_share_within_hours_of_markets``: population share whose least-cost path
    reaches at least ``markets`` markets within ``hours``.
    ``market_share_reachable_by_modes``: share of markets linked to the region on at least
    ``count`` world-scale modes. ``market_share_within_cost_when_best_gateway_fails``: share
    of markets whose flow-weighted typical path costs at most ``max_increase`` (a share)
    more when the market's best gateway is unavailable (re-routed over the others).
    """

    id: str
    metric: MarketMetric
    operator: str
    threshold: float
    source: str
    hours: float | None = None
    markets: int = 1
    count: int = 2
    max_increase: float = 0.25
    description: str = ""
    field: str = "external.default_targets"


@dataclass(frozen=True)
class ExternalSpec:
    """Markets beyond the region, the world-scale modes that reach them, and their flows.

    Gravity (``flows = "gravity"``): the flow between demand point ``i`` and market ``m``
    is ``k * P_i * P_m * d_im**-beta`` (``d`` great-circle km), split ``export_share``
    region -> market and the rest market -> region, ``k`` scaling the sum to ``total``;
    transit between markets ``a != b`` through the region is ``k' * P_a * P_b *
    d_ab**-beta`` scaled to ``transit_total``. Units: those of ``[flows] unit``.
    """

    markets: tuple[MarketRef, ...]
    modes: tuple[str, ...]
    flows: ExternalFlowSource = ExternalFlowSource.GRAVITY
    total: float = 1.0e6
    export_share: float = 0.5
    transit_total: float = 0.0
    beta: float = 1.0
    file: Path | None = None
    market_radius_km: float = 150.0
    targets: tuple[MarketTarget, ...] = ()


_SOURCE_N1 = ("N-1 security criterion (no single point of failure), as in ENTSO-E grid "
              "planning, applied to the region's links to each market; threshold: hubopt "
              "default")


def default_market_targets() -> tuple[MarketTarget, ...]:
    """The default global-connectivity targets (thresholds are hubopt defaults)."""
    return (
        MarketTarget("markets_48h", MarketMetric.POPULATION_NEAR_MARKETS, ">=", 0.8,
                     "hubopt default: 80% of the population within 48 h of at least two "
                     "markets on its least-cost path (a two-day door-to-market lead time)",
                     hours=48.0, markets=2,
                     description="population share within 48 h of at least 2 markets"),
        MarketTarget("market_two_modes", MarketMetric.MARKETS_MULTIMODAL, ">=", 1.0,
                     _SOURCE_N1, count=2,
                     description="share of markets linked on at least 2 world-scale modes"),
        MarketTarget("market_gateway_n1", MarketMetric.MARKETS_GATEWAY_N1, ">=", 1.0,
                     "N-1 security criterion (no single point of failure), as in ENTSO-E grid "
                     "planning, applied to each market's best gateway; the 25% cost "
                     "allowance: hubopt default", max_increase=0.25,
                     description="share of markets whose typical path costs at most 25% "
                                 "more when their best gateway fails"),
    )


__all__ = ["ExternalFlowSource", "ExternalSpec", "MarketMetric", "MarketRef", "MarketTarget",
           "default_market_targets"]
