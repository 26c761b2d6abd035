#!/usr/bin/env bash
# Issue 5, seventh pass: the rows that this pass's Benders changes can move (cuts at
# the swap neighbours of every master solution; a cut put back into the master counts
# as tight in that round): every p-hub median solved by Benders with 60 s (AP 100
# p = 5-20, AP 200 p = 10-20, both problems) and UMApHMP AP 200 p = 5, 10, 15, 20 with
# 600 s.  Two lanes side by side (one per core), about 30 minutes.  (Probing runs by
# default when at least 120 s are left, so only in the 600-s rows; its own side-by-side
# comparison is benchmarks/probing.md, made with benchmarks/benders_arms.py.)
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
lane1() {
  $H bench --suite ap --problem umaphmp --n 100 200 --p 5 10 15 20 --time-limit 60 --out $R/large7_umaphmp.json "$@"
  $H bench --suite ap --problem umaphmp --n 200 --p 5 10 --time-limit 600 --out $R/large7_umaphmp600_a.json "$@"
}
lane2() {
  $H bench --suite ap --problem usaphmp --n 100 200 --p 5 10 15 20 --time-limit 60 --out $R/large7_usaphmp.json "$@"
  $H bench --suite ap --problem umaphmp --n 200 --p 15 20 --time-limit 600 --out $R/large7_umaphmp600_b.json "$@"
}
lane1 "$@" > "${TMPDIR:-/tmp}/hubopt_large7_lane1.log" 2>&1 &
lane2 "$@" > "${TMPDIR:-/tmp}/hubopt_large7_lane2.log" 2>&1 &
wait
