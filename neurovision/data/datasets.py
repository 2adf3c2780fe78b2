"""Labelled image data sets as tensors.

``load_dataset(name, split)`` returns a :class:`LabelledImages` with float images (N, C, H, W)
in [0, 1]. Local copies are read from the data folder (see :mod:`neurovision.data.paths`);
``download=True`` lets torchvision fetch the official files (network access, explicit).
"""
from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..errors import CorruptFileError, DataUnavailableError, UnknownIdError
from ..reliability.checksums import verify_digest
from .images import to_tensor
from .paths import data_path

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")


@dataclass
class LabelledImages:
    """Images (N, C, H, W) float in [0, 1], labels (N,) int64, class names and stimulus ids."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]
    name: str

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def stimulus_ids(self) -> list[str]:
        return [f"{self.name}-{i:06d}" for i in range(len(self))]

    def subset(self, index) -> "LabelledImages":
        index = torch.as_tensor(index, dtype=torch.long)
        return LabelledImages(self.images[index], self.labels[index], self.classes, self.name)

    def per_class(self, k: int, seed: int = 0) -> "LabelledImages":
        """``k`` images of every class, drawn without replacement with ``seed``."""
        gen = np.random.default_rng(seed)
        labels = self.labels.numpy()
        picks = []
        for c in range(len(self.classes)):
            members = np.flatnonzero(labels == c)
            if len(members) < k:
                raise ValueError(f"class {self.classes[c]!r} has {len(members)} images, fewer than k={k}")
            picks.append(gen.choice(members, size=k, replace=False))
        return self.subset(np.sort(np.concatenate(picks)))


#: published MD5 of the uncompressed official Fashion-MNIST files (the .gz bytes vary by packager)
FASHION_MD5 = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}


def read_idx(path: str | os.PathLike, md5: str | None = None) -> np.ndarray:
    """Read a (gzipped) big-endian idx file (MNIST format) into a numpy array.

    ``md5``: published checksum of the uncompressed content; a mismatch raises
    :class:`CorruptFileError`.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise
    except (OSError, EOFError) as exc:
        raise CorruptFileError(
            f"cannot read idx file {path}: {exc}; the file is truncated or not gzip/idx. "
            "Delete it and fetch it again"
        ) from exc
    if md5 is not None:
        verify_digest(raw, md5, "md5", name=str(path))
    try:
        ndim = raw[3]
        dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
        return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)
    except (ValueError, IndexError) as exc:
        raise CorruptFileError(
            f"idx file {path} does not hold the array its header announces ({exc}); "
            "delete it and fetch it again"
        ) from exc


def _fashion_mnist(split: str, root, download: bool) -> LabelledImages:
    prefix = "train" if split == "train" else "t10k"
    try:
        folder = Path(root) if root else data_path("fashion-mnist")
        images = read_idx(folder / f"{prefix}-images-idx3-ubyte.gz", FASHION_MD5[f"{prefix}-images-idx3-ubyte"])
        labels = read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", FASHION_MD5[f"{prefix}-labels-idx1-ubyte"])
    except FileNotFoundError:
        if not download:
            raise
        return _torchvision("FashionMNIST", split, root, FASHION_CLASSES, "fashion-mnist", download)
    return LabelledImages(to_tensor(images), torch.as_tensor(labels.astype(np.int64)),
                          FASHION_CLASSES, "fashion-mnist")


def _cifar10_subset(split: str, root, download: bool) -> LabelledImages:
    path = Path(root) / "cifar10_subset.npz" if root else data_path("cifar10-subset", "cifar10_subset.npz")
    with np.load(path, allow_pickle=False) as archive:
        x, y = archive[f"x_{split}"], archive[f"y_{split}"]
        classes = tuple(str(c) for c in archive["classes"])
    return LabelledImages(to_tensor(x), torch.as_tensor(y, dtype=torch.long), classes, "cifar10-subset")


def _torchvision(cls_name: str, split: str, root, classes, name, download: bool) -> LabelledImages:
    """Official data set through torchvision, read from ``root``; fetched into it over the
    network when missing only if ``download``."""
    import torchvision

    root = Path(root or Path.home() / ".cache" / "neurovision" / "torchvision")
    try:
        dataset = getattr(torchvision.datasets, cls_name)(root, train=split == "train", download=download)
    except RuntimeError as exc:  # torchvision: "Dataset not found or corrupted"
        raise DataUnavailableError(
            f"data set {name} is not in {root} and downloading is off; pass --download (uses the network) "
            f"or download=True, or put torchvision's {cls_name} files there ({exc})") from None
    except OSError as exc:  # URLError, connection refused, no route to host
        raise DataUnavailableError(
            f"could not download data set {name} into {root}: {exc}; check the network connection or "
            "copy the files there") from None
    data = dataset.data.numpy() if isinstance(dataset.data, torch.Tensor) else dataset.data
    labels = torch.as_tensor(np.asarray(dataset.targets), dtype=torch.long)
    return LabelledImages(to_tensor(data), labels, tuple(classes or dataset.classes), name)


def _mnist(split, root, download):
    return _torchvision("MNIST", split, root, tuple(str(i) for i in range(10)), "mnist", download)


def _cifar10(split, root, download):
    return _torchvision("CIFAR10", split, root, None, "cifar10", download)


def _cifar100(split, root, download):
    return _torchvision("CIFAR100", split, root, None, "cifar100", download)


DATASETS = {
    "fashion-mnist": _fashion_mnist,
    "cifar10-subset": _cifar10_subset,
    "mnist": _mnist,
    "cifar10": _cifar10,
    "cifar100": _cifar100,
}


def load_dataset(name: str, split: str = "test", root=None, download: bool | None = None) -> LabelledImages:
    """Load data set ``name`` ({list}); ``split`` is 'train' or 'test'.

    ``mnist``, ``cifar10`` and ``cifar100`` are read by torchvision from ``root``; with
    ``download=True`` missing files are fetched over the network. ``download=None`` follows the
    ``NEUROVISION_DOWNLOAD`` environment variable (set to 1 by the command line's ``--download``).
    """
    if download is None:
        download = os.environ.get("NEUROVISION_DOWNLOAD", "") == "1"
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if name not in DATASETS:
        raise UnknownIdError("dataset", name, list(DATASETS))
    return DATASETS[name](split, root, download)


load_dataset.__doc__ = load_dataset.__doc__.format(list=", ".join(DATASETS))
