"""TR reader, checked against the facts of the data README."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from hubopt._errors import InputFormatError
from hubopt.instances import HubInstance, load_instance, load_tr

TR_TOTAL_FLOW = 67_803_913  # data README 2.6


@pytest.fixture(scope="module")
def tr(hub_data_dir: Path) -> HubInstance:
    return load_tr(data_dir=hub_data_dir)


def test_tr_has_81_nodes_and_the_stated_total_flow(tr: HubInstance) -> None:
    assert (tr.name, tr.suite, tr.n) == ("TR81", "tr", 81)
    assert tr.flows.shape == tr.costs.shape == (81, 81)
    assert tr.flows.sum() == TR_TOTAL_FLOW
    assert (tr.flow_scale, tr.chi, tr.alpha, tr.delta) == (1.0, 1.0, 1.0, 1.0)
    assert tr.p is None
    assert tr.coords is None


def test_tr_flows_are_asymmetric_integers_with_zero_diagonal(tr: HubInstance) -> None:
    W = tr.flows
    assert np.array_equal(W, np.round(W))
    assert np.all(np.diag(W) == 0)
    assert not np.array_equal(W, W.T)
    assert W.min() >= 0


def test_tr_distances_are_symmetric_km_in_plate_code_order(tr: HubInstance) -> None:
    D = tr.costs
    assert np.array_equal(D, D.T)
    assert np.all(np.diag(D) == 0)
    assert np.array_equal(D, np.round(D))
    assert D[0, 1] == 330  # Adana - Adiyaman
    assert D[0, 2] == 573  # Adana - Afyon
    assert np.all(D[~np.eye(81, dtype=bool)] > 0)


def test_load_instance_dispatches_to_tr(hub_data_dir: Path) -> None:
    assert load_instance("tr", 81, data_dir=hub_data_dir).name == "TR81"
    with pytest.raises(InputFormatError, match="expected n = 81, found 80"):
        load_instance("tr", 80, data_dir=hub_data_dir)


def test_unknown_suite_is_rejected(hub_data_dir: Path) -> None:
    with pytest.raises(InputFormatError, match="expected one of ap, cab, tr, found 'xx'"):
        load_instance("xx", 10, data_dir=hub_data_dir)


# --- bad input -----------------------------------------------------------------------


def _tr_copy(hub_data_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "TR"
    shutil.copytree(hub_data_dir / "TR", folder)
    for f in folder.iterdir():
        f.chmod(0o644)
    return folder


def test_comma_separated_distance_file_is_rejected(hub_data_dir: Path, tmp_path: Path) -> None:
    folder = _tr_copy(hub_data_dir, tmp_path)
    dist = folder / "TurkishNetworkDist.csv"
    dist.write_text(dist.read_text().replace(";", ","))
    with pytest.raises(
        InputFormatError,
        match=r"TurkishNetworkDist.csv, line 1: expected 81 semicolon-separated numbers, found 1",
    ):
        load_tr(data_dir=tmp_path)


def test_short_flow_row_is_rejected(hub_data_dir: Path, tmp_path: Path) -> None:
    folder = _tr_copy(hub_data_dir, tmp_path)
    flow = folder / "TurkishNetworkFlow.csv"
    lines = flow.read_text().splitlines()
    lines[4] = lines[4].rsplit(",", 1)[0]
    flow.write_text("\n".join(lines))
    with pytest.raises(
        InputFormatError,
        match=r"TurkishNetworkFlow.csv, line 5: expected 81 comma-separated numbers, found 80",
    ):
        load_tr(data_dir=tmp_path)


def test_missing_row_is_rejected(hub_data_dir: Path, tmp_path: Path) -> None:
    folder = _tr_copy(hub_data_dir, tmp_path)
    flow = folder / "TurkishNetworkFlow.csv"
    flow.write_text("\n".join(flow.read_text().splitlines()[:-1]))
    with pytest.raises(
        InputFormatError, match=r"TurkishNetworkFlow.csv: expected 81 rows, found 80"
    ):
        load_tr(data_dir=tmp_path)


def test_negative_distance_is_rejected(hub_data_dir: Path, tmp_path: Path) -> None:
    folder = _tr_copy(hub_data_dir, tmp_path)
    dist = folder / "TurkishNetworkDist.csv"
    dist.write_text(dist.read_text().replace("0;330;", "0;-330;", 1))
    with pytest.raises(
        InputFormatError,
        match=r"TurkishNetworkDist.csv: expected non-negative distances, found -330 at \(1,2\)",
    ):
        load_tr(data_dir=tmp_path)


def test_empty_field_and_text_are_rejected(hub_data_dir: Path, tmp_path: Path) -> None:
    folder = _tr_copy(hub_data_dir, tmp_path)
    flow = folder / "TurkishNetworkFlow.csv"
    original = flow.read_text()
    flow.write_text(original.replace("0,17493,", "0,,", 1))
    with pytest.raises(InputFormatError, match=r"line 1: expected a number, found an empty field"):
        load_tr(data_dir=tmp_path)
    flow.write_text(original.replace("0,17493,", "0,abc,", 1))
    with pytest.raises(InputFormatError, match=r"line 1: expected a number, found 'abc'"):
        load_tr(data_dir=tmp_path)


def test_missing_tr_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "TR").mkdir()
    with pytest.raises(InputFormatError, match=r"TR/TurkishNetworkFlow.csv: file not found"):
        load_tr(data_dir=tmp_path)
