"""Reading a parsed case file into its records, every problem collected (schema checks).

:func:`read_case` is used by :func:`hubopt.case.case_from_dict`; the ``_read_*`` helpers
each read one table.
"""

from __future__ import annotations

from pathlib import Path

from hubopt._external_read import read_external
from hubopt._validate import Problems, Table
from hubopt.case_spec import (
    MATRIX_TIME_UNITS,
    METRICS_WITH_MINUTES,
    MODES,
    OPERATORS,
    SHARE_METRICS,
    CandidateSource,
    CandidateSpec,
    Case,
    DemandSource,
    DemandSpec,
    FlowSource,
    FlowSpec,
    MatrixSpec,
    Metric,
    ModelSpec,
    NetworkSource,
    NetworkSpec,
    ProblemKind,
    Region,
    ResilienceSpec,
    ScorecardSpec,
    SiteRef,
    Target,
    default_targets,
)

# ------------------------------------------------------------------------------------------
# schema


def read_case(root: Table, path: Path) -> Case | None:
    p = root.problems
    head = root.table("case", required=True)
    name = title = description = None
    if head is not None:
        name = head.string("name", required=True, pattern=r"[a-z0-9][a-z0-9_\-]*",
                           pattern_text="a lower-case name of letters, digits, '-' or '_'")
        title = head.string("title", default="")
        description = head.string("description", default="")
        head.finish()
    raw_net = root.data.get("network")
    by_matrix = isinstance(raw_net, dict) and raw_net.get("source") == NetworkSource.MATRIX
    region = _read_region(root.table("region", required=not by_matrix), optional=by_matrix)
    network = _read_network(root.table("network", required=True))
    demand = _read_demand(root.table("demand", required=True))
    flows = _read_flows(root.table("flows", required=True))
    candidates = _read_candidates(root.table("candidates", required=True))
    model = _read_model(root.table("model", required=True),
                        sites_from_file=candidates is not None
                        and candidates.source == CandidateSource.FILE)
    resilience = _read_resilience(root.table("resilience"), model)
    score_table = root.table("scorecard")
    scorecard, use_defaults = _read_scorecard(score_table)
    targets = [t for t in (_read_target(tt) for tt in root.tables("targets")) if t is not None]
    if use_defaults is None:
        use_defaults = not root.has("targets")
    if use_defaults:
        targets = list(default_targets(scorecard)) + targets
    ids = [t.id for t in targets]
    dups = sorted({i for i in ids if ids.count(i) > 1})
    if dups:
        p.add("targets.id", "unique target ids", dups)
    output = None
    out = root.table("output")
    if out is not None:
        folder = out.string("folder")
        output = Path(folder).expanduser() if folder else None
        out.finish()
    external = read_external(root.table("external"),
                             network.modes if network is not None else None)
    _cross_check(p, region, network, demand=demand, candidates=candidates, model=model)
    if (network is not None and network.source == NetworkSource.MATRIX
            and "external" in root.data):
        p.note("external", "not available with network.source = 'matrix': the world links "
               "to external markets need the network's layers")
    if p or None in (name, region, network, demand, flows, candidates, model):
        return None
    assert name is not None
    assert region is not None
    assert network is not None
    assert demand is not None
    assert flows is not None
    assert candidates is not None
    assert model is not None
    return Case(name=name, path=path, region=region, network=network, demand=demand,
                flows=flows, candidates=candidates, model=model, targets=tuple(targets),
                scorecard=scorecard, output=output, title=title or "",
                description=description or "", external=external,
                resilience=resilience)


