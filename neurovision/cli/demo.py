"""``neurovision demo``: score a pretrained CordsNet on real macaque V4, offline (see neurovision.demo)."""
from __future__ import annotations

from ._common import add_out, add_quiet, non_negative_int, positive_int

DEFAULT_MODEL = "cordsnet-r2-cifar10"


def register(sub) -> None:
    parser = sub.add_parser(
        "demo", help="score a pretrained model on real macaque V4 (offline, about a minute)",
        description="Shows the model the 640 natural images of Cowley et al. 2023 for 100 ms each, records "
                    "its last area over time, chooses the model-to-neuron latency on training stimuli, maps "
                    "the activity to 50 V4 neurons with cross-validated PLS and compares with an "
                    "image-shuffled control and a permutation null. Writes results.nc, figure.png, table.txt.")
    add_out(parser, default="demo-output", help="output folder")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="registered model id")
    parser.add_argument("--area", default=None, help="model area standing for V4 (default: the model's last area)")
    parser.add_argument("--shifts", default="0:60:20", help="candidate latencies in ms, start:stop:step")
    parser.add_argument("--permutations", type=non_negative_int, default=50, help="permutation-null draws")
    parser.add_argument("--threads", type=positive_int, default=2, help="torch CPU threads")
    add_quiet(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    from .. import demo

    return demo.run(args)
