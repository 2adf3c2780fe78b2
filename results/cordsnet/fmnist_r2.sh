#!/bin/sh
# CordsNet-R2 on Fashion-MNIST (28 px, native size), one CPU thread per process:
#   sh results/cordsnet/fmnist_r2.sh pipeline   the whole initialisation pipeline (runs/fmnist-r2c)
#   sh results/cordsnet/fmnist_r2.sh direct     the direct-training control (C), same optimiser
#                                               budget as fine-tuning (runs/fmnist-r2c-direct)
# Running a part again resumes it; metrics land in <out>/metrics.json.
set -e
COMMON="--dataset fashion-mnist --depth 2 --augment none --eval-limit 2000 --quiet"
run() { OMP_NUM_THREADS=1 .venv/bin/python -m neurovision train-cordsnet $COMMON "$@"; }
case $1 in
  pipeline) run --out runs/fmnist-r2c --cnn-epochs 16 --fit-epochs 2 \
      --linear-steps 120 --linear-batch-size 32 --anneal-levels 20 --anneal-steps 15 --anneal-batch-size 32 \
      --finetune-steps 150 --finetune-batch-size 32 ;;
  direct) run --out runs/fmnist-r2c-direct --stages direct --direct-steps 150 --direct-batch-size 32 ;;
  *) echo "usage: $0 pipeline|direct" >&2; exit 2 ;;
esac