def _read_region(t: Table | None, *, optional: bool = False) -> Region | None:
    """``[region]``; ``optional`` (a matrix case): the table and its keys may be absent."""
    if t is None:
        return Region() if optional else None
    bbox = t.numbers("bbox", length=4)
    if bbox is not None:
        w, s, e, n = bbox
        if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
            t.problems.add(t.field("bbox"), "[west, south, east, north] in degrees with "
                           "-180 <= west < east <= 180 and -90 <= south < north <= 90", bbox)
            bbox = None
    polygon = t.path("polygon")
    if polygon is not None and polygon.suffix.lower() not in (".geojson", ".json", ".gpkg"):
        t.problems.add(t.field("polygon"), "a .geojson, .json or .gpkg file", str(polygon))
    place = t.string("place")
    osm_file = t.path("osm_file")
    if osm_file is not None and not (osm_file.name.endswith((".osm.pbf", ".pbf", ".osm"))):
        t.problems.add(t.field("osm_file"), "an .osm.pbf or .osm file", str(osm_file))
    given = [k for k in ("bbox", "polygon", "place", "osm_file") if k in t.data]
    if not given and not optional:
        t.problems.add(t.prefix, "at least one of bbox, polygon, place, osm_file", "none")
    t.finish()
    return Region(bbox=tuple(bbox) if bbox else None,  # type: ignore[arg-type]
                  polygon=polygon, place=place, osm_file=osm_file)


def _read_network(t: Table | None) -> NetworkSpec | None:
    if t is None:
        return None
    source = t.string("source", required=True, choices=[s.value for s in NetworkSource])
    modes = t.strings("modes", choices=MODES, non_empty=True)
    profiles = t.path("profiles", must_exist=False)
    if profiles is not None and not profiles.is_dir():
        t.problems.add(t.field("profiles"), "a folder of mode profiles (road.toml, rail.toml, "
                       "sea.toml, air.toml, transfers.toml)", str(profiles))
        profiles = None
    max_conn = t.number("max_connector_km", lo=0, lo_open=True)
    weights = t.table("weights")
    tw, mw, cw = 0.0, 1.0, 0.0
    if weights is not None:
        tw = weights.number("time", default=0.0, lo=0)
        mw = weights.number("money", default=0.0, lo=0)
        cw = weights.number("co2", default=0.0, lo=0)
        if tw is not None and mw is not None and cw is not None and tw + mw + cw <= 0:
            t.problems.add(weights.prefix, "at least one positive weight of time, money, co2",
                           [tw, mw, cw])
        weights.finish()
    if modes is not None and "road" not in modes:
        t.problems.add(t.field("modes"), "a list that includes 'road' (demand reaches hubs by "
                       "road)", modes)
    matrix = _read_matrix(t, source, weights=(tw, mw, cw))
    t.finish()
    if source is None:
        return None
    return NetworkSpec(source=NetworkSource(source), modes=tuple(modes or MODES),
                       profiles=profiles, time_weight=tw or 0.0, money_weight=mw or 0.0,
                       co2_weight=cw or 0.0, matrix=matrix,
                       max_connector_km=max_conn)


MATRIX_SUFFIXES = (".omx", ".csv", ".parquet", ".pq")
"""File suffixes of ``[network] matrix``: OMX, or a tidy CSV or Parquet table."""
_MATRIX_KEYS = ("matrix", "time_matrix", "cost_matrix", "co2_matrix", "distance_matrix",
                "lookup", "origin_field", "destination_field", "time_unit")


