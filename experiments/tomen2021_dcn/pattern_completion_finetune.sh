#!/bin/sh
# The k = 1,000 DCN-ODE of pattern_completion_k1000.sh was trained with one RK4 step per block:
# it learned that discrete map, not an ODE (under dopri5 it falls from 49 % to 24.5 %), so its
# feature maps between t = 0 and T are not the ODE's trajectory. Here it is fine-tuned on the
# 10,000 subset images with solvers that follow the ODE - four RK4 steps per block (2 epochs) and
# the paper's dopri5 (rtol = atol = 1e-3, 1 epoch) - at lr 0.02 * 32 / 128, and D(t) is measured
# in ODE block 1 with each network's own solver, over the whole map and the mask's footprint,
# for the 6 x 6 px mask of the paper's figures and the 14 x 14 px mask of the authors' script.
# The fine-tuned networks are kept as $out/rk4x4.pt and $out/dopri5.pt.
# Training took 45 (RK4) and 51 (dopri5) minutes side by side, one thread each. Run from the repository root.
set -e
export OMP_NUM_THREADS=1
init=experiments/tomen2021_dcn/pattern_completion_k1000/dcn-ode-k1000-seed0.pt
out=experiments/tomen2021_dcn/pattern_completion_finetune
common="--variant dcn-ode --init $init --batch-size 32 --lr 0.02 --test-per-class 200"
.venv/bin/python -m neurovision train dcn classify $common --epochs 2 --method rk4 --solver-steps 4 --out runs/dcn-ft-rk4 &
.venv/bin/python -m neurovision train dcn classify $common --epochs 1 --method dopri5 --out runs/dcn-ft-dopri5 &
wait
mkdir -p $out
for run in rk4 dopri5; do
  name=$([ $run = rk4 ] && echo rk4x4 || echo dopri5)
  cp runs/dcn-ft-$run/dcn-ode-seed0.json $out/$name.json
  cp runs/dcn-ft-$run/dcn-ode-seed0.pt $out/$name.pt
done
for region in map mask; do
  for mask in 6 14; do
    .venv/bin/python -m neurovision analyze pattern-completion --models runs/dcn-ft-rk4/dcn-ode-seed0.pt --mask $mask \
      --sizes 0,6,14 --points 9 --method rk4 --solver-steps 4 --region $region --test-per-class 20 --out $out/rk4x4-$region-$mask
    .venv/bin/python -m neurovision analyze pattern-completion --models runs/dcn-ft-dopri5/dcn-ode-seed0.pt --mask $mask \
      --sizes 0,6,14 --points 9 --method dopri5 --region $region --test-per-class 20 --out $out/dopri5-$region-$mask
  done
done
