"""Training run used by test_distributed.py: the same code runs alone or under torchrun.

``python distributed_worker.py OUT [--distributed]`` trains a small recurrent classifier with
:func:`neurovision.training.loop.fit` and writes ``OUT/log.jsonl`` and ``OUT/model.pt``.
"""
import sys
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


def loss(model, batch):
    x, y = batch
    logits = model(x)
    return nn.functional.cross_entropy(logits, y), {"acc": (logits.argmax(1) == y).float().mean()}


def train(out: Path, distributed: bool):
    model = LeakyClassifier()
    with session(distributed) as (world, device):
        return fit(model, loss, data(), CONFIG, checkpoint=out / "model.pt", log=out / "log.jsonl",
                   model_id="leaky-classifier", world=world, device=device, progress=False)


if __name__ == "__main__":
    torch.set_num_threads(1)
    train(Path(sys.argv[1]), "--distributed" in sys.argv[2:])
