"""Arnoldi top-k eigenvalues of CordsNet-R8 recurrent convolutions vs. the dense eigendecomposition.

Two measurements, both on the recurrent 3x3 convolution ``W_rec`` of an area of CordsNet-R8
(:func:`neurovision.analysis.recurrent_operator`, never expanded by Arnoldi):

* ``dense_vs_arnoldi``: area 1's 64-channel kernel on a ``grid x grid`` map (default 14, i.e.
  n = 12,544 units: its float64 matrix is 1.2 GiB and ``torch.linalg.eigvals`` takes minutes
  here, the largest the dense method handles in this budget). Arnoldi's top-``k`` eigenvalues
  vs. the dense ones: speed-up (dense time / Arnoldi time, interleaved), peak memory of each
  (MiB above the starting level) and their ratio, and the largest distance between the two
  sets of ``k`` eigenvalues after one-to-one matching.
* ``largest_area``: an area at its native size (``--large-area``, default area 1: 64 x 56 x 56
  = 200,704 units, whose dense float32 matrix would be 150 GiB): Arnoldi time, peak memory,
  operator applications, restarts and how many of the ``k`` eigenvalues converged.

``neurovision perf arnoldi [--grid 14] [--k 100] [--large-area area1] [--threads 1] [--quick]``.
"""
from __future__ import annotations

import time

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from neurovision import load_model
from neurovision.analysis import Operator, arnoldi_eigs, dense_eigvals, recurrent_operator
from neurovision.analysis.spectra import top_k

from ._harness import PeakMemory, compare, parser, positive_int, setup, write_result


def area_operator(model, area: str, grid: int | None) -> Operator:
    """``W_rec`` of ``area`` on its own maps, or on ``grid x grid`` maps (same kernel)."""
    if grid is None:
        return recurrent_operator(model, area)
    kernel = model.recurrent_kernel(area).detach()
    return Operator.from_conv2d(kernel, grid, grid, name=f"W_rec[{area}] on {grid}x{grid}")


def matched_error(found: np.ndarray, reference: np.ndarray) -> float:
    """Largest |difference| between two eigenvalue sets after optimal one-to-one matching."""
    dist = np.abs(found[:, None] - reference[None, :])
    rows, cols = linear_sum_assignment(dist)
    return float(dist[rows, cols].max())


def measured(fn):
    """``(result, seconds, peak MiB)`` of one call."""
    with PeakMemory() as meter:
        start = time.perf_counter()
        out = fn()
        seconds = time.perf_counter() - start
    return out, seconds, meter.peak_mib


def main(argv=None) -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--model", default="cordsnet-r8", help="registered CordsNet id (default cordsnet-r8)")
    p.add_argument("--area", default="area1", help="area whose kernel is analysed (default area1)")
    p.add_argument("--grid", type=positive_int, default=14, help="map side of the dense comparison (default 14)")
    p.add_argument("--k", type=positive_int, default=100, help="eigenvalues wanted (default 100)")
    p.add_argument("--large-area", default=None,
                   help="area run at its native size (default: --area; with --quick: the last area)")
    p.set_defaults(repeats=1)
    args = p.parse_args(argv)
    device = setup(args)
    grid, k = (6, 20) if args.quick else (args.grid, args.k)
    model = load_model(args.model).eval()

    small = area_operator(model, args.area, grid)
    holder = {}

    def run_arnoldi():
        holder["arnoldi"] = arnoldi_eigs(small, k=k)

    def run_dense():
        holder["dense"] = dense_eigvals(small, max_n=small.n)

    with PeakMemory() as arnoldi_meter:
        run_arnoldi()
    with PeakMemory() as dense_meter:
        run_dense()
    timing = compare(run_arnoldi, run_dense, repeats=args.repeats, warmup=0, device=device)
    spectrum = holder["arnoldi"]
    error = matched_error(spectrum.eigenvalues, top_k(holder["dense"], k))

    big = recurrent_operator(model, args.large_area or (model.areas[-1] if args.quick else args.area))
    large, seconds, peak = measured(lambda: arnoldi_eigs(big, k=k))
    metrics = {
        "dense_units": small.n,
        **timing.metrics("dense_vs_arnoldi"),
        "dense_peak_mib": dense_meter.peak_mib,
        "arnoldi_peak_mib": arnoldi_meter.peak_mib,
        "memory_ratio_dense_over_arnoldi": dense_meter.peak_mib / max(arnoldi_meter.peak_mib, 1e-3),
        "max_eigenvalue_error": error,
        "spectral_radius": spectrum.spectral_radius,
        "arnoldi_converged": int(spectrum.converged.sum()),
        "largest_area_units": big.n,
        "largest_area_seconds": seconds,
        "largest_area_peak_mib": peak,
        "largest_area_dense_float32_gib": big.n**2 * 4 / 2**30,
        "largest_area_applications": large.n_applications,
        "largest_area_restarts": large.restarts,
        "largest_area_converged": int(large.converged.sum()),
        "largest_area_spectral_radius": large.spectral_radius,
    }
    write_result("arnoldi" + ("_quick" if args.quick else ""), metrics, repeats=args.repeats, device=device,
                 config={"model": args.model, "area": args.area, "grid": grid, "k": k,
                         "large_area": big.name,
                         "weights": "untrained (weight-norm initialisation)"},
                 notes=f"top-{k} eigenvalues by modulus; dense = torch.linalg.eigvals of the expanded "
                       "float64 matrix; Arnoldi = Krylov-Schur, krylov_dim 3k, float64 basis")


if __name__ == "__main__":
    main()
