"""AP reader and generate.c aggregation, checked against the shipped files and the data README."""

from __future__ import annotations

import itertools
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from hubopt._errors import InputFormatError
from hubopt.instances import (
    HubInstance,
    aggregate_ap,
    load_ap,
    load_instance,
    load_optima,
    read_ap_file,
    read_vector,
)
from hubopt.instances.ap import aggregation_boxes, genfcost_fixed_costs

AP_TOTAL_FLOW = 3978.91525  # data README 2.1: the same in every size
SHIPPED = (5, 10, 20, 25, 40, 50, 100)  # generate.c outputs shipped as N.3
WITH_FIXED_COSTS = (10, 20, 25, 40, 50, 100, 200)


@pytest.fixture(scope="module")
def ap_dir(hub_data_dir: Path) -> Path:
    return hub_data_dir / "AP"


@pytest.fixture(scope="module")
def ap200(ap_dir: Path) -> HubInstance:
    return read_ap_file(ap_dir / "APdata200")


# --- facts stated in the data README -------------------------------------------------


@pytest.mark.parametrize("n", [*SHIPPED, 200])
def test_shipped_ap_sizes_have_n_nodes_and_the_stated_total_flow(
    hub_data_dir: Path, n: int
) -> None:
    inst = load_ap(n, data_dir=hub_data_dir)
    assert inst.name == f"AP{n}"
    assert inst.suite == "ap"
    assert inst.n == n
    assert inst.costs.shape == inst.flows.shape == (n, n)
    assert inst.coords is not None
    assert inst.coords.shape == (n, 2)
    assert inst.flows.sum() == pytest.approx(AP_TOTAL_FLOW, rel=1e-12)
    # flows asymmetric with a non-zero diagonal; every flow is at least the base minimum 0.01
    assert np.diag(inst.flows).min() >= 0.01 - 1e-12
    assert inst.flows.min() >= 0.01 - 1e-12
    if n == 200:
        assert inst.flows.min() == pytest.approx(0.01)
    assert not np.allclose(inst.flows, inst.flows.T)


def test_apdata200_has_the_stated_cost_factors_p_and_integer_coordinates(
    ap200: HubInstance,
) -> None:
    assert (ap200.n, ap200.p) == (200, 8)
    assert (ap200.chi, ap200.alpha, ap200.delta) == (3.0, 0.75, 2.0)
    assert ap200.flow_scale == 1 / 1000
    coords = ap200.coords
    assert coords is not None
    assert np.array_equal(coords, np.round(coords))
    assert (coords[:, 0].min(), coords[:, 0].max()) == (2882, 57640)
    assert (coords[:, 1].min(), coords[:, 1].max()) == (0, 55024)


def test_ap_costs_are_euclidean_distances_of_the_coordinates(ap200: HubInstance) -> None:
    coords = ap200.coords
    assert coords is not None
    for i, j in [(0, 1), (17, 150), (199, 3)]:
        expected = np.sqrt((coords[i, 0] - coords[j, 0]) ** 2 + (coords[i, 1] - coords[j, 1]) ** 2)
        assert ap200.costs[i, j] == pytest.approx(expected, rel=1e-15)
    assert np.array_equal(ap200.costs, ap200.costs.T)
    assert np.all(np.diag(ap200.costs) == 0)


def test_200_3_is_apdata200_with_p_3(ap_dir: Path, ap200: HubInstance) -> None:
    shipped = read_ap_file(ap_dir / "200.3")
    assert shipped.p == 3
    assert np.array_equal(shipped.flows, ap200.flows)
    assert np.array_equal(shipped.costs, ap200.costs)


def test_10_2_to_10_5_are_one_instance_that_differs_only_in_p(ap_dir: Path) -> None:
    files = [read_ap_file(ap_dir / f"10.{p}") for p in (2, 3, 4, 5)]
    assert [f.p for f in files] == [2, 3, 4, 5]
    for other in files[1:]:
        assert np.array_equal(other.flows, files[0].flows)
        assert np.array_equal(other.costs, files[0].costs)


