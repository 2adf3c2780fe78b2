#!/bin/sh
# BPTT vs C-RBP beyond the training horizon on Fashion-MNIST (the Pathfinder recurrent classifier:
# hGRU, 8 channels, 5x5 kernels, Gabor energy encoder), 6000 training images, 2 epochs; BPTT
# trained for 6 steps, C-RBP (15 Neumann terms, LCP weight 10, lambda 0.9) for 30 steps; both
# evaluated at every step up to 90 on 1000 test images.
# Usage: sh experiments/linsley2020_crbp/fashion_runs.sh bptt|c-rbp [cell]
set -e
ALGO=$1
CELL=${2:-hgru}
case $ALGO in bptt) STEPS=6 ;; *) STEPS=30 ;; esac
.venv/bin/python -m neurovision train recurrent pathfinder --dataset fashion-mnist --cell "$CELL" \
  --algorithm "$ALGO" --recurrent-steps $STEPS --terms 15 --channels 8 --kernel 5 --n-train 6000 --n-test 1000 \
  --epochs 2 --lr 2e-3 --eval-recurrent-steps 90 --out "experiments/linsley2020_crbp/fashion/$CELL-$ALGO"
