"""The validated input of a covering model (:class:`CoverageData`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hubopt.models.base import FloatArray, IntArray


@dataclass(frozen=True, eq=False)
class CoverageData:
    """Validated input of a covering model.

    ``times`` is ``(n_demand, n_sites)`` in minutes (a read-only view of the caller's
    float64 array: a national matrix is kept once), ``weights`` one demand weight per
    point, ``reach`` the sparse boolean ``times <= minutes``; exactly one of ``p``
    (maximal covering) and ``share`` (share covering); ``capacities`` per site or None.
    """

    times: FloatArray
    weights: FloatArray
    minutes: float
    reach: sp.csr_array
    p: int | None = None
    share: float | None = None
    fixed_hubs: tuple[int, ...] = ()
    excluded: tuple[int, ...] = ()
    capacities: FloatArray | None = None

    @property
    def n_sites(self) -> int:
        """Number of candidate sites."""
        return int(self.times.shape[1])

    @property
    def allowed(self) -> IntArray:
        """Sites that may open (not excluded), ascending."""
        keep = np.ones(self.n_sites, dtype=bool)
        keep[list(self.excluded)] = False
        return np.flatnonzero(keep)


__all__ = ["CoverageData"]
