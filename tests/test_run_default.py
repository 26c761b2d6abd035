"""The built-in default case end to end: outputs read back with geopandas and checked."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pyogrio
import pytest
from click.testing import CliRunner

from hubopt.cli import cli
from hubopt.outputs import FILES, write_outputs
from hubopt.pipeline import RunResult, run_case

MODES = {"road", "rail", "sea", "air", "transfer"}


@pytest.fixture(scope="session")
def default_written(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path]:
    """The default case, run once per test session, and the folder of its outputs."""
    result = run_case(None)
    return result, write_outputs(result, tmp_path_factory.mktemp("default") / "out")


@pytest.fixture(scope="session")
def default_run(default_written: tuple[RunResult, Path]) -> RunResult:
    """What the default case's run computed."""
    return default_written[0]


@pytest.fixture(scope="session")
def out(default_written: tuple[RunResult, Path]) -> Path:
    """The default case's output folder."""
    return default_written[1]


def _geojson(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_output_file_is_written(default_run: RunResult, out: Path) -> None:
    for name in FILES:
        assert (out / name).is_file(), name
    assert (out / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", ["hubs", "allocations", "routes"])
def test_geojson_is_rfc7946_in_epsg4326(default_run: RunResult, name: str, out: Path) -> None:
    path = out / f"{name}.geojson"
    raw = _geojson(path)
    assert raw["type"] == "FeatureCollection"
    assert "crs" not in raw  # RFC 7946: WGS84 implied
    for feat in raw["features"]:
        assert all(not isinstance(v, dict | list) for v in feat["properties"].values())
    gdf = gpd.read_file(path)
    assert gdf.crs is not None
    assert gdf.crs.to_epsg() == 4326
    assert len(gdf) > 0
    assert gdf.geometry.is_valid.all()
    w, s, e, n = gdf.total_bounds
    assert -180 <= w <= e <= 180
    assert -90 <= s <= n <= 90


def test_every_demand_point_is_allocated_to_an_open_hub(default_run: RunResult, out: Path) -> None:
    hubs = gpd.read_file(out / "hubs.geojson")
    alloc = gpd.read_file(out / "allocations.geojson")
    access = alloc[alloc["kind"] == "access"]
    open_hubs = set(hubs["name"])
    assert len(open_hubs) == default_run.case.model.p == 3
    assert sorted(access["from_name"]) == sorted(default_run.demand.names)
    assert set(access["to_name"]) <= open_hubs
    inter = alloc[alloc["kind"] == "inter_hub"]
    assert set(inter["from_name"]) <= open_hubs
    assert set(inter["to_name"]) <= open_hubs
    # the lines start at the demand point and end at the hub
    by_name = dict(zip(hubs["name"], hubs.geometry, strict=True))
    for _, row in access.iterrows():
        end = row.geometry.coords[-1]
        assert end == pytest.approx(by_name[row["to_name"]].coords[0], abs=1e-6)


def test_objective_recomputed_from_outputs_equals_reported(
        default_run: RunResult, out: Path) -> None:
    m = default_run.case.model
    hubs = gpd.read_file(out / "hubs.geojson")
    alloc = gpd.read_file(out / "allocations.geojson")
    acc = alloc[alloc["kind"] == "access"]
    inter = alloc[alloc["kind"] == "inter_hub"]
    recomputed = (
        float((m.chi * acc["unit_cost_out_eur_per_t"] * acc["flow_out_t_per_year"]).sum())
        + float((m.delta * acc["unit_cost_in_eur_per_t"] * acc["flow_in_t_per_year"]).sum())
        + float((m.alpha * inter["unit_cost_out_eur_per_t"] * inter["flow_t_per_year"]).sum())
        + float(hubs["fixed_cost_eur_per_year"].sum())
    )
    score = _geojson(out / "scorecard.json")
    run = _geojson(out / "run.json")
    assert recomputed == pytest.approx(score["objective"], rel=1e-7)
    assert recomputed == pytest.approx(run["solution"]["objective"], rel=1e-7)
    assert float(alloc["cost_eur_per_year"].sum()) == pytest.approx(recomputed, rel=1e-7)
    # the split by mode adds up to the transport cost
    split = sum(v for v in score["objective_by_mode"].values())
    assert split == pytest.approx(score["objective"] - score["fixed_cost_total"], rel=1e-6)


def test_flows_are_conserved_through_the_hubs(default_run: RunResult, out: Path) -> None:
    alloc = gpd.read_file(out / "allocations.geojson")
    acc = alloc[alloc["kind"] == "access"]
    total = float(default_run.flows.sum())
    assert float(acc["flow_out_t_per_year"].sum()) == pytest.approx(total)
    assert float(acc["flow_in_t_per_year"].sum()) == pytest.approx(total)
    hubs = gpd.read_file(out / "hubs.geojson")
    # every OD flow passes one or two hubs
    assert total <= float(hubs["throughput_t_per_year"].sum()) <= 2 * total + 1e-6


def test_routes_follow_contiguous_network_paths(default_run: RunResult, out: Path) -> None:
    routes = gpd.read_file(out / "routes.geojson")
    alloc = gpd.read_file(out / "allocations.geojson")
    assert set(routes["mode"]) <= MODES
    assert {"road", "sea"} <= set(routes["mode"])  # the gulf is crossed by sea
    unit_out = {(r["from_name"], r["to_name"]): r["unit_cost_out_eur_per_t"]
                for _, r in alloc.iterrows()}
    for leg, seg in routes.sort_values(["leg", "seq"]).groupby("leg"):
        coords = [list(g.coords) for g in seg.geometry]
        for a, b in itertools.pairwise(coords):
            assert a[-1] == pytest.approx(b[0], abs=1e-6), f"leg {leg} is not contiguous"
        first = seg.iloc[0]
        key = (first["from_name"], first["to_name"])
        if first["leg_kind"] in ("collect", "inter_hub") and key in unit_out:
            assert float(seg["unit_cost_eur_per_t"].sum()) == pytest.approx(unit_out[key], rel=1e-6)


def test_route_costs_equal_networkx_shortest_paths(default_run: RunResult, out: Path) -> None:
    from hubopt.network import network_to_networkx

    net = default_run.network  # the network with the snapped edges split
    mx = default_run.matrices
    assert mx is not None
    G = network_to_networkx(net)
    d, c = default_run.demand, default_run.candidates
    alloc = gpd.read_file(out / "allocations.geojson")
    acc = alloc[alloc["kind"] == "access"].head(5)
    for _, row in acc.iterrows():
        i = d.names.index(row["from_name"])
        k = c.names.index(row["to_name"])
        a, b = mx.demand_snap, mx.site_snap
        want = nx.dijkstra_path_length(G, int(a.node[i]), int(b.node[k]), weight="cost")
        connectors = float(a.cost[i] + b.cost[k])  # the default case weighs money only
        got = row["unit_cost_out_eur_per_t"] - connectors
        assert got == pytest.approx(want, rel=1e-6, abs=1e-6)


def test_network_geopackage_has_every_layer(default_run: RunResult, out: Path) -> None:
    layers = {name for name, _ in pyogrio.list_layers(out / "network.gpkg")}
    assert {"road", "rail", "sea", "air", "transfers", "terminals", "candidates"} <= layers
    sites = gpd.read_file(out / "network.gpkg", layer="candidates")
    assert int(sites["open"].sum()) == 3
    assert sites.crs.to_epsg() == 4326


def test_scorecard_lists_every_target_with_its_source(default_run: RunResult, out: Path) -> None:
    score = _geojson(out / "scorecard.json")
    ids = [t["id"] for t in score["targets"]]
    assert ids == [t.id for t in default_run.case.targets]
    for t in score["targets"]:
        assert t["source"]
        assert t["operator"] in (">=", ">", "<=", "<", "==")
        assert isinstance(t["passed"], bool)
    assert len(score["hubs"]) == 3
    for h in score["hubs"]:
        assert set(h["modes_reached"]) <= {"road", "rail", "sea", "air"}
        assert h["full_four_mode_hub"] == (len(h["modes_reached"]) == 4)
    # population near a hub, recomputed from the road-time matrix
    T = score["access_minutes"]
    hubs = list(default_run.solved.hubs)
    near = (default_run.demand_minutes[:, hubs] <= T).any(axis=1)
    share = float(default_run.demand.weight[near].sum() / default_run.demand.weight.sum())
    assert score["population_near_hub_share"] == pytest.approx(share)


def test_failure_analysis_re_optimises_the_allocation(default_run: RunResult, out: Path) -> None:
    """Each failure's cost is the best reassignment of every demand point to the hubs left
    (brute force over all of them), never above the plain move to the nearest other hub."""
    r = default_run
    m = r.case.model
    C, nd = r.costs, len(r.demand)
    off = nd  # sites follow the demand points in the model's node order
    alloc = r.solved.single
    assert alloc is not None
    W = r.flows
    O, D = W.sum(axis=1), W.sum(axis=0)

    def cost(a: np.ndarray) -> float:
        return sum(W[i, j] * (m.chi * C[i, off + a[i]] + m.alpha * C[off + a[i], off + a[j]]
                              + m.delta * C[off + a[j], j])
                   for i in range(nd) for j in range(nd))

    def best_over_all(rest: list[int]) -> float:
        # every allocation of the nd points to the hubs left, at once
        choice = np.array(list(itertools.product(range(len(rest)), repeat=nd)))
        nodes = off + np.asarray(rest)[choice]  # (allocations, nd) model nodes
        idx = np.arange(nd)
        access = (m.chi * O[None, :] * C[idx[None, :], nodes]
                  + m.delta * D[None, :] * C[nodes, idx[None, :]]).sum(axis=1)
        hub_c = C[np.ix_(off + np.asarray(rest), off + np.asarray(rest))]
        onehot = np.eye(len(rest))[choice]  # (allocations, nd, hubs)
        inter = np.einsum("nia,ij,njb,ab->n", onehot, W, onehot, m.alpha * hub_c)
        return float((access + inter).min())

    base = cost(alloc)
    score = _geojson(out / "scorecard.json")
    assert "re-optimised" in score["failure_method"]
    for h in score["hubs"]:
        k = r.candidates.names.index(h["name"])
        rest = [x for x in r.solved.hubs if x != k]
        nearest = np.array([a if a != k else min(rest, key=lambda q: C[i, off + q])
                            for i, a in enumerate(alloc)])
        assert len(rest) == 2  # 2 ** nd allocations
        best = best_over_all(rest)
        assert h["failure_cost_increase"] == pytest.approx(best - base, rel=1e-6)
        assert h["failure_cost_increase"] <= cost(nearest) - base + 1e-6 * base


def test_report_has_the_tables_and_the_map(default_run: RunResult, out: Path) -> None:
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "![" in text
    assert "(map.png)" in text
    for head in ("## Proposed hubs", "## Scorecard", "## Resilience", "## Objective by mode"):
        assert head in text
    for k in default_run.solved.hubs:
        assert default_run.candidates.names[k] in text
    assert "OpenStreetMap contributors" in text
    run = _geojson(out / "run.json")
    assert {"python", "ortools", "numpy", "geopandas"} <= set(run["versions"])
    assert [s["step"] for s in run["steps"]] == ["inputs", "network", "candidates", "matrices",
                                                 "model", "flows", "scorecard", "outputs"]


def test_existing_output_folder_is_not_overwritten_without_force(out: Path) -> None:
    before = (out / "hubs.geojson").stat().st_mtime_ns
    result = CliRunner().invoke(cli, ["run", "--out", str(out)])
    assert result.exit_code == 2
    assert "--force" in (result.output + (result.stderr or ""))
    assert (out / "hubs.geojson").stat().st_mtime_ns == before


_DETERMINISTIC = ("hubs.geojson", "allocations.geojson", "routes.geojson", "scorecard.json",
                  "report.md")


def test_two_runs_give_identical_outputs(default_run: RunResult, tmp_path: Path, out: Path) -> None:
    out = tmp_path / "again"
    result = CliRunner().invoke(cli, ["run", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in _DETERMINISTIC:
        assert (out / name).read_bytes() == (out / name).read_bytes(), name
    a = _geojson(out / "run.json")
    b = _geojson(out / "run.json")
    for doc in (a, b):
        doc.pop("steps")
        doc["solution"].pop("solver_seconds")
        doc["options"].pop("out")
    assert a == b
    for layer in ("road", "terminals", "candidates"):
        x = gpd.read_file(out / "network.gpkg", layer=layer)
        y = gpd.read_file(out / "network.gpkg", layer=layer)
        assert x.equals(y)


def test_output_folder_appears_whole_or_not_at_all(default_run: RunResult, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import hubopt.outputs

    def broken_report(*_: Any) -> None:
        msg = "disk full"
        raise OSError(msg)

    monkeypatch.setattr(hubopt.outputs, "write_report", broken_report)
    target = tmp_path / "run"
    with pytest.raises(OSError, match="disk full"):
        write_outputs(default_run, target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # no partial folder left beside it either


def test_forced_outputs_replace_the_old_folder_whole(default_run: RunResult,
                                                     tmp_path: Path) -> None:
    target = tmp_path / "run"
    target.mkdir()
    (target / "stale.txt").write_text("from an older run", encoding="utf-8")
    from hubopt._errors import OutputExistsError

    with pytest.raises(OutputExistsError):
        write_outputs(default_run, target)
    assert (target / "stale.txt").exists()
    write_outputs(default_run, target, force=True)
    assert sorted(p.name for p in target.iterdir()) == sorted(FILES)
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o777 & ~umask  # as mkdir would make it
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_instance_file_solves_to_the_runs_objective(default_run: RunResult, out: Path) -> None:
    from hubopt.instance_file import load_instance_file
    from hubopt.models import SolveParameters, build_model

    with np.load(out / "instance.npz", allow_pickle=False) as npz:
        assert set(npz.files) == {"C", "W", "candidate", "fixed_cost", "capacity", "name",
                                  "lonlat", "chi", "alpha", "delta", "p", "problem"}
    inst = load_instance_file(out / "instance.npz")
    nd, ns = len(default_run.demand), len(default_run.candidates)
    assert inst.m == nd + ns
    assert list(inst.name) == [*default_run.demand.names, *default_run.candidates.names]
    assert not inst.candidate[:nd].any()
    assert inst.problem == default_run.case.model.problem.value
    np.testing.assert_array_equal(inst.C, default_run.costs)
    np.testing.assert_array_equal(inst.W[:nd, :nd], default_run.flows)
    model = build_model(inst.problem, inst.C, inst.W, **inst.model_kwargs())
    sol = model.solve(SolveParameters(time_limit=60))
    assert sol.objective == pytest.approx(default_run.solved.objective, rel=1e-9)
    assert sorted(int(h) - nd for h in sol.hubs) == sorted(default_run.solved.hubs)
