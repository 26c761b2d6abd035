"""Cases on the planner's own matrix (``[network] source = "matrix"``): OMX, CSV, Parquet.

The matrices are computed here, independently of hubopt (great-circle distances with the
haversine formula, illustrative speeds and tariffs), written to a file, and the case run
on it must give what the engine and a brute force give on the same matrix.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from oracles import brute_single, sets_of_size

from hubopt._errors import CaseValidationError
from hubopt.case import load_case
from hubopt.models import SolveParameters, build_model
from hubopt.outputs import write_outputs
from hubopt.pipeline import RunResult, run_case, validate_case

FIXTURE = Path(__file__).parent / "matrix_case"
TIME_WEIGHT, MONEY_WEIGHT = 10.0, 1.0  # as in the fixture case


def _points() -> list[tuple[str, float, float]]:
    out = []
    for name in ("demand.csv", "sites.csv"):
        with (FIXTURE / name).open(newline="") as fh:
            out += [(r["name"], float(r["lon"]), float(r["lat"])) for r in csv.DictReader(fh)]
    return out


def _haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lon1, lat1), (lon2, lat2) = a, b
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def independent_skims() -> tuple[list[str], dict[str, np.ndarray]]:
    """Times, costs and distances between every pair of the fixture's points.

    1.3 x the great-circle distance at 60 km/h plus 15 min; 5 EUR/t plus 0.09 EUR/t-km.
    """
    pts = _points()
    n = len(pts)
    km = np.array([[0.0 if a == b else 1.3 * _haversine_km(pts[a][1:], pts[b][1:])
                    for b in range(n)] for a in range(n)])
    off = ~np.eye(n, dtype=bool)
    time_h = np.where(off, 0.25 + km / 60.0, 0.0)
    cost = np.where(off, 5.0 + 0.09 * km, 0.0)
    return [p[0] for p in pts], {"time_h": time_h, "cost": cost, "distance_km": km}


def write_omx(path: Path, names: list[str], mats: dict[str, np.ndarray], *,
              lookup: str = "name", units: dict[str, str] | None = None,
              lookup_values: np.ndarray | None = None) -> Path:
    """An OMX file with string zone names (written with PyTables, as other tools do)."""
    import openmatrix as omx

    f = omx.open_file(str(path), "w")
    try:
        for key, m in mats.items():
            f[key] = np.asarray(m, dtype=np.float64)
            if units and key in units:
                f[key].attrs.units = units[key]
        values = (np.array([n.encode() for n in names]) if lookup_values is None
                  else lookup_values)
        if "lookup" not in f.root:
            f.create_group(f.root, "lookup")
        f.create_array(f.root.lookup, lookup, obj=values)
    finally:
        f.close()
    return path


def tidy(names: list[str], mats: dict[str, np.ndarray]) -> pd.DataFrame:
    rows = [(names[a], names[b], *(float(m[a, b]) for m in mats.values()))
            for a, b in itertools.permutations(range(len(names)), 2)]
    return pd.DataFrame(rows, columns=["origin", "destination", *mats])


def make_case(folder: Path, matrix_file: str, *, network: str = "", model: str = "",
              candidates: str = "") -> Path:
    """The fixture case in ``folder`` with its own matrix file and table overrides."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("demand.csv", "sites.csv"):
        shutil.copy(FIXTURE / name, folder / name)
    text = (FIXTURE / "case.toml").read_text(encoding="utf-8")
    text = text.replace('matrix = "skims.csv"', f'matrix = "{matrix_file}"')
    text = text.replace('cost_matrix = "cost"', f'cost_matrix = "cost"\n{network}')
    if model:
        text = text[:text.index("[model]")] + model
    if candidates:
        text = text.replace('source = "file"\nfile = "sites.csv"', candidates)
    path = folder / "case.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_order(r: RunResult, names: list[str], m: np.ndarray) -> np.ndarray:
    """``m`` (rows and columns in ``names`` order) in the run's model-node order."""
    pos = [names.index(n) for n in (*r.demand.names, *r.candidates.names)]
    return m[np.ix_(pos, pos)]


