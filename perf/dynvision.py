"""CordsNet here against DynVision 0.1.0's CordsNet: step time, BPTT memory, one training presentation.

DynVision (PyPI ``dynvision``, Lindner et al.) re-implements CordsNet in a general framework
(per-step stem convolution, delays, spatial biases, weight-normalised kernels recomputed at every
call). It is installed into its own virtual environment ``runs/dynvision-venv`` (its pinned
``ffcv`` does not build here: ``pip install --no-deps dynvision==0.1.0`` plus the packages its
model imports, see ``EXTRA``), which sees this project's packages (the same torch) through a
``.pth`` file. Both models run on the same shapes (CordsNet-R8, batch 8, 3 x 224 x 224 images,
dt = 2 ms, tau = 10 ms) in **alternating processes** (ours, theirs, ours, ...), each process
measuring, after one warm-up:

* ``forward``: seconds per Euler step without autograd (read-out included);
* ``train``: seconds per step of a forward+backward pass over ``--train-steps`` steps with the
  read-out and a cross-entropy loss at every step, and the peak memory of that pass (RSS growth
  on CPU, allocator peak on CUDA).

Both start from the zero state and run ``--warmup-steps`` (default 10) untimed steps on the
image first (without autograd), the same number for both: right after a reset DynVision's
connections, each delayed by one step, still carry empty inputs and the layers behind them are
skipped, so timing the first steps would favour it;
* ``presentation``: one training presentation of the 300-step protocol (100 spontaneous steps,
  100 image steps, 100 return steps) with a backward pass, at ``--presentation-batch``. Ours:
  :func:`~neurovision.families.cordsnet.protocol.protocol_loss` (spontaneous state searched
  anew, image drive encoded once); theirs: ``model(x)`` with ``idle_timesteps=100`` and 200
  input steps (image, then blank), cross-entropy on every output step. Both compute the
  weight-normalised kernels once per presentation (``parametrize.cached``; without it
  DynVision keeps a copy of every kernel per step, ~50 MB, which a 300-step graph cannot hold).
* ``bf16_*`` (ours only): the bfloat16-autocast lever on the same forward+backward pass (the
  convolutions in bfloat16, the state and its sums in float32): seconds per step, and the
  relative 2-norm difference of its final state (largest over areas) and of its parameter
  gradients from float32's; ``bf16_train_speedup`` is DynVision's float32 step over it;
* ``conv_peak_gflops``: GFLOP/s of a large 3 x 3 convolution (the machine's convolution peak)
  and each model's achieved GFLOP/s per forward step (FLOPs counted by
  ``torch.utils.flop_counter`` on our step).

Ratios are theirs / ours per alternating pair (median [min-max]). Without DynVision (offline,
install failure) the comparison is skipped and the reason written to the JSON; no ratio is
reported then. ``python -m perf.dynvision [--repeats 3] [--threads 1] [--quick] [--device cuda]``
(results ``dynvision``; with ``--threads N`` other than 1, ``dynvision_Nthreads``).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ._harness import Stats, nonnegative_int, parser, positive_int, result_name, setup, synchronize, write_result

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "runs" / "dynvision-venv"
VERSION = "0.1.0"
EXTRA = ["pytorch-lightning", "torchsummary", "ruamel.yaml", "seaborn", "wandb"]  # imported by its model


def venv_python() -> Path:
    return VENV / "bin" / "python"


def install() -> str | None:
    """Create ``runs/dynvision-venv`` with DynVision if missing; None when usable, else the reason."""
    python = venv_python()
    check = [str(python), "-c", "import dynvision, dynvision.models.cordsnet; print(dynvision.__version__ if hasattr(dynvision, '__version__') else '')"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return None
    site = next(Path(p) for p in sys.path if p.endswith("site-packages"))
    steps = [[sys.executable, "-m", "venv", str(VENV)],
             [str(python), "-m", "pip", "install", "-q", "--no-deps", f"dynvision=={VERSION}"],
             [str(python), "-m", "pip", "install", "-q", *EXTRA]]
    for command in steps:
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            return f"`{' '.join(command[2:])}` failed: {(done.stderr or done.stdout).strip()[-300:]}"
        if command[1:3] == ["-m", "venv"]:
            (VENV / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
             / "zz_neurovision_base.pth").write_text(f"{site}\n")
    done = subprocess.run(check, capture_output=True, text=True)
    return None if done.returncode == 0 else f"dynvision does not import: {done.stderr.strip()[-300:]}"


# -- worker side (runs in its own process) ----------------------------------------------------------
def _ours(args, device):
    import torch
    import torch.nn.functional as F
    from torch.nn.utils import parametrize

    from neurovision.families.cordsnet.network import CordsNet, CordsNetConfig
    from neurovision.families.cordsnet.protocol import Protocol, protocol_loss

    model = CordsNet(CordsNetConfig(depth=args.depth, image_size=args.size, n_classes=1000, dt=args.dt,
                                    tau=args.tau)).to(device)

    def warm(images, warmup):
        """The state after ``warmup`` steps from zero on ``images``, without autograd."""
        with torch.no_grad(), parametrize.cached():
            drive, state = cached_drive(images), model.zero_state(len(images))
            for _ in range(warmup):
                state = model.step(state, drive)
        return state

    def forward(images, steps, warmup):  # the constant image drive is encoded once per presentation
        state = warm(images, warmup)
        with torch.no_grad(), parametrize.cached():
            drive = cached_drive(images)
            synchronize(device)
            start = time.perf_counter()
            for _ in range(steps):
                state = model.step(state, drive)
                model.readout(state)
            synchronize(device)
        return time.perf_counter() - start

    drives = {}

    def cached_drive(images):
        if "drive" not in drives:
            drives["drive"] = model.encode(images)
        return drives["drive"]

    def bptt(images, labels, steps, warmup, low=False):
        """One timed forward+backward pass of ``steps`` steps after ``warmup`` untimed ones: seconds
        and the final state; convolutions in bfloat16 (autocast) when ``low``."""
        state = warm(images, warmup)
        model.zero_grad(set_to_none=True)
        synchronize(device)
        start = time.perf_counter()
        with parametrize.cached(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=low):
            drive = model.encode(images)
            loss = 0.0
            for _ in range(steps):
                state = model.step(state, drive)
                loss = loss + F.cross_entropy(model.readout(state), labels)
        loss.backward()
        synchronize(device)
        return time.perf_counter() - start, state

    def gradients() -> torch.Tensor:
        return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])

    def train(images, labels, steps, warmup):
        return bptt(images, labels, steps, warmup)[0]

    def bf16(images, labels, steps, warmup) -> dict:
        """The bfloat16-autocast lever on the same pass: seconds per step, and how far its final
        state (largest over areas) and parameter gradients are from float32's (relative 2-norms)."""
        _, state = bptt(images, labels, steps, warmup)
        grads = gradients()
        bptt(images, labels, 2, warmup, low=True)  # untimed: bfloat16 kernels and buffers
        seconds, low_state = bptt(images, labels, steps, warmup, low=True)
        low_grads = gradients()
        model.zero_grad(set_to_none=True)
        off = lambda got, want: float((got.detach() - want.detach()).norm() / want.detach().norm())  # noqa: E731
        return {"bf16_train_seconds_per_step": seconds / steps,
                "bf16_state_relative_difference": max(off(low_state[a], state[a]) for a in state),
                "bf16_gradient_relative_difference": off(low_grads, grads)}

    def presentation(images, labels):
        with torch.no_grad():
            model.bias[0].add_(0.0)  # a weight update: the spontaneous state is searched anew
        loss, _ = protocol_loss(model, images, labels, Protocol())
        loss.backward()

    def flops(images):
        from torch.utils.flop_counter import FlopCounterMode

        with torch.no_grad(), parametrize.cached():
            drive, state = model.encode(images), model.zero_state(len(images))
            with FlopCounterMode(display=False) as counter:
                model.readout(model.step(state, drive))
        return counter.get_total_flops()

    return model, forward, train, presentation, flops, bf16


