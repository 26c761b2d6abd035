#!/usr/bin/env bash
# Issue 5, fifteenth pass (session 9): the single-allocation Lagrangian bound of the path
# formulation (hubopt/models/sa_lagrangian.py).  Lane 1: USApHMP AP 100 (60 s), USApHMP
# AP 200 (60 s), USAHLP AP 100 (60 s), CSAHLP AP 100 (120 s).  Lane 2: USApHMP AP 200 with
# 600 s.  Two lanes side by side on the 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
L=${TMPDIR:-/tmp}/hubopt_large15
(
  $H bench --suite ap --problem usaphmp --n 100 --p 2 3 4 5 10 15 20 --time-limit 60 --out $R/large15_usaphmp100.json "$@"
  $H bench --suite ap --problem usaphmp --n 200 --p 4 5 10 15 20 --time-limit 60 --out $R/large15_usaphmp200.json "$@"
  $H bench --suite ap --problem usahlp --n 100 --fixed-cost L T --time-limit 60 --out $R/large15_usahlp100.json "$@"
  $H bench --suite ap --problem csahlp --n 100 --fixed-cost L T --capacity L T --time-limit 120 --out $R/large15_csahlp100.json "$@"
) > "${L}_lane1.log" 2>&1 &
$H bench --suite ap --problem usaphmp --n 200 --p 4 5 10 15 20 --time-limit 600 --out $R/large15_usaphmp600.json "$@" \
  > "${L}_lane2.log" 2>&1 &
wait
