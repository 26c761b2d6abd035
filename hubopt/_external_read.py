"""Reading a case's ``[external]`` table (markets, their flows and targets), every problem
collected. Used by :func:`hubopt._case_read.read_case`.
"""

from __future__ import annotations

from typing import Any

from hubopt._validate import Table
from hubopt.case_spec import MODES, OPERATORS
from hubopt.external_spec import (
    ExternalFlowSource,
    ExternalSpec,
    MarketMetric,
    MarketRef,
    MarketTarget,
    default_market_targets,
)

_MARKET_KEYS = ("name", "lon", "lat", "country", "population", "port", "airport")
_SHARE_METRICS = set(MarketMetric)


def read_external(t: Table | None, network_modes: tuple[str, ...] | None) -> ExternalSpec | None:
    """The ``[external]`` table, or ``None`` when absent or broken (problems recorded)."""
    if t is None:
        return None
    markets = _read_markets(t)
    modes = t.strings("modes", choices=MODES, non_empty=True)
    if modes is not None and network_modes is not None:
        missing = [m for m in modes if m not in network_modes]
        if missing:
            t.problems.add(t.field("modes"), "modes that are also in network.modes "
                           f"{list(network_modes)}", missing)
    flows = t.string("flows", default="gravity", choices=[s.value for s in ExternalFlowSource])
    total = t.number("total", default=1.0e6, lo=0)
    export_share = t.number("export_share", default=0.5, lo=0, hi=1)
    transit = t.number("transit_total", default=0.0, lo=0)
    beta = t.number("beta", default=1.0, lo=0, hi=10)
    file = t.path("file", required=flows == ExternalFlowSource.FILE)
    radius = t.number("market_radius_km", default=150.0, lo=0, lo_open=True, hi=2000)
    if flows is not None and flows != ExternalFlowSource.FILE and "file" in t.data:
        t.problems.note(t.field("file"), f"only used when flows = 'file' (here flows = "
                        f"{flows!r})")
    if flows == ExternalFlowSource.FILE:
        for k in ("total", "export_share", "transit_total", "beta"):
            if k in t.data:
                t.problems.note(t.field(k), "only used when flows = 'gravity' (here flows = "
                                "'file')")
    if (flows != ExternalFlowSource.FILE and total is not None and transit is not None
            and total + transit <= 0):
        t.problems.add(t.field("total"), "a positive total (or transit_total) for "
                       "flows = 'gravity'", total)
    if transit and markets is not None and len(markets) < 2:
        t.problems.add(t.field("transit_total"), "0 with fewer than two markets (transit "
                       "runs between two markets)", transit)
    use_defaults = t.boolean("default_targets", default=True)
    targets = [x for x in (_read_target(tt) for tt in t.tables("targets")) if x is not None]
    if use_defaults:
        targets = list(default_market_targets()) + targets
    ids = [x.id for x in targets]
    dups = sorted({i for i in ids if ids.count(i) > 1})
    if dups:
        t.problems.add(t.field("targets.id"), "unique target ids", dups)
    t.finish()
    if markets is None or flows is None:
        return None
    return ExternalSpec(
        markets=markets, modes=tuple(modes or network_modes or MODES),
        flows=ExternalFlowSource(flows), total=1.0e6 if total is None else total,
        export_share=0.5 if export_share is None else export_share,
        transit_total=transit or 0.0, beta=1.0 if beta is None else beta, file=file,
        market_radius_km=radius or 150.0, targets=tuple(targets))


