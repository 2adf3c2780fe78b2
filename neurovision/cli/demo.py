"""``neurovision demo``: score a pretrained CordsNet on real macaque V4, offline (see neurovision.demo)."""
from __future__ import annotations

from ._common import add_out, add_quiet, non_negative_int, positive_int

DEFAULT_MODEL = "cordsnet-r2-cifar10"


def register(sub) -> None:
    parser = sub.add_parser(
        "demo", help="score a pretrained model on real macaque V4 with baselines and controls (offline)",
        description="Shows the model the 640 natural images of Cowley et al. 2023 for 100 ms each, records "
                    "its last area over time, chooses the model-to-neuron latency on training stimuli, maps "
                    "the activity to 50 V4 neurons with a cross-validated linear mapping and compares with an "
                    "image-shuffled permutation null, pixel and Gabor-V1 baselines and the untrained "
                    "architecture. Writes results.nc, figure.png, table.txt.")
    add_out(parser, default="demo-output", help="output folder")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="registered model id")
    parser.add_argument("--area", default=None, help="model area standing for V4 (default: the model's "
                                                     "declaration, else its last area)")
    parser.add_argument("--regression", choices=["ridge", "pls"], default="ridge",
                        help="cross-validated mapping (ridge: the permutation draws share one factorisation)")
    parser.add_argument("--shifts", default="0:60:20", help="candidate latencies in ms, start:stop:step")
    parser.add_argument("--permutations", type=non_negative_int, default=100,
                        help="image-shuffled null draws (0: none, else >= 19)")
    parser.add_argument("--untrained-seeds", type=non_negative_int, default=1,
                        help="untrained controls of the model (random weights), seeds 0..N-1 (each is a full recording; "
                             "3 for the s.d. over seeds)")
    parser.add_argument("--batch-size", type=positive_int, default=128, help="images per forward pass")
    parser.add_argument("--threads", type=positive_int, default=2, help="torch and BLAS CPU threads")
    add_quiet(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    from .. import demo

    return demo.run(args)
