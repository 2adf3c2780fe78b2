"""``neurovision analyze ANALYSIS``: analyses that write their results to a folder.

Dynamics (any registered model or trained networks):

* ``spectrum MODEL --area A``: top-k eigenvalues of an area's recurrent weight by Arnoldi
  iteration (never expanding it), to NetCDF and a plot;
* ``trajectories MODEL``: PCA trajectories of an area for images presented, removed and switched,
  with their overshoot and oscillation modes;
* ``regimes``: stable / oscillatory / chaotic regimes of Gaussian-initialised tanh networks;
* ``cross-architecture``: CordsNet vs full-rank, low-rank and sparse RNNs on five tasks;
* ``attractors``: ring, line and discrete attractors holding memory in trained networks;
* ``early-late``: one CordsNet fine-tuned to classify early vs late after onset (Fig. 4B).

Runs of ``neurovision train``: ``task`` (behaviour, PSTHs, benchmark score of a task run);
DCN networks: ``pattern-completion``, ``contrast``, ``scales``, ``small-data-table``;
recurrent networks: ``measure``, ``indices``, ``state-space``.
"""
from __future__ import annotations

import time

from ..errors import NeurovisionError
from ._common import (add_device, add_model_options, add_out, add_seed, add_threads, load_model_checked,
                      positive_float, positive_int)


def register(sub) -> None:
    from .main import register_children

    parser = sub.add_parser("analyze", help="analyses: dynamics, task runs, DCN and recurrent networks",
                            description=__doc__)
    what = parser.add_subparsers(dest="analysis", required=True, metavar="ANALYSIS")

    spectrum = what.add_parser("spectrum", help="top-k eigenvalues of an area's recurrent weight (Arnoldi)")
    spectrum.add_argument("model", help="registered model id exposing recurrent_conv/recurrent_weight")
    add_model_options(spectrum)
    spectrum.add_argument("--area", default=None, help="area (default: the first)")
    spectrum.add_argument("--n-eigenvalues", type=positive_int, default=100,
                          help="eigenvalues computed (fewer than the area's units)")
    spectrum.add_argument("--which", default="LM", choices=["LM", "LR"],
                          help="largest modulus (LM) or largest real part (LR)")
    add_out(spectrum, help="output folder (spectrum.nc, spectrum.png)")
    add_device(spectrum)
    spectrum.set_defaults(func=run_spectrum)

    regimes = what.add_parser("regimes", help="regimes of Gaussian-initialised tanh networks vs gain")
    add_out(regimes, help="output folder")
    regimes.add_argument("--gains", default="0.5,1.0,1.25,1.5,2,3,4", help="comma-separated gains g")
    regimes.add_argument("--seeds", type=positive_int, default=2, help="networks per gain and kind")
    regimes.add_argument("--kinds", default="dense,conv,cordsnet", help="dense, conv and/or cordsnet")
    regimes.add_argument("--solver-steps", type=positive_int, default=2000,
                         help="Euler steps of the transient and of the recorded part, each")
    regimes.set_defaults(func=run_regimes)

    cross = what.add_parser("cross-architecture", help="CordsNet vs full/low-rank/sparse RNNs on five tasks")
    add_out(cross, help="output folder (trained networks are reused)")
    cross.add_argument("--train-steps", type=positive_int, default=1500,
                       help="optimisation steps per network")
    cross.add_argument("--seeds", type=positive_int, default=2, help="networks per architecture and task")
    cross.add_argument("--tasks", default=None, help="comma-separated task ids (default: the five)")
    cross.add_argument("--architectures", default=None,
                       help="comma-separated: cordsnet, full, low-rank, sparse (default: all four)")
    cross.add_argument("--eval-trials", type=positive_int, default=400, help="trials for accuracy and trajectories")
    cross.set_defaults(func=run_cross)

    traj = what.add_parser("trajectories", help="PCA trajectories of an area for present/remove/switch")
    traj.add_argument("model", help="registered model id")
    add_model_options(traj)
    traj.add_argument("--dataset", default="cifar10-subset", help="data set of the images")
    traj.add_argument("--classes", default="0,1,2", help="one test image of each of these classes")
    traj.add_argument("--area", default=None, help="area (default: the last)")
    traj.add_argument("--blank", type=positive_float, default=100.0, help="ms before the first image")
    traj.add_argument("--image", type=positive_float, default=200.0, help="ms each image is shown")
    traj.add_argument("--after", type=positive_float, default=200.0, help="ms after the images")
    traj.add_argument("--n-components", type=positive_int, default=3, help="principal components kept")
    add_out(traj, help="output folder")
    add_device(traj)
    traj.set_defaults(func=run_trajectories)

    memory = what.add_parser("attractors", help="attractors holding memory in networks trained on delay tasks")
    add_out(memory, help="output folder (trained networks are reused)")
    memory.add_argument("--architecture", default="cordsnet", choices=["cordsnet", "full", "low-rank", "sparse"],
                        help="network trained on the tasks")
    memory.add_argument("--train-steps", type=positive_int, default=1500, help="optimisation steps per network")
    memory.add_argument("--tasks", default=None, help="comma-separated: memory-pro, parametric-working-memory, "
                        "perceptual-decision-making (default: all three)")
    add_seed(memory)
    memory.add_argument("--delay", default=None, metavar="LO,HI",
                        help="draw each trial's delay uniformly in [LO, HI] ms (default: each task's own)")
    memory.set_defaults(func=run_memory)

    timing = what.add_parser("early-late", help="a CordsNet fine-tuned to classify early vs late (Fig. 4B)")
    add_out(timing, help="output folder (fine-tuned models are reused)")
    timing.add_argument("--model", default="cordsnet-r2-fmnist", help="registered trained CordsNet to start from")
    timing.add_argument("--dataset", default="fashion-mnist", help="its data set")
    timing.add_argument("--early", default="20,10", metavar="IMAGE,CE",
                        help="early protocol: image steps, scored last steps, in Euler steps of dt (20,10: 22-40 ms)")
    timing.add_argument("--train-steps", type=positive_int, default=150, help="fine-tuning batches per variant")
    timing.add_argument("--batch-size", type=positive_int, default=32, help="images per batch")
    timing.add_argument("--lr", type=positive_float, default=1e-4, help="learning rate")
    timing.add_argument("--n-test", type=positive_int, default=500, help="test images measured")
    add_seed(timing)
    timing.set_defaults(func=run_early_late)

    for sub_parser in (regimes, cross, memory, timing):
        add_threads(sub_parser)
    register_children(what, "analyze")