def _read_matrix(t: Table, source: str | None, *,
                 weights: tuple[float | None, float | None, float | None]
                 ) -> MatrixSpec | None:
    """The keys of ``[network] source = "matrix"`` (an error with any other source)."""
    if source != NetworkSource.MATRIX:
        for k in _MATRIX_KEYS:
            if k in t.data and source is not None:
                t.problems.note(t.field(k), f"only used when source = 'matrix' (here source = "
                                f"{source!r})")
            t.used.add(k)
        return None
    if "modes" in t.data:
        t.problems.note(t.field("modes"), "not used when source = 'matrix' (the matrix has "
                        "no layers; a site's modes come from the candidate-site file)")
    file = t.path("matrix", required=True)
    names = {k: t.string(k, default=d) for k, d in (
        ("time_matrix", "time_h"), ("cost_matrix", "cost"), ("co2_matrix", "co2_kg"),
        ("distance_matrix", "distance_km"), ("origin_field", "origin"),
        ("destination_field", "destination"))}
    lookup = t.string("lookup")
    unit = t.string("time_unit", default="hours", choices=MATRIX_TIME_UNITS)
    if file is not None and file.suffix.lower() not in MATRIX_SUFFIXES:
        t.problems.add(t.field("matrix"), "an OMX file (.omx) or a tidy table (.csv, .parquet)",
                       str(file))
        file = None
    if file is not None:
        omx = file.suffix.lower() == ".omx"
        for k in ("origin_field", "destination_field") if omx else ("lookup",):
            if k in t.data:
                t.problems.note(t.field(k), "only used with a tidy table (.csv, .parquet)" if omx
                                else "only used with an OMX file (.omx)")
    tw, mw, cw = weights
    del tw  # the time matrix is always read (the scorecard and coverage need times)
    for key, w, what in (("cost_matrix", mw, "money"), ("co2_matrix", cw, "co2")):
        if key in t.data and not w:
            t.problems.note(t.field(key), f"not used: network.weights.{what} is 0, so the "
                            "generalized cost does not read it")
    if file is None:
        return None
    return MatrixSpec(file=file, time=names["time_matrix"] or "time_h",
                      cost=names["cost_matrix"] or "cost", co2=names["co2_matrix"] or "co2_kg",
                      distance=names["distance_matrix"] or "distance_km", lookup=lookup,
                      origin_field=names["origin_field"] or "origin",
                      destination_field=names["destination_field"] or "destination",
                      time_unit=unit or "hours")


def _only_for(t: Table, keys: tuple[str, ...], key_name: str, value: str | None,
              allowed: str) -> None:
    """Report keys that the chosen ``key_name = value`` does not use."""
    for k in keys:
        if k in t.data and value is not None and value != allowed:
            t.problems.note(t.field(k), f"only used when {key_name} = {allowed!r} "
                            f"(here {key_name} = {value!r})")


def _read_demand(t: Table | None) -> DemandSpec | None:
    if t is None:
        return None
    source = t.string("source", required=True, choices=[s.value for s in DemandSource])
    min_pop = t.number("min_population", default=15000, lo=500, integer=True)
    countries = t.strings("countries") or []
    bad = [c for c in countries if len(c) != 2 or not c.isalpha() or not c.isupper()]
    if bad:
        t.problems.add(t.field("countries"), "ISO 3166-1 alpha-2 codes such as 'FI'", bad)
    max_points = t.number("max_points", lo=2, integer=True)
    separation = t.number("min_separation_km", default=0.0, lo=0, hi=1000)
    file = t.path("file", required=source == DemandSource.FILE)
    fields = {k: t.string(k, default=k.removesuffix("_field").replace("weight", "population"))
              for k in ("name_field", "weight_field", "lon_field", "lat_field")}
    allow_outside = t.boolean("allow_outside", default=False)
    _only_for(t, ("min_population", "countries", "min_separation_km"), "source", source,
              "geonames")
    _only_for(t, ("file", "allow_outside", *fields), "source", source, "file")
    t.finish()
    if source is None:
        return None
    return DemandSpec(source=DemandSource(source), min_population=min_pop or 15000,
                      countries=tuple(countries), max_points=max_points,
                      min_separation_km=separation or 0.0, file=file,
                      allow_outside=allow_outside,
                      name_field=fields["name_field"] or "name",
                      weight_field=fields["weight_field"] or "population",
                      lon_field=fields["lon_field"] or "lon",
                      lat_field=fields["lat_field"] or "lat")


