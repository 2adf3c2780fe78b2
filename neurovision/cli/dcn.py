"""``neurovision dcn EXPERIMENT``: the Deep Continuous Networks experiments (Tomen et al. 2021)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import NeurovisionError
from ..io import atomic_path
from ..training.distributed import add_arguments, session
from ._common import add_device, resolve_device


def _ints(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise NeurovisionError(f"expected comma-separated integers, got {text!r}") from None


def _add_run_options(parser) -> None:
    parser.add_argument("--epochs", type=int, default=100, help="training epochs (paper: 100)")
    parser.add_argument("--batch-size", type=int, default=128, help="mini-batch size (paper: 128)")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate at batch 128 (scaled linearly)")
    parser.add_argument("--method", default="dopri5", help="ODE solver: dopri5 (paper) or euler, midpoint, rk4")
    parser.add_argument("--steps", type=int, default=None, help="steps per block of a fixed-step solver")
    parser.add_argument("--adjoint", action="store_true", help="back-propagate with the adjoint method")
    parser.add_argument("--no-augment", action="store_true", help="no random translations and flips")
    parser.add_argument("--init", default=None, help="start from this trained network's weights (.pt of the "
                        "same variant), e.g. to fine-tune with a finer solver")
    parser.add_argument("--progress", action="store_true", help="show progress bars")
    add_device(parser)
    add_arguments(parser)


def _base_config(args):
    from ..families.dcn.classification import RunConfig

    if args.epochs < 1 or args.batch_size < 1:
        raise NeurovisionError("--epochs and --batch-size must be >= 1")
    return RunConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, method=args.method,
                     steps=args.steps, adjoint=args.adjoint, augment=not args.no_augment, seed=args.seed,
                     init=args.init)


def _write_json(data: dict, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1))
    print(f"wrote {path}")


def _add_analysis_options(parser, default_out: str) -> None:
    parser.add_argument("--models", required=True, help="comma-separated checkpoints (.pt) of trained networks")
    parser.add_argument("--test-per-class", type=int, default=10, help="test images per class")
    parser.add_argument("--method", default="dopri5", help="solver for the analysis (paper: dopri5)")
    parser.add_argument("--steps", type=int, default=None, help="steps per block of a fixed-step solver")
    parser.add_argument("--out", type=Path, default=Path(default_out))


def _load_models(args) -> dict:
    import torch

    from ..families.dcn.analysis import load_trained

    torch.set_num_threads(1)
    models = {}
    for path in (p for p in args.models.split(",") if p):
        model = load_trained(path)
        model.set_solver(args.method, args.steps)
        models[Path(path).stem] = model
    return models


def _test_images(args):
    from ..families.dcn.classification import balanced_test_set

    test = balanced_test_set(args.test_per_class)
    return test.images, test.labels


def register(sub) -> None:
    parser = sub.add_parser("dcn", help="Deep Continuous Networks experiments (train, analyse, figures)")
    experiments = parser.add_subparsers(dest="experiment", metavar="EXPERIMENT", required=True)

    classify = experiments.add_parser("classify", help="Table 1: train one network on CIFAR-10 and test it")
    classify.add_argument("--variant", default="dcn-ode", help="model id, e.g. dcn-ode, odenet, resnet-blocks")
    classify.add_argument("--dataset", default="cifar10-subset", choices=["cifar10-subset", "cifar10"],
                          help="cifar10 is the full set (torchvision download); cifar10-subset is local")
    classify.add_argument("--test-per-class", type=int, default=1000)
    classify.add_argument("--out", type=Path, default=Path("experiments/tomen2021_dcn/classification"))
    _add_run_options(classify)
    classify.set_defaults(func=run_classify)

    small = experiments.add_parser("small-data", help="Table 2: accuracy when training on k images per class")
    small.add_argument("--variants", default="dcn-ode,odenet,resnet-blocks", help="comma-separated model ids")
    small.add_argument("--k", default="128", help="images per class, comma-separated (e.g. 16,64,128)")
    small.add_argument("--repeats", type=int, default=3, help="runs with seeds --seed, --seed + 1, ... (paper: 3)")
    small.add_argument("--test-per-class", type=int, default=1000, help="test images per class (max 1000)")
    small.add_argument("--out", type=Path, default=Path("experiments/tomen2021_dcn/small_data"))
    _add_run_options(small)
    small.set_defaults(func=run_small_data)

    tab = experiments.add_parser("table", help="Table 2: small-data runs (mean ± std) beside the paper")
    tab.add_argument("--runs", type=Path, default=Path("experiments/tomen2021_dcn/small_data"), help="folder of run summaries")
    tab.add_argument("--out", type=Path, default=Path("experiments/tomen2021_dcn/small_data.json"),
                     help="JSON output; the markdown table goes next to it (.md)")
    tab.set_defaults(func=run_table)

    recon = experiments.add_parser("reconstruct", help="Table 3: decoders on frozen block-3 features")
    recon.add_argument("--encoders", required=True, help="comma-separated classifier checkpoints (.pt)")
    recon.add_argument("--k", type=int, default=128, help="training images per class")
    recon.add_argument("--repeats", type=int, default=3, help="decoders per encoder, seeds --seed, --seed + 1, ...")
    recon.add_argument("--test-per-class", type=int, default=100)
    recon.add_argument("--out", type=Path, default=Path("experiments/tomen2021_dcn/reconstruction"))
    _add_run_options(recon)
    recon.set_defaults(func=run_reconstruct)

    completion = experiments.add_parser("pattern-completion", help="eq. 4 D(t) and accuracy against mask size")
    _add_analysis_options(completion, "experiments/tomen2021_dcn/pattern_completion")
    completion.add_argument("--mask", type=int, default=6, help="mask size (px) for D(t)")
    completion.add_argument("--sizes", default="0,4,6,8,10,12", help="mask sizes (px) for the accuracy curve")
    completion.add_argument("--points", type=int, default=21, help="depth-times sampled in block 1")
    completion.add_argument("--region", default="map", choices=["map", "mask"],
                            help="sum D(t) over the whole feature map or the mask's footprint only")
    completion.set_defaults(func=run_pattern_completion)

    contrast = experiments.add_parser("contrast", help="Fig. 5: accuracy and NFE against input contrast")
    _add_analysis_options(contrast, "experiments/tomen2021_dcn/contrast")
    contrast.add_argument("--contrasts", default="0.03,0.1,0.3,1", help="contrast levels c")
    contrast.add_argument("--rescaled-blocks", type=int, default=3, help="blocks integrated over c T (1 or 3)")
    contrast.set_defaults(func=run_contrast)

    scales = experiments.add_parser("scales", help="Fig. 3: learned scales against depth, sigma^ji distribution")
    scales.add_argument("--models", required=True, help="comma-separated checkpoints (.pt) with SRF layers")
    scales.add_argument("--out", type=Path, default=Path("experiments/tomen2021_dcn/scales"))
    scales.set_defaults(func=run_scales)


def run_classify(args) -> int:
    import torch

    from ..data.datasets import load_dataset
    from ..families.dcn.classification import train_run

    torch.set_num_threads(1)
    config = _base_config(args)
    config.variant = args.variant
    train = load_dataset(args.dataset, "train", download=args.dataset == "cifar10")
    test = load_dataset(args.dataset, "test", download=args.dataset == "cifar10")
    labels = test.labels.numpy()
    test = test.subset(np.concatenate([np.flatnonzero(labels == c)[:args.test_per_class] for c in range(10)]))
    with session(args.distributed, resolve_device(args.device)) as (world, device):
        summary = train_run(config, train, test, args.out / f"{args.variant}-seed{args.seed}", device,
                            args.progress, world)
    if not world.is_main:
        return 0
    print(f"{args.variant}: test accuracy {summary['test']['accuracy']:.2f} %")
    return 0


def run_reconstruct(args) -> int:
    import torch

    from ..data.datasets import load_dataset
    from ..families.dcn.analysis import load_trained
    from ..families.dcn.classification import balanced_test_set
    from ..families.dcn.reconstruction import train_decoder

    torch.set_num_threads(1)
    train_all, test = load_dataset("cifar10-subset", "train"), balanced_test_set(args.test_per_class)
    results = {}
    with session(args.distributed) as (world, _):
        for path in (p for p in args.encoders.split(",") if p):
            encoder = load_trained(path)
            variant = encoder.name
            runs = []
            for seed in range(args.seed, args.seed + args.repeats):
                config = _base_config(args)
                config.variant, config.seed = variant, seed
                train = train_all.per_class(args.k, seed=seed)
                summary = train_decoder(encoder, variant, config, train.images, test.images,
                                        args.out / f"{variant}-decoder-seed{seed}", args.progress, world)
                runs.append(summary.get("test_mse_x1000"))
            if world.is_main:
                results[variant] = {"mse_x1000": runs, "mean": float(np.mean(runs)),
                                    "std": float(np.std(runs, ddof=1)) if len(runs) > 1 else 0.0}
                print(f"{variant:16s} reconstruction 1e3*MSE {results[variant]['mean']:.2f} "
                      f"+- {results[variant]['std']:.2f}")
    if world.is_main:
        _write_json(results, args.out / "summary.json")
    return 0


def run_pattern_completion(args) -> int:
    from ..families.dcn.analysis import accuracy_vs_mask, completion_distance
    from ..families.dcn.figures import completion_figure

    images, labels = _test_images(args)
    results = {}
    for name, model in _load_models(args).items():
        times = np.linspace(0.0, model.blocks[0].T, args.points)
        d = completion_distance(model, images, args.mask, times, region=args.region)
        results[name] = {"depth_times": times.tolist(), "mean": d.mean(1).tolist(), "std": d.std(1).tolist(),
                         "accuracy_vs_mask": accuracy_vs_mask(model, images, labels, _ints(args.sizes))}
        print(f"{name}: D(0) = {d[0].mean():.3f}, D(T) = {d[-1].mean():.3f}; "
              f"accuracy by mask {results[name]['accuracy_vs_mask']}")
    _write_json({"mask": args.mask, "region": args.region, "method": args.method, "models": results},
                args.out / "summary.json")
    print(f"wrote {completion_figure(results, args.out / 'completion.png')}")
    return 0


def run_contrast(args) -> int:
    from ..families.dcn.analysis import contrast_sweep
    from ..families.dcn.figures import contrast_figure

    images, labels = _test_images(args)
    contrasts = [float(c) for c in args.contrasts.split(",") if c]
    sweeps = {}
    for name, model in _load_models(args).items():
        sweeps[name] = contrast_sweep(model, images, labels, contrasts, args.rescaled_blocks)
        for row in sweeps[name]:
            print(f"{name} c={row['contrast']:g}: naive {row['naive']['accuracy']:.1f} % NFE {row['naive']['nfe_per_block']}"
                  f" | rescaled {row['rescaled']['accuracy']:.1f} % NFE {row['rescaled']['nfe_per_block']}")
    _write_json({"method": args.method, "rescaled_blocks": args.rescaled_blocks, "models": sweeps},
                args.out / "summary.json")
    print(f"wrote {contrast_figure(sweeps, args.out / 'contrast.png')}")
    return 0


def run_scales(args) -> int:
    from ..families.dcn.analysis import learned_scales, load_trained, scale_distribution
    from ..families.dcn.figures import scales_figure

    results = {}
    for path in (p for p in args.models.split(",") if p):
        model, name = load_trained(path), Path(path).stem
        per_filter = any(m.per_filter_scale for m in model.modules() if hasattr(m, "per_filter_scale"))
        results[name] = {"scales": learned_scales(model),
                         "distribution": scale_distribution(model) if per_filter else None}
        print(f"{name}: " + ", ".join(f"{k} {v:.2f}" for k, v in results[name]["scales"].items()))
        scales_figure(results[name]["scales"], results[name]["distribution"], args.out / f"{name}.png")
    _write_json(results, args.out / "summary.json")
    return 0


def run_small_data(args) -> int:
    import torch

    from ..families.dcn import VARIANTS
    from ..families.dcn.classification import small_data, summarise

    torch.set_num_threads(1)
    variants = [v for v in args.variants.split(",") if v]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise NeurovisionError(f"unknown variants {unknown}; choose from {sorted(VARIANTS)}")
    if args.repeats < 1:
        raise NeurovisionError(f"--repeats must be >= 1, got {args.repeats}")
    seeds = list(range(args.seed, args.seed + args.repeats))
    with session(args.distributed, resolve_device(args.device)) as (world, device):
        summaries = small_data(variants, _ints(args.k), seeds, _base_config(args), args.out,
                               args.test_per_class, device, args.progress, world)
    if not world.is_main:
        return 0
    table = summarise(summaries)
    for key, row in table.items():
        print(f"{key:28s} {row['mean']:6.2f} +- {row['std']:5.2f}  (n={row['n']})")
    _write_json(table, args.out / "summary.json")
    return 0


def run_table(args) -> int:
    from ..families.dcn.small_data_table import load_runs, markdown, table

    rows = table(load_runs(args.runs))
    text = markdown(rows)
    _write_json(rows, args.out)
    with atomic_path(args.out.with_suffix(".md")) as tmp:
        tmp.write_text(text)
    print(text)
    return 0
