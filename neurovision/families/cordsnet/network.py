"""CordsNet: convolutional continuous-time rate networks (Soo et al., NeurIPS 2024).

Every area ``j`` is a convolutional rate network integrated by Euler steps of ``dt`` ms::

    tau dr_j/dt = -r_j + sigma(W_rec_j * r_j + b_j + W_in_j * h_j)
    r_j <- (1 - alpha) r_j + alpha sigma(...),   alpha = dt / tau   (0.2 by default)

``b_j`` is a per-unit bias (C x H x W), ``*`` a 3x3 convolution and ``h_j`` the area's input,
read from the *previous* step's state of the areas below (one-step inter-area delay), with the
ResNet-18-like wiring of the authors' code (``relu`` is applied to every inter-area signal)::

    h_1 = s                                   (stem: 7x7/2 conv + 3x3/2 average pool of the image)
    h_2 = relu(r_1) + K_s * s                 (K_s: 3x3 "stem skip" conv)
    h_j = relu(r_{j-1}) + relu(r_{j-2})       j = 3, 5, 7
    h_j = relu(r_{j-1}) + K_j * relu(r_{j-2}) j = 4, 6, 8   (K_j: 1x1/2 skip conv)
    logits = W_fc mean_xy(relu(r_D) + relu(r_{D-1})) + c

All convolutions and the read-out carry weight normalisation (``g * v / ||v||``). Areas are
named ``area1`` ... ``areaD``; channels ``[64, 64, 128, 128, 256, 256, 512, 512][:D]``.

What is constant is computed once: the image drive of areas 1 and 2 (stem, stem skip and their
input convolutions, plus bias) once per presentation in :meth:`CordsNet.encode`, and the
spontaneous state (the fixed point without input, the same for every image) once per set of
weights in :meth:`CordsNet.initial_state`.
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from ...dynamics.base import State, SteppedModel
from ...dynamics.runner import check_finite
from ...errors import ShapeError

#: channels of the stem output and of areas 1..8 (authors' R8)
CHANNELS = (64, 64, 64, 128, 128, 256, 256, 512, 512)
#: stride of each area's input convolution
STRIDES = (1, 1, 2, 1, 2, 1, 2, 1)
DEPTHS = (2, 4, 6, 8)
ACTIVATIONS = ("relu", "tanh", "prelu")

#: per-channel input normalisation used by the authors for each data set
NORMALISATION = {
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "mnist": ((0.1307,), (0.3081,)),
    "fashion-mnist": ((0.2860,), (0.3530,)),
}


@dataclass(frozen=True)
class CordsNetConfig:
    """Architecture and dynamics of one CordsNet.

    ``depth``: number of recurrent areas (2, 4, 6, 8); ``image_size``: input side in px (the
    authors resize every data set to 224); ``mean``/``std``: per-channel normalisation of
    images given in [0, 1]; ``tau``/``dt`` in ms; ``activation``: ``relu``, ``tanh`` or
    ``prelu`` (slope ``prelu_slope``; 1 = linear); ``rec_gain``: if set, recurrent kernels are
    drawn from N(0, rec_gain^2 / fan_in) (stable / oscillatory / chaotic regimes, Fig. 1B);
    ``spontaneous_tol`` and ``spontaneous_max_steps`` control the fixed-point search.
    """

    depth: int = 8
    in_channels: int = 3
    image_size: int = 224
    n_classes: int = 1000
    mean: tuple[float, ...] = NORMALISATION["imagenet"][0]
    std: tuple[float, ...] = NORMALISATION["imagenet"][1]
    tau: float = 10.0
    dt: float = 2.0
    activation: str = "relu"
    prelu_slope: float = 0.0
    rec_gain: float | None = None
    spontaneous_tol: float = 1e-6
    spontaneous_max_steps: int = 3000

    def __post_init__(self):
        if self.depth not in DEPTHS:
            raise ValueError(f"CordsNet depth must be one of {DEPTHS}, got {self.depth}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        if not (self.tau > 0 and self.dt > 0 and self.dt <= self.tau):
            raise ValueError(f"need 0 < dt <= tau (ms), got dt={self.dt}, tau={self.tau}")
        if len(self.mean) != self.in_channels or len(self.std) != self.in_channels:
            raise ValueError(
                f"mean/std need {self.in_channels} values (one per input channel), "
                f"got {len(self.mean)} and {len(self.std)}"
            )
        if self.image_size < 4:
            raise ValueError(f"image_size must be at least 4 px, got {self.image_size}")

    @classmethod
    def for_dataset(cls, dataset: str, depth: int, image_size: int, n_classes: int, **kw):
        """Configuration with the authors' normalisation of ``dataset`` (see NORMALISATION)."""
        mean, std = NORMALISATION[dataset]
        return cls(depth=depth, in_channels=len(mean), image_size=image_size,
                   n_classes=n_classes, mean=mean, std=std, **kw)

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> "CordsNetConfig":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def _conv_out(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def map_sizes(config: CordsNetConfig) -> tuple[int, list[int]]:
    """Side (px) of the stem output and of each area's maps for ``config``."""
    stem = _conv_out(_conv_out(config.image_size, 7, 2, 3), 3, 2, 1)
    sizes, size = [], stem
    for j in range(config.depth):
        size = _conv_out(size, 3, STRIDES[j], 1)
        sizes.append(size)
    return stem, sizes


def wn_conv(c_in: int, c_out: int, kernel: int, stride: int) -> nn.Module:
    """Weight-normalised conv without bias, padding ``kernel // 2``."""
    return weight_norm(nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False))


