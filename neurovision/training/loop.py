"""A generic, resumable supervised training loop.

``fit(model, loss_fn, data, config)`` trains ``model`` on ``data``, which is either

* a tuple of tensors sharing the first dimension (shuffled each epoch with a generator seeded
  from ``(seed, epoch)``, incomplete last batch dropped), or
* a callable ``sample(batch_size, generator) -> batch`` that makes fresh trials (task
  environments); its generator is seeded from ``(seed, global step)``.

``loss_fn(model, batch)`` returns a scalar loss or ``(loss, metrics dict of floats)``.
Checkpoints (model, optimizer, progress, RNG states, history) are written atomically every
``checkpoint_every`` steps and at each epoch end; a run started again with the same
checkpoint path resumes where it stopped and ends with bit-identical weights on CPU. Non-finite
losses or gradients follow ``nan_policy``: ``stop`` (raise :class:`DivergenceError` after
saving the offending batch next to the checkpoint), ``skip`` (no update for that batch) or
``reduce-lr`` (halve the learning rate and skip the batch). ``transform(batch) -> batch``
(data augmentation) is applied to each whole batch before it reaches the device. Under
``torchrun`` (see :mod:`neurovision.training.distributed`) every rank transforms the same global
batch, trains on its slice and gradients are averaged across ranks, so losses match a single
process on the whole batch; random draws inside ``loss_fn`` (private noise of the model) then
come from a generator seeded by ``(seed, global step, rank)``, independent across ranks.
"""
from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from tqdm.auto import tqdm

from ..errors import DivergenceError, NeurovisionError
from ..io import atomic_path, save_torch
from .checkpoint import load_checkpoint, save_checkpoint
from .distributed import World

NAN_POLICIES = ("stop", "skip", "reduce-lr")
OPTIMIZERS = ("adam", "adamw", "sgd")


@dataclass
class TrainConfig:
    """Hyper-parameters of :func:`fit`; ``lr_milestones`` are epochs where lr *= ``lr_gamma``."""

    epochs: int = 1
    batch_size: int = 64
    steps_per_epoch: int | None = None
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9
    lr_milestones: tuple[int, ...] = ()
    lr_gamma: float = 0.1
    grad_clip: float | None = None
    nan_policy: str = "stop"
    checkpoint_every: int = 0
    max_steps: int | None = None
    seed: int = 0

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise NeurovisionError(f"optimizer {self.optimizer!r} unknown; choose one of {OPTIMIZERS}")
        if self.nan_policy not in NAN_POLICIES:
            raise NeurovisionError(f"nan_policy {self.nan_policy!r} unknown; choose one of {NAN_POLICIES}")
        if self.epochs < 1 or self.batch_size < 1:
            raise NeurovisionError(
                f"epochs and batch_size must be >= 1, got {self.epochs} and {self.batch_size}; "
                "set both to positive integers"
            )


@dataclass
class TrainResult:
    """What a run did: epoch history (dicts of floats), steps done, skipped batches, reason."""

    history: list[dict] = field(default_factory=list)
    global_step: int = 0
    skipped: int = 0
    stopped: str = "finished"


def make_optimizer(params, config: TrainConfig) -> torch.optim.Optimizer:
    """The optimizer named in ``config`` over ``params``."""
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay)
    cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return cls(params, lr=config.lr, weight_decay=config.weight_decay)


