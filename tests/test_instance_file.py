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
