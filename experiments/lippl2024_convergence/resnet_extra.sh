#!/bin/sh
# Reduced-scale runs beyond the lambda sweep: spectral normalisation (ICR, PCR; mu = 0.95) on the
# CIFAR-10 subset, and ordinary vs fully coupled ResNets on Fashion-MNIST and Digitclutter-3.
# Same sizes as resnet_sweep.sh.
# Usage: sh experiments/lippl2024_convergence/resnet_extra.sh normalised|datasets
set -e
OUT=experiments/lippl2024_convergence/resnet
COMMON="--width 8 --blocks 4 --epochs 4 --n-train 5000 --n-eval 500"
run() { .venv/bin/python -m neurovision train recurrent resnet $COMMON "$@"; }
if [ "$1" = normalised ]; then
  run --dataset cifar10-subset --variant icr --coupling 0 --out "$OUT/icr-nonrec-lambda0"
  run --dataset cifar10-subset --variant icr --coupling 1 --out "$OUT/icr-rec-lambda1"
  run --dataset cifar10-subset --variant pcr --coupling 1 --out "$OUT/pcr-rec-lambda1"
else
  run --dataset fashion-mnist --variant standard --coupling 0 --out "$OUT/fashion-standard-nonrec-lambda0"
  run --dataset fashion-mnist --variant standard --coupling 1 --out "$OUT/fashion-standard-rec-lambda1"
  run --dataset digitclutter-3 --variant standard --coupling 0 --out "$OUT/digitclutter3-standard-nonrec-lambda0"
  run --dataset digitclutter-3 --variant standard --coupling 1 --out "$OUT/digitclutter3-standard-rec-lambda1"
fi
