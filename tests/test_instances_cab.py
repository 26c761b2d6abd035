"""CAB reader, checked against the facts of the data README and the other CAB copies."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from hubopt._errors import InputFormatError
from hubopt.instances import HubInstance, load_cab, load_instance, load_optima
from hubopt.instances.ap import euclidean_distances, read_ap_raw
from hubopt.instances.cab import read_cab25, read_okelly

CAB_TOTAL_FLOW = 8_540_006  # data README 2.5, 25 x 25


@pytest.fixture(scope="module")
def cab25(hub_data_dir: Path) -> HubInstance:
    return load_cab(25, data_dir=hub_data_dir)


@pytest.mark.parametrize("n", [10, 15, 20, 25])
def test_cab_sizes_are_leading_submatrices_with_normalised_flows(
    hub_data_dir: Path, cab25: HubInstance, n: int
) -> None:
    inst = load_cab(n, data_dir=hub_data_dir)
    assert (inst.name, inst.suite, inst.n) == (f"CAB{n}", "cab", n)
    np.testing.assert_array_equal(inst.flows, cab25.flows[:n, :n])
    np.testing.assert_array_equal(inst.costs, cab25.costs[:n, :n])
    assert inst.flow_scale == pytest.approx(1 / cab25.flows[:n, :n].sum(), rel=1e-15)
    assert inst.scaled_flows().sum() == pytest.approx(1.0, rel=1e-12)
    assert (inst.chi, inst.alpha, inst.delta, inst.p) == (1.0, 0.4, 1.0, 3)
    assert inst.coords is None
    assert dict(inst.fixed_costs) == dict(inst.capacities) == {}


def test_cab_flows_are_symmetric_integers_with_zero_diagonal_and_stated_total(
    cab25: HubInstance,
) -> None:
    W = cab25.flows
    assert W.sum() == CAB_TOTAL_FLOW
    assert np.array_equal(W, np.round(W))
    assert np.array_equal(W, W.T)
    assert np.all(np.diag(W) == 0)
    off_diagonal = ~np.eye(25, dtype=bool)
    assert np.all(W[off_diagonal] > 0)


def test_cab_distances_match_the_stated_city_pairs(cab25: HubInstance) -> None:
    C = cab25.costs
    assert np.array_equal(C, C.T)
    assert np.all(np.diag(C) == 0)
    assert round(C[2 - 1, 25 - 1], 1) == 36.5  # Baltimore - Washington
    assert round(C[17 - 1, 18 - 1], 1) == 84.3  # New York - Philadelphia
    assert round(C[12 - 1, 22 - 1], 1) == 361.5  # Los Angeles - San Francisco


def test_cab_distances_satisfy_the_triangle_inequality_up_to_rounding(cab25: HubInstance) -> None:
    C = cab25.costs
    via = (C[:, :, None] + C[None, :, :]).min(axis=1)  # shortest two-leg distance i -> k -> j
    excess = C - via
    assert excess.max() < 1e-3
    # ... but not exactly: the README notes rounding violations
    assert excess.max() > 0


def test_okelly_and_optsicom_copies_agree(hub_data_dir: Path) -> None:
    W, C = read_okelly(hub_data_dir / "CAB" / "okelly.txt")
    W2, C2 = read_cab25(hub_data_dir / "CAB" / "CAB25.txt")  # CRLF, tabs, float32 decimals
    np.testing.assert_array_equal(W, W2)
    assert np.abs(C - C2).max() <= 1.2e-4


@pytest.mark.parametrize("n", [10, 15, 20, 25])
def test_ap_format_copies_hold_the_same_flows_and_distances(
    hub_data_dir: Path, cab25: HubInstance, n: int
) -> None:
    raw = read_ap_raw(hub_data_dir / "CAB" / f"{n}.3.4")
    assert (raw.n, raw.p, raw.chi, raw.alpha, raw.delta) == (n, 3, 1.0, 0.4, 1.0)
    np.testing.assert_array_equal(raw.flows, cab25.flows[:n, :n])
    assert np.abs(euclidean_distances(raw.coords) - cab25.costs[:n, :n]).max() <= 7e-4


def test_computed_cab_optima_are_reproduced_with_normalised_flows(hub_data_dir: Path) -> None:
    records = [r for r in load_optima(data_dir=hub_data_dir) if r.suite == "cab"]
    assert len(records) == 2 * 3 * 5 * 4  # two problems, n = 10/15/20, five alphas, p = 1..4
    cache = {n: load_cab(n, data_dir=hub_data_dir) for n in (10, 15, 20)}
    for rec in records:
        inst = dataclasses.replace(cache[rec.n], alpha=rec.alpha)
        d = inst.costs
        Wn = inst.flows / inst.flows.sum()
        if rec.allocation is not None:  # single allocation
            a = np.asarray(rec.allocation) - 1
            cost = d[np.arange(rec.n), a][:, None] + rec.alpha * d[np.ix_(a, a)]
            cost = cost + d[a, np.arange(rec.n)][None, :]
        else:  # multiple allocation: cheapest hub pair per OD pair
            h = np.asarray(rec.hubs) - 1
            path = (
                d[:, h][:, :, None, None]
                + rec.alpha * d[np.ix_(h, h)][None, :, :, None]
                + d[h, :][None, None, :, :]
            )
            cost = path.min(axis=(1, 2))
        assert float((Wn * cost).sum()) == pytest.approx(rec.objective, abs=0.005), rec
        assert float((inst.scaled_flows() * cost).sum()) == pytest.approx(rec.objective, abs=0.005)


def test_load_instance_dispatches_to_cab(hub_data_dir: Path) -> None:
    inst = load_instance("CAB", 15, data_dir=hub_data_dir)
    assert inst.name == "CAB15"


# --- bad input -----------------------------------------------------------------------


def _write_okelly(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "CAB"
    folder.mkdir()
    (folder / "okelly.txt").write_text(text)
    return tmp_path


@pytest.mark.parametrize("n", [0, 1, 26, 30])
def test_cab_sizes_out_of_range_are_rejected(hub_data_dir: Path, n: int) -> None:
    with pytest.raises(
        InputFormatError, match=f"okelly.txt: expected n between 2 and 25.*found {n}"
    ):
        load_cab(n, data_dir=hub_data_dir)


def test_missing_ampl_header_is_reported(hub_data_dir: Path, tmp_path: Path) -> None:
    text = (hub_data_dir / "CAB" / "okelly.txt").read_text().replace("param:", "parm:")
    folder = _write_okelly(tmp_path, text)
    with pytest.raises(InputFormatError, match=r"okelly.txt: expected an AMPL header"):
        load_cab(10, data_dir=folder)


def test_missing_record_is_reported_with_counts(hub_data_dir: Path, tmp_path: Path) -> None:
    lines = (hub_data_dir / "CAB" / "okelly.txt").read_text().splitlines()
    del lines[100]
    folder = _write_okelly(tmp_path, "\n".join(lines))
    with pytest.raises(
        InputFormatError, match=r"okelly.txt: expected 25\*25 records .* found 2496"
    ):
        load_cab(10, data_dir=folder)


def test_duplicated_pair_is_reported(hub_data_dir: Path, tmp_path: Path) -> None:
    lines = (hub_data_dir / "CAB" / "okelly.txt").read_text().splitlines()
    header = next(k for k, line in enumerate(lines) if "param:" in line)
    lines[header + 2] = lines[header + 1]  # pair (1, 1) twice, (1, 2) missing
    folder = _write_okelly(tmp_path, "\n".join(lines))
    with pytest.raises(
        InputFormatError, match=r"each pair \(i, j\) exactly once.*\(1, 1\) 2 times"
    ):
        load_cab(10, data_dir=folder)


def test_negative_distance_is_reported(hub_data_dir: Path, tmp_path: Path) -> None:
    text = (hub_data_dir / "CAB" / "okelly.txt").read_text()
    folder = _write_okelly(tmp_path, text.replace("576.9631", "-576.9631"))
    with pytest.raises(
        InputFormatError, match=r"non-negative distances C, found -576.963 at \(1,2\)"
    ):
        load_cab(10, data_dir=folder)


def test_non_numeric_value_names_its_line(hub_data_dir: Path, tmp_path: Path) -> None:
    text = (hub_data_dir / "CAB" / "okelly.txt").read_text()
    folder = _write_okelly(tmp_path, text.replace("6469.", "6469.x", 1))
    with pytest.raises(
        InputFormatError, match=r"okelly.txt, line 30: expected a number, found '6469.x'"
    ):
        load_cab(10, data_dir=folder)


def test_closing_semicolon_is_accepted(hub_data_dir: Path, tmp_path: Path) -> None:
    text = (hub_data_dir / "CAB" / "okelly.txt").read_text()
    folder = _write_okelly(tmp_path, text + "\n;\n")
    assert (
        load_cab(10, data_dir=folder).flows.sum() == load_cab(10, data_dir=hub_data_dir).flows.sum()
    )
