"""DCN-ODE forward+backward: ours against the authors' code, adjoint against direct back-propagation.

On one CIFAR-sized batch (``--batch``, default 32 as in the paper's cost anchors) with the
paper's random initialisation, dopri5 and rtol = atol = 1e-3, measured in one run, interleaved:

* ``authors_speedup`` (with ``--authors PATH``, a copy of github.com/ntomen/Deep-Continuous-Networks,
  never committed here): their forward+backward time divided by ours, both with direct
  back-propagation and the same weights (theirs loaded from ours), so both solvers take the same
  steps: ``nfe_ours`` and ``nfe_authors`` (forward evaluations per block) must be equal and
  ``authors_max_abs_diff`` (logits) small. Their SRF layer rebuilds its filters at every function
  evaluation and convolves the concatenated time channel; ours builds them once per solve and
  takes large kernels through the separable path.
* ``adjoint_time_ratio`` and ``adjoint_memory_ratio``: our adjoint-method step against our direct
  step (time and peak memory), with ``*_peak_mib`` the peak resident memory above the start.
"""
from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from neurovision.families.dcn import ORDERS, basis_2d, build_network

from ._harness import compare, parser, peak_memory, positive_int, result_name, setup, write_result


def tune_malloc() -> None:
    """Keep freed heap memory for reuse (glibc), as the documented training command does."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallopt(-3, 2**31 - 1)   # M_MMAP_THRESHOLD
    libc.mallopt(-1, 2**31 - 1)   # M_TRIM_THRESHOLD


def load_authors(folder: str | Path, adjoint: bool = False):
    """The authors' ``experiments/cifar10_dcn_ode.py`` as a module (it parses argv and chdirs)."""
    path = Path(folder) / "experiments" / "cifar10_dcn_ode.py"
    if not path.is_file():
        raise FileNotFoundError(f"--authors {folder}: no experiments/cifar10_dcn_ode.py there "
                                "(clone github.com/ntomen/Deep-Continuous-Networks)")
    argv, cwd = sys.argv, os.getcwd()
    sys.argv = [str(path), "--adjoint", str(adjoint)]
    try:
        spec = importlib.util.spec_from_file_location(f"authors_dcn_{adjoint}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.argv = argv
        os.chdir(cwd)
    return module


def build_authors(module) -> nn.Sequential:
    """Their DCN-ODE exactly as assembled in their training script."""
    m = module
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, 1), m.ODEBlock(m.ODEfunc(32)),
        m.norm(32), nn.CELU(inplace=True), nn.Conv2d(32, 64, 4, 2, 1), m.ODEBlock(m.ODEfunc(64)),
        m.norm(64), nn.CELU(inplace=True), nn.Conv2d(64, 128, 4, 2, 1), m.ODEBlock(m.ODEfunc(128)),
        m.norm(128), nn.CELU(inplace=True), nn.AdaptiveAvgPool2d((1, 1)), m.Flatten(), nn.Linear(128, 10))


def basis_permutation(folder: str | Path) -> list[int]:
    """Index of our basis function for each of theirs, found by matching sampled filters."""
    sys.path.insert(0, str(folder))
    try:
        from srf.gaussian_basis_filters import gaussian_basis_filters_shared
    finally:
        sys.path.remove(str(folder))
    sigma = torch.tensor([1.3])
    _, theirs = gaussian_basis_filters_shared(2, sigma, 2.0, None, False, no_alpha=True)
    ours = basis_2d(sigma[0], theirs.shape[-1] // 2)
    perm = [int(torch.stack([(t - o).abs().max() for o in ours]).argmin()) for t in theirs]
    if sorted(perm) != list(range(len(ORDERS))) or any(
            not torch.allclose(theirs[i], ours[p], atol=1e-6) for i, p in enumerate(perm)):
        raise RuntimeError("the authors' Gaussian-derivative basis does not match ours")
    return perm


def copy_weights(ours, theirs: nn.Sequential, perm: list[int]) -> None:
    """Load our DCN-ODE's weights into the authors' network."""
    pairs = [(ours.stem, theirs[0]), (ours.downsample[0][0], theirs[2]), (ours.downsample[0][2], theirs[4]),
             (ours.downsample[1][0], theirs[6]), (ours.downsample[1][2], theirs[8]),
             (ours.head[0], theirs[10]), (ours.head[4], theirs[14])]
    with torch.no_grad():
        for mine, other in pairs:
            other.load_state_dict(mine.state_dict())
        for block, index in zip(ours.blocks, (1, 5, 9)):
            func, other = block.func, theirs[index].odefunc
            for name in ("norm1", "norm2", "norm3"):
                getattr(other, name).load_state_dict(getattr(func, name).state_dict())
            for name in ("conv1", "conv2"):
                coeff, layer = getattr(func, name).coefficients, getattr(other, name)._layer
                layer.alphas.copy_(coeff.alpha[:, :, perm].permute(2, 1, 0))
                layer.scales.copy_(coeff.log2_sigma.reshape(1))


def step(model, images, labels) -> None:
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(images), labels).backward()


