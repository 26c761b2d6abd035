#!/usr/bin/env bash
# Issue 5, fifth pass: the AP 200 rows on the facility-location path that the truncated
# LP bound (bounds.truncated_transfer_bound, p-hub medians only) changes: USApHMP and
# UMApHMP p = 4, 5, 60 s as in run_large.sh.  Two lanes, about 2.5 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
lane1() {
  $H bench --suite ap --problem usaphmp --n 200 --p 4 5 --time-limit 60 --out $R/large5_usaphmp.json "$@"
}
lane2() {
  $H bench --suite ap --problem umaphmp --n 200 --p 4 5 --time-limit 60 --out $R/large5_umaphmp.json "$@"
}
lane1 "$@" > "${TMPDIR:-/tmp}/hubopt_large5_lane1.log" 2>&1 &
lane2 "$@" > "${TMPDIR:-/tmp}/hubopt_large5_lane2.log" 2>&1 &
wait
