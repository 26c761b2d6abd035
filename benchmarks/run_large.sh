#!/usr/bin/env bash
# Issue 5, item 2: the large AP instances through `hubopt bench` (results in
# benchmarks/results/large_*.json, report: python benchmarks/large_report.py).
# Two lanes, one per core; about 35 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
lane1() {
  $H bench --suite ap --problem usaphmp --n 100 200 --p 2 3 4 5 10 15 20 --time-limit 60 --out $R/large_usaphmp.json "$@"
  $H bench --suite ap --problem usahlp --n 100 200 --fixed-cost L T --time-limit 120 --out $R/large_usahlp.json "$@"
  $H bench --suite ap --problem csahlp --n 100 200 --fixed-cost L T --capacity L T --time-limit 120 --out $R/large_csahlp.json "$@"
}
lane2() {
  $H bench --suite ap --problem umaphmp --n 100 200 --p 2 3 4 5 10 15 20 --time-limit 60 --out $R/large_umaphmp.json "$@"
  $H bench --suite ap --problem umahlp --n 100 200 --fixed-cost L T --time-limit 120 --out $R/large_umahlp.json "$@"
}
lane1 "$@" > "${TMPDIR:-/tmp}/hubopt_large_lane1.log" 2>&1 &
lane2 "$@" > "${TMPDIR:-/tmp}/hubopt_large_lane2.log" 2>&1 &
wait
