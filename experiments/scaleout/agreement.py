"""Largest gaps between the one- and two-process runs written by run.sh, as JSON."""
import json
import sys
from pathlib import Path

import torch

from neurovision.io import atomic_path

PAIRS = {  # name: (folder stem, training log, checkpoint) inside the work folder
    "train-task": ("task", "metrics.jsonl", "checkpoint.pt"),
    "train-cordsnet fit": ("cordsnet", "fit.log.jsonl", "fit.pt"),
    "train-cordsnet linear": ("cordsnet", "linear.log.jsonl", "linear.pt"),
    "dcn small-data": ("dcn", "resnet-blocks-k4-seed0.log.jsonl", "resnet-blocks-k4-seed0.pt"),
}


def losses(path: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in path.read_text().splitlines()]


def gaps(work: Path, stem: str, log: str, ckpt: str) -> dict:
    one, two = work / f"{stem}-1", work / f"{stem}-2"
    a, b = losses(one / log), losses(two / log)
    wa = torch.load(one / ckpt, weights_only=True)["model"]
    wb = torch.load(two / ckpt, weights_only=True)["model"]
    return {"steps": len(a), "same_steps": len(a) == len(b),
            "max_abs_loss_gap": max(abs(x - y) for x, y in zip(a, b)),
            "loss_first_last": [a[0], a[-1]],
            "max_abs_weight_gap": max(float((wa[k].float() - wb[k].float()).abs().max()) for k in wa)}


def main(work: str, out: str) -> None:
    work = Path(work)
    result = {name: gaps(work, *spec) for name, spec in PAIRS.items()}
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main(*sys.argv[1:3])
