"""The reductions of the covering models, each checked on a hand-made reach."""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp

from hubopt.models._cover_reduce import (
    dominated_columns,
    greedy_cover,
    merge_rows,
    reach_matrix,
    reduce_cover,
    swap_search,
)


def test_the_sparse_reach_equals_the_dense_comparison() -> None:
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 10, (2500, 900))  # more than one block of rows
    reach = reach_matrix(t, 3.0)
    assert reach.dtype == np.bool_
    np.testing.assert_array_equal(reach.toarray(), t <= 3.0)


def test_rows_with_the_same_coverage_set_merge_and_weights_add() -> None:
    A = sp.csr_array(np.array([[1, 0, 1], [0, 0, 0], [1, 0, 1], [0, 1, 0]], dtype=bool))
    merged, w = merge_rows(A, np.array([1.0, 5.0, 2.0, 4.0]))
    rows = {tuple(np.flatnonzero(r)): x for r, x in zip(merged.toarray(), w, strict=True)}
    assert rows == {(0, 2): 3.0, (1,): 4.0}


def test_a_site_inside_another_is_dominated_and_of_equal_sites_one_stays() -> None:
    A = sp.csr_array(np.array([[1, 1, 0, 1, 0],
                               [1, 0, 1, 1, 0],
                               [0, 0, 1, 0, 0]], dtype=bool))  # fmt: skip
    # column 1 lies in 0; 3 equals 0 (the later one goes); 4 is empty; 2 stays
    assert dominated_columns(A).tolist() == [False, True, False, True, True]


def test_reductions_keep_the_optimum_of_every_p() -> None:
    rng = np.random.default_rng(3)
    dense = rng.random((40, 12)) < 0.25
    dense[:, 11] = dense[:, 3] & (rng.random(40) < 0.5)  # dominated by site 3
    dense[5] = dense[6]
    w = rng.integers(1, 9, 40).astype(float)
    red = reduce_cover(sp.csr_array(dense), w, np.arange(12), np.array([], dtype=int),
                       dominance=True)  # fmt: skip
    assert 11 not in red.sites.tolist()

    def best(A: np.ndarray, weights: np.ndarray, p: int) -> float:
        return max(weights[A[:, list(c)].any(axis=1)].sum()
                   for c in itertools.combinations(range(A.shape[1]), min(p, A.shape[1])))

    for p in (1, 2, 3):
        assert best(red.A.toarray(), red.w, p) + red.constant == best(dense, w, p)


def test_existing_hubs_turn_their_points_into_a_constant() -> None:
    dense = np.array([[1, 0], [1, 1], [0, 1], [0, 0]], dtype=bool)
    w = np.array([1.0, 2.0, 4.0, 8.0])
    red = reduce_cover(sp.csr_array(dense), w, np.arange(2), np.array([0]), dominance=True)
    assert red.constant == 3.0
    assert red.dropped_points == 1
    assert red.sites.tolist() == [1]
    assert red.w.tolist() == [4.0]


def test_swaps_never_lose_weight_and_end_where_no_swap_adds_any() -> None:
    rng = np.random.default_rng(8)
    dense = rng.random((60, 15)) < 0.2
    w = rng.integers(1, 20, 60).astype(float)
    A = sp.csr_array(dense)
    start = greedy_cover(A, w, 4)
    cols, got = swap_search(A, w, start)

    def weight(c: list[int]) -> float:
        return float(w[dense[:, c].any(axis=1)].sum())

    assert got == weight(cols) >= weight(start)
    for out, add in itertools.product(range(4), range(15)):
        if add not in cols:
            trial = [*cols[:out], add, *cols[out + 1:]]
            assert weight(trial) <= got
