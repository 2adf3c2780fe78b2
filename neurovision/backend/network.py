"""Multi-area continuous-time rate networks (the back-end).

Every area ``a`` follows ``tau_a dr_a/dt = -r_a + f(W_aa r_a + sum_b W_ab r_b + W_in u + b_a)
+ noise``, integrated by Euler steps of ``dt`` ms:
``r <- r + (dt/tau) (-r + f(...)) + sqrt(2 dt/tau) sigma xi`` with xi ~ N(0, 1), so the noise
has stationary standard deviation ``sigma`` whatever ``dt``. Recurrent matrices ``W_aa`` are
full-rank, low-rank or sparse (:mod:`.connectivity`); projections ``W_ab`` between areas are
sparse with their own density, and leave only from excitatory units when area ``b`` obeys
Dale's law. All areas update synchronously from the previous state. A linear readout of the
output area gives one logit per action at every step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from ..dynamics.base import State, SteppedModel
from ..errors import ShapeError, UnknownIdError
from .connectivity import KINDS, Sparse, dale_signs, make_connectivity

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "softplus": nn.functional.softplus,
               "sigmoid": torch.sigmoid, "linear": torch.nn.Identity()}  # linear: analysis and tests


@dataclass
class AreaSpec:
    """One area: ``units``, connectivity ``kind`` ({kinds}), ``tau`` in ms.

    ``rank`` applies to low-rank areas, ``density`` to sparse ones; ``dale`` splits units into
    ``e_fraction`` excitatory and the rest inhibitory. ``gain`` scales the initial weights.
    """

    name: str
    units: int = 128
    kind: str = "full"
    rank: int = 1
    density: float = 1.0
    dale: bool = False
    e_fraction: float = 0.8
    tau: float = 100.0
    gain: float = 1.0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise UnknownIdError("connectivity kind", self.kind, list(KINDS))
        if self.units < 2 or self.tau <= 0:
            raise ShapeError(f"area {self.name!r}: need units >= 2 and tau > 0 ms")


AreaSpec.__doc__ = AreaSpec.__doc__.format(kinds=", ".join(KINDS))


@dataclass
class Projection:
    """A projection ``source -> target`` with connection ``density`` (feedforward or feedback)."""

    source: str
    target: str
    density: float = 0.1
    gain: float = 1.0


@dataclass
class BackendOutput:
    """``logits`` (B, T, n_outputs) and, when recorded, ``rates`` {area: (B, T, units)}."""

    logits: torch.Tensor
    rates: dict[str, torch.Tensor] = field(default_factory=dict)


class MultiAreaBackend(SteppedModel):
    """Areas joined by projections, driven by a task input and read out from one area.

    ``inputs`` (B, T, n_inputs) enter ``input_areas`` (default: the first area) through dense
    weights (non-negative in Dale areas); the readout uses ``output_area`` (default: the last),
    excitatory units only under Dale's law. ``dt`` and every ``tau`` are in ms.
    """

    def __init__(self, areas: list[AreaSpec], n_inputs: int, n_outputs: int,
                 projections: list[Projection] = (), input_areas: list[str] | None = None,
                 output_area: str | None = None, dt: float = 20.0, activation: str = "relu",
                 noise_std: float = 0.05, standardise_inputs: bool = False, seed: int = 0):
        super().__init__()
        if not areas:
            raise ShapeError("a back-end needs at least one area")
        if activation not in ACTIVATIONS:
            raise UnknownIdError("activation", activation, list(ACTIVATIONS))
        names = [a.name for a in areas]
        if len(set(names)) != len(names):
            raise ShapeError(f"area names must be unique, got {names}")
        if any(a.dale for a in areas) and activation not in ("relu", "softplus", "sigmoid"):
            raise ShapeError(f"Dale's law needs non-negative rates; activation {activation!r} is not; "
                             "use relu, softplus or sigmoid")
        if dt <= 0 or n_inputs < 1 or n_outputs < 1:
            raise ShapeError("need dt > 0 ms, n_inputs >= 1 and n_outputs >= 1")
        gen = torch.Generator().manual_seed(seed)
        self.specs = {a.name: a for a in areas}
        self.areas = tuple(names)
        self.input_shape = None
        self.dt, self.n_inputs, self.n_outputs = float(dt), int(n_inputs), int(n_outputs)
        self.activation, self.noise_std = activation, float(noise_std)
        self.input_areas = list(input_areas or names[:1])
        self.output_area = output_area or names[-1]
        for name in [*self.input_areas, self.output_area]:
            self.check_area(name)
        for spec in areas:
            if spec.dale:
                self.register_buffer(f"signs_{spec.name}", dale_signs(spec.units, spec.e_fraction))
        self.recurrent = nn.ModuleDict({
            a.name: make_connectivity(a.kind, a.units, a.units, rank=a.rank, density=a.density,
                                      gain=a.gain, signs=self.signs(a.name), generator=gen)
            for a in areas})
        self.bias = nn.ParameterDict({a.name: nn.Parameter(torch.zeros(a.units)) for a in areas})
        self.projections = list(projections)
        self.inter = nn.ModuleList()
        for p in self.projections:
            self.check_area(p.source)
            self.check_area(p.target)
            if p.source == p.target:
                raise ShapeError(f"projection {p.source}->{p.target}: use the area's own recurrence")
            src = self.signs(p.source)
            self.inter.append(Sparse(
                self.specs[p.target].units, self.specs[p.source].units, p.density, p.gain,
                signs=None if src is None else torch.ones_like(src),
                presynaptic=None if src is None else src > 0, generator=gen))
        self.inputs = nn.ModuleDict({
            name: Sparse(self.specs[name].units, n_inputs, 1.0, 1.0,
                         signs=torch.ones(n_inputs) if self.specs[name].dale else None, generator=gen)
            for name in self.input_areas})
        self.standardise_inputs = bool(standardise_inputs)
        if self.standardise_inputs:  # identity until fit_input_standardisation (or a checkpoint) sets them
            self.register_buffer("input_mean", torch.zeros(n_inputs))
            self.register_buffer("input_scale", torch.ones(n_inputs))
        out = self.specs[self.output_area]
        self.register_buffer("readout_units", torch.arange(out.units) if not out.dale
                             else torch.nonzero(self.signs(out.name) > 0).flatten())
        self.readout = nn.Linear(len(self.readout_units), n_outputs)

    # -- structure ----------------------------------------------------------------------------
    def signs(self, area: str) -> torch.Tensor | None:
        """Dale signs (+1 E, -1 I) of ``area``'s units, or None when unconstrained."""
        return getattr(self, f"signs_{area}", None)

    def area_shape(self, area: str) -> tuple[int, ...]:
        self.check_area(area)
        return (self.specs[area].units,)

    def recurrent_weight(self, area: str) -> torch.Tensor:
        """Dense recurrent matrix W (units, units) of ``area``."""
        self.check_area(area)
        return self.recurrent[area].weight()

    # -- dynamics -----------------------------------------------------------------------------
    def initial_state(self, batch_size: int) -> State:
        return {a: self.bias[a].new_zeros(batch_size, s.units) for a, s in self.specs.items()}

    @torch.no_grad()
    def fit_input_standardisation(self, inputs: torch.Tensor, chunk: int = 256) -> None:
        """Set the per-input mean and scale (standard deviation over trials and steps; 1 where an
        input is constant) from a training pool ``inputs`` (B, T, n_inputs)."""
        if not self.standardise_inputs:
            raise ShapeError("this back-end was built without standardise_inputs=True")
        if inputs.ndim != 3 or inputs.shape[-1] != self.n_inputs:
            raise ShapeError(f"inputs must be (batch, time, {self.n_inputs}); got {tuple(inputs.shape)}")
        total = torch.zeros(self.n_inputs, dtype=torch.float64)
        square = torch.zeros_like(total)
        for part in inputs.split(chunk):
            x = part.reshape(-1, self.n_inputs).double()
            total += x.sum(0)
            square += (x * x).sum(0)
        n = inputs.shape[0] * inputs.shape[1]
        mean = total / n
        std = (square / n - mean * mean).clamp_min(0).sqrt()
        self.input_mean.copy_(mean.float())
        self.input_scale.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)).float())

    def encode(self, stimulus: torch.Tensor) -> dict[str, torch.Tensor]:
        """Input currents {area: (..., units)} of task inputs ``stimulus`` (..., n_inputs),
        standardised first when the back-end was built with ``standardise_inputs``."""
        if stimulus.shape[-1] != self.n_inputs:
            raise ShapeError(f"the back-end takes {self.n_inputs} inputs per step; got input of "
                             f"shape {tuple(stimulus.shape)} (last dim must be {self.n_inputs})")
        if self.standardise_inputs:
            stimulus = (stimulus - self.input_mean) / self.input_scale
        return {name: proj(stimulus) for name, proj in self.inputs.items()}

    def step(self, state: State, drive: dict[str, torch.Tensor] | None) -> State:
        f = ACTIVATIONS[self.activation]
        currents = {a: self.recurrent[a](state[a]) + self.bias[a] for a in self.areas}
        for p, proj in zip(self.projections, self.inter):
            currents[p.target] = currents[p.target] + proj(state[p.source])
        for a, current in (drive or {}).items():
            currents[a] = currents[a] + current
        new = {}
        for a, spec in self.specs.items():
            alpha = self.dt / spec.tau
            r = state[a] + alpha * (f(currents[a]) - state[a])
            if self.noise_std > 0:
                r = r + math.sqrt(2 * alpha) * self.noise_std * torch.randn_like(r)
            new[a] = r
        return new

    def output(self, state: State) -> torch.Tensor:
        """Logits (B, n_outputs) read out from the output area."""
        return self.readout(state[self.output_area][:, self.readout_units])

    def forward(self, inputs: torch.Tensor, state: State | None = None,
                record: bool = False) -> BackendOutput:
        """Run on ``inputs`` (B, T, n_inputs) from ``state`` (default zeros); logits every step."""
        if inputs.ndim != 3:
            raise ShapeError(f"inputs must be (batch, time, {self.n_inputs}); got {tuple(inputs.shape)}")
        drives = self.encode(inputs.to(self.readout.weight.dtype))
        state = self.initial_state(inputs.shape[0]) if state is None else state
        logits, rates = [], {a: [] for a in self.areas} if record else {}
        for t in range(inputs.shape[1]):
            state = self.step(state, {a: d[:, t] for a, d in drives.items()})
            logits.append(self.output(state))
            for a in rates:
                rates[a].append(state[a])
        return BackendOutput(torch.stack(logits, 1), {a: torch.stack(v, 1) for a, v in rates.items()})