def _read_flows(t: Table | None) -> FlowSpec | None:
    if t is None:
        return None
    source = t.string("source", required=True, choices=[s.value for s in FlowSource])
    unit = t.string("unit", default="t/year")
    total = t.number("total", default=1.0e6, lo=0, lo_open=True)
    a = t.number("origin_exponent", default=1.0, lo=0, hi=5)
    b = t.number("destination_exponent", default=1.0, lo=0, hi=5)
    decay = t.string("decay", default="power", choices=["power", "exponential"])
    beta = t.number("beta", default=1.0, lo=0, hi=10)
    file = t.path("file", required=source == FlowSource.FILE)
    fields = {k: t.string(k, default=k.removesuffix("_field").replace("origin_", "origin"))
              for k in ("origin_field", "destination_field", "flow_field")}
    _only_for(t, ("total", "origin_exponent", "destination_exponent", "decay", "beta"),
              "source", source, "gravity")
    _only_for(t, ("file", *fields), "source", source, "file")
    t.finish()
    if source is None:
        return None
    return FlowSpec(source=FlowSource(source), unit=unit or "t/year", total=total or 1.0e6,
                    origin_exponent=1.0 if a is None else a,
                    destination_exponent=1.0 if b is None else b, decay=decay or "power",
                    beta=1.0 if beta is None else beta, file=file,
                    origin_field=fields["origin_field"] or "origin",
                    destination_field=fields["destination_field"] or "destination",
                    flow_field=fields["flow_field"] or "flow")


def _read_sites(t: Table, key: str) -> tuple[SiteRef, ...]:
    value = t.raw(key)
    if value is None:
        return ()
    expected = "an array of site names or [lon, lat] pairs"
    if not isinstance(value, list):
        t.problems.add(t.field(key), expected, value)
        return ()
    sites: list[SiteRef] = []
    for i, item in enumerate(value):
        if isinstance(item, str) and item.strip():
            sites.append(SiteRef(name=item))
        elif (isinstance(item, list) and len(item) == 2
              and all(isinstance(v, int | float) and not isinstance(v, bool) for v in item)
              and -180 <= item[0] <= 180 and -90 <= item[1] <= 90):
            sites.append(SiteRef(lon=float(item[0]), lat=float(item[1])))
        else:
            t.problems.add(f"{t.field(key)}[{i}]", "a site name or a [lon, lat] pair in "
                           "degrees", item)
    return tuple(sites)


def _read_candidates(t: Table | None) -> CandidateSpec | None:
    if t is None:
        return None
    source = t.string("source", required=True, choices=[s.value for s in CandidateSource])
    file = t.path("file", required=source == CandidateSource.FILE)
    min_modes = t.number("min_modes", default=2, lo=1, hi=4, integer=True)
    max_c = t.number("max_candidates", lo=1, integer=True)
    cluster = t.number("cluster_km", default=15.0, lo=0, lo_open=True, hi=500)
    fields = {k: t.string(k, default=k.removesuffix("_field"))
              for k in ("name_field", "lon_field", "lat_field")}
    existing = _read_sites(t, "existing")
    excluded = _read_sites(t, "excluded")
    match_km = t.number("match_km", default=10.0, lo=0, lo_open=True)
    _only_for(t, ("min_modes", "cluster_km"), "source", source, "terminals")
    _only_for(t, ("file", *fields), "source", source, "file")
    both = {s.label() for s in existing} & {s.label() for s in excluded}
    if both:
        t.problems.add(t.field("excluded"), "no site that is also listed in existing",
                       sorted(both))
    t.finish()
    if source is None:
        return None
    return CandidateSpec(source=CandidateSource(source), file=file, min_modes=min_modes or 2,
                         max_candidates=max_c, cluster_km=cluster or 15.0,
                         name_field=fields["name_field"] or "name",
                         lon_field=fields["lon_field"] or "lon",
                         lat_field=fields["lat_field"] or "lat", existing=existing,
                         excluded=excluded, match_km=match_km or 10.0)


