#!/bin/sh
# Fig. 4B: the shipped CordsNet-R2 (Fashion-MNIST) fine-tuned for 150 batches of 32 to classify
# early (cross-entropy on image steps 11-20, 22-40 ms after onset) or late (steps 71-100, the
# paper's protocol), then its response overshoot and recurrent spectra compared.
set -e
export OMP_NUM_THREADS=1
.venv/bin/python -m neurovision analyze early-late --model cordsnet-r2-fmnist --dataset fashion-mnist \
  --early 20,10 --train-steps 150 --batch-size 32 --lr 1e-4 --n-test 500 --out experiments/soo2024_cordsnet/early_late
