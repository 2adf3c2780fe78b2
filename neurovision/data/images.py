"""Images as float tensors ``(N, C, H, W)`` in [0, 1], checked and fitted to a model's input."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import DataError, ShapeError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def to_tensor(images) -> torch.Tensor:
    """uint8/float arrays ``(N, H, W)``, ``(N, H, W, C)`` or ``(N, C, H, W)`` -> float (N, C, H, W).

    uint8 values are scaled to [0, 1]. Input is taken as channel-last when its last axis has 1,
    3 or 4 entries and axis 1 does not (or is larger); torch tensors with 4 dims passed to
    :func:`prepare_images` are always taken as (N, C, H, W). Raises :class:`ShapeError` for other layouts.
    """
    array = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if array.ndim == 3:
        array = array[:, None]
    if array.ndim != 4:
        raise ShapeError(
            f"images must have shape (N, H, W), (N, H, W, C) or (N, C, H, W); got {array.shape}. "
            "Add the batch axis for a single image (images[None]) or drop extra axes"
        )
    channel_last = array.shape[-1] in (1, 3, 4) and (
        array.shape[1] not in (1, 3, 4) or array.shape[-1] < array.shape[1]
    )
    if channel_last:
        array = array.transpose(0, 3, 1, 2)
    out = torch.from_numpy(np.ascontiguousarray(array)).to(torch.float32, copy=True)  # one float copy
    return out.div_(255.0) if array.dtype == np.uint8 else out


def prepare_images(images, input_shape: tuple[int, int, int] | None, resize: bool = True) -> torch.Tensor:
    """Check images and fit them to ``input_shape`` (C, H, W).

    Grayscale is repeated to RGB and RGB is averaged to grayscale when the model asks for it;
    an alpha channel is dropped; a size mismatch is resized bilinearly (antialiased) when
    ``resize`` is true, else a :class:`ShapeError` names both sizes. NaN/Inf pixels raise
    :class:`DataError`.
    """
    x = images if isinstance(images, torch.Tensor) and images.ndim == 4 else to_tensor(images)
    x = x.float()
    if x.shape[0] == 0:
        raise DataError("the image set is empty")
    if not torch.isfinite(x).all():
        bad = (~torch.isfinite(x)).flatten(1).any(1).nonzero().flatten().tolist()
        raise DataError(f"images {bad[:10]} contain NaN/Inf pixels; clean or drop them")
    if input_shape is None:
        return x
    channels, height, width = input_shape
    if x.shape[1] == 4:
        x = x[:, :3]
    if x.shape[1] != channels:
        if x.shape[1] == 1 and channels == 3:
            x = x.repeat(1, 3, 1, 1)
        elif x.shape[1] == 3 and channels == 1:
            x = x.mean(1, keepdim=True)
        else:
            raise ShapeError(
                f"images have {x.shape[1]} channels; the model expects {channels}. Pass "
                "grayscale (1), RGB (3) or RGBA (4) images"
            )
    if tuple(x.shape[2:]) != (height, width):
        if not resize:
            raise ShapeError(
                f"images are {tuple(x.shape[2:])} px; the model expects {(height, width)} px. "
                "Resize them or pass resize=True"
            )
        x = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False, antialias=True)
    return x


def load_image_folder(folder: str | os.PathLike) -> tuple[torch.Tensor, list[str]]:
    """Load every image file in ``folder`` (sorted by name): (images (N, C, H, W), stimulus ids).

    All images must share one size; ids are the file names without suffix.
    """
    from PIL import Image

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"image folder {folder} does not exist; check the path")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(
            f"no image files ({', '.join(IMAGE_SUFFIXES)}) in {folder}; check the folder or add images"
        )
    arrays = []
    for path in files:
        try:
            with Image.open(path) as img:
                arrays.append(np.asarray(img.convert("RGB")))
        except Image.DecompressionBombError as exc:
            raise DataError(f"image {path} is too large to load safely ({exc}); resize it or remove it "
                            "from the folder") from None
        except OSError as exc:
            raise DataError(f"cannot read image {path}: {exc}") from exc
    sizes = {a.shape for a in arrays}
    if len(sizes) > 1:
        raise ShapeError(f"images in {folder} have different sizes {sorted(sizes)}; resize them first")
    return to_tensor(np.stack(arrays)), [p.stem for p in files]
