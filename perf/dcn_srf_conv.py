"""SRF convolution at inference with cached filters against a plain convolution of the same size.

For each scale sigma (kernel ``2 ceil(2 sigma + 0.5) + 1`` px) an ``SRFConv2d`` in eval mode
without autograd (filters built once, reused while the parameters do not change) and an
``nn.Conv2d`` with the same channels and kernel size, no bias, run the same batch, interleaved.
``sigma_<s>_ratio`` = SRF time / plain time (target <= 1.05): small kernels take the direct path
(``conv2d`` on the cached filter bank), kernels of radius >= 5 the separable path (channel mixing
then 1-D passes), which can be faster than the plain convolution. ``build_ms`` is the one-off
cost of building the filters when the parameters have changed.
"""
from __future__ import annotations

import sys

import torch

from neurovision.families.dcn import SRFConv2d, half_width

from ._harness import compare, parser, positive_int, result_name, setup, timeit, write_result
from .dcn_step import tune_malloc


def measure(sigma: float, channels: int, size: int, batch: int, repeats: int, device) -> dict:
    srf = SRFConv2d(channels, channels).to(device).eval()
    with torch.no_grad():
        srf.coefficients.log2_sigma.fill_(float(torch.log2(torch.tensor(sigma))))
    k = 2 * half_width(sigma) + 1
    plain = torch.nn.Conv2d(channels, channels, k, padding=k // 2, bias=False).to(device).eval()
    x = torch.randn(batch, channels, size, size, device=device)
    with torch.no_grad():
        cmp = compare(lambda: plain(x), lambda: srf(x), repeats=repeats, device=device)

        def rebuild():
            srf.clear_cache()
            srf.weight()

        build = timeit(rebuild, repeats, device=device)
    ratio = cmp.speedup
    tag = f"sigma_{sigma:g}"
    return {f"{tag}_kernel": k,
            f"{tag}_ratio": {"median": ratio.median, "min": ratio.min, "max": ratio.max, "unit": "x"},
            f"{tag}_srf_seconds": cmp.reference.as_dict(),
            f"{tag}_plain_seconds": cmp.candidate.as_dict(),
            f"{tag}_build_ms": 1000 * build.median}


def main(argv=None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--sigmas", default="0.7,1.0,1.5,2.5", help="scales in px (kernels 5, 7, 9, 13)")
    p.add_argument("--channels", type=positive_int, default=32)
    p.add_argument("--size", type=positive_int, default=30, help="feature map size in px (ODE block 1)")
    p.add_argument("--batch", type=positive_int, default=32)
    p.add_argument("--no-malloc-tuning", action="store_true", help="keep glibc's default allocator settings")
    args = p.parse_args(argv)
    if args.quick:
        args.sigmas, args.batch, args.repeats = "1.0", 2, 2
    device = setup(args)
    if not args.no_malloc_tuning:
        tune_malloc()
    metrics = {}
    for sigma in (float(s) for s in args.sigmas.split(",")):
        metrics.update(measure(sigma, args.channels, args.size, args.batch, args.repeats, device))
    notes = ("ratio = SRF conv time / plain conv time with the same kernel size, filters cached "
             "(target <= 1.05); radius >= 5 uses the separable path; glibc malloc keeps freed memory "
             "unless --no-malloc-tuning")
    write_result(result_name("dcn_srf_conv", args), metrics, args.repeats, device, notes, config=vars(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
