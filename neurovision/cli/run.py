"""``neurovision run MODEL``: record a model's binned activity on images into NetCDF."""
from __future__ import annotations

from pathlib import Path

from ..data.datasets import load_dataset
from ..data.images import load_image_folder, prepare_images
from ..dynamics import Schedule, record, save_activity
from ..errors import NeurovisionError
from ..registry import load_model
from ..reliability.provenance import provenance
from ..seeding import seed_everything
from ._common import add_device, resolve_device


def register(sub) -> None:
    parser = sub.add_parser("run", help="run a model on images and save binned activity (NetCDF)")
    parser.add_argument("model", help="registered model id (see `neurovision list models`)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", type=Path, help="folder of image files")
    source.add_argument("--dataset", help="data set name, e.g. fashion-mnist, cifar10-subset")
    parser.add_argument("--split", default="test", choices=["train", "test"])
    parser.add_argument("--limit", type=int, default=None, help="use only the first N images")
    parser.add_argument("--schedule", default="blank:50,image:100,blank:50",
                        help="epochs as name:ms, e.g. 'blank:50,image:100,blank:50'")
    parser.add_argument("--areas", default=None, help="comma-separated areas (default: last area)")
    parser.add_argument("--time-bins", default="0:100:10", help="ms after onset, start:stop:width")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", type=Path, required=True, help="output NetCDF file")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_device(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    seed_everything(args.seed)
    device = resolve_device(args.device)
    model = load_model(args.model)
    if args.images is not None:
        images, ids = load_image_folder(args.images)
    else:
        data = load_dataset(args.dataset, args.split)
        images, ids = data.images, data.stimulus_ids
    if args.limit is not None:
        if args.limit <= 0:
            raise NeurovisionError(f"--limit must be positive, got {args.limit}; give a number of images >= 1")
        images, ids = images[: args.limit], ids[: args.limit]
    images = prepare_images(images, model.input_shape)
    areas = args.areas.split(",") if args.areas else None
    activity = record(model, images, Schedule.parse(args.schedule), areas, args.time_bins,
                      stimulus_ids=ids, batch_size=args.batch_size, device=device,
                      progress=not args.quiet)
    activity.attrs["model"] = args.model
    activity.attrs.update(provenance(args.seed, {k: v for k, v in vars(args).items() if k != "func"}))
    save_activity(activity, args.out)
    print(f"wrote {args.out}: {dict(activity.sizes)}")
    return 0