class Drive(NamedTuple):
    """Constant drive of one presentation: pre-activation input of areas 1 and 2, bias included."""

    area1: torch.Tensor
    area2: torch.Tensor


class Rates(dict):
    """Area rates known to be non-negative, so their output ``relu(r)`` (to the areas above and the
    read-out) is ``r`` itself.

    :meth:`CordsNet.zero_state` and the spontaneous state are ``Rates``, and a ReLU step keeps
    them so (``(1 - alpha) r + alpha relu(...)`` of non-negative rates), so
    :meth:`CordsNet.area_output` skips that relu on them; any other mapping is treated as possibly
    negative. Build one only from non-negative tensors. Values are the same either way. The
    derivative of the skipped relu at a rate of exactly 0 becomes 1 (the one-sided derivative
    inside the non-negative orthant) instead of PyTorch's 0; parameter gradients do not change,
    since a rate that is exactly 0 has been 0 since the start.
    """


class CordsNet(SteppedModel):
    """CordsNet-R{2,4,6,8} as a :class:`~neurovision.dynamics.SteppedModel` (see module doc)."""

    def __init__(self, config: CordsNetConfig | None = None, **overrides):
        super().__init__()
        config = dataclasses.replace(config or CordsNetConfig(), **overrides)
        self.config = config
        depth = config.depth
        self.areas = tuple(f"area{j + 1}" for j in range(depth))
        self.input_shape = (config.in_channels, config.image_size, config.image_size)
        self.dt, self.tau = float(config.dt), float(config.tau)
        self.stem_size, sizes = map_sizes(config)
        if min(sizes) < 1:
            raise ValueError(f"image_size {config.image_size} px is too small for depth {depth}")
        self.shapes = {a: (CHANNELS[j + 1], s, s) for j, (a, s) in enumerate(zip(self.areas, sizes))}

        self.stem = wn_conv(config.in_channels, CHANNELS[0], 7, 2)
        self.stem_skip = wn_conv(CHANNELS[0], CHANNELS[1], 3, 1)
        self.rec = nn.ModuleList(wn_conv(CHANNELS[j + 1], CHANNELS[j + 1], 3, 1) for j in range(depth))
        self.inp = nn.ModuleList(wn_conv(CHANNELS[j], CHANNELS[j + 1], 3, STRIDES[j]) for j in range(depth))
        self.bias = nn.ParameterList(nn.Parameter(torch.zeros(self.shapes[a])) for a in self.areas)
        self.skip = nn.ModuleList(wn_conv(CHANNELS[j - 1], CHANNELS[j + 1], 1, 2) for j in range(3, depth, 2))
        self.fc = weight_norm(nn.Linear(CHANNELS[depth], config.n_classes))
        self.register_buffer("prelu_slope", torch.tensor([float(config.prelu_slope)]))
        self.register_buffer("mean", torch.tensor(config.mean).view(-1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(config.std).view(-1, 1, 1), persistent=False)
        if config.rec_gain is not None:
            self.reset_recurrent(config.rec_gain)
        self._spontaneous: tuple[tuple, State] | None = None
        self.spontaneous_info: dict = {}

    # -- configuration --------------------------------------------------------------------------
    @property
    def alpha(self) -> float:
        """Euler factor dt / tau."""
        return self.dt / self.tau

    def area_shape(self, area: str) -> tuple[int, int, int]:
        self.check_area(area)
        return self.shapes[area]

    def index(self, area: str) -> int:
        """0-based position of ``area``."""
        self.check_area(area)
        return self.areas.index(area)

    def set_activation(self, activation: str, prelu_slope: float | None = None) -> None:
        """Switch the within-area non-linearity (and PReLU slope ``a``) in place."""
        slope = self.config.prelu_slope if prelu_slope is None else float(prelu_slope)
        self.config = dataclasses.replace(self.config, activation=activation, prelu_slope=slope)
        with torch.no_grad():
            self.prelu_slope.fill_(slope)

    @torch.no_grad()
    def reset_recurrent(self, gain: float, generator: torch.Generator | None = None) -> None:
        """Redraw recurrent kernels from N(0, gain^2 / (C * 9)) (Fig. 1B regimes)."""
        for conv in self.rec:
            v = conv.parametrizations.weight.original1
            fan_in = v.shape[1] * v.shape[2] * v.shape[3]
            v.copy_(torch.randn(v.shape, generator=generator) * gain / math.sqrt(fan_in))
            conv.parametrizations.weight.original0.copy_(v.flatten(1).norm(dim=1).view(-1, 1, 1, 1))

    # -- non-linearity ---------------------------------------------------------------------------
    def sigma(self, x: torch.Tensor, inplace: bool = False) -> torch.Tensor:
        """Within-area activation function; ``inplace`` overwrites ``x`` (ReLU, tanh) to save a copy."""
        kind = self.config.activation
        if kind == "relu":
            return x.relu_() if inplace else F.relu(x)
        if kind == "tanh":
            return x.tanh_() if inplace else torch.tanh(x)
        return F.prelu(x, self.prelu_slope)

    def sigma_prime(self, x: torch.Tensor) -> torch.Tensor:
        """Derivative of :meth:`sigma` at ``x`` (elementwise)."""
        kind = self.config.activation
        if kind == "tanh":
            return 1 - torch.tanh(x) ** 2
        low = 0.0 if kind == "relu" else self.prelu_slope.to(x)
        return torch.where(x > 0, torch.ones_like(x), torch.zeros_like(x) + low)

    # -- drive ----------------------------------------------------------------------------------
    def check_images(self, images: torch.Tensor) -> None:
        """Raise :class:`ShapeError` unless ``images`` is (B, *input_shape)."""
        if not isinstance(images, torch.Tensor) or images.ndim != 4 or tuple(images.shape[1:]) != self.input_shape:
            got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            raise ShapeError(
                f"CordsNet-R{self.config.depth} expects images of shape (batch, {', '.join(map(str, self.input_shape))}) "
                f"= (batch, channels, height, width) in [0, 1], got {got}. Fit them with "
                "neurovision.data.images.prepare_images(images, model.input_shape) (resizes, "
                "converts grayscale/RGB)"
            )

    def stem_output(self, images: torch.Tensor) -> torch.Tensor:
        """Stem activity ``s`` (B, 64, S, S) of images in [0, 1] (normalised first)."""
        self.check_images(images)
        x = (images - self.mean) / self.std
        return F.avg_pool2d(self.stem(x), 3, stride=2, padding=1)

    def encode(self, images: torch.Tensor) -> Drive:
        """Constant drive of a presentation: ``W_in1*s + b1`` and ``W_in2*(K_s*s) + b2``."""
        s = self.stem_output(images)
        return Drive(self.inp[0](s) + self.bias[0], self.inp[1](self.stem_skip(s)) + self.bias[1])

    def blank_drive(self) -> Drive:
        """Drive with nothing on screen (biases only)."""
        return Drive(self.bias[0], self.bias[1])

    # -- dynamics -------------------------------------------------------------------------------
    def area_output(self, state: State, area: str) -> torch.Tensor:
        """What ``area`` sends to the areas above and to the read-out: relu(r) (r itself for :class:`Rates`)."""
        return state[area] if isinstance(state, Rates) else F.relu(state[area])

    def _feedforward(self, j: int, out: list[torch.Tensor]) -> torch.Tensor | None:
        """Per-step input-convolution term of area ``j`` from the previous outputs ``out``."""
        if j == 0:
            return None
        if j == 1:
            return self.inp[1](out[0])
        if j % 2 == 0:
            return self.inp[j](out[j - 1] + out[j - 2])
        return self.inp[j](out[j - 1] + self.skip[(j - 3) // 2](out[j - 2]))

    def preactivations(self, state: State, drive: Drive | None) -> list[torch.Tensor]:
        """``W_rec_j * r_j + b_j + W_in_j * h_j`` of every area (previous-step inputs)."""
        drive = self.blank_drive() if drive is None else drive
        r = [state[a] for a in self.areas]
        out = [self.area_output(state, a) for a in self.areas[:-1]]
        pre = []
        for j in range(len(r)):
            # a fresh tensor: the sums below are done in place, in the state's dtype (under
            # torch.autocast the convolutions run in bfloat16 and the dynamics stay in float32)
            total = self.rec[j](r[j]).to(r[j].dtype)
            total += drive[j] if j < 2 else self.bias[j]
            ff = self._feedforward(j, out)
            if ff is not None:
                total += ff
            pre.append(total)
        return pre

    def step(self, state: State, drive: Drive | None) -> State:
        """One Euler step: ``r_j <- r_j + alpha (sigma(pre_j) - r_j)`` for every area.

        The pre-activations are fresh tensors of this step, so the activation overwrites them.
        Non-negative :class:`Rates` stay :class:`Rates` under ReLU.
        """
        pre = self.preactivations(state, drive)
        alpha, kind = self.alpha, self.next_state_type(state)
        return kind((a, torch.lerp(state[a], self.sigma(p, inplace=True), alpha)) for a, p in zip(self.areas, pre))

    def next_state_type(self, state: State) -> type:
        """Mapping type of the state one step after ``state``: :class:`Rates` stay so under ReLU."""
        return Rates if isinstance(state, Rates) and self.config.activation == "relu" else dict

    def readout(self, state: State) -> torch.Tensor:
        """Logits (B, n_classes) of the current state (the per-step read-out)."""
        last = self.area_output(state, self.areas[-1]) + self.area_output(state, self.areas[-2])
        return self.fc(last.mean(dim=(2, 3)))

    def zero_state(self, batch_size: int) -> State:
        """All rates zero (the authors' state before the spontaneous phase)."""
        ref = self.bias[0]
        return Rates((a, ref.new_zeros(batch_size, *self.shapes[a])) for a in self.areas)

    # -- spontaneous state ------------------------------------------------------------------------
    def _weights_key(self) -> tuple:
        tensors = list(self.parameters()) + list(self.buffers())
        return (self.config,) + tuple((t.data_ptr(), t._version, t.dtype, str(t.device)) for t in tensors)

    def spontaneous_state(self) -> State:
        """Fixed point of the dynamics without input (batch 1, no grad), cached per weights.

        Found by integrating from zero rates until the largest change per step is below
        ``spontaneous_tol * (1 + max |r|)`` or ``spontaneous_max_steps`` steps have passed; in
        the latter case (oscillatory or chaotic regimes) the last state is used and
        ``spontaneous_info['converged']`` is False.
        """
        key = self._weights_key()
        if self._spontaneous is not None and self._spontaneous[0] == key:
            return self._spontaneous[1]
        cfg = self.config
        with torch.no_grad():
            state, drive = self.zero_state(1), self.blank_drive()
            converged, change = False, float("inf")
            for k in range(1, cfg.spontaneous_max_steps + 1):
                new = self.step(state, drive)
                check_finite(new, k, k * self.dt)
                change = max(float((new[a] - state[a]).abs().max()) / (1 + float(new[a].abs().max()))
                             for a in self.areas)
                state = new
                if change <= cfg.spontaneous_tol:
                    converged = True
                    break
        if not converged:
            warnings.warn(
                f"CordsNet spontaneous activity did not settle within {cfg.spontaneous_max_steps} "
                f"steps (last relative change {change:.2e}); using the last state as the "
                "spontaneous state", RuntimeWarning, stacklevel=2)
        self.spontaneous_info = {"steps": k, "converged": converged, "relative_change": change}
        self._spontaneous = (key, state)
        return state

    def initial_state(self, batch_size: int) -> State:
        """The spontaneous state, broadcast to ``batch_size`` (computed once per weights)."""
        spont = self.spontaneous_state()
        return type(spont)((a, x.expand(batch_size, *x.shape[1:])) for a, x in spont.items())

    # -- operators for analysis and back-ends ---------------------------------------------------
    def recurrent_conv(self, area: str) -> Callable[[torch.Tensor], torch.Tensor]:
        """The linear map ``v -> W_rec * v`` of ``area`` on (B, *area_shape) tensors."""
        kernel = self.recurrent_kernel(area)
        return lambda v: F.conv2d(v, kernel, padding=1)

    def recurrent_kernel(self, area: str) -> torch.Tensor:
        """Effective recurrent kernel ``g v / ||v||`` of ``area``: (C, C, 3, 3)."""
        return self.rec[self.index(area)].weight

    def jacobian_operator(self, area: str, state: State, drive: Drive | None = None,
                          kind: str = "continuous") -> Callable[[torch.Tensor], torch.Tensor]:
        """Jacobian-vector product of ``area``'s dynamics w.r.t. its own state at ``state``.

        ``kind='continuous'``: ``J v = (-v + sigma'(pre) * (W_rec * v)) / tau`` (per ms);
        ``kind='step'``: the Euler map's Jacobian ``(1 - alpha) v + alpha sigma'(pre) * (W_rec * v)``.
        Other areas are held fixed.
        """
        if kind not in ("continuous", "step"):
            raise ValueError(f"kind must be 'continuous' or 'step', got {kind!r}")
        j = self.index(area)
        with torch.no_grad():
            gain = self.sigma_prime(self.preactivations(state, drive)[j])
        conv, alpha, tau = self.recurrent_conv(area), self.alpha, self.tau
        if kind == "continuous":
            return lambda v: (gain * conv(v) - v) / tau
        return lambda v: (1 - alpha) * v + alpha * gain * conv(v)


def load_cordsnet(path, model_id: str | None = None) -> CordsNet:
    """Build a :class:`CordsNet` from a neurovision checkpoint whose meta holds its config."""
    from ...training.checkpoint import load_checkpoint
    from ...io import load_torch

    payload = load_torch(path)
    config = payload.get("meta", {}).get("cordsnet_config") if isinstance(payload, dict) else None
    if config is None:
        from ...errors import CorruptFileError

        raise CorruptFileError(
            f"{path} holds no CordsNet configuration (meta['cordsnet_config']); write it with "
            "neurovision.families.cordsnet.pipeline or load released weights with "
            "neurovision.families.cordsnet.released.load_released"
        )
    model = CordsNet(CordsNetConfig.from_dict(config))
    load_checkpoint(path, model, model_id=model_id)
    return model.eval()