class _Batches:
    """Deterministic batches for (epoch, step) from tensors or from a sampling function."""

    def __init__(self, data, config: TrainConfig):
        self.data, self.config = data, config
        if callable(data):
            if not config.steps_per_epoch:
                raise NeurovisionError(
                    "sampled data needs config.steps_per_epoch; set it to the number of batches "
                    "drawn per epoch"
                )
            self.steps = config.steps_per_epoch
        else:
            tensors = tuple(data)
            n = tensors[0].shape[0]
            if any(t.shape[0] != n for t in tensors):
                raise NeurovisionError(
                    f"data tensors differ in length: {[t.shape[0] for t in tensors]}; pass inputs "
                    "and targets with one row per sample"
                )
            if n < config.batch_size:
                raise NeurovisionError(
                    f"{n} training samples, fewer than one batch of {config.batch_size}; lower "
                    "batch_size or add data"
                )
            self.data, self.n = tensors, n
            self.steps = min(config.steps_per_epoch or n // config.batch_size, n // config.batch_size)
        self._order: tuple[int, torch.Tensor] | None = None

    def get(self, epoch: int, step: int, global_step: int):
        seed, size = self.config.seed, self.config.batch_size
        if callable(self.data):
            gen = torch.Generator().manual_seed(seed * 1_000_003 + global_step)
            return self.data(size, gen)
        if self._order is None or self._order[0] != epoch:
            gen = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
            self._order = (epoch, torch.randperm(self.n, generator=gen))
        index = self._order[1][step * size:(step + 1) * size]
        return tuple(t[index] for t in self.data)


def _to(batch, device):
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, (tuple, list)):
        return type(batch)(_to(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: _to(v, device) for k, v in batch.items()}
    return batch


def _average_gradients(params, world: World) -> None:
    grads = [p.grad for p in params if p.grad is not None]
    if world.size == 1 or not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= world.size
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


@contextlib.contextmanager
def _rank_random(world: World, seed: int, global_step: int, device: torch.device):
    """Under several ranks, torch's random numbers inside the block come from a stream seeded by
    ``(seed, global_step, rank)`` and the previous state is restored after; one rank: no-op."""
    if world.size == 1:
        yield
        return
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed((seed * 1_000_003 + global_step) * 65_537 + world.rank)
        yield


def _rewrite_log(log: Path, upto_step: int) -> None:
    if not log.is_file():
        return
    kept = [line for line in log.read_text().splitlines()
            if line.strip() and json.loads(line).get("step", 0) <= upto_step]
    with atomic_path(log) as tmp:
        tmp.write_text("".join(line + "\n" for line in kept))


def fit(
    model: nn.Module,
    loss_fn: Callable,
    data,
    config: TrainConfig,
    *,
    params=None,
    checkpoint: str | Path | None = None,
    model_id: str = "model",
    log: str | Path | None = None,
    evaluate: Callable[[nn.Module], dict] | None = None,
    transform: Callable | None = None,
    world: World = World(),
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> TrainResult:
    """Train ``model`` (only ``params`` if given); resume from ``checkpoint`` when it exists."""
    params = [p for p in (params if params is not None else model.parameters()) if p.requires_grad]
    if not params:
        raise NeurovisionError(
            "no trainable parameters: every parameter has requires_grad=False; pass params= "
            "or unfreeze the parts to train"
        )
    world.check_divisible(config.batch_size)
    device = torch.device(device)
    model.to(device)
    optimizer = make_optimizer(params, config)
    batches = _Batches(data, config)
    result, start_epoch, start_step, lr_scale = TrainResult(), 0, 0, 1.0
    checkpoint = Path(checkpoint) if checkpoint else None
    log = Path(log) if log else None
    if checkpoint is not None and checkpoint.is_file():
        payload = load_checkpoint(checkpoint, model, model_id, optimizer, restore_rng=True)
        prog = payload["progress"]
        start_epoch, start_step = int(prog["epoch"]), int(prog["step_in_epoch"])
        result.global_step, result.skipped = int(prog["global_step"]), int(prog["skipped"])
        lr_scale = float(prog["lr_scale"])
        result.history = [dict(h) for h in payload["extra"].get("history", [])]
    if log is not None and world.is_main:  # a fresh start (no checkpoint yet) starts a clean log
        _rewrite_log(log, result.global_step)

    def save(epoch: int, step_in_epoch: int) -> None:
        if checkpoint is not None and world.is_main:
            save_checkpoint(checkpoint, model, model_id, optimizer,
                            progress={"epoch": epoch, "step_in_epoch": step_in_epoch,
                                      "global_step": result.global_step, "skipped": result.skipped,
                                      "lr_scale": lr_scale},
                            meta={"config": json.dumps(asdict(config))},
                            extra={"history": result.history})
        world.barrier()

    def set_lr(epoch: int) -> None:
        decay = config.lr_gamma ** sum(epoch >= m for m in config.lr_milestones)
        for group in optimizer.param_groups:
            group["lr"] = config.lr * decay * lr_scale

    for epoch in range(start_epoch, config.epochs):
        set_lr(epoch)
        model.train()
        sums: dict[str, float] = {}
        count = 0
        first = start_step if epoch == start_epoch else 0
        steps = range(first, batches.steps)
        bar = tqdm(steps, desc=f"epoch {epoch + 1}/{config.epochs}", disable=not (progress and world.is_main))
        for step in bar:
            batch = batches.get(epoch, step, result.global_step)
            if transform is not None:
                batch = transform(batch)
            local = _to(world.shard(batch, config.batch_size), device)
            with _rank_random(world, config.seed, result.global_step, device):
                out = loss_fn(model, local)
            loss, metrics = out if isinstance(out, tuple) else (out, {})
            optimizer.zero_grad(set_to_none=True)
            finite = world.all(bool(torch.isfinite(loss.detach())))
            if finite:
                loss.backward()
                _average_gradients(params, world)
                if config.grad_clip:
                    norm = torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
                    finite = bool(torch.isfinite(norm))
                else:
                    finite = all(bool(torch.isfinite(p.grad).all()) for p in params if p.grad is not None)
            if not finite:
                where = f"epoch {epoch}, step {step} (global step {result.global_step})"
                if config.nan_policy == "stop":
                    saved = ""
                    if checkpoint is not None and world.is_main:
                        bad = checkpoint.with_name(f"{checkpoint.stem}.nan-batch-step{result.global_step}.pt")
                        save_torch(_to(batch, "cpu"), bad)
                        saved = f"; the batch is saved in {bad}"
                    raise DivergenceError(
                        f"non-finite loss or gradient at {where}{saved}; the last good weights are in "
                        f"the checkpoint. Lower the learning rate, clip gradients or use nan_policy='skip'"
                    )
                result.skipped += 1
                if config.nan_policy == "reduce-lr":
                    lr_scale *= 0.5
                    set_lr(epoch)
                optimizer.zero_grad(set_to_none=True)
            else:
                optimizer.step()
            result.global_step += 1
            reduce = world.mean if finite else float  # ranks agree on finite; not on metric keys
            values = {"loss": reduce(float(loss.detach())) if finite else math.nan,
                      **{k: reduce(float(v)) for k, v in metrics.items()}}
            if finite:
                count += 1
                for k, v in values.items():
                    sums[k] = sums.get(k, 0.0) + v
            if log is not None and world.is_main:
                with open(log, "a") as handle:
                    handle.write(json.dumps({"step": result.global_step, "epoch": epoch, **values}) + "\n")
            if progress and world.is_main:
                bar.set_postfix(loss=f"{values['loss']:.4f}")
            done = config.max_steps is not None and result.global_step >= config.max_steps
            if done or (config.checkpoint_every and result.global_step % config.checkpoint_every == 0):
                last = step + 1 == batches.steps
                save(epoch + 1 if last else epoch, 0 if last else step + 1)
            if done:
                result.stopped = "max_steps"
                return result
        summary = {"epoch": epoch + 1, **{k: v / max(count, 1) for k, v in sums.items()}}
        if evaluate is not None:
            model.eval()
            with torch.no_grad():
                summary.update({k: float(v) for k, v in evaluate(model).items()})
        result.history.append(summary)
        save(epoch + 1, 0)
    return result
