#!/usr/bin/env bash
# Issue 5, fourth pass: the rows whose path changed at commit e220922.  `auto` now bounds
# the AP 200 p-hub medians with p >= 10 (p >= 5 % of n) by Benders instead of the
# facility-location relaxations, and the warm-start swap cuts of Benders are spread over
# the hubs within a tenth of the time left (which changes AP 100 p = 10, 15, 20).  Time
# limit 60 s as in run_large.sh; two lanes, about 7 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
lane1() {
  $H bench --suite ap --problem usaphmp --n 100 200 --p 10 15 20 --time-limit 60 --out $R/large4_usaphmp.json "$@"
}
lane2() {
  $H bench --suite ap --problem umaphmp --n 100 200 --p 10 15 20 --time-limit 60 --out $R/large4_umaphmp.json "$@"
}
lane1 "$@" > "${TMPDIR:-/tmp}/hubopt_large4_lane1.log" 2>&1 &
lane2 "$@" > "${TMPDIR:-/tmp}/hubopt_large4_lane2.log" 2>&1 &
wait
