#!/usr/bin/env bash
# Issue 5, nineteenth pass (session 10): the single-allocation Lagrangian prices routes
# without sorting (2.3x faster) and runs at AP 200 for USApHMP with p >= 15 and 600 s.
# Lane 1: USApHMP AP 200 p = 15 with 600 s, then p = 3 with 600 s (the exact search).
# Lane 2: USApHMP AP 200 p = 20 with 600 s, then USApHMP AP 100 p = 5-20 with 60 s.
# Two lanes side by side on the 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
L=${TMPDIR:-/tmp}/hubopt_large19
(
  $H bench --suite ap --problem usaphmp --n 200 --p 15 --time-limit 600 --out $R/large19_usaphmp200_p15_600.json "$@"
  $H bench --suite ap --problem usaphmp --n 200 --p 3 --time-limit 600 --out $R/large19_usaphmp200_p3_600.json "$@"
) > "${L}_lane1.log" 2>&1 &
(
  $H bench --suite ap --problem usaphmp --n 200 --p 20 --time-limit 600 --out $R/large19_usaphmp200_p20_600.json "$@"
  $H bench --suite ap --problem usaphmp --n 100 --p 5 10 15 20 --time-limit 60 --out $R/large19_usaphmp100.json "$@"
) > "${L}_lane2.log" 2>&1 &
wait
