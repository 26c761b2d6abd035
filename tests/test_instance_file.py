"""instance.npz: written and read back exactly; every broken array named at once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hubopt._errors import InputFormatError
from hubopt.instance_file import InstanceFile, load_instance_file, save_instance


def _instance(m: int = 5) -> InstanceFile:
    rng = np.random.default_rng(1)
    C = rng.uniform(1, 9, (m, m))
    np.fill_diagonal(C, 0)
    return InstanceFile(C=C, W=rng.uniform(0, 3, (m, m)), candidate=np.arange(m) % 2 == 0,
                        fixed_cost=np.zeros(m), capacity=np.full(m, np.inf),
                        name=np.array([f"n{i}" for i in range(m)]),
                        lonlat=np.full((m, 2), np.nan), chi=3.0, alpha=0.75, delta=2.0, p=2,
                        problem="usaphmp")


def test_saved_instance_reads_back_array_for_array(tmp_path: Path) -> None:
    inst = _instance()
    got = load_instance_file(save_instance(tmp_path / "i.npz", inst))
    for key in ("C", "W", "candidate", "fixed_cost", "capacity", "name", "lonlat"):
        np.testing.assert_array_equal(getattr(got, key), getattr(inst, key))
    assert (got.chi, got.alpha, got.delta, got.p, got.problem) == (3.0, 0.75, 2.0, 2, "usaphmp")
    assert got.model_kwargs()["excluded"] == (1, 3)
    assert got.model_kwargs(p=3)["p"] == 3
    assert "capacities" in got.model_kwargs(problem="csahlp")


def test_broken_instance_names_every_bad_array(tmp_path: Path) -> None:
    inst = _instance()
    path = tmp_path / "bad.npz"
    np.savez(path, C=inst.C, W=-inst.W, candidate=inst.candidate.astype(int),
             fixed_cost=inst.fixed_cost, capacity=inst.capacity[:3], name=inst.name,
             lonlat=inst.lonlat, chi=3.0, alpha=0.75, delta=2.0, p=2, problem="nope")
    with pytest.raises(InputFormatError) as err:
        load_instance_file(path)
    text = str(err.value)
    for part in ("W: expected finite flows >= 0", "candidate: expected a boolean array",
                 "capacity: expected shape (5,)", "problem: expected one of"):
        assert part in text
    assert str(path) in text


def test_a_file_that_is_no_archive_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "x.npz"
    path.write_text("not numpy", encoding="utf-8")
    with pytest.raises(InputFormatError, match=r"expected a numpy \.npz archive"):
        load_instance_file(path)


def test_bench_solves_instance_files_to_the_brute_force_optimum(tmp_path: Path) -> None:
    import itertools
    import json

    from click.testing import CliRunner

    from hubopt.cli import cli

    inst = _instance(7)
    inst = InstanceFile(**{**inst.__dict__, "candidate": np.ones(7, dtype=bool), "p": 2})
    path = save_instance(tmp_path / "i.npz", inst)
    out = tmp_path / "r.json"
    result = CliRunner().invoke(cli, ["bench", "--instance", str(path), "--p", "2", "3",
                                      "--time-limit", "30", "--out", str(out)])
    assert result.exit_code == 0, result.output
    records = json.loads(out.read_text(encoding="utf-8"))
    assert [r["p"] for r in records] == [2, 3]
    for rec in records:
        assert rec["suite"] == "file"
        assert rec["instance"] == "i.npz"
        assert rec["n"] == 7
        hubs = [h - 1 for h in rec["hubs"]]
        alloc = [a - 1 for a in rec["allocation"]]
        assert len(alloc) == 7
        assert all(alloc[h] == h for h in hubs)  # a hub is allocated to itself
        cost = sum(inst.W[i, j] * (3 * inst.C[i, alloc[i]] + 0.75 * inst.C[alloc[i], alloc[j]]
                                   + 2 * inst.C[alloc[j], j]) for i in range(7) for j in range(7))
        assert rec["objective"] == pytest.approx(cost, rel=1e-9)
        best = min(
            sum(inst.W[i, j] * (3 * inst.C[i, a[i]] + 0.75 * inst.C[a[i], a[j]]
                                + 2 * inst.C[a[j], j]) for i in range(7) for j in range(7))
            for H in itertools.combinations(range(7), rec["p"])
            for a in itertools.product(*[[i] if i in H else list(H) for i in range(7)]))
        assert rec["objective"] == pytest.approx(best, rel=1e-9)


def _cover_file(tmp_path: Path, weight: np.ndarray | None) -> tuple[Path, InstanceFile]:
    rng = np.random.default_rng(9)
    m = 9
    xy = rng.uniform(0, 60, (m, 2))
    C = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    W = rng.uniform(0, 5, (m, m))
    inst = InstanceFile(C=C, W=W, candidate=np.arange(m) != 4, fixed_cost=np.zeros(m),
                        capacity=np.full(m, np.inf), name=np.array([f"n{i}" for i in range(m)]),
                        lonlat=np.full((m, 2), np.nan), chi=1.0, alpha=1.0, delta=1.0, p=0,
                        problem="coverage", weight=weight)  # fmt: skip
    return save_instance(tmp_path / "cover.npz", inst), inst


def _covered(inst: InstanceFile, w: np.ndarray, minutes: float, hubs) -> float:
    return float(w[(inst.C[:, list(hubs)] <= minutes).any(axis=1)].sum())


@pytest.mark.parametrize("with_weight", [True, False])
def test_bench_solves_covering_models_on_instance_files(tmp_path: Path, with_weight: bool):
    import itertools
    import json

    from click.testing import CliRunner

    from hubopt.cli import cli

    given = np.arange(1.0, 10.0) if with_weight else None
    path, inst = _cover_file(tmp_path, given)
    w = given if given is not None else inst.W.sum(axis=0) + inst.W.sum(axis=1)
    np.testing.assert_array_equal(load_instance_file(path).demand_weight, w)
    sites = [k for k in range(9) if k != 4]
    out = tmp_path / "mclp.json"
    res = CliRunner().invoke(cli, ["bench", "--instance", str(path), "--problem", "mclp",
                                   "--p", "2", "3", "--minutes", "20", "--out", str(out)])
    assert res.exit_code == 0, res.output
    for rec in json.loads(out.read_text(encoding="utf-8")):
        hubs = [h - 1 for h in rec["hubs"]]
        assert 4 not in hubs
        best = max(_covered(inst, w, 20.0, c) for c in itertools.combinations(sites, rec["p"]))
        assert rec["objective"] == pytest.approx(best)
        assert rec["objective"] == pytest.approx(_covered(inst, w, 20.0, hubs))
        assert rec["status"] == "optimal"
        assert len(rec["allocation"]) == 9
    out = tmp_path / "lscp.json"
    res = CliRunner().invoke(cli, ["bench", "--instance", str(path), "--problem", "lscp",
                                   "--minutes", "20", "--share", "0.8", "--out", str(out)])
    assert res.exit_code == 0, res.output
    (rec,) = json.loads(out.read_text(encoding="utf-8"))
    fewest = next(k for k in range(1, 9) if any(
        _covered(inst, w, 20.0, c) >= 0.8 * w.sum() for c in itertools.combinations(sites, k)))
    assert rec["objective"] == len(rec["hubs"]) == fewest
    assert rec["bound"] == fewest
    assert rec["covered_weight"] >= 0.8 * w.sum() - 1e-9


def test_a_covering_model_without_its_target_is_a_clear_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    path, _ = _cover_file(tmp_path, None)
    res = subprocess.run([sys.executable, "-m", "hubopt", "bench", "--instance", str(path),
                          "--problem", "mclp", "--out", str(tmp_path / "r.json")],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert res.returncode == 2, res.stderr
    assert "--minutes: the mclp model needs the travel-time target" in res.stderr
    assert "--p: the mclp model needs" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "r.json").exists()


def test_a_bad_weight_array_is_named(tmp_path: Path) -> None:
    path, _ = _cover_file(tmp_path, -np.ones(9))
    with pytest.raises(InputFormatError, match="weight: expected finite weights >= 0"):
        load_instance_file(path)
