#!/bin/sh
# Reconstruction (Table 3 analogue) at reduced scale: decoders on the frozen block-3 features of
# the seed-0 k = 128 small-data networks, trained on k = 128 images per class for 3 epochs
# (batch 32, one RK4 step per ODE block), one decoder per encoder, tested on 20 images per class.
# Paper scale: encoders trained on all of CIFAR-10, --epochs 100 --batch-size 128 --method dopri5
#   --adjoint --repeats 3 --test-per-class 1000.
set -e
export OMP_NUM_THREADS=1
m=experiments/tomen2021_dcn/small_data
nice -n 10 .venv/bin/python -m neurovision train dcn reconstruct \
  --encoders $m/resnet-blocks-k128-seed0.pt,$m/odenet-k128-seed0.pt,$m/dcn-ode-k128-seed0.pt \
  --train-per-class 128 --repeats 1 --epochs 3 --batch-size 32 --method rk4 --solver-steps 1 --test-per-class 20 \
  --out experiments/tomen2021_dcn/reconstruction