def run_spectrum(args) -> int:
    from ..analysis import arnoldi_eigs, recurrent_operator, save_result
    from ..analysis.results import to_dataset
    from ..analysis.plotting import plot_spectrum
    from ..seeding import seed_everything

    seed_everything(args.seed)
    model = load_model_checked(args.model, args.model_option).to(args.device).eval()
    area = args.area or model.areas[0]
    op = recurrent_operator(model, area)
    if not args.n_eigenvalues < op.n:
        raise NeurovisionError(f"--n-eigenvalues {args.n_eigenvalues}: give fewer than the area's {op.n} units")
    start = time.perf_counter()
    spectrum = arnoldi_eigs(op, k=args.n_eigenvalues, which=args.which)
    seconds = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    data = save_result(to_dataset(spectrum).assign_attrs(
        model=args.model, area=area, units=op.n, which=args.which, seconds=seconds,
        applications=spectrum.n_applications, restarts=spectrum.restarts), args.out / "spectrum.nc")
    import matplotlib

    matplotlib.use("Agg")
    ax = plot_spectrum(spectrum, boundary="unit-circle")
    ax.set_title(f"{args.model} {area}: top {args.n_eigenvalues} eigenvalues of W_rec", fontsize=9)
    ax.figure.savefig(args.out / "spectrum.png", dpi=120)
    print(f"{args.model} {area}: {op.n} units, {int(spectrum.converged.sum())}/{args.n_eigenvalues} eigenvalues converged "
          f"in {seconds:.1f} s ({spectrum.n_applications} operator applications); spectral radius "
          f"{spectrum.spectral_radius:.4f}; wrote {data} and spectrum.png")
    return 0