def engine_reference(r: RunResult, names: list[str], time_h: np.ndarray, cost: np.ndarray
                     ) -> tuple[tuple[str, ...], float, float]:
    """Hubs and objective of the engine on the matrix directly, and a brute force.

    ``time_h`` and ``cost`` have their rows and columns in ``names`` order.
    """
    nd = len(r.demand)
    n = len(time_h)
    C = run_order(r, names, TIME_WEIGHT * time_h + MONEY_WEIGHT * cost)
    W = np.zeros((n, n))
    W[:nd, :nd] = r.flows
    spec = r.case.model
    model = build_model(spec.problem.value, C, W, p=spec.p, alpha=spec.alpha,
                        excluded=tuple(range(nd)))
    sol = model.solve(SolveParameters(time_limit=60.0))
    names = [*r.demand.names, *r.candidates.names]
    brute = brute_single(C, W, sets_of_size(n, spec.p or 0, excluded=range(nd)),
                         alpha=spec.alpha, chi=spec.chi, delta=spec.delta)
    return tuple(sorted(names[h] for h in sol.hubs)), float(sol.objective), float(brute)


def _hub_names(r: RunResult) -> tuple[str, ...]:
    return tuple(sorted(r.candidates.names[k] for k in r.solved.hubs))


# ------------------------------------------------------------------------------------------
# end to end


@pytest.fixture(scope="module")
def omx_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path]:
    folder = tmp_path_factory.mktemp("omx")
    names, mats = independent_skims()
    write_omx(folder / "skims.omx", names, mats, units={"time_h": "hours", "cost": "EUR"})
    r = run_case(make_case(folder, "skims.omx"))
    return r, write_outputs(r, folder / "out")


def test_omx_case_finds_the_engines_and_the_brute_force_optimum(
        omx_run: tuple[RunResult, Path]) -> None:
    r, _ = omx_run
    names, mats = independent_skims()
    hubs, objective, brute = engine_reference(r, names, mats["time_h"], mats["cost"])
    assert r.solved.status == "optimal"
    assert _hub_names(r) == hubs
    assert r.solved.objective == pytest.approx(objective, rel=1e-9)
    assert r.solved.objective == pytest.approx(brute, rel=1e-9)
    # the line costs of the outputs add up to the objective (no fixed costs)
    assert sum(ln["cost"] for ln in r.lines) == pytest.approx(r.solved.objective, rel=1e-9)


def test_omx_case_writes_outputs_without_network_layers(
        omx_run: tuple[RunResult, Path]) -> None:
    import pyogrio

    r, out = omx_run
    layers = {name for name, _ in pyogrio.list_layers(out / "network.gpkg")}
    assert {"candidates", "allocations", "routes", "hubs"} <= layers
    assert not layers & {"road", "rail", "sea", "air", "transfers", "terminals"}
    routes = json.loads((out / "routes.geojson").read_text(encoding="utf-8"))["features"]
    assert routes
    names, mats = independent_skims()
    pos = {n: i for i, n in enumerate(names)}
    for f in routes:
        p = f["properties"]
        assert p["mode"] == "matrix"
        assert len(f["geometry"]["coordinates"]) == 2  # a straight line
        a, b = pos[p["from_name"]], pos[p["to_name"]]
        assert p["time_h"] == pytest.approx(mats["time_h"][a, b])
        assert p["length_km"] == pytest.approx(mats["distance_km"][a, b])
    score = json.loads((out / "scorecard.json").read_text(encoding="utf-8"))
    by_id = {t["id"]: t for t in score["targets"]}
    for tid in ("airport_60min", "motorway_30min", "port_90min", "trunk_links"):
        assert by_id[tid]["measured"] is False
        assert by_id[tid]["passed"] is False
    # hub access is measured on the matrix's times (demand point -> site)
    w = r.demand.weight
    hours = run_order(r, names, mats["time_h"])
    near = (hours[: len(w), len(w):][:, list(r.solved.hubs)] * 60 <= 60).any(axis=1)
    assert by_id["hub_access"]["value"] == pytest.approx(w[near].sum() / w.sum())
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "No network layers" in report
    assert (out / "map.png").stat().st_size > 0


def test_csv_fixture_case_equals_the_engine_on_its_own_rows() -> None:
    r = run_case(FIXTURE / "case.toml")
    frame = pd.read_csv(FIXTURE / "skims.csv")
    names = [*r.demand.names, *r.candidates.names]
    idx = {n: i for i, n in enumerate(names)}
    n = len(names)
    time_h, cost = np.zeros((n, n)), np.zeros((n, n))
    for row in frame.itertuples():
        time_h[idx[row.origin], idx[row.destination]] = row.time_h
        cost[idx[row.origin], idx[row.destination]] = row.cost
    hubs, objective, _ = engine_reference(r, names, time_h, cost)
    assert _hub_names(r) == hubs
    assert r.solved.objective == pytest.approx(objective, rel=1e-9)