def _read_model(t: Table | None, *, sites_from_file: bool = False) -> ModelSpec | None:
    if t is None:
        return None
    kind_text = t.string("problem", required=True, choices=[k.value for k in ProblemKind])
    kind = ProblemKind(kind_text) if kind_text else None
    p = t.number("p", lo=1, integer=True)
    alpha = t.number("alpha", default=0.75, lo=0, hi=1)
    chi = t.number("chi", default=1.0, lo=0)
    delta = t.number("delta", default=1.0, lo=0)
    fixed = t.number("fixed_cost", lo=0)
    cap = t.number("capacity", lo=0, lo_open=True)
    minutes = t.number("minutes", lo=0, lo_open=True, hi=1440)
    share = t.number("share", lo=0, lo_open=True, hi=1)
    max_cost = t.number("max_cost", lo=0, lo_open=True)
    time_limit = t.number("time_limit", default=60.0, lo=0, lo_open=True, hi=86400)
    seed = t.number("seed", default=0, lo=0, integer=True)
    if kind is not None:
        f = t.field
        if kind.uses_p and kind != ProblemKind.COVERAGE and "p" not in t.data:
            t.problems.add(f("p"), f"the number of hubs (an integer >= 1) for {kind.value} "
                           "(required, missing)")
        if not kind.uses_p and "p" in t.data:
            rule = "max_cost" if kind.uses_max_cost else "fixed_cost"
            t.problems.note(f("p"), f"not used by {kind.value}: the number of hubs follows "
                            f"from {rule} (use usaphmp/umaphmp/usaphcp/umaphcp/coverage to "
                            "fix p)")
        if kind.uses_max_cost and "max_cost" not in t.data:
            t.problems.add(f("max_cost"), f"the bound on every pair's route cost (> 0, in the "
                           f"units of the generalized cost) for {kind.value} (required, "
                           "missing)")
        if not kind.uses_max_cost and "max_cost" in t.data:
            t.problems.note(f("max_cost"), f"only used by problem = 'usahcp' or 'umahcp' "
                            f"(here {kind.value!r})")
        # with sites from a file, the file's fixed_cost/capacity columns may give them
        # (checked with the file: hubopt.candidates.candidates_from_case)
        if kind.uses_fixed_costs and "fixed_cost" not in t.data and not sites_from_file:
            t.problems.add(f("fixed_cost"), f"a hub opening cost >= 0 for {kind.value} "
                           "(required, missing)")
        if not kind.uses_fixed_costs and "fixed_cost" in t.data:
            t.problems.note(f("fixed_cost"), f"not used by {kind.value} (only by usahlp, "
                            "umahlp, csahlp)")
        if kind == ProblemKind.CSAHLP and "capacity" not in t.data and not sites_from_file:
            t.problems.add(f("capacity"), "a hub capacity > 0 for csahlp (required, missing)")
        if kind != ProblemKind.CSAHLP and "capacity" in t.data:
            t.problems.note(f("capacity"), f"not used by {kind.value} (only by csahlp)")
        if kind == ProblemKind.COVERAGE:
            if "minutes" not in t.data:
                t.problems.add(f("minutes"), "the coverage time in minutes for coverage "
                               "(required, missing)")
            if ("p" in t.data) == ("share" in t.data):
                t.problems.add(f("p"), "exactly one of p (maximal covering with p hubs) or "
                               "share (fewest hubs covering that population share)",
                               "both" if "p" in t.data else "neither")
        else:
            for k in ("minutes", "share"):
                if k in t.data:
                    t.problems.note(f(k), f"only used by problem = 'coverage' (here "
                                    f"{kind.value!r})")
    t.finish()
    if kind is None:
        return None
    return ModelSpec(problem=kind, p=p, alpha=0.75 if alpha is None else alpha,
                     chi=1.0 if chi is None else chi, delta=1.0 if delta is None else delta,
                     fixed_cost=fixed, capacity=cap, coverage_minutes=minutes,
                     coverage_share=share, max_cost=max_cost,
                     time_limit=time_limit or 60.0, seed=seed or 0)


