"""Image folders (ImageNet layout) as training data for the CordsNet pipeline.

``folder:<root>`` names a tree ``<root>/train/<class>/*`` and ``<root>/val/<class>/*`` (the
layout of ImageNet after the usual unpacking, or any torchvision ``ImageFolder``). Training
batches are read on demand by :class:`FolderSampler` (random images, seeded by the training
loop), evaluation images by :func:`load_folder_split`; images are resized so that the shorter
side is ``size * 256 / 224`` and centre-cropped to ``size`` (the authors' evaluation transform).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ...errors import DataError

PREFIX = "folder:"


def is_folder(dataset: str) -> bool:
    return dataset.startswith(PREFIX)


def _image_folder(dataset: str, split: str):
    from torchvision.datasets import ImageFolder

    root = Path(dataset[len(PREFIX):]) / ("train" if split == "train" else "val")
    if not root.is_dir():
        raise FileNotFoundError(f"{root} does not exist; {dataset!r} needs <root>/train/<class>/ and <root>/val/<class>/")
    return ImageFolder(str(root))


def _load(folder, indices, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    from PIL import Image
    from torchvision.transforms import v2

    transform = v2.Compose([v2.Resize(size * 256 // 224, antialias=True), v2.CenterCrop(size)])
    images, labels = [], []
    for i in indices:
        path, label = folder.samples[int(i)]
        try:
            with Image.open(path) as img:
                images.append(np.asarray(transform(img.convert("RGB"))))
        except OSError as exc:
            raise DataError(f"cannot read image {path}: {exc}") from exc
        labels.append(label)
    x = torch.as_tensor(np.stack(images)).permute(0, 3, 1, 2).float() / 255
    return x, torch.as_tensor(labels, dtype=torch.long)


class FolderSampler:
    """Callable ``(batch_size, generator) -> (images, labels)`` drawing random training images."""

    def __init__(self, dataset: str, size: int):
        self.folder, self.size = _image_folder(dataset, "train"), size
        self.classes = tuple(self.folder.classes)

    def __call__(self, batch_size: int, generator: torch.Generator):
        index = torch.randint(len(self.folder), (batch_size,), generator=generator)
        return _load(self.folder, index, self.size)


def load_folder_split(dataset: str, split: str, size: int, limit: int | None, seed: int):
    """``(images, labels, classes)`` of ``limit`` seeded random images of ``split`` (all if None)."""
    folder = _image_folder(dataset, split)
    n = len(folder)
    if n == 0:
        raise DataError(f"no images under {dataset[len(PREFIX):]}/{split}")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    images, labels = _load(folder, order[: limit or n], size)
    return images, labels, tuple(folder.classes)
