#!/usr/bin/env bash
# Issue 5, twenty-eighth pass and on (session 12).
# Run 28 (commit 007cd8b): USApHMP AP 200 p = 4 and p = 5 with 600 s side by side
# (Benders' master screens the sites after the multiple-allocation proof; the
# single-allocation Lagrangian bound then runs on the sites left; Benders had only 60 %
# of the limit: both ended at 426 s with 16.3 / 13.6 %, the whole-support separation
# declined; results not kept).
# Run 29 (commit ed77d5d, Benders keeps the whole limit): the same two lanes.
# Usage: benchmarks/run_large_v18.sh 29
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
L=${TMPDIR:-/tmp}/hubopt_large$1
B="$H bench --suite ap"
if [ "$1" = 28 ] || [ "$1" = 29 ]; then
  $B --n 200 --problem usaphmp --p 4 --time-limit 600 --out $R/large$1_usaphmp200_p4_600.json > "${L}_lane1.log" 2>&1 &
  $B --n 200 --problem usaphmp --p 5 --time-limit 600 --out $R/large$1_usaphmp200_p5_600.json > "${L}_lane2.log" 2>&1 &
  wait
fi
