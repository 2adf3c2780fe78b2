"""CordsNet-R8 ImageNet training step: measured FLOPs and memory, and what they imply on a GPU.

The paper's protocol (Soo et al. 2024, Sec. 3) runs 300 Euler steps of 2 ms per image: 100
spontaneous steps (no image: the same state for every image, computed once per weights), 100
steps with the image and 100 steps back to rest, with back-propagation through the 200 image
and return steps. This script measures, for CordsNet-R8 on 3 x 224 x 224 images:

* ``step_gflop``: FLOPs of one Euler step for one image (``torch.utils.flop_counter``; a
  multiply-accumulate counts 2), and ``encode_gflop`` for the once-per-image drive;
* ``bptt_mib_per_step_*``: memory kept for the backward pass per step and image, the slope of
  the peak memory of forward + backward over ``k`` and ``2k`` steps, with the weight-normalised
  kernels recomputed at every step (``default``: each copy is kept for backward) or once
  per unroll (``cached_weights``);
* ``cpu_gflops``: FLOP rate this machine reaches on the step (for the CPU estimate).

From them: FLOPs of one training step (forward + backward ~ 3x forward) per image, the largest
batch whose BPTT memory fits in 90 % of a GPU (both memory figures), and the time of a training
step of the cached-weights batch at a stated fraction of the GPU's dense TF32/BF16 peak. The
result JSON lists every assumption. With ``--device cuda`` the same measurements (step time,
FLOP rate, memory slope) are taken on the GPU itself.
"""
from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch.nn.utils import parametrize
from torch.utils.flop_counter import FlopCounterMode

from neurovision.families.cordsnet.network import CordsNet, CordsNetConfig

from ._harness import PeakMemory, parser, positive_int, result_name, setup, timeit, write_result

#: protocol of the paper: steps with gradient (image + return) and without (spontaneous)
BPTT_STEPS, SPONTANEOUS_STEPS = 200, 100
#: GPUs for the estimate: name -> (memory GiB, dense TF32 TFLOP/s, dense BF16 TFLOP/s)
GPUS = {"H100-SXM-80GB": (80, 495.0, 989.0), "A100-80GB": (80, 156.0, 312.0)}
#: fractions of peak reached by small 3x3 convolutions (low and high assumption)
UTILISATION = (0.25, 0.5)


def step_flops(model: CordsNet, state, drive) -> float:
    """FLOPs of ``model.step(state, drive)``."""
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model.step(state, drive)
    return float(counter.get_total_flops())


def encode_flops(model: CordsNet, images) -> float:
    """FLOPs of ``model.encode(images)``."""
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model.encode(images)
    return float(counter.get_total_flops())


def bptt_peak(model: CordsNet, images, labels, steps: int, device, cached: bool = False) -> float:
    """Peak memory (MiB) of forward + backward through ``steps`` Euler steps from rest.

    ``cached``: compute the weight-normalised kernels once for the whole unroll
    (``parametrize.cached()``) instead of at every step, where each copy is kept for backward.
    """
    model.zero_grad(set_to_none=True)
    with torch.no_grad():
        start = {k: v.clone() for k, v in model.initial_state(images.shape[0]).items()}
    with PeakMemory(device) as meter, (parametrize.cached() if cached else contextlib.nullcontext()):
        drive, state = model.encode(images), start
        for _ in range(steps):
            state = model.step(state, drive)
        F.cross_entropy(model.readout(state), labels).backward()
    return meter.peak_mib


def memory_slope(model, images, labels, steps: int, device, cached: bool) -> float:
    """MiB kept for backward per additional Euler step (peak at 2k minus peak at k, over k)."""
    short, long = (bptt_peak(model, images, labels, k, device, cached) for k in (steps, 2 * steps))
    return (long - short) / steps


def estimate(step_gflop: float, encode_gflop: float, mib_per_step: float, mib_cached: float) -> dict:
    """Per-GPU largest batch (default and cached weights) and training-step time range."""
    train_gflop = 3 * (BPTT_STEPS * step_gflop + encode_gflop)  # per image, forward + backward
    out = {"train_gflop_per_image": train_gflop}
    for name, (memory_gib, tf32, bf16) in GPUS.items():
        budget = memory_gib * 1024 * 0.9
        out[f"{name}_max_batch_default"] = int(budget // (mib_per_step * BPTT_STEPS))
        out[f"{name}_max_batch_cached_weights"] = batch = int(budget // (mib_cached * BPTT_STEPS))
        for label, peak in (("tf32", tf32), ("bf16", bf16)):
            slow, fast = (train_gflop * batch / (peak * 1e3 * u) for u in UTILISATION)
            out[f"{name}_{label}_seconds_per_step"] = {"median": (slow + fast) / 2, "min": fast,
                                                       "max": slow, "unit": "s"}
            out[f"{name}_{label}_images_per_second"] = batch / ((slow + fast) / 2)
    return out


def main(argv=None) -> int:
    p = parser(__doc__.split("\n", 1)[0])
    p.add_argument("--size", type=positive_int, default=224, help="image side in px")
    p.add_argument("--steps", type=positive_int, default=3, help="k for the memory slope (k and 2k steps)")
    args = p.parse_args(argv)
    if args.quick:
        args.size, args.steps, args.repeats = 64, 2, 2
    device = setup(args)
    model = CordsNet(CordsNetConfig(depth=8, image_size=args.size)).to(device)
    images = torch.rand(1, 3, args.size, args.size, device=device)
    labels = torch.zeros(1, dtype=torch.long, device=device)
    with torch.no_grad():
        state = model.initial_state(1)
        drive = model.encode(images)
    step_gflop = step_flops(model, state, drive) / 1e9
    encode_gflop = encode_flops(model, images) / 1e9
    with torch.no_grad():
        step_time = timeit(lambda: model.step(state, drive), args.repeats, device=device)
    per_step = memory_slope(model, images, labels, args.steps, device, cached=False)
    mib_per_step = memory_slope(model, images, labels, args.steps, device, cached=True)
    metrics = {"step_gflop": step_gflop, "encode_gflop": encode_gflop,
               "step_seconds": step_time.as_dict(), "cpu_gflops" if device.type == "cpu" else "gpu_gflops":
               step_gflop / step_time.median, "bptt_mib_per_step_default": per_step,
               "bptt_mib_per_step_cached_weights": mib_per_step,
               "parameters_millions": sum(p.numel() for p in model.parameters()) / 1e6}
    metrics.update(estimate(step_gflop, encode_gflop, per_step, mib_per_step))
    metrics["this_device_seconds_per_image"] = 3 * BPTT_STEPS * step_time.median
    write_result(result_name("gpu_estimate", args), metrics, args.repeats, device,
                 notes=(f"protocol: {BPTT_STEPS} BPTT steps + {SPONTANEOUS_STEPS} spontaneous steps "
                        f"(once per weights); training = 3x forward FLOPs; batch fills 90% of GPU "
                        f"memory with BPTT activations; times for the cached-weights batch at "
                        f"{UTILISATION} of dense peak"),
                 config=vars(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
