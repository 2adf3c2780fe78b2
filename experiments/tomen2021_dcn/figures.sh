#!/bin/sh
# Analyses of the seed-0 networks of the small-data runs (k = 128, 6 epochs, RK4 training), solved
# with dopri5 (rtol = atol = 1e-3) as in the paper, on 5 test images per class:
#  * contrast: accuracy and NFE per block against input contrast c, naive and with T^ = c T;
#  * pattern completion: D(t) in ODE block 1 for a centred 6x6 mask, accuracy against mask size;
#  * scales: learned sigma per SRF layer against depth.
# Paper scale: networks trained for 100 epochs on all of CIFAR-10 and --test-per-class 1000.
set -e
export OMP_NUM_THREADS=1
run="nice -n 10 .venv/bin/python -m neurovision analyze"
m=experiments/tomen2021_dcn/small_data
$run contrast --models $m/dcn-ode-k128-seed0.pt,$m/odenet-k128-seed0.pt --contrasts 0.06,0.1,0.3,0.6,1 \
  --rescaled-blocks 3 --test-per-class 5 --out experiments/tomen2021_dcn/contrast
$run pattern-completion --models $m/dcn-ode-k128-seed0.pt,$m/odenet-k128-seed0.pt,$m/resnet-blocks-k128-seed0.pt \
  --mask 6 --sizes 0,4,8,12 --points 11 --test-per-class 5 --out experiments/tomen2021_dcn/pattern_completion
$run scales --models $m/dcn-ode-k128-seed0.pt --out experiments/tomen2021_dcn/scales
