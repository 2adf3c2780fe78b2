#!/bin/sh
# CordsNet-R2 training runs of docs/cordsnet.md, one CPU thread per process:
#   sh experiments/soo2024_cordsnet/train_r2.sh fmnist|cifar pipeline   the whole initialisation pipeline
#   sh experiments/soo2024_cordsnet/train_r2.sh fmnist|cifar direct     the direct-training control (C), same
#                                                           optimiser budget as fine-tuning
# fmnist: Fashion-MNIST at 28 px (native size), no augmentation, 2,000 test images, into
# runs/fmnist-r2f. cifar: the CIFAR-10 subset (1,000 training images per class, 32 px, the size
# cordsnet-r2-cifar10 is used at), light augmentation, 2,000 test images, into runs/cifar-r2c;
# anneal and fine-tune keep the CNN's feed-forward kernel directions (--freeze-features). The
# control writes to <out>-direct. Running a part again resumes it; metrics land in <out>/metrics.json.
set -e
case $1 in
  fmnist) OUT=runs/fmnist-r2f; DATA="--dataset fashion-mnist --augment none --eval-limit 2000"
          STAGES="--cnn-epochs 16 --fit-epochs 2 --linear-train-steps 120 --linear-batch-size 32
                  --anneal-train-steps 60 --anneal-batch-size 32 --anneal-lr 3e-4"
          TUNE="--finetune-train-steps 150 --finetune-batch-size 32"
          DIRECT="--direct-train-steps 150 --direct-batch-size 32" ;;
  cifar) OUT=runs/cifar-r2c; DATA="--dataset cifar10-subset --augment light --eval-limit 2000"
         STAGES="--cnn-epochs 20 --fit-epochs 2 --linear-train-steps 40 --linear-batch-size 32 --linear-lr 1e-4
                 --anneal-train-steps 100 --anneal-batch-size 16 --anneal-lr 3e-4 --freeze-features"
         TUNE="--finetune-epochs 2 --finetune-train-steps 625 --finetune-batch-size 16 --finetune-lr 1e-5"
         DIRECT="--direct-epochs 2 --direct-train-steps 625 --direct-batch-size 16" ;;
  *) echo "usage: $0 fmnist|cifar pipeline|direct" >&2; exit 2 ;;
esac
run() { OMP_NUM_THREADS=1 .venv/bin/python -m neurovision train cordsnet --depth 2 $DATA --quiet "$@"; }
case $2 in
  pipeline) run --out $OUT $STAGES --anneal-levels 20 $TUNE ;;
  direct) run --out $OUT-direct --stages direct $DIRECT ;;
  *) echo "usage: $0 fmnist|cifar pipeline|direct" >&2; exit 2 ;;
esac