def run_regimes(args) -> int:
    import torch

    from ..analysis.regimes import write_sweep

    torch.set_num_threads(args.threads)
    table = write_sweep(args.out, [float(g) for g in args.gains.split(",")], args.seeds,
                        tuple(args.kinds.split(",")), args.solver_steps)
    print(table.groupby(["kind", "gain"])["regime"].agg("/".join).to_string())
    return 0


def run_cross(args) -> int:
    import torch

    from ..families.cordsnet.cross_architecture import ARCHITECTURES, TASK_CONDITIONS, ExperimentConfig, run

    torch.set_num_threads(args.threads)
    config = ExperimentConfig(
        tasks=tuple(args.tasks.split(",")) if args.tasks else tuple(TASK_CONDITIONS),
        architectures=tuple(args.architectures.split(",")) if args.architectures else tuple(ARCHITECTURES),
        seeds=tuple(range(args.seeds)), steps=args.train_steps, eval_trials=args.eval_trials)
    result = run(config, args.out)
    print(result["accuracy"].to_string(index=False))
    print(result["summary"].pivot_table(index=["metric", "to"], columns="task", values="distance").round(3))
    return 0


def run_memory(args) -> int:
    import torch

    from ..families.cordsnet.memory import MEMORY_TASKS, run

    torch.set_num_threads(args.threads)
    tasks = tuple(args.tasks.split(",")) if args.tasks else tuple(MEMORY_TASKS)
    delay = tuple(float(v) for v in args.delay.split(",")) if args.delay else None
    if delay is not None and len(delay) != 2:
        raise NeurovisionError(f"--delay {args.delay}: give two durations LO,HI in ms")
    table = run(args.out, args.architecture, args.train_steps, args.seed, tasks, delay=delay)
    print(table[["task", "accuracy", "expected", "found", "n_points", "fixed", "slow"]].to_string(index=False))
    return 0


def run_trajectories(args) -> int:
    from ..analysis.trajectories import write_experiment
    from ..data.datasets import load_dataset
    from ..data.images import prepare_images
    from ..seeding import seed_everything

    seed_everything(args.seed)
    model = load_model_checked(args.model, args.model_option).to(args.device).eval()
    data = load_dataset(args.dataset, "test")
    picks = []
    for label in (int(c) for c in args.classes.split(",")):
        hits = (data.labels == label).nonzero().flatten()
        if len(hits) == 0:
            raise NeurovisionError(f"class {label} not in {args.dataset}; classes are 0..{len(data.classes) - 1}")
        picks.append(int(hits[0]))
    images = prepare_images(data.images[picks], model.input_shape)
    names = [data.classes[int(data.labels[i])] for i in picks]
    table = write_experiment(model, images, names, args.out, area=args.area, blank_ms=args.blank,
                             image_ms=args.image, after_ms=args.after, n_components=args.n_components)
    print(table.to_string(index=False))
    return 0


def run_early_late(args) -> int:
    import torch

    from ..families.cordsnet.early_late import EarlyLateConfig, run

    torch.set_num_threads(args.threads)
    try:
        image, ce = (int(v) for v in args.early.split(","))
    except ValueError:
        raise NeurovisionError(f"--early {args.early!r}: give two integers IMAGE,CE (steps of dt)") from None
    config = EarlyLateConfig(model=args.model, dataset=args.dataset, early_image_steps=image, early_ce_steps=ce,
                             steps=args.train_steps, batch_size=args.batch_size, lr=args.lr, n_test=args.n_test,
                             seed=args.seed)
    report = run(config, args.out)
    for name, v in report["variants"].items():
        acc = v["accuracy_by_step"]
        print(f"trained {name}: accuracy at 20/40/100/200 ms {acc[9]:.3f}/{acc[19]:.3f}/{acc[49]:.3f}/{acc[-1]:.3f}")
        for area, a in v["areas"].items():
            print(f"  {area}: overshoot {a['overshoot_mean']:.3f}, peak/final {a['peak_over_final']:.3f}, "
                  f"max |Im| {a['max_abs_imag']:.4f}, mean |Im| {a['mean_abs_imag']:.4f}, "
                  f"spectral radius {a['spectral_radius']:.3f}")
    return 0
