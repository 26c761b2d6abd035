#!/usr/bin/env bash
# Issue 5, sixth pass: the rows that the Benders changes of this pass move (dense first
# separation with few hubs, cut pool with purging): every p-hub median solved by Benders
# with 60 s (AP 100 p = 5-20, AP 200 p = 10-20), the AP 100 fixed-cost problems (120 s),
# and UMApHMP AP 200 p = 4, 5, 10, 15, 20 with 600 s (auto now takes Benders for
# p = 4/5 from 600 s on).  Two lanes, about 40 minutes, then lane 3 (30 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
lane1() {
  $H bench --suite ap --problem umaphmp --n 100 200 --p 5 10 15 20 --time-limit 60 --out $R/large6_umaphmp.json "$@"
  $H bench --suite ap --problem umaphmp --n 200 --p 4 10 --time-limit 600 --out $R/large6_umaphmp600_a.json "$@"
  $H bench --suite ap --problem usahlp --n 100 --fixed-cost L T --time-limit 120 --out $R/large6_usahlp.json "$@"
  $H bench --suite ap --problem umahlp --n 100 --fixed-cost L T --time-limit 120 --out $R/large6_umahlp.json "$@"
}
lane2() {
  $H bench --suite ap --problem usaphmp --n 100 200 --p 5 10 15 20 --time-limit 60 --out $R/large6_usaphmp.json "$@"
  $H bench --suite ap --problem umaphmp --n 200 --p 5 15 20 --time-limit 600 --out $R/large6_umaphmp600_b.json "$@"
}
# lane 3 (for the measured results it was started when lane 1 had finished, beside lane 2):
# AP 100 UMApHMP p = 10 and USApHMP AP 200
# p = 4, 5 with 600 s
lane3() {
  $H bench --suite ap --problem umaphmp --n 100 --p 10 --time-limit 600 --out $R/large6_umaphmp600_c.json "$@"
  $H bench --suite ap --problem usaphmp --n 200 --p 4 5 --time-limit 600 --out $R/large6_usaphmp600.json "$@"
}
lane1 "$@" > "${TMPDIR:-/tmp}/hubopt_large6_lane1.log" 2>&1 &
lane2 "$@" > "${TMPDIR:-/tmp}/hubopt_large6_lane2.log" 2>&1 &
wait
lane3 "$@" > "${TMPDIR:-/tmp}/hubopt_large6_lane3.log" 2>&1
