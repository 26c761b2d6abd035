#!/usr/bin/env bash
# Issue 5, twenty-fifth and twenty-sixth passes (session 11).
# Run 25 (commits 1877f41 and b9f10e6, single `hubopt bench` commands, two side by side):
# UMAHLP AP 200 L and T with 120 s (Benders is tried first), USApHMP AP 200 p = 10 with
# 600 s (the single-allocation Lagrangian now from p >= 5 % of n), then USApHMP AP 200
# p = 4 and p = 5 with 600 s side by side.
# Run 26 (commit e95e240, faster route pricing): the lanes below.
# Run 27 (commit c9fe24b, the relaxation starts from half the access costs): USApHMP
# AP 200 p = 15 with 600 s beside p = 20 with 600 s, then AP 100 p = 5, 10, 15 with 60 s.
# Usage: benchmarks/run_large_v17.sh 25   (or 26, or 27)
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
L=${TMPDIR:-/tmp}/hubopt_large$1
B="$H bench --suite ap"
if [ "$1" = 25 ]; then
  (
    $B --n 200 --problem umahlp --fixed-cost L --fixed-cost T --time-limit 120 --out $R/large25_umahlp200.json
  ) > "${L}_lane1.log" 2>&1 &
  (
    $B --n 200 --problem usaphmp --p 10 --time-limit 600 --out $R/large25_usaphmp200_p10_600.json
  ) > "${L}_lane2.log" 2>&1 &
  wait
  $B --n 200 --problem usaphmp --p 4 --time-limit 600 --out $R/large25_usaphmp200_p4_600.json > "${L}_lane1.log" 2>&1 &
  $B --n 200 --problem usaphmp --p 5 --time-limit 600 --out $R/large25_usaphmp200_p5_600.json > "${L}_lane2.log" 2>&1 &
  wait
elif [ "$1" = 27 ]; then
  $B --n 200 --problem usaphmp --p 15 --time-limit 600 --out $R/large27_usaphmp200_600_a.json > "${L}_lane1.log" 2>&1 &
  (
    $B --n 200 --problem usaphmp --p 20 --time-limit 600 --out $R/large27_usaphmp200_600_b.json
    $B --n 100 --problem usaphmp --p 5 --p 10 --p 15 --time-limit 60 --out $R/large27_usaphmp100.json
  ) > "${L}_lane2.log" 2>&1 &
  wait
else
  (
    $B --n 200 --problem usaphmp --p 10 --p 15 --time-limit 600 --out $R/large26_usaphmp200_600_a.json
  ) > "${L}_lane1.log" 2>&1 &
  (
    $B --n 200 --problem usaphmp --p 20 --time-limit 600 --out $R/large26_usaphmp200_600_b.json
    $B --n 100 --problem usaphmp --p 5 --p 10 --p 15 --time-limit 60 --out $R/large26_usaphmp100.json
    $B --n 200 --problem usahlp --fixed-cost L --fixed-cost T --time-limit 120 --out $R/large26_usahlp200.json
  ) > "${L}_lane2.log" 2>&1 &
  wait
fi
