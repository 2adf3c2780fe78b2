"""CIFAR-10 classification with DCNs and baselines, the small-data regime included.

Training follows Tomen et al. 2021 (appendix A.2): cross-entropy, SGD with momentum 0.9,
learning rate ``0.1 * batch / 128`` (the authors' linear scaling), decayed by 0.1 at 40 % and
70 % of the epochs, random translations up to 4 px and horizontal flips. Runs go through
:func:`neurovision.training.loop.fit` (seeded batch order, atomic resumable checkpoints). The
small-data regime (Table 2) draws ``k`` training images per class with the run's seed and tests
on a fixed, class-balanced part of the test split.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ...data.datasets import LabelledImages, load_dataset
from . import build_network, count_parameters
from ...io import atomic_path
from ...seeding import seed_everything
from ...training.checkpoint import load_checkpoint, save_checkpoint
from ...training.distributed import World
from ...training.loop import TrainConfig, fit

#: translation range (px) of the data augmentation
SHIFT = 4


@dataclass
class RunConfig:
    """One training run: architecture, solver, schedule and data."""

    variant: str = "dcn-ode"
    epochs: int = 100
    batch_size: int = 128
    lr: float = 0.1                # at batch 128; scaled by batch_size / 128
    method: str = "dopri5"
    steps: int | None = None       # fixed-step solvers: steps per block
    adjoint: bool = False
    augment: bool = True
    seed: int = 0
    init: str | None = None        # weights (.pt of the same variant) to start from

    def train_config(self) -> TrainConfig:
        milestones = tuple(sorted({max(1, round(0.4 * self.epochs)), max(1, round(0.7 * self.epochs))}))
        return TrainConfig(epochs=self.epochs, batch_size=self.batch_size, optimizer="sgd",
                           lr=self.lr * self.batch_size / 128, momentum=0.9,
                           lr_milestones=milestones if self.epochs > 2 else (), seed=self.seed)

    def build(self):
        """The network, with the weights of ``init`` when given."""
        model = build_network(self.variant, method=self.method, steps=self.steps, adjoint=self.adjoint)
        if self.init:
            load_checkpoint(self.init, model, self.variant)
        return model


def augment(images: torch.Tensor) -> torch.Tensor:
    """Random translation by up to :data:`SHIFT` px (zero fill) and horizontal flip per image."""
    b, _, h, w = images.shape
    padded = F.pad(images, (SHIFT, SHIFT, SHIFT, SHIFT))
    dx, dy = torch.randint(0, 2 * SHIFT + 1, (2, b)).tolist()
    flips = (torch.rand(b) < 0.5).tolist()
    out = []
    for i in range(b):
        crop = padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
        out.append(crop.flip(-1) if flips[i] else crop)
    return torch.stack(out)


def make_loss(use_augmentation: bool = True):
    """``loss(model, (images, labels)) -> (cross-entropy, {"accuracy", "nfe"})``."""

    def loss(model, batch):
        images, labels = batch
        if use_augmentation:
            images = augment(images)
        logits = model(images)
        correct = (logits.argmax(1) == labels).float().mean()
        return F.cross_entropy(logits, labels), {"accuracy": float(correct), "nfe": float(sum(model.nfe()))}

    return loss


@torch.no_grad()
def evaluate(model, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 250, **forward) -> dict:
    """Accuracy (%) and mean function evaluations per block on ``images``."""
    model.eval()
    correct, nfe = 0, []
    for start in range(0, len(images), batch_size):
        logits = model(images[start:start + batch_size], **forward)
        correct += int((logits.argmax(1) == labels[start:start + batch_size]).sum())
        nfe.append(model.nfe())
    return {"accuracy": 100.0 * correct / len(images), "nfe_per_block": np.mean(nfe, axis=0).tolist()}


def balanced_test_set(per_class: int) -> LabelledImages:
    """The first ``per_class`` test images of every class (a fixed, balanced evaluation set)."""
    test = load_dataset("cifar10-subset", "test")
    labels = test.labels.numpy()
    index = np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(len(test.classes))])
    return test.subset(index)


def train_run(config: RunConfig, train: LabelledImages, test: LabelledImages, out: Path,
              device="cpu", progress: bool = False, world: World = World()) -> dict:
    """Train one model and evaluate it; writes ``<out>.pt`` (weights) and ``<out>.json``.

    Under ``torchrun`` every rank of ``world`` trains on its slice of each batch; rank 0 alone
    evaluates, writes and returns the summary ({} on the other ranks)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    seed_everything(config.seed)
    model = config.build()
    start_wall, start_cpu = time.time(), time.process_time()
    result = fit(model, make_loss(config.augment), (train.images, train.labels), config.train_config(),
                 checkpoint=out.with_suffix(".ckpt"), model_id=config.variant,
                 log=out.with_suffix(".log.jsonl"), device=device, progress=progress, world=world)
    if not world.is_main:
        return {}
    summary = {
        "config": asdict(config),
        "train_images": len(train),
        "test_images": len(test),
        "parameters": count_parameters(model),
        "steps": result.global_step,
        "final_train": result.history[-1] if result.history else {},
        "test": evaluate(model, test.images.to(device), test.labels.to(device)),
        "wall_s": time.time() - start_wall,
        "cpu_s": time.process_time() - start_cpu,
    }
    save_checkpoint(out.with_suffix(".pt"), model.cpu(), config.variant, meta={"config": json.dumps(asdict(config))})
    with atomic_path(out.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(summary, indent=1))
    out.with_suffix(".ckpt").unlink(missing_ok=True)
    return summary


def small_data(variants, ks, seeds, base: RunConfig, out_dir: Path, test_per_class: int = 200,
               device="cpu", progress: bool = False, world: World = World()) -> list[dict]:
    """Table 2: train every variant on ``k`` images per class for each seed (skips finished runs)."""
    out_dir = Path(out_dir)
    train_all = load_dataset("cifar10-subset", "train")
    test = balanced_test_set(test_per_class)
    summaries = []
    for k in ks:
        for seed in seeds:
            train = train_all.per_class(k, seed=seed)
            for variant in variants:
                stem = out_dir / f"{variant}-k{k}-seed{seed}"
                if stem.with_suffix(".json").is_file():
                    summaries.append(json.loads(stem.with_suffix(".json").read_text()))
                    continue
                config = RunConfig(**{**asdict(base), "variant": variant, "seed": seed})
                summaries.append(train_run(config, train, test, stem, device, progress, world))
    return summaries


def summarise(summaries: list[dict]) -> dict:
    """Mean and sample std of test accuracy per (variant, k) over seeds."""
    groups: dict[tuple[str, int], list[float]] = {}
    for s in summaries:
        key = (s["config"]["variant"], s["train_images"] // 10)
        groups.setdefault(key, []).append(s["test"]["accuracy"])
    return {f"{v}/k{k}": {"mean": float(np.mean(a)), "std": float(np.std(a, ddof=1)) if len(a) > 1 else 0.0,
                          "n": len(a), "runs": a}
            for (v, k), a in sorted(groups.items())}
