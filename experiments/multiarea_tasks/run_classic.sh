#!/bin/sh
# Train full-rank, low-rank and sparse (Dale's law) back-ends on the five classic tasks.
# Each run writes experiments/multiarea_tasks/classic/<task>__<backend>/ (evaluation.json, metrics.jsonl,
# model.pt, trials.csv). Run from the repository root; one CPU thread per run.
set -e
export OMP_NUM_THREADS=1
for task in perceptual-decision-making parametric-working-memory multisensory-integration \
            context-decision-making delayed-match-to-sample; do
  for backend in full low-rank:2 sparse-dale:0.2; do
    out="experiments/multiarea_tasks/classic/${task}__$(echo "$backend" | tr ':' '-')"
    if [ -f "$out/evaluation.json" ]; then continue; fi
    .venv/bin/python -m neurovision train task --task "$task" --backend "$backend" \
      --units 128 --train-steps 1000 --batch-size 32 --lr 3e-3 --eval-trials 1000 --seed 0 \
      --out "$out" --quiet
  done
done
# a two-area back-end (A1 -> A2 feedforward density 0.1, A2 -> A1 feedback density 0.05)
out=experiments/multiarea_tasks/classic/context-decision-making__full-x2
if [ ! -f "$out/evaluation.json" ]; then
  .venv/bin/python -m neurovision train task --task context-decision-making --backend full --areas 2 \
    --ff-density 0.1 --fb-density 0.05 --units 128 --train-steps 1000 --batch-size 32 --lr 3e-3 \
    --eval-trials 1000 --seed 0 --out "$out" --quiet
fi