def _read_resilience(t: Table | None, model: ModelSpec | None) -> ResilienceSpec:
    """The ``[resilience]`` table; every problem is recorded, none raised here."""
    if t is None:
        return ResilienceSpec()
    objective = t.string("objective", default="none", choices=["none", "expected", "worst"])
    q = t.number("failure_probability", default=0.05, lo=0, hi=1)
    r = t.number("attacks", default=1, lo=1, integer=True)
    n1 = t.number("n1_access_minutes", default=None, lo=0)
    relax = t.boolean("n1_access_relax", default=False)
    f = t.field
    if relax and n1 is None:
        t.problems.note(f("n1_access_relax"), "only used with n1_access_minutes")
    if n1 is not None and model is not None:
        if model.problem not in (ProblemKind.USAPHMP, ProblemKind.UMAPHMP):
            t.problems.add(f("n1_access_minutes"), "no N-1 access constraint for "
                           f"model.problem = {model.problem.value!r} (usaphmp and umaphmp only)",
                           n1)
        elif model.p is not None and model.p < 2:
            t.problems.add("model.p", "p >= 2 for resilience.n1_access_minutes (two hubs "
                           "within reach of every demand point)", model.p)
    if q is not None and q >= 1:
        t.problems.add(f("failure_probability"), "a probability 0 <= q < 1", q)
    if objective == "expected" and "attacks" in t.data:
        t.problems.note(f("attacks"), "only used by objective = 'worst' (here 'expected')")
    if objective == "worst" and "failure_probability" in t.data:
        t.problems.note(f("failure_probability"),
                        "only used by objective = 'expected' (here 'worst')")
    if objective in ("expected", "worst") and model is not None:
        if model.problem not in (ProblemKind.USAPHMP, ProblemKind.UMAPHMP):
            t.problems.add(f("objective"), "none for model.problem = "
                           f"{model.problem.value!r}: resilient designs exist for usaphmp and "
                           "umaphmp", objective)
        elif model.p is not None:
            if objective == "expected" and model.p < 2:
                t.problems.add("model.p", "p >= 2 for resilience.objective = 'expected' "
                               "(a failure must leave a hub)", model.p)
            if objective == "worst" and r is not None and r >= model.p:
                t.problems.add(f("attacks"), f"fewer than model.p = {model.p} hubs "
                               "(an attack must leave a hub)", int(r))
            if objective == "expected" and q is not None and q * model.p > 1:
                t.problems.add(f("failure_probability"), f"at most 1/p = {1 / model.p:.4g} "
                               "(the p hubs fail one at a time)", q)
    t.finish()
    return ResilienceSpec(objective=objective or "none",
                          failure_probability=0.05 if q is None else float(q),
                          attacks=1 if r is None else int(r),
                          n1_access_minutes=None if n1 is None else float(n1),
                          n1_access_relax=bool(relax))


def _read_scorecard(t: Table | None) -> tuple[ScorecardSpec, bool | None]:
    if t is None:
        return ScorecardSpec(), None
    access = t.number("access_minutes", default=60.0, lo=0, lo_open=True, hi=1440)
    reach = t.number("mode_reach_minutes", default=30.0, lo=0, lo_open=True, hi=1440)
    use = t.boolean("default_targets", default=True) if t.has("default_targets") else None
    t.finish()
    return ScorecardSpec(access_minutes=access or 60.0, mode_reach_minutes=reach or 30.0), use


