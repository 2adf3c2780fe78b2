"""Train a recurrent ResNet (Lippl et al. 2024) and measure its iterative-convergence indices.

:func:`train_resnet` trains on CIFAR-10 (subset), Fashion-MNIST, MNIST or Digitclutter-n, then
writes into ``out``: ``model.pt`` (checkpoint), ``metrics.json`` (configuration, history, test
error, the three indices per stage with their error curves).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from ...analysis.convergence import iterative_convergence, top1_error
from ...data.datasets import load_dataset
from ...data.digitclutter import digitclutter, topk_error
from ...errors import NeurovisionError
from .recurrent_resnet import RecurrentResNet
from ...io import atomic_path
from ...seeding import seed_everything
from ...training.checkpoint import load_checkpoint, save_checkpoint
from ...training.distributed import World
from ...training.loop import TrainConfig, fit

#: residual variants: (residual form, spectral normalisation on)
VARIANTS = {"standard": ("z", False), "icr": ("z", True), "pcr": ("x", True)}


@dataclass
class ResNetRun:
    """One training run. ``dataset``: cifar10-subset, fashion-mnist, mnist or digitclutter-<n>;
    ``variant``: standard, icr or pcr; ``recurrent_init`` is forced on when ``coupling`` > 0;
    test error on ``n_test`` and indices on ``n_eval`` shuffled test images."""

    dataset: str = "cifar10-subset"
    variant: str = "standard"
    coupling: float = 0.0
    recurrent_init: bool = False
    mu: float = 0.95
    width: int = 8
    blocks: int = 5
    stages: int = 3
    epochs: int = 8
    batch_size: int = 64
    lr: float = 2e-3
    n_train: int = 10000
    n_eval: int = 500
    n_test: int = 2000
    extra_steps: int = 16
    seed: int = 0

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise NeurovisionError(f"variant must be one of {sorted(VARIANTS)}, got {self.variant!r}")

    @property
    def model_id(self) -> str:
        init = "rec" if (self.recurrent_init or self.coupling > 0) else "nonrec"
        return f"resnet-{self.variant}-w{self.width}-{init}-lambda{self.coupling:g}"


@dataclass
class Task:
    """Tensors and the loss/error of one data set."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    multi_label: bool
    chance: float


def load_task(dataset: str, n_train: int, seed: int) -> Task:
    """Training and test tensors of ``dataset`` (Digitclutter is generated with ``seed``)."""
    if dataset.startswith("digitclutter-"):
        n_digits = int(dataset.split("-")[1])
        train = digitclutter(n_train, n_digits, seed=seed)
        test = digitclutter(2000, n_digits, seed=seed + 10_000)
        return Task(train.images, train.digits, test.images, test.digits, True, 1 - n_digits / 10)
    train, test = load_dataset(dataset, "train"), load_dataset(dataset, "test")
    gen = torch.Generator().manual_seed(seed)
    pick = torch.randperm(len(train), generator=gen)[:n_train]
    order = torch.randperm(len(test), generator=gen)  # test files may be sorted by class
    classes = len(train.classes)
    return Task(train.images[pick], train.labels[pick], test.images[order], test.labels[order], False,
                1 - 1 / classes)


def multi_hot(digits: torch.Tensor, classes: int = 10) -> torch.Tensor:
    """(N, classes) indicator of the digits present in each row of ``digits`` (N, n)."""
    return torch.zeros(digits.shape[0], classes).scatter_(1, digits, 1.0)


def make_loss(multi_label: bool):
    """Cross-entropy (one label) or binary cross-entropy on the multi-hot digit set."""
    error = topk_error if multi_label else top1_error

    def loss_fn(model, batch):
        images, targets = batch
        logits = model(images)
        if multi_label:
            loss = F.binary_cross_entropy_with_logits(logits, multi_hot(targets, logits.shape[-1]))
        else:
            loss = F.cross_entropy(logits, targets)
        return loss, {"error": float(error(logits.detach(), targets).mean())}

    return loss_fn