@pytest.mark.parametrize(("problem", "key"), [("umaphmp", "p = 2"),
                                              ("usahlp", "fixed_cost = 2.0e7"),
                                              ("umahlp", "fixed_cost = 2.0e7")])
def test_other_models_on_omx_equal_the_engine_on_the_matrix(tmp_path: Path, problem: str,
                                                            key: str) -> None:
    from oracles import all_sets, brute_multiple

    names, mats = independent_skims()
    write_omx(tmp_path / "skims.omx", names, mats)
    model = f'[model]\nproblem = "{problem}"\n{key}\nalpha = 0.6\n'
    r = run_case(make_case(tmp_path, "skims.omx", model=model))
    nd, n = len(r.demand), len(names)
    C = run_order(r, names, TIME_WEIGHT * mats["time_h"] + MONEY_WEIGHT * mats["cost"])
    W = np.zeros((n, n))
    W[:nd, :nd] = r.flows
    kwargs: dict[str, object] = {"alpha": 0.6, "excluded": tuple(range(nd))}
    f = None
    if problem == "umaphmp":
        kwargs["p"] = 2
    else:
        f = np.r_[np.zeros(nd), np.full(n - nd, 2.0e7)]
        kwargs["fixed_costs"] = f
    sol = build_model(problem, C, W, **kwargs).solve(SolveParameters(time_limit=60.0))
    assert r.solved.objective == pytest.approx(float(sol.objective), rel=1e-9)
    if problem.startswith("uma"):
        sets = (sets_of_size(n, 2, excluded=range(nd)) if problem == "umaphmp"
                else all_sets(n, excluded=range(nd)))
        brute = brute_multiple(C, W, sets, f=f, chi=1.0, alpha=0.6, delta=1.0)
        assert r.solved.objective == pytest.approx(brute, rel=1e-9)


def test_fixture_csv_is_the_documented_formula() -> None:
    names, mats = independent_skims()
    frame = pd.read_csv(FIXTURE / "skims.csv")
    idx = {n: i for i, n in enumerate(names)}
    a = frame["origin"].map(idx).to_numpy()
    b = frame["destination"].map(idx).to_numpy()
    assert len(frame) == len(names) * (len(names) - 1)
    assert np.allclose(frame["time_h"], mats["time_h"][a, b], atol=1e-6)
    assert np.allclose(frame["cost"], mats["cost"][a, b], atol=1e-4)


def test_parquet_case_equals_the_omx_case(tmp_path: Path,
                                          omx_run: tuple[RunResult, Path]) -> None:
    names, mats = independent_skims()
    tidy(names, mats).to_parquet(tmp_path / "skims.parquet")
    r = run_case(make_case(tmp_path, "skims.parquet"))
    ref, _ = omx_run
    assert _hub_names(r) == _hub_names(ref)
    assert r.solved.objective == pytest.approx(ref.solved.objective, rel=1e-12)


def test_tidy_file_without_pairs_between_demand_points_gives_the_same_optimum(
        tmp_path: Path, omx_run: tuple[RunResult, Path]) -> None:
    names, mats = independent_skims()
    frame = tidy(names, mats)
    nd = len(omx_run[0].demand)
    demand = set(names[:nd])
    frame = frame[~(frame["origin"].isin(demand) & frame["destination"].isin(demand))]
    frame.to_csv(tmp_path / "skims.csv", index=False)
    r = run_case(make_case(tmp_path, "skims.csv"))
    assert _hub_names(r) == _hub_names(omx_run[0])
    assert r.solved.objective == pytest.approx(omx_run[0].solved.objective, rel=1e-12)
    assert any("pairs between demand points are not in the file" in w for w in r.warnings)


