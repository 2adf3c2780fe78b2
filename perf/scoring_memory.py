"""Peak memory of scoring a CordsNet-R8 early area (64 x 56 x 56 units) on a MajajHong2015-sized set.

The scoring pipeline (present images, record the area at every 2-ms step, reduce it on the fly,
bin it, fit span-time PLS over 10 splits) is run end to end and its resident-memory peak is
sampled. Two measurements:

* ``standin``: 3,200 images x 25 bins of 10 ms x 88 neuroids through a stand-in model whose
  single area has CordsNet-R8 area1's shape (64 x 56 x 56) and leaky dynamics driven by a fixed
  random convolution of the 224-px image, so the recording buffers, reducer, source array and
  regression are exactly those of the real area at full size, at a cost a 2-core CPU can run;
* ``cordsnet``: the real (untrained) CordsNet-R8 area1 on ``--cordsnet-images`` images
  (integrating all eight areas is too slow on a CPU for 3,200 images).

Without reduction the binned area would need 3,200 x 200,704 x 25 float32 = 64 GB.

``neurovision perf scoring_memory [--images 3200] [--bins 25] [--cordsnet-images 32] [--quick]``
"""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from neurovision.dynamics.base import SteppedModel

from ._harness import PeakMemory, parser, positive_int, result_name, setup, write_result


class AreaStandIn(SteppedModel):
    """One leaky area of ``shape`` (C, H, W), driven by a fixed random stride-4 convolution."""

    areas = ("area1",)

    def __init__(self, shape=(64, 56, 56), image_size: int = 224, tau: float = 10.0, dt: float = 2.0):
        super().__init__()
        self.shape, self.dt, self.tau = tuple(shape), dt, tau
        self.input_shape = (3, image_size, image_size)
        gen = torch.Generator().manual_seed(0)
        self.register_buffer("kernel", torch.randn(shape[0], 3, 7, 7, generator=gen) / 12)

    def area_shape(self, area):
        self.check_area(area)
        return self.shape

    def initial_state(self, batch_size):
        return {"area1": self.kernel.new_zeros(batch_size, *self.shape)}

    def encode(self, images):
        drive = F.relu(F.conv2d(images, self.kernel, stride=4, padding=3))
        return F.interpolate(drive, size=self.shape[1:]) if drive.shape[2:] != self.shape[1:] else drive

    def step(self, state, drive):
        r = state["area1"]
        target = torch.zeros_like(r) if drive is None else drive
        return {"area1": torch.lerp(r, target, self.dt / self.tau)}


def scoring_run(model, images: int, bins: int, neuroids: int = 88):
    """Score ``model``'s area1 on ``images`` random images against random neural data; seconds."""
    from neurovision.brain.benchmark import TemporalBenchmark
    from neurovision.brain.recordings import make_recording
    from neurovision.brain.scoring import ScoreConfig, score_model

    rng = np.random.default_rng(0)
    edges = [(10.0 * t, 10.0 * t + 10) for t in range(bins)]
    kinds = max(2, min(64, images // 10))
    objects = np.repeat([f"object{i:02d}" for i in range(kinds)], -(-images // kinds))[:images]
    recording = make_recording(rng.normal(size=(images, neuroids, bins)), [f"img{i:05d}" for i in range(images)],
                               [f"n{i}" for i in range(neuroids)], edges, "V4",
                               presentation_coords={"object_name": objects})

    def stimuli():  # generated per call, uint8 like real image files
        pixels = np.random.default_rng(1).integers(0, 255, (images, 64, 64, 3), dtype=np.uint8)
        return pixels, [f"img{i:05d}" for i in range(images)]

    benchmark = TemporalBenchmark("memory", "V4", recording, stimuli, 8.0, 100.0)
    start = time.perf_counter()
    result = score_model(model, benchmark, area="area1", progress=False,
                         config=ScoreConfig(shift=0, controls=()))
    return time.perf_counter() - start, int(result.attrs["n_features"])


def main(argv=None) -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--images", type=positive_int, default=3200)
    p.add_argument("--bins", type=positive_int, default=25)
    p.add_argument("--cordsnet-images", type=positive_int, default=32)
    p.set_defaults(repeats=1, threads=2)
    args = p.parse_args(argv)
    setup(args)
    images, bins, cordsnet_images = (128, 5, 24) if args.quick else (args.images, args.bins, args.cordsnet_images)
    from neurovision.registry import load_model

    with PeakMemory(interval=0.05) as standin_memory:
        standin_seconds, features = scoring_run(AreaStandIn(), images, bins)
    with PeakMemory(interval=0.05) as cordsnet_memory:
        cordsnet_seconds, _ = scoring_run(load_model("cordsnet-r8"), cordsnet_images, bins)
    metrics = {
        "standin_images": images,
        "standin_bins": bins,
        "area_units": 64 * 56 * 56,
        "reduced_features": features,
        "standin_peak_mib": standin_memory.peak_mib,
        "standin_seconds": standin_seconds,
        "cordsnet_images": cordsnet_images,
        "cordsnet_peak_mib": cordsnet_memory.peak_mib,
        "cordsnet_seconds": cordsnet_seconds,
        "unreduced_binned_gib": images * 64 * 56 * 56 * bins * 4 / 2**30,
    }
    write_result(result_name("scoring_memory", args), metrics, repeats=1,
                 config={"images": images, "bins": bins, "neuroids": 88, "reducer": "auto (spatial pool)",
                         "threads": args.threads},
                 notes="peak RSS above the starting level, sampled every 50 ms")


if __name__ == "__main__":
    main()
