"""Memory of one training step vs the number of recurrent steps: BPTT (linear) vs C-RBP (flat).

One hGRU classifier (the same weights for every measurement) is trained for one step on a
batch of Pathfinder-sized images with 5 to 80 recurrent steps, by back-propagation through time
and by contractor-RBP (RBP with 15 Neumann terms + the Lipschitz-Constant Penalty). Two figures
per run: the peak memory of the step above the level before it (RSS on CPU, the allocator
peak on CUDA; see :mod:`perf._harness`), and the bytes of the tensors autograd saves for the
backward pass (counted exactly with ``saved_tensors_hooks``). Ratios and slopes (MiB per
recurrent step) come from this one run.

``neurovision perf rbp_memory [--quick] [--device cuda]``
"""
from __future__ import annotations

import torch

from neurovision.families.recurrent.recurrent_classifier import build_recurrent_classifier
from neurovision.families.recurrent.recurrent_objective import RecurrentObjective

from ._harness import PeakMemory, parser, setup, slope, write_result

STEPS = (5, 10, 20, 40, 80)


def saved_bytes(fn) -> int:
    """Bytes of the distinct tensors autograd saves for backward while ``fn()`` builds its graph."""
    seen: dict[int, int] = {}

    def pack(t):
        if t.device.type != "meta":
            seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return sum(seen.values())


def training_step(model, objective, batch):
    """Forward, loss and backward of one batch (gradients cleared first)."""
    model.zero_grad(set_to_none=True)
    loss, _ = objective(model, batch)
    loss.backward()


def main(argv=None) -> None:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    device = setup(args)
    steps = STEPS[:3] if args.quick else STEPS
    torch.manual_seed(0)
    model = build_recurrent_classifier("hgru", channels=8, kernel=5, input_shape=(1, 40, 40), steps=6).to(device)
    batch = (torch.rand(8, 1, 40, 40, device=device), torch.randint(0, 2, (8,), device=device))
    objectives = {"bptt": lambda n: RecurrentObjective.named("bptt", steps=n),
                  "c-rbp": lambda n: RecurrentObjective.named("c-rbp", steps=n, terms=15)}
    peak = {name: [] for name in objectives}
    saved = {name: [] for name in objectives}
    for n in steps:
        for name, make in objectives.items():
            objective = make(n)
            training_step(model, objective, batch)  # warm-up: allocator and lazy init
            runs = []
            for _ in range(args.repeats):
                with PeakMemory(device) as meter:
                    training_step(model, objective, batch)
                runs.append(meter.peak_mib)
            peak[name].append(sorted(runs)[len(runs) // 2])
            saved[name].append(saved_bytes(lambda: objective(model, batch)) / 2**20)
            print(f"{name:6s} {n:3d} steps: peak {peak[name][-1]:8.1f} MiB, saved for backward "
                  f"{saved[name][-1]:8.1f} MiB", flush=True)
    metrics = {}
    for name in objectives:
        key = name.replace("-", "_")
        metrics[f"{key}_peak_mib"] = dict(zip(map(str, steps), peak[name]))
        metrics[f"{key}_saved_mib"] = dict(zip(map(str, steps), saved[name]))
        metrics[f"{key}_peak_mib_per_step"] = slope(peak[name], steps)
        metrics[f"{key}_saved_mib_per_step"] = slope(saved[name], steps)
    metrics["peak_ratio_bptt_over_crbp_at_max_steps"] = peak["bptt"][-1] / max(peak["c-rbp"][-1], 1e-9)
    metrics["saved_ratio_bptt_over_crbp_at_max_steps"] = saved["bptt"][-1] / saved["c-rbp"][-1]
    write_result("rbp_memory", metrics, repeats=args.repeats, device=device,
                 notes="hGRU 8 channels, 5x5 kernels, batch 8 of 40x40 images; one training step",
                 config={"steps": list(steps), "batch": 8, "channels": 8, "kernel": 5, "size": 40})


if __name__ == "__main__":
    main()