def _theirs(args, device):
    import torch
    import torch.nn.functional as F
    from torch.nn.utils import parametrize
    from dynvision.models.cordsnet import CordsNet as DynCordsNet

    def build(idle, steps):
        model = DynCordsNet(n_timesteps=steps, input_dims=(steps, 3, args.size, args.size), n_classes=1000,
                            dt=args.dt, tau=args.tau, idle_timesteps=idle, init_with_pretrained=False)
        return model.to(device)

    model = build(0, args.train_steps)

    def run(images, first, steps):
        """Outputs (batch, class) of steps ``first .. first + steps - 1``, as ``model(x)`` runs them."""
        return [model._forward(images, t=t, feedforward_only=model.feedforward_only, store_responses=False)[0]
                for t in range(first, first + steps)]

    def warm(images, warmup):
        """Reset, then ``warmup`` steps on ``images`` without autograd (hidden states detached)."""
        with torch.no_grad(), parametrize.cached():
            model.reset((len(images), warmup, *images.shape[1:]))
            run(images, 0, warmup)
        for layer in model.modules():
            if hasattr(layer, "detach_hidden_states"):
                layer.detach_hidden_states()

    def forward(images, steps, warmup):
        warm(images, warmup)
        with torch.no_grad(), parametrize.cached():
            synchronize(device)
            start = time.perf_counter()
            run(images, warmup, steps)
            synchronize(device)
        return time.perf_counter() - start

    def train(images, labels, steps, warmup):
        warm(images, warmup)
        synchronize(device)
        start = time.perf_counter()
        with parametrize.cached():
            out = run(images, warmup, steps)
            loss = sum(F.cross_entropy(o, labels) for o in out)
        loss.backward()
        synchronize(device)
        return time.perf_counter() - start

    long = {}

    def presentation(images, labels):
        if "model" not in long:
            long["model"] = build(100, 200)
        x = torch.cat([images[:, None].expand(-1, 100, -1, -1, -1), torch.zeros_like(images)[:, None].expand(-1, 100, -1, -1, -1)], 1)
        with parametrize.cached():
            out = long["model"](x)
            loss = sum(F.cross_entropy(out[:, t], labels) for t in range(out.shape[1]))
        loss.backward()

    return model, forward, train, presentation, None, None


