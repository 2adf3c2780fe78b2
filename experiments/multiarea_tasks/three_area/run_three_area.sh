#!/bin/sh
# A 3-area back-end (A1 sensory tau 20 ms -> A2 integration tau 100 ms -> A3 motor tau 50 ms;
# feedforward density 0.5, feedback 0.05, 128 units each) trained on reaction-time random-dot
# motion behind the frozen CordsNet-R2 (area2 pooled to 64 x 4 x 4, features cached), then
# decoding per area, lesions and fixed points per coherence (analyse_three_area.py writes
# summary.json, fixed_points.json, decoding.png and lesions.png beside this script).
# Run from the repository root; one CPU thread, niced. The run folder (model, metrics) stays in runs/.
set -e
export OMP_NUM_THREADS=1
RUN=${RUN:-runs/multiarea/rdm-3area}
if [ ! -f "$RUN/evaluation.json" ]; then
  nice -n 5 .venv/bin/python -m neurovision train task --task random-dot-motion \
    --frontend cordsnet-r2-cifar10:area2 --backend full --areas 3 --tau 20,100,50 \
    --ff-density 0.5 --fb-density 0.05 --units 128 --train-steps 1500 --batch-size 32 --lr 3e-3 \
    --train-trials 1000 --eval-trials 1000 --seed 0 --cache-dir runs/task-feature-cache --out "$RUN" --quiet
fi
nice -n 5 .venv/bin/python experiments/multiarea_tasks/three_area/analyse_three_area.py "$RUN"
