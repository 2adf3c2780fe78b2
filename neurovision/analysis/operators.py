"""Square linear operators known only through their action on vectors.

An :class:`Operator` maps flat vectors of length ``n`` (shape ``(n,)`` or a batch ``(b, n)``) to
vectors of the same length. It is how the spectral tools see a recurrent weight matrix that is
never expanded (a convolution over a 56 x 56 grid with 64 channels is a 200,704 x 200,704 matrix,
160 GB dense) and a Jacobian that is only available as Jacobian-vector products.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as tfn

from ..errors import DataError, ShapeError


class Operator:
    """A square linear map ``R^n -> R^n`` given by ``apply(batch (b, n)) -> (b, n)``.

    ``item_shape`` is the shape a vector has for the underlying model (e.g. ``(C, H, W)``),
    ``dtype``/``device`` those in which ``apply`` computes; callers may pass vectors of any
    floating dtype, they are cast on the way in and back on the way out.
    """

    def __init__(
        self,
        apply: Callable[[torch.Tensor], torch.Tensor],
        n: int,
        item_shape: tuple[int, ...] | None = None,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
        name: str = "operator",
    ):
        if int(n) < 1:
            raise ShapeError(f"{name}: an operator needs at least one dimension, got n={n}")
        self._apply = apply
        self.n = int(n)
        self.item_shape = tuple(item_shape) if item_shape is not None else (self.n,)
        self.dtype = dtype
        self.device = torch.device(device)
        self.name = name

    @property
    def shape(self) -> tuple[int, int]:
        """``(n, n)``."""
        return (self.n, self.n)

    def __repr__(self) -> str:
        return f"Operator({self.name!r}, n={self.n}, item_shape={self.item_shape})"

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        """Apply to ``v`` of shape ``(n,)`` or ``(b, n)``; the result has ``v``'s dtype."""
        single = v.dim() == 1
        batch = v.unsqueeze(0) if single else v
        if batch.dim() != 2 or batch.shape[1] != self.n:
            raise ShapeError(
                f"{self.name}: expected vectors of length {self.n} (shape (n,) or (b, n)), "
                f"got {tuple(v.shape)}"
            )
        out = self._apply(batch.to(self.device, self.dtype))
        if out.shape != batch.shape:
            raise ShapeError(
                f"{self.name}: maps {tuple(batch.shape)} to {tuple(out.shape)}; a square operator "
                "must return vectors of the length it takes"
            )
        out = out.to(v.device, v.dtype)
        return out[0] if single else out

    def affine(self, scale: float = 1.0, shift: float = 0.0, name: str | None = None) -> "Operator":
        """The operator ``scale * A + shift * I`` (e.g. ``A - I`` or ``(A - I) / tau``)."""
        base = self._apply

        def apply(v):
            return scale * base(v) + shift * v

        return Operator(apply, self.n, self.item_shape, self.dtype, self.device,
                        name or f"{scale:g}*{self.name}{shift:+g}*I")

    def to_dense(self, block: int = 256, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """The ``(n, n)`` matrix, built column block by column block (small operators only)."""
        columns = []
        eye = torch.eye(self.n, dtype=dtype)
        for start in range(0, self.n, block):
            columns.append(self(eye[start : start + block]).T)
        return torch.cat(columns, dim=1)

    # -- constructors ---------------------------------------------------------------------------
    @classmethod
    def from_matrix(cls, matrix, name: str = "matrix") -> "Operator":
        """Wrap a dense square matrix (tensor or array) acting as ``v -> M v``."""
        m = torch.as_tensor(matrix)
        if m.dim() != 2 or m.shape[0] != m.shape[1]:
            raise ShapeError(
                f"{name}: an operator must be square, got a matrix of shape {tuple(m.shape)}; "
                "eigenvalues exist only for n x n maps (use an SVD for rectangular ones)"
            )
        if not m.is_floating_point():
            m = m.double()
        check_finite(m, name)
        return cls(lambda v: v @ m.T, m.shape[0], dtype=m.dtype, device=m.device, name=name)

    @classmethod
    def from_function(
        cls, fn: Callable[[torch.Tensor], torch.Tensor], item_shape, dtype=torch.float32,
        device="cpu", name: str = "function",
    ) -> "Operator":
        """Wrap a linear ``fn`` on batches ``(b, *item_shape)``; checks it preserves the shape."""
        item_shape = tuple(int(s) for s in item_shape)
        n = int(torch.tensor(item_shape).prod())
        with torch.no_grad():
            probe = fn(torch.zeros(1, *item_shape, dtype=dtype, device=device))
        if tuple(probe.shape[1:]) != item_shape:
            raise ShapeError(
                f"{name}: maps items of shape {item_shape} to {tuple(probe.shape[1:])}; the "
                "operator must be square (same input and output shape), e.g. a stride-1 "
                "convolution with as many output as input channels and 'same' padding"
            )

        def apply(v):
            return fn(v.reshape(v.shape[0], *item_shape)).reshape(v.shape[0], n)

        return cls(apply, n, item_shape, dtype, device, name)

    @classmethod
    def from_conv2d(cls, conv, height: int, width: int, name: str | None = None) -> "Operator":
        """The recurrent convolution ``conv`` (an ``nn.Conv2d`` or a weight ``(C, C, kh, kw)``)
        acting on ``C x height x width`` maps, as the matrix ``W_conv`` of the flattened state.

        A weight tensor is applied with stride 1 and 'same' zero padding, no bias.
        """
        if isinstance(conv, nn.Module):
            module = conv
            weight = next(module.parameters(), None)
            if weight is None or weight.dim() != 4:
                raise ShapeError(f"{type(conv).__name__} has no 4-D convolution weight")
            channels = int(getattr(module, "in_channels", weight.shape[1]))
            dtype, device = weight.dtype, weight.device
            bias = getattr(module, "bias", None)

            def fn(x):
                out = module(x)
                return out - bias.view(1, -1, 1, 1) if bias is not None else out

            label = name or f"conv{tuple(weight.shape)}"
        else:
            weight = torch.as_tensor(conv)
            if weight.dim() != 4:
                raise ShapeError(
                    f"a convolution weight has shape (C_out, C_in, kh, kw), got {tuple(weight.shape)}"
                )
            if weight.shape[2] % 2 == 0 or weight.shape[3] % 2 == 0:
                raise ShapeError(
                    f"kernel {tuple(weight.shape[2:])}: 'same' padding needs odd kernel sizes; "
                    "pass an nn.Conv2d with the padding it is used with instead"
                )
            check_finite(weight, "convolution weight")
            channels, dtype, device = int(weight.shape[1]), weight.dtype, weight.device
            padding = (weight.shape[2] // 2, weight.shape[3] // 2)

            def fn(x):
                return tfn.conv2d(x, weight, padding=padding)

            label = name or f"conv{tuple(weight.shape)}"
        with torch.no_grad():
            op = cls.from_function(fn, (channels, height, width), dtype, device, label)
        inner = op._apply

        def apply(v):
            with torch.no_grad():
                return inner(v)

        op._apply = apply
        return op


def check_finite(x: torch.Tensor, what: str) -> None:
    """Raise :class:`DataError` naming ``what`` if ``x`` holds NaN or Inf."""
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).sum())
        raise DataError(
            f"{what} contains {bad} NaN/Inf value(s); analyses need finite states and weights. "
            "Check the model for divergence (lower the gain or dt) or drop those states."
        )