def test_coverage_case_on_minutes_covers_the_brute_force_weight(tmp_path: Path) -> None:
    names, mats = independent_skims()
    mats = {"time_min": mats["time_h"] * 60.0}
    write_omx(tmp_path / "skims.omx", names, mats, units={"time_min": "min"})
    model = '[model]\nproblem = "coverage"\np = 2\nminutes = 120.0\n'
    case = make_case(tmp_path, "skims.omx", model=model,
                     network='time_unit = "minutes"\n')
    text = case.read_text(encoding="utf-8").replace('time_matrix = "time_h"',
                                                     'time_matrix = "time_min"')
    text = text.replace('time_unit = "hours"\n', "").replace("money = 1.0", "money = 0.0")
    text = text.replace('cost_matrix = "cost"\n', "")
    case.write_text(text, encoding="utf-8")
    r = run_case(case)
    nd = len(r.demand)
    minutes = run_order(r, names, mats["time_min"])[:nd, nd:]
    w = r.demand.weight
    best = max(float(w[(minutes[:, list(s)] <= 120.0).any(axis=1)].sum())
               for s in itertools.combinations(range(minutes.shape[1]), 2))
    assert r.solved.objective == pytest.approx(best)


def test_sites_that_are_the_demand_points_use_the_points_own_zones(tmp_path: Path) -> None:
    names, mats = independent_skims()
    nd = 8
    sub = {k: m[:nd, :nd] for k, m in mats.items()}
    write_omx(tmp_path / "skims.omx", names[:nd], sub)
    case = make_case(tmp_path, "skims.omx", candidates='source = "demand"')
    r = run_case(case)
    pos = [names.index(n) for n in r.demand.names]
    C = (TIME_WEIGHT * sub["time_h"] + MONEY_WEIGHT * sub["cost"])[np.ix_(pos, pos)]
    brute = brute_single(C, r.flows, sets_of_size(nd, 2), chi=1.0, alpha=0.6, delta=1.0)
    assert r.solved.objective == pytest.approx(brute, rel=1e-9)


def test_omx_zone_numbers_match_points_named_by_number(
        tmp_path: Path, omx_run: tuple[RunResult, Path]) -> None:
    import openmatrix as omx

    names, mats = independent_skims()
    number = {name: str(101 + i) for i, name in enumerate(names)}
    f = omx.open_file(str(tmp_path / "skims.omx"), "w")
    try:
        for key, m in mats.items():
            f[key] = m
        f.create_mapping("zone", np.array([int(number[n]) for n in names]))  # UInt32, as OMX
    finally:
        f.close()
    case = make_case(tmp_path, "skims.omx", network='lookup = "zone"\n')
    for name in ("demand.csv", "sites.csv"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        for old, new in number.items():
            text = text.replace(f"\n{old},", f"\n{new},")
        (tmp_path / name).write_text(text, encoding="utf-8")
    r = run_case(case)
    ref = omx_run[0]
    assert _hub_names(r) == tuple(sorted(number[h] for h in _hub_names(ref)))
    assert r.solved.objective == pytest.approx(ref.solved.objective, rel=1e-12)


def test_some_demand_points_as_sites_get_the_brute_force_optimum(tmp_path: Path) -> None:
    names, mats = independent_skims()
    nd = 8
    sub = {k: m[:nd, :nd] for k, m in mats.items()}
    write_omx(tmp_path / "skims.omx", names[:nd], sub)
    case = make_case(tmp_path, "skims.omx", candidates=(
        'source = "demand"\nmax_candidates = 3\nexisting = ["Parnu"]'))
    r = run_case(case)
    assert len(r.candidates) == 3
    assert "Parnu" in r.candidates.names
    assert "Parnu" in _hub_names(r)  # existing: must stay open
    pos = [names.index(n) for n in r.demand.names]
    C = (TIME_WEIGHT * sub["time_h"] + MONEY_WEIGHT * sub["cost"])[np.ix_(pos, pos)]
    sites = [r.demand.names.index(n) for n in r.candidates.names]
    parnu = r.demand.names.index("Parnu")
    sets = [H for H in itertools.combinations(sites, 2) if parnu in H]
    brute = brute_single(C, r.flows, sets, chi=1.0, alpha=0.6, delta=1.0)
    assert r.solved.objective == pytest.approx(brute, rel=1e-9)


# ------------------------------------------------------------------------------------------
# validation: exit 2, the file and the field named


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hubopt", *args], capture_output=True,
                          text=True, check=False, timeout=300, cwd=cwd)


