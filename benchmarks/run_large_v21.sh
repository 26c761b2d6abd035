#!/usr/bin/env bash
# Issue 5, forty-ninth pass and on (session 15): the path formulation's Lagrangian
# relaxation in its multiple-allocation form bounds UMApHMP (p < 7.5 % of n) and UMAHLP
# between 150 and 250 nodes on limits below 600 s.
# Run 49 (commit e66eb5a): UMApHMP AP 200 p = 4, 5, 10 with 60 s (lane 1) beside UMAHLP
# AP 200 L and T with 120 s (lane 2).
# Run 50 (the same code): UMApHMP AP 200 p = 15, 20 with 60 s, Benders as `auto` takes
# it (lane 1), beside the same with the multiple-allocation Lagrangian bound (lane 2:
# HubModel.ma_lagrangian_max_hub_share = 0.11 set before the command line's main, via
# the command named by PATCHED, e.g. a script that sets it and calls hubopt.cli.main).
# Usage: benchmarks/run_large_v21.sh 49
set -euo pipefail
cd "$(dirname "$0")/.."
R=benchmarks/results
H=${HUBOPT:-hubopt}
L=${TMPDIR:-/tmp}/hubopt_large$1
if [ "$1" = 49 ]; then
  $H bench --suite ap --problem umaphmp --n 200 --p 4 --p 5 --p 10 --time-limit 60 --out $R/large49_umaphmp200_60.json > "${L}_lane1.log" 2>&1 &
  ( for fc in L T; do
      $H bench --suite ap --problem umahlp --n 200 --fixed-cost $fc --time-limit 120 --out $R/large49_umahlp200_$fc.json
    done > "${L}_lane2.log" 2>&1 ) &
  wait
fi
if [ "$1" = 50 ]; then
  $H bench --suite ap --problem umaphmp --n 200 --p 15 --p 20 --time-limit 60 --out $R/large50_umaphmp200_p15_p20_60.json > "${L}_lane1.log" 2>&1 &
  PATCH=ma_lagrangian_max_hub_share=0.11 $PATCHED bench --suite ap --problem umaphmp --n 200 --p 15 --p 20 --time-limit 60 --out $R/ab50_umaphmp200_p15_p20_ma_60.json > "${L}_lane2.log" 2>&1 &
  wait
fi
# Run 51 (the root's subproblem hubs go to the swap descent after every leg): UMApHMP AP
# 200 p = 15, 20 with 60 s and the multiple-allocation Lagrangian bound (lane 1, PATCHED
# as in run 50) beside p = 4, 5 as `auto` takes them (lane 2).
if [ "$1" = 51 ]; then
  PATCH=ma_lagrangian_max_hub_share=0.11 $PATCHED bench --suite ap --problem umaphmp --n 200 --p 15 --p 20 --time-limit 60 --out $R/ab51_umaphmp200_p15_p20_ma_60.json > "${L}_lane1.log" 2>&1 &
  $H bench --suite ap --problem umaphmp --n 200 --p 4 --p 5 --time-limit 60 --out $R/large51_umaphmp200_p4_p5_60.json > "${L}_lane2.log" 2>&1 &
  wait
fi
# Run 52 (UMApHMP takes the multiple-allocation Lagrangian bound below 10 % of n hubs):
# UMApHMP AP 200 p = 15 (lane 1) beside p = 10 (lane 2), with 60 s.
if [ "$1" = 52 ]; then
  $H bench --suite ap --problem umaphmp --n 200 --p 15 --time-limit 60 --out $R/large52_umaphmp200_p15_60.json > "${L}_lane1.log" 2>&1 &
  $H bench --suite ap --problem umaphmp --n 200 --p 10 --time-limit 60 --out $R/large52_umaphmp200_p10_60.json > "${L}_lane2.log" 2>&1 &
  wait
fi
# Run 53 (commit 77c304d: USAHLP and CSAHLP beyond 150 nodes skipped Benders'
# multiple-allocation bound with long limits too; reverted after this run): USAHLP AP 200
# T beside CSAHLP AP 200 LT, with 600 s, as run 47.  Both ended worse than in run 47
# (0.17 % against 0.00004 %, 3.29 % against 0.86 %), so the change was reverted.
# USAHLP AP 200 T (lane 1) beside CSAHLP AP 200 LT (lane 2), with 600 s; $1: the run
fixed_cost_600() {
  F="$H bench --suite ap --n 200 --time-limit 600"
  $F --problem usahlp --fixed-cost T --out $R/large$1_usahlp200_T_600.json > "${L}_lane1.log" 2>&1 &
  $F --problem csahlp --fixed-cost L --capacity T --out $R/large$1_csahlp200_LT_600.json > "${L}_lane2.log" 2>&1 &
  wait
}
if [ "$1" = 53 ]; then
  fixed_cost_600 53
fi
# Run 54 (commit e2a3f2f with `plan_seconds`, reverted after this run: the patched
# lane ended within 0.480 %, the plain one within 0.303 %): USApHMP AP 200 p = 10 with 600 s and
# -vv, as `auto` takes it (lane 1, `results/large54_usaphmp200_p10_600.{json,log}`), beside
# the same with HubModel.sa_plan_seconds = 300 (lane 2, PATCHED as in run 50,
# `results/ab54_usaphmp200_p10_plan300_600.{json,log}`).
if [ "$1" = 54 ]; then
  $H -vv bench --suite ap --problem usaphmp --n 200 --p 10 --time-limit 600 --out $R/large54_usaphmp200_p10_600.json > $R/large54_usaphmp200_p10_600.log 2>&1 &
  PATCH=sa_plan_seconds=300 $PATCHED -vv bench --suite ap --problem usaphmp --n 200 --p 10 --time-limit 600 --out $R/ab54_usaphmp200_p10_plan300_600.json > $R/ab54_usaphmp200_p10_plan300_600.log 2>&1 &
  wait
