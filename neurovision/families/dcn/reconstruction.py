"""CIFAR-10 reconstruction from the feature maps of ODE block 3 (Tomen et al. 2021, Table 3).

The encoder is a trained classifier up to block 3 (frozen, 128 x 7 x 7 maps); the decoder has two
blocks of the encoder's kind (DCN-ODE, ODE-Net or residual): bilinear upsampling x2, block (128
channels), upsampling x2, 1x1 convolution to 64 channels, block (64), norm, activation, 1x1
convolution to RGB (28 x 28 px, compared with the central 28 x 28 px of the image, as in the
authors' code). Each output image is min-max normalised to [0, 1] before the mean squared error.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .cache import filter_scope
from .layers import activation, norm
from .variants import VARIANTS, make_block
from ...io import atomic_path
from ...seeding import seed_everything
from ...training.checkpoint import save_checkpoint
from ...training.distributed import World
from .classification import RunConfig
from ...training.loop import fit

#: border (px) of the image left out of the 28 x 28 reconstruction target
CROP = 2


class Decoder(nn.Module):
    """Decoder of ``variant``'s block type: ``(B, 128, 7, 7) -> (B, 3, 28, 28)``."""

    def __init__(self, variant: str, **solver):
        super().__init__()
        act = VARIANTS[variant].act
        self.block4 = make_block(variant, 128, "block4", **solver)
        self.reduce = nn.Conv2d(128, 64, 1)
        self.block5 = make_block(variant, 64, "block5", **solver)
        self.out = nn.Sequential(norm(64), activation(act), nn.Conv2d(64, 3, 1))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        with filter_scope():
            h = self.block4(F.interpolate(features, scale_factor=2, mode="bilinear", align_corners=False))
            h = self.reduce(F.interpolate(h, scale_factor=2, mode="bilinear", align_corners=False))
            return self.out(self.block5(h))


def normalise(images: torch.Tensor) -> torch.Tensor:
    """Min-max normalise each image to [0, 1]."""
    flat = images.flatten(1)
    low, high = flat.min(1, keepdim=True)[0], flat.max(1, keepdim=True)[0]
    return ((flat - low) / (high - low).clamp_min(1e-8)).view_as(images)


def target(images: torch.Tensor) -> torch.Tensor:
    """The central 28 x 28 px of 32 x 32 images."""
    return images[:, :, CROP:-CROP, CROP:-CROP]


@torch.no_grad()
def encode(encoder, images: torch.Tensor, batch_size: int = 250) -> torch.Tensor:
    """Block-3 feature maps of a frozen classifier, computed once: ``(N, 128, 7, 7)``."""
    encoder.eval()
    return torch.cat([encoder.features(images[i:i + batch_size]) for i in range(0, len(images), batch_size)])


def reconstruction_loss(decoder, batch):
    """``(MSE, {})`` between the normalised reconstruction and the image centre."""
    features, images = batch
    return F.mse_loss(normalise(decoder(features)), target(images))


@torch.no_grad()
def evaluate_reconstruction(decoder, features: torch.Tensor, images: torch.Tensor, batch_size: int = 250) -> float:
    """Mean squared error per pixel over ``images``."""
    decoder.eval()
    total = 0.0
    for i in range(0, len(images), batch_size):
        out = normalise(decoder(features[i:i + batch_size]))
        total += float(F.mse_loss(out, target(images[i:i + batch_size]), reduction="sum"))
    return total / target(images).numel()


def train_decoder(encoder, variant: str, config: RunConfig, train_images: torch.Tensor,
                  test_images: torch.Tensor, out: Path, progress: bool = False, world: World = World()) -> dict:
    """Train a decoder on a frozen encoder; writes ``<out>.pt`` and ``<out>.json`` (rank 0 of
    ``world``, which alone evaluates and returns the summary; {} on the other ranks)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    start_wall, start_cpu = time.time(), time.process_time()
    train_features, test_features = encode(encoder, train_images), encode(encoder, test_images)
    seed_everything(config.seed)
    decoder = Decoder(variant, method=config.method, steps=config.steps, adjoint=config.adjoint)
    result = fit(decoder, reconstruction_loss, (train_features, train_images), config.train_config(),
                 checkpoint=out.with_suffix(".ckpt"), model_id=f"{variant}-decoder",
                 log=out.with_suffix(".log.jsonl"), progress=progress, world=world)
    if not world.is_main:
        return {}
    mse = evaluate_reconstruction(decoder, test_features, test_images)
    summary = {"config": asdict(config), "variant": variant, "train_images": len(train_images),
               "test_images": len(test_images), "steps": result.global_step,
               "decoder_parameters": sum(p.numel() for p in decoder.parameters()),
               "test_mse": mse, "test_mse_x1000": 1000 * mse,
               "wall_s": time.time() - start_wall, "cpu_s": time.process_time() - start_cpu}
    save_checkpoint(out.with_suffix(".pt"), decoder, f"{variant}-decoder", meta={"config": json.dumps(asdict(config))})
    with atomic_path(out.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(summary, indent=1))
    out.with_suffix(".ckpt").unlink(missing_ok=True)
    return summary