def _broken(tmp_path: Path, kind: str) -> tuple[Path, list[str]]:
    """A case whose matrix has one kind of problem, and the texts its message must have."""
    names, mats = independent_skims()
    frame = tidy(names, mats)
    if kind == "unknown_names":
        frame = frame.replace({"Kotka": "Kotka harbour", "Pansio": "Pansio port"})
        frame.to_csv(tmp_path / "skims.csv", index=False)
        return make_case(tmp_path, "skims.csv"), [
            "skims.csv", "columns 'origin', 'destination'", "no zone named 'Kotka'",
            "demand.file", "did you mean 'Kotka harbour'", "no zone named 'Pansio'",
            "candidates.file"]
    if kind == "missing_pairs":
        drop = (frame["origin"] == "Helsinki") & (frame["destination"] == "Vuosaari")
        drop |= (frame["origin"] == "Muuga") & (frame["destination"] == "Kouvola")
        frame[~drop].to_csv(tmp_path / "skims.csv", index=False)
        return make_case(tmp_path, "skims.csv"), [
            "skims.csv: pairs", "missing 'Helsinki' -> 'Vuosaari'",
            "missing 'Muuga' -> 'Kouvola'"]
    if kind == "bad_values":
        frame["time_h"] = frame["time_h"].astype(object)
        frame.loc[0, "time_h"] = "abc"
        frame.loc[1, "cost"] = -3.0
        frame.loc[2, "cost"] = float("nan")
        frame.to_csv(tmp_path / "skims.csv", index=False)
        return make_case(tmp_path, "skims.csv"), [
            "column 'time_h'", "row 2", "'abc'", "column 'cost'", "-3.0", "row 3", "nan"]
    if kind == "duplicate_pairs":
        pd.concat([frame, frame.iloc[[5]]]).to_csv(tmp_path / "skims.csv", index=False)
        return make_case(tmp_path, "skims.csv"), [
            "columns 'origin', 'destination'", "one row per origin-destination pair",
            f"row {len(frame) + 2}", "first in row 7"]
    if kind == "minutes_read_as_hours":
        frame["time_h"] = frame["time_h"] * 60.0
        frame.to_csv(tmp_path / "skims.csv", index=False)
        return make_case(tmp_path, "skims.csv"), [
            "column 'time_h'", "network.time_unit", "are the times in minutes?"]
    if kind == "omx_units_and_shape":
        bad = {"time_h": mats["time_h"], "cost": mats["cost"]}
        write_omx(tmp_path / "skims.omx", names, bad, units={"time_h": "minutes",
                                                             "cost": "USD"})
        return make_case(tmp_path, "skims.omx"), [
            "skims.omx: matrix 'time_h'", "times in hours (network.time_unit)",
            "units attribute 'minutes'", "matrix 'cost'", "costs in EUR", "'USD'"]
    if kind == "omx_two_lookups_none_named":
        path = write_omx(tmp_path / "skims.omx", names, {"time_h": mats["time_h"],
                                                         "cost": mats["cost"]})
        import tables

        with tables.open_file(str(path), "a") as h5:
            h5.create_array(h5.root.lookup, "taz", obj=np.arange(len(names)))
        return make_case(tmp_path, "skims.omx"), [
            "skims.omx: lookup", "the name of the OMX mapping", "network.lookup",
            "['name', 'taz']"]
    if kind == "omx_wrong_shape":
        write_omx(tmp_path / "skims.omx", names[:-1],
                  {"time_h": mats["time_h"], "cost": mats["cost"]})
        return make_case(tmp_path, "skims.omx"), [
            "skims.omx: matrix 'time_h'", "a square matrix of 12 x 12 values", "(13, 13)"]
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["unknown_names", "missing_pairs", "bad_values",
                                  "duplicate_pairs",
                                  "minutes_read_as_hours", "omx_units_and_shape",
                                  "omx_two_lookups_none_named", "omx_wrong_shape"])
