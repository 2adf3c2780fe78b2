#!/bin/sh
# Reduced-scale sweep of Lippl et al. (2024): indices vs soft gradient coupling and spectral
# normalisation on the CIFAR-10 subset (width 8, 3 stages x 4 blocks, 4 epochs, 5k images).
# Usage: sh experiments/lippl2024_convergence/resnet_sweep.sh standard|icr
set -e
VARIANT=$1
OUT=experiments/lippl2024_convergence/resnet
COMMON="--dataset cifar10-subset --width 8 --blocks 4 --epochs 4 --n-train 5000 --n-eval 500"
run() { .venv/bin/python -m neurovision train recurrent resnet $COMMON --variant "$VARIANT" "$@"; }
run --coupling 0 --out "$OUT/$VARIANT-nonrec-lambda0"
run --coupling 0 --recurrent-init --out "$OUT/$VARIANT-rec-lambda0"
run --coupling 0.5 --out "$OUT/$VARIANT-rec-lambda0.5"
run --coupling 0.9 --out "$OUT/$VARIANT-rec-lambda0.9"
run --coupling 1 --out "$OUT/$VARIANT-rec-lambda1"
