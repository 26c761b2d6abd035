#!/usr/bin/env bash
# Issue 5, thirty-second pass and on (session 13): the single-allocation Lagrangian
# measures its subgradient in the flows' metric (flow_scaling = 1), and USApHMP beyond
# n = 150 with at least 5 % of n hubs gets it at any limit.
# Run 32 (commit b479d3b): USApHMP AP 200 p = 10, 4 (lane 1) and p = 15, 20 (lane 2)
# with 600 s.
# Run 33 (same commit): the 60-s USApHMP rows, AP 200 p = 10, 15, 20 (lane 1) and
# AP 100 p = 5, 10, 15, 20 (lane 2).
# Usage: benchmarks/run_large_v19.sh 32   (or 33, 34, 37, 39, 40)
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
L=${TMPDIR:-/tmp}/hubopt_large$1
B="$H bench --suite ap --problem usaphmp"
if [ "$1" = 32 ]; then
  ( $B --n 200 --p 10 --p 4 --time-limit 600 --out $R/large32_usaphmp200_p10_p4_600.json > "${L}_lane1.log" 2>&1 ) &
  ( $B --n 200 --p 15 --p 20 --time-limit 600 --out $R/large32_usaphmp200_p15_p20_600.json > "${L}_lane2.log" 2>&1 ) &
  wait
elif [ "$1" = 33 ]; then
  ( $B --n 200 --p 10 --p 15 --p 20 --time-limit 60 --out $R/large33_usaphmp200_60.json > "${L}_lane1.log" 2>&1 ) &
  ( $B --n 100 --p 5 --p 10 --p 15 --p 20 --time-limit 60 --out $R/large33_usaphmp100_60.json > "${L}_lane2.log" 2>&1 ) &
  wait
fi
# Run 34 (commit after b479d3b, the same code): USAHLP AP 200 L and CSAHLP AP 200 LT
# (lane 1), USAHLP AP 200 T and CSAHLP AP 200 TT (lane 2), with 600 s.
# Run 35 (the same code, 120 s): the fixed-cost rows USAHLP AP 200 L/T, CSAHLP AP 100
# LL/LT/TL/TT and AP 200 TL/TT, each beside the code before this session (18190d4) in
# a second checkout (`results/large35_*` and `results/ab35_*_old.json`), as single
# `hubopt bench` commands.
if [ "$1" = 34 ]; then
  F="$H bench --suite ap --n 200 --time-limit 600"
  ( $F --problem usahlp --fixed-cost L --out $R/large34_usahlp200_L_600.json > "${L}_lane1.log" 2>&1
    $F --problem csahlp --fixed-cost L --capacity T --out $R/large34_csahlp200_LT_600.json >> "${L}_lane1.log" 2>&1 ) &
  ( $F --problem usahlp --fixed-cost T --out $R/large34_usahlp200_T_600.json > "${L}_lane2.log" 2>&1
    $F --problem csahlp --fixed-cost T --capacity T --out $R/large34_csahlp200_TT_600.json >> "${L}_lane2.log" 2>&1 ) &
  wait
fi
# Run 36 (commit 5eeabac): USApHMP AP 200 p = 15 with 600 s beside the same code with
# HubModel.sa_node_iterations = 300 (`results/ab36_p15_node300.json`; this lane's file is
# also `results/large36_usaphmp200_p15_600.json`), as single `hubopt bench` commands.
# Run 37 (the same code): USApHMP AP 200 p = 10 beside p = 20, with 600 s.
# Run 38 (the same code, 120 s): CSAHLP AP 200 LL and LT, beside the code before this
# session as in run 35 (`results/large38_*`, `results/ab38_*_old.json`).
if [ "$1" = 37 ]; then
  $B --n 200 --p 10 --time-limit 600 --out $R/large37_usaphmp200_p10_600.json > "${L}_lane1.log" 2>&1 &
  $B --n 200 --p 20 --time-limit 600 --out $R/large37_usaphmp200_p20_600.json > "${L}_lane2.log" 2>&1 &
  wait
fi
# Run 39 (the p-hub medians' relaxation starts from a quarter of the access costs,
# HubModel.sa_pmedian_start_share): USApHMP AP 200 p = 10 beside p = 15, with 600 s.
if [ "$1" = 39 ]; then
  $B --n 200 --p 10 --time-limit 600 --out $R/large39_usaphmp200_p10_600.json > "${L}_lane1.log" 2>&1 &
  $B --n 200 --p 15 --time-limit 600 --out $R/large39_usaphmp200_p15_600.json > "${L}_lane2.log" 2>&1 &
  wait
fi
# Run 40 (the same code as run 39): USApHMP AP 200 p = 20 beside p = 4 (as in run 32),
# with 600 s.
if [ "$1" = 40 ]; then
  $B --n 200 --p 20 --time-limit 600 --out $R/large40_usaphmp200_p20_600.json > "${L}_lane1.log" 2>&1 &
  $B --n 200 --p 4 --time-limit 600 --out $R/large40_usaphmp200_p4_600.json > "${L}_lane2.log" 2>&1 &
  wait
fi
