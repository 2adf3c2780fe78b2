#!/bin/sh
# DCN with one scale per filter (sigma^ji, Fig. 3b) on the small-data setting of small_data.sh
# (k = 128 CIFAR-10 images per class, seed 0, 6 epochs, batch 32, one RK4 step per block), then
# the learned-scale figure and statistics (skewness, log-normal fit and its KS test per block)
# next to DCN-ODE's. Run from the repository root.
set -e
export OMP_NUM_THREADS=1
nice -n 10 .venv/bin/python -m neurovision train dcn small-data --variants dcn-sigma-ji --train-per-class 128 --repeats 1 --seed 0 \
  --epochs 6 --batch-size 32 --lr 0.1 --method rk4 --solver-steps 1 --test-per-class 200 --out experiments/tomen2021_dcn/small_data
.venv/bin/python -m neurovision analyze scales \
  --models experiments/tomen2021_dcn/small_data/dcn-ode-k128-seed0.pt,experiments/tomen2021_dcn/small_data/dcn-sigma-ji-k128-seed0.pt \
  --out experiments/tomen2021_dcn/scales
