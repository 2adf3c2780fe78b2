#!/bin/sh
# Reduced-scale Pathfinder comparison (Linsley et al. 2020, supplement): hGRU with 8 channels and
# 5x5 horizontal kernels on 32x32 px Pathfinder with 4-dash contours, 4000 training images,
# 5 epochs; BPTT trained for 6 steps, C-RBP (6 Neumann terms, LCP weight 10, lambda 0.9) for 8
# steps; both evaluated at every step up to 60 on 1000 test images.
# Usage: sh results/convergence/pathfinder_runs.sh bptt|c-rbp [cell]
set -e
ALGO=$1
CELL=${2:-hgru}
case $ALGO in bptt) STEPS=6; TERMS=8 ;; *) STEPS=8; TERMS=6 ;; esac
nice -n 10 .venv/bin/python -m neurovision convergence pathfinder --cell "$CELL" --algorithm "$ALGO" \
  --steps $STEPS --terms $TERMS --channels 8 --kernel 5 --length 4 --size 32 --n-train 4000 --n-test 1000 \
  --epochs 5 --lr 2e-3 --eval-steps 60 --cache runs/cache --out "results/convergence/pathfinder/$CELL-$ALGO"
