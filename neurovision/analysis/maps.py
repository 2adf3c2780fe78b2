"""A stepped model as a map on flat state vectors, and its Jacobian.

For a :class:`~neurovision.dynamics.SteppedModel` under a fixed drive (an image on screen or
nothing), one Euler step is a map ``F: R^n -> R^n`` of the flattened state. Its fixed points
``F(x) = x`` are the model's steady states and the Jacobian ``J_F`` at a state linearises the
dynamics there; the continuous-time Jacobian is ``(J_F - I) / dt`` (units 1/ms).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch

from ..dynamics.base import State, SteppedModel
from ..errors import ShapeError
from .operators import Operator, check_finite


def _expand(drive, batch: int):
    """Repeat a batch-1 drive (tensor, tuple/list or dict of them) to ``batch`` rows."""
    if drive is None:
        return None
    if isinstance(drive, torch.Tensor):
        if drive.dim() == 0 or drive.shape[0] == batch:
            return drive
        if drive.shape[0] != 1:
            raise ShapeError(f"the drive has batch {drive.shape[0]}; expected 1 (one stimulus)")
        return drive.expand(batch, *drive.shape[1:])
    if isinstance(drive, dict):
        return {k: _expand(v, batch) for k, v in drive.items()}
    if isinstance(drive, tuple) and hasattr(drive, "_fields"):  # a NamedTuple
        return type(drive)(*(_expand(v, batch) for v in drive))
    if isinstance(drive, (tuple, list)):
        return type(drive)(_expand(v, batch) for v in drive)
    return drive


class StepMap:
    """One step ``F`` of ``model`` under a fixed drive, on flat vectors ``(B, n)``.

    ``keys`` are the state entries that form the vector (default: all entries of the model's
    state); the others stay at their values in ``context`` (a batch-1 state, default the
    model's initial state). ``stimulus``: one image ``(C, H, W)`` shown throughout, or None.
    """

    def __init__(self, model: SteppedModel, stimulus: torch.Tensor | None = None,
                 keys: Iterable[str] | None = None, context: State | None = None):
        if not isinstance(model, SteppedModel):
            raise TypeError(
                f"{type(model).__name__} is not a SteppedModel; fixed points and Jacobians need "
                "a model advanced by step(state, drive) (adaptive-solver models are not)"
            )
        self.model = model
        self.dt = float(model.dt)
        template = context if context is not None else model.initial_state(1)
        self.keys = tuple(keys) if keys is not None else tuple(template)
        missing = [k for k in self.keys if k not in template]
        if missing:
            raise ShapeError(f"state has no entries {missing}; it has {list(template)}")
        self.context = {k: v.detach()[:1] for k, v in template.items()}
        self.shapes = {k: tuple(template[k].shape[1:]) for k in self.keys}
        self.sizes = [math.prod(s) for s in self.shapes.values()]
        self.n = sum(self.sizes)
        ref = template[self.keys[0]]
        self.dtype, self.device = ref.dtype, ref.device
        self.drive = None
        if stimulus is not None:
            image = stimulus if stimulus.dim() == 4 else stimulus.unsqueeze(0)
            check_finite(image, "the stimulus")
            with torch.no_grad():
                self.drive = model.encode(image.to(self.device))

    def flatten(self, state: State) -> torch.Tensor:
        """``(B, n)`` vector of the selected entries of ``state``."""
        return torch.cat([state[k].reshape(state[k].shape[0], -1) for k in self.keys], dim=1)

    def unflatten(self, x: torch.Tensor) -> State:
        """The full state (context entries expanded) whose selected entries are ``x``."""
        if x.dim() != 2 or x.shape[1] != self.n:
            raise ShapeError(f"expected state vectors (B, {self.n}), got {tuple(x.shape)}")
        batch = x.shape[0]
        state = {k: v.expand(batch, *v.shape[1:]) for k, v in self.context.items()}
        for key, part in zip(self.keys, torch.split(x, self.sizes, dim=1)):
            state[key] = part.reshape(batch, *self.shapes[key])
        return state

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """``F(x)`` for a batch ``(B, n)``."""
        new = self.model.step(self.unflatten(x), _expand(self.drive, x.shape[0]))
        return self.flatten(new)

    def velocity(self, x: torch.Tensor) -> torch.Tensor:
        """``(F(x) - x) / dt``: the Euler estimate of dr/dt in state units per ms."""
        return (self(x) - x) / self.dt


def as_step_map(system, stimulus=None) -> "StepMap | FunctionMap":
    """A :class:`StepMap` of a stepped model, or ``system`` itself if it already is a map."""
    if isinstance(system, (StepMap, FunctionMap)):
        if stimulus is not None:
            raise ValueError("give the stimulus when building the StepMap, not afterwards")
        return system
    return StepMap(system, stimulus)


class FunctionMap:
    """A map given as a function ``F((B, n)) -> (B, n)`` of step ``dt`` (reference systems)."""

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor], n: int, dt: float,
                 dtype=torch.float64, device="cpu"):
        self.fn, self.n, self.dt = fn, int(n), float(dt)
        self.dtype, self.device = dtype, torch.device(device)

    def __call__(self, x):
        return self.fn(x)

    def velocity(self, x):
        return (self(x) - x) / self.dt


def jvp(fmap, x: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(F(x), J_F(x) v)`` for batches ``x, v`` of shape ``(B, n)`` (rows are independent).

    Computed with reverse-mode autograd by the double-backward identity
    ``J v = d/du <J^T u, v>``, which works for every op with a double backward (conv, tanh,
    relu ...) and, unlike forward-mode AD, needs no operator decompositions.
    """
    with torch.enable_grad():
        point = x.detach().requires_grad_(True)
        out = fmap(point)
        probe = torch.zeros_like(out, requires_grad=True)
        (pullback,) = torch.autograd.grad(out, point, probe, create_graph=True, allow_unused=True)
        if pullback is None or not pullback.requires_grad:  # F does not depend on x
            return out.detach(), torch.zeros_like(out)
        (push,) = torch.autograd.grad(pullback, probe, v.to(pullback), allow_unused=True)
    push = torch.zeros_like(out) if push is None else push
    return out.detach(), push.detach()


def tangent(fmap, x: torch.Tensor, v: torch.Tensor, method: str = "jvp") -> tuple[torch.Tensor, torch.Tensor]:
    """``(F(x), J_F(x) v)`` by autograd (``"jvp"``, exact) or central differences
    (``"difference"``: step ``eps^(1/3) max(||x||, 1)`` per row, error ``O(eps^(2/3))``, three
    forward evaluations and no graph, faster for small systems).
    """
    if method == "jvp":
        return jvp(fmap, x, v)
    if method != "difference":
        raise ValueError(f"method={method!r}; choose 'jvp' or 'difference'")
    with torch.no_grad():
        h = torch.finfo(x.dtype).eps ** (1 / 3) * x.norm(dim=1, keepdim=True).clamp_min(1.0)
        return fmap(x), (fmap(x + h * v) - fmap(x - h * v)) / (2 * h)


def jacobian_operator(fmap, x: torch.Tensor, continuous: bool = False) -> Operator:
    """The Jacobian of ``fmap`` at the single state ``x`` (``(n,)``) as a matrix-free operator.

    ``continuous=True`` gives ``(J_F - I) / dt``, the Jacobian of the vector field (1/ms).
    """
    point = x.detach().reshape(1, -1).to(fmap.device, fmap.dtype)
    check_finite(point, "the state to linearise at")
    if point.shape[1] != fmap.n:
        raise ShapeError(f"state of length {point.shape[1]}, the map acts on length {fmap.n}")

    def apply(v):
        return jvp(fmap, point.expand(v.shape[0], -1), v)[1].detach()

    op = Operator(apply, fmap.n, dtype=fmap.dtype, device=fmap.device, name="jacobian")
    return op.affine(1.0 / fmap.dt, -1.0 / fmap.dt, name="continuous jacobian") if continuous else op


def batch_jacobians(fmap, x: torch.Tensor, max_rows: int = 65536) -> torch.Tensor:
    """Dense Jacobians ``(B, n, n)`` of ``fmap`` at each row of ``x`` (small ``n`` only)."""
    batch, n = x.shape
    eye = torch.eye(n, dtype=x.dtype, device=x.device)
    cols = []
    per_call = max(1, max_rows // max(batch, 1))
    for start in range(0, n, per_call):
        basis = eye[start : start + per_call]  # (c, n)
        c = basis.shape[0]
        points = x.detach().repeat_interleave(c, dim=0)
        tangents = basis.repeat(batch, 1)
        cols.append(jvp(fmap, points, tangents)[1].detach().reshape(batch, c, n))
    return torch.cat(cols, dim=1).transpose(1, 2)


def recurrent_operator(model, area: str) -> Operator:
    """The recurrent weight of ``area`` as an operator on its flattened state.

    Uses ``model.recurrent_conv(area)`` (a convolution, e.g. CordsNet: never expanded) or
    ``model.recurrent_weight(area)`` (a dense matrix, e.g. back-end areas).
    """
    model.check_area(area)
    if hasattr(model, "recurrent_conv"):
        conv = model.recurrent_conv(area)
        shape = tuple(model.area_shape(area))
        ref = next(model.parameters())

        def fn(v):
            with torch.no_grad():
                return conv(v)

        return Operator.from_function(fn, shape, ref.dtype, ref.device, f"W_rec[{area}]")
    if hasattr(model, "recurrent_weight"):
        with torch.no_grad():
            return Operator.from_matrix(model.recurrent_weight(area).detach(), f"W_rec[{area}]")
    raise TypeError(
        f"{type(model).__name__} exposes neither recurrent_conv(area) nor recurrent_weight(area); "
        "use jacobian_operator(StepMap(model), state) to linearise its dynamics instead"
    )