@pytest.mark.parametrize("n", WITH_FIXED_COSTS)
def test_load_ap_attaches_shipped_fixed_costs_and_capacities(hub_data_dir: Path, n: int) -> None:
    inst = load_ap(n, data_dir=hub_data_dir)
    assert set(inst.fixed_costs) == set(inst.capacities) == {"L", "T"}
    for kind in ("L", "T"):
        assert inst.fixed_costs[kind].shape == (n,)
        assert inst.capacities[kind].shape == (n,)
        assert np.all(inst.fixed_costs[kind] > 0)
        # tight capacities and fixed costs differ from the loose ones
    assert not np.array_equal(inst.fixed_costs["L"], inst.fixed_costs["T"])


def test_fixed_costs_are_on_the_published_scale(hub_data_dir: Path) -> None:
    inst = load_ap(10, data_dir=hub_data_dir)
    # data README 3: the first value of FcostL.10 on the published (/1000) scale
    assert inst.fixed_costs["L"][0] == pytest.approx(28766.736921, abs=1e-9)


def test_sizes_without_fixed_cost_files_get_none(hub_data_dir: Path) -> None:
    assert dict(load_ap(5, data_dir=hub_data_dir).fixed_costs) == {}
    assert dict(load_ap(35, data_dir=hub_data_dir).capacities) == {}


def test_read_vector_reads_tokens_whatever_the_line_layout(ap_dir: Path, tmp_path: Path) -> None:
    one_per_line = read_vector(ap_dir / "FcostL.10")  # one value per line
    all_on_one_line = read_vector(ap_dir / "FcostT.10")  # all values on one line
    tabbed = read_vector(ap_dir / "Fcost.30")  # tab-separated, trailing tab
    assert (one_per_line.size, all_on_one_line.size, tabbed.size) == (10, 10, 30)
    relaid = tmp_path / "relaid"
    relaid.write_text(
        "\n".join(" ".join(str(float(v)) for v in pair) for pair in one_per_line.reshape(5, 2))
    )
    assert np.array_equal(read_vector(relaid, length=10), one_per_line)


def test_instance_arrays_are_read_only(hub_data_dir: Path) -> None:
    inst = load_ap(10, data_dir=hub_data_dir)
    with pytest.raises(ValueError, match="read-only"):
        inst.flows[0, 0] = 1.0
    with pytest.raises(TypeError):
        inst.fixed_costs["X"] = np.zeros(10)  # type: ignore[index]


def test_instances_survive_pickling_for_worker_processes(hub_data_dir: Path) -> None:
    inst = load_ap(20, data_dir=hub_data_dir)
    back = pickle.loads(pickle.dumps(inst))
    assert (back.name, back.n, back.p, back.source) == (inst.name, inst.n, inst.p, inst.source)
    np.testing.assert_array_equal(back.costs, inst.costs)
    np.testing.assert_array_equal(back.capacities["T"], inst.capacities["T"])
    assert not back.flows.flags.writeable


def test_scaled_flows_apply_the_published_divisor(hub_data_dir: Path) -> None:
    inst = load_ap(20, data_dir=hub_data_dir)
    assert inst.scaled_flows().sum() == pytest.approx(AP_TOTAL_FLOW / 1000, rel=1e-12)


# --- aggregation (data README 2.3) ----------------------------------------------------


@pytest.mark.parametrize("n", SHIPPED)
def test_aggregation_reproduces_every_shipped_file(
    ap_dir: Path, ap200: HubInstance, n: int
) -> None:
    shipped = read_ap_file(ap_dir / f"{n}.3")
    made = aggregate_ap(ap200, n, p=3)
    assert made.n == n
    assert made.coords is not None
    assert shipped.coords is not None
    np.testing.assert_allclose(made.flows, shipped.flows, rtol=1e-9, atol=0)
    np.testing.assert_allclose(made.coords, shipped.coords, rtol=0, atol=1e-6)
    # printed with %f, the file's tokens come out character for character
    tokens = (ap_dir / f"{n}.3").read_text().split()
    assert [f"{v:f}" for v in made.coords.ravel()] == tokens[1 : 1 + 2 * n]
    assert [f"{v:f}" for v in made.flows.ravel()] == tokens[1 + 2 * n : 1 + 2 * n + n * n]
    assert (made.p, made.chi, made.alpha, made.delta) == (3, 3.0, 0.75, 2.0)


