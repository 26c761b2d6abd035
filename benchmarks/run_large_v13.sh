#!/usr/bin/env bash
# Issue 5, thirteenth pass: fixed-cost rows after session 8's changes.  USAHLP AP 200 L/T
# with 600 s (Benders now bounds it by the multiple-allocation optimum at n <= 250 when
# the limit is at least 600 s), and CSAHLP AP 100 (LL, LT, TL, TT) with 120 s (now on the
# Benders path: the larger of the multiple-allocation optimum and the capacitated
# facility-location bound); two lanes side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
L=${TMPDIR:-/tmp}/hubopt_large13
$H bench --suite ap --problem usahlp --n 200 --fixed-cost L T --time-limit 600 --out $R/large13_usahlp600.json "$@" \
  > "${L}_lane1.log" 2>&1 &
$H bench --suite ap --problem csahlp --n 100 --fixed-cost L T --capacity L T --time-limit 120 --out $R/large13_csahlp.json "$@" \
  > "${L}_lane2.log" 2>&1 &
wait
