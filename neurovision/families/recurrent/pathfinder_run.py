"""Train an hGRU or convLSTM on Pathfinder with BPTT, RBP, C-BPTT or C-RBP and evaluate it
far beyond its training horizon (Linsley et al. 2020, supplement figures S3-S8).

``dataset="pathfinder"`` generates the stimuli (:mod:`neurovision.data.pathfinder`); any name
of :func:`neurovision.data.datasets.load_dataset` (e.g. ``fashion-mnist``) trains the same
recurrent classifier on that data set instead.

:func:`train_pathfinder` writes into ``out``: ``model.pt`` (checkpoint), ``metrics.json``
(configuration, training history, accuracy at every step up to ``eval_steps``) and
``pooled_states.pt`` (pooled test states, input of the state-space analysis).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .state_drift import accuracy_by_step, rollout
from ...data.datasets import load_dataset
from ...data.pathfinder import default_size, pathfinder
from .recurrent_classifier import build_recurrent_classifier
from ...io import atomic_path, load_torch, save_torch
from ...seeding import seed_everything
from ...training.checkpoint import save_checkpoint
from ...training.distributed import World
from ...training.loop import TrainConfig, fit
from .recurrent_objective import RecurrentObjective


@dataclass
class PathfinderRun:
    """Configuration of one training run (sizes in px, steps = recurrent steps); ``length`` and
    ``size`` apply to generated Pathfinder stimuli."""

    dataset: str = "pathfinder"
    cell: str = "hgru"
    algorithm: str = "c-rbp"
    steps: int = 15
    length: int = 6
    size: int | None = None
    channels: int = 25
    kernel: int = 15
    n_train: int = 10000
    n_test: int = 1000
    epochs: int = 5
    batch_size: int = 32
    lr: float = 1e-3
    lcp_weight: float = 10.0
    lcp_lambda: float = 0.9
    terms: int = 15
    eval_steps: int = 60
    grad_clip: float | None = 5.0
    seed: int = 0

    @property
    def model_id(self) -> str:
        task = f"pathfinder{self.length}" if self.dataset == "pathfinder" else self.dataset
        return f"{self.cell}-{task}-{self.algorithm}"


def pathfinder_data(n: int, length: int, size: int, seed: int, cache: Path | None):
    """Generated Pathfinder images and labels, cached as a weights-only file when ``cache`` is set.

    Images are drawn one after another from one seeded generator, so the first ``n`` images of
    a larger cached set with the same seed are the set itself and are reused.
    """
    path = cache / f"pathfinder-L{length}-s{size}-n{n}-seed{seed}.pt" if cache else None
    if path is not None:
        larger = [(int(p.name.split("-n")[1].split("-")[0]), p)
                  for p in cache.glob(f"pathfinder-L{length}-s{size}-n*-seed{seed}.pt")]
        usable = sorted((m, p) for m, p in larger if m >= n)
        if usable:
            stored = load_torch(usable[0][1])
            return stored["images"][:n], stored["labels"][:n]
    data = pathfinder(n, length=length, size=size, seed=seed)
    if path is not None:
        save_torch({"images": data.images, "labels": data.labels}, path)
    return data.images, data.labels


def run_data(run: PathfinderRun, cache: Path | None = None):
    """``(train, test, classes)`` of ``run``: generated Pathfinder or a seeded subset of a data set."""
    if run.dataset == "pathfinder":
        size = run.size or default_size(run.length)
        train = pathfinder_data(run.n_train, run.length, size, run.seed, cache)
        return train, pathfinder_data(run.n_test, run.length, size, run.seed + 10_000, cache), 2
    gen = torch.Generator().manual_seed(run.seed)
    parts = []
    for split, n in (("train", run.n_train), ("test", run.n_test)):
        data = load_dataset(run.dataset, split)
        pick = torch.randperm(len(data), generator=gen)[:n]
        parts.append((data.images[pick], data.labels[pick]))
    return parts[0], parts[1], len(data.classes)


def train_pathfinder(run: PathfinderRun, out: Path, cache: Path | None = None, device: str = "cpu",
                     progress: bool = False, command: str = "", world: World = World()) -> dict:
    """Train, evaluate at steps 1..``eval_steps`` and save; returns the metrics dict.

    Every rank of ``world`` trains on its slice of each batch; rank 0 alone evaluates and writes
    ({} on the other ranks)."""
    torch.manual_seed(run.seed)
    seed_everything(run.seed)
    (x_train, y_train), (x_test, y_test), classes = run_data(run, cache)
    model = build_recurrent_classifier(run.cell, run.channels, run.kernel, tuple(x_train.shape[1:]), classes,
                                       run.steps)
    objective = RecurrentObjective.named(run.algorithm, lcp_weight=run.lcp_weight, steps=run.steps,
                                         terms=run.terms, lcp_lambda=run.lcp_lambda)
    config = TrainConfig(epochs=run.epochs, batch_size=run.batch_size, lr=run.lr, grad_clip=run.grad_clip,
                         nan_policy="skip", checkpoint_every=50, seed=run.seed)
    held_out = (x_test[:200], y_test[:200])

    def evaluate(m):
        logits = m(held_out[0].to(device)).cpu()
        return {"val_acc": float((logits.argmax(-1) == held_out[1]).float().mean())}

    out.mkdir(parents=True, exist_ok=True)
    result = fit(model, objective, (x_train, y_train), config, checkpoint=out / "training.ckpt",
                 model_id=run.model_id, log=out / "train_log.jsonl", evaluate=evaluate, device=device,
                 progress=progress, world=world)
    if not world.is_main:
        return {}
    logits, pools = rollout(model.cpu(), x_test, run.eval_steps)
    acc = accuracy_by_step(logits, y_test)
    metrics = {
        "run": asdict(run), "input_shape": list(x_train.shape[1:]), "command": command, "history": result.history,
        "skipped_batches": result.skipped,
        "accuracy_by_step": [float(a) for a in acc],
        "accuracy_at_train_steps": float(acc[run.steps - 1]),
        "accuracy_at_eval_steps": float(acc[-1]),
    }
    save_checkpoint(out / "model.pt", model, run.model_id,
                    meta={"run": json.dumps(asdict(run)), "input_shape": json.dumps(list(x_train.shape[1:])),
                          "classes": str(classes)})
    save_torch({"pooled": pools.half(), "labels": y_test}, out / "pooled_states.pt")
    with atomic_path(out / "metrics.json") as tmp:
        tmp.write_text(json.dumps(metrics, indent=1))
    (out / "training.ckpt").unlink(missing_ok=True)
    return metrics


def load_pathfinder_model(path, model_id: str | None = None):
    """The classifier saved by :func:`train_pathfinder` (architecture rebuilt from its metadata)."""
    from ...training.checkpoint import load_checkpoint

    meta = load_checkpoint(path, model_id=model_id)["meta"]
    run = PathfinderRun(**json.loads(meta["run"]))
    model = build_recurrent_classifier(run.cell, run.channels, run.kernel, tuple(json.loads(meta["input_shape"])),
                                       int(meta["classes"]), run.steps)
    load_checkpoint(path, model, model_id=model_id)
    return model.eval()