@pytest.mark.parametrize("n", [35, 60, 150])
def test_aggregation_to_unshipped_sizes_keeps_the_total_flow(ap200: HubInstance, n: int) -> None:
    made = aggregate_ap(ap200, n)
    assert made.n == n
    assert made.flows.sum() == pytest.approx(AP_TOTAL_FLOW, rel=1e-12)
    # out-flow of every aggregated node is positive and coordinates stay in the base's box
    assert made.flows.sum(axis=1).min() > 0
    assert made.coords is not None
    assert ap200.coords is not None
    assert np.all(made.coords.min(axis=0) >= ap200.coords.min(axis=0))
    assert np.all(made.coords.max(axis=0) <= ap200.coords.max(axis=0))


def test_aggregation_partitions_rows_of_40_with_remainders_to_the_first_boxes(
    ap200: HubInstance,
) -> None:
    coords = ap200.coords
    assert coords is not None
    boxes = aggregation_boxes(coords, 35)  # 7 boxes per row of 40 nodes: 6,6,6,6,6,5,5
    assert [len(b) for b in boxes] == [6, 6, 6, 6, 6, 5, 5] * 5
    members = np.concatenate(boxes)
    assert sorted(members) == list(range(200))
    rows = [np.concatenate(boxes[7 * r : 7 * r + 7]) for r in range(5)]
    for low, high in itertools.pairwise(rows):
        assert coords[low, 1].max() <= coords[high, 1].min()  # rows are horizontal strips
    for r in range(5):
        row_boxes = boxes[7 * r : 7 * r + 7]
        for left, right in itertools.pairwise(row_boxes):
            assert coords[left, 0].max() <= coords[right, 0].min()  # boxes left to right


def test_aggregation_rows_run_from_low_y_and_columns_from_low_x(ap200: HubInstance) -> None:
    made = aggregate_ap(ap200, 60)
    assert made.coords is not None
    grid = made.coords.reshape(5, 12, 2)
    assert np.all(np.diff(grid[:, :, 0], axis=1) > 0)  # x grows along each row
    assert np.all(np.diff(grid[:, :, 1].mean(axis=1)) > 0)  # rows go up in y


def test_aggregation_to_200_only_renumbers_the_nodes(ap200: HubInstance) -> None:
    made = aggregate_ap(ap200, 200)
    assert ap200.coords is not None
    assert made.coords is not None
    # match each new node to the base node with identical coordinates
    index = {tuple(c): k for k, c in enumerate(ap200.coords)}
    perm = np.array([index[tuple(c)] for c in made.coords])
    assert sorted(perm) == list(range(200))
    np.testing.assert_allclose(made.flows, ap200.flows[np.ix_(perm, perm)], rtol=1e-15)


def test_load_ap_aggregates_sizes_that_are_not_shipped(
    hub_data_dir: Path, ap200: HubInstance
) -> None:
    inst = load_ap(45, data_dir=hub_data_dir)
    assert inst.source is None
    np.testing.assert_array_equal(inst.flows, aggregate_ap(ap200, 45).flows)
    assert load_instance("ap", 45, data_dir=hub_data_dir).n == 45


@pytest.mark.parametrize("n", [30, 40, 50, 60, 70, 80, 90, 100, 125, 150, 175])
def test_aggregated_instances_reproduce_the_shipped_genfcost_files(
    hub_data_dir: Path, ap_dir: Path, n: int
) -> None:
    # Fcost.NN were computed by the authors from generate.c outputs, including sizes
    # whose node files are not shipped (30, 60, 70, 80, 90, 125, 150, 175): matching
    # them checks the aggregation there too.  Values are printed with 3 decimals.
    made = genfcost_fixed_costs(load_ap(n, data_dir=hub_data_dir))
    shipped = read_vector(ap_dir / f"Fcost.{n}", length=n)
    np.testing.assert_allclose(made, shipped, rtol=1e-9)


