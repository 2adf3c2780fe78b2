#!/bin/sh
# The four visual tasks behind a frozen CordsNet-R2 (area2, 64 x 8 x 8 maps pooled to 64 x 4 x 4
# = 1,024 features), a 128-unit full-rank back-end, then figures and the LIP benchmark.
# Front-end features are cached in runs/task-feature-cache (not committed). Run from the
# repository root. FRONTEND / FRONTEND_OPTION / OUT choose the front-end and the output folder:
#   sh results/tasks/run_visual.sh                                   (trained CordsNet-R2, CIFAR-10)
#   FRONTEND=cordsnet-r2:area2 FRONTEND_OPTION=image_size=32 OUT=results/tasks/visual-untrained \
#     sh results/tasks/run_visual.sh                                 (same architecture, random weights)
set -e
export OMP_NUM_THREADS=1
FRONTEND=${FRONTEND:-cordsnet-r2-cifar10:area2}
OUT=${OUT:-results/tasks/visual}
OPTION=${FRONTEND_OPTION:+--frontend-option $FRONTEND_OPTION}
for task in random-dot-motion delayed-saccade cat-dog-category numerosity; do
  out="$OUT/$task"
  if [ ! -f "$out/evaluation.json" ]; then
    .venv/bin/python -m neurovision train-task --task "$task" --frontend "$FRONTEND" $OPTION \
      --backend full --units 128 --steps ${STEPS:-600} --batch-size 32 --lr 3e-3 --train-trials 1000 \
      --eval-trials 1000 --seed 0 --cache-dir runs/task-feature-cache --out "$out" --quiet
  fi
  .venv/bin/python -m neurovision report-task "$out"
done
.venv/bin/python -m neurovision report-task "$OUT/random-dot-motion" --benchmark roitman2002.LIP \
  --out "$OUT/roitman2002"