def authors_nfe(theirs) -> list[int]:
    counts = [theirs[i].nfe for i in (1, 5, 9)]
    for i in (1, 5, 9):
        theirs[i].nfe = 0
    return counts


def main(argv=None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--batch", type=positive_int, default=32)
    p.add_argument("--authors", default=None, help="folder with the authors' repository (not committed)")
    p.add_argument("--no-malloc-tuning", action="store_true", help="keep glibc's default allocator settings")
    p.add_argument("--seed", type=int, default=0, help="initialisation seed (sets the random scales)")
    args = p.parse_args(argv)
    if args.quick:
        args.batch, args.repeats = 2, 1
    device = setup(args)
    if not args.no_malloc_tuning:
        tune_malloc()
    torch.manual_seed(args.seed)
    ours = build_network("dcn-ode").to(device)
    adjoint = build_network("dcn-ode", adjoint=True).to(device)
    adjoint.load_state_dict(ours.state_dict())
    images = torch.rand(args.batch, 3, 32, 32, device=device)
    labels = torch.randint(0, 10, (args.batch,), device=device)
    radii = [[conv.radius(conv.sigma().detach()) for conv in (b.func.conv1, b.func.conv2)] for b in ours.blocks]
    metrics = {"kernel_radii": radii}
    step(ours, images, labels)
    metrics["nfe_ours"] = ours.nfe()
    if args.authors:
        module = load_authors(args.authors)
        theirs = build_authors(module).to(device)
        copy_weights(ours, theirs, basis_permutation(args.authors))
        with torch.no_grad():
            metrics["authors_max_abs_diff"] = float((ours(images) - theirs(images)).abs().max())
        authors_nfe(theirs)
        step(theirs, images, labels)
        metrics["nfe_authors"] = authors_nfe(theirs)
        cmp = compare(lambda: step(ours, images, labels), lambda: step(theirs, images, labels),
                      repeats=args.repeats, warmup=0, device=device)
        metrics.update(cmp.metrics("authors"))
        metrics["authors_direct_peak_mib"] = peak_memory(lambda: step(theirs, images, labels), device)
    cmp = compare(lambda: step(ours, images, labels), lambda: step(adjoint, images, labels),
                  repeats=args.repeats, warmup=0, device=device)
    metrics["adjoint_time_ratio"] = cmp.speedup.as_dict()
    metrics["direct_seconds"] = cmp.candidate.as_dict()
    metrics["adjoint_seconds"] = cmp.reference.as_dict()
    metrics["direct_peak_mib"] = peak_memory(lambda: step(ours, images, labels), device)
    metrics["adjoint_peak_mib"] = peak_memory(lambda: step(adjoint, images, labels), device)
    metrics["adjoint_memory_ratio"] = metrics["adjoint_peak_mib"] / metrics["direct_peak_mib"]
    notes = ("authors speedup = their forward+backward time / ours, same weights and NFE (target >= 1.5); "
             "adjoint ratios = adjoint / direct (time, peak memory)")
    write_result(result_name("dcn_step", args), metrics, args.repeats, device, notes, config=vars(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
