"""``neurovision analyze pattern-completion | contrast | scales | small-data-table``: analyses of
trained Deep Continuous Networks (Tomen et al. 2021)."""
from __future__ import annotations

from pathlib import Path

from ._common import add_out, non_negative_int, positive_int
from .train_dcn import RESULTS, add_solver_options, ints, write_json

PARENT = "analyze"


def _add_analysis_options(parser, default_out: Path) -> None:
    parser.add_argument("--models", required=True, help="comma-separated checkpoints (.pt) of trained networks")
    parser.add_argument("--test-per-class", type=positive_int, default=10, help="test images per class")
    add_solver_options(parser)
    add_out(parser, default=default_out, help="output folder (summary.json and a figure)")


def register(sub) -> None:
    completion = sub.add_parser("pattern-completion", help="DCN: eq. 4 D(t) and accuracy against mask size")
    _add_analysis_options(completion, RESULTS / "pattern_completion")
    completion.add_argument("--mask", type=non_negative_int, default=6, help="mask side in px for D(t)")
    completion.add_argument("--sizes", default="0,4,6,8,10,12", help="mask sides in px for the accuracy curve")
    completion.add_argument("--points", type=positive_int, default=21, help="depth-times sampled in block 1")
    completion.add_argument("--region", default="map", choices=["map", "mask"],
                            help="sum D(t) over the whole feature map or the mask's footprint only")
    completion.set_defaults(func=run_pattern_completion)

    contrast = sub.add_parser("contrast", help="DCN: accuracy and NFE against input contrast (Fig. 5)")
    _add_analysis_options(contrast, RESULTS / "contrast")
    contrast.add_argument("--contrasts", default="0.03,0.1,0.3,1", help="contrast levels c (fractions)")
    contrast.add_argument("--rescaled-blocks", type=int, default=3, choices=[1, 3],
                          help="blocks integrated over c T")
    contrast.set_defaults(func=run_contrast)

    scales = sub.add_parser("scales", help="DCN: learned scales against depth, sigma^ji distribution (Fig. 3)")
    scales.add_argument("--models", required=True, help="comma-separated checkpoints (.pt) with SRF layers")
    add_out(scales, default=RESULTS / "scales", help="output folder (summary.json, one figure per model)")
    scales.set_defaults(func=run_scales)

    table = sub.add_parser("small-data-table", help="DCN: small-data runs (mean ± std) beside the paper's Table 2")
    table.add_argument("--runs", default=str(RESULTS / "small_data"),
                       help="folder of `train dcn small-data` run summaries")
    add_out(table, "file", default=RESULTS / "small_data.json",
            help="JSON output file; the markdown table goes next to it (.md)")
    table.set_defaults(func=run_table)


def _load_models(args) -> dict:
    import torch

    from ..families.dcn.analysis import load_trained

    torch.set_num_threads(1)
    models = {}
    for path in (p for p in args.models.split(",") if p):
        model = load_trained(path)
        model.set_solver(args.method, args.solver_steps)
        models[Path(path).stem] = model
    return models


def _test_images(args):
    from ..families.dcn.classification import balanced_test_set

    test = balanced_test_set(args.test_per_class)
    return test.images, test.labels


def run_pattern_completion(args) -> int:
    import numpy as np

    from ..families.dcn.analysis import accuracy_vs_mask, completion_distance
    from ..families.dcn.figures import completion_figure

    images, labels = _test_images(args)
    results = {}
    for name, model in _load_models(args).items():
        times = np.linspace(0.0, model.blocks[0].T, args.points)
        d = completion_distance(model, images, args.mask, times, region=args.region)
        results[name] = {"depth_times": times.tolist(), "mean": d.mean(1).tolist(), "std": d.std(1).tolist(),
                         "accuracy_vs_mask": accuracy_vs_mask(model, images, labels, ints(args.sizes))}
        print(f"{name}: D(0) = {d[0].mean():.3f}, D(T) = {d[-1].mean():.3f}; "
              f"accuracy by mask {results[name]['accuracy_vs_mask']}")
    write_json({"mask": args.mask, "region": args.region, "method": args.method, "models": results},
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
    write_json({"method": args.method, "rescaled_blocks": args.rescaled_blocks, "models": sweeps},
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
    write_json(results, args.out / "summary.json")
    return 0


def run_table(args) -> int:
    from ..families.dcn.small_data_table import load_runs, markdown, table
    from ..io import atomic_path

    rows = table(load_runs(Path(args.runs)))
    text = markdown(rows)
    write_json(rows, args.out)
    with atomic_path(args.out.with_suffix(".md")) as tmp:
        tmp.write_text(text)
    print(text)
    return 0
