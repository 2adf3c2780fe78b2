#!/bin/sh
# CordsNet-R2 training runs of docs/cordsnet.md, one CPU thread per process:
#   sh experiments/soo2024_cordsnet/train_r2.sh fmnist|cifar pipeline   the whole initialisation pipeline
#   sh experiments/soo2024_cordsnet/train_r2.sh fmnist|cifar direct     the direct-training control (C), same
#                                                           optimiser budget as fine-tuning
# fmnist: Fashion-MNIST at 28 px (native size), no augmentation, 2,000 test images, into
# runs/fmnist-r2f; cifar: the CIFAR-10 subset (1,000 training images per class, 32 px), light
# augmentation, 1,000 test images, into runs/cifar-r2b. The control writes to <out>-direct.
# Running a part again resumes it; metrics land in <out>/metrics.json.
set -e
case $1 in
  fmnist) OUT=runs/fmnist-r2f; DATA="--dataset fashion-mnist --augment none --eval-limit 2000"
          CNN="--cnn-epochs 16 --fit-epochs 2"; ANNEAL="60 --anneal-lr 3e-4"; TUNE=150 ;;
  cifar) OUT=runs/cifar-r2b; DATA="--dataset cifar10-subset --augment light --eval-limit 1000"
         CNN="--cnn-epochs 20 --fit-epochs 3"; ANNEAL=5; TUNE=60 ;;
  *) echo "usage: $0 fmnist|cifar pipeline|direct" >&2; exit 2 ;;
esac
run() { OMP_NUM_THREADS=1 .venv/bin/python -m neurovision train cordsnet --depth 2 $DATA --quiet "$@"; }
case $2 in
  pipeline) run --out $OUT $CNN --linear-steps 120 --linear-batch-size 32 --anneal-levels 20 \
      --anneal-steps $ANNEAL --anneal-batch-size 32 --finetune-steps $TUNE --finetune-batch-size 32 ;;
  direct) run --out $OUT-direct --stages direct --direct-steps $TUNE --direct-batch-size 32 ;;
  *) echo "usage: $0 fmnist|cifar pipeline|direct" >&2; exit 2 ;;
esac
