"""Speed levers for CordsNet's Euler step, each timed against the default in one run.

Every lever runs the same ``steps`` Euler steps of CordsNet from the spontaneous state with one
image drive, and is compared with the default ``model.step`` under ``torch.no_grad()``:

* ``no_grad``: the default vs. the same steps with autograd on, keeping every state (what a
  naive recorder holding the history does); time and peak memory.
* ``cached_weights``: effective weight-normalised kernels computed once per run
  (``torch.nn.utils.parametrize.cached()``) instead of at every step.
* ``fused_conv``: where an area's input convolution has stride 1, its recurrent and input
  convolutions run as one convolution over the concatenated channels (:func:`fused_step`).
* ``channels_last``: NHWC memory format for weights and states.
* ``bf16_autocast``: bfloat16 autocast for inference (the convolutions in bfloat16; the state,
  its sums and the Euler update in float32, as a step under ``torch.autocast`` keeps them).
* ``compile``: ``torch.compile`` of the step function (compile time reported separately).
* ``chunked_recording``: :func:`neurovision.dynamics.record` in batches of 8 vs. one batch;
  peak memory and time.

For each lever the JSON holds the speedup (default time / lever time, median [min–max] over
interleaved repeats), the largest relative difference of the final state from the default
(``max |a - b| / max |b|``), whether it wins (ratio of the fastest times > 1.05, median
per-pair speedup > 1, and difference within :data:`TOLERANCE`), and whether the library applies
it by default. Runs unchanged on CUDA (``--device cuda``).
"""
from __future__ import annotations

import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch.nn.utils import parametrize

from neurovision.dynamics import record
from neurovision.families.cordsnet.network import CordsNet, CordsNetConfig

from ._harness import compare, parser, peak_memory, positive_int, result_name, setup, write_result

#: relative difference of the final state a lever may cause and still be turned on by default
TOLERANCE = 1e-5
#: levers the library applies by default (record: no grad, binned sums, batches)
DEFAULT_ON = {"no_grad": True, "chunked_recording": True, "cached_weights": False,
              "fused_conv": False, "channels_last": False, "bf16_autocast": False, "compile": False}


