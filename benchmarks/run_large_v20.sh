#!/usr/bin/env bash
# Issue 5, forty-first pass and on (session 14): the single-allocation Lagrangian's route
# pricing buckets the last hubs by cost and skips first hubs by the triangle inequality
# (about three times faster per call at AP 200).
# Run 41 (commit 2c0783a): USApHMP AP 200 p = 10 beside p = 15, with 600 s.
# Usage: benchmarks/run_large_v20.sh 41
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
L=${TMPDIR:-/tmp}/hubopt_large$1
B="$H bench --suite ap --problem usaphmp"
if [ "$1" = 41 ]; then
  $B --n 200 --p 10 --time-limit 600 --out $R/large41_usaphmp200_p10_600.json > "${L}_lane1.log" 2>&1 &
  $B --n 200 --p 15 --time-limit 600 --out $R/large41_usaphmp200_p15_600.json > "${L}_lane2.log" 2>&1 &
  wait
fi
# Run 42 (commit after 2c0783a with the nodes' debug log, the same solver): USApHMP
# AP 200 p = 10 (with -vv, its log kept as `results/large42_usaphmp200_p10_600.log`)
# beside p = 20, with 600 s.
if [ "$1" = 42 ]; then
  $H -vv bench --suite ap --problem usaphmp --n 200 --p 10 --time-limit 600 --out $R/large42_usaphmp200_p10_600.json > "${L}_lane1.log" 2>&1 &
  $B --n 200 --p 20 --time-limit 600 --out $R/large42_usaphmp200_p20_600.json > "${L}_lane2.log" 2>&1 &
  wait
fi
# Run 43 (the root re-times its patience every 100 iterations): USApHMP AP 200 p = 10
# (with -vv, log in `results/large43_usaphmp200_p10_600.log`) beside p = 15, with 600 s.
if [ "$1" = 43 ]; then
  $H -vv bench --suite ap --problem usaphmp --n 200 --p 10 --time-limit 600 --out $R/large43_usaphmp200_p10_600.json > "${L}_lane1.log" 2>&1 &
  $B --n 200 --p 15 --time-limit 600 --out $R/large43_usaphmp200_p15_600.json > "${L}_lane2.log" 2>&1 &
  wait
fi
# Run 44 (the code of run 43): the 60-s USApHMP rows, AP 200 p = 10, 15, 20 (lane 1) and
# AP 100 p = 5, 10, 15, 20 (lane 2), as run 33.
if [ "$1" = 44 ]; then
  ( $B --n 200 --p 10 --p 15 --p 20 --time-limit 60 --out $R/large44_usaphmp200_60.json > "${L}_lane1.log" 2>&1 ) &
  ( $B --n 100 --p 5 --p 10 --p 15 --p 20 --time-limit 60 --out $R/large44_usaphmp100_60.json > "${L}_lane2.log" 2>&1 ) &
  wait
fi
# Run 45 (the code of run 43, 120 s): the fixed-cost rows USAHLP AP 200 L/T and CSAHLP
# AP 200 LL/LT/TL/TT (`results/large45_*`), beside the code at the start of this session
# (66ee5d4) in a second checkout named by OLD (`results/ab45_*`).
if [ "$1" = 45 ]; then
  F="$H bench --suite ap --n 200 --time-limit 120"
  run45() {  # $1: output prefix
    for fc in L T; do
      $F --problem usahlp --fixed-cost $fc --out "$1_usahlp200_$fc.json"
    done
    for fc in L T; do for cap in L T; do
      $F --problem csahlp --fixed-cost $fc --capacity $cap --out "$1_csahlp200_$fc$cap.json"
    done; done
  }
  # (`python -m hubopt` imports the package of its working directory first: the old
  # lane runs from OLD and writes here)
  HERE=$(pwd)
  ( run45 $R/large45 > "${L}_lane1.log" 2>&1 ) &
  ( cd "$OLD" && export PYTHONPATH=$OLD && run45 "$HERE/$R/ab45" > "${L}_lane2.log" 2>&1 ) &
  wait
fi
# Run 46 (USApHMP beyond n = 150 takes the relaxation for any p below 600 s and from
# 2.5 % of n hubs with 600 s): AP 200 p = 4, 5 with 60 s, then p = 4 with 600 s (Benders
# and its screening, as before) in lane 1, beside p = 5 with 600 s (now the relaxation).
if [ "$1" = 46 ]; then
  ( $B --n 200 --p 4 --p 5 --time-limit 60 --out $R/large46_usaphmp200_p4_p5_60.json > "${L}_lane1.log" 2>&1
    $B --n 200 --p 4 --time-limit 600 --out $R/large46_usaphmp200_p4_600.json >> "${L}_lane1.log" 2>&1 ) &
  $B --n 200 --p 5 --time-limit 600 --out $R/large46_usaphmp200_p5_600.json > "${L}_lane2.log" 2>&1 &
  wait
fi
# Run 47 (the code of run 46): USAHLP AP 200 T beside CSAHLP AP 200 LT, with 600 s (run
# 34 before the faster route pricing: 0.047 % and 2.10 %).
if [ "$1" = 47 ]; then
  F="$H bench --suite ap --n 200 --time-limit 600"
  $F --problem usahlp --fixed-cost T --out $R/large47_usahlp200_T_600.json > "${L}_lane1.log" 2>&1 &
  $F --problem csahlp --fixed-cost L --capacity T --out $R/large47_csahlp200_LT_600.json > "${L}_lane2.log" 2>&1 &
  wait
fi
# Run 48 (commit 67eea79), as two single commands: USApHMP AP 200 p = 10 with 600 s and
# -vv (`results/large48_usaphmp200_p10_600.{json,log}`) beside the same with
# HubModel.sa_node_iterations = 1000 set before the command line's main
# (`results/ab48_usaphmp200_p10_node1000_600.{json,log}`).
