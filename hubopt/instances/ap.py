"""Australia Post (AP) instances of Ernst & Krishnamoorthy.

File format (``APdata200``, ``N.p``; whitespace-separated, line breaks irrelevant)::

    n
    x_1 y_1 ... x_n y_n          planar coordinates
    w_11 ... w_nn                n x n flows, row = origin (diagonal non-zero)
    p chi alpha delta            example p, collection, transfer, distribution factors

Distances are the Euclidean distances of the coordinates.  Published objectives
are ``sum_ij w_ij (chi d_ik + alpha d_kl + delta d_lj) / 1000`` with the flows as
in the file, so ``flow_scale = 1/1000``; ``FcostL/T.NN`` are already on that
scale.  Sizes that are not shipped are aggregated from ``APdata200`` by the rule of
the authors' ``generate.c`` (:func:`aggregate_ap`).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from hubopt._errors import InputFormatError
from hubopt.instances._instance import HubInstance, resolve_hub_dir
from hubopt.instances._parse import (
    FloatArray,
    check_nonnegative,
    read_numbers,
    read_vector,
)

__all__ = [
    "AP_FLOW_SCALE",
    "APFile",
    "aggregate_ap",
    "aggregation_boxes",
    "euclidean_distances",
    "genfcost_fixed_costs",
    "load_ap",
    "read_ap_file",
    "read_ap_raw",
    "read_vector",
]

IndexArray = npt.NDArray[np.intp]

AP_FLOW_SCALE = 1.0 / 1000.0
"""Published AP objectives are the transport cost divided by 1000."""

AP_BASE_FILE = "APdata200"
AP_ROWS = 5
"""``generate.c`` cuts the plane into 5 horizontal strips."""


class APFile(NamedTuple):
    """The raw content of a file in the AP node format."""

    n: int
    coords: FloatArray
    flows: FloatArray
    p: int
    chi: float
    alpha: float
    delta: float


def euclidean_distances(coords: FloatArray) -> FloatArray:
    """(n, n) Euclidean distances between the rows of an (n, 2) coordinate array."""
    diff = coords[:, None, :] - coords[None, :, :]
    return np.asarray(np.hypot(diff[..., 0], diff[..., 1]), dtype=np.float64)


def read_ap_raw(path: Path | str) -> APFile:
    """Read a file in the AP node format without attaching any convention.

    Also reads the CAB ``NN.3.4`` files, which use the same format.
    """
    path = Path(path)
    values = read_numbers(path)
    if values.size == 0:
        msg = f"{path}: expected n followed by 2*n + n*n + 4 numbers, found an empty file"
        raise InputFormatError(msg)
    first = values[0]
    if first != int(first) or first < 1:
        msg = f"{path}: expected the node count n (a positive integer) first, found {first:g}"
        raise InputFormatError(msg)
    n = int(first)
    expected = 1 + 2 * n + n * n + 4
    if values.size != expected:
        msg = (
            f"{path}: expected 1 + 2*{n} + {n}*{n} + 4 = {expected} numbers "
            f"(n, coordinates, flows, p, chi, alpha, delta), found {values.size}"
        )
        raise InputFormatError(msg)
    coords = values[1 : 1 + 2 * n].reshape(n, 2)
    flows = values[1 + 2 * n : 1 + 2 * n + n * n].reshape(n, n)
    p_val, chi, alpha, delta = (float(v) for v in values[-4:])
    problems: list[str] = []
    if flows.min() < 0:
        i, j = np.unravel_index(int(np.argmin(flows)), flows.shape)
        problems.append(f"flow w[{i + 1},{j + 1}] = {flows[i, j]:g} (expected >= 0)")
    if p_val != int(p_val) or p_val < 0:
        problems.append(f"p = {p_val:g} (expected a non-negative integer)")
    for label, val in (("chi", chi), ("alpha", alpha), ("delta", delta)):
        if val < 0:
            problems.append(f"{label} = {val:g} (expected >= 0)")
    if problems:
        msg = f"{path}: " + "; ".join(problems)
        raise InputFormatError(msg)
    return APFile(n, coords, flows, int(p_val), chi, alpha, delta)


def read_ap_file(path: Path | str) -> HubInstance:
    """Read an AP node file (``APdata200``, ``N.p``) as a :class:`HubInstance`.

    Costs are Euclidean distances of the coordinates, ``flow_scale = 1/1000``,
    chi/alpha/delta and the example p come from the file.  Fixed costs and
    capacities are not attached (see :func:`load_ap`).
    """
    path = Path(path)
    raw = read_ap_raw(path)
    return HubInstance(
        name=f"AP{raw.n}",
        suite="ap",
        n=raw.n,
        costs=euclidean_distances(raw.coords),
        flows=raw.flows,
        flow_scale=AP_FLOW_SCALE,
        chi=raw.chi,
        alpha=raw.alpha,
        delta=raw.delta,
        p=raw.p,
        coords=raw.coords,
        source=path,
    )


def _check_aggregation_size(n: object, base_n: int, where: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        msg = f"{where}: expected n to be an integer multiple of 5, found {n!r}"
        raise InputFormatError(msg)
    n = int(n)
    if n % AP_ROWS != 0 or not AP_ROWS <= n <= base_n:
        msg = f"{where}: expected n to be a multiple of 5 between 5 and {base_n}, found {n}"
        raise InputFormatError(msg)
    return n


def _cut(count: int, parts: int) -> list[int]:
    """Sizes of ``parts`` consecutive groups of ``count`` items; remainder to the first."""
    size, rest = divmod(count, parts)
    return [size + 1 if k < rest else size for k in range(parts)]


def aggregation_boxes(coords: FloatArray, n: int) -> list[IndexArray]:
    """Member indices (0-based) of each of the ``n`` aggregated nodes, in new-node order.

    Rule of ``generate.c``: sort nodes by y (ties by x), cut into 5 rows of
    consecutive nodes (remainder to the first rows); sort each row by x (ties by
    y) and cut it into n/5 boxes of equal node count (remainder to the first
    boxes); number the boxes row-major from low y and low x.  Needs
    5 <= n <= len(coords) with n a multiple of 5 (checked by :func:`aggregate_ap`).
    """
    base_n = coords.shape[0]
    index = np.arange(base_n)
    order = np.lexsort((index, coords[:, 0], coords[:, 1]))  # y, then x, then index
    per_row = n // AP_ROWS
    boxes: list[IndexArray] = []
    start = 0
    for row_size in _cut(base_n, AP_ROWS):
        row = order[start : start + row_size]
        start += row_size
        row = row[np.lexsort((row, coords[row, 1], coords[row, 0]))]  # x, then y
        pos = 0
        for box_size in _cut(row_size, per_row):
            boxes.append(row[pos : pos + box_size])
            pos += box_size
    return boxes


def aggregate_ap(base: HubInstance, n: int, *, p: int | None = None) -> HubInstance:
    """Aggregate an AP instance to ``n`` nodes by the rule of ``generate.c``.

    ``n`` must be a multiple of 5 between 5 and ``base.n`` (5..200 for APdata200).
    Each box of the partition (:func:`aggregation_boxes`) becomes one node whose
    coordinates are the mean of its members' coordinates weighted by
    OD_i = sum_j w_ij + sum_j w_ji, and whose flows are the summed member flows
    (intra-box flow becomes the diagonal), so the total flow is preserved.
    chi/alpha/delta are copied; ``p`` is the example p of the result (``None`` by
    default).  Fixed costs and capacities are not carried over.
    """
    where = str(base.source) if base.source is not None else base.name
    if base.coords is None:
        msg = f"{where}: aggregation needs node coordinates, the instance has none"
        raise InputFormatError(msg)
    n = _check_aggregation_size(n, base.n, where)
    coords = np.asarray(base.coords)
    flows = np.asarray(base.flows)
    od = flows.sum(axis=1) + flows.sum(axis=0)
    boxes = aggregation_boxes(coords, n)
    member = np.empty(base.n, dtype=np.intp)
    new_coords = np.empty((n, 2))
    for k, box in enumerate(boxes):
        member[box] = k
        weight = od[box]
        if box.size == 1:
            new_coords[k] = coords[box[0]]
        elif weight.sum() > 0:
            new_coords[k] = weight @ coords[box] / weight.sum()
        else:
            new_coords[k] = coords[box].mean(axis=0)
    indicator = np.zeros((base.n, n))
    indicator[np.arange(base.n), member] = 1.0
    new_flows = indicator.T @ flows @ indicator
    return HubInstance(
        name=f"{base.suite.upper()}{n}",
        suite=base.suite,
        n=n,
        costs=euclidean_distances(new_coords),
        flows=new_flows,
        flow_scale=base.flow_scale,
        chi=base.chi,
        alpha=base.alpha,
        delta=base.delta,
        p=p,
        coords=new_coords,
        source=None,
    )


def _shipped_node_file(folder: Path, n: int) -> Path | None:
    preferred = folder / f"{n}.3"
    if preferred.is_file():
        return preferred
    others = sorted(
        (f for f in folder.glob(f"{n}.*") if f.suffix[1:].isdigit() and f.is_file()),
        key=lambda f: int(f.suffix[1:]),
    )
    if others:
        return others[0]
    if n == 200 and (folder / AP_BASE_FILE).is_file():
        return folder / AP_BASE_FILE
    return None


def _attach(folder: Path, n: int, prefix: str) -> dict[str, FloatArray]:
    out: dict[str, FloatArray] = {}
    for kind in ("L", "T"):
        path = folder / f"{prefix}{kind}.{n}"
        if path.is_file():
            vec = read_vector(path, length=n)
            check_nonnegative(path, "values", vec)
            out[kind] = vec
    return out


def load_ap(n: int, *, data_dir: Path | str | None = None) -> HubInstance:
    """Load the AP instance with ``n`` nodes.

    Reads the shipped node file (``N.3``, else another ``N.p``, else ``APdata200``
    for n = 200) when present, else aggregates ``APdata200`` with
    :func:`aggregate_ap` (n a multiple of 5, 5..200).  Attaches ``FcostL/T.NN``
    and ``CapL/T.NN`` when shipped for this n (10, 20, 25, 40, 50, 100, 200).
    ``data_dir`` is the ``hub-instances`` folder (default: the configured data
    folder's ``hub-instances``).
    """
    folder = resolve_hub_dir(data_dir) / "AP"
    n = _check_aggregation_size(n, 200, f"AP instance size in {folder}")
    path = _shipped_node_file(folder, n)
    if path is not None:
        inst = read_ap_file(path)
        if inst.n != n:
            msg = f"{path}: expected a {n}-node instance, found n = {inst.n}"
            raise InputFormatError(msg)
    else:
        base = read_ap_file(folder / AP_BASE_FILE)
        inst = aggregate_ap(base, n)
    fixed = _attach(folder, n, "Fcost")
    caps = _attach(folder, n, "Cap")
    if not fixed and not caps:
        return inst
    return HubInstance(
        name=inst.name,
        suite=inst.suite,
        n=inst.n,
        costs=inst.costs,
        flows=inst.flows,
        flow_scale=inst.flow_scale,
        chi=inst.chi,
        alpha=inst.alpha,
        delta=inst.delta,
        p=inst.p,
        coords=inst.coords,
        fixed_costs=fixed,
        capacities=caps,
        source=inst.source,
    )


def genfcost_fixed_costs(inst: HubInstance) -> FloatArray:
    """Hub fixed costs by the rule of ``genfcost.cpp`` (Mokhtar et al. 2019, ``Fcost.NN``).

    With h the node nearest the centroid of the coordinates,
    fo = (sum_ij w_ij (chi d_ih + delta d_hj) - sum_ij w_ij alpha d_ij) / n and
    F_i = fo (1 - 0.6 r_i / max_k r_k), r_i the distance of node i to the centroid.
    The result is on the **raw** cost scale (no division by 1000), like the
    shipped ``Fcost.NN`` files, unlike ``FcostL/T.NN``.
    """
    if inst.coords is None:
        where = str(inst.source) if inst.source is not None else inst.name
        msg = f"{where}: the genfcost rule needs node coordinates, the instance has none"
        raise InputFormatError(msg)
    coords = np.asarray(inst.coords)
    centroid = coords.mean(axis=0)
    radius = np.hypot(coords[:, 0] - centroid[0], coords[:, 1] - centroid[1])
    h = int(np.argmin(radius))
    d, W = inst.costs, inst.flows
    via_h = inst.chi * d[:, h][:, None] + inst.delta * d[h, :][None, :]
    fo = float((W * via_h).sum() - inst.alpha * (W * d).sum()) / inst.n
    top = float(radius.max())
    ratio = radius / top if top > 0 else np.zeros_like(radius)
    return np.asarray(fo * (1.0 - 0.6 * ratio), dtype=np.float64)