def _conv_input(model: CordsNet, weights: dict, j: int, out: list[torch.Tensor]):
    """Input ``h_j`` of area ``j``'s input convolution (None for area 1, whose input is the drive)."""
    if j == 0:
        return None
    if j == 1:
        return out[0]
    if j % 2 == 0:
        return out[j - 1] + out[j - 2]
    return out[j - 1] + F.conv2d(out[j - 2], weights["skip"][(j - 3) // 2], stride=2)


def fused_step(model: CordsNet) -> Callable:
    """A step function equal to ``model.step`` that fuses recurrent and stride-1 input convolutions.

    The effective kernels are computed once (inference: weights are fixed); for areas whose
    input convolution has stride 1 the two 3x3 convolutions become one over
    ``cat([r_j, h_j])`` with kernel ``cat([W_rec_j, W_in_j], dim=1)``.
    """
    with torch.no_grad():
        weights = {"rec": [c.weight for c in model.rec], "inp": [c.weight for c in model.inp],
                   "skip": [c.weight for c in model.skip], "bias": list(model.bias)}
        strides = [c.stride[0] for c in model.inp]
        fused = [torch.cat([weights["rec"][j], weights["inp"][j]], 1) if j > 0 and strides[j] == 1
                 else None for j in range(len(model.areas))]

    def step(state, drive):
        drive = model.blank_drive() if drive is None else drive
        r = [state[a] for a in model.areas]
        out = [F.relu(x) for x in r[:-1]]
        new = {}
        for j, area in enumerate(model.areas):
            base = drive[j] if j < 2 else weights["bias"][j]
            h = _conv_input(model, weights, j, out)
            if h is None:
                pre = F.conv2d(r[j], weights["rec"][j], padding=1)
            elif fused[j] is not None:
                pre = F.conv2d(torch.cat([r[j], h], 1), fused[j], padding=1)
            else:
                pre = (F.conv2d(r[j], weights["rec"][j], padding=1)
                       + F.conv2d(h, weights["inp"][j], stride=strides[j], padding=1))
            new[area] = torch.lerp(r[j], model.sigma(pre + base), model.alpha)
        return new

    return step


def run_steps(step: Callable, state: dict, drive, steps: int, keep_history: bool = False):
    """Apply ``step`` ``steps`` times; return the final state (and the list of all if asked)."""
    history = []
    for _ in range(steps):
        state = step(state, drive)
        if keep_history:
            history.append(state)
    return state, history


def relative_difference(a: dict, b: dict) -> float:
    """``max |a - b| / max |b|`` over all areas (float64)."""
    num = max(float((a[k].double() - b[k].double()).abs().max()) for k in b)
    den = max(float(b[k].double().abs().max()) for k in b)
    return num / max(den, 1e-30)


def build(depth: int, size: int, batch: int, device) -> tuple[CordsNet, dict, tuple]:
    """Random CordsNet-R``depth`` on ``size`` px images, its spontaneous state and one drive."""
    torch.manual_seed(0)
    model = CordsNet(CordsNetConfig(depth=depth, image_size=size, n_classes=10)).to(device).eval()
    images = torch.rand(batch, 3, size, size, device=device)
    with torch.no_grad():
        state = {k: v.contiguous() for k, v in model.initial_state(batch).items()}
        drive = model.encode(images)
    return model, state, drive


def _entry(cmp, diff: float, name: str, **extra) -> dict:
    return {"speedup": cmp.speedup.as_dict(), "best_speedup": cmp.best_speedup,
            "relative_difference": diff, "tolerance": TOLERANCE,
            "wins": bool(cmp.best_speedup > 1.05 and cmp.speedup.median > 1.0 and diff <= TOLERANCE),
            "on_by_default": DEFAULT_ON[name], **extra}


def measure(depth=4, size=64, batch=8, steps=10, repeats=5, device="cpu", with_compile=True) -> dict:
    """All levers on one configuration; returns ``{lever: {...}}`` (see module doc)."""
    model, state, drive = build(depth, size, batch, device)
    default = lambda: run_steps(model.step, state, drive, steps)[0]  # noqa: E731
    with torch.no_grad():
        reference = default()
        out = {}

        def with_grad():
            with torch.enable_grad():
                return run_steps(model.step, state, drive, steps, keep_history=True)

        cmp = compare(default, with_grad, repeats, device=device)
        grad_final, _ = with_grad()
        out["no_grad"] = _entry(cmp, relative_difference(grad_final, reference), "no_grad",
                                peak_mib_default=peak_memory(default, device),
                                peak_mib_lever_off=peak_memory(with_grad, device))

        def cached():
            with parametrize.cached():
                return default()

        out["cached_weights"] = _entry(compare(cached, default, repeats, device=device),
                                       relative_difference(cached(), reference), "cached_weights")

        fused = lambda: run_steps(fused_step(model), state, drive, steps)[0]  # noqa: E731
        out["fused_conv"] = _entry(compare(fused, cached, repeats, device=device),
                                   relative_difference(fused(), reference), "fused_conv",
                                   baseline="cached_weights")

        out["channels_last"] = _channels_last(model, state, drive, steps, repeats, device, reference)

        def bf16():
            with torch.autocast(torch.device(device).type, dtype=torch.bfloat16):
                return run_steps(model.step, state, drive, steps)[0]

        out["bf16_autocast"] = _entry(compare(bf16, default, repeats, device=device),
                                      relative_difference(bf16(), reference), "bf16_autocast")
        if with_compile:
            out["compile"] = _compiled(model, state, drive, steps, repeats, device, reference, default)
    out["chunked_recording"] = _chunked(model, size, device)
    return out


def _channels_last(model, state, drive, steps, repeats, device, reference) -> dict:
    cl = torch.channels_last
    model.to(memory_format=cl)
    state_cl = {k: v.contiguous(memory_format=cl) for k, v in state.items()}
    drive_cl = type(drive)(*(d.contiguous(memory_format=cl) for d in drive))
    lever = lambda: run_steps(model.step, state_cl, drive_cl, steps)[0]  # noqa: E731
    model_default = lambda: run_steps(model.step, state, drive, steps)[0]  # noqa: E731
    try:
        cmp = compare(lever, model_default, repeats, device=device)
        diff = relative_difference(lever(), reference)
    finally:
        model.to(memory_format=torch.contiguous_format)
    return _entry(cmp, diff, "channels_last")


def _compiled(model, state, drive, steps, repeats, device, reference, default) -> dict:
    compiled_step = torch.compile(model.step, dynamic=False)
    start = time.perf_counter()
    run_steps(compiled_step, state, drive, 2)
    compile_s = time.perf_counter() - start
    lever = lambda: run_steps(compiled_step, state, drive, steps)[0]  # noqa: E731
    return _entry(compare(lever, default, repeats, device=device), relative_difference(lever(), reference),
                  "compile", compile_seconds=compile_s)


def _chunked(model, size, device, n=32) -> dict:
    images = torch.rand(n, 3, size, size)
    kwargs = dict(schedule="blank:10,image:20", areas=list(model.areas), time_bins="0:20:10",
                  device=device, progress=False)
    results = {}
    chunked = lambda: results.__setitem__("chunked", record(model, images, batch_size=8, **kwargs))  # noqa: E731
    whole = lambda: results.__setitem__("whole", record(model, images, batch_size=n, **kwargs))  # noqa: E731
    cmp = compare(chunked, whole, 2, warmup=0, device=device)
    a, b = results["chunked"].values, results["whole"].values
    diff = float(abs(a - b).max() / max(abs(b).max(), 1e-30))
    return _entry(cmp, diff, "chunked_recording", peak_mib_default=peak_memory(chunked, device),
                  peak_mib_lever_off=peak_memory(whole, device), images=n)


def main(argv=None) -> int:
    p = parser(__doc__.split("\n", 1)[0])
    p.add_argument("--depth", type=positive_int, default=4)
    p.add_argument("--size", type=positive_int, default=64, help="image side in px")
    p.add_argument("--batch", type=positive_int, default=8)
    p.add_argument("--steps", type=positive_int, default=10)
    p.add_argument("--no-compile", action="store_true", help="skip torch.compile (slow to compile)")
    args = p.parse_args(argv)
    if args.quick:
        args.depth, args.size, args.batch, args.steps, args.repeats = 2, 32, 2, 4, 2
        args.no_compile = True
    device = setup(args)
    levers = measure(args.depth, args.size, args.batch, args.steps, args.repeats, device,
                     with_compile=not args.no_compile)
    metrics = {}
    for name, entry in levers.items():
        metrics[f"{name}_speedup"] = entry["speedup"]
        metrics[f"{name}_best_speedup"] = entry["best_speedup"]
        metrics[f"{name}_relative_difference"] = entry["relative_difference"]
        metrics[f"{name}_wins"] = entry["wins"]
        for key in ("peak_mib_default", "peak_mib_lever_off", "compile_seconds"):
            if key in entry:
                metrics[f"{name}_{key}"] = entry[key]
    write_result(result_name("levers", args), metrics, args.repeats, device,
                 notes="speedup = default time / lever time (fused_conv: vs cached_weights)",
                 config={**vars(args), "levers": levers})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
