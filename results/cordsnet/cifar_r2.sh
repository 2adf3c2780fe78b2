#!/bin/sh
# CordsNet-R2 on the CIFAR-10 subset (1,000 training images per class, 32 px), one CPU thread
# per process:
#   sh results/cordsnet/cifar_r2.sh pipeline    the whole initialisation pipeline (runs/cifar-r2)
#   sh results/cordsnet/cifar_r2.sh direct      the direct-training control (C), same optimiser
#                                               budget as fine-tuning (runs/cifar-r2-direct)
# Running a part again resumes it; metrics land in <out>/metrics.json.
set -e
COMMON="--dataset cifar10-subset --depth 2 --augment light --eval-limit 1000 --quiet"
run() { OMP_NUM_THREADS=1 .venv/bin/python -m neurovision train-cordsnet $COMMON "$@"; }
case $1 in
  pipeline) run --out runs/cifar-r2 --cnn-epochs 20 --fit-epochs 3 \
      --linear-steps 120 --linear-batch-size 32 --anneal-levels 20 --anneal-steps 5 --anneal-batch-size 32 \
      --finetune-steps 60 --finetune-batch-size 32 ;;
  direct) run --out runs/cifar-r2-direct --stages direct --direct-steps 60 --direct-batch-size 32 ;;
  *) echo "usage: $0 pipeline|direct" >&2; exit 2 ;;
esac