def _read_target(t: Table) -> Target | None:
    tid = t.string("id", required=True, pattern=r"[A-Za-z0-9_\-]+",
                   pattern_text="an id of letters, digits, '-' or '_'")
    metric_text = t.string("metric", required=True, choices=[m.value for m in Metric])
    metric = Metric(metric_text) if metric_text else None
    op = t.string("operator", required=True, choices=OPERATORS)
    if metric in SHARE_METRICS:
        threshold = t.number("threshold", required=True, lo=0, hi=1)
    else:
        threshold = t.number("threshold", required=True, lo=0)
    source = t.string("source", required=True)
    minutes = t.number("minutes", lo=0, lo_open=True, hi=1440)
    mode = t.string("mode", choices=MODES)
    min_pop = t.number("min_population", default=100_000, lo=1, integer=True)
    description = t.string("description", default="")
    if metric in METRICS_WITH_MINUTES and "minutes" not in t.data:
        t.problems.add(t.field("minutes"), f"a time in minutes for metric {metric_text!r} "
                       "(required, missing)")
    if metric == Metric.POPULATION_NEAR_TERMINAL and "mode" not in t.data:
        t.problems.add(t.field("mode"), "the terminal mode (air, sea, rail or road) for "
                       f"metric {metric_text!r} (required, missing)")
    if metric is not None and metric not in METRICS_WITH_MINUTES and "minutes" in t.data:
        t.problems.note(t.field("minutes"), f"not used by metric {metric_text!r}")
    if metric is not None and metric != Metric.POPULATION_NEAR_TERMINAL and "mode" in t.data:
        t.problems.note(t.field("mode"), f"not used by metric {metric_text!r}")
    t.finish()
    if None in (tid, metric, op, threshold, source):
        return None
    assert tid is not None
    assert metric is not None
    assert op is not None
    assert source is not None
    return Target(id=tid, metric=metric, operator=op, threshold=float(threshold),
                  source=source, minutes=minutes, mode=mode, min_population=min_pop or 100_000,
                  description=description or "", field=t.prefix)


def _cross_check(p: Problems, region: Region | None, network: NetworkSpec | None, *,
                 demand: DemandSpec | None, candidates: CandidateSpec | None,
                 model: ModelSpec | None) -> None:
    region_broken = any(": region." in item for item in p.items)
    if region is not None and network is not None and not region_broken:
        src = network.source
        if src == NetworkSource.WORLD and region.bbox is None and region.polygon is None:
            p.add("region.bbox", "a bounding box (or polygon) for network.source = 'world'")
        if src == NetworkSource.FILE and region.osm_file is None:
            p.add("region.osm_file", "an OSM file for network.source = 'file'")
        if src == NetworkSource.ONLINE and not (region.bbox or region.polygon or region.place):
            p.add("region.place", "a place name, bbox or polygon for network.source = 'online'")
    if (region is not None and demand is not None and demand.source == DemandSource.GEONAMES
            and region.bbox is None and region.polygon is None and region.osm_file is None):
        p.add("region.bbox", "a bbox, polygon or osm_file to select GeoNames cities in")
    if (candidates is not None and network is not None
            and network.source == NetworkSource.MATRIX
            and candidates.source == CandidateSource.TERMINALS):
        p.add("candidates.source", "'file' or 'demand' with network.source = 'matrix' (a "
              "matrix has no terminals to take sites from)", "terminals")
    elif (candidates is not None and network is not None
            and candidates.source == CandidateSource.TERMINALS
            and candidates.min_modes > len(network.modes)):
            p.add("candidates.min_modes", f"at most the {len(network.modes)} modes in "
                  "network.modes", candidates.min_modes)
    if (model is not None and candidates is not None and model.p is not None
            and candidates.max_candidates is not None and model.p > candidates.max_candidates):
        p.add("model.p", f"at most candidates.max_candidates = {candidates.max_candidates} "
              "(cannot open more hubs than candidates)", model.p)
    if (model is not None and candidates is not None and model.p is not None
            and len(candidates.existing) > model.p):
        p.add("model.p", f"at least the {len(candidates.existing)} existing hubs that must "
              "stay", model.p)
