#!/bin/sh
# Reduced-scale Pathfinder comparison (Linsley et al. 2020, supplement): hGRU with 12 channels and
# 7x7 horizontal kernels on 32x32 px Pathfinder with 4-dash contours, 20000 training images.
# BPTT: 6 steps, 8 epochs. C-RBP (LCP weight 10, lambda 0.9): 20 steps with 10 Neumann terms,
# 8 epochs (the supplement trains C-RBP hGRUs for 40 steps). Both evaluated at every step up to
# 60 on 1000 test images.
# Usage: sh experiments/linsley2020_crbp/pathfinder_runs.sh bptt|c-rbp [cell]
set -e
ALGO=$1
CELL=${2:-hgru}
case $ALGO in bptt) STEPS=6; TERMS=8; EPOCHS=8 ;; *) STEPS=20; TERMS=10; EPOCHS=8 ;; esac
.venv/bin/python -m neurovision train recurrent pathfinder --cell "$CELL" --algorithm "$ALGO" \
  --recurrent-steps $STEPS --terms $TERMS --channels 12 --kernel 7 --length 4 --size 32 --n-train 20000 --n-test 1000 \
  --epochs $EPOCHS --lr 2e-3 --eval-recurrent-steps 60 --cache runs/cache --out "experiments/linsley2020_crbp/pathfinder/$CELL-$ALGO"
