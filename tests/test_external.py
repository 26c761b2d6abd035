"""External markets: schema, flows, world links, the model with markets, the scorecard.

Checks against independent truths: great-circle distances recomputed here from the
airports' coordinates, costs to a market recomputed link by link with one-pair
shortest paths, the solution's objective with zero external flow equal to the model
without markets, and the scorecard's path costs recomputed from the model's matrix.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from hubopt._errors import CaseValidationError, InfeasibleModelError
from hubopt.case import BUILTIN_FOLDER, case_from_dict
from hubopt.costs import shortest_path
from hubopt.demand import DemandPoints
from hubopt.external import (
    ExternalFlows,
    Markets,
    external_flows_from_file,
    gravity_external,
    markets_from_case,
)
from hubopt.external_spec import MarketMetric, MarketRef

PRIMORYE = BUILTIN_FOLDER / "primorye.toml"


def _data(path: Path = PRIMORYE) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _case(data: dict, tmp: Path | None = None):
    return case_from_dict(data, path=(tmp or PRIMORYE.parent) / "case.toml")


def _haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


# ------------------------------------------------------------------------------------------
# schema


def test_case_without_external_table_has_no_markets() -> None:
    data = _data(BUILTIN_FOLDER / "default.toml")
    assert _case(data).external is None


def test_builtin_primorye_reads_markets_modes_flows_and_default_targets() -> None:
    case = _case(_data())
    ext = case.external
    assert ext is not None
    assert [m.name for m in ext.markets] == ["Shanghai", "Busan", "Tokyo", "Moscow"]
    assert ext.markets[0].port == "CNSHA"
    assert ext.markets[0].airport == "PVG"
    assert ext.modes == ("road", "rail", "sea", "air")
    assert {t.metric for t in ext.targets} == set(MarketMetric)
    assert all(t.source for t in ext.targets)


def test_broken_external_table_reports_every_problem_at_once() -> None:
    data = _data()
    data["network"]["modes"] = ["road", "rail"]
    data["external"] = {
        "markets": ["Busan", {"name": "Somewhere", "lon": 10.0}, {"name": "X", "lat": 1.0,
                    "lon": 2.0, "country": "china", "airport": "pvg1"}, 5, "Busan"],
        "modes": ["sea"],
        "flows": "file",
        "total": 5.0,
        "colour": "red",
        "targets": [{"id": "t", "metric": "population_share_within_hours_of_markets",
                     "operator": ">=", "threshold": 1.5, "source": "x"}],
    }
    with pytest.raises(CaseValidationError) as info:
        _case(data)
    text = str(info.value)
    for field in ("external.markets[1]", "external.markets[2].country",
                  "external.markets[2].airport", "external.markets[3]", "external.modes",
                  "external.file", "external.total", "external.colour",
                  "external.targets[0].threshold", "external.targets[0].hours"):
        assert field in text, field


def test_gateway_n1_target_reads_its_allowance_and_rejects_a_count() -> None:
    data = _data()
    n1 = {"id": "n1", "metric": "market_share_within_cost_when_best_gateway_fails",
          "operator": ">=", "threshold": 1.0, "source": "x"}
    data["external"]["targets"] = [{**n1, "max_increase": 0.1}]
    case = _case(data)
    assert case.external is not None
    got = {t.id: t for t in case.external.targets}["n1"]
    assert got.metric == MarketMetric.MARKETS_GATEWAY_N1
    assert got.max_increase == 0.1
    data["external"]["targets"] = [{**n1, "count": 2, "max_increase": -1}]
    with pytest.raises(CaseValidationError) as info:
        _case(data)
    for field in ("external.targets[0].count", "external.targets[0].max_increase"):
        assert field in str(info.value), field


def test_unknown_market_and_market_inside_the_region_are_named(tmp_path: Path) -> None:
    data = _data()
    data["external"]["markets"] = ["Xyzzyville", "Vladivostok", "Busan"]
    case = _case(data)
    with pytest.raises(CaseValidationError) as info:
        markets_from_case(case)
    text = str(info.value)
    assert "external.markets[0]" in text
    assert "Xyzzyville" in text
    assert "external.markets[1]" in text
    assert "outside the region" in text
    assert "markets[2]" not in text


# ------------------------------------------------------------------------------------------
# flows


def _two_points() -> DemandPoints:
    return DemandPoints(("A", "B"), np.array([131.9, 132.9]), np.array([43.1, 42.8]),
                        np.array([600_000.0, 150_000.0]))


def _markets() -> Markets:
    refs = (MarketRef("Busan"), MarketRef("Tokyo"))
    return Markets(("Busan", "Tokyo"), np.array([129.04, 139.69]), np.array([35.10, 35.69]),
                   np.array([3.5e6, 8.3e6]), refs)


def test_gravity_external_flows_split_total_by_population_over_distance() -> None:
    d, mk = _two_points(), _markets()
    ex, im, tr = gravity_external(d, mk, total=1000.0, export_share=0.3, transit_total=50.0,
                                  beta=1.0)
    assert ex.sum() + im.sum() == pytest.approx(1000.0)
    assert ex.sum() == pytest.approx(300.0)
    assert tr.sum() == pytest.approx(50.0)
    assert tr[0, 0] == 0 == tr[1, 1]
    # W_im ~ P_i P_m / d_im, by hand for two entries
    g = [[p * q / _haversine_km(d.lon[i], d.lat[i], mk.lon[j], mk.lat[j])
          for j, q in enumerate(mk.population)] for i, p in enumerate(d.weight)]
    assert ex[0, 1] / ex[1, 0] == pytest.approx(g[0][1] / g[1][0], rel=1e-6)
    assert im[1, 0] / ex[0, 1] == pytest.approx(0.7 / 0.3)


def test_external_flow_file_rows_add_up_and_bad_rows_are_all_reported(tmp_path: Path) -> None:
    d, mk = _two_points(), _markets()
    good = tmp_path / "ext.csv"
    good.write_text("point,market,flow,direction\nA,Busan,10,export\nA,Busan,5,export\n"
                    "B,Tokyo,7,import\nBusan,Tokyo,3,transit\n", encoding="utf-8")
    ex, im, tr = external_flows_from_file(good, d, mk)
    assert ex[0, 0] == 15
    assert im[1, 1] == 7
    assert tr[0, 1] == 3
    bad = tmp_path / "bad.csv"
    bad.write_text("point,market,flow,direction\nZ,Busan,1,export\nA,Seoul,-1,sideways\n",
                   encoding="utf-8")
    with pytest.raises(CaseValidationError) as info:
        external_flows_from_file(bad, d, mk)
    text = str(info.value)
    assert "row 2.point" in text
    assert "row 3.market" in text
    assert "row 3.flow" in text
    assert "row 3.direction" in text


# ------------------------------------------------------------------------------------------
# a small world-layer region with one market (Busan): links, costs, model, scorecard


@pytest.fixture(scope="module")
def busan_run():
    from hubopt.pipeline import run_case

    data = _data()
    data["demand"]["min_population"] = 50000
    data["model"]["p"] = 2
    data["external"]["markets"] = [{"name": "Busan", "country": "KR", "port": "KRPUS",
                                    "airport": "PUS"}]
    data["external"]["transit_total"] = 0.0
    return run_case(_case(data))


def test_air_link_is_great_circle_block_time_plus_market_side_handling(busan_run) -> None:
    from hubopt.layers._world_data import airports

    r = busan_run
    prof = r.network.profiles
    db = airports().set_index("iata")
    link = next(ln for ln in r.external.gateways.links
                if ln.mode == "air" and ln.gateway.endswith("(VVO)"))
    km = _haversine_km(*db.loc["VVO", ["lon", "lat"]], *db.loc["PUS", ["lon", "lat"]])
    assert link.km == pytest.approx(km, rel=2e-3)
    access_km = _haversine_km(129.04, 35.10, *db.loc["PUS", ["lon", "lat"]])
    road = prof["road"]
    expected_h = (km / prof["air"].speed_kmh + prof["air"].param("taxi_climb_h")
                  + prof.transfer("air", "road").time_h
                  + access_km * road.param("connector_detour")
                  / road.param("truck_speed_cap_kmh"))
    # the market's coordinates here are rounded, GeoNames' are exact: within a minute
    assert link.time_h == pytest.approx(expected_h, abs=0.02)


def test_busan_has_no_land_link_and_says_why(busan_run) -> None:
    s = busan_run.markets[0]
    assert set(s["modes_linked"]) == {"sea", "air"}
    assert set(s["modes_missing"]) == {"road", "rail"}
    assert "does not reach" in s["modes_missing"]["rail"]


def test_cost_to_market_is_the_cheapest_gateway_recomputed_pair_by_pair(busan_run) -> None:
    r = busan_run
    em, mx = r.external, r.matrices
    links = em.gateways.links
    to_market = em.to_market()[:, 0]
    for i in (0, len(r.demand) - 1):
        start = int(mx.demand_snap.node[i])
        conn = float(mx.connector_cost(mx.demand_snap)[i])
        best = math.inf
        for ln in links:
            p = shortest_path(r.network, start, ln.node, weights=mx.weights)
            if p is not None:
                best = min(best, conn + p.cost + ln.cost)
        assert to_market[i] == pytest.approx(best, rel=1e-9)


def test_busan_goes_by_sea_which_is_cheaper_than_air_by_hand(busan_run) -> None:
    r = busan_run
    s = r.markets[0]
    sea = min(ln.cost for ln in r.external.gateways.links if ln.mode == "sea")
    air = min(ln.cost for ln in r.external.gateways.links if ln.mode == "air")
    assert sea < air
    assert s["gateway_mode"] == "sea"
    assert s["modes"].endswith("sea")
    assert s["modes"].startswith("road")


def test_least_cost_path_cost_is_the_models_unit_cost(busan_run) -> None:
    r = busan_run
    C = r.solved.data.costs
    alloc = np.asarray(r.solved.allocation)
    M = C.shape[0] - 1
    spec = r.case.model
    for i, row in enumerate(r.markets[0]["paths"]):
        k, m = int(alloc[i]), int(alloc[M])
        want = spec.chi * C[i, k] + spec.alpha * C[k, m] + spec.delta * C[m, M]
        assert row["least_cost"]["cost"] == pytest.approx(want, rel=1e-9)
        assert row["fastest"]["time_h"] <= row["least_cost"]["time_h"] + 1e-9


def test_import_path_cost_is_the_models_unit_cost_from_the_market(busan_run) -> None:
    r = busan_run
    C = r.solved.data.costs
    alloc = np.asarray(r.solved.allocation)
    M = C.shape[0] - 1
    spec = r.case.model
    for i, row in enumerate(r.markets[0]["paths"]):
        m, k = int(alloc[M]), int(alloc[i])
        want = (spec.chi * C[M, m] + spec.alpha * C[m, k] + spec.delta * C[k, i]
                if m != k else spec.chi * C[M, m] + spec.delta * C[m, i])
        imp = row["least_cost_import"]
        assert imp["cost"] == pytest.approx(want, rel=1e-9)
        assert imp["modes"].endswith("road")
        link = [ln for ln in r.external.gateways.links
                if ln.gateway == imp["gateway"] and ln.mode == imp["gateway_mode"]]
        assert len(link) == 1  # a link of this market
        assert imp["time_h"] >= link[0].time_h


def test_objective_includes_external_flows_and_equals_the_evaluator(busan_run) -> None:
    from hubopt.models.evaluate import single_allocation_od_costs

    r = busan_run
    data = r.solved.data
    assert data.flows.shape[0] == r.costs.shape[0] + 1
    assert data.flows[-1].sum() + data.flows[:, -1].sum() == pytest.approx(
        r.external.flows.total)
    od = single_allocation_od_costs(data, np.asarray(r.solved.allocation))
    assert od.sum() == pytest.approx(r.solved.objective, rel=1e-9)


def test_markets_with_zero_flow_leave_hubs_and_objective_unchanged(busan_run) -> None:
    from hubopt.case_model import solve_case
    from hubopt.ext_model import ExternalModel

    r = busan_run
    em = r.external
    zero = ExternalFlows(em.flows.markets, np.zeros_like(em.flows.export),
                         np.zeros_like(em.flows.imports), np.zeros_like(em.flows.transit))
    em0 = ExternalModel(zero, em.gateways, em.to_link, em.from_link, em.link_link)
    base = solve_case(r.case, r.demand, r.flows, r.candidates, r.matrices)
    with_markets = solve_case(r.case, r.demand, r.flows, r.candidates, r.matrices, em0)
    assert with_markets.hubs == base.hubs
    assert with_markets.objective == pytest.approx(base.objective, rel=1e-9)
    assert np.array_equal(with_markets.single, base.single)


def test_market_targets_are_scored_and_cite_a_source(busan_run) -> None:
    ids = {t.id: t for t in busan_run.results}
    assert {"markets_48h", "market_two_modes", "market_gateway_n1"} <= set(ids)
    # one market with sea and air links: two modes, several gateways
    assert ids["market_two_modes"].value == 1.0
    assert all(ids[k].source for k in ("markets_48h", "market_two_modes"))


# ------------------------------------------------------------------------------------------
# gateway N-1: the typical path when the market's best gateway fails


def test_gateway_n1_costs_match_a_hand_computed_example() -> None:
    from hubopt.markets import gateway_n1_costs

    # two points; links 0 and 1 belong to the failing gateway, link 2 to another one
    head = np.array([10.0, 20.0])  # chi C[i,k] + alpha C[k,l]
    to_link = np.array([[4.0, 6.0, 10.0],   # point 0's market hub: link 0 best (4)
                        [8.0, 2.0, 6.0]])   # point 1's market hub: link 1 best (2)
    before, old, after, new = gateway_n1_costs(head, to_link, [0, 1, 2], [0, 1], delta=0.5)
    assert before.tolist() == [12.0, 21.0]   # 10 + 0.5*4, 20 + 0.5*2
    assert old.tolist() == [0, 1]
    assert after.tolist() == [15.0, 23.0]    # 10 + 0.5*10, 20 + 0.5*6
    assert new.tolist() == [2, 2]
    w = np.array([0.25, 0.75])               # flow weights
    # flow-weighted: 18.75 -> 21.0, i.e. +12 %
    assert (w @ after - w @ before) / (w @ before) == pytest.approx(0.12)
    # the only gateway fails: no path remains
    _, _, gone, none = gateway_n1_costs(head, to_link, [0, 1], [0, 1], delta=0.5)
    assert np.isinf(gone).all()
    assert (none == -1).all()


def test_gateway_n1_target_counts_markets_within_the_allowance() -> None:
    from hubopt.external_spec import MarketTarget
    from hubopt.markets import evaluate_market_targets

    t = MarketTarget("n1", MarketMetric.MARKETS_GATEWAY_N1, ">=", 1.0, "test",
                     max_increase=0.25)
    summaries = [{"gateway_n1_cost_increase_share": 0.12},
                 {"gateway_n1_cost_increase_share": 0.30},
                 {"gateway_n1_cost_increase_share": None}]  # no other gateway
    (res,) = evaluate_market_targets([t], summaries, _two_points())
    assert res.value == pytest.approx(1 / 3)
    assert not res.passed


def test_gateway_n1_reroutes_every_point_over_the_other_gateways(busan_run) -> None:
    r = busan_run
    s = r.markets[0]
    em = r.external
    C = r.solved.data.costs
    alloc = np.asarray(r.solved.allocation)
    M = C.shape[0] - 1
    spec = r.case.model
    links = em.gateways.links
    rest = [x for x, ln in enumerate(links) if ln.market == 0 and ln.gateway != s["gateway"]]
    assert rest  # Busan is linked by several ports and the airport
    f = em.flows
    w = f.export[:, 0] + f.imports[0, :]
    total_before = total_after = 0.0
    for i in range(len(r.demand)):
        k, l_ = int(alloc[i]), int(alloc[M])
        head = spec.chi * C[i, k] + (spec.alpha * C[k, l_] if k != l_ else 0.0)
        total_before += w[i] * (head + spec.delta * C[l_, M])
        total_after += w[i] * (head + spec.delta * min(em.to_link[l_, x] for x in rest))
    before, after = total_before / w.sum(), total_after / w.sum()
    assert before == pytest.approx(s["cost"], rel=1e-9)
    assert s["gateway_n1_failed"] == s["gateway"]
    assert s["gateway_n1_gateway"] != s["gateway"]
    assert s["gateway_n1_cost"] == pytest.approx(after, rel=1e-9)
    assert s["gateway_n1_cost_increase_share"] == pytest.approx((after - before) / before)
    assert s["gateway_n1_cost_increase_share"] >= 0
    assert s["gateway_n1_time_h"] > 0
    ids = {t.id: t for t in r.results}
    assert ids["market_gateway_n1"].value == float(
        s["gateway_n1_cost_increase_share"] <= 0.25)


def test_market_no_world_link_reaches_is_infeasible(tmp_path: Path) -> None:
    from hubopt.pipeline import run_case

    data = _data()
    data["external"]["markets"] = [{"name": "Busan", "country": "KR"}]
    data["external"]["modes"] = ["road"]
    data["external"]["transit_total"] = 0.0
    with pytest.raises(InfeasibleModelError, match=r"Busan.*no link.*road"):
        run_case(_case(copy.deepcopy(data)))


def test_outputs_write_markets_and_corridors_layers_read_back(busan_run, tmp_path: Path) -> None:
    import json

    from hubopt.outputs import write_outputs

    r = busan_run
    folder = write_outputs(r, tmp_path / "out")
    markets = json.loads((folder / "markets.geojson").read_text(encoding="utf-8"))
    corridors = json.loads((folder / "corridors.geojson").read_text(encoding="utf-8"))
    score = json.loads((folder / "scorecard.json").read_text(encoding="utf-8"))
    assert [f["properties"]["market"] for f in markets["features"]] == ["Busan"]
    feats = corridors["features"]
    assert len(feats) == len(r.external.gateways.links)
    assert sum(f["properties"]["typical"] for f in feats) == 1
    flows = r.external.flows
    assert sum(f["properties"]["flow"] for f in feats) == pytest.approx(
        flows.export.sum() + flows.imports.sum(), rel=1e-6)
    entry = score["markets"][0]
    for key in ("market", "gateway", "modes", "time_h", "cost", "paths"):
        assert key in entry
    assert len(entry["paths"]) == len(r.demand)
    assert "Global connectivity" in (folder / "report.md").read_text(encoding="utf-8")


def test_scorecard_without_external_has_no_markets_key(busan_run) -> None:
    from hubopt.outputs import scorecard_dict

    r = dataclasses.replace(busan_run, external=None, markets=[])
    assert "markets" not in scorecard_dict(r)


def _small(problem: dict) -> dict:
    data = _data()
    data["region"]["bbox"] = [131.6, 42.9, 132.6, 43.6]   # Vladivostok, one airport (VVO)
    data["demand"]["min_population"] = 15000
    data["candidates"] = {"source": "demand"}
    data["model"] = problem
    data["external"]["markets"] = [{"name": "Busan", "country": "KR", "port": "KRPUS",
                                    "airport": "PUS"}]
    data["external"]["modes"] = ["sea", "air"]
    data["external"]["transit_total"] = 0.0
    return data


def test_one_airport_region_gets_air_links_to_the_world() -> None:
    from hubopt.pipeline import run_case

    r = run_case(_case(_small({"problem": "usaphmp", "p": 1})))
    summary = r.network.summary().set_index("mode")
    assert summary.loc["air", "terminals"] == 1
    assert summary.loc["air", "edges"] == 0       # no air link inside the region
    air = [ln for ln in r.external.gateways.links if ln.mode == "air"]
    assert [ln.gateway for ln in air] == ["Vladivostok International Airport (VVO)"]
    assert r.markets[0]["modes_linked"] == ["air", "sea"]


def test_multiple_allocation_paths_cost_the_models_unit_cost() -> None:
    from hubopt.pipeline import run_case

    r = run_case(_case(_small({"problem": "umaphmp", "p": 2})))
    C = r.solved.data.costs
    alloc = np.asarray(r.solved.allocation)
    assert alloc.ndim == 3
    M = C.shape[0] - 1
    spec = r.case.model
    for i, row in enumerate(r.markets[0]["paths"]):
        k, m = int(alloc[i, M, 0]), int(alloc[i, M, 1])
        want = spec.chi * C[i, k] + spec.alpha * C[k, m] + spec.delta * C[m, M]
        assert row["least_cost"]["cost"] == pytest.approx(want, rel=1e-9)
        m, k = int(alloc[M, i, 0]), int(alloc[M, i, 1])  # imports: market's hub first
        want = spec.chi * C[M, m] + spec.alpha * C[m, k] + spec.delta * C[k, i]
        assert row["least_cost_import"]["cost"] == pytest.approx(want, rel=1e-9)


def test_coverage_model_sends_each_market_to_its_cheapest_open_hub() -> None:
    from hubopt.pipeline import run_case

    r = run_case(_case(_small({"problem": "coverage", "p": 1, "minutes": 30.0})))
    C = r.solved.data.costs
    alloc = np.asarray(r.solved.allocation)
    M = C.shape[0] - 1
    hubs = [h + r.solved.offset for h in r.solved.hubs]
    assert alloc[M] == min(hubs, key=lambda h: C[M, h] + C[h, M])
    assert r.markets[0]["paths"]


def test_rail_link_length_is_the_shortest_world_rail_path_outside_the_box() -> None:
    import networkx as nx

    from hubopt.costs import Weights
    from hubopt.gateways import world_links
    from hubopt.layers import BBox, Source
    from hubopt.layers._geo import haversine_m
    from hubopt.layers.world import RAIL_ID_OFFSET, world_graph
    from hubopt.network import build_network

    bbox = (130.3, 42.3, 136.5, 46.5)
    net = build_network(source=Source.from_bbox(BBox(*bbox)), modes="road,rail", world=True)
    harbin = Markets(("Harbin",), np.array([126.65]), np.array([45.75]), np.array([3.2e6]),
                     (MarketRef("Harbin"),))
    gw = world_links(net, harbin, bbox=bbox, modes=("rail",), weights=Weights(money=1.0))
    best = min(gw.links, key=lambda ln: ln.km)
    # independently: networkx on the world railways, edges inside the box removed; only
    # the window 110-140E, 35-60N (a path leaving it could only be longer: a mismatch shows)
    g = world_graph("world_railways")
    lon, lat = g["lon"].astype(float), g["lat"].astype(float)
    inside = (lon >= bbox[0]) & (lon <= bbox[2]) & (lat >= bbox[1]) & (lat <= bbox[3])
    window = (lon >= 110) & (lon <= 140) & (lat >= 35) & (lat <= 60)
    graph = nx.Graph()
    for u, v, km in zip(g["u"].tolist(), g["v"].tolist(), g["km"].tolist(), strict=True):
        if (inside[u] and inside[v]) or not (window[u] and window[v]):
            continue
        w = max(km, float(haversine_m(lon[u], lat[u], lon[v], lat[v])) / 1000.0)
        graph.add_edge(u, v, weight=max(w, 1e-6))
    d = haversine_m(lon, lat, 126.65, 45.75)
    d[inside] = np.inf
    src = int(np.argmin(d))
    crossing = int(best.gateway_id.split("/")[-1]) - RAIL_ID_OFFSET
    km = nx.dijkstra_path_length(graph, src, crossing, weight="weight")
    assert best.km == pytest.approx(km, rel=1e-9)
    assert best.access_km == pytest.approx(
        d[src] / 1000.0 * net.profiles["road"].param("connector_detour"), rel=1e-9)


def test_network_gpkg_has_markets_and_corridors_layers(busan_run, tmp_path: Path) -> None:
    import geopandas as gpd

    from hubopt.outputs import write_network_gpkg

    path = tmp_path / "network.gpkg"
    write_network_gpkg(busan_run, path)
    corridors = gpd.read_file(path, layer="corridors")
    markets = gpd.read_file(path, layer="markets")
    assert len(corridors) == len(busan_run.external.gateways.links)
    assert list(markets["market"]) == ["Busan"]
    assert corridors["typical"].sum() == 1


def test_default_case_with_zero_external_flow_keeps_hubs_and_objective(tmp_path: Path) -> None:
    from hubopt.case_model import solve_case
    from hubopt.pipeline import run_case

    data = _data(BUILTIN_FOLDER / "default.toml")
    flows = tmp_path / "external.csv"
    flows.write_text("point,market,flow,direction\nHelsinki,Stockholm,0,export\n",
                     encoding="utf-8")
    data["external"] = {"markets": [{"name": "Stockholm", "country": "SE"}], "flows": "file",
                        "file": str(flows), "modes": ["sea", "air"]}
    r = run_case(_case(data, tmp_path))
    assert r.external is not None
    assert r.external.flows.total == 0.0
    base = solve_case(dataclasses.replace(r.case, external=None), r.demand, r.flows,
                      r.candidates, r.matrices)
    assert r.solved.hubs == base.hubs
    assert r.solved.objective == pytest.approx(base.objective, rel=1e-9)
    assert np.array_equal(r.solved.single, base.single)


def test_capacity_below_internal_plus_external_flow_is_infeasible() -> None:
    from hubopt.pipeline import validate_case

    data = _small({"problem": "csahlp", "fixed_cost": 1.0, "capacity": 1.0e6})
    data["flows"]["total"] = 1.0e6
    data["external"]["total"] = 1.0e6     # 2e6 in all: two sites could carry it
    validate_case(_case(copy.deepcopy(data)))
    data["model"]["capacity"] = 1.0e5     # but not with sites of 1e5 each
    with pytest.raises(InfeasibleModelError, match="total flow 2e"):
        validate_case(_case(data))
