"""Random Euclidean instances: shape, determinism, metric costs, flow total."""

from __future__ import annotations

import numpy as np
import pytest

from hubopt._errors import ModelSpecificationError
from hubopt.instances import HubInstance, random_euclidean


def test_instance_has_n_nodes_and_matching_arrays() -> None:
    inst = random_euclidean(37, seed=3)
    assert isinstance(inst, HubInstance)
    assert inst.n == 37
    assert inst.costs.shape == (37, 37)
    assert inst.flows.shape == (37, 37)
    assert inst.coords is not None
    assert inst.coords.shape == (37, 2)
    assert inst.suite == "random"
    assert (inst.chi, inst.alpha, inst.delta) == (3.0, 0.75, 2.0)


def test_same_seed_gives_identical_instance_and_other_seed_differs() -> None:
    a = random_euclidean(25, seed=7)
    b = random_euclidean(25, seed=7)
    c = random_euclidean(25, seed=8)
    np.testing.assert_array_equal(a.costs, b.costs)
    np.testing.assert_array_equal(a.flows, b.flows)
    assert not np.array_equal(a.costs, c.costs)


def test_points_lie_in_the_square() -> None:
    inst = random_euclidean(200, seed=1, side=50.0)
    assert inst.coords is not None
    assert inst.coords.min() >= 0.0
    assert inst.coords.max() <= 50.0


def test_costs_are_the_euclidean_distances_of_the_points() -> None:
    inst = random_euclidean(30, seed=2)
    assert inst.coords is not None
    for i, j in [(0, 1), (4, 17), (29, 3)]:
        expected = float(np.linalg.norm(inst.coords[i] - inst.coords[j]))
        assert inst.costs[i, j] == pytest.approx(expected, rel=1e-12)


def test_costs_are_metric() -> None:
    inst = random_euclidean(40, seed=5)
    c = inst.costs
    assert np.all(c >= 0)
    np.testing.assert_array_equal(np.diag(c), 0.0)
    np.testing.assert_allclose(c, c.T)
    # Triangle inequality: no two-leg detour i -> k -> j is shorter than i -> j.
    detour = (c[:, :, None] + c[None, :, :]).min(axis=1)
    assert np.all(c <= detour + 1e-9)


def test_flows_sum_to_flow_total_and_are_zero_on_the_diagonal() -> None:
    inst = random_euclidean(50, seed=0, flow_total=12345.0)
    assert inst.flows.sum() == pytest.approx(12345.0, rel=1e-12)
    np.testing.assert_array_equal(np.diag(inst.flows), 0.0)
    off = ~np.eye(50, dtype=bool)
    assert np.all(inst.flows[off] > 0)


def test_flows_follow_the_gravity_rule() -> None:
    # W_ij (1 + C_ij / (side/10)) is a product of masses m_i m_j, so it has rank one.
    inst = random_euclidean(20, seed=4, side=100.0)
    g = inst.flows * (1.0 + inst.costs / 10.0)
    mass = np.sqrt(g[0, 1] * g[0, 2] / g[1, 2])  # m_0 up to the constant K
    ratio = g[0, 5] / mass  # proportional to m_5
    assert g[3, 5] / ratio == pytest.approx(g[3, 0] / mass, rel=1e-9)


def test_bad_arguments_are_all_reported() -> None:
    with pytest.raises(ModelSpecificationError) as err:
        random_euclidean(1, seed=0, flow_total=-1.0, alpha=float("nan"))
    text = str(err.value)
    assert "n:" in text
    assert "flow_total" in text
    assert "alpha" in text