fi
# Run 55 (HubModel.sa_min_patience): USApHMP AP 200 p = 10 with 600 s and -vv, as `auto`
# takes it (lane 1, patience floor 30), beside the same with HubModel.sa_min_patience = 60
# (lane 2, PATCHED as in run 50).
if [ "$1" = 55 ]; then
  $H -vv bench --suite ap --problem usaphmp --n 200 --p 10 --time-limit 600 --out $R/large55_usaphmp200_p10_600.json > $R/large55_usaphmp200_p10_600.log 2>&1 &
  PATCH=sa_min_patience=60 $PATCHED -vv bench --suite ap --problem usaphmp --n 200 --p 10 --time-limit 600 --out $R/ab55_usaphmp200_p10_patience60_600.json > $R/ab55_usaphmp200_p10_patience60_600.log 2>&1 &
  wait
fi
# Run 56 (as run 55): USApHMP AP 200 p = 4, 5, 10, 15, 20 with 60 s as `auto` takes them
# (lane 1), beside the same with HubModel.sa_min_patience = 60 (lane 2).
if [ "$1" = 56 ]; then
  P="--suite ap --problem usaphmp --n 200 --p 4 --p 5 --p 10 --p 15 --p 20 --time-limit 60"
  $H bench $P --out $R/large56_usaphmp200_60.json > "${L}_lane1.log" 2>&1 &
  PATCH=sa_min_patience=60 $PATCHED bench $P --out $R/ab56_usaphmp200_patience60_60.json > "${L}_lane2.log" 2>&1 &
  wait
fi
# Run 58 (the patience floor is 60 from 600 s of limit): USApHMP AP 200 p = 15 (lane 1)
# beside p = 20 (lane 2), with 600 s (runs 41-43: proven in 189-229 / 241-286 s).
if [ "$1" = 58 ]; then
  B="$H bench --suite ap --problem usaphmp --n 200 --time-limit 600"
  $B --p 15 --out $R/large58_usaphmp200_p15_600.json > "${L}_lane1.log" 2>&1 &
  $B --p 20 --out $R/large58_usaphmp200_p20_600.json > "${L}_lane2.log" 2>&1 &
  wait
fi
# Run 59 (as run 58): USApHMP AP 200 p = 5 (lane 1, the relaxation on all sites) beside
# p = 4 (lane 2, Benders and its screening first), with 600 s (run 46: 0.611 / 0.101 %).
if [ "$1" = 59 ]; then
  B="$H bench --suite ap --problem usaphmp --n 200 --time-limit 600"
  $B --p 5 --out $R/large59_usaphmp200_p5_600.json > "${L}_lane1.log" 2>&1 &
  $B --p 4 --out $R/large59_usaphmp200_p4_600.json > "${L}_lane2.log" 2>&1 &
  wait
fi
# Run 60 (as run 58): USApHMP AP 200 p = 4 with 600 s and the relaxation on all sites
# (lane 1: HubModel.sa_lagrangian_min_hub_share = 0.02, PATCHED as in run 50, instead of
# Benders and its screening) beside USAHLP AP 200 T with 600 s (lane 2; run 47: 0.00004 %
# with the patience floor of 30).
if [ "$1" = 60 ]; then
  PATCH=sa_lagrangian_min_hub_share=0.02 $PATCHED bench --suite ap --problem usaphmp --n 200 --p 4 --time-limit 600 --out $R/ab60_usaphmp200_p4_relaxation_600.json > "${L}_lane1.log" 2>&1 &
  $H bench --suite ap --n 200 --time-limit 600 --problem usahlp --fixed-cost T --out $R/large60_usahlp200_T_600.json > "${L}_lane2.log" 2>&1 &
  wait
fi
# Runs 61 and 62 (commit 275e696): the fixed-cost rows with 120 s as `auto` takes them
# (lane 1, the relaxation starts from half the access costs), beside the same with
# HubModel.sa_fixed_cost_start_share = 0.25 (lane 2, PATCHED as in run 50).  Run 61:
# USAHLP AP 200 L, CSAHLP AP 200 LL and LT; run 62: USAHLP T, CSAHLP TL and TT.
start_share() {  # $1: command, $2: output prefix, $3: fixed-cost type
  F="bench --suite ap --n 200 --time-limit 120"
  $1 $F --problem usahlp --fixed-cost $3 --out "$2_usahlp200_$3.json"
  for cap in L T; do
    $1 $F --problem csahlp --fixed-cost $3 --capacity $cap --out "$2_csahlp200_$3$cap.json"
  done
}
if [ "$1" = 61 ] || [ "$1" = 62 ]; then
  fc=$([ "$1" = 61 ] && echo L || echo T)
  ( start_share "$H" $R/large$1 $fc > "${L}_lane1.log" 2>&1 ) &
  ( export PATCH=sa_fixed_cost_start_share=0.25; start_share "$PATCHED" $R/ab$1_start025 $fc > "${L}_lane2.log" 2>&1 ) &
  wait
fi
# Run 63 (commit 4e23709, the fixed-cost relaxation from a quarter of the access costs):
# USAHLP AP 200 T beside CSAHLP AP 200 LT, with 600 s, as run 47.
if [ "$1" = 63 ]; then
  fixed_cost_600 63
fi
