#!/bin/sh
# Measured analysis runs, one after the other on one CPU thread (nohup sh experiments/soo2024_cordsnet/analysis_run.sh).
# A network whose final .pt exists under <out>/networks is reloaded, an interrupted one resumes
# from its .ckpt. Regimes: experiments/soo2024_cordsnet/analysis_regimes.sh.
set -e
export OMP_NUM_THREADS=1
NV="nice -n 10 .venv/bin/python -m neurovision analyze"
# Attractors of CordsNet task RNNs (8 x 4 x 4 = 128 units) trained 2000 steps on three delay tasks.
$NV attractors --out experiments/soo2024_cordsnet/attractors --train-steps 2000 --threads 1
# CordsNet vs full-rank, low-rank and sparse RNNs (128 units), five tasks, 2 seeds, 800 training
# steps each (full scale: --train-steps 1500).
$NV cross-architecture --out experiments/soo2024_cordsnet/cross_architecture --train-steps 800 --seeds 2 --threads 1
# Arnoldi top-100 eigenvalues of CordsNet-R8: vs dense eigvals on area1's kernel over 10 x 10 maps
# (6,400 units), and area1 at its native 64 x 56 x 56 = 200,704 units.
nice -n 10 .venv/bin/python -m neurovision perf arnoldi --grid 10 --k 100 --large-area area1 --threads 1
# Memory pro with every trial's delay drawn from 600-2000 ms, trained 4000 steps.
$NV attractors --out experiments/soo2024_cordsnet/attractors_long_delay --train-steps 4000 --delay 600,2000 --tasks memory-pro --threads 1
