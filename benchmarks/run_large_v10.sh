#!/usr/bin/env bash
# Issue 5, tenth pass: the swap descent of multiple allocation now scans the whole swap
# neighbourhood with a compiled evaluation (hubopt/models/_swap.py, about 300 times
# faster at AP 200), so the VNS ends within seconds and leaves Benders the time, and
# Benders polishes every rounded LP point with the descent.  Re-run: the 10-minute
# target rows, UMApHMP AP 200 p = 4, 5, 10, 15, 20 with 600 s, two lanes side by side
# (one per core); then all 60-s p-hub median rows of AP 100 and AP 200 (p = 2 .. 20),
# two lanes again.
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
L=${TMPDIR:-/tmp}/hubopt_large10
P="2 3 4 5 10 15 20"
$H bench --suite ap --problem umaphmp --n 200 --p 5 10 4 --time-limit 600 --out $R/large10_umaphmp600_a.json "$@" \
  > "${L}_lane1.log" 2>&1 &
$H bench --suite ap --problem umaphmp --n 200 --p 15 20 --time-limit 600 --out $R/large10_umaphmp600_b.json "$@" \
  > "${L}_lane2.log" 2>&1 &
wait
$H bench --suite ap --problem umaphmp --n 100 200 --p $P --time-limit 60 --out $R/large10_umaphmp.json "$@" \
  > "${L}_lane1b.log" 2>&1 &
$H bench --suite ap --problem usaphmp --n 100 200 --p $P --time-limit 60 --out $R/large10_usaphmp.json "$@" \
  > "${L}_lane2b.log" 2>&1 &
wait
