#!/bin/sh
# Regimes of Gaussian-initialised tanh networks against the initialisation gain g.
# Each kind's table is kept in regimes_<kind>.csv and reused by later commands, which rewrite
# regimes.csv/.nc/.png from all kinds asked for.
set -e
export OMP_NUM_THREADS=1
NV="nice -n 10 .venv/bin/python -m neurovision analyze regimes --out experiments/soo2024_cordsnet/regimes --threads 1"
$NV --kinds dense --seeds 2                                  # 200 units, 7 gains x 2 seeds, 2000 steps
$NV --kinds dense,conv --gains 0.5,1,1.5,2,3 --seeds 1 --solver-steps 1500   # 32 x 6 x 6 conv, 5 gains
# CordsNet-R2 itself with tanh areas (24 px images), the third curve of Fig. 1B:
$NV --kinds dense,conv,cordsnet --gains 0.5,1,1.5,2,3 --seeds 1 --solver-steps 1500