def _conv_peak(device, repeats: int) -> float:
    """GFLOP/s of a 3 x 3, 256 -> 256 channel convolution on 8 x 28 x 28 maps (best of ``repeats``)."""
    import torch
    import torch.nn.functional as F

    from ._harness import timeit

    x, w = torch.randn(8, 256, 28, 28, device=device), torch.randn(256, 256, 3, 3, device=device)
    with torch.no_grad():
        seconds = timeit(lambda: F.conv2d(x, w, padding=1), repeats, device=device).min
    return 2 * 8 * 256 * 256 * 9 * 28 * 28 / seconds / 1e9


def worker(args) -> dict:
    """Measure one model (``args.worker``) and return its figures."""
    import torch

    from ._harness import PeakMemory

    device = setup(args)
    torch.manual_seed(0)
    model, forward, train, presentation, flops, bf16 = (_ours if args.worker == "ours" else _theirs)(args, device)
    images = torch.rand(args.batch, 3, args.size, args.size, device=device)
    labels = torch.randint(0, 1000, (args.batch,), device=device)
    forward(images, args.forward_steps, args.warmup_steps)  # untimed call: allocator and caches
    out = {"forward_seconds_per_step": forward(images, args.forward_steps, args.warmup_steps) / args.forward_steps}
    train(images, labels, 2, args.warmup_steps)
    model.zero_grad(set_to_none=True)
    with PeakMemory(device) as memory:
        out["train_seconds_per_step"] = train(images, labels, args.train_steps, args.warmup_steps) / args.train_steps
    out["train_peak_mib"] = memory.peak_mib
    model.zero_grad(set_to_none=True)
    if args.presentation_batch:
        small = images[:args.presentation_batch]
        start = time.perf_counter()
        presentation(small, labels[:args.presentation_batch])
        out["presentation_seconds"] = time.perf_counter() - start
    if bf16 is not None:
        out.update(bf16(images, labels, args.train_steps, args.warmup_steps))
    if flops is not None:
        out["step_gflop"] = flops(images) / 1e9
        out["conv_peak_gflops"] = _conv_peak(device, 5)
    return out


