#!/usr/bin/env bash
# Issue 5, seventy-fourth pass and on (session 17): one solve at a time on the machine.
# Two numba-parallel solves side by side share the 2 cores, and each relaxation step then
# takes about twice as long (0.23 s against 0.11-0.13 s at AP 200 in its first 100 steps).
# Run 74 (commit 76dabce): USApHMP AP 200 p = 4, 5, 10, 15, 20 with 60 s, alone.
# Usage: benchmarks/run_large_v23.sh 74
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
# AP 200 p = 4, 5, 10, 15, 20 with 60 s and -vv: $1 the output stem, $2 the problem
ap200_60() {
  $H -vv bench --suite ap --problem "$2" --n 200 --p 4 --p 5 --p 10 --p 15 --p 20 \
    --time-limit 60 --out "$R/$1.json" > "$R/$1.log" 2>&1
}
# USApHMP AP 100 p = 5, 10, 15, 20 with 60 s and -vv: $1 the run
ap100_60() {
  $H -vv bench --suite ap --problem usaphmp --n 100 --p 5 --p 10 --p 15 --p 20 \
    --time-limit 60 --out "$R/large$1_usaphmp100_60_alone.json" > "$R/large$1_usaphmp100_60_alone.log" 2>&1
}
# USApHMP AP 200 with 600 s and -vv, one p after the other: $1 the run, then the p's
ap200_600() {
  local run=$1
  shift
  for p in "$@"; do
    $H -vv bench --suite ap --problem usaphmp --n 200 --p "$p" --time-limit 600 \
      --out "$R/large${run}_usaphmp200_p${p}_600_alone.json" > "$R/large${run}_usaphmp200_p${p}_600_alone.log" 2>&1
  done
}
# USAHLP AP 200 L and T with 120 s and -vv: $1 the run
usahlp200_120() {
  for fc in L T; do
    $H -vv bench --suite ap --n 200 --time-limit 120 --problem usahlp --fixed-cost $fc \
      --out "$R/large$1_usahlp200_${fc}_alone.json" > "$R/large$1_usahlp200_${fc}_alone.log" 2>&1
  done
}
if [ "$1" = 74 ]; then
  ap200_60 large74_usaphmp200_60_alone usaphmp
fi
# Run 75 (commit after e422ae7), alone: UMApHMP AP 200 p = 4, 5, 10, 15, 20 with 60 s, then
# USApHMP AP 100 p = 5, 10, 15, 20 with 60 s.
if [ "$1" = 75 ]; then
  ap200_60 large75_umaphmp200_60_alone umaphmp
  $H -vv bench --suite ap --problem usaphmp --n 100 --p 5 --p 10 --p 15 --p 20 \
    --time-limit 60 --out $R/large75_usaphmp100_60_alone.json > $R/large75_usaphmp100_60_alone.log 2>&1
fi
# Run 76 (commit a6a2a29: nodes that are one hub set take no step, stalled nodes branch;
# the route pricing buckets the last hubs by their cost from the cheapest first hub),
# alone: USApHMP AP 200 p = 4, 5 and 10 with 600 s, one after the other, each with -vv.
if [ "$1" = 76 ]; then
  for p in 4 5 10; do
    $H -vv bench --suite ap --problem usaphmp --n 200 --p $p --time-limit 600 \
      --out $R/large76_usaphmp200_p${p}_600_alone.json > $R/large76_usaphmp200_p${p}_600_alone.log 2>&1
  done
fi
# Run 77 (as run 76), alone: the fixed-cost rows of AP 200 with 120 s (USAHLP L, T; CSAHLP
# LL, LT, TL, TT).
if [ "$1" = 77 ]; then
  F="bench --suite ap --n 200 --time-limit 120"
  for fc in L T; do
    $H $F --problem usahlp --fixed-cost $fc --out $R/large77_usahlp200_${fc}_alone.json
    for cap in L T; do
      $H $F --problem csahlp --fixed-cost $fc --capacity $cap \
        --out $R/large77_csahlp200_$fc${cap}_alone.json
    done
  done
fi
# Run 78 (as run 76), alone: run 74 again (USApHMP AP 200 p = 4, 5, 10, 15, 20 with 60 s),
# with the route pricing of commit a6a2a29.
if [ "$1" = 78 ]; then
  ap200_60 large78_usaphmp200_60_alone usaphmp
fi
# Run 79 (commit e146f49: the step directions in single precision), alone: run 78 again.
if [ "$1" = 79 ]; then
  ap200_60 large79_usaphmp200_60_alone usaphmp
fi
# Run 80 (as run 79), alone: USApHMP AP 200 p = 2, 3 and UMApHMP AP 200 p = 4, 5, 10, 15, 20
# with 60 s (the multiple-allocation relaxation shares the pricing and the directions).
if [ "$1" = 80 ]; then
  $H -vv bench --suite ap --problem usaphmp --n 200 --p 2 --p 3 \
    --time-limit 60 --out $R/large80_usaphmp200_60_alone.json > $R/large80_usaphmp200_60_alone.log 2>&1
  ap200_60 large80_umaphmp200_60_alone umaphmp
