#!/bin/sh
# Accuracy analyses of the seed-0 small-data networks (k = 128) with the solver they were trained
# with (one RK4 step per block), on 20 test images per class; figures.sh uses dopri5 for the NFE
# and D(t) curves, where these briefly trained networks are near chance.
#  * contrast: accuracy against c, naive and with block 1 integrated over T^ = c T (the paper's
#    accuracy experiment, Fig. 5 top);
#  * pattern completion: accuracy against the size of a centred mask (Fig. 3c).
set -e
export OMP_NUM_THREADS=1
run="nice -n 10 .venv/bin/python -m neurovision analyze"
m=experiments/tomen2021_dcn/small_data
$run contrast --models $m/dcn-ode-k128-seed0.pt,$m/odenet-k128-seed0.pt --contrasts 0.06,0.1,0.3,0.6,1 \
  --rescaled-blocks 1 --method rk4 --solver-steps 1 --test-per-class 20 --out experiments/tomen2021_dcn/contrast_rk4
$run pattern-completion --models $m/dcn-ode-k128-seed0.pt,$m/odenet-k128-seed0.pt,$m/resnet-blocks-k128-seed0.pt \
  --mask 6 --sizes 0,4,8,12 --points 3 --method rk4 --solver-steps 1 --test-per-class 20 \
  --out experiments/tomen2021_dcn/pattern_completion_rk4
