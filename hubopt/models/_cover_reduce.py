"""Coverage sets as sparse matrices, and the reductions of a covering model.

The reach of a covering model is a boolean ``(n_points, n_sites)`` CSR matrix (only the
pairs within the time are stored: a 20,000 x 2,000 instance at a 8-minute radius keeps
about 1.6 million pairs, not 40 million). Before the MIP is built, the model is reduced
(each step keeps the optimum; Church and ReVelle 1974, Daskin 1995, ch. 4):

* points that no site may reach are dropped (they can never count);
* points that an existing hub reaches are always covered: their weight is a constant;
* points with the same coverage set become one row whose weight is their sum;
* a site whose coverage set is contained in another site's (equal sets: the higher
  index) is dominated: the other site covers at least as much in any hub set, so the
  dominated one is left out. Only without capacities (a capacity is an attribute the
  containing site may lack).

The rows are merged again after the dominated sites are gone (their columns may have
been all that told two rows apart).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hubopt.models.base import FloatArray, IntArray

_CHUNK = 2_000_000  # matrix entries compared at a time when building the reach


def reach_matrix(times: FloatArray, minutes: float) -> sp.csr_array:
    """``times <= minutes`` as a boolean CSR matrix, built in row blocks (no dense
    boolean copy of the whole matrix)."""
    n, m = times.shape
    step = max(1, _CHUNK // max(1, m))
    blocks = [sp.csr_array(times[a:a + step] <= minutes) for a in range(0, n, step)]
    if not blocks:
        return sp.csr_array((n, m), dtype=np.bool_)
    out = sp.vstack(blocks, format="csr")
    return sp.csr_array(out, dtype=np.bool_)


@dataclass(frozen=True, eq=False)
class Reduced:
    """A reduced covering model: ``A`` (rows x columns) between merged point groups and
    the candidate sites kept, ``w`` the weight of each row, ``sites`` the original index
    of each column, ``constant`` the weight covered whatever opens (existing hubs),
    ``dropped_points`` / ``dominated_sites`` the counts of the reductions."""

    A: sp.csr_array
    w: FloatArray
    sites: IntArray
    constant: float
    points: int
    dropped_points: int
    dominated_sites: int


def merge_rows(A: sp.csr_array, w: FloatArray) -> tuple[sp.csr_array, FloatArray]:
    """Merge the rows with the same coverage set (weights summed); drop empty rows."""
    A = sp.csr_array(A)
    A.sort_indices()
    keys: dict[bytes, int] = {}
    group = np.empty(A.shape[0], dtype=np.int64)
    indptr, indices = A.indptr, A.indices.astype(np.int32)
    for i in range(A.shape[0]):
        key = indices[indptr[i]:indptr[i + 1]].tobytes()
        group[i] = keys.setdefault(key, len(keys))
    rows = np.zeros(len(keys), dtype=np.int64)
    rows[group[::-1]] = np.arange(A.shape[0])[::-1]  # first row of each group
    weights = np.bincount(group, weights=w, minlength=len(keys))
    merged = sp.csr_array(A[rows])
    keep = np.diff(merged.indptr) > 0
    return sp.csr_array(merged[np.flatnonzero(keep)]), weights[keep]


def dominated_columns(A: sp.csr_array) -> np.ndarray:
    """Boolean per column: its set of rows lies within another column's (for equal sets
    every column but the first); empty columns are dominated."""
    B = sp.csc_array(A, dtype=np.int32)
    size = np.asarray(B.sum(axis=0)).ravel()
    overlap = sp.coo_array(B.T @ B)
    r, c, v = overlap.row, overlap.col, overlap.data
    # column r lies within column c when their overlap is all of r
    inside = (r != c) & (v == size[r]) & ((size[c] > size[r]) | (c < r))
    dominated = np.zeros(A.shape[1], dtype=bool)
    dominated[r[inside]] = True
    dominated[size == 0] = True
    return dominated


def reduce_cover(reach: sp.csr_array, weights: FloatArray, allowed: IntArray,
                 fixed: IntArray, *, dominance: bool) -> Reduced:  # fmt: skip
    """Reduce the covering model on the ``allowed`` sites with the ``fixed`` hubs open
    (see the module docstring); ``dominance`` False keeps every allowed site."""
    n = reach.shape[0]
    always = np.zeros(n, dtype=bool)
    if len(fixed):
        always = np.asarray(reach[:, fixed].sum(axis=1)).ravel() > 0
    free = np.setdiff1d(allowed, fixed)
    A = sp.csr_array(reach[:, free])
    live = (np.diff(A.indptr) > 0) & ~always
    dropped = int(((np.diff(A.indptr) == 0) & ~always).sum())
    constant = float(weights[always].sum())
    A, w = merge_rows(sp.csr_array(A[np.flatnonzero(live)]), weights[live])
    n_dominated = 0
    sites = free
    if dominance and A.shape[1]:
        dom = dominated_columns(A)
        n_dominated = int(dom.sum())
        if n_dominated:
            keep = np.flatnonzero(~dom)
            sites = free[keep]
            A, w = merge_rows(sp.csr_array(A[:, keep]), w)
    return Reduced(A=A, w=np.asarray(w, dtype=np.float64), sites=np.asarray(sites),
                   constant=constant, points=int(live.sum()), dropped_points=dropped,
                   dominated_sites=n_dominated)  # fmt: skip


def greedy_cover(A: sp.csr_array, w: FloatArray, p: int,
                 target: float | None = None) -> list[int]:  # fmt: skip
    """Columns chosen greedily by the weight they add (at most ``p``, or until the
    covered weight reaches ``target``); ties to the lowest column."""
    C = sp.csc_array(A, dtype=np.float64)
    uncovered = w.astype(np.float64).copy()
    chosen: list[int] = []
    covered = 0.0
    while len(chosen) < min(p, A.shape[1]):
        if target is not None and covered >= target - 1e-9:
            break
        gain = C.T @ uncovered
        if chosen:
            gain[chosen] = -1.0
        k = int(np.argmax(gain))
        if gain[k] <= 0 and target is None:
            break
        chosen.append(k)
        rows = C.indices[C.indptr[k]:C.indptr[k + 1]]
        covered += float(uncovered[rows].sum())
        uncovered[rows] = 0.0
    return chosen




def swap_search(A: sp.csr_array, w: FloatArray, cols: list[int],
                max_rounds: int = 1000) -> tuple[list[int], float]:  # fmt: skip
    """Best-improvement swaps (one site out, one in; Teitz and Bart 1968) from ``cols``
    until none adds weight; returns the columns and their covered weight."""
    C = sp.csc_array(A, dtype=np.float64)
    cols = list(cols)
    weight = 0.0
    for _ in range(max_rounds):
        if not cols:
            return cols, 0.0
        count = np.asarray(C[:, cols].sum(axis=1)).ravel()
        weight = float(w[count > 0].sum())
        gain_add = C.T @ (w * (count == 0))
        only = sp.csc_array(sp.csc_array(C[:, cols]).multiply((w * (count == 1))[:, None]))
        loss = np.asarray(only.sum(axis=0)).ravel()
        shared = C.T @ only
        shared = shared.toarray() if sp.issparse(shared) else np.asarray(shared)
        gain = gain_add[:, None] + shared - loss[None, :]
        gain[cols, :] = -np.inf
        add, out = np.unravel_index(int(np.argmax(gain)), gain.shape)
        if gain[add, out] <= 1e-9 * max(1.0, weight):
            break
        cols[int(out)] = int(add)
    return cols, weight


__all__ = ["Reduced", "dominated_columns", "greedy_cover", "merge_rows", "reach_matrix",
           "reduce_cover", "swap_search"]
