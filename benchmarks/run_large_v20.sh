#!/usr/bin/env bash
# Issue 5, forty-first pass and on (session 14): the single-allocation Lagrangian's route
# pricing buckets the last hubs by cost and skips first hubs by the triangle inequality
# (about three times faster per call at AP 200).
# Run 41 (commit 2c0783a): USApHMP AP 200 p = 10 beside p = 15, with 600 s.
# Usage: benchmarks/run_large_v20.sh 41
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
L=${TMPDIR:-/tmp}/hubopt_large$1
B="$H bench --suite ap --problem usaphmp"
if [ "$1" = 41 ]; then
  $B --n 200 --p 10 --time-limit 600 --out $R/large41_usaphmp200_p10_600.json > "${L}_lane1.log" 2>&1 &
  $B --n 200 --p 15 --time-limit 600 --out $R/large41_usaphmp200_p15_600.json > "${L}_lane2.log" 2>&1 &
  wait
fi
# Run 42 (commit after 2c0783a with the nodes' debug log, the same solver): USApHMP
# AP 200 p = 10 (with -vv, its log kept as `results/large42_usaphmp200_p10_600.log`)
# beside p = 20, with 600 s.
if [ "$1" = 42 ]; then
  $H -vv bench --suite ap --problem usaphmp --n 200 --p 10 --time-limit 600 --out $R/large42_usaphmp200_p10_600.json > "${L}_lane1.log" 2>&1 &
  $B --n 200 --p 20 --time-limit 600 --out $R/large42_usaphmp200_p20_600.json > "${L}_lane2.log" 2>&1 &
  wait
fi
# Run 43 (the root re-times its patience every 100 iterations): USApHMP AP 200 p = 10
# (with -vv, log in `results/large43_usaphmp200_p10_600.log`) beside p = 15, with 600 s.
if [ "$1" = 43 ]; then
  $H -vv bench --suite ap --problem usaphmp --n 200 --p 10 --time-limit 600 --out $R/large43_usaphmp200_p10_600.json > "${L}_lane1.log" 2>&1 &
  $B --n 200 --p 15 --time-limit 600 --out $R/large43_usaphmp200_p15_600.json > "${L}_lane2.log" 2>&1 &
  wait
fi
