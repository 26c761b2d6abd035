"""``benchmarks/run.py`` and ``benchmarks/report.py`` end to end on tiny tables."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
ROW = {
    "suite": "engine-small", "instance": "CAB10 USApHMP p=2 alpha=0.4", "problem": "usaphmp",
    "n": "10", "p": "2", "alpha": "0.4", "fixed_cost": "", "capacity": "",
    "time_limit": "300.0", "objective": "674.3141", "bound": "674.3141", "gap": "0.0",
    "status": "optimal", "method": "search", "seconds": "0.9", "peak_rss_mb": "220.5",
    "reference": "674.31", "matches_reference": "true", "hubs": "7 9", "commit": "abc1234",
    "machine": "Linux x86_64, 2 CPUs, Test CPU", "date": "2026-12-06 09:00 UTC",
    "load_at_start": "1.50", "process": "fresh",
}  # fmt: skip


def script(name: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH / name), *map(str, args)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_runner_writes_a_stamped_row_equal_to_the_published_optimum(
    tmp_path: Path, hub_data_dir: Path
) -> None:
    args = ("engine-small", "--only", "^CAB10 USApHMP p=2 alpha=0.4$", "--max-time", "30",
            "--out-dir", tmp_path)  # fmt: skip
    res = script("run.py", *args)
    assert res.returncode == 0, res.stderr
    table = tmp_path / "engine-small.csv"
    rows = read_rows(table)
    assert len(rows) == 1
    row = rows[0]
    optima = json.loads((hub_data_dir / "optima.json").read_text(encoding="utf-8"))
    (ref,) = [
        o["objective"] for o in optima
        if o["instance"] == "CAB10" and o["problem"] == "USApHMP" and o["p"] == 2
        and o["alpha"] == 0.4
    ]  # fmt: skip
    assert row["status"] == "optimal"
    assert float(row["reference"]) == ref
    assert abs(float(row["objective"]) - ref) <= 0.005
    assert row["matches_reference"] == "true"
    assert row["time_limit"] == "30.0"
    assert float(row["peak_rss_mb"]) > 0
    assert row["commit"]
    assert row["machine"].count("CPUs") == 1
    assert float(row["load_at_start"]) >= 0
    # resumable: the same commit's row is kept, not solved again
    again = script("run.py", *args)
    assert again.returncode == 0, again.stderr
    assert "1 already done" in again.stdout
    assert read_rows(table) == rows


def test_runner_lists_the_suites() -> None:
    res = script("run.py", "--list")
    assert res.returncode == 0, res.stderr
    for name in ("engine-small", "ap-large-60", "ap-large-600", "fixed-cost", "growth",
                 "real", "network", "run"):  # fmt: skip
        assert name in res.stdout
    assert "engine-small" in res.stdout
    assert "(264 instances)" in res.stdout


def test_report_builds_the_page_and_the_readme_block_from_the_tables_only(
    tmp_path: Path,
) -> None:
    results, docs = tmp_path / "results", tmp_path / "docs"
    results.mkdir()
    second = {**ROW, "instance": "CAB10 USApHMP p=3 alpha=0.4", "p": "3", "objective": "560",
              "bound": "550", "gap": "0.0178", "status": "feasible", "reference": "567.91",
              "matches_reference": "false", "seconds": "30.5", "hubs": "4 7 9"}  # fmt: skip
    with (results / "engine-small.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(ROW))
        writer.writeheader()
        writer.writerows([ROW, second])
    run_row = {"suite": "run", "case": "default", "run": "warm 1", "step": "total (wall)",
               "seconds": "21.4", "peak_rss_mb": "450", "objective": "1.5", "status": "optimal",
               "hubs": "Helsinki", "commit": "abc1234", "machine": ROW["machine"],
               "date": ROW["date"], "load_at_start": "2.0"}  # fmt: skip
    with (results / "run.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(run_row))
        writer.writeheader()
        writer.writerow(run_row)
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n<!-- results:start -->\nold\n<!-- results:end -->\n\nend\n")
    res = script("report.py", "--results", results, "--docs", docs, "--readme", readme)
    assert res.returncode == 0, res.stderr
    page = (docs / "benchmarks.md").read_text(encoding="utf-8")
    assert "## engine-small" in page
    assert "- commit: abc1234" in page
    assert "Linux x86_64, 2 CPUs, Test CPU" in page
    assert "- proven optimal: 1 of 2" in page
    assert "1 of the 2 instances that have one; differing: CAB10 USApHMP p=3" in page
    assert "- worst gap: 1.78 % (CAB10 USApHMP p=3 alpha=0.4)" in page
    assert "median 15.70 s, max 30.50 s" in page
    assert "| CAB10 USApHMP p=2 alpha=0.4 | 300 | 674.31 | 674.31 | 0 % | optimal |" in page
    text = readme.read_text(encoding="utf-8")
    assert "old" not in text
    assert text.startswith("# x\n\n<!-- results:start -->\n")
    assert text.endswith("<!-- results:end -->\n\nend\n")
    assert "| engine-small | 2 / 264 | 300 | 1 | 1 / 2 | 1.78 % | 30.5 | 1.5 | abc1234 |" in text
    assert "(docs/benchmarks.md)" in text
    assert "default case, fresh process, warm cache: median 21.4 s" in text
    assert "| default | warm 1 | 21.40 | 450 | optimal | Helsinki |" in page


def test_report_draws_the_growth_table_and_plot_and_names_the_training_sets(
    tmp_path: Path,
) -> None:
    results, docs = tmp_path / "results", tmp_path / "docs"
    results.mkdir()
    rows = []
    for instance, n, prob, secs, gap in (
        ("AP100 USApHMP p=5", "100", "usaphmp", "15.8", "0.0"),
        ("RANDOM1000 UMApHMP p=5", "1000", "umaphmp", "58.2", "0.25"),
        ("REAL eurus-250x150 USApHMP p=5", "400", "usaphmp", "57.0", "0.0123"),
        ("REAL eurus-250x150 USApHMP p=8", "400", "usaphmp", "57.0", "0.5"),  # not p = 5
    ):
        rows.append({**ROW, "suite": "growth", "instance": instance, "n": n, "p": instance[-1],
                     "problem": prob, "seconds": secs, "gap": gap})  # fmt: skip
    with (results / "growth.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(ROW))
        writer.writeheader()
        writer.writerows(rows)
    res = script("report.py", "--results", results, "--docs", docs, "--readme",
                 tmp_path / "README.md")  # fmt: skip
    assert res.returncode == 0, res.stderr
    page = (docs / "benchmarks.md").read_text(encoding="utf-8")
    assert "## Training and reported sets" in page
    assert "random_case" in page
    assert "`real`" in page
    assert "| AP | 100 | 15.8 | 0 % | - | - |" in page
    assert "| REAL | 400 | 57.0 | 1.23 % | - | - |" in page
    assert "| RANDOM | 1,000 | - | - | 58.2 | 25 % |" in page
    assert "50 %" not in page.split("### Time and gap")[1]
    svg = docs / "benchmarks" / "growth.svg"
    assert "(benchmarks/growth.svg)" in page
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_report_leaves_a_readme_without_markers_alone(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    res = script("report.py", "--results", tmp_path / "none", "--docs", tmp_path / "docs",
                 "--readme", readme)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert readme.read_text() == "# no markers\n"
    assert "Not run yet" in (tmp_path / "docs" / "benchmarks.md").read_text(encoding="utf-8")


def test_real_instance_builder_writes_a_loadable_case_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small Baltic instance from the world layers: the demand points, then the
    terminal sites (the only candidates), flows between the points only."""
    monkeypatch.syspath_prepend(str(BENCH))
    import real_instances

    from hubopt.instance_file import load_instance_file

    monkeypatch.setenv("HUBOPT_REAL_INSTANCES", str(tmp_path))
    spec = real_instances.RealSpec("baltic", (21.5, 58.3, 31.0, 61.3), ("FI", "EE", "RU"),
                                   points=12, sites=6, min_population=50000)  # fmt: skip
    (path,) = real_instances.ensure((spec,), log=False)
    assert path == tmp_path / "baltic-12x6.npz"
    inst = load_instance_file(path)
    nd = inst.m - int(inst.candidate.sum())
    assert nd == 12
    assert 1 <= inst.candidate.sum() <= 6
    assert not inst.candidate[:nd].any()
    assert inst.candidate[nd:].all()
    assert np.isfinite(inst.C).all()
    assert (inst.C >= 0).all()
    assert inst.W[:nd, :nd].sum() > 0
    assert not inst.W[nd:].any()
    assert not inst.W[:, nd:].any()
    assert "Helsinki" in set(inst.name[:nd].tolist())
    stamp = path.stat().st_mtime_ns
    real_instances.ensure((spec,), log=False)  # cached: not built again
    assert path.stat().st_mtime_ns == stamp