def test_broken_matrix_exits_2_naming_the_file_and_field(tmp_path: Path, kind: str) -> None:
    case, expected = _broken(tmp_path, kind)
    with pytest.raises(CaseValidationError) as info:
        validate_case(case)
    text = str(info.value)
    for part in expected:
        assert part in text, (part, text)
    if kind in ("unknown_names", "omx_wrong_shape"):  # the command line, once per format
        done = _cli("validate", str(case), cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        for part in expected:
            assert part in done.stderr


def test_every_unmatched_name_is_listed(tmp_path: Path) -> None:
    names, mats = independent_skims()
    keep = [n for n in names if n not in ("Tartu", "Parnu", "Kouvola")]
    idx = [names.index(n) for n in keep]
    write_omx(tmp_path / "skims.omx", keep, {k: m[np.ix_(idx, idx)] for k, m in mats.items()})
    with pytest.raises(CaseValidationError) as info:
        validate_case(make_case(tmp_path, "skims.omx"))
    problems = info.value.problems
    assert sum("no zone named" in p for p in problems) == 3
    assert all("skims.omx: lookup" in p for p in problems)


@pytest.mark.parametrize(("edit", "field"), [
    ('[candidates]\nsource = "terminals"', "candidates.source"),
    ('lookup = "name"', "network.lookup"),
    ('modes = ["road", "rail"]', "network.modes"),
])
def test_matrix_case_schema_errors_name_the_key(tmp_path: Path, edit: str, field: str) -> None:
    shutil.copy(FIXTURE / "skims.csv", tmp_path / "skims.csv")
    case = make_case(tmp_path, "skims.csv")
    text = case.read_text(encoding="utf-8")
    if edit.startswith("[candidates]"):
        text = text.replace('[candidates]\nsource = "file"\nfile = "sites.csv"', edit)
    else:
        text = text.replace('time_unit = "hours"', f'time_unit = "hours"\n{edit}')
    case.write_text(text, encoding="utf-8")
    with pytest.raises(CaseValidationError) as info:
        load_case(case)
    assert any(f": {field}:" in p for p in info.value.problems), info.value.problems


def test_matrix_keys_with_another_source_are_errors(tmp_path: Path) -> None:
    text = (FIXTURE / "case.toml").read_text(encoding="utf-8").replace(
        'source = "matrix"', 'source = "world"')
    text = text.replace("[network]", "[region]\nbbox = [21.5, 58.3, 31.0, 61.3]\n\n[network]")
    for name in ("demand.csv", "sites.csv", "skims.csv"):
        shutil.copy(FIXTURE / name, tmp_path / name)
    (tmp_path / "case.toml").write_text(text, encoding="utf-8")
    with pytest.raises(CaseValidationError) as info:
        load_case(tmp_path / "case.toml")
    fields = " ".join(info.value.problems)
    for key in ("network.matrix", "network.time_matrix", "network.time_unit",
                "network.cost_matrix"):
        assert key in fields


# ------------------------------------------------------------------------------------------
# the matrix that hubopt computes on a network gives the network run's result


@pytest.mark.slow
def test_matrix_equal_to_the_networks_gives_the_network_runs_result(tmp_path: Path) -> None:
    net_run = run_case("default")
    d, c = net_run.demand, net_run.candidates
    nd = len(d)
    site_names = [f"site {name}" for name in c.names]  # zones distinct from the cities
    with (tmp_path / "sites.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "lon", "lat", "modes"])
        for k, name in enumerate(site_names):
            w.writerow([name, repr(float(c.lon[k])), repr(float(c.lat[k])), ";".join(c.modes[k])])
    # times: the run's road times demand point <-> site; elsewhere 60 km/h on the great circle
    lon = np.concatenate([d.lon, c.lon])
    lat = np.concatenate([d.lat, c.lat])
    n = len(lon)
    km = np.array([[_haversine_km((lon[a], lat[a]), (lon[b], lat[b])) for b in range(n)]
                   for a in range(n)])
    hours = km / 60.0
    hours[:nd, nd:] = net_run.demand_minutes / 60.0
    hours[nd:, :nd] = net_run.demand_minutes.T / 60.0
    write_omx(tmp_path / "skims.omx", [*d.names, *site_names],
              {"time_h": hours, "cost": net_run.costs})
    text = load_case("default").path.read_text(encoding="utf-8")
    head, rest = text.split("[network]", 1)
    rest = rest[rest.index("[demand]"):]
    demand_flows, model = rest.split("[candidates]", 1)
    model = model[model.index("[model]"):]
    case = tmp_path / "case.toml"
    case.write_text(head + '[network]\nsource = "matrix"\nmatrix = "skims.omx"\n\n'
                    + demand_flows + '[candidates]\nsource = "file"\nfile = "sites.csv"\n\n'
                    + model, encoding="utf-8")
    r = run_case(case)
    assert r.demand.names == d.names
    assert _hub_names(r) == tuple(sorted(f"site {h}" for h in _hub_names(net_run)))
    assert r.solved.objective == pytest.approx(net_run.solved.objective, rel=1e-9)
    assert r.measures.population_near_hub == pytest.approx(net_run.measures.population_near_hub)
    by_name = {h.name: h for h in net_run.measures.hubs}
    for h in r.measures.hubs:
        ref = by_name[h.name.removeprefix("site ")]
        assert h.cost_increase == pytest.approx(ref.cost_increase, rel=1e-9)
        assert h.population_lost == pytest.approx(ref.population_lost)


def test_pairs_between_demand_points_are_filled_with_the_cheapest_path_through_a_site(
        ) -> None:
    from hubopt.skims import fill_through_sites

    rng = np.random.default_rng(3)
    nd, n = 4, 7
    m = rng.uniform(1.0, 9.0, (n, n))
    np.fill_diagonal(m, 0.0)
    gaps = [(0, 1), (2, 3), (3, 0)]
    holed = m.copy()
    for i, j in gaps:
        holed[i, j] = np.nan
    out = fill_through_sites(holed, nd, shared=False)
    for i, j in gaps:
        assert out[i, j] == pytest.approx(min(m[i, k] + m[k, j] for k in range(nd, n)))
    known = ~np.isnan(holed)
    assert np.array_equal(out[known], m[known])


def _brute_two_hubs(C: np.ndarray, W: np.ndarray, hubs: tuple[int, int], nd: int,
                    alpha: float) -> float:
    """Single allocation of the ``nd`` demand points to two hubs, every allocation tried."""
    h0, h1 = hubs
    x = ((np.arange(2 ** nd)[:, None] >> np.arange(nd)[None, :]) & 1).astype(float)
    Wd = W[:nd, :nd]
    out, inn = Wd.sum(axis=1), Wd.sum(axis=0)
    collect = (1 - x) @ (out * C[:nd, h0]) + x @ (out * C[:nd, h1])
    distribute = (1 - x) @ (inn * C[h0, :nd]) + x @ (inn * C[h1, :nd])
    inter = C[h0, h1] * (((1 - x) @ Wd) * x).sum(axis=1) + C[h1, h0] * (
        (x @ Wd) * (1 - x)).sum(axis=1)
    return float((collect + distribute + alpha * inter).min())


@pytest.mark.slow
def test_some_demand_points_as_sites_on_a_network_get_the_brute_force_optimum(
        tmp_path: Path) -> None:
    text = load_case("default").path.read_text(encoding="utf-8")
    head, rest = text.split("[candidates]", 1)
    model = rest[rest.index("[model]"):].replace("p = 3", "p = 2")
    (tmp_path / "case.toml").write_text(
        head + '[candidates]\nsource = "demand"\nmax_candidates = 3\nexisting = ["Tartu"]\n\n'
        + model, encoding="utf-8")
    r = run_case(tmp_path / "case.toml")
    nd = len(r.demand)
    assert r.demand.names.index("Tartu") >= 3  # beyond the first max_candidates points
    assert len(r.candidates) == 3
    assert "Tartu" in [r.candidates.names[k] for k in r.solved.hubs]
    C = r.costs
    sites = [nd + k for k in range(len(r.candidates))]
    tartu = nd + r.candidates.names.index("Tartu")
    best = min(_brute_two_hubs(C, r.flows, (a, b), nd, r.case.model.alpha)
               for a, b in itertools.combinations(sites, 2) if tartu in (a, b))
    assert r.solved.objective == pytest.approx(best, rel=1e-9)


def test_two_hub_brute_force_agrees_with_the_loop_oracle() -> None:
    rng = np.random.default_rng(5)
    nd, n = 5, 7
    C = rng.uniform(1.0, 9.0, (n, n))
    np.fill_diagonal(C, 0.0)
    W = np.zeros((n, n))
    W[:nd, :nd] = rng.uniform(0.0, 3.0, (nd, nd))
    np.fill_diagonal(W, 0.0)
    ours = _brute_two_hubs(C, W, (5, 6), nd, 0.4)
    ref = brute_single(C, W, [(5, 6)], chi=1.0, alpha=0.4, delta=1.0)
    assert ours == pytest.approx(ref, rel=1e-12)


def test_external_markets_need_a_network(tmp_path: Path) -> None:
    shutil.copy(FIXTURE / "skims.csv", tmp_path / "skims.csv")
    case = make_case(tmp_path, "skims.csv")
    case.write_text(case.read_text(encoding="utf-8")
                    + '\n[external]\nmarkets = ["Busan"]\nflows = "gravity"\ntotal = 1000.0\n',
                    encoding="utf-8")
    with pytest.raises(CaseValidationError) as info:
        load_case(case)
    assert any(": external: not available with network.source = 'matrix'" in p
               for p in info.value.problems), info.value.problems