fi
# Run 81 (commit 2084bad: the route pricing scans only the listed first hubs), alone:
# USApHMP and UMApHMP AP 200 p = 4, 5, 10, 15, 20 with 60 s, then USApHMP AP 200 p = 5
# with 600 s and -vv.
if [ "$1" = 81 ]; then
  for prob in usaphmp umaphmp; do
    ap200_60 "large81_${prob}200_60_alone" $prob
  done
  $H -vv bench --suite ap --problem usaphmp --n 200 --p 5 --time-limit 600 \
    --out $R/large81_usaphmp200_p5_600_alone.json > $R/large81_usaphmp200_p5_600_alone.log 2>&1
fi
# Run 82 (as run 81), alone: USApHMP AP 200 p = 4 with 600 s and -vv.
if [ "$1" = 82 ]; then
  $H -vv bench --suite ap --problem usaphmp --n 200 --p 4 --time-limit 600 \
    --out $R/large82_usaphmp200_p4_600_alone.json > $R/large82_usaphmp200_p4_600_alone.log 2>&1
fi
# Run 83 (session 18: the reduction test fixes single allocations out too; without p the
# opening rise of a site is exact when one positive site is chosen), alone: USApHMP AP 200
# p = 5 with 600 s and -vv, then USApHMP AP 200 p = 4, 5, 10, 15, 20 with 60 s.  The 60-s
# part overlapped short experiments (not alone: 275-529 steps instead of 438-1,447) and was
# discarded; run 85 repeats it.
if [ "$1" = 83 ]; then
  $H -vv bench --suite ap --problem usaphmp --n 200 --p 5 --time-limit 600 \
    --out $R/large83_usaphmp200_p5_600_alone.json > $R/large83_usaphmp200_p5_600_alone.log 2>&1
  ap200_60 large83_usaphmp200_60_alone usaphmp
fi
# Run 84 (commit after run 83) was stopped after a minute: an hour-long run of USApHMP AP 200
# p = 5 would not settle its optimum with this branch and bound (run 83's nodes gain 0-40
# each on a gap of 387), and the route pricing got faster first.
# Run 85 (the route pricing adds an infinite barrier to the allocations fixed out instead
# of branching on them, so its loop still vectorises), alone: USApHMP AP 200 p = 4, 5, 10,
# 15, 20 with 60 s; USApHMP AP 100 p = 5, 10, 15, 20 with 60 s; USApHMP AP 200 p = 4 and
# 10 with 600 s; USAHLP AP 200 L and T with 120 s.
if [ "$1" = 85 ]; then
  ap200_60 large85_usaphmp200_60_alone usaphmp
  ap100_60 85
  ap200_600 85 4 10
  usahlp200_120 85
fi
# Run 86 (session 18, final: the allocations are fixed out in the branch-and-bound nodes
# only, the root descends as before; more than p sites forced open closes a node), alone:
# USApHMP AP 200 p = 4, 5, 10, 15, 20 and AP 100 p = 5, 10, 15, 20 with 60 s; USApHMP AP
# 200 p = 4, 10 and 5 with 600 s; USAHLP AP 200 L and T with 120 s.
if [ "$1" = 86 ]; then
  ap200_60 large86_usaphmp200_60_alone usaphmp
  ap100_60 86
  ap200_600 86 4 10 5
  usahlp200_120 86
fi
# Run 87 (session 19: every 100 steps an LP puts "each node is served once" back into the
# allocation subproblem and moves its duals into the allocation prices), alone: USApHMP AP
# 200 p = 5, 4 and 10 with 600 s; USApHMP AP 200 p = 4, 5, 10, 15, 20 and AP 100 p = 5, 10,
# 15, 20 with 60 s; USAHLP AP 200 L and T with 120 s.
if [ "$1" = 87 ]; then
  ap200_600 87 5 4 10
  ap200_60 large87_usaphmp200_60_alone usaphmp
  ap100_60 87
  usahlp200_120 87
fi
# Run 88 (the root hands over to the tree when its bound rose by less than 5 % of its gap
# over 500 steps), alone: USApHMP AP 200 p = 5, 4 and 10 with 600 s, then AP 200 p = 4, 5,
# 10, 15, 20 with 60 s.
if [ "$1" = 88 ]; then
  ap200_600 88 5 4 10
  ap200_60 large88_usaphmp200_60_alone usaphmp
fi
# Run 89 (as run 88), alone: UMApHMP AP 200 p = 4, 5, 10, 15, 20 and USApHMP AP 200 p = 2, 3
# with 60 s; USApHMP AP 200 p = 3 with 600 s; USAHLP AP 200 L and T with 120 s.
if [ "$1" = 89 ]; then
  ap200_60 large89_umaphmp200_60_alone umaphmp
  $H -vv bench --suite ap --problem usaphmp --n 200 --p 2 --p 3 \
    --time-limit 60 --out $R/large89_usaphmp200_p2p3_60_alone.json > $R/large89_usaphmp200_p2p3_60_alone.log 2>&1
  ap200_600 89 3
  usahlp200_120 89
fi
