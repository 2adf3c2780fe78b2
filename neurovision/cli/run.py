"""``neurovision run MODEL``: record a model's binned activity on images into NetCDF."""
from __future__ import annotations

from ._common import (add_device, add_download, add_model_options, add_out, add_quiet, check_limit,
                      enable_downloads, load_model_checked, positive_int, resolve_device)


def register(sub) -> None:
    parser = sub.add_parser("run", help="run a model on images and save binned activity (NetCDF)",
                            description=__doc__)
    parser.add_argument("model", help="registered model id (see `neurovision list models`)")
    add_model_options(parser)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", help="folder of image files (png, jpg, ...; one size)")
    source.add_argument("--dataset", help="data set: fashion-mnist, cifar10-subset (local), mnist, cifar10, "
                                          "cifar100 (torchvision, see --download)")
    parser.add_argument("--split", default="test", choices=["train", "test"], help="split of --dataset")
    parser.add_argument("--limit", type=positive_int, default=None,
                        help="use only the first N images (at most the data set's size; default: all)")
    parser.add_argument("--schedule", default="blank:50,image:100,blank:50",
                        help="epochs as name:ms, e.g. 'blank:50,image:100,blank:50'")
    parser.add_argument("--areas", default=None, help="comma-separated areas (default: the last area)")
    parser.add_argument("--time-bins", default="0:100:10", help="ms after onset, start:stop:width")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="images per forward pass")
    add_out(parser, "file", help="output NetCDF file")
    add_quiet(parser)
    add_download(parser)
    add_device(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from ..data.datasets import load_dataset
    from ..data.images import load_image_folder, prepare_images
    from ..dynamics import Schedule, record, save_activity
    from ..reliability.provenance import provenance
    from ..seeding import seed_everything

    seed_everything(args.seed)
    enable_downloads(args)
    device = resolve_device(args.device)
    model = load_model_checked(args.model, args.model_option)
    if args.images is not None:
        images, ids = load_image_folder(Path(args.images))
        what = f"images in {args.images}"
    else:
        data = load_dataset(args.dataset, args.split)
        images, ids = data.images, data.stimulus_ids
        what = f"images of {args.dataset} ({args.split})"
    limit = check_limit(args.limit, len(images), what)
    images = prepare_images(images[:limit], model.input_shape)
    areas = args.areas.split(",") if args.areas else None
    activity = record(model, images, Schedule.parse(args.schedule), areas, args.time_bins,
                      stimulus_ids=ids[:limit], batch_size=args.batch_size, device=device,
                      progress=not args.quiet)
    activity.attrs["model"] = args.model
    activity.attrs.update(provenance(args.seed, {k: v for k, v in vars(args).items() if k != "func"}))
    save_activity(activity, args.out)
    print(f"wrote {args.out}: {dict(activity.sizes)}")
    return 0
