#!/usr/bin/env bash
# Issue 5, twenty-first pass (session 10): the single-allocation Lagrangian now runs for
# the fixed-cost problems up to n = 250 (CSAHLP within the capacities, a knapsack per
# hub).  Run 20 (by hand, before this script): CSAHLP AP 100 with 120 s,
#   hubopt bench --suite ap --problem csahlp --n 100 --fixed-cost L T --capacity L T \
#     --time-limit 120 --out benchmarks/results/large20_csahlp100.json
# Lane 1: USAHLP AP 200 L with 600 s, CSAHLP AP 200 LL/LT with 120 s, USAHLP AP 100 with 60 s.
# Lane 2: USAHLP AP 200 T with 600 s, CSAHLP AP 200 TL/TT with 120 s, USAHLP AP 200 with 120 s.
# Two lanes side by side on the 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
L=${TMPDIR:-/tmp}/hubopt_large21
(
  $H bench --suite ap --problem usahlp --n 200 --fixed-cost L --time-limit 600 --out $R/large21_usahlp200_L_600.json "$@"
  $H bench --suite ap --problem csahlp --n 200 --fixed-cost L --capacity L T --time-limit 120 --out $R/large21_csahlp200_L.json "$@"
  $H bench --suite ap --problem usahlp --n 100 --fixed-cost L T --time-limit 60 --out $R/large21_usahlp100.json "$@"
) > "${L}_lane1.log" 2>&1 &
(
  $H bench --suite ap --problem usahlp --n 200 --fixed-cost T --time-limit 600 --out $R/large21_usahlp200_T_600.json "$@"
  $H bench --suite ap --problem csahlp --n 200 --fixed-cost T --capacity L T --time-limit 120 --out $R/large21_csahlp200_T.json "$@"
  $H bench --suite ap --problem usahlp --n 200 --fixed-cost L T --time-limit 120 --out $R/large21_usahlp200.json "$@"
) > "${L}_lane2.log" 2>&1 &
wait
