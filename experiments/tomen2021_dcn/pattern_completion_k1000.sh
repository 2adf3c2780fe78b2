#!/bin/sh
# A longer-trained DCN-ODE for the pattern-completion measurement: all 1,000 training images per
# class of the CIFAR-10 subset, 8 epochs (batch 32, lr 0.1 * 32 / 128, x0.1 at 40 % and 70 %,
# one RK4 step per block), tested on 200 images per class (51.9 %); then D(t) in ODE block 1 with
# the training solver, summed over the whole map and over the 6 x 6 mask's footprint.
# About 55 CPU-minutes for the training on one thread. Run from the repository root.
set -e
export OMP_NUM_THREADS=1
out=experiments/tomen2021_dcn/pattern_completion_k1000
.venv/bin/python -m neurovision train dcn small-data --variants dcn-ode --train-per-class 1000 --repeats 1 --seed 0 --epochs 8 \
  --batch-size 32 --lr 0.1 --method rk4 --solver-steps 1 --test-per-class 200 --out runs/dcn-long
cp runs/dcn-long/dcn-ode-k1000-seed0.pt runs/dcn-long/dcn-ode-k1000-seed0.json $out/
for region in map mask; do
  .venv/bin/python -m neurovision analyze pattern-completion --models $out/dcn-ode-k1000-seed0.pt --mask 6 \
    --sizes 0,4,8,12 --points 3 --method rk4 --solver-steps 1 --region $region --test-per-class 20 --out $out/$region
done
