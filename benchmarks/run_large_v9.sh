#!/usr/bin/env bash
# Issue 5, ninth pass: Benders' in-out centre now moves a tenth of the way to each LP
# point (center_step=0.1; it moved half-way), which keeps every site in the cuts and
# lifts the root LP bound (AP 200 UMApHMP p = 10: 107.7k after 13 rounds against
# 106.3k after 26).  Re-run: the 10-minute target rows, UMApHMP AP 200 p = 5, 10, 15,
# 20 with 600 s, two lanes side by side (one per core), about 21 minutes; then, in the
# lane that finishes first, UMApHMP AP 100 p = 5, 10, 15, 20 with 60 s; then, two lanes
# again, UMApHMP and USApHMP AP 200 p = 5, 10, 15, 20 with 60 s (the UMApHMP rows of
# both sizes were merged into large9_umaphmp.json).
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
$H bench --suite ap --problem umaphmp --n 200 --p 5 10 --time-limit 600 --out $R/large9_umaphmp600_a.json "$@" \
  > "${TMPDIR:-/tmp}/hubopt_large9_lane1.log" 2>&1 &
{
  $H bench --suite ap --problem umaphmp --n 200 --p 15 20 --time-limit 600 --out $R/large9_umaphmp600_b.json "$@"
  $H bench --suite ap --problem umaphmp --n 100 --p 5 10 15 20 --time-limit 60 --out $R/large9_umaphmp.json "$@"
} > "${TMPDIR:-/tmp}/hubopt_large9_lane2.log" 2>&1 &
wait
$H bench --suite ap --problem umaphmp --n 200 --p 5 10 15 20 --time-limit 60 --out $R/large9_umaphmp200.json "$@" \
  > "${TMPDIR:-/tmp}/hubopt_large9_lane1b.log" 2>&1 &
$H bench --suite ap --problem usaphmp --n 200 --p 5 10 15 20 --time-limit 60 --out $R/large9_usaphmp.json "$@" \
  > "${TMPDIR:-/tmp}/hubopt_large9_lane2b.log" 2>&1 &
wait
