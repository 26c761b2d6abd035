"""Random instances shaped like the cases that ``hubopt run`` builds (training instances).

:func:`random_case` draws what distinguishes a planner's case from AP: ``points`` demand
points and ``sites`` candidate sites that are *other* nodes, costs that are asymmetric
and need not satisfy the triangle inequality, and sparse flows.

* demand points and sites uniform in a square of side ``side`` (sites drawn after the
  points);
* costs ``C_ij = d_ij * r_ij + h_j`` for ``i != j``: the Euclidean distance ``d`` times
  a detour factor ``r_ij ~ U(1.1, 1.6)`` drawn for each *ordered* pair (so ``C_ij !=
  C_ji``), plus a handling charge ``h_j ~ U(0, side / 20)`` at the arrival node; between
  two sites the trunk is cheaper on a random ``trunk_share`` of the ordered pairs (factor
  ``U(0.4, 0.8)``, a rail or sea link): the triangle inequality fails on many triples;
* flows between demand points only (rows and columns of the sites are zero):
  ``W_ij = K m_i m_j / (1 + d_ij / (side / 10))`` with masses ``m ~ LogNormal(0, 1)``,
  kept on a random ``flow_density`` share of the ordered pairs (the rest are zero), with
  ``K`` such that ``sum W = flow_total``;
* ``chi = delta = 1`` and ``alpha = 0.75``, the case defaults.

The result is an :class:`~hubopt.instance_file.InstanceFile` (node order: the points,
then the sites; only the sites are candidates).  All draws come from
``numpy.random.default_rng(seed)``, so one seed always gives the same instance.  The
engine is tuned on these (and on :func:`~hubopt.instances.random.random_euclidean`),
never on the reported sets (AP, CAB, TR and the real-case suite).
"""

from __future__ import annotations

import numpy as np

from hubopt._errors import ModelSpecificationError
from hubopt.instance_file import InstanceFile

__all__ = ["random_case"]


def random_case(
    points: int,
    sites: int,
    *,
    seed: int,
    flow_density: float = 0.3,
    trunk_share: float = 0.3,
    flow_total: float = 1000.0,
    side: float = 100.0,
    p: int = 5,
) -> InstanceFile:
    """Return a random case-like instance with ``points + sites`` nodes (module docstring).

    Raises
    ------
    ModelSpecificationError
        If ``points < 2``, ``sites < 1``, a share is outside ``(0, 1]`` (``trunk_share``
        ``[0, 1]``) or ``flow_total`` or ``side`` is not positive.
    """
    problems: list[str] = []
    if points < 2:
        problems.append(f"points: expected an integer >= 2, found {points!r}")
    if sites < 1:
        problems.append(f"sites: expected an integer >= 1, found {sites!r}")
    if not 0.0 < flow_density <= 1.0:
        problems.append(f"flow_density: expected a share in (0, 1], found {flow_density!r}")
    if not 0.0 <= trunk_share <= 1.0:
        problems.append(f"trunk_share: expected a share in [0, 1], found {trunk_share!r}")
    for label, value in (("flow_total", flow_total), ("side", side)):
        if not np.isfinite(value) or value <= 0:
            problems.append(f"{label}: expected a positive finite number, found {value!r}")
    if problems:
        raise ModelSpecificationError("random_case: " + "; ".join(problems))
    rng = np.random.default_rng(seed)
    n, m = int(points), int(points) + int(sites)
    xy = rng.uniform(0.0, side, size=(m, 2))
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    detour = rng.uniform(1.1, 1.6, size=(m, m))
    handling = rng.uniform(0.0, side / 20.0, size=m)
    costs = d * detour + handling[None, :]
    trunk = rng.random((sites, sites)) < trunk_share
    cheap = rng.uniform(0.4, 0.8, size=(sites, sites))
    block = costs[n:, n:]
    block[trunk] *= cheap[trunk]
    np.fill_diagonal(costs, 0.0)
    masses = rng.lognormal(0.0, 1.0, size=n)
    gravity = np.outer(masses, masses) / (1.0 + d[:n, :n] / (0.1 * side))
    gravity[rng.random((n, n)) >= flow_density] = 0.0
    np.fill_diagonal(gravity, 0.0)
    if gravity.sum() <= 0:  # a tiny instance lost every pair: keep the heaviest one
        g = np.outer(masses, masses)
        np.fill_diagonal(g, 0.0)
        i, j = np.unravel_index(int(np.argmax(g)), g.shape)
        gravity[i, j] = g[i, j]
    flows = np.zeros((m, m))
    flows[:n, :n] = gravity * (flow_total / gravity.sum())
    candidate = np.zeros(m, dtype=bool)
    candidate[n:] = True
    names = [f"P{i + 1}" for i in range(n)] + [f"S{k + 1}" for k in range(sites)]
    return InstanceFile(
        C=costs, W=flows, candidate=candidate, fixed_cost=np.zeros(m),
        capacity=np.full(m, np.inf), name=np.asarray(names, dtype=str),
        lonlat=np.full((m, 2), np.nan), chi=1.0, alpha=0.75, delta=1.0,
        p=min(int(p), int(sites)), problem="usaphmp",
        source=f"random_case({points}, {sites}, seed={seed})")  # fmt: skip
