"""Return to the spontaneous state and noise robustness of a trained CordsNet (docs/cordsnet.md).

``python experiments/soo2024_cordsnet/measure.py CHECKPOINT DATASET --out experiments/soo2024_cordsnet/<name>.json``

CHECKPOINT is a pipeline stage (``<run>/<stage>.pt``) or an exported model; DATASET the data set
it was trained on. On ``--images`` test images (10 per class per 100, seeded): the image is shown
for 200 ms from the spontaneous state and removed for ``--return-ms``; per area, the RMS
distance from the spontaneous state at the end, relative to its peak during the image and to the
RMS of the spontaneous state itself. Then Gaussian noise at five levels on the input and on the
state (deviation from the noiseless run and accuracy per level).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from neurovision.data.datasets import load_dataset
from neurovision.data.images import prepare_images
from neurovision.families.cordsnet.network import load_cordsnet
from neurovision.families.cordsnet.experiments import noise_robustness, present_remove, trajectory
from neurovision.io import atomic_path

NOISE_LEVELS = (0.05, 0.1, 0.2, 0.4, 0.8)


def return_to_spontaneous(model, images, image_ms: float, return_ms: float) -> dict:
    """Per area: final RMS distance from the spontaneous state / its peak, and / RMS(spont)."""
    data = trajectory(model, images, present_remove(image_ms, return_ms), areas=model.areas)
    spont = model.spontaneous_state()
    out = {}
    for area in model.areas:
        distance = data[f"{area}_distance"]
        final = distance.isel(time=-1)
        scale = float(spont[area].pow(2).mean().sqrt())
        out[area] = {"final_over_peak": float((final / distance.max("time")).max()),
                     "final_over_spontaneous_rms": float(final.max()) / scale if scale > 0 else None,
                     "spontaneous_rms": scale}
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint", type=Path)
    p.add_argument("dataset")
    p.add_argument("--images", type=int, default=200)
    p.add_argument("--return-ms", type=float, default=200.0)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    model = load_cordsnet(args.checkpoint).eval()
    test = load_dataset(args.dataset, "test").per_class(max(1, args.images // 10), seed=1)
    images = prepare_images(test.images, model.input_shape)
    result = {"checkpoint": str(args.checkpoint), "dataset": args.dataset, "images": int(images.shape[0]),
              "return_ms": args.return_ms,
              "return": return_to_spontaneous(model, images, 200.0, args.return_ms),
              "noise": noise_robustness(model, images, test.labels, NOISE_LEVELS).to_dict("records")}
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["return"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
