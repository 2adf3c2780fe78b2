#!/usr/bin/env bash
# One process vs two torchrun processes (gloo, CPU) on the same global batch, for three training
# commands at small sizes; writes experiments/scaleout/agreement.json (largest loss and weight gaps).
# Usage: bash experiments/scaleout/run.sh [work dir]   (about 2 minutes of CPU)
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${1:-runs/scaleout}
rm -rf "$WORK" && mkdir -p "$WORK"
export OMP_NUM_THREADS=1
PY=.venv/bin/python
two() { nice -n 10 $PY -m torch.distributed.run --standalone --nproc_per_node=2 -m neurovision.cli "$@" --distributed; }
one() { nice -n 10 $PY -m neurovision.cli "$@"; }

TASK=(train task --task perceptual-decision-making --units 16 --train-steps 6 --batch-size 8 --lr 0.01 --noise 0
      --eval-trials 20 --quiet)
one "${TASK[@]}" --out "$WORK/task-1"
two "${TASK[@]}" --out "$WORK/task-2"

CORDS=(train cordsnet --dataset cifar10-subset --depth 2 --image-size 16 --train-limit 32 --eval-limit 8
       --protocol-steps image:6,return:4,ce:3,penalty:2 --cnn-epochs 1 --cnn-batch-size 16 --fit-train-steps 2
       --fit-batch-size 8 --linear-train-steps 3 --linear-batch-size 8 --linear-lr 1e-3 --quiet)
one "${CORDS[@]}" --stages cnn --out "$WORK/cordsnet-1"
mkdir -p "$WORK/cordsnet-2" && cp "$WORK/cordsnet-1/cnn.pt" "$WORK/cordsnet-1/metrics.json" "$WORK/cordsnet-2/"
one "${CORDS[@]}" --stages fit,linear --out "$WORK/cordsnet-1"
two "${CORDS[@]}" --stages fit,linear --out "$WORK/cordsnet-2"

DCN=(train dcn small-data --variants resnet-blocks --train-per-class 4 --repeats 1 --epochs 1 --batch-size 10 --test-per-class 3
     --no-augment)
one "${DCN[@]}" --out "$WORK/dcn-1"
two "${DCN[@]}" --out "$WORK/dcn-2"

nice -n 10 $PY experiments/scaleout/agreement.py "$WORK" experiments/scaleout/agreement.json
