#!/usr/bin/env bash
# Issue 5, twenty-eighth pass and on (session 12).
# Run 28 (commit 007cd8b): USApHMP AP 200 p = 4 and p = 5 with 600 s side by side
# (Benders' master screens the sites after the multiple-allocation proof; the
# single-allocation Lagrangian bound then runs on the sites left).
# Usage: benchmarks/run_large_v18.sh 28
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
L=${TMPDIR:-/tmp}/hubopt_large$1
B="$H bench --suite ap"
if [ "$1" = 28 ]; then
  $B --n 200 --problem usaphmp --p 4 --time-limit 600 --out $R/large28_usaphmp200_p4_600.json > "${L}_lane1.log" 2>&1 &
  $B --n 200 --problem usaphmp --p 5 --time-limit 600 --out $R/large28_usaphmp200_p5_600.json > "${L}_lane2.log" 2>&1 &
  wait
fi