def test_report_renders_the_coverage_suite_side_by_side(tmp_path: Path) -> None:
    results, docs = tmp_path / "results", tmp_path / "docs"
    results.mkdir()
    base = {"suite": "coverage", "instance": "2,000 x 200, p = 10, 15 min", "n": "2000",
            "m": "200", "p": "10", "minutes": "15.0", "seed": "0", "time_limit": "300.0",
            "commit": "abc1234", "machine": ROW["machine"], "date": ROW["date"]}  # fmt: skip
    rows = [{**base, "solver": "hubopt", "objective": "3860493.0", "proven": "true",
             "seconds": "1.5", "method": "mip-scip", "hubs": "1 2", "load_at_start": "1.1"},
            {**base, "solver": "spopt+cbc", "objective": "3860493.0", "proven": "true",
             "seconds": "6.0", "method": "cbc", "hubs": "1 2", "load_at_start": "1.2",
             "time_limit": "1200.0"}]
    with (results / "coverage.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    res = script("report.py", "--results", results, "--docs", docs, "--readme",
                 tmp_path / "none.md")  # fmt: skip
    assert res.returncode == 0, res.stderr
    page = (docs / "benchmarks.md").read_text(encoding="utf-8")
    assert "## coverage" in page
    assert ("| 2,000 x 200, p = 10, 15 min | 3,860,493 | yes | 1.5 | 3,860,493 | yes | 6.0 "
            "| 4.0x | 300 / 1200 s | 1.1 / 1.2 | abc1234 |") in page


def test_coverage_benchmark_rows_agree_with_spopt_on_a_small_instance() -> None:
    pytest.importorskip("spopt")
    sys.path.insert(0, str(BENCH))
    import bench_coverage

    inst = bench_coverage.CoverInstance(300, 30, 3, 15.0)
    t1, w1 = bench_coverage.random_instance(300, 30, 4)
    t2, w2 = bench_coverage.random_instance(300, 30, 4)
    np_equal = (t1 == t2).all() and (w1 == w2).all()
    assert np_equal  # the same seed gives both solvers the same matrix
    rows = list(bench_coverage.measure(limit=60.0, seed=4, instances=(inst,)))
    assert [r["solver"] for r in rows] == ["hubopt", "spopt+cbc"]
    assert all(r["proven"] for r in rows)
    assert rows[0]["objective"] == rows[1]["objective"]
    for r in rows:  # the covered weight of the hubs reported, from the matrix
        cols = [h - 1 for h in r["hubs"]]
        assert r["objective"] == float(w1[(t1[:, cols] <= 15.0).any(axis=1)].sum())
