"""Data-set-specific augmentations of the CordsNet training code, on batches of [0, 1] images.

``paper`` follows the authors' pipelines (random parameters drawn per image from the torch RNG):

* fashion-mnist: horizontal flip, affine (5 deg rotation, 5 % shift, 0.95-1.05 scale, 5 deg
  shear), brightness/contrast jitter 0.1, then CutMix or MixUp per batch;
* mnist: the same affine and jitter, elastic deformation (alpha 20 px, sigma 5 px at 224 px,
  scaled to the image size); no mixing;
* cifar10 / cifar100: horizontal flip, RandAugment, then CutMix or MixUp;
* imagenet (any image folder): random resized crop, horizontal flip, RandAugment.

``light`` keeps only the horizontal flip (where the paper flips) and the small affine transform,
for short runs; ``none`` returns the batch unchanged. Flip, affine and jitter are applied to the
whole batch at once (one sampling grid per image); mixing returns soft targets (B, classes).
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torchvision.transforms import v2

PRESETS = ("paper", "light", "none")
Augment = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
FAMILIES = {"fashion-mnist": "fashion-mnist", "mnist": "mnist", "cifar10": "cifar", "cifar10-subset": "cifar",
            "cifar100": "cifar", "imagenet": "imagenet"}


def _uniform(n: int, low: float, high: float) -> torch.Tensor:
    return low + (high - low) * torch.rand(n)


def random_flip(images: torch.Tensor) -> torch.Tensor:
    """Mirror each image left-right with probability 1/2."""
    mask = torch.rand(images.shape[0]) < 0.5
    return torch.where(mask.view(-1, 1, 1, 1), images.flip(-1), images)


def random_affine(images: torch.Tensor, degrees: float = 5.0, translate: float = 0.05,
                  scale: tuple[float, float] = (0.95, 1.05), shear: float = 5.0) -> torch.Tensor:
    """Per-image rotation (deg), shift (fraction of the side), zoom and x-shear (deg), zero fill."""
    n = images.shape[0]
    angle = torch.deg2rad(_uniform(n, -degrees, degrees))
    skew = torch.tan(torch.deg2rad(_uniform(n, -shear, shear)))
    zoom = _uniform(n, *scale)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = cos, cos * skew - sin
    theta[:, 1, 0], theta[:, 1, 1] = sin, sin * skew + cos
    theta[:, :, 2] = 2 * _uniform(2 * n, -translate, translate).view(n, 2)
    grid = F.affine_grid(theta.to(images), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, padding_mode="zeros", align_corners=False)


def random_jitter(images: torch.Tensor, brightness: float = 0.1, contrast: float = 0.1) -> torch.Tensor:
    """Per-image brightness and contrast factors in [1 - x, 1 + x], clipped to [0, 1]."""
    n = images.shape[0]
    out = images * _uniform(n, 1 - brightness, 1 + brightness).view(-1, 1, 1, 1)
    gray = out.mean(dim=(1, 2, 3), keepdim=True)
    out = gray + (out - gray) * _uniform(n, 1 - contrast, 1 + contrast).view(-1, 1, 1, 1)
    return out.clamp(0, 1)


def _per_image(transform: v2.Transform) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda images: torch.stack([transform(x) for x in images])


def _pipeline(dataset: str, preset: str, size: int) -> list[Callable[[torch.Tensor], torch.Tensor]]:
    family = FAMILIES.get(dataset, "imagenet")
    flip = [] if family == "mnist" else [random_flip]
    if preset == "light":
        return flip + [random_affine]
    if family == "fashion-mnist":
        return flip + [random_affine, random_jitter]
    if family == "mnist":
        scale = size / 224
        return [random_affine, random_jitter, _per_image(v2.ElasticTransform(alpha=20 * scale, sigma=5 * scale))]
    randaugment = _per_image(v2.Compose([v2.ToDtype(torch.uint8, scale=True), v2.RandAugment(),
                                         v2.ToDtype(torch.float32, scale=True)]))
    crop = [_per_image(v2.RandomResizedCrop(size, antialias=True))] if family == "imagenet" else []
    return crop + flip + [randaugment]


def make_augment(dataset: str, preset: str, n_classes: int, image_size: int) -> Augment | None:
    """Batch augmentation ``(images, labels) -> (images, targets)`` or None for ``'none'``."""
    if preset not in PRESETS:
        raise ValueError(f"augmentation preset must be one of {PRESETS}, got {preset!r}")
    if preset == "none":
        return None
    steps = _pipeline(dataset, preset, image_size)
    mixing = preset == "paper" and FAMILIES.get(dataset) in ("fashion-mnist", "cifar")
    mix = v2.RandomChoice([v2.CutMix(num_classes=n_classes), v2.MixUp(num_classes=n_classes)]) if mixing else None

    def augment(images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for step in steps:
            images = step(images)
        return mix(images, labels) if mix is not None else (images, labels)

    return augment
