"""Distributed data-parallel helpers for runs launched with ``torchrun``.

``torchrun --nproc_per_node=N -m neurovision train ... --distributed`` sets RANK, WORLD_SIZE
and LOCAL_RANK; :func:`setup` joins the process group (gloo on CPU, nccl on GPU). Every rank
builds the same global batch and trains on its contiguous slice (the distributed sampler of
:func:`neurovision.training.loop.fit`), so with equal slices the averaged gradients equal those
of one process on the whole global batch; rank 0 alone writes checkpoints and logs. Data
augmentation is applied to the global batch before it is sliced, and the model's own random
draws (private noise) come from a stream seeded by (seed, step, rank). Across
machines the same command runs with ``torchrun --nnodes=M --node_rank=K
--rdzv-endpoint=HOST:PORT``.

A command adopts it in three lines::

    add_distributed(parser)                     # --distributed (neurovision.cli._common)
    with session(args.distributed, device) as (world, device):
        fit(..., world=world, device=device)
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from ..errors import NeurovisionError

#: how long a rank waits for the others: rank 0 alone evaluates, exports and fills feature
#: caches while the other ranks wait at a barrier, which can take hours on a CPU
TIMEOUT = timedelta(hours=6)


@dataclass(frozen=True)
class World:
    """Rank and size of the process group (rank 0 of 1 when not distributed)."""

    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def check_divisible(self, batch_size: int) -> None:
        """Raise unless the global ``batch_size`` splits into equal slices over the ranks."""
        if batch_size % self.size:
            raise NeurovisionError(
                f"global batch size {batch_size} is not divisible by the {self.size} processes; "
                "choose a batch size that is a multiple of the process count"
            )

    def shard(self, batch, batch_size: int):
        """This rank's slice of every tensor in ``batch`` (leading dim = global batch)."""
        if self.size == 1:
            return batch
        self.check_divisible(batch_size)
        per = batch_size // self.size
        lo, hi = self.rank * per, (self.rank + 1) * per
        return tuple(t[lo:hi] for t in batch) if isinstance(batch, (tuple, list)) else batch[lo:hi]

    def mean(self, value: float) -> float:
        """Average a Python float over ranks."""
        if self.size == 1:
            return value
        tensor = torch.tensor([value], dtype=torch.float64)
        dist.all_reduce(tensor)
        return float(tensor.item() / self.size)

    def all(self, flag: bool) -> bool:
        """True when ``flag`` holds on every rank (so all ranks take the same branch)."""
        if self.size == 1:
            return flag
        tensor = torch.tensor([int(bool(flag))])
        dist.all_reduce(tensor, op=dist.ReduceOp.MIN)
        return bool(tensor.item())

    def barrier(self) -> None:
        """Wait until every rank gets here."""
        if self.size > 1:
            dist.barrier()

    def split(self, items: Sequence) -> list:
        """This rank's share of ``items`` (round robin: items ``rank, rank + size, ...``)."""
        return list(items)[self.rank::self.size]


def setup(device: torch.device | str = "cpu") -> World:
    """Join the process group described by torchrun's environment variables (gloo on CPU)."""
    world_from_env()
    if not dist.is_initialized():
        backend = "nccl" if torch.device(device).type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, timeout=TIMEOUT)
    return World(dist.get_rank(), dist.get_world_size())


def world_from_env() -> World:
    """Rank and size from torchrun's variables without joining a process group.

    For work split into independent pieces (scoring sweeps) that needs no communication.
    """
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        raise NeurovisionError(
            "--distributed needs the RANK/WORLD_SIZE variables set by torchrun; launch with "
            "`torchrun --nproc_per_node=N -m neurovision.cli ...`"
        )
    return World(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]))


def teardown() -> None:
    """Leave the process group (no-op when none was joined)."""
    if dist.is_initialized():
        dist.destroy_process_group()


def local_device(device: torch.device | str) -> torch.device:
    """The GPU of this process (``cuda:LOCAL_RANK``) for a CUDA ``device``; CPU unchanged."""
    device = torch.device(device)
    if device.type != "cuda" or device.index is not None:
        return device
    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    torch.cuda.set_device(device)
    return device


@contextlib.contextmanager
def session(distributed: bool, device: torch.device | str = "cpu") -> Iterator[tuple[World, torch.device]]:
    """``(world, device)`` for a run: joined and left around the block when ``distributed``."""
    if not distributed:
        yield World(), torch.device(device)
        return
    device = local_device(device)
    world = setup(device)
    try:
        yield world, device
    finally:
        teardown()
