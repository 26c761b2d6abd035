"""Fixing sites of a maximal covering model before its MIP, from a known hub set.

Given the weight ``lb`` of a known set of ``p`` columns, a column closes when every set
holding it is proven to cover at most ``lb``, and opens when every set without it is.
The proofs are upper bounds from the LP relaxation (its reduced costs: Nemhauser and
Wolsey's reduced-cost fixing) and from the Lagrangian multipliers of the LP's covering
rows (:func:`~hubopt.models._cover_lagrange.open_probe`, which counts that the rows a
column covers are worth nothing more to the others). After a round the fixed columns
leave, the rows an open column covers become a constant, rows with the same coverage
merge, dominated columns drop, and the LP of the smaller model is solved again for the
next round (its multipliers differ, so more columns may fix), until a round fixes
little. A better set than ``lb`` can only hold the columns left: the MIP on them, with
the known set as the fallback, is exact.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hubopt.models._cover_lagrange import open_probe
from hubopt.models._cover_mip import LpOutcome, max_cover_lp
from hubopt.models._cover_reduce import dominated_columns, merge_rows
from hubopt.models.base import FloatArray, IntArray

MAX_ROUNDS = 6
MIN_SHARE = 0.02  # another round only when the last one fixed this share of the columns


@dataclass(frozen=True, eq=False)
class Fixing:
    """The model left after fixing: ``A``/``w`` (rows x columns ``keep`` of the input,
    in that order), ``ones`` the input columns fixed open, ``constant`` the weight
    they cover, ``p`` the columns still to choose, ``bound`` an upper bound on every set
    that respects the fixing (LP of the last round), ``proven`` True when that bound
    shows no such set beats ``lb``, ``closed`` the columns closed, ``rounds`` the LPs."""

    A: sp.csr_array
    w: FloatArray
    keep: IntArray
    ones: IntArray
    constant: float
    p: int
    bound: float
    proven: bool
    closed: int
    rounds: int


def fix_sites(A: sp.csr_array, w: FloatArray, p: int, lb: float, lp: LpOutcome,
              step: float, deadline: float | None) -> Fixing:  # fmt: skip
    """Fix columns of ``max sum w z``, ``z_i <= sum_{k in N_i} y_k``, ``sum y <= p``
    against the known weight ``lb`` (a set must cover at least ``lb + step`` to be
    better), starting from the input's LP ``lp``; rounds stop at ``deadline``
    (``time.perf_counter()`` value) or when few columns fix."""
    margin = 1e-9 * max(1.0, float(w.sum()))  # float error of the bounds
    keep = np.arange(A.shape[1])
    ones: list[int] = []
    constant, closed, rounds = 0.0, 0, 1
    Ac, wc, pc, cur = A, w, p, lp
    while True:
        goal = lb - constant + step - margin  # a better set covers at least this here
        bound = cur.value + constant  # on every set that respects the fixing so far
        if cur.value < goal:
            return Fixing(Ac, wc, keep, np.array(ones, dtype=np.int64), constant, pc,
                          bound, True, closed, rounds)  # fmt: skip
        close = (cur.value + cur.rc < goal) & (cur.y < 0.5)
        open_ = (cur.value - cur.rc < goal) & (cur.y > 0.5)
        rest = np.flatnonzero(~close & ~open_)
        if len(rest) and pc > 0:
            close[rest[open_probe(Ac, wc, pc, cur.lam, rest) < goal]] = True
        n_fixed = int(close.sum() + open_.sum())
        closed += int(close.sum())
        if n_fixed:
            new_ones = np.flatnonzero(open_)
            ones.extend(int(keep[k]) for k in new_ones)
            done = (np.asarray(Ac[:, new_ones].sum(axis=1)).ravel() > 0 if len(new_ones)
                    else np.zeros(Ac.shape[0], dtype=bool))  # fmt: skip
            constant += float(wc[done].sum())
            cols = np.flatnonzero(~close & ~open_)
            Ac, wc = merge_rows(sp.csr_array(Ac[np.flatnonzero(~done)][:, cols]), wc[~done])
            keep, pc = keep[cols], pc - len(new_ones)
            if Ac.shape[1]:  # with rows gone, more columns may lie inside others
                dom = dominated_columns(Ac)
                closed += int(dom.sum())
                keep = keep[~dom]
                Ac, wc = merge_rows(sp.csr_array(Ac[:, np.flatnonzero(~dom)]), wc)
        few = n_fixed < max(1.0, MIN_SHARE * (Ac.shape[1] + n_fixed))
        late = deadline is not None and time.perf_counter() >= deadline
        if few or late or rounds >= MAX_ROUNDS or pc <= 0 or Ac.shape[1] <= pc:
            break
        left = None if deadline is None else deadline - time.perf_counter()
        nxt = max_cover_lp(Ac, wc, pc, left)
        if nxt is None:
            break
        cur, rounds = nxt, rounds + 1
    return Fixing(Ac, wc, keep, np.array(ones, dtype=np.int64), constant, pc, bound,
                  False, closed, rounds)  # fmt: skip


__all__ = ["Fixing", "fix_sites"]
