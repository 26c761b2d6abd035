"""hubopt sweep: the product of the values, each a full run, the same on Dask as alone."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from hubopt._errors import CaseValidationError
from hubopt.cli import cli
from hubopt.sweep import RESULT_COLUMNS, longest_first, run_sweep, scenarios, split_values


def test_values_split_on_commas_outside_brackets_and_quotes() -> None:
    assert split_values("2,3, 4") == ["2", "3", "4"]
    assert split_values("[1, 2],[3, 4]") == ["[1, 2]", "[3, 4]"]
    assert split_values("'a,b',c") == ["'a,b'", "c"]


def test_scenarios_are_the_product_with_the_last_key_fastest() -> None:
    sc = scenarios(["model.p=2,3", "model.alpha=0.5,0.75,1.0"])
    assert len(sc) == 6
    assert sc[0].overrides == ("model.p=2", "model.alpha=0.5")
    assert sc[1].overrides == ("model.p=2", "model.alpha=0.75")
    assert sc[-1].overrides == ("model.p=3", "model.alpha=1.0")
    assert len({s.name for s in sc}) == 6


def test_workers_start_the_scenarios_with_more_hubs_first() -> None:
    sc = scenarios(["model.alpha=0.5,0.75", "model.p=2,5,3"])
    order = [s.overrides for s in longest_first(sc)]
    assert order == [("model.alpha=0.5", "model.p=5"), ("model.alpha=0.75", "model.p=5"),
                     ("model.alpha=0.5", "model.p=3"), ("model.alpha=0.75", "model.p=3"),
                     ("model.alpha=0.5", "model.p=2"), ("model.alpha=0.75", "model.p=2")]
    other = scenarios(["model.alpha=0.5,0.75,1.0"])  # nothing to go by: the given order
    assert longest_first(other) == other


def test_malformed_settings_are_all_reported() -> None:
    with pytest.raises(CaseValidationError) as err:
        scenarios(["model.p", "model.alpha=0.5,", "model.alpha=1"])
    text = str(err.value)
    assert "found 'model.p'" in text
    assert "found 'model.alpha=0.5,'" in text


def test_every_scenario_is_validated_before_any_runs(tmp_path: Path) -> None:
    with pytest.raises(CaseValidationError, match=r"model\.p: expected an integer >= 1"):
        run_sweep("default", ["model.p=2,0"], tmp_path / "s", workers=0)
    assert not (tmp_path / "s").exists() or not any((tmp_path / "s").iterdir())


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _comparable(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


@pytest.fixture(scope="module")
def case_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The default case allowing up to 40 candidate sites: p = 39 passes validation, and
    the run then finds fewer sites (a scenario that fails while the others go on)."""
    from hubopt.case import resolve_case_path

    text = resolve_case_path("default").read_text(encoding="utf-8")
    assert "max_candidates = 10" in text
    path = tmp_path_factory.mktemp("case") / "default40.toml"
    path.write_text(text.replace("max_candidates = 10", "max_candidates = 40"),
                    encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory, case_file: str) -> Path:
    """That case swept over p = 2, 3 and 39 (more hubs than sites), serially."""
    out = tmp_path_factory.mktemp("serial") / "sweep"
    run_sweep(case_file, ["model.p=2,3,39"], out, workers=0)
    return out


@pytest.mark.slow
def test_sweep_table_has_a_row_per_scenario_and_reports_failures(serial: Path) -> None:
    rows = _rows(serial / "scenarios.csv")
    assert list(rows[0]) == ["model.p", *RESULT_COLUMNS]
    assert [r["model.p"] for r in rows] == ["2", "3", "39"]
    assert [r["n_hubs"] for r in rows[:2]] == ["2", "3"]
    assert float(rows[0]["objective"]) > float(rows[1]["objective"])  # more hubs, less cost
    assert rows[2]["status"] == "error"
    assert "model.p" in rows[2]["error"]
    assert not (serial / rows[2]["scenario"]).exists()
    for r in rows[:2]:
        assert (serial / r["scenario"] / "run.json").is_file()
    assert "Hubs across scenarios" in (serial / "sweep.md").read_text(encoding="utf-8")
    assert (serial / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_local_dask_cluster_gives_the_rows_of_the_serial_sweep(serial: Path, case_file: str,
                                                               tmp_path: Path) -> None:
    out = tmp_path / "dask"
    result = CliRunner().invoke(cli, ["sweep", case_file, "--set", "model.p=2,3,39",
                                      "--workers", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert _comparable(_rows(out / "scenarios.csv")) == _comparable(
        _rows(serial / "scenarios.csv"))


@pytest.mark.slow
def test_resume_keeps_finished_scenarios(serial: Path, case_file: str, tmp_path: Path) -> None:
    out = tmp_path / "resumed"
    shutil.copytree(serial, out)
    shutil.rmtree(out / "p-3")
    before = (out / "p-2" / "run.json").stat().st_mtime_ns
    refused = CliRunner().invoke(cli, ["sweep", case_file, "--set", "model.p=2,3,39",
                                       "--workers", "0", "--out", str(out)])
    assert refused.exit_code == 2
    result = CliRunner().invoke(cli, ["sweep", case_file, "--set", "model.p=2,3,39",
                                      "--workers", "0",
                                      "--resume", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "p-2" / "run.json").stat().st_mtime_ns == before
    assert (out / "p-3" / "run.json").is_file()
    assert _comparable(_rows(out / "scenarios.csv"))[1] == _comparable(
        _rows(serial / "scenarios.csv"))[1]


@pytest.mark.slow
def test_separately_started_dask_scheduler_and_worker_give_the_same_rows(
        serial: Path, case_file: str, tmp_path: Path) -> None:
    bindir = Path(sys.executable).parent
    dask = shutil.which("dask", path=str(bindir)) or shutil.which("dask")
    assert dask is not None, "the dask command line comes with dask[distributed]"
    sched_file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(sched_file)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]
    try:
        for _ in range(600):
            if sched_file.is_file() and sched_file.stat().st_size > 0:
                break
            time.sleep(0.1)
        procs.append(subprocess.Popen([dask, "worker", "--scheduler-file", str(sched_file),
                                       "--nthreads", "1", "--nworkers", "2",
                                       "--no-dashboard"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      env=env))
        import json

        address = json.loads(sched_file.read_text(encoding="utf-8"))["address"]
        out = tmp_path / "remote"
        result = run_sweep(case_file, ["model.p=2,3,39"], out, scheduler=address)
        assert [r["scenario"] for r in result.rows] == ["p-2", "p-3", "p-39"]
        assert _comparable(_rows(out / "scenarios.csv")) == _comparable(
            _rows(serial / "scenarios.csv"))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=60)


def test_worker_preload_covers_every_hubopt_module_a_scenario_imports(tmp_path: Path) -> None:
    # in a fresh interpreter: the modules the forkserver preloads, then one full scenario
    script = (
        "import sys\n"
        "import hubopt._sweep_worker\n"
        "from hubopt.sweep import run_scenario, scenarios\n"
        "before = set(sys.modules)\n"
        f"row = run_scenario('default', scenarios(['model.p=3'])[0], {str(tmp_path)!r})\n"
        "assert row['status'] == 'optimal', row\n"
        "print(sorted(m for m in set(sys.modules) - before if m.startswith('hubopt')))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                         text=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "p-3" / "run.json").is_file()
