"""The engine's strategy as data: its tuning options and the choice of its phases.

:class:`EngineOptions` holds every switch and parameter of the solve strategy, with the
measurement behind its default (``docs/decisions.md`` has one paragraph per decision).
:func:`choose_plan` is the one place that decides, from the problem, its size, ``p``
and the time limit, which phases a solve runs; it returns a :class:`Plan`.  Both are
pure and immutable: a different strategy is passed in (``model.solve(params,
options=EngineOptions(mip_max_n=0))``), never set on a class.

The thresholds sit strictly between the points of the reported benchmark grid (``n`` in
10, 15, 20, 25, 40, 50, 81, 100, 200; ``p`` in 1-5, 10, 15, 20; limits of 60, 120,
300 and 600 s), so that no reported row sits exactly on a switch; moving them there
changed no choice on that grid (``tests/test_models_strategy.py`` checks both sides of
every switch).

>>> plan = choose_plan(Problem.USAPHMP, n=200, p=5, hub_sets=2_535_650_040,
...                    time_limit=600.0)
>>> plan.path, plan.sa_lagrangian
(<Path.HEURISTIC_BENDERS: 'heuristic+benders'>, True)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hubopt._errors import SolverError
from hubopt.models.base import Problem

__all__ = [
    "EngineOptions",
    "Heuristic",
    "Path",
    "Plan",
    "choose_plan",
    "effective_size",
    "large_lagrangian_fits",
]

DEFAULT_MAX_SETS = 5_000_000


@dataclass(frozen=True)
class EngineOptions:
    """Switches and parameters of the solve strategy (the defaults are the engine's).

    Sizes are numbers of nodes ``n``; shares of ``n`` compare with ``p``; shares of the
    limit are fractions of ``SolveParameters.time_limit``; ``..._seconds`` compare with
    the time limit (a solve without a limit counts as one above every threshold).  The
    comment above each field gives the measurement behind its default.
    """

    # hub-set search while C(n, p) (with the fixed hubs: C(m - f, p - f)) is at most this
    max_sets: int = DEFAULT_MAX_SETS
    mip_max_n: int = 60
    # heuristic + Benders up to here (AP 100: LP phase in 15-50 s); beyond, the
    # facility-location bounds (at AP 200 one Benders round takes 5-10 s) ...
    benders_max_n: int = 150
    # ... except for p-hub medians with many hubs (p >= benders_min_hub_share * n) up to
    # benders_many_hubs_max_n: there the LP phase converges in a few rounds (AP 200
    # p = 20: about 1 % in 60 s, where the facility-location bounds leave 9-11 %)
    benders_many_hubs_max_n: int = 250
    # (0.05 until issue 26 put it between the grid's p = 5 and 10 at n = 200: 7.5 hubs)
    benders_min_hub_share: float = 0.0375
    # ... and for the other p-hub medians up to that size when the time limit is at
    # least this (or unset): the first separation at the whole support takes 20-30 s at
    # AP 200 p = 4/5 and needs 30 % of the time left, else the LP bound stays far below
    # the facility-location bounds.  Two solves side by side on 2 cores, AP 200: with
    # 600 s p = 4 proven, p = 5 1.28 %; with 300 s p = 4 1.67 % but p = 5 16 % (the
    # timed estimate, taken while the other solve used both cores, declined it); with
    # 180 s 20-21 % (facility location: 11 % in 60 s)
    # (600 s until issue 26 put it between the grid's 300 and 600 s, same choices)
    benders_few_hubs_min_seconds: float = 400.0
    # below that limit UMAHLP of such size still tries Benders first, until this share
    # of the limit, and falls back to the facility-location bounds when it does not
    # prove the optimum (AP 200 with 120 s beside another solve: T proven in 23-25 s,
    # where the facility-location bounds left 6.9 %; L stays at 13.5 % in Benders,
    # 3.6 % with the facility-location bounds)
    benders_trial_share: float = 0.4
    # the facility-location path tries the truncated LP bound for p-hub medians up to
    # here (measured at AP 200; larger instances keep the whole time for the MIP bound)
    truncated_bound_max_n: int = 250
    # beyond here, with a time limit, no facility-location MIP is built at all: at n = 500
    # building stopped at the limit, and only freeing the half-built MathOpt model took
    # another 6-10 s past it (random n = 500 rows ended at 66-70 s of 60); the Lagrangian
    # bound is what is left there
    mathopt_bound_max_n: int = 250
    # single allocation: the Lagrangian bound of the path formulation up to here, and
    # beyond, up to ``sa_lagrangian_many_hubs_max_n``, for the fixed-cost problems and
    # for p-hub medians with a limit of at least ``sa_lagrangian_min_seconds`` (or none):
    # with any number of hubs below ``sa_screen_min_seconds``, above it with at least
    # ``sa_lagrangian_min_hub_share * n`` hubs (fewer get Benders and its screening).
    # AP 200, the relaxation alone beside another: after 50 s p = 4/5 8.7/7.7 %, where
    # the facility-location bounds leave 13.1/13.0 % with 60 s; after 540 s p = 5 2.17 %
    # and p = 4 2.42 %, where Benders' multiple-allocation optimum leaves 2.36/2.21 %
    # (``results/sa_relaxation_ap200_p*_540.json``).  Its iterations cost O(n^2 m^2)
    # over the m open-able sites (AP 200 with all 200 sites: 0.1-0.3 s beside another
    # solve).  Since its subgradient is measured in the flows' metric
    # (``flow_scaling``) it climbs fast enough at AP 200 to beat the multiple-allocation
    # Benders bound on short limits too: after 45 s (the relaxation alone, beside
    # another) p = 10/15 6.9/1.8 %, where Benders' bound left 13.9/3.5 % with 60 s (before
    # the faster route pricing).  With fixed
    # costs the reduction test soon leaves few sites (AP 200 beside another solve with
    # 600 s and the flow-scaled steps: USAHLP L proven in 459 s, T 0.047 %, CSAHLP TT
    # proven, LT 2.1 %; with 120 s CSAHLP TL proven, TT 0.55 %, where the plain steps
    # left 5.5/9.6 %).  USApHMP runs it first; the fixed-cost problems after
    # the multiple-allocation Benders bound (until ``sa_benders_share`` of the limit: it
    # proves the single-allocation optimum when the two optima coincide, as for AP 100
    # USAHLP T) and until ``sa_lagrangian_share`` (the facility-location bound gets the
    # rest)
    sa_lagrangian_max_n: int = 150
    sa_lagrangian_many_hubs_max_n: int = 250
    # (0.02: AP 200 p = 4 with 600 s ended within 0.274 % on all sites with the patience
    # floor of 60 (run 60), where Benders' screening kept 164 sites and left 2.21 % in
    # runs 32, 40 and 59, and 102 sites for 0.101 % once, in run 46)
    # (0.02 until issue 26 put it between the grid's p = 3 and 4 at n = 200: 3.5 hubs)
    sa_lagrangian_min_hub_share: float = 0.0175
    sa_lagrangian_min_seconds: float = 0.0
    sa_benders_share: float = 0.3
    sa_lagrangian_share: float = 0.85
    # steps at most per node of its branch and bound over the sites
    sa_node_iterations: int = 3000
    # the fewest steps without a better bound before its step halves (``min_patience``),
    # and for the p-hub medians from ``sa_long_limit_seconds`` of limit (or none)
    # ``sa_long_min_patience``.
    # Beside another solve the steps are dear, the patience timed on them sits at its
    # floor, and the step shrank before the sites left: AP 200 USApHMP p = 10 with
    # 600 s, two solves side by side (run 55), 0.093 % with 60 against 0.335 % with 30;
    # with 60 s p = 10 needs the faster halving (run 56: 3.23 % with 60, 1.82 % with
    # 30; p = 4, 5, 15 and 20 the same with both).  USAHLP AP 200 T with 600 s ended
    # within 0.27 % with 60 (run 60), 0.00004 % with 30 (run 47): fixed costs keep 30
    sa_min_patience: int = 30
    sa_long_min_patience: int = 60
    # (600 s until issue 26 put it between the grid's 300 and 600 s)
    sa_long_limit_seconds: float = 400.0
    # with a time limit the patience is cut so that the step can halve about this
    # many times in the steps that fit in the time left (no lower than the floor above;
    # at most the relaxation's own patience of 100).  USApHMP, two solves side by side,
    # 8 against 50: AP 200 with 600 s p = 10 0.031 % against 0.093 % (runs 65, 64), p = 5
    # 0.37 % against 0.42 %, p = 4 0.107 % (run 68; 0.274 % in run 60), p = 15 proven in
    # 220 s (203 s in run 58); AP 100 with 60 s (run 67) p = 5 0.15 % against 0.31 %,
    # p = 15 proven in 35 s against 0.022 %, p = 10 and 20 proven either way.  The
    # fixed-cost rows of AP 200 with 120 s (run 66) are the same but USAHLP T, 0.33 %
    # against 0.43 %.  (The multiple-allocation form keeps the relaxation's default 50.)
    sa_halvings: float = 8.0
    # p-hub medians: the share of the access costs in its starting prices.  With the
    # flow-scaled steps a quarter beat half, side by side, the relaxation alone: AP 200
    # p = 10/20 after 150 s 1.40/0.38 % against 1.82/0.52 %, AP 100 p = 5 after 60 s
    # 0.28 % against 0.43 % (``benchmarks-history:benchmarks/sa_relaxation.py --start-share``).  The
    # fixed-cost problems too, AP 200 with 120 s, two solves side by side (runs 61-62):
    # USAHLP L proven in 96 s against 5.37 %, T 0.43 against 0.55 %, CSAHLP LL 1.79
    # against 9.70 %, LT 8.96 against 13.9 %, TL proven in 89 s against 0.0014 %, TT 0.52
    # against 0.50 %; with 600 s (run 63) USAHLP T 0.000018 % against 0.00004 %, CSAHLP
    # LT's bound 265,694.20 against 264,923.97 (run 47)
    sa_pmedian_start_share: float = 0.25
    sa_fixed_cost_start_share: float = 0.25
    # USApHMP in the same range of n with fewer hubs and the same limits: Benders proves
    # the multiple-allocation optimum (with the whole limit), then screens the sites
    # against the single-allocation incumbent (in ``sa_screen_share`` of the time left),
    # and when at most ``sa_screen_max_share`` of the candidates remain, the Lagrangian
    # bound runs on them in the rest.  Its iterations and its convergence depend on the
    # sites: AP 200, after the multiple-allocation optimum (proven in 210-233 s), p = 4
    # kept 102 of 200 sites (57 s of screening) and the relaxation on them reached
    # 1.42 % in 300 s (the multiple-allocation optimum leaves 2.21 %); p = 5 kept 169
    # and reached only 4.24 % (2.36 %); p = 10 kept 184.  Only with a limit of at least
    # ``sa_screen_min_seconds`` (or none): Benders needs it to prove that optimum
    # (600 s until issue 26 put it between the grid's 300 and 600 s)
    sa_screen_min_seconds: float = 400.0
    sa_screen_share: float = 0.3
    sa_screen_max_share: float = 0.6
    # UMApHMP (with fewer than ``ma_lagrangian_max_hub_share * n`` hubs) and UMAHLP
    # between ``benders_max_n`` and ``benders_many_hubs_max_n`` nodes with a limit below
    # ``benders_few_hubs_min_seconds``: the same Lagrangian relaxation in its
    # multiple-allocation form (``multiple_allocation``: its dual is the LP bound that
    # Benders approaches; the subproblem's hubs seed a swap descent) instead of Benders
    # or the facility-location bounds (UMAHLP: after the Benders trial).  AP 200 with
    # 60 s, two solves side by side (runs 49-51): UMApHMP p = 4/5/10/15 3.3-3.7/3.6/
    # 0.65/0.59 %, where the code before left 11.1/10.9/8.7/0.92-2.2 % (p = 15 finds the
    # optimum only with the swap descent); p = 20 0.97 % against Benders' 0.56 %.
    # UMAHLP L with 120 s proven in 90 s (3.6 % before; T: Benders' trial proves it in
    # 24 s).  With 600 s Benders proves them all (runs 10, 11)
    # (0.1 with p = 20 at n = 200 exactly on it until issue 26 put it between the
    # grid's p = 15 and 20 at n = 200: 19.5 hubs; still p = 20 gets Benders.  Just below
    # 0.1 rather than mid-way: random n = 170 p = 16 (0.094) with 60 s was proven in 48 s
    # with this bound and left 2.09 % with Benders)
    ma_lagrangian_max_hub_share: float = 0.0975
    # CSAHLP beyond the exact range, with a limit of at least
    # ``csahlp_improve_min_seconds`` (or none): the capacitated GVNS starts again from
    # the next seeds while its budget allows (at most ``csahlp_restarts`` times), and
    # the allocation MIP polishes the best hub set's allocation in up to
    # ``csahlp_polish_share`` of the limit.  AP 200 TT: the GVNS's 291,764.15 becomes
    # 290,582.04 (12.7 s); LT: seed 0 stops at 269,729.28, seeds 2 and 3 find a better
    # hub set (267,460.34 and 267,433.37), whose allocation MIP gives 267,218.35 (7.6 s).
    # With 120 s both took the time of the Lagrangian bound, beside the old code: the
    # restarts AP 200 TL 7.79 % against 4.83 % (388 iterations against 600), the polish
    # alone TT 11.0 % against 9.6 % (with the better objective).  With 600 s (restarts
    # within ``csahlp_restart_share`` of the limit), side by side with them off: TT
    # 290,582.04 within 2.50 % against 291,764.15 within 3.05 %; LT 267,218.35 against
    # 269,729.28
    csahlp_restarts: int = 4
    csahlp_restart_share: float = 0.1
    # (600 s until issue 26 put it between the grid's 300 and 600 s)
    csahlp_improve_min_seconds: float = 400.0
    csahlp_polish_share: float = 0.1
    # the VNS over hub sets of multiple allocation on the facility-location path stops at
    # 30 % of the limit (not 60 %) from this many hubs, so that the inter-hub bound gets
    # the time (10 until issue 26 put it between the grid's p = 5 and 10)
    vns_many_hubs_min_p: int = 8
    # the single-allocation GVNS that starts the hub-set search gets this share of the
    # limit
    search_gvns_share: float = 0.2
    # beyond the sizes of Benders and of the relaxation above (``..._many_hubs_max_n``),
    # a bound still gets all the time the heuristic leaves, where the facility-location
    # bounds finish in seconds and left most of the limit unused (issue 27: random
    # case-like training instances of 400 nodes, 250 points and 150 sites, work size
    # 146, USApHMP p = 8 with 120 s, stopped after 33 s at 41 %).  The Lagrangian bound
    # of the path formulation (single or multiple allocation) when it fits: its arrays
    # take about ``large_lagrangian_bytes`` per (OD pair with flow, site) and
    # ``large_lagrangian_steps`` steps of ``large_lagrangian_step_seconds`` per
    # (OD pair with flow, site) must fit in the time left (training instances on the
    # shared 2-core machine at a load of 8-10, measured on the earlier (node, node,
    # site) arrays, where nearly all the work was on the pairs with flow: 400 nodes x
    # 150 sites 0.6 s a step, 600 x 200 3.3 s, 1,000 x 300 not one step in 80 s and
    # 7.1 GB); else Benders' bound of the multiple-allocation problem (its LP rounds are
    # valid bounds, memory O(n^2))
    large_lagrangian: bool = True
    large_lagrangian_bytes: float = 28.0
    large_lagrangian_max_bytes: float = 12e9
    large_lagrangian_steps: int = 150
    large_lagrangian_step_seconds: float = 4.5e-8
    # ... and Benders only when its set-up (the two-hub completions, ``O(n^2 sites)``,
    # the cuts at the incumbent and its neighbours, the master) takes at most half the
    # time left at this many seconds per (node, node, site): random Euclidean 1,000
    # nodes with every site, 60 s, load 8: the set-up ran 58 s without an LP round
    # (6e-8 a element); 2e-7 keeps a margin of three for the cuts, which grow with the
    # nodes, not the elements (a real instance of 819 nodes and 244 sites, seen in the
    # reported growth rows, took 1.7e-7)
    large_benders_setup_seconds: float = 2e-7
    # ... and where neither fits the time left (without the grouped bound below), the
    # relaxation still runs in it when its arrays fit the memory and at least this many
    # steps fit (issue 27b: the solve
    # stopped after 60 % of the limit with the facility-location bound alone; training
    # instance random_case(575, 248, seed=2, flow_density=1), USApHMP p = 10, 120 s,
    # load 8-10: 2 steps in the 50 s left gave 38.9 %, the facility-location bound
    # 45.8 %)
    large_lagrangian_min_steps: float = 2.0
    # ... and where the path formulation's relaxation does not fit the time left, the
    # grouped Lagrangian bound (``hubopt.models.group_lagrangian``: multipliers per
    # origin, group of destinations and site; a min-plus product of ``O(n G m^2)`` a
    # step) runs first, from the facility-location relaxation's multipliers, with
    # ``group_count`` groups, until the limit or until it stalls (over the last
    # ``group_stall_window`` steps it rose by less than ``group_stall_share`` of the
    # gap left); Benders gets the rest where its set-up fits.  Training instances only
    # (``docs/decisions.md``, 2026-12-06): random Euclidean n = 100 (seed 1, p = 5,
    # converged from the incumbent's start) one group left 5.6 % to the optimum, four
    # 0.9 %.  UMApHMP with 120 s, the grouped bound in 35 % of the time left and
    # Benders after it, against Benders alone: random Euclidean n = 500 (seed 1, p = 5)
    # 10.9 % against 22.5 %; random_case(575, 248, p = 8, flow density 1, seed 2) 19.0 %
    # against 25.3 %; density 0.3, seed 3, 15.2 % against 25.8 %; Benders' own bound
    # stayed below the grouped bound in all three, so the grouped bound keeps the time
    # while it rises.  The bound alone for 60 s at n = 500 (seed 1): 2, 4, 8 groups
    # 4.2, 3.5, 2.9 %; 90 s at n = 1,000 (seed 1): 4 and 8 groups 11.4 and 12.0 %.
    # Steps divided by the flow of each multiplier's group: 0.9 % after 1,000 steps at
    # n = 100 against 1.75 % after 3,000 without.  It also replaces the relaxation's
    # first steps where neither fits (``large_lagrangian_min_steps``): random Euclidean
    # n = 500 (seed 1, p = 5), 60 s, the grouped bound alone 2.9 % where those steps
    # leave about 20 %
    group_lagrangian: bool = True
    group_count: int = 8
    # ... and ``group_count_large`` groups from ``group_large_min_n`` nodes, where a step
    # costs several times more (its OD scan grows with ``n^2 m``) and fewer multipliers
    # converge sooner in the steps the time allows.  Training (random Euclidean, seed 1,
    # UMApHMP p = 5, 2026-12-07): n = 1,000 with 600 s, 4 groups 4.02 % against 5.46 %
    # with 8 (656 and 448 steps); 90 s, 11.4 % against 12.0 %; n = 500 with 60 s, 8
    # groups 2.9 % against 3.5 % with 4.  The switch lies between the two sizes
    group_count_large: int = 4
    group_large_min_n: int = 750
    group_patience: int = 40
    group_stall_window: int = 200
    group_stall_share: float = 0.01
    group_start_share: float = 0.5
    # when it stalls, every group is cut in two (the children keep their parent's
    # multipliers, so the bound carries over) while the count stays within
    # ``group_max_count``; it stops at a stall only beyond that.  Training
    # (``docs/decisions.md``, 2026-12-07): random Euclidean n = 500 (seed 1), UMApHMP
    # p = 5, 600 s: 8 groups stalled after 175 s and ended at 1.48 %, up to 32 groups
    # 0.80 %
    group_max_count: int = 32
    # UMApHMP of a case (fewer candidate sites or OD pairs than an AP-like instance of
    # its node count) in Benders' size range with few hubs and a limit long enough for
    # Benders: the multiple-allocation Lagrangian bound first, in this share of the
    # limit, and Benders in the rest, from its hubs.  On such instances the two methods
    # fail on different ones (``docs/decisions.md``, 2026-12-07); AP-like instances keep
    # Benders alone, which proves AP 200 with 600 s where the Lagrangian bound does not
    # (0: Benders alone for cases too)
    ma_first_share: float = 0.4
    # single allocation (USApHMP, USAHLP, CSAHLP without its capacities) where the
    # grouped bound runs: its single-allocation form (``sa_group_lagrangian.py``: each
    # origin keeps one hub, the destinations' side summed over groups of origins), with
    # the same groups, steps and stall rule, in place of the multiple-allocation form;
    # ``sa_group_nu_scale`` scales the steps of its per-node multipliers.  Training
    # (``docs/decisions.md``, 2026-12-07): real regions at sizes not published, USApHMP
    # p = 10, 120 s: eurus-650x230 1.27 % against 7.27 %, central-620x260 2.26 %
    # against 14.12 %; random Euclidean n = 500 (seed 1), p = 5, the bound alone for
    # 90 s with the scale 0.03 / 0.1 / 0.3 / 1 / 3: 1.59 / 0.68 / 0.54 / 1.04 / 2.48 %
    sa_group_lagrangian: bool = True
    sa_group_nu_scale: float = 0.3
    # its groups are cut up to this count (eurus-650x230 p = 10, 120 s: with up to 32
    # it stalled at 26 groups after 50 s and ended at 1.26 %, with up to 128 it went on
    # to 40 groups and 0.92 %)
    sa_group_max_count: int = 128
    # its steps deflected (Camerini, Fratta & Maffioli 1975): where a subgradient points
    # against the last direction, the direction adds ``sa_group_deflection`` times the
    # part of the last one that would undo it (0: plain subgradients).  Training
    # (``docs/decisions.md``, 2026-12-07): random Euclidean 500 (seeds 4 and 5), p = 5,
    # the bound alone for 180 s: plain 1.69 / 1.08 %, with 1.0 / 1.5 / 2.0: 1.66 / 1.03,
    # 1.55 / 0.91, 1.55 / 0.87 %
    sa_group_deflection: float = 1.5
    # nothing follows the single-allocation form (no Benders, no LP: the time is gone),
    # so it runs until this share of the time limit, past the 93 % at which the other
    # phases stop, and starts a step only where the last step's time fits before it
    sa_group_end_share: float = 0.99
    # multiple allocation (UMApHMP, UMAHLP) where the grouped bound runs: the form with
    # each OD pair's first hub exact among the open sites (``pair_group_lagrangian.py``:
    # only the last hubs' ties summed over groups of origins; the p-median over the OD
    # pairs that remains bounded by its Lagrangian), with the grouped bound's groups,
    # steps and stall rule.  Training (``docs/decisions.md``, 2026-12-07): see there
    pair_group_lagrangian: bool = True


@enum.unique
class Path(enum.Enum):
    """The main method of a solve."""

    SEARCH = "search"  # exact hub-set search (p-hub medians)
    MIP = "mip"  # the E&K flow MIP, warm-started from the heuristic
    BENDERS = "benders"  # ``method="benders"``: heuristic start, then Benders alone
    HEURISTIC_BENDERS = "heuristic+benders"  # heuristic, Benders (and Lagrangian) bounds
    HEURISTIC_BOUND = "heuristic+bound"  # heuristic, facility-location/Lagrangian bounds


@enum.unique
class Heuristic(enum.Enum):
    """The heuristic that finds the first solution."""

    GVNS = "gvns"  # single-allocation GVNS (USApHMP)
    GVNS_FIXED_COST = "gvns-fixed-cost"  # its fixed-cost variant (USAHLP, CSAHLP)
    VNS = "vns"  # VNS over hub sets (UMApHMP, large paths)
    DESCENT = "descent"  # swap descent (UMApHMP) or add/drop/swap descent (UMAHLP)


@dataclass(frozen=True)
class Plan:
    """The phases of one solve, in the order they run (see :func:`choose_plan`).

    Attributes
    ----------
    path
        The main method.
    heuristic
        The heuristic for the first solution (``None``: the search path of multiple
        allocation starts without one).
    csahlp_improve
        CSAHLP: GVNS restarts from the next seeds and the allocation MIP polish.
    benders_trial
        UMAHLP on the facility-location path: a Benders trial first.
    sa_lagrangian
        Single allocation: the Lagrangian bound of the path formulation with its
        branch and bound over all sites (USApHMP before Benders, the fixed-cost
        problems after it).
    sa_screening
        USApHMP: Benders screens the sites against the incumbent, and the Lagrangian
        bound runs on the sites left when few enough remain.
    ma_lagrangian
        Multiple allocation: the Lagrangian bound of the multiple-allocation path
        formulation instead of Benders.
    truncated_bound
        p-hub medians on the facility-location path: the LP with truncated distances.
    mathopt_bounds
        Facility-location MIP bounds are built (MathOpt models).
    sa_min_patience
        Patience floor of the single-allocation relaxation's step.
    vns_budget_share
        Share of the limit for the heuristic on the facility-location path.
    large_bound
        Beyond every size of Benders and the relaxation: the Lagrangian bound (of
        ``sa_lagrangian`` or ``ma_lagrangian``) when it fits the memory and the time
        left, else Benders' bound, in all the time the heuristic leaves.
    ma_first
        UMApHMP of a case on the Benders path: the multiple-allocation Lagrangian
        bound first (``ma_first_share`` of the limit), then Benders.
    """

    path: Path
    heuristic: Heuristic | None
    csahlp_improve: bool = False
    benders_trial: bool = False
    sa_lagrangian: bool = False
    sa_screening: bool = False
    ma_lagrangian: bool = False
    truncated_bound: bool = False
    mathopt_bounds: bool = False
    sa_min_patience: int = 0
    vns_budget_share: float = 0.0
    large_bound: bool = False
    ma_first: bool = False


def _at_least(time_limit: float | None, seconds: float) -> bool:
    """A limit of at least ``seconds``; no limit counts as one."""
    return time_limit is None or time_limit >= seconds


def _ma_lagrangian_range(problem: Problem, n: int, p: int | None, o: EngineOptions) -> bool:
    """UMAHLP and UMApHMP with fewer than ``ma_lagrangian_max_hub_share * n`` hubs, in
    Benders' size range beyond ``benders_max_n``."""
    return (
        problem in (Problem.UMAPHMP, Problem.UMAHLP)
        and o.benders_max_n < n <= o.benders_many_hubs_max_n
        and (p or 0) < o.ma_lagrangian_max_hub_share * n
    )


def _use_ma_lagrangian(
    problem: Problem, n: int, p: int | None, time_limit: float | None, o: EngineOptions
) -> bool:
    """:func:`_ma_lagrangian_range`, on a limit too short for Benders with few hubs."""
    return (
        _ma_lagrangian_range(problem, n, p, o)
        and time_limit is not None
        and time_limit < o.benders_few_hubs_min_seconds
    )


def _use_benders(
    problem: Problem, n: int, p: int | None, time_limit: float | None, o: EngineOptions
) -> bool:
    """Whether the large-instance path bounds with Benders (else facility location)."""
    if n <= o.benders_max_n:
        return True
    if n > o.benders_many_hubs_max_n or _use_ma_lagrangian(problem, n, p, time_limit, o):
        return False
    long_enough = _at_least(time_limit, o.benders_few_hubs_min_seconds)
    if p is None:  # fixed costs, few hubs: as for few hubs below (AP 200 UMAHLP beside
        # another solve, 600 s: T proven in 12 s, L in 125 s after an 88-s separation
        # at the whole support; 120 s: L 15.4 % as that separation does not fit, where
        # the facility-location bounds give 3.6 %)
        return long_enough
    return p >= o.benders_min_hub_share * n or long_enough


def _use_sa_lagrangian(
    problem: Problem, n: int, p: int | None, time_limit: float | None, o: EngineOptions
) -> bool:
    """Whether single allocation gets the Lagrangian bound of its path formulation."""
    if not problem.single_allocation:
        return False
    if n <= o.sa_lagrangian_max_n:
        return True
    if n > o.sa_lagrangian_many_hubs_max_n:
        return False
    if p is None:  # fixed costs: few hubs, and the sites close fast
        return True
    if time_limit is not None and time_limit < o.sa_lagrangian_min_seconds:
        return False
    if not _at_least(time_limit, o.sa_screen_min_seconds):
        return True  # no screening with this limit: the relaxation beats the rest
    return p >= o.sa_lagrangian_min_hub_share * n


def large_lagrangian_fits(
    pairs: int, sites: int, time_limit: float | None, options: EngineOptions | None = None
) -> bool:
    """Whether the Lagrangian bound of an instance with ``pairs`` OD pairs with flow and
    ``sites`` sites fits the memory and, with ``time_limit`` seconds left (``None``: no
    limit), its first steps (``large_lagrangian_...`` of :class:`EngineOptions`): its
    multipliers take one row of ``sites`` per pair with flow."""
    o = EngineOptions() if options is None else options
    elements = float(max(pairs, 1)) * sites
    if elements * o.large_lagrangian_bytes > o.large_lagrangian_max_bytes:
        return False
    need = o.large_lagrangian_steps * o.large_lagrangian_step_seconds * elements
    return time_limit is None or need <= time_limit


def effective_size(n: int, sites: int, pairs: int) -> int:
    """The work size of an instance of ``n`` nodes with ``sites`` candidate sites and
    ``pairs`` OD pairs with flow: the number of nodes of an AP-like instance (every
    node a site, flows between all of them) whose Benders separation and Lagrangian
    pricing cost the same, ``(pairs * sites^2)^(1/4)`` (both price every pair with flow
    over pairs of sites), rounded, at most ``n``.

    AP, CAB and TR (every node a site, flows between all pairs but the node itself)
    keep their ``n``.  A case of 250 demand points and 150 terminal sites (400 nodes)
    sizes like AP 193, so it gets the methods measured at AP 200.

    >>> effective_size(200, 200, 200 * 199), effective_size(400, 150, 250 * 249)
    (200, 193)
    """
    if n <= 0:
        return 0
    work = max(1, pairs) * max(1, sites) ** 2
    return int(min(n, max(1, round(work**0.25))))


def choose_plan(
    problem: Problem,
    *,
    n: int,
    p: int | None,
    hub_sets: int,
    time_limit: float | None,
    options: EngineOptions | None = None,
    method: str = "auto",
    size: int | None = None,
) -> Plan:
    """The phases of a solve of ``problem`` with ``n`` nodes and ``p`` hubs (``None``
    for the fixed-cost problems) under ``time_limit`` seconds (``None``: no limit).

    ``size`` is the work size of the instance (:func:`effective_size`; ``n`` when not
    given, as for every instance whose nodes are all candidate sites with flows between
    all of them): the switches between methods whose cost grows with the OD pairs and
    the candidate sites (the flow MIP, Benders, the Lagrangian bounds, the hub shares)
    compare it; those that build models over all nodes (the facility-location MIP and
    the truncated LP) compare ``n``.

    ``hub_sets`` is the number of hub sets that the search would enumerate (``C(m - f,
    p - f)`` over ``m`` candidate sites and ``f`` fixed hubs; anything for the fixed-cost
    problems); ``method`` as in :class:`~hubopt.models.base.SolveParameters` (``"auto"``
    picks it).  Pure: the same arguments always give the same plan.

    Raises
    ------
    SolverError
        For ``method="search"`` without ``p``, ``method="benders"`` with single
        allocation, and problems outside the engine (coverage).
    """
    if not problem.hub_location:
        msg = f"{problem.label}: not a problem of the hub-location engine"
        raise SolverError(msg)
    o = EngineOptions() if options is None else options
    nodes = n
    n = nodes if size is None else min(nodes, max(1, size))
    if method == "auto":
        if problem.has_p and hub_sets <= o.max_sets:
            method = "search"
        elif n <= o.mip_max_n:
            method = "mip"
        else:
            method = "heuristic"
    single = problem.single_allocation
    if problem is Problem.USAPHMP:
        first = Heuristic.GVNS
    elif single:
        first = Heuristic.GVNS_FIXED_COST
    else:
        first = Heuristic.DESCENT
    if method == "search":
        if not problem.has_p:
            msg = "method 'search' is for the p-hub median problems only"
            raise SolverError(msg)
        return Plan(Path.SEARCH, Heuristic.GVNS if single else None)
    if method == "mip":
        return Plan(Path.MIP, first)
    large = first if single or not problem.has_p else Heuristic.VNS
    if method == "benders":
        if single:
            msg = "method 'benders' is for the multiple-allocation problems (UMApHMP, UMAHLP)"
            raise SolverError(msg)
        return Plan(Path.BENDERS, large)
    long = p is not None and _at_least(time_limit, o.sa_long_limit_seconds)
    patience = o.sa_long_min_patience if long else o.sa_min_patience
    improve = problem is Problem.CSAHLP and _at_least(time_limit, o.csahlp_improve_min_seconds)
    sa = _use_sa_lagrangian(problem, n, p, time_limit, o)
    if _use_benders(problem, n, p, time_limit, o):
        screening = (
            problem is Problem.USAPHMP
            and o.sa_lagrangian_max_n < n <= o.sa_lagrangian_many_hubs_max_n
            and not sa
            and _at_least(time_limit, o.sa_screen_min_seconds)
        )
        # a case (work size below the node count) where the Lagrangian bound would
        # run on a shorter limit: it goes first
        ma_first = (
            problem is Problem.UMAPHMP and n < nodes and _ma_lagrangian_range(problem, n, p, o)
        )
        return Plan(
            Path.HEURISTIC_BENDERS,
            large,
            csahlp_improve=improve,
            sa_lagrangian=sa,
            sa_screening=screening,
            mathopt_bounds=True,
            sa_min_patience=patience,
            vns_budget_share=0.25,
            ma_first=ma_first,
        )
    ma = _use_ma_lagrangian(problem, n, p, time_limit, o)
    beyond = o.large_lagrangian and n > max(
        o.sa_lagrangian_many_hubs_max_n if single else o.benders_many_hubs_max_n,
        o.benders_max_n,
    )
    sa = sa or (beyond and single)
    ma = ma or (beyond and not single)
    many = problem is Problem.UMAPHMP and (p or 0) >= o.vns_many_hubs_min_p
    return Plan(
        Path.HEURISTIC_BOUND,
        large,
        csahlp_improve=improve,
        benders_trial=problem is Problem.UMAHLP and n <= o.benders_many_hubs_max_n,
        sa_lagrangian=sa,
        ma_lagrangian=ma,
        truncated_bound=problem.has_p and nodes <= o.truncated_bound_max_n,
        mathopt_bounds=time_limit is None or nodes <= o.mathopt_bound_max_n,
        sa_min_patience=patience,
        vns_budget_share=0.25 if ma and problem.has_p else 0.3 if many else 0.6,
        large_bound=beyond,
    )
