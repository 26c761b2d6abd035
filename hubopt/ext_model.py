"""Markets as external nodes of the hub model: their costs to every model node.

A market ``m`` becomes a model node after the demand points and sites; it may never be a
hub. Its costs come from the network and the world links (:mod:`hubopt.gateways`)::

    C[x, m] = min over links l of m:  N[x, g_l] + c_l       (x a model node)
    C[m, x] = min over links l of m:  c_l + N[g_l, x]
    C[a, b] = min over links la of a, lb of b:  c_la + N[g_la, g_lb] + c_lb    (a != b)

with ``N`` the least generalized cost on the region's network (connectors of the points
included, as in the model's own matrix), ``g_l`` the link's gateway node and ``c_l`` the
link's generalized cost (world leg plus market-side transfer and access). So a hub
allocated a market feeds it through the cheapest gateway, and a gateway site may itself
be a hub. The flows matrix gains the export, import and transit blocks
(:class:`~hubopt.external.ExternalFlows`). Without ``[external]`` nothing here runs and
the model is exactly the internal one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from hubopt._errors import InfeasibleModelError
from hubopt.costs import travel_costs

if TYPE_CHECKING:
    from hubopt.case import Case
    from hubopt.demand import DemandPoints
    from hubopt.external import ExternalFlows
    from hubopt.gateways import Gateways
    from hubopt.matrices import Matrices
    from hubopt.network import MultimodalNetwork


@dataclass(frozen=True, eq=False)
class ExternalModel:
    """World links, external flows and the market rows/columns of the model's matrix.

    ``to_link[x, l]`` / ``from_link[l, x]``: cost between model node ``x`` and market
    ``links[l].market`` through link ``l`` (``inf`` when the network does not join them).
    """

    flows: ExternalFlows
    gateways: Gateways
    to_link: np.ndarray
    from_link: np.ndarray
    link_link: np.ndarray  # (L, L) network cost between the links' gateway nodes

    @property
    def n_markets(self) -> int:
        """Number of markets."""
        return len(self.flows.markets)

    def _links(self, m: int) -> np.ndarray:
        return np.asarray(self.gateways.of_market(m), dtype=int)

    def to_market(self) -> np.ndarray:
        """(n_model, n_markets) cost from every model node to every market."""
        out = np.full((self.to_link.shape[0], self.n_markets), np.inf)
        for m in range(self.n_markets):
            ls = self._links(m)
            if len(ls):
                out[:, m] = self.to_link[:, ls].min(axis=1)
        return out

    def from_market(self) -> np.ndarray:
        """(n_markets, n_model) cost from every market to every model node."""
        out = np.full((self.n_markets, self.from_link.shape[1]), np.inf)
        for m in range(self.n_markets):
            ls = self._links(m)
            if len(ls):
                out[m] = self.from_link[ls].min(axis=0)
        return out

    def market_market(self) -> np.ndarray:
        """(n_markets, n_markets) cost between markets through the region (diagonal 0)."""
        nm = self.n_markets
        out = np.zeros((nm, nm))
        c = np.array([ln.cost for ln in self.gateways.links])
        for a in range(nm):
            la = self._links(a)
            for b in range(nm):
                lb = self._links(b)
                if a == b:
                    continue
                if not len(la) or not len(lb):
                    out[a, b] = np.inf
                    continue
                out[a, b] = float((c[la][:, None] + self.link_link[np.ix_(la, lb)]
                                   + c[lb][None, :]).min())
        return out

    def extend(self, costs: np.ndarray, flows: np.ndarray, n_demand: int
               ) -> tuple[np.ndarray, np.ndarray]:
        """The model's matrices with the markets appended as nodes ``n .. n + n_markets``.

        ``costs`` and ``flows`` are the (n, n) internal ones (flows of demand points first).
        """
        n, nm = costs.shape[0], self.n_markets
        C = np.zeros((n + nm, n + nm))
        C[:n, :n] = costs
        C[:n, n:] = self.to_market()
        C[n:, :n] = self.from_market()
        C[n:, n:] = self.market_market()
        W = np.zeros((n + nm, n + nm))
        W[:n, :n] = flows
        f = self.flows
        W[:n_demand, n:] = f.export
        W[n:, :n_demand] = f.imports
        W[n:, n:] = f.transit
        return C, W


def external_model(case: Case, net: MultimodalNetwork, mx: Matrices, demand: DemandPoints,
                   flows: ExternalFlows) -> ExternalModel:
    """Link the markets to the region's gateways and cost them from every model node.

    Raises :class:`InfeasibleModelError` naming each market that no world link reaches.
    """
    from hubopt.demand import region_bounds
    from hubopt.gateways import world_links

    spec = case.external
    assert spec is not None
    mk = flows.markets
    gw = world_links(net, mk, bbox=region_bounds(case), modes=spec.modes, weights=mx.weights,
                     radius_km=spec.market_radius_km,
                     places=(demand.names, demand.lon, demand.lat))
    bad = [m for m in range(len(mk)) if not gw.of_market(m)]
    if bad:
        lines = [f"{case.path}: {mk.refs[m].field}: market {mk.names[m]!r} has no link to the "
                 "region: " + "; ".join(f"{mode}: {why}" for (mm, mode), why in
                                        sorted(gw.missing.items()) if mm == m) for m in bad]
        raise InfeasibleModelError("\n".join(lines))
    nodes = np.array([ln.node for ln in gw.links], dtype=np.int64)
    c = np.array([ln.cost for ln in gw.links])
    pts = [mx.demand_snap] if mx.shared else [mx.demand_snap, mx.site_snap]
    to = np.vstack([travel_costs(net, p, nodes, weights=mx.weights, dtype="float64").values
                    for p in pts])
    frm = np.hstack([travel_costs(net, nodes, p, weights=mx.weights, dtype="float64").values
                     for p in pts])
    ll = travel_costs(net, nodes, nodes, weights=mx.weights, dtype="float64").values
    to_link = np.asarray(to, dtype=float) + c[None, :]
    from_link = c[:, None] + np.asarray(frm, dtype=float)
    em = ExternalModel(flows, gw, to_link, from_link, np.asarray(ll, dtype=float))
    unreachable = [m for m in range(len(mk))
                   if not np.isfinite(em.to_market()[:, m]).all()
                   or not np.isfinite(em.from_market()[m]).all()]
    if unreachable:
        names = ", ".join(mk.names[m] for m in unreachable)
        msg = (f"{case.path}: external.markets: the gateways of {names} are not joined to "
               "every demand point and site on the region's network")
        raise InfeasibleModelError(msg)
    return em


__all__ = ["ExternalModel", "external_model"]
