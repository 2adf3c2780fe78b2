"""Dynamical regimes of autonomous networks (CordsNet paper Fig. 1B, Appendix B.2).

:func:`characterise` runs a network without input from random states and reports

* the rightmost eigenvalues of the continuous-time Jacobian at the origin (1/ms): for
  ``tau dr/dt = -r + tanh(W r)`` they are ``(eig(W) - 1) / tau``, so the origin loses stability
  when the leading eigenvalue of ``W`` crosses 1 (a real one: new fixed points; a complex pair:
  oscillations). This gives ``linear_regime``: ``stable``, ``real-unstable`` or
  ``oscillatory-unstable``;
* the largest Lyapunov exponent (1/s), the participation ratio, the autocorrelation time (ms)
  and the dominant frequency (Hz) of the activity after a transient;
* ``regime`` (:func:`classify_regime`): ``stable`` if the activity settles (its speed falls
  below ``settle_tol`` of the activity scale per ms) or the Lyapunov exponent is clearly
  negative (slow convergence near the transition), ``chaotic`` if it is clearly positive
  (beyond ``max(chaos_tol, 3 stderr)``), else ``oscillatory`` (a limit cycle or torus).

:func:`regime_sweep` does so for Gaussian-initialised tanh networks (fully connected,
convolutional, or CordsNet itself with tanh areas) over a range of gains.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .fixed_points import point_eigenvalues
from .lyapunov import largest_lyapunov
from .maps import StepMap
from .measures import autocorrelation, dominant_frequency, participation_ratio
from .systems import GaussianTanhRNN


def simulate(fmap, x0: torch.Tensor, n_steps: int) -> torch.Tensor:
    """States after steps 1..n_steps: ``(n_steps, B, n)`` (no gradient)."""
    out, x = [], x0
    with torch.no_grad():
        for _ in range(n_steps):
            x = fmap(x)
            out.append(x)
    return torch.stack(out)


def linear_regime(lam: np.ndarray, tol: float = 1e-9) -> str:
    """``stable``, ``real-unstable`` or ``oscillatory-unstable`` from the rightmost eigenvalue."""
    lead = lam[0]
    if lead.real <= tol:
        return "stable"
    unstable = lam[lam.real > tol]
    return "oscillatory-unstable" if np.any(np.abs(unstable.imag) > tol) and abs(lead.imag) > tol else "real-unstable"


def classify_regime(speed: float, lyapunov_per_s: float, stderr_per_s: float,
                    settle_tol: float = 1e-5, chaos_tol_per_s: float = 1.0) -> str:
    """``stable`` if the activity settled (relative speed below ``settle_tol``) or still
    converges (exponent below ``-max(chaos_tol, 3 stderr)``), ``chaotic`` if the exponent is
    above ``+max(chaos_tol, 3 stderr)``, else ``oscillatory`` (exponent indistinguishable from 0).
    """
    margin = max(chaos_tol_per_s, 3 * stderr_per_s)
    if speed < settle_tol or lyapunov_per_s < -margin:
        return "stable"
    return "chaotic" if lyapunov_per_s > margin else "oscillatory"


def characterise(
    model,
    n_trajectories: int = 4,
    transient: int = 2000,
    n_steps: int = 2000,
    settle_tol: float = 1e-5,
    chaos_tol: float = 1e-3,
    n_eigs: int = 6,
    seed: int = 0,
    context=None,
) -> dict:
    """Regime statistics of ``model`` (a stepped model, no input) from random initial states.

    Initial states are standard normal; ``chaos_tol`` is in 1/ms (1e-3/ms = 1/s); ``context``:
    a batch-1 state fixing the state's layout (default: the model's initial state).
    """
    fmap = StepMap(model, context=context)
    gen = torch.Generator().manual_seed(seed)
    x0 = torch.randn(n_trajectories, fmap.n, generator=gen, dtype=torch.float64).to(fmap.dtype)
    settled = simulate(fmap, x0, transient)[-1]
    lam = point_eigenvalues(fmap, torch.zeros(fmap.n, dtype=fmap.dtype), n_eigs=n_eigs)[0]
    traj = simulate(fmap, settled, n_steps)
    activity = traj[:, 0].double().numpy()
    scale = max(float(np.sqrt((activity**2).mean())), 1e-12)
    with torch.no_grad():
        speed = float(fmap.velocity(traj[-1]).norm(dim=1).max()) / (scale * np.sqrt(fmap.n))
    lyap = largest_lyapunov(fmap, settled, n_steps=n_steps, renorm_every=10, seed=seed)
    _, timescale = autocorrelation(activity, fmap.dt)
    regime = classify_regime(speed, 1000.0 * lyap.exponent, 1000.0 * lyap.stderr, settle_tol, 1000.0 * chaos_tol)
    return {
        "leading_real": float(lam[0].real), "leading_imag": float(abs(lam[0].imag)),
        "linear_regime": linear_regime(lam),
        "lyapunov_per_s": 1000.0 * lyap.exponent, "lyapunov_stderr_per_s": 1000.0 * lyap.stderr,
        "final_speed": speed,
        "participation_ratio": participation_ratio(activity) if speed >= settle_tol else float("nan"),
        "autocorrelation_ms": timescale if speed >= settle_tol else float("nan"),
        "frequency_hz": dominant_frequency(activity, fmap.dt) if speed >= settle_tol else float("nan"),
        "regime": regime,
    }


def random_network(kind: str, gain: float, seed: int, **kwargs):
    """A Gaussian-initialised tanh network: :class:`GaussianTanhRNN` (``dense`` or ``conv``) or
    ``cordsnet``: a registered CordsNet (``model``, default ``cordsnet-r2``, at ``image_size``
    px, default 24) with tanh areas and recurrent kernels redrawn with this gain.
    """
    if kind in ("dense", "conv"):
        return GaussianTanhRNN(gain, kind=kind, seed=seed, **kwargs)
    if kind != "cordsnet":
        raise ValueError(f"kind={kind!r}; choose 'dense', 'conv' or 'cordsnet'")
    from ..registry import load_model

    options = {"image_size": 24, **kwargs}
    name = options.pop("model", "cordsnet-r2")
    torch.manual_seed(seed)
    return load_model(name, activation="tanh", rec_gain=gain, **options).double()


def regime_sweep(gains, kind: str = "dense", seeds=(0,), **kwargs) -> pd.DataFrame:
    """:func:`characterise` for :func:`random_network` s of each gain and seed.

    ``kwargs`` go to the network (``n``, ``channels``, ``size``, ``tau``, ``dt``, ``model``,
    ``image_size``) or to :func:`characterise` (``transient``, ``n_steps``, ``n_trajectories``).
    """
    net_keys = {"n", "channels", "size", "tau", "dt", "model", "image_size"}
    net_kw = {k: v for k, v in kwargs.items() if k in net_keys}
    run_kw = {k: v for k, v in kwargs.items() if k not in net_keys}
    rows = []
    for gain in gains:
        for seed in seeds:
            model = random_network(kind, gain, seed, **net_kw)
            context = model.zero_state(1) if hasattr(model, "zero_state") else None
            rows.append({"kind": kind, "gain": float(gain), "seed": seed,
                         **characterise(model, seed=seed, context=context, **run_kw)})
    return pd.DataFrame(rows)


#: network sizes of the sweep written by :func:`write_sweep`
SWEEP_SIZES = {"dense": {"n": 200}, "conv": {"channels": 32, "size": 6}, "cordsnet": {"image_size": 24}}


def write_sweep(out, gains=(0.5, 1.0, 1.25, 1.5, 2, 3, 4), seeds: int = 2,
                kinds=("dense", "conv", "cordsnet"), steps: int = 2000) -> pd.DataFrame:
    """Sweep ``gains`` for each network kind (sizes :data:`SWEEP_SIZES`, ``steps`` transient and
    recorded steps) and write ``regimes.csv``, ``regimes.nc`` and ``regimes.png`` to ``out``.

    Each kind's table is kept in ``regimes_<kind>.csv`` and reused when present (delete it to
    recompute), so kinds can be run one at a time and combined.
    """
    from pathlib import Path

    from ..io import atomic_path
    from .plotting import plot_regimes
    from .results import save_result

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    parts = []
    for kind in kinds:
        part = out / f"regimes_{kind}.csv"
        if part.is_file():
            parts.append(pd.read_csv(part))
            continue
        table = regime_sweep(gains, kind, seeds=tuple(range(seeds)), transient=steps, n_steps=steps,
                             n_trajectories=3, **SWEEP_SIZES[kind])
        with atomic_path(part) as tmp:
            table.to_csv(tmp, index=False)
        parts.append(table)
    table = pd.concat(parts, ignore_index=True)
    table["regime"] = [classify_regime(r.final_speed, r.lyapunov_per_s, r.lyapunov_stderr_per_s)
                       for r in table.itertuples()]
    with atomic_path(out / "regimes.csv") as tmp:
        table.to_csv(tmp, index=False)
    save_result(table, out / "regimes.nc")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = list(dict.fromkeys(table["kind"]))
    fig, axes = plt.subplots(2, len(shown), figsize=(4 * len(shown), 7), squeeze=False)
    for col, kind in enumerate(shown):
        rows = table[table["kind"] == kind]
        plot_regimes(rows, axes[0, col]).set_title(kind)
        plot_regimes(rows, axes[1, col], y="participation_ratio")
    fig.tight_layout()
    with atomic_path(out / "regimes.png") as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)
    return table
