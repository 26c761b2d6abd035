#!/usr/bin/env bash
# Issue 5, sixty-fourth pass and on (session 16): the path relaxation fixes sites open
# (shutting a chosen site would raise its bound past the incumbent).
# Run 64 (commit 7bcac9c): USApHMP AP 200 p = 10 (lane 1) beside p = 5 (lane 2), with 600 s
# and -vv (the relaxation's log next to the results).
# Usage: benchmarks/run_large_v22.sh 64
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
if [ "$1" = 64 ]; then
  B="$H -vv bench --suite ap --problem usaphmp --n 200 --time-limit 600"
  $B --p 10 --out $R/large64_usaphmp200_p10_600.json > $R/large64_usaphmp200_p10_600.log 2>&1 &
  $B --p 5 --out $R/large64_usaphmp200_p5_600.json > $R/large64_usaphmp200_p5_600.log 2>&1 &
  wait
fi
# Run 65 (commit after 1bcb17f): run 64 with HubModel.sa_halvings = 8 in both lanes (PATCHED:
# a command that sets HubModel attributes from PATCH="name=value" and calls hubopt.cli.main;
# the patience was timed to allow 50 halvings of the step in the time left).
if [ "$1" = 65 ]; then
  export PATCH=sa_halvings=8
  B="$PATCHED -vv bench --suite ap --problem usaphmp --n 200 --time-limit 600"
  $B --p 10 --out $R/ab65_usaphmp200_p10_halvings8_600.json > $R/ab65_usaphmp200_p10_halvings8_600.log 2>&1 &
  $B --p 5 --out $R/ab65_usaphmp200_p5_halvings8_600.json > $R/ab65_usaphmp200_p5_halvings8_600.log 2>&1 &
  wait
fi
