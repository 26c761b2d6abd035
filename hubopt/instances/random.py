"""Random Euclidean hub instances of any size, for growth studies.

:func:`random_euclidean` places ``n`` points uniformly at random in a square of side
``side`` and gives them gravity-model flows:

* costs ``C_ij = ||x_i - x_j||`` (Euclidean, so symmetric, zero on the diagonal and
  metric: the triangle inequality holds);
* masses ``m_i ~ LogNormal(0, 1)`` (a few large centres, many small places);
* flows ``W_ij = K m_i m_j / (1 + C_ij / (side / 10))`` for ``i != j`` and
  ``W_ii = 0``: the product of the masses, damped by distance, with ``K`` chosen
  so that ``sum W = flow_total``.

All draws come from ``numpy.random.default_rng(seed)`` (coordinates first, then
masses), so one seed always gives the same instance.
"""

from __future__ import annotations

import numpy as np

from hubopt._errors import ModelSpecificationError
from hubopt.instances._instance import HubInstance
from hubopt.instances.ap import euclidean_distances

__all__ = ["RANDOM_SUITE", "random_euclidean"]

RANDOM_SUITE = "random"
DECAY_FRACTION = 0.1
"""Distance (as a fraction of ``side``) at which a flow is halved by the damping."""


def random_euclidean(
    n: int,
    *,
    seed: int,
    chi: float = 3.0,
    alpha: float = 0.75,
    delta: float = 2.0,
    flow_total: float = 1000.0,
    side: float = 100.0,
) -> HubInstance:
    """Return a random Euclidean instance with ``n`` nodes (see the module docstring).

    Parameters
    ----------
    n
        Number of nodes (at least 2).
    seed
        Seed of ``numpy.random.default_rng``; the same seed gives the same instance.
    chi, alpha, delta
        Collection, inter-hub transfer and distribution factors stored on the
        instance (AP's 3, 0.75, 2 by default).
    flow_total
        Sum of all flows (positive).
    side
        Side of the square the points are drawn in (positive).

    Returns
    -------
    HubInstance
        ``name`` ``"RND<n>-s<seed>"``, suite ``"random"``, ``flow_scale`` 1, the
        coordinates in ``coords``; no fixed costs or capacities.

    Raises
    ------
    ModelSpecificationError
        If ``n < 2`` or ``flow_total``, ``side`` or a factor is not positive and finite.
    """
    problems: list[str] = []
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        problems.append(f"n: expected an integer >= 2, found {n!r}")
    for label, value in (("flow_total", flow_total), ("side", side)):
        if not np.isfinite(value) or value <= 0:
            problems.append(f"{label}: expected a positive finite number, found {value!r}")
    for label, value in (("chi", chi), ("alpha", alpha), ("delta", delta)):
        if not np.isfinite(value) or value < 0:
            problems.append(f"{label}: expected a non-negative finite number, found {value!r}")
    if problems:
        msg = "random_euclidean: " + "; ".join(problems)
        raise ModelSpecificationError(msg)
    n = int(n)
    rng = np.random.default_rng(seed)
    coords = rng.uniform(0.0, side, size=(n, 2))
    masses = rng.lognormal(mean=0.0, sigma=1.0, size=n)
    costs = euclidean_distances(coords)
    gravity = np.outer(masses, masses) / (1.0 + costs / (DECAY_FRACTION * side))
    np.fill_diagonal(gravity, 0.0)
    flows = gravity * (flow_total / gravity.sum())
    return HubInstance(
        name=f"RND{n}-s{seed}",
        suite=RANDOM_SUITE,
        n=n,
        costs=costs,
        flows=flows,
        flow_scale=1.0,
        chi=chi,
        alpha=alpha,
        delta=delta,
        p=None,
        coords=coords,
        source=None,
    )
