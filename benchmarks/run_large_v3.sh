#!/usr/bin/env bash
# Issue 5, third pass: the AP 100 instances that `auto` now solves by heuristic + Benders
# (p-hub medians with p >= 5, USAHLP, UMAHLP), with the time limits of run_large.sh, and
# UMApHMP AP 100 with 600 s (the 10-minute proof target).  AP 200 and CSAHLP take the
# same path as in run_large.sh and are not re-run.  Two lanes, about 30 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
lane1() {
  $H bench --suite ap --problem usaphmp --n 100 --p 5 10 15 20 --time-limit 60 --out $R/large3_usaphmp.json "$@"
  $H bench --suite ap --problem usahlp --n 100 --fixed-cost L T --time-limit 120 --out $R/large3_usahlp.json "$@"
  $H bench --suite ap --problem umaphmp --n 100 --p 5 --time-limit 600 --out $R/large3_umaphmp600_p5.json "$@"
}
lane2() {
  $H bench --suite ap --problem umaphmp --n 100 --p 5 10 15 20 --time-limit 60 --out $R/large3_umaphmp.json "$@"
  $H bench --suite ap --problem umahlp --n 100 --fixed-cost L T --time-limit 120 --out $R/large3_umahlp.json "$@"
  $H bench --suite ap --problem umaphmp --n 100 --p 10 15 --time-limit 600 --out $R/large3_umaphmp600.json "$@"
}
lane1 "$@" > "${TMPDIR:-/tmp}/hubopt_large3_lane1.log" 2>&1 &
lane2 "$@" > "${TMPDIR:-/tmp}/hubopt_large3_lane2.log" 2>&1 &
wait
