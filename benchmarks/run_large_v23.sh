#!/usr/bin/env bash
# Issue 5, seventy-fourth pass and on (session 17): one solve at a time on the machine.
# Two numba-parallel solves side by side share the 2 cores, and each relaxation step then
# takes about twice as long (0.23 s against 0.11-0.13 s at AP 200 in its first 100 steps).
# Run 74 (commit 76dabce): USApHMP AP 200 p = 4, 5, 10, 15, 20 with 60 s, alone.
# Usage: benchmarks/run_large_v23.sh 74
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
if [ "$1" = 74 ]; then
  $H -vv bench --suite ap --problem usaphmp --n 200 --p 4 --p 5 --p 10 --p 15 --p 20 \
    --time-limit 60 --out $R/large74_usaphmp200_60_alone.json > $R/large74_usaphmp200_60_alone.log 2>&1
fi
# Run 75 (commit after e422ae7), alone: UMApHMP AP 200 p = 4, 5, 10, 15, 20 with 60 s, then
# USApHMP AP 100 p = 5, 10, 15, 20 with 60 s.
if [ "$1" = 75 ]; then
  $H -vv bench --suite ap --problem umaphmp --n 200 --p 4 --p 5 --p 10 --p 15 --p 20 \
    --time-limit 60 --out $R/large75_umaphmp200_60_alone.json > $R/large75_umaphmp200_60_alone.log 2>&1
  $H -vv bench --suite ap --problem usaphmp --n 100 --p 5 --p 10 --p 15 --p 20 \
    --time-limit 60 --out $R/large75_usaphmp100_60_alone.json > $R/large75_usaphmp100_60_alone.log 2>&1
fi
