#!/usr/bin/env bash
# Issue 5, twelfth pass: Benders separations now stop between batches of origins at the
# deadline (run 11's 60-s AP 200 UMApHMP p = 10 row had ended at 75 s, USApHMP p = 15
# at 61.5 s).  Re-run: the 60-s AP 200 p-hub median rows with p = 4 .. 20 (the others
# are decided by the exact search, or well within the limit), two lanes side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
L=${TMPDIR:-/tmp}/hubopt_large12
$H bench --suite ap --problem umaphmp --n 200 --p 4 5 10 15 20 --time-limit 60 --out $R/large12_umaphmp.json "$@" \
  > "${L}_lane1.log" 2>&1 &
$H bench --suite ap --problem usaphmp --n 200 --p 4 5 10 15 20 --time-limit 60 --out $R/large12_usaphmp.json "$@" \
  > "${L}_lane2.log" 2>&1 &
wait
