#!/usr/bin/env bash
# Issue 5, eleventh pass, on top of the tenth (compiled swap descent, polished LP
# points): Benders closes sites by reduced cost after every LP round, and the dense
# separation points shrink with them; the p-hub medians' facility-location path starts
# from the Lagrangian bound; UMAHLP/USAHLP up to n = 250 take Benders with 600 s.
# Two lanes side by side (one per core): the 10-minute target rows (UMApHMP AP 200
# p = 4, 5, 10, 15, 20) and UMAHLP AP 200 L/T with 600 s; then all 60-s p-hub median
# rows of AP 100 and AP 200 (p = 2 .. 20).
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
L=${TMPDIR:-/tmp}/hubopt_large11
P="2 3 4 5 10 15 20"
$H bench --suite ap --problem umaphmp --n 200 --p 5 10 4 --time-limit 600 --out $R/large11_umaphmp600_a.json "$@" \
  > "${L}_lane1.log" 2>&1 &
{
  $H bench --suite ap --problem umaphmp --n 200 --p 15 20 --time-limit 600 --out $R/large11_umaphmp600_b.json "$@"
  $H bench --suite ap --problem umahlp --n 200 --fixed-cost L T --time-limit 600 --out $R/large11_umahlp600.json "$@"
} > "${L}_lane2.log" 2>&1 &
wait
$H bench --suite ap --problem umaphmp --n 100 200 --p $P --time-limit 60 --out $R/large11_umaphmp.json "$@" \
  > "${L}_lane1b.log" 2>&1 &
$H bench --suite ap --problem usaphmp --n 100 200 --p $P --time-limit 60 --out $R/large11_usaphmp.json "$@" \
  > "${L}_lane2b.log" 2>&1 &
wait
