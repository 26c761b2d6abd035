"""The compiled Benders cut kernel (hubopt.models._cuts) against independent truths.

Truths: the routing LP solved by HiGHS (scipy.optimize.linprog) for single pairs; the
numpy separation of hubopt.models.benders (the routing LP value at the point is
unique, the duals need not be); and the exact multiple-allocation routing cost of
random hub sets, recomputed here with plain numpy, which every cut must not exceed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linprog

from hubopt._errors import ModelSpecificationError, SolverError
from hubopt.instances import load_ap
from hubopt.models._cuts import origin_cuts, pair_transport_duals
from hubopt.models.base import HubData, make_hub_data
from hubopt.models.benders import _CutGenerator


def highs_routing_lp(c: np.ndarray, cap: np.ndarray) -> float:
    s = len(cap)
    rows = np.zeros((2 * s, s * s))
    for k in range(s):
        rows[k].reshape(s, s)[k, :] = 1.0  # sum_m x_km <= cap_k
        rows[s + k].reshape(s, s)[:, k] = 1.0  # sum_k x_km <= cap_m
    res = linprog(
        c.ravel(),
        A_ub=rows,
        b_ub=np.concatenate([cap, cap]),
        A_eq=np.ones((1, s * s)),
        b_eq=[1.0],
        method="highs",
    )
    assert res.status == 0
    return float(res.fun)


def random_capacities(rng: np.random.Generator, s: int, kind: int) -> np.ndarray:
    if kind == 0:  # fractional, summing to more than 1
        cap = rng.uniform(0.05, 1.0, s)
        cap = np.minimum(cap / cap.sum() * rng.uniform(1.0, 3.0), 1.0)
        return cap if cap.sum() >= 1.0 else np.ones(s)
    if kind == 1:  # integer point: 0/1 capacities, zeros dropped (outside the support)
        cap = rng.integers(0, 2, s).astype(float)
        cap[rng.integers(s)] = 1.0
        return cap[cap > 0]
    if kind == 2:  # summing to 1 exactly (every unit of capacity is used)
        cap = np.full(s, 1.0 / s)
        cap[-1] = 1.0 - cap[:-1].sum()
        return cap
    # degenerate mixture: 1, 0.5 and 1e-3
    cap = rng.choice([1.0, 0.5, 1e-3], size=s)
    cap[0] = 1.0
    return cap


def random_costs(rng: np.random.Generator, s: int, ties: bool) -> np.ndarray:
    if ties:  # few distinct values: many ties and degenerate optima
        return rng.integers(0, 4, (s, s)).astype(float)
    return rng.uniform(0.0, 100.0, (s, s))


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(60))
def test_pair_duals_are_optimal_against_highs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    s = 1 + seed % 8
    cap = random_capacities(rng, s, seed % 4)
    c = random_costs(rng, len(cap), ties=seed % 3 == 0)
    u, a, b, value = pair_transport_duals(c, cap)
    truth = highs_routing_lp(c, cap)
    scale = 1.0 + abs(truth)
    assert value == pytest.approx(truth, rel=1e-9, abs=1e-9)
    assert np.all(a >= 0.0)
    assert np.all(b >= 0.0)
    assert np.max(u - a[:, None] - b[None, :] - c) <= 1e-9 * scale
    assert u - a @ cap - b @ cap == pytest.approx(truth, rel=1e-9, abs=1e-9)


# AP 100, origin 76, a point on 20 sites: the routing LPs of destinations 0 and 1 need
# more augmenting paths than the numpy transport_duals of hubopt.models.benders allows
# (2 s + 2), which left them with a non-optimal dual (a valid, weaker cut)
AP100_SITES = [1, 3, 6, 15, 22, 26, 42, 46, 52, 53, 55, 57, 59, 61, 68, 70, 73, 83, 92, 93]
AP100_CAPS = [
    0.221912, 0.2919, 0.319924, 0.0547226, 0.267483, 0.0351376, 0.451175, 0.0399041,
    0.447938, 0.272293, 0.116374, 0.107406, 0.0839837, 0.139772, 0.760277, 0.380585,
    0.317619, 0.00960785, 0.480881, 0.201105,
]  # fmt: skip


@pytest.mark.parametrize("j", [0, 1])
def test_pair_needing_many_augmenting_paths_is_optimal_against_highs(
    hub_data_dir: Path, j: int
) -> None:
    C = load_ap(100, data_dir=hub_data_dir).costs
    S = np.array(AP100_SITES)
    cap = np.array(AP100_CAPS)
    c = 3.0 * C[76, S][:, None] + 0.75 * C[np.ix_(S, S)] + 2.0 * C[S, j][None, :]
    u, a, b, value = pair_transport_duals(c, cap)
    truth = highs_routing_lp(c, cap)
    assert value == pytest.approx(truth, rel=1e-9)
    assert u - a @ cap - b @ cap == pytest.approx(truth, rel=1e-9)
    assert np.max(u - a[:, None] - b[None, :] - c) <= 1e-9 * truth


@pytest.mark.parametrize("seed", range(4))
def test_pair_with_many_small_capacities_is_optimal_against_highs(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    s = 20 + 5 * seed
    cap = np.minimum(1.0, 5.0 * rng.dirichlet(np.ones(s) * 0.5))
    cap /= min(1.0, cap.sum())
    xy = rng.uniform(0, 100, size=(s + 2, 2))
    C = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    c = 3.0 * C[s, :s][:, None] + 0.75 * C[:s, :s] + 2.0 * C[:s, s + 1][None, :]
    u, a, b, value = pair_transport_duals(c, cap)
    truth = highs_routing_lp(c, cap)
    assert value == pytest.approx(truth, rel=1e-9)
    assert u - a @ cap - b @ cap == pytest.approx(truth, rel=1e-9)
    assert np.max(u - a[:, None] - b[None, :] - c) <= 1e-9 * truth


def test_pair_with_one_full_site_routes_through_it() -> None:
    c = np.array([[7.5]])
    u, a, b, value = pair_transport_duals(c, np.array([1.0]))
    assert value == 7.5
    assert u - a[0] - b[0] == pytest.approx(7.5)


def test_pair_rejects_capacities_below_one_unit() -> None:
    with pytest.raises(SolverError, match="sum to less than 1"):
        pair_transport_duals(np.ones((2, 2)), np.array([0.3, 0.3]))


def test_pair_rejects_inconsistent_shapes() -> None:
    with pytest.raises(ModelSpecificationError, match="c, cap"):
        pair_transport_duals(np.ones((2, 3)), np.array([1.0, 1.0]))


def ap_data(n: int, hub_dir: Path) -> HubData:
    inst = load_ap(n, data_dir=hub_dir)
    return make_hub_data(
        inst.costs,
        inst.scaled_flows(),
        chi=inst.chi,
        alpha=inst.alpha,
        delta=inst.delta,
        p=3,
        need_p=True,
        need_fixed_costs=False,
        need_capacities=False,
    )


def random_data(n: int, seed: int) -> HubData:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, size=(n, 2))
    C = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    W = rng.uniform(0, 10, size=(n, n)) * (rng.uniform(size=(n, n)) < 0.7)
    W[2] = 0.0  # an origin without flow
    return make_hub_data(
        C,
        W,
        chi=3.0,
        alpha=0.75,
        delta=2.0,
        p=3,
        excluded=(0, 5),  # two non-candidates: the point is zero there
        need_p=True,
        need_fixed_costs=False,
        need_capacities=False,
    )


def exact_routing_cost_by_origin(gen: _CutGenerator, H: np.ndarray) -> np.ndarray:
    """sum_j W_ij min_{k, m in H} (chi C_ik + alpha C_km + delta C_mj), for every i."""
    via = gen.chiC[:, H][:, :, None] + gen.aC[np.ix_(H, H)][None, :, :]  # (i, k, m)
    route = (via[:, :, :, None] + gen.dC[H][None, None, :, :]).min(axis=(1, 2))  # (i, j)
    return (gen.W * route).sum(axis=1)


def numpy_separation(gen: _CutGenerator, point: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The vectorised numpy separation of hubopt.models.benders (``separate`` itself
    until it delegates to the compiled kernel, then ``_separate_numpy``)."""
    return getattr(gen, "_separate_numpy", gen.separate)(point)