def test_genfcost_200_uses_the_original_node_order(ap_dir: Path, ap200: HubInstance) -> None:
    shipped = read_vector(ap_dir / "Fcost.200", length=200)
    np.testing.assert_allclose(genfcost_fixed_costs(ap200), shipped, rtol=1e-9)


# --- published values re-evaluated with the plain cost formula ------------------------


def _single_allocation_cost(inst: HubInstance, alloc: tuple[int, ...]) -> float:
    a = np.asarray(alloc) - 1
    d = inst.costs
    W = inst.flows
    per_pair = inst.chi * d[np.arange(inst.n), a][:, None] + inst.alpha * d[np.ix_(a, a)]
    per_pair = per_pair + inst.delta * d[a, np.arange(inst.n)][None, :]
    return float((W * per_pair).sum() * inst.flow_scale)


def test_published_usaphmp_ap10_2_allocation_costs_167493_06(hub_data_dir: Path) -> None:
    inst = load_ap(10, data_dir=hub_data_dir)
    record = next(r for r in load_optima(data_dir=hub_data_dir) if r.instance == "AP10.2")
    assert record.allocation is not None
    a = np.asarray(record.allocation) - 1
    d, W = inst.costs, inst.flows
    total = 0.0
    for i in range(10):
        for j in range(10):
            k, m = a[i], a[j]
            total += W[i, j] * (3 * d[i, k] + 0.75 * d[k, m] + 2 * d[m, j])
    assert total / 1000 == pytest.approx(167493.06, abs=0.005)


def test_every_published_ap_single_allocation_is_reproduced(hub_data_dir: Path) -> None:
    records = [
        r
        for r in load_optima(data_dir=hub_data_dir)
        if r.suite == "ap" and r.problem in {"USApHMP", "USAHLP", "CSAHLP"}
    ]
    assert len(records) == 16 + 8 + 16  # n = 10, 20, 25, 40 (n = 50 is held out)
    for rec in records:
        inst = load_ap(rec.n, data_dir=hub_data_dir)
        assert rec.allocation is not None
        cost = _single_allocation_cost(inst, rec.allocation)
        if rec.fixed_cost_type is not None:
            cost += float(inst.fixed_costs[rec.fixed_cost_type][np.asarray(rec.hubs) - 1].sum())
        assert cost == pytest.approx(rec.objective, abs=0.005), rec.instance  # to the cent
        if rec.capacity_type is not None:
            a = np.asarray(rec.allocation) - 1
            load = np.bincount(a, weights=inst.flows.sum(axis=1), minlength=rec.n)
            assert np.all(load <= inst.capacities[rec.capacity_type] + 1e-9), rec.instance


def test_every_published_ap_multiple_allocation_value_is_reproduced(hub_data_dir: Path) -> None:
    records = [
        r
        for r in load_optima(data_dir=hub_data_dir)
        if r.suite == "ap" and r.problem in {"UMApHMP", "UMAHLP"}
    ]
    assert len(records) == 16 + 8
    for rec in records:
        inst = load_ap(rec.n, data_dir=hub_data_dir)
        h = np.asarray(rec.hubs) - 1
        d = inst.costs
        # cheapest i -> k -> m -> j over all hub pairs (k, m)
        path = (
            inst.chi * d[:, h][:, :, None, None]
            + inst.alpha * d[np.ix_(h, h)][None, :, :, None]
            + inst.delta * d[h, :][None, None, :, :]
        )
        best = path.min(axis=(1, 2))
        cost = float((inst.flows * best).sum() * inst.flow_scale)
        if rec.fixed_cost_type is not None:
            cost += float(inst.fixed_costs[rec.fixed_cost_type][h].sum())
        assert cost == pytest.approx(rec.objective, abs=0.005), rec.instance  # to the cent


# --- bad input -----------------------------------------------------------------------


