#!/usr/bin/env bash
# Issue 5, sixty-fourth pass and on (session 16): the path relaxation fixes sites open
# (shutting a chosen site would raise its bound past the incumbent).
# Run 64 (commit 7bcac9c): USApHMP AP 200 p = 10 (lane 1) beside p = 5 (lane 2), with 600 s
# and -vv (the relaxation's log next to the results).
# Usage: benchmarks/run_large_v22.sh 64
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
L=${TMPDIR:-/tmp}/hubopt_large$1
H=${HUBOPT:-hubopt}
# two USApHMP AP 200 solves with 600 s side by side, each with its -vv log:
# $1 command, $2 output prefix, $3 and $4 the lanes' p, $5 a suffix of the file names
pair_600() {
  B="$1 -vv bench --suite ap --problem usaphmp --n 200 --time-limit 600"
  for p in $3 $4; do
    $B --p $p --out $R/$2_usaphmp200_p$p${5:-}_600.json > $R/$2_usaphmp200_p$p${5:-}_600.log 2>&1 &
  done
  wait
}
if [ "$1" = 64 ]; then
  pair_600 "$H" large64 10 5
fi
# Run 65 (commit after 1bcb17f): run 64 with HubModel.sa_halvings = 8 in both lanes (PATCHED:
# a command that sets HubModel attributes from PATCH="name=value" and calls hubopt.cli.main;
# the patience was timed to allow 50 halvings of the step in the time left).
if [ "$1" = 65 ]; then
  PATCH=sa_halvings=8 pair_600 "$PATCHED" ab65 10 5 _halvings8
fi
# Run 66: the fixed-cost rows of AP 200 with 120 s (USAHLP L, T; CSAHLP LL, LT, TL, TT) with
# HubModel.sa_halvings = 8 (lane 1, PATCHED as in run 65) beside the same with 50 (lane 2).
fixed_cost_rows() {  # $1: command, $2: output prefix, $3: n, $4: seconds
  F="bench --suite ap --n $3 --time-limit $4"
  for fc in L T; do
    $1 $F --problem usahlp --fixed-cost $fc --out "$2_usahlp$3_$fc.json"
    for cap in L T; do
      $1 $F --problem csahlp --fixed-cost $fc --capacity $cap --out "$2_csahlp$3_$fc$cap.json"
    done
  done
}
if [ "$1" = 66 ]; then
  ( export PATCH=sa_halvings=8; fixed_cost_rows "$PATCHED" $R/ab66_halvings8 200 120 > "${L}_lane1.log" 2>&1 ) &
  ( fixed_cost_rows "$H" $R/large66 200 120 > "${L}_lane2.log" 2>&1 ) &
  wait
fi
# Run 67: USApHMP AP 100 p = 5, 10, 15, 20 with 60 s, HubModel.sa_halvings = 8 (lane 1)
# beside 50 (lane 2).
if [ "$1" = 67 ]; then
  P="bench --suite ap --problem usaphmp --n 100 --p 5 --p 10 --p 15 --p 20 --time-limit 60"
  PATCH=sa_halvings=8 $PATCHED $P --out $R/ab67_halvings8_usaphmp100.json > "${L}_lane1.log" 2>&1 &
  $H $P --out $R/large67_usaphmp100.json > "${L}_lane2.log" 2>&1 &
  wait
fi
# Run 68 (as run 65, HubModel.sa_halvings = 8 in both lanes): USApHMP AP 200 p = 4 (lane 1)
# beside p = 15 (lane 2), with 600 s and -vv.
if [ "$1" = 68 ]; then
  PATCH=sa_halvings=8 pair_600 "$PATCHED" ab68 4 15 _halvings8
fi
# Run 69 (as run 68): USApHMP AP 200 p = 20 with 600 s (lane 1) beside p = 4, 5, 10, 15, 20
# with 60 s (lane 2).
if [ "$1" = 69 ]; then
  export PATCH=sa_halvings=8
  B="$PATCHED bench --suite ap --problem usaphmp --n 200"
  $B --p 20 --time-limit 600 --out $R/ab69_usaphmp200_p20_halvings8_600.json > "${L}_lane1.log" 2>&1 &
  $B --p 4 --p 5 --p 10 --p 15 --p 20 --time-limit 60 --out $R/ab69_halvings8_usaphmp200_60.json > "${L}_lane2.log" 2>&1 &
  wait
fi
# Run 70: USApHMP AP 200 p = 4, 5, 10, 15, 20 with 60 s, HubModel.sa_halvings = 8 (lane 1,
# PATCHED as in run 65) beside 50 (lane 2, PATCHED too).
if [ "$1" = 70 ]; then
  P="bench --suite ap --problem usaphmp --n 200 --p 4 --p 5 --p 10 --p 15 --p 20 --time-limit 60"
  PATCH=sa_halvings=8 $PATCHED $P --out $R/ab70_halvings8_usaphmp200_60.json > "${L}_lane1.log" 2>&1 &
  PATCH=sa_halvings=50 $PATCHED $P --out $R/ab70_halvings50_usaphmp200_60.json > "${L}_lane2.log" 2>&1 &
  wait
fi
# Run 71 (committed code, 8 halvings by default): run 64 again, USApHMP AP 200 p = 10 (lane
# 1) beside p = 5 (lane 2) with 600 s and -vv (a repeat of run 65).
if [ "$1" = 71 ]; then
  pair_600 "$H" large71 10 5
fi
# Run 72 (committed code): USApHMP AP 200 p = 4 (lane 1) beside p = 10 (lane 2) with 600 s
# and -vv (run 68's p = 4 ran alone after 220 s).
if [ "$1" = 72 ]; then
  pair_600 "$H" large72 4 10
fi
# Run 73 (committed code): USApHMP AP 100 p = 5 with 600 s and -vv (lane 1; 0.11-0.22 % in
# runs 16-22) beside CSAHLP AP 200 LT with 600 s (lane 2; runs 47 and 63: 0.86 / 1.49 %).
if [ "$1" = 73 ]; then
  $H -vv bench --suite ap --problem usaphmp --n 100 --p 5 --time-limit 600 --out $R/large73_usaphmp100_p5_600.json > $R/large73_usaphmp100_p5_600.log 2>&1 &
  $H bench --suite ap --n 200 --time-limit 600 --problem csahlp --fixed-cost L --capacity T --out $R/large73_csahlp200_LT_600.json > "${L}_lane2.log" 2>&1 &
  wait
fi
