"""Build a back-end from a short description (used by the CLI and the experiments).

``kind`` is ``full``, ``low-rank[:RANK]``, ``sparse[:DENSITY]`` or ``sparse-dale[:DENSITY]``
(sparse with Dale's law, 80% excitatory). ``n_areas > 1`` chains areas ``A1 -> A2 -> ...`` with
feedforward projections of density ``ff_density`` and feedback ones of ``fb_density``; the task
input enters A1 and the readout reads the last area.
"""
from __future__ import annotations

from ..errors import ShapeError, UnknownIdError
from .network import AreaSpec, MultiAreaBackend, Projection

BACKEND_KINDS = ("full", "low-rank", "sparse", "sparse-dale")
DEFAULT_RANK = 2
DEFAULT_DENSITY = 0.2


def parse_kind(kind: str) -> dict:
    """``"low-rank:2"`` -> AreaSpec fields ``{"kind": "low-rank", "rank": 2}`` (etc.)."""
    name, _, value = kind.partition(":")
    if name not in BACKEND_KINDS:
        raise UnknownIdError("back-end kind", name, list(BACKEND_KINDS))
    try:
        if name == "low-rank":
            return {"kind": name, "rank": int(value or DEFAULT_RANK)}
        if name.startswith("sparse"):
            return {"kind": "sparse", "density": float(value or DEFAULT_DENSITY), "dale": name == "sparse-dale"}
    except ValueError:
        raise ShapeError(f"cannot read the parameter of back-end kind {kind!r}; write e.g. "
                         "'low-rank:2' (rank) or 'sparse:0.2' (density)") from None
    if value:
        raise ShapeError(f"back-end kind 'full' takes no parameter, got {kind!r}")
    return {"kind": "full"}


def build_backend(kind: str, n_inputs: int, n_outputs: int, *, units: int = 128, n_areas: int = 1,
                  ff_density: float = 0.1, fb_density: float = 0.05, tau: float | list[float] = 100.0,
                  dt: float = 20.0, activation: str = "relu", noise_std: float = 0.05,
                  gain: float = 1.0, standardise_inputs: bool = False, seed: int = 0) -> MultiAreaBackend:
    """A back-end of ``n_areas`` areas of ``units`` units each, connectivity ``kind``; ``tau``
    (ms) is one time constant for every area or a list with one per area; ``standardise_inputs``
    (see :meth:`MultiAreaBackend.fit_input_standardisation`)."""
    if n_areas < 1:
        raise ShapeError(f"n_areas must be >= 1, got {n_areas}")
    fields = parse_kind(kind)
    taus = [float(t) for t in tau] if isinstance(tau, (list, tuple)) else [float(tau)] * n_areas
    if len(taus) != n_areas:
        raise ShapeError(f"{len(taus)} time constants for {n_areas} areas; give one or one per area")
    names = [f"A{i + 1}" for i in range(n_areas)] if n_areas > 1 else ["rnn"]
    areas = [AreaSpec(name, units=units, tau=t, gain=gain, **fields) for name, t in zip(names, taus)]
    projections = []
    for src, dst in zip(names, names[1:]):
        projections.append(Projection(src, dst, ff_density))
        if fb_density > 0:
            projections.append(Projection(dst, src, fb_density))
    return MultiAreaBackend(areas, n_inputs, n_outputs, projections, dt=dt, activation=activation,
                            noise_std=noise_std, standardise_inputs=standardise_inputs, seed=seed)
