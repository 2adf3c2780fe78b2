"""Training run used by the distributed and fault tests: the same code runs alone, under
torchrun, or as a subprocess that a test kills and restarts.

``python training_worker.py OUT [--distributed] [--epochs N] [--delay S]`` trains a small
recurrent classifier with :func:`neurovision.training.loop.fit` and writes ``OUT/log.jsonl`` and
``OUT/model.pt``; ``--delay`` sleeps S seconds per step so a test can interrupt it mid-epoch.
"""
import argparse
import dataclasses
import time
from pathlib import Path

import torch
from torch import nn

from neurovision.training.distributed import session
from neurovision.training.loop import TrainConfig, fit

CONFIG = TrainConfig(epochs=2, batch_size=16, lr=5e-3, checkpoint_every=3, grad_clip=1.0, seed=3)


class LeakyClassifier(nn.Module):
    """A leaky rate RNN (tau = 10 ms, dt = 2 ms) run for 10 steps, read out linearly."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.inp, self.rec, self.out = nn.Linear(6, 12), nn.Linear(12, 12), nn.Linear(12, 3)

    def forward(self, x):
        r = x.new_zeros(x.shape[0], 12)
        for _ in range(10):
            r = r + 0.2 * (-r + torch.relu(self.inp(x) + self.rec(r)))
        return self.out(r)


def data():
    gen = torch.Generator().manual_seed(11)
    x = torch.randn(96, 6, generator=gen)
    return x, (x[:, :3].argmax(1))


def loss(model, batch, delay: float = 0.0):
    x, y = batch
    logits = model(x)
    if delay:
        time.sleep(delay)
    return nn.functional.cross_entropy(logits, y), {"acc": (logits.argmax(1) == y).float().mean()}


def train(out: Path, distributed: bool = False, epochs: int = CONFIG.epochs, delay: float = 0.0):
    model = LeakyClassifier()
    config = dataclasses.replace(CONFIG, epochs=epochs)
    with session(distributed) as (world, device):
        return fit(model, lambda m, b: loss(m, b, delay), data(), config, checkpoint=out / "model.pt",
                   log=out / "log.jsonl", model_id="leaky-classifier", world=world, device=device,
                   progress=False)


if __name__ == "__main__":
    torch.set_num_threads(1)
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--distributed", action="store_true")
    parser.add_argument("--epochs", type=int, default=CONFIG.epochs)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    train(args.out, args.distributed, args.epochs, args.delay)
