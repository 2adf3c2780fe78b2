#!/bin/sh
# Measured analysis runs, one after the other on one CPU thread (nohup sh results/analysis/run.sh).
# A network whose final .pt exists under <out>/networks is reloaded, an interrupted one resumes
# from its .ckpt. Regimes: results/analysis/regimes.sh.
set -e
export OMP_NUM_THREADS=1
NV="nice -n 10 .venv/bin/python -m neurovision analyze"
# Attractors of CordsNet task RNNs (8 x 4 x 4 = 128 units) trained 2000 steps on three delay tasks.
$NV attractors --out results/analysis/attractors --steps 2000 --threads 1
# Arnoldi top-100 vs dense eigvals of area1's kernel on 7 x 7 maps (3,136 units); area5 at its
# native 256 x 14 x 14 = 50,176 units. Full scale: --grid 14 --large-area area1 (200,704 units).
nice -n 10 .venv/bin/python -m perf.arnoldi --grid 7 --k 100 --large-area area5 --threads 1
# CordsNet vs full-rank, low-rank and sparse RNNs (128 units), five tasks, one seed: 800 training
# steps on perceptual decision making, 400 on the other four (the second command trains those and
# reloads the first's networks). Full scale: one command with --steps 1500 --seeds 2.
$NV cross-architecture --out results/analysis/cross_architecture --tasks perceptual-decision-making --steps 800 --seeds 1 --threads 1
$NV cross-architecture --out results/analysis/cross_architecture --steps 400 --seeds 1 --threads 1
