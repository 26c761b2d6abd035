"""The pair layout of the path formulation's Lagrangian relaxation: one row of
multipliers per OD pair with flow, and the sums over them equal to the dense sums over
all pairs of nodes (brute force)."""

from __future__ import annotations

import numpy as np
import pytest

from hubopt.models._sa_kernels import _allocation_prices
from hubopt.models._sa_pairs import pair_scale, pairs_of, shift_multipliers
from tests.oracles import gappy_instance


@pytest.mark.parametrize(("n", "seed", "diagonal"), [(7, 1, False), (12, 2, True), (5, 3, True)])
def test_pairs_with_flow_index_the_multipliers_and_the_prices_sum_over_them(
    n: int, seed: int, diagonal: bool
) -> None:
    """Rows are the pairs with flow in row-major order; the allocation prices ``G_is =
    sum_j u_ijs + sum_j v_jis`` equal the dense sums in which the pairs without flow
    count nothing, and the flow shift adds ``w_i`` in proportion to each pair's flow."""
    _, W, _ = gappy_instance(n, seed)
    rng = np.random.default_rng(seed)
    if diagonal:  # (AP has flows from a node to itself)
        W[np.arange(n), np.arange(n)] = rng.uniform(1, 5, size=n)
    W[0, :] = 0.0  # a node that sends nothing
    pairs = pairs_of(W)
    flow = W > 0
    assert pairs.size == int(flow.sum())
    assert [(int(i), int(j)) for i, j in zip(pairs.orig, pairs.dest, strict=True)] == [
        (i, j) for i in range(n) for j in range(n) if flow[i, j]
    ]
    for j in range(n):  # the pairs into j, by origin
        into = pairs.into[pairs.in_start[j] : pairs.in_start[j + 1]]
        assert list(pairs.orig[into]) == [i for i in range(n) if flow[i, j]]
        assert (pairs.dest[into] == j).all()
    m = 4
    dense_u = rng.normal(size=(n, n, m)) * flow[:, :, None]
    dense_v = rng.normal(size=(n, n, m)) * flow[:, :, None]
    u = np.ascontiguousarray(dense_u[pairs.orig, pairs.dest])
    v = np.ascontiguousarray(dense_v[pairs.orig, pairs.dest])
    G = _allocation_prices(
        u, v, pairs.orig, pairs.dest, pairs.out_start, pairs.into, pairs.in_start
    )
    truth = dense_u.sum(axis=1) + dense_v.sum(axis=0)
    np.testing.assert_allclose(G, truth, rtol=1e-12, atol=1e-12)
    w = rng.normal(size=n)
    shift_multipliers(u, v, pairs, w)
    total = W.sum(axis=1) + W.sum(axis=0)
    per = np.divide(w, total, out=np.zeros(n), where=total > 0)
    np.testing.assert_allclose(
        u, (dense_u + (per[:, None] * W)[:, :, None])[pairs.orig, pairs.dest]
    )
    np.testing.assert_allclose(
        v, (dense_v + (W * per[None, :])[:, :, None])[pairs.orig, pairs.dest]
    )
    scale = pair_scale(pairs, 1.0)
    np.testing.assert_allclose(scale, W[flow] / W[flow].mean())
