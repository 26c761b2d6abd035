"""CAB (Civil Aeronautics Board) 25-city instances of O'Kelly.

``okelly.txt`` holds 27 lines of free text, then an AMPL header ``param: W C :=``
and 625 lines ``i j W_ij C_ij`` (1-based; no closing ``;`` in this copy).  The 10,
15 and 20 node instances are the leading sub-matrices.  Flows are normalised
(``flow_scale = 1 / sum(W)`` over the n x n instance), chi = delta = 1 and alpha is
one of 0.2 .. 1.0 (0.4, the value in the ``NN.3.4`` files, is the default here).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from hubopt._errors import InputFormatError
from hubopt.instances._instance import HubInstance, resolve_hub_dir
from hubopt.instances._parse import (
    FloatArray,
    check_nonnegative,
    parse_numbers,
    read_numbers,
    read_text,
)

__all__ = [
    "CAB_ALPHAS",
    "CAB_FILE",
    "CAB_SIZES",
    "load_cab",
    "read_cab25",
    "read_okelly",
]

CAB_FILE = "okelly.txt"
CAB_NODES = 25
CAB_SIZES = (10, 15, 20, 25)
"""The standard CAB sizes (any leading sub-matrix of 2..25 nodes can be loaded)."""
CAB_ALPHAS = (0.2, 0.4, 0.6, 0.8, 1.0)
"""The standard transfer factors of the CAB grid."""
CAB_EXAMPLE = {"p": 3, "chi": 1.0, "alpha": 0.4, "delta": 1.0}
"""Parameters of the example in the ``NN.3.4`` files."""

_HEADER = re.compile(r"param\s*:\s*W\s+C\s*:=")


def read_okelly(path: Path | str) -> tuple[FloatArray, FloatArray]:
    """Read ``okelly.txt``: return the 25 x 25 flows W and distances C (miles).

    Numbers are parsed after the ``param: W C :=`` header; a closing ``;`` is
    accepted.  Every pair (i, j) must appear exactly once.
    """
    path = Path(path)
    text = read_text(path)
    match = _HEADER.search(text)
    if match is None:
        msg = f"{path}: expected an AMPL header 'param: W C :=' before the data, found none"
        raise InputFormatError(msg)
    body = text[match.end() :].replace(";", " ")
    first_line = text.count("\n", 0, match.end()) + 1
    values = parse_numbers(path, body, first_line=first_line)
    expected = 4 * CAB_NODES * CAB_NODES
    if values.size != expected:
        msg = (
            f"{path}: expected {CAB_NODES}*{CAB_NODES} records 'i j W_ij C_ij' = "
            f"{expected} numbers after the header, found {values.size}"
        )
        raise InputFormatError(msg)
    rec = values.reshape(-1, 4)
    idx = rec[:, :2]
    if np.any(idx != np.round(idx)) or idx.min() < 1 or idx.max() > CAB_NODES:
        msg = f"{path}: expected node numbers i, j as integers in 1..{CAB_NODES}"
        raise InputFormatError(msg)
    i = idx[:, 0].astype(int) - 1
    j = idx[:, 1].astype(int) - 1
    seen = np.zeros((CAB_NODES, CAB_NODES), dtype=int)
    np.add.at(seen, (i, j), 1)
    if np.any(seen != 1):
        bad = np.argwhere(seen != 1)[0]
        msg = (
            f"{path}: expected each pair (i, j) exactly once, found pair "
            f"({bad[0] + 1}, {bad[1] + 1}) {seen[bad[0], bad[1]]} times"
        )
        raise InputFormatError(msg)
    W = np.zeros((CAB_NODES, CAB_NODES))
    C = np.zeros((CAB_NODES, CAB_NODES))
    W[i, j] = rec[:, 2]
    C[i, j] = rec[:, 3]
    check_nonnegative(path, "flows W", W)
    check_nonnegative(path, "distances C", C)
    return W, C


def read_cab25(path: Path | str) -> tuple[FloatArray, FloatArray]:
    """Read the Optsicom ``CAB25.txt`` copy: ``n``, then n rows of W, then n rows of C."""
    path = Path(path)
    values = read_numbers(path)
    if values.size == 0 or values[0] != int(values[0]) or values[0] < 1:
        msg = f"{path}: expected the node count n (a positive integer) first"
        raise InputFormatError(msg)
    n = int(values[0])
    expected = 1 + 2 * n * n
    if values.size != expected:
        msg = f"{path}: expected 1 + 2*{n}*{n} = {expected} numbers (n, W, C), found {values.size}"
        raise InputFormatError(msg)
    W = values[1 : 1 + n * n].reshape(n, n)
    C = values[1 + n * n :].reshape(n, n)
    check_nonnegative(path, "flows W", W)
    check_nonnegative(path, "distances C", C)
    return W, C


def load_cab(n: int, *, data_dir: Path | str | None = None) -> HubInstance:
    """Load the CAB instance with ``n`` nodes (standard: 10, 15, 20, 25) from ``okelly.txt``.

    The instance is the leading n x n sub-matrix of W and C.  ``flow_scale`` is
    1/sum(W) of that sub-matrix (normalised flows); chi = delta = 1, alpha = 0.4 and
    p = 3 are the files' example (use ``dataclasses.replace(inst, alpha=...)`` for
    the other grid values).  ``data_dir`` is the ``hub-instances`` folder.
    """
    path = resolve_hub_dir(data_dir) / "CAB" / CAB_FILE
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 2 <= n <= CAB_NODES:
        msg = (
            f"{path}: expected n between 2 and {CAB_NODES} "
            f"(standard sizes {', '.join(map(str, CAB_SIZES))}), found {n!r}"
        )
        raise InputFormatError(msg)
    n = int(n)
    W, C = read_okelly(path)
    W, C = W[:n, :n], C[:n, :n]
    total = float(W.sum())
    if total <= 0:
        msg = f"{path}: expected positive total flow in the leading {n}x{n} block, found {total:g}"
        raise InputFormatError(msg)
    return HubInstance(
        name=f"CAB{n}",
        suite="cab",
        n=n,
        costs=C,
        flows=W,
        flow_scale=1.0 / total,
        chi=CAB_EXAMPLE["chi"],
        alpha=CAB_EXAMPLE["alpha"],
        delta=CAB_EXAMPLE["delta"],
        p=int(CAB_EXAMPLE["p"]),
        coords=None,
        source=path,
    )