# -- driver ---------------------------------------------------------------------------------------
def run_worker(name: str, args) -> dict:
    python = sys.executable if name == "ours" else str(venv_python())
    command = [python, "-m", "perf.dynvision", "--worker", name, "--device", args.device,
               "--batch", str(args.batch), "--size", str(args.size), "--depth", str(args.depth),
               "--train-steps", str(args.train_steps), "--forward-steps", str(args.forward_steps),
               "--warmup-steps", str(args.warmup_steps),
               "--presentation-batch", str(args.presentation_batch), "--dt", str(args.dt), "--tau", str(args.tau)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode:
        raise RuntimeError(f"{name} worker failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--batch", type=positive_int, default=8)
    p.add_argument("--size", type=positive_int, default=224)
    p.add_argument("--depth", type=positive_int, default=8, choices=[8], help="DynVision ships CordsNet-R8 only")
    p.add_argument("--dt", type=float, default=2.0)
    p.add_argument("--tau", type=float, default=10.0)
    p.add_argument("--train-steps", type=positive_int, default=20)
    p.add_argument("--forward-steps", type=positive_int, default=5)
    p.add_argument("--warmup-steps", type=nonnegative_int, default=10,
                   help="untimed steps from the zero state before forward and train are timed (both models)")
    p.add_argument("--presentation-batch", type=nonnegative_int, default=1, help="0 skips the presentation")
    p.add_argument("--worker", choices=["ours", "theirs"], help=argparse_hidden())
    p.set_defaults(repeats=3, threads=1)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args)))
        return 0
    if args.quick:
        args.batch, args.size, args.train_steps, args.forward_steps, args.presentation_batch = 1, 224, 3, 2, 0
        args.repeats = 1
    device = setup(args)
    reason = install()
    pairs = []
    for _ in range(args.repeats):
        ours = run_worker("ours", args)
        theirs = None if reason else run_worker("theirs", args)
        pairs.append((ours, theirs))
    metrics = {}
    for key in pairs[0][0]:
        metrics[f"ours_{key}"] = Stats.of([o[key] for o, _ in pairs])
    if reason is None:
        for key in ("forward_seconds_per_step", "train_seconds_per_step", "presentation_seconds", "train_peak_mib"):
            if key in pairs[0][1]:
                metrics[f"dynvision_{key}"] = Stats.of([t[key] for _, t in pairs])
                if key != "train_peak_mib":
                    metrics[f"{key.rsplit('_seconds', 1)[0]}_speedup"] = Stats.of([t[key] / o[key] for o, t in pairs], "x")
        if "bf16_train_seconds_per_step" in pairs[0][0]:
            metrics["bf16_train_speedup"] = Stats.of(
                [t["train_seconds_per_step"] / o["bf16_train_seconds_per_step"] for o, t in pairs], "x")
        metrics["forward_gflops_fraction_of_conv_peak"] = Stats.of(
            [o["step_gflop"] / o["forward_seconds_per_step"] / o["conv_peak_gflops"] for o, _ in pairs])
    notes = ("speedup = DynVision time / ours, per alternating pair of processes; CPU figures unless the "
             "machine says cuda" + (f"; DynVision comparison skipped: {reason}" if reason else ""))
    name = "dynvision" if args.threads == 1 else f"dynvision_{args.threads}threads"
    write_result(result_name(name, args), metrics, args.repeats, device, notes,
                 config={k: v for k, v in vars(args).items() if k != "worker"} | {"dynvision": VERSION,
                                                                                  "skipped": reason})
    return 0


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    sys.exit(main())