def evaluate_error(model, images, targets, multi_label: bool, batch_size: int = 500) -> float:
    """Mean error of ``model`` (eval mode, no grad)."""
    error = topk_error if multi_label else top1_error
    model.eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, images.shape[0], batch_size):
            part = slice(start, start + batch_size)
            total += float(error(model(images[part]), targets[part]).sum())
    return total / images.shape[0]


def json_safe(value):
    """``value`` with NaN/Inf floats replaced by None (strict JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def train_resnet(run: ResNetRun, out: Path, device: str = "cpu", progress: bool = False, command: str = "",
                 world: World = World()) -> dict:
    """Train ``run``, save ``model.pt`` into ``out``, then :func:`measure_resnet`; return the metrics.

    Every rank of ``world`` trains on its slice of each batch; rank 0 alone measures and writes
    ({} on the other ranks)."""
    seed_everything(run.seed)
    task = load_task(run.dataset, run.n_train, run.seed)
    input_shape = tuple(task.x_train.shape[1:])
    model = build_resnet(run, input_shape)
    config = TrainConfig(epochs=run.epochs, batch_size=run.batch_size, lr=run.lr, nan_policy="skip",
                         checkpoint_every=100, seed=run.seed, lr_milestones=(int(run.epochs * 0.75),))
    out.mkdir(parents=True, exist_ok=True)
    result = fit(model, make_loss(task.multi_label), (task.x_train, task.y_train), config,
                 checkpoint=out / "training.ckpt", model_id=run.model_id, log=out / "train_log.jsonl",
                 device=device, progress=progress, world=world)
    if not world.is_main:
        return {}
    model = model.cpu()
    if VARIANTS[run.variant][1]:
        model.converge_spectral_norms(50)
    save_checkpoint(out / "model.pt", model, run.model_id,
                    meta={"run": json.dumps(asdict(run)), "input_shape": json.dumps(input_shape),
                          "history": json.dumps(result.history), "command": command})
    (out / "training.ckpt").unlink(missing_ok=True)
    return measure_resnet(out, task)


def measure_resnet(out: Path, task: Task | None = None) -> dict:
    """Test error and indices of the network saved in ``out``; writes ``out/metrics.json``."""
    meta = load_checkpoint(out / "model.pt")["meta"]
    run = ResNetRun(**json.loads(meta["run"]))
    task = task or load_task(run.dataset, run.n_train, run.seed)
    model = load_resnet(out / "model.pt")
    error = topk_error if task.multi_label else top1_error
    indices = iterative_convergence(model, task.x_test[:run.n_eval], task.y_test[:run.n_eval], chance=task.chance,
                                    extra_steps=run.extra_steps, error=error)
    metrics = {"run": asdict(run), "model_id": run.model_id, "command": meta.get("command", ""),
               "history": json.loads(meta.get("history", "[]")),
               "test_error": evaluate_error(model, task.x_test[:run.n_test], task.y_test[:run.n_test],
                                            task.multi_label),
               "indices": indices}
    with atomic_path(out / "metrics.json") as tmp:
        tmp.write_text(json.dumps(json_safe(metrics), indent=1))
    return metrics


def build_resnet(run: ResNetRun, input_shape) -> RecurrentResNet:
    """The :class:`RecurrentResNet` that ``run`` trains, for images of ``input_shape``."""
    residual, normalised = VARIANTS[run.variant]
    return RecurrentResNet(tuple(input_shape), classes=10, width=run.width, blocks=run.blocks, stages=run.stages,
                           residual=residual, mu=run.mu if normalised else None, coupling=run.coupling,
                           recurrent_init=run.recurrent_init or run.coupling > 0)


def load_resnet(path, model_id: str | None = None) -> RecurrentResNet:
    """The network saved by :func:`train_resnet` (architecture rebuilt from its metadata)."""
    meta = load_checkpoint(path, model_id=model_id)["meta"]
    run = ResNetRun(**json.loads(meta["run"]))
    model = build_resnet(run, json.loads(meta["input_shape"]))
    load_checkpoint(path, model, model_id=model_id)
    return model.eval()
