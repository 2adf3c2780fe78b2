"""Memory stability under load: RSS across batches of a long recording and a long training run.

* **Scoring-sized recording**: 3,200 stimuli x 25 time bins of 10 ms, presented to a CordsNet
  through the Brain-Score adapter's recorder (:class:`neurovision.brain.presentation.ModelRecorder`,
  spatially pooled to <= 1,024 features) in chunks of 320 stimuli whose results are kept, as
  scoring keeps them. RSS is read after every chunk; the results held grow by design, so the
  figure of merit is the slope of RSS minus the bytes of the results held (``leak``), in MiB
  per 1,000 stimuli, over the whole run and its second half, next to the raw slope.
* **Back-end training**: a back-end trained on 10,000 fresh trials of
  ``perceptual-decision-making`` (312 batches of 32) with the back-end's masked task loss in the
  generic training loop; RSS is read at every batch. Slope in MiB per 1,000 trials over the second half of the run
  (after allocator warm-up) and over the whole run.

A slope near 0 means no memory grows across batches.
"""
from __future__ import annotations

import gc

import torch

from ._harness import parser, positive_int, result_name, rss_mib, setup, slope, write_result


def recording_trace(n_stimuli: int = 3200, n_bins: int = 25, chunk: int = 320, size: int = 32,
                    depth: int = 2, device="cpu") -> dict:
    """RSS (MiB) after each chunk of a time-resolved recording of ``n_stimuli`` images."""
    from neurovision.brain.presentation import ModelRecorder
    from neurovision.families.cordsnet.network import CordsNet, CordsNetConfig

    torch.manual_seed(0)
    model = CordsNet(CordsNetConfig(depth=depth, image_size=size, n_classes=10)).eval()
    recorder = ModelRecorder(model, "cordsnet", stimulus_ms=100.0, blank_before_ms=50.0,
                             batch_size=32, device=device, progress=False)
    bins = [(10.0 * i, 10.0 * (i + 1)) for i in range(n_bins)]
    area = model.areas[-1]
    held, rss, stimuli = [], [], []
    gc.collect()
    start = rss_mib()
    for first in range(0, n_stimuli, chunk):
        gen = torch.Generator().manual_seed(first)
        images = torch.rand(min(chunk, n_stimuli - first), 3, size, size, generator=gen)
        ids = [f"s{first + i:05d}" for i in range(len(images))]
        held.append(recorder.record(recorder.prepare(images), ids, area, bins))
        gc.collect()
        rss.append(rss_mib())
        stimuli.append(first + len(images))
    held_mib = [sum(a.nbytes for a in held[: k + 1]) / 2**20 for k in range(len(held))]
    leak = [r - h for r, h in zip(rss, held_mib)]
    per_1000 = [s / 1000 for s in stimuli]
    half = len(rss) // 2
    return {"start_mib": start, "end_mib": rss[-1], "results_mib": held_mib[-1],
            "raw_slope": slope(rss, per_1000), "leak_slope": slope(leak, per_1000),
            "leak_slope_second_half": slope(leak[half:], per_1000[half:]) if len(rss) > 3 else None,
            "features": int(held[0].sizes["neuroid"]), "rss": rss}


def training_trace(n_trials: int = 10_000, batch_size: int = 32, units: int = 64, device="cpu") -> dict:
    """RSS (MiB) at every batch of back-end training on ``n_trials`` fresh task trials.

    The back-end's task loss in the generic loop, as :func:`neurovision.backend.training.train`
    runs it, with the trial sampler wrapped to read RSS before each batch.
    """
    from neurovision import load_task
    from neurovision.backend.build import build_backend
    from neurovision.backend.training import task_loss
    from neurovision.backend.trials import TrialSampler
    from neurovision.training.loop import TrainConfig, fit

    env = load_task("perceptual-decision-making", seed=0)
    backend = build_backend("full", env.observation_space.shape[0], env.action_space.n, units=units)
    sampler = TrialSampler(env, fixation_weight=0.1)
    rss = []

    def sample(n, generator):
        rss.append(rss_mib())
        return sampler(n, generator)

    gc.collect()
    start = rss_mib()
    steps = n_trials // batch_size
    fit(backend, task_loss, sample, TrainConfig(batch_size=batch_size, steps_per_epoch=steps, lr=3e-3,
                                                grad_clip=1.0), device=device, progress=False)
    trials = [(k + 1) * batch_size / 1000 for k in range(len(rss))]
    half = len(rss) // 2
    return {"start_mib": start, "end_mib": rss[-1], "batches": len(rss),
            "slope_second_half": slope(rss[half:], trials[half:]), "slope_whole": slope(rss, trials),
            "rss": rss}


def main(argv=None) -> int:
    p = parser(__doc__.split("\n", 1)[0])
    p.add_argument("--stimuli", type=positive_int, default=3200)
    p.add_argument("--trials", type=positive_int, default=10_000)
    args = p.parse_args(argv)
    if args.quick:
        args.stimuli, args.trials = 640, 1280
    device = setup(args)
    rec = recording_trace(args.stimuli, device=device)
    tr = training_trace(args.trials, device=device)
    metrics = {
        "recording_leak_mib_per_1000_stimuli": rec["leak_slope"],
        "recording_leak_mib_per_1000_stimuli_second_half": rec["leak_slope_second_half"],
        "recording_raw_mib_per_1000_stimuli": rec["raw_slope"],
        "recording_results_mib": rec["results_mib"],
        "recording_rss_start_end_mib": [rec["start_mib"], rec["end_mib"]],
        "training_mib_per_1000_trials_second_half": tr["slope_second_half"],
        "training_mib_per_1000_trials_whole": tr["slope_whole"],
        "training_rss_start_end_mib": [tr["start_mib"], tr["end_mib"]],
    }
    write_result(result_name("memory_stability", args), metrics, 1, device,
                 notes=f"{args.stimuli} stimuli x 25 bins ({rec['features']} features); "
                       f"{args.trials} trials in {tr['batches']} batches",
                 config={**vars(args), "recording_rss": rec["rss"], "training_rss": tr["rss"]})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
