#!/bin/sh
# The four visual tasks behind a frozen CordsNet-R2 (area2, 64 x 8 x 8 maps), a 128-unit
# full-rank back-end, then figures and the LIP benchmark. Motion, saccade and cat/dog read the
# maps pooled to 64 x 4 x 4 = 1,024 features (1,000 training trials, 600 steps); numerosity reads
# them globally averaged (64 features), z-scored with the training pool's statistics, and
# trains on 8,000 trials for 5,000 steps. The cat/dog photograph control and the cat/dog morph
# continuum (untrained levels) and new-prototype evaluations, and numerosity with only +-1
# non-matches, follow.
# The cat/dog runs z-score the features with the training pool's statistics too: from the raw
# features of the ReLU front-end the back-end stayed at chance (0.518) in 600 steps.
# Front-end features are cached in runs/task-feature-cache (not committed). Run from the
# repository root. FRONTEND / FRONTEND_OPTION / OUT choose the front-end and the output folder:
#   sh experiments/multiarea_tasks/run_visual.sh                                   (trained CordsNet-R2, CIFAR-10)
#   FRONTEND=cordsnet-r2:area2 FRONTEND_OPTION=image_size=32 OUT=experiments/multiarea_tasks/visual-untrained \
#     sh experiments/multiarea_tasks/run_visual.sh                                 (same architecture, random weights)
set -e
export OMP_NUM_THREADS=1
FRONTEND=${FRONTEND:-cordsnet-r2-cifar10:area2}
OUT=${OUT:-experiments/multiarea_tasks/visual}
OPTION=${FRONTEND_OPTION:+--frontend-option $FRONTEND_OPTION}
nv() { .venv/bin/python -m neurovision "$@"; }
train() {  # train TASK FOLDER [extra `train task` arguments]
  task=$1 out="$OUT/$2"
  shift 2
  if [ ! -f "$out/evaluation.json" ]; then
    nv train task --task "$task" --frontend "$FRONTEND" $OPTION --backend full --units 128 \
      --batch-size 32 --lr 3e-3 --eval-trials 1000 --seed 0 --cache-dir runs/task-feature-cache \
      --out "$out" --quiet "$@"
  fi
  nv analyze task "$out"
}
SHORT="--train-steps 600 --train-trials 1000"
train random-dot-motion random-dot-motion $SHORT
train delayed-saccade delayed-saccade $SHORT
train cat-dog-category cat-dog-category $SHORT --standardise-inputs
train cat-dog-category cat-dog-photographs $SHORT --standardise-inputs --task-option stimuli=photographs
train numerosity numerosity --train-steps 5000 --train-trials 8000 --pool 1 --standardise-inputs
nv analyze task "$OUT/cat-dog-category" --out "$OUT/cat-dog-category/continuum" \
  --task-option levels='[1.0, 0.9, 0.8, 0.7, 0.6, 0.55, 0.45, 0.4, 0.3, 0.2, 0.1, 0.0]'
nv analyze task "$OUT/cat-dog-category" --out "$OUT/cat-dog-category/new-prototypes" --task-option prototype_seed=1
nv analyze task "$OUT/numerosity" --out "$OUT/numerosity/adjacent" --task-option nonmatch=adjacent
nv analyze task "$OUT/random-dot-motion" --benchmark roitman2002.LIP --out "$OUT/roitman2002"
