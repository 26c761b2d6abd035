#!/usr/bin/env bash
# Issue 5, twenty-eighth pass and on (session 12).
# Run 28 (commit 007cd8b): USApHMP AP 200 p = 4 and p = 5 with 600 s side by side
# (Benders' master screens the sites after the multiple-allocation proof; the
# single-allocation Lagrangian bound then runs on the sites left; Benders had only 60 %
# of the limit: both ended at 426 s with 16.3 / 13.6 %, the whole-support separation
# declined; results not kept).
# Run 29 (commit ed77d5d, Benders keeps the whole limit): the same two lanes.
# Run 30 (commit 4662f1d, the CSAHLP heuristic restarts and polishes with at least
# 600 s): CSAHLP AP 200 LT beside TT with 600 s.  The same-machine comparisons with the
# code before (ab30_*: 120 s with restarts and polish in turn, 600 s) were single
# `hubopt bench` commands from two checkouts side by side.
# Run 31 (commit ea005f0, after the fix of the fallback bound): CSAHLP AP 200 TT with 600 s
# beside the same code with the restarts and polish off (HubModel.csahlp_improve_min_seconds
# set to 1e9),
# as single `hubopt bench` commands.
# Usage: benchmarks/run_large_v18.sh 29   (or 30)
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
elif [ "$1" = 30 ]; then
  $B --n 200 --problem csahlp --fixed-cost L --capacity T --time-limit 600 --out $R/large30_csahlp200_LT_600.json > "${L}_lane1.log" 2>&1 &
  $B --n 200 --problem csahlp --fixed-cost T --capacity T --time-limit 600 --out $R/large30_csahlp200_TT_600.json > "${L}_lane2.log" 2>&1 &
  wait
fi