def _read_markets(t: Table) -> tuple[MarketRef, ...] | None:
    value = t.raw("markets")
    key = t.field("markets")
    expected = ("an array of market names (GeoNames cities) or tables {name = ..., lon = ..., "
                "lat = ...}")
    if value is None:
        t.problems.add(key, expected + " (required, missing)")
        return None
    if not isinstance(value, list) or not value:
        t.problems.add(key, "a non-empty " + expected[3:], value)
        return None
    out: list[MarketRef] = []
    ok = True
    for i, item in enumerate(value):
        where = f"{key}[{i}]"
        if isinstance(item, str) and item.strip():
            out.append(MarketRef(name=item.strip(), field=where))
        elif isinstance(item, dict):
            m = _read_market_table(Table(item, where, t.problems, base=t.base))
            if m is None:
                ok = False
            else:
                out.append(m)
        else:
            t.problems.add(where, "a market name or a table {name = ..., lon = ..., lat = ...}",
                           item)
            ok = False
    names = [m.name for m in out]
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        t.problems.add(key, "markets with distinct names", dups)
        ok = False
    return tuple(out) if ok else None


def _read_market_table(t: Table) -> MarketRef | None:
    before = len(t.problems)
    name = t.string("name", required=True)
    lon = t.number("lon", lo=-180, hi=180)
    lat = t.number("lat", lo=-90, hi=90)
    if ("lon" in t.data) != ("lat" in t.data):
        t.problems.add(t.prefix, "both lon and lat (or neither: the GeoNames city)",
                       "only lon" if "lon" in t.data else "only lat")
    country = t.string("country", pattern=r"[A-Z]{2}",
                       pattern_text="an ISO 3166-1 alpha-2 code such as 'CN'")
    population = t.number("population", lo=0, lo_open=True)
    port = t.string("port", pattern=r"[A-Z]{2}[A-Z0-9]{3}",
                    pattern_text="a UN/LOCODE such as 'CNSHA'")
    airport = t.string("airport", pattern=r"[A-Z0-9]{3}",
                       pattern_text="an IATA airport code such as 'PVG'")
    t.finish()
    if len(t.problems) > before or name is None:
        return None
    return MarketRef(name=name.strip(), lon=lon, lat=lat, country=country,
                     population=population, port=port, airport=airport, field=t.prefix)


def _read_target(t: Table) -> MarketTarget | None:
    tid = t.string("id", required=True, pattern=r"[A-Za-z0-9_\-]+",
                   pattern_text="an id of letters, digits, '-' or '_'")
    metric_text = t.string("metric", required=True, choices=[m.value for m in MarketMetric])
    metric = MarketMetric(metric_text) if metric_text else None
    op = t.string("operator", required=True, choices=OPERATORS)
    threshold = t.number("threshold", required=True, lo=0,
                         hi=1 if metric in _SHARE_METRICS else None)
    source = t.string("source", required=True)
    hours = t.number("hours", lo=0, lo_open=True, hi=24 * 60)
    markets = t.number("markets", default=1, lo=1, integer=True)
    count = t.number("count", default=2, lo=1, hi=64, integer=True)
    max_increase = t.number("max_increase", default=0.25, lo=0)
    description = t.string("description", default="")
    near = metric == MarketMetric.POPULATION_NEAR_MARKETS
    n1 = metric == MarketMetric.MARKETS_GATEWAY_N1
    if near and "hours" not in t.data:
        t.problems.add(t.field("hours"), f"a time in hours for metric {metric_text!r} "
                       "(required, missing)")
    unused: dict[str, Any] = {"hours": not near, "markets": not near,
                              "count": metric is not None and (near or n1),
                              "max_increase": not n1}
    for k, bad in unused.items():
        if bad and metric is not None and k in t.data:
            t.problems.note(t.field(k), f"not used by metric {metric_text!r}")
    t.finish()
    if None in (tid, metric, op, threshold, source):
        return None
    assert tid is not None
    assert metric is not None
    assert op is not None
    assert source is not None
    return MarketTarget(id=tid, metric=metric, operator=op, threshold=float(threshold),
                        source=source, hours=hours, markets=markets or 1, count=count or 2,
                        max_increase=0.25 if max_increase is None else float(max_increase),
                        description=description or "", field=t.prefix)


__all__ = ["read_external"]