def _copy_ap(hub_data_dir: Path, tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "hub-instances" / "AP"
    folder.mkdir(parents=True)
    for name in names:
        shutil.copy(hub_data_dir / "AP" / name, folder / name)
    return folder


def test_truncated_node_file_names_the_expected_count(hub_data_dir: Path, tmp_path: Path) -> None:
    folder = _copy_ap(hub_data_dir, tmp_path)
    text = (hub_data_dir / "AP" / "40.3").read_text()
    (folder / "40.3").write_text(text.rsplit(maxsplit=1)[0])
    with pytest.raises(InputFormatError, match=r"40\.3: expected 1 \+ 2\*40 \+ 40\*40 \+ 4") as err:
        load_ap(40, data_dir=folder.parent)
    assert "found 1684" in str(err.value)


def test_non_numeric_token_names_file_line_and_token(hub_data_dir: Path, tmp_path: Path) -> None:
    folder = _copy_ap(hub_data_dir, tmp_path)
    lines = (hub_data_dir / "AP" / "10.3").read_text().splitlines()
    lines[12] = lines[12].replace(" ", " x7 ", 1)
    (folder / "10.3").write_text("\n".join(lines))
    with pytest.raises(InputFormatError, match=r"10\.3, line 13: expected a number, found 'x7'"):
        load_ap(10, data_dir=folder.parent)


def test_nan_token_is_rejected(hub_data_dir: Path, tmp_path: Path) -> None:
    text = (hub_data_dir / "AP" / "5.3").read_text().replace("2.000000", "nan")
    (tmp_path / "5.3").write_text(text)
    with pytest.raises(InputFormatError, match=r"5\.3, line \d+: expected a finite number"):
        read_ap_file(tmp_path / "5.3")


def test_negative_flow_is_rejected(hub_data_dir: Path, tmp_path: Path) -> None:
    raw = (hub_data_dir / "AP" / "5.3").read_text().split()
    raw[1 + 10 + 7] = "-" + raw[1 + 10 + 7]
    (tmp_path / "5.3").write_text(" ".join(raw))
    with pytest.raises(InputFormatError, match=r"5\.3: flow w\[2,3\] = -[\d.]+ \(expected >= 0\)"):
        read_ap_file(tmp_path / "5.3")


def test_fractional_node_count_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "bad").write_text("2.5\n1 2\n")
    with pytest.raises(InputFormatError, match="bad: expected the node count n"):
        read_ap_file(tmp_path / "bad")


def test_fixed_cost_file_with_wrong_count_is_rejected(hub_data_dir: Path, tmp_path: Path) -> None:
    folder = _copy_ap(hub_data_dir, tmp_path, "10.3", "FcostT.10")
    values = (hub_data_dir / "AP" / "FcostL.10").read_text().split()
    (folder / "FcostL.10").write_text("\n".join(values[:9]))
    with pytest.raises(InputFormatError, match=r"FcostL\.10: expected 10 numbers, found 9"):
        load_ap(10, data_dir=folder.parent)


@pytest.mark.parametrize("n", [0, 7, 33, 205, -5])
def test_sizes_that_are_not_multiples_of_5_in_range_are_rejected(
    hub_data_dir: Path, n: int
) -> None:
    with pytest.raises(InputFormatError, match=f"multiple of 5 between 5 and 200, found {n}"):
        load_ap(n, data_dir=hub_data_dir)


def test_aggregation_rejects_bad_sizes(ap200: HubInstance) -> None:
    with pytest.raises(InputFormatError, match="APdata200: expected n to be a multiple of 5"):
        aggregate_ap(ap200, 42)
    with pytest.raises(InputFormatError, match="multiple of 5 between 5 and 200, found 210"):
        aggregate_ap(ap200, 210)


def test_missing_base_file_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "AP"
    folder.mkdir()
    with pytest.raises(InputFormatError, match=r"AP/APdata200: file not found"):
        load_ap(35, data_dir=tmp_path)


def test_missing_data_folder_says_how_to_set_it(tmp_path: Path) -> None:
    with pytest.raises(InputFormatError, match="HUBOPT_DATA"):
        load_ap(10, data_dir=tmp_path / "nowhere")


def test_default_data_folder_is_the_configured_one(hub_data_dir: Path) -> None:
    inst = load_ap(10)  # no data_dir: $HUBOPT_DATA or ../shared/data
    assert inst.source == hub_data_dir / "AP" / "10.3"