def compiled_cuts(gen: _CutGenerator, point: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    S = np.nonzero(point > 1e-9)[0]
    return origin_cuts(gen.chiC, gen.aC, gen.dC, gen.W, gen.G, S, np.minimum(point[S], 1.0))


def separation_points(data: HubData, rng: np.random.Generator) -> list[np.ndarray]:
    cand = np.array(data.candidates)
    n = data.n
    points = []
    for q in (1, 3):  # integer points
        y = np.zeros(n)
        y[rng.choice(cand, q, replace=False)] = 1.0
        points.append(y)
    for s, total in ((4, 1.0), (6, 2.5), (min(12, len(cand)), 3.0)):  # fractional points
        y = np.zeros(n)
        sites = rng.choice(cand, s, replace=False)
        y[sites] = np.minimum(rng.dirichlet(np.ones(s)) * total, 1.0)
        if y.sum() < 1.0:
            y[sites] /= y.sum()
        points.append(y)
    y = np.zeros(n)  # degenerate: capacities 1, 0.5, 1e-3
    y[cand[:4]] = [1.0, 0.5, 0.5, 1e-3]
    points.append(y)
    return points


@pytest.mark.parametrize("case", ["ap10", "ap20", "random15"])
def test_cuts_match_numpy_separation_and_are_valid(hub_data_dir: Path, case: str) -> None:
    data = ap_data(int(case[2:]), hub_data_dir) if case.startswith("ap") else random_data(15, 3)
    gen = _CutGenerator(data)
    rng = np.random.default_rng(len(case))
    cand = np.array(data.candidates)
    hub_sets = [np.sort(rng.choice(cand, q, replace=False)) for q in (1, 2, 3, 4) for _ in range(8)]
    truths = [exact_routing_cost_by_origin(gen, H) for H in hub_sets]
    for point in separation_points(data, rng):
        const, coef = compiled_cuts(gen, point)
        ref_const, ref_coef = numpy_separation(gen, point)
        value = const - coef @ point
        np.testing.assert_allclose(value, ref_const - ref_coef @ point, rtol=1e-7)
        if case == "ap10":  # two origins against HiGHS, pair by pair
            S = np.nonzero(point > 1e-9)[0]
            cap = np.minimum(point[S], 1.0)
            for i in (0, 7):
                truth = sum(
                    gen.W[i, j]
                    * highs_routing_lp(
                        gen.chiC[i, S][:, None] + gen.aC[np.ix_(S, S)] + gen.dC[S, j][None, :],
                        cap,
                    )
                    for j in range(data.n)
                )
                assert value[i] == pytest.approx(truth, rel=1e-9)
        if np.all((point == 0.0) | (point == 1.0)):  # at a hub set the cut is its cost
            H = np.nonzero(point)[0]
            np.testing.assert_allclose(value, exact_routing_cost_by_origin(gen, H), rtol=1e-9)
        for H, truth in zip(hub_sets, truths, strict=True):
            y = np.zeros(data.n)
            y[H] = 1.0
            assert np.all(const - coef @ y <= truth + 1e-9 * (1.0 + np.abs(truth)))


def test_origin_cuts_are_deterministic_and_skip_zero_flows() -> None:
    data = random_data(12, 8)
    gen = _CutGenerator(data)
    point = np.zeros(12)
    point[[1, 4, 7, 9]] = [0.6, 0.6, 0.5, 0.3]
    first = compiled_cuts(gen, point)
    second = compiled_cuts(gen, point)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    # origin 2 sends nothing: its cut is theta_2 >= 0
    assert first[0][2] == 0.0
    assert np.all(first[1][2] == 0.0)
    assert np.all(first[0][[0, 1, 3]] > 0.0)


def test_origin_cuts_report_every_shape_problem() -> None:
    z = np.zeros((3, 3))
    with pytest.raises(ModelSpecificationError, match=r"W: expected shape \(3, 3\).*support"):
        origin_cuts(z, z, z, np.zeros((3, 2)), z, np.array([5]), np.array([1.0]))
