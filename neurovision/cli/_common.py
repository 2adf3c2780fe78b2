"""Options shared by several sub-commands."""
from __future__ import annotations

import argparse

import torch

from ..errors import NeurovisionError


def add_device(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cpu", help="torch device: cpu, cuda or cuda:N (default cpu)")
    parser.add_argument("--seed", type=int, default=0, help="random seed for torch, numpy and tasks (default 0)")


def resolve_device(name: str) -> torch.device:
    """A torch device, with a clear error when CUDA is asked for but absent."""
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise NeurovisionError(f"--device {name}: CUDA is not available here; use --device cpu")
    return device
