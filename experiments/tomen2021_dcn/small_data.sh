#!/bin/sh
# Small-data regime (Table 2 analogue) at reduced scale: DCN-ODE, ODE-Net and ResNet-blocks trained
# on k = 128, 16, 64 CIFAR-10 images per class (cifar10-subset), seeds 0-2, tested on 200 test
# images per class. 6 epochs, batch 32, lr 0.1 * 32 / 128, one RK4 step per ODE block.
# Finished runs (experiments/tomen2021_dcn/small_data/<variant>-k<k>-seed<s>.json) are skipped; an interrupted
# run resumes from its .ckpt. Run from the repository root.
# Paper scale: --epochs 100 --batch-size 128 --method dopri5 --test-per-class 1000
#   --train-per-class 2,4,8,16,32,64,128,256,512,1024 (torchdiffeq dopri5, rtol = atol = 1e-3).
set -e
export OMP_NUM_THREADS=1
nice -n 10 .venv/bin/python -m neurovision train dcn small-data --variants dcn-ode,odenet,resnet-blocks \
  --train-per-class 128,16,64 --repeats 3 --seed 0 --epochs 6 --batch-size 32 --lr 0.1 --method rk4 --solver-steps 1 \
  --test-per-class 200 --out experiments/tomen2021_dcn/small_data
.venv/bin/python -m neurovision analyze small-data-table --runs experiments/tomen2021_dcn/small_data --out experiments/tomen2021_dcn/small_data.json
