"""CordsNet Euler step: cost against the pure-convolution floor and the authors' code; BPTT memory.

For CordsNet-R{depth} on ``size`` px images at batch ``batch`` (default R2 and R8, 224 px,
batch 8 - the shapes of the authors' timings), measured in one run, interleaved:

* ``<R>_floor_ratio``: forward+backward time per Euler step of ``model.step`` (``steps``
  steps from the spontaneous state, loss on the final read-out) divided by the time of the same
  convolutions called directly with ``F.conv2d`` on plain kernels (recurrent + input + skip
  convolutions of every area, the sums that form their inputs, nothing else). The constant
  image drive is computed once per presentation outside the timed steps; ``<R>_encode_share``
  is its cost relative to the 200 gradient steps of one training presentation.
* ``<R>_authors_speedup`` (with ``--authors PATH``, a folder holding the authors' ``cordsnet.py``
  from github.com/wmws2/cordsnet, never committed here): their per-step ``rnn`` loop on the
  same shapes divided by ours; ``<R>_authors_inference_speedup`` the same without autograd
  (inference, where no history is kept); also ``<R>_authors_max_rel_diff``, the largest
  relative difference of one step of both models with the same weights (ours loaded from theirs).
* ``<R>_authors_presentation_speedup`` (with ``--authors``): one training presentation of the
  300-step protocol, theirs over ours, from the per-step times above and two more measured here.
  Their training loop simulates the 100 spontaneous steps for every batch (``rnn`` on blank
  images, no grad: ``<R>_authors_blank_seconds_per_step``) before the 200 gradient steps; ours
  encodes the image once and finds the spontaneous state once per weight update at batch 1
  (``<R>_spontaneous_seconds``, on random biases N(0, 0.1) so that the state is not trivially
  zero; ``<R>_spontaneous_steps`` steps to convergence).
* ``<R>_heap_reuse_speedup``: the training step with glibc's default allocator thresholds over
  the same step with :func:`neurovision.allocator.reuse_freed_memory` (the command line's
  setting, also used for every other figure here unless ``--system-malloc``).
* ``<R>_bptt_mib_per_step`` (ours, floor, authors): peak memory growth per step of a BPTT run,
  the least-squares slope over ``--memory-steps``, and the extrapolated peak of the 200
  gradient steps of the 300-step protocol (the authors' code also keeps the 100 spontaneous
  steps out of the graph); ``<R>_checkpointed_*`` the same with gradient checkpointing every
  ``--segment`` steps (``Protocol.checkpoint_segment``), measured over 2 and 4 segments.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.nn.utils import parametrize

from neurovision.allocator import GLIBC_DEFAULTS, REUSE, set_malloc_thresholds
from neurovision.families.cordsnet.network import STRIDES, CordsNet, CordsNetConfig
from neurovision.families.cordsnet.released import convert_released
from neurovision.families.cordsnet.protocol import Protocol, run_phase

from ._harness import compare, parser, peak_memory, positive_int, result_name, setup, slope, timeit, write_result

PROTOCOL = Protocol()
GRAD_STEPS = PROTOCOL.image_steps + PROTOCOL.return_steps  # steps with gradients per presentation (200)


def _leaf(t: torch.Tensor) -> torch.Tensor:
    return t.detach().clone().requires_grad_(True)


class Floor:
    """The convolutions of one CordsNet step on plain kernels, with gradients (the floor)."""

    def __init__(self, model: CordsNet, drive):
        self.depth = model.config.depth
        self.rec = [_leaf(c.weight) for c in model.rec]
        self.inp = [_leaf(c.weight) for c in model.inp]
        self.skip = [_leaf(c.weight) for c in model.skip]
        self.const = [_leaf(d) for d in drive] + [_leaf(b) for b in model.bias[2:]]

    def step(self, r: list[torch.Tensor]) -> list[torch.Tensor]:
        new = []
        for j in range(self.depth):
            total = F.conv2d(r[j], self.rec[j], padding=1) + self.const[j]
            if j >= 1:
                h = r[0] if j == 1 else (r[j - 1] + r[j - 2] if j % 2 == 0 else
                                         r[j - 1] + F.conv2d(r[j - 2], self.skip[(j - 3) // 2], stride=2))
                total = total + F.conv2d(h, self.inp[j], stride=STRIDES[j], padding=1)
            new.append(total)
        return new


def ours_steps(model: CordsNet, drive, start, steps: int):
    """The state after ``steps`` Euler steps of ``model.step`` from ``start``."""
    state = start
    for _ in range(steps):
        state = model.step(state, drive)
    return state


def run_ours(model: CordsNet, drive, start, steps: int) -> None:
    """``steps`` Euler steps with autograd and a backward pass (kernels computed once, as in training)."""
    with parametrize.cached():
        loss = model.readout(ours_steps(model, drive, start, steps)).sum()
    loss.backward()


def run_checkpointed(model: CordsNet, drive, start, steps: int, segment: int) -> None:
    """As :func:`run_ours`, keeping only every ``segment``-th state for the backward pass."""
    state, _ = run_phase(model, start, drive, steps, lambda k, st: None, "image", segment)
    model.readout(state).sum().backward()


def run_floor(floor: Floor, start, steps: int) -> None:
    r = list(start.values())
    for _ in range(steps):
        r = floor.step(r)
    (r[-1].mean() + r[-2].mean()).backward()


def load_authors(folder: str | Path):
    """The authors' ``cordsnet`` class from ``folder/cordsnet.py`` (never vendored here)."""
    path = Path(folder) / "cordsnet.py"
    if not path.is_file():
        raise FileNotFoundError(f"--authors {folder}: no cordsnet.py there (clone github.com/wmws2/cordsnet)")
    spec = importlib.util.spec_from_file_location("authors_cordsnet", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cordsnet


def authors_steps(theirs, images, start, steps: int) -> list[torch.Tensor]:
    """The areas' states after ``steps`` of the authors' per-step ``rnn`` loop from ``start``."""
    rs = [x.clone() for x in start.values()]
    for _ in range(steps):
        for j in range(theirs.depth - 1, -1, -1):
            rs[j] = theirs.rnn(j, rs, images, 0.2)
    return rs


def run_authors(theirs, images, start, steps: int) -> None:
    rs = authors_steps(theirs, images, start, steps)
    out = theirs.out_fc(theirs.out_flatten(theirs.out_avgpool(theirs.relu(rs[-1]) + theirs.relu(rs[-2]))))
    out.sum().backward()


def run_ours_inference(model: CordsNet, drive, start, steps: int) -> None:
    """``steps`` Euler steps without autograd (inference: no history kept)."""
    with torch.no_grad(), parametrize.cached():
        ours_steps(model, drive, start, steps)


def heap_reuse_speedup(run, repeats: int, device) -> dict:
    """Time of ``run`` under glibc's default thresholds over its time with heap reuse."""

    def under(thresholds):
        set_malloc_thresholds(*thresholds)
        run()

    try:
        return compare(lambda: under(REUSE), lambda: under(GLIBC_DEFAULTS), repeats=repeats,
                       device=device).speedup.as_dict()
    finally:
        set_malloc_thresholds(*REUSE)


def spontaneous_search(model: CordsNet, repeats: int, device):
    """Seconds of one spontaneous-state search after a weight update, and its step count.

    Draws the model's biases from N(0, 0.1) first (with zero biases the state is zero at once),
    so it runs after every other measurement of ``model``.
    """
    with torch.no_grad():
        for bias in model.bias:
            bias.normal_(0.0, 0.1)

    def search():
        with torch.no_grad():
            model.bias[0].add_(0.0)  # a weight update: the cached state no longer applies
        model.spontaneous_state()

    return timeit(search, repeats, device=device).median, model.spontaneous_info["steps"]


def presentation_speedup(out: dict, depth: int, encode_seconds: float) -> float:
    """Theirs / ours for one training presentation of the protocol, from the measured parts."""
    theirs = (PROTOCOL.spontaneous_steps * out[f"R{depth}_authors_blank_seconds_per_step"]
              + GRAD_STEPS * out[f"R{depth}_authors_seconds_per_step"])
    ours = out[f"R{depth}_spontaneous_seconds"] + encode_seconds + GRAD_STEPS * out[f"R{depth}_seconds_per_step"]
    return theirs / ours


def run_authors_inference(theirs, images, start, steps: int) -> None:
    with torch.no_grad():
        authors_steps(theirs, images, start, steps)


def authors_difference(theirs, ours: CordsNet, images) -> float:
    """Largest relative difference of one step of both models with the same (random) weights."""
    with torch.no_grad():
        for bias in theirs.conv_bias:
            bias.normal_(0.0, 0.1)
        ours.load_state_dict(dict(convert_released(theirs.state_dict()), prelu_slope=ours.prelu_slope))
        start = {a: torch.rand(images.shape[0], *ours.area_shape(a)).to(images) for a in ours.areas}
        mine = ours.step(start, ours.encode(images))
        rs = authors_steps(theirs, (images - ours.mean) / ours.std, start, 1)
    return max(float((mine[a] - r).abs().max() / r.abs().max()) for a, r in zip(ours.areas, rs))


def measure(depth: int, args, device) -> dict:
    torch.manual_seed(depth)
    model = CordsNet(CordsNetConfig(depth=depth, image_size=args.size)).to(device)
    images = torch.rand(args.batch, 3, args.size, args.size, device=device)
    start = model.initial_state(args.batch)
    with torch.no_grad():
        drive = model.encode(images)
    drive = type(drive)(*(_leaf(d) for d in drive))
    floor = Floor(model, drive)
    out = {}
    cmp = compare(lambda: run_ours(model, drive, start, args.steps),
                  lambda: run_floor(floor, start, args.steps), repeats=args.repeats, device=device)
    per_step = cmp.candidate.median / args.steps
    speed = cmp.speedup
    out[f"R{depth}_floor_ratio"] = {"median": 1 / speed.median, "min": 1 / speed.max, "max": 1 / speed.min, "unit": "x"}
    out[f"R{depth}_seconds_per_step"] = per_step
    out[f"R{depth}_floor_seconds_per_step"] = cmp.reference.median / args.steps
    if args.heap_reuse:
        out[f"R{depth}_heap_reuse_speedup"] = heap_reuse_speedup(lambda: run_ours(model, drive, start, args.steps),
                                                                 args.repeats, device)
    encode = timeit(lambda: sum(d.sum() for d in model.encode(images)).backward(), args.repeats, device=device)
    out[f"R{depth}_encode_share"] = encode.median / (GRAD_STEPS * per_step)
    runners = {"ours": lambda t: run_ours(model, drive, start, t), "floor": lambda t: run_floor(floor, start, t)}
    if args.authors:
        theirs = load_authors(args.authors)(dataset="imagenet", depth=depth).to(device)
        x = (images - model.mean) / model.std
        speed = compare(lambda: run_ours(model, drive, start, args.steps),
                        lambda: run_authors(theirs, x, start, args.steps), repeats=args.repeats, device=device)
        out[f"R{depth}_authors_speedup"] = speed.speedup.as_dict()
        out[f"R{depth}_authors_seconds_per_step"] = speed.reference.median / args.steps
        inference = compare(lambda: run_ours_inference(model, drive, start, args.steps),
                            lambda: run_authors_inference(theirs, x, start, args.steps),
                            repeats=args.repeats, device=device)
        out[f"R{depth}_authors_inference_speedup"] = inference.speedup.as_dict()
        out[f"R{depth}_inference_seconds_per_step"] = inference.candidate.median / args.steps
        out[f"R{depth}_authors_inference_seconds_per_step"] = inference.reference.median / args.steps
        blank = timeit(lambda: run_authors_inference(theirs, x * 0, start, args.steps), args.repeats, device=device)
        out[f"R{depth}_authors_blank_seconds_per_step"] = blank.median / args.steps
        out[f"R{depth}_authors_max_rel_diff"] = authors_difference(theirs, model, images)
        runners["authors"] = lambda t: run_authors(theirs, x, start, t)
    steps = [int(s) for s in args.memory_steps.split(",")]
    for name, run in runners.items():
        peaks = [peak_memory(lambda t=t: run(t), device) for t in steps]
        per = slope(peaks, steps)
        out[f"R{depth}_{name}_bptt_mib_per_step"] = per
        out[f"R{depth}_{name}_bptt_mib_200_steps"] = max(peaks) + per * (GRAD_STEPS - max(steps))
    lengths = [2 * args.segment, 4 * args.segment]
    peaks = [peak_memory(lambda t=t: run_checkpointed(model, drive, start, t, args.segment), device) for t in lengths]
    per = slope(peaks, lengths)
    out[f"R{depth}_checkpointed_bptt_mib_per_step"] = per
    out[f"R{depth}_checkpointed_bptt_mib_200_steps"] = max(peaks) + per * (GRAD_STEPS - max(lengths))
    out[f"R{depth}_spontaneous_seconds"], out[f"R{depth}_spontaneous_steps"] = spontaneous_search(model, args.repeats, device)
    if args.authors:
        out[f"R{depth}_authors_presentation_speedup"] = presentation_speedup(out, depth, encode.median)
    return out


def main(argv=None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--depths", default="2,8")
    p.add_argument("--size", type=positive_int, default=224)
    p.add_argument("--batch", type=positive_int, default=8)
    p.add_argument("--steps", type=positive_int, default=4, help="Euler steps per timed call")
    p.add_argument("--memory-steps", default="1,2,3", help="BPTT lengths whose peak memory gives the slope")
    p.add_argument("--segment", type=positive_int, default=10, help="checkpointing segment (steps) of the low-memory run")
    p.add_argument("--authors", default=None, help="folder with the authors' cordsnet.py (not committed)")
    args = p.parse_args(argv)
    if args.quick:
        args.depths, args.batch, args.steps, args.repeats, args.memory_steps, args.segment = "2", 1, 2, 2, "1,2", 2
    if args.authors and args.size != 224:
        p.error("the authors' code is written for 224 px images only; use --size 224 with --authors")
    device = setup(args)
    metrics = {}
    notes = ("ratio = ours / floor (target <= 1.1); authors speedup = their time / ours (target >= 2), per "
             "gradient step and per 300-step training presentation; memory extrapolated linearly from the "
             "measured BPTT lengths")
    for depth in (int(d) for d in args.depths.split(",")):
        metrics.update(measure(depth, args, device))
        write_result(result_name("cordsnet_step", args), metrics, args.repeats, device, notes, config=vars(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
