"""State-space trajectories of large models and what their time course shows.

* :func:`model_trajectories`: run a model on stimuli under a schedule and project one area's
  activity on its top principal components, found by :class:`~.pca.StreamingPCA` over
  replays of the run (the units x time matrix is never formed), giving a DataArray
  ``presentation x time x component`` (CordsNet paper Fig. 4C).
* :func:`activity_trajectories`: the same for recorded activity (model or brain).
* :func:`condition_average`: mean trajectory per condition.
* :func:`switch_schedule`: present -> switch -> remove experiments (Fig. 3B).
* :func:`linear_modes` and :func:`response_overshoot`: oscillations in a response (Fig. 4B):
  an affine least-squares fit ``x(t + dt) = A x(t) + c`` whose eigenvalues give decay rates and
  frequencies, and the overshoot of the response beyond its final value.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
import xarray as xr

from ..dynamics.activity import check_activity
from ..dynamics.base import SampledModel
from ..dynamics.runner import _as_stimulus_dict, integrate
from ..dynamics.schedule import Epoch, Schedule
from ..errors import DataError, ShapeError
from .measures import as_matrix
from .pca import Source, StreamingPCA


@dataclass
class Trajectories:
    """``projections`` ``presentation x time x component`` and the fitted ``pca``."""

    projections: xr.DataArray
    pca: StreamingPCA = field(repr=False)

    def condition_average(self, by: str) -> xr.DataArray:
        """Mean trajectory per value of the presentation coordinate ``by``."""
        return condition_average(self.projections, by)

    def to_dataset(self) -> xr.Dataset:
        """Projections and explained variance ratios (for NetCDF)."""
        return xr.Dataset({
            "projections": self.projections,
            "explained_variance_ratio": ("component", self.pca.explained_variance_ratio_),
        })


def condition_average(projections: xr.DataArray, by: str) -> xr.DataArray:
    """Average ``projections`` over presentations sharing the coordinate ``by``."""
    if by not in projections.coords:
        raise DataError(f"no presentation coordinate {by!r}; have {list(projections.coords)}")
    return projections.groupby(by).mean("presentation")


def switch_schedule(blank_ms: float, first_ms: float, second_ms: float, after_ms: float) -> Schedule:
    """``blank -> first image -> second image -> blank`` (stimulus keys ``first``, ``second``);
    ``second_ms = 0`` gives present-and-remove, ``after_ms = 0`` ends on the second image.
    """
    epochs = [Epoch("blank", blank_ms)] if blank_ms > 0 else []
    epochs.append(Epoch("first", first_ms, "first"))
    if second_ms > 0:
        epochs.append(Epoch("second", second_ms, "second"))
    if after_ms > 0:
        epochs.append(Epoch("return", after_ms))
    return Schedule(epochs)


def _batches(stim: dict, batch_size: int):
    n = next(iter(stim.values())).shape[0]
    for start in range(0, n, batch_size):
        yield {k: v[start : start + batch_size] for k, v in stim.items()}


def _sample_times(model, schedule: Schedule) -> np.ndarray:
    if isinstance(model, SampledModel):
        h = model.sample_interval
        return np.arange(h, schedule.duration - schedule.time_zero + 1e-9, h)
    return schedule.step_times(model.dt)


def _run(model, stim, schedule, area, batch_size, every):
    """Yield, per batch, a list over kept times of activity ``(batch, units)``."""
    with torch.no_grad():
        for batch in _batches(stim, batch_size):
            if isinstance(model, SampledModel):
                if len(batch) != 1:
                    raise ShapeError("adaptive-solver models take one stimulus per presentation")
                times = torch.as_tensor(_sample_times(model, schedule)[::every], dtype=torch.float32)
                traj = model.trajectory(next(iter(batch.values())), times, [area])[area]
                yield [traj[i].reshape(traj.shape[1], -1) for i in range(traj.shape[0])]
                continue
            frames = []
            for step, _, state in integrate(model, batch, schedule):
                if (step - 1) % every == 0:
                    frames.append(model.activity(state, area).reshape(-1, int(np.prod(model.area_shape(area)))))
            yield frames


def model_source(model, stimuli, schedule, area: str, batch_size: int = 16, every: int = 1) -> Source:
    """A replayable stream of ``area``'s activity rows (one per presentation and kept step)."""
    schedule = Schedule.parse(schedule) if isinstance(schedule, str) else schedule
    model.check_area(area)
    stim = _as_stimulus_dict(stimuli, schedule)

    def source():
        for frames in _run(model, stim, schedule, area, batch_size, every):
            yield from frames

    return source


def model_trajectories(
    model, stimuli, schedule, area: str, n_components: int = 3, stimulus_ids=None,
    conditions: dict | None = None, every: int = 1, batch_size: int = 16, n_iter: int = 4,
    seed: int = 0,
) -> Trajectories:
    """Top-``n_components`` PCA trajectories of ``area`` for each presentation.

    ``stimuli``: images ``(N, C, H, W)`` or a dict per stimulus key of ``schedule``;
    ``every``: keep one step in ``every``; ``conditions``: extra per-presentation labels
    (name -> N values) attached as coordinates. The model runs ``n_iter + 1`` times.
    """
    schedule = Schedule.parse(schedule) if isinstance(schedule, str) else schedule
    source = model_source(model, stimuli, schedule, area, batch_size, every)
    pca = StreamingPCA(n_components, n_iter=n_iter, seed=seed).fit(source)
    stim = _as_stimulus_dict(stimuli, schedule)
    blocks = []
    for frames in _run(model, stim, schedule, area, batch_size, every):
        blocks.append(torch.stack([pca.transform(f) for f in frames], dim=1))
    values = torch.cat(blocks).numpy()
    times = _sample_times(model, schedule)[::every]
    epochs = _epoch_names(schedule, times)
    return Trajectories(_projection_array(values, times, stimulus_ids, conditions, epochs,
                                          {"area": area, "schedule": str(schedule)}), pca)


def _epoch_names(schedule: Schedule, times: np.ndarray) -> np.ndarray:
    ends = np.cumsum([e.duration for e in schedule.epochs]) - schedule.time_zero
    idx = np.minimum(np.searchsorted(ends, times - 1e-9), len(schedule.epochs) - 1)
    return np.array([schedule.epochs[i].name for i in idx])


def _projection_array(values, times, stimulus_ids, conditions, epochs, attrs) -> xr.DataArray:
    n = values.shape[0]
    ids = np.asarray(stimulus_ids if stimulus_ids is not None else [f"stim{i:05d}" for i in range(n)], dtype=str)
    if len(ids) != n:
        raise DataError(f"{len(ids)} stimulus ids for {n} presentations")
    coords = {"stimulus_id": ("presentation", ids), "time_ms": ("time", np.asarray(times, float)),
              "component": np.arange(1, values.shape[2] + 1)}
    if epochs is not None:
        coords["epoch"] = ("time", epochs)
    for name, labels in (conditions or {}).items():
        labels = np.asarray(labels)
        if len(labels) != n:
            raise DataError(f"condition {name!r} has {len(labels)} values for {n} presentations")
        coords[name] = ("presentation", labels)
    return xr.DataArray(values, dims=("presentation", "time", "component"), coords=coords,
                        name="projection", attrs=attrs)


def activity_trajectories(activity: xr.DataArray, n_components: int = 3, region: str | None = None,
                          n_iter: int = 4, seed: int = 0) -> Trajectories:
    """PCA trajectories of recorded ``activity`` (``presentation x neuroid x time_bin``),
    optionally restricted to one ``region``; time is the bin centre (ms).
    """
    check_activity(activity)
    if region is not None:
        activity = activity.isel(neuroid=np.flatnonzero(activity["region"].values == region))
        if activity.sizes["neuroid"] == 0:
            raise DataError(f"no neuroids of region {region!r}")
    data = torch.as_tensor(activity.transpose("presentation", "time_bin", "neuroid").values)

    def source():
        for p in range(data.shape[0]):
            yield data[p]

    pca = StreamingPCA(n_components, n_iter=n_iter, seed=seed).fit(source)
    values = torch.stack([pca.transform(data[p]) for p in range(data.shape[0])]).numpy()
    centres = 0.5 * (activity["time_bin_start"].values + activity["time_bin_end"].values)
    extra = {c: activity[c].values for c in activity.coords
             if activity[c].dims == ("presentation",) and c != "stimulus_id"}
    return Trajectories(_projection_array(values, centres, activity["stimulus_id"].values, extra,
                                          None, {"region": region or "all"}), pca)


def linear_modes(x, dt: float) -> pd.DataFrame:
    """Modes of the affine fit ``x(t + dt) = A x(t) + c`` of a trajectory ``x`` ``(time, d)``.

    The fit is made in the subspace the trajectory spans (singular values above 1e-5 of the
    largest), so a trajectory along a line gives one mode. One row per eigenvalue ``mu`` of
    ``A``: continuous-time ``rate`` ``= log(mu) / dt`` (``real``: growth rate in 1/ms,
    negative = decay; ``imag``: angular frequency in rad/ms),
    ``frequency_hz``, ``decay_ms`` (``-1 / real``) and ``cycles_per_decay``
    (``|imag| / (2 pi |real|)``: inf for a sustained oscillation, ~0 for a monotone one);
    sorted from the slowest-decaying mode.
    """
    arr = as_matrix(x, "trajectory")
    centred = arr - arr.mean(0)
    _, sv, vt = np.linalg.svd(centred, full_matrices=False)
    rank = int(np.sum(sv > 1e-5 * max(sv[0], 1e-300)))  # float32 states: noise ~1e-7
    if rank == 0 or arr.shape[0] < rank + 3:
        raise ShapeError(f"a trajectory of {arr.shape[0]} samples and rank {rank} cannot be fitted; "
                         "give more time points (or a trajectory that moves)")
    arr = centred @ vt[:rank].T  # the subspace the trajectory spans: every mode is identifiable
    past = np.hstack([arr[:-1], np.ones((len(arr) - 1, 1))])
    coef, *_ = np.linalg.lstsq(past, arr[1:], rcond=None)
    mu = np.linalg.eigvals(coef[:-1].T).astype(complex)
    rate = np.log(mu) / dt
    with np.errstate(divide="ignore"):
        cycles = np.abs(rate.imag) / (2 * np.pi * np.abs(rate.real))
        decay = np.where(rate.real < 0, -1.0 / rate.real, np.inf)
    table = pd.DataFrame({
        "real": rate.real, "imag": rate.imag, "frequency_hz": np.abs(rate.imag) / (2 * np.pi) * 1000.0,
        "decay_ms": decay, "cycles_per_decay": cycles, "modulus": np.abs(mu),
    })
    return table.sort_values("real", ascending=False, ignore_index=True)


def response_overshoot(x) -> float:
    """How far a response ``x`` ``(time, d)`` goes beyond where it ends, along its net change:
    ``max_t <x(t) - x(0), u> / |x(T) - x(0)| - 1`` with ``u`` the unit net change (0: none).
    """
    arr = as_matrix(x, "response")
    change = arr[-1] - arr[0]
    size = float(np.linalg.norm(change))
    if size == 0.0:
        raise DataError("the response does not change; its overshoot is undefined")
    along = (arr - arr[0]) @ change / size**2
    return float(max(along.max() - 1.0, 0.0))


def write_experiment(model, images, names, out, area: str | None = None, blank_ms: float = 100.0,
                     image_ms: float = 200.0, after_ms: float = 200.0, n_components: int = 3) -> pd.DataFrame:
    """Present-and-remove and switch experiments (Fig. 3B, 4C) on ``images`` ``(N, C, H, W)``
    named ``names``: PCA trajectories of ``area`` (default: the last), the overshoot of each
    response and its slowest modes; writes ``trajectories_present.nc``, ``trajectories_switch.nc``,
    ``responses.csv`` and ``trajectories.png`` to ``out`` and returns the responses table.
    """
    from pathlib import Path

    from ..io import atomic_path
    from .results import save_result

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    area = area or model.areas[-1]
    present = model_trajectories(model, images, switch_schedule(blank_ms, image_ms, 0, after_ms), area,
                                 n_components, stimulus_ids=names)
    order = torch.roll(torch.arange(len(images)), 1)
    switch = model_trajectories(model, {"first": images, "second": images[order]},
                                switch_schedule(blank_ms, image_ms, image_ms, 0), area, n_components,
                                stimulus_ids=[f"{a}->{names[int(b)]}" for a, b in zip(names, order)])
    save_result(present.to_dataset(), out / "trajectories_present.nc")
    save_result(switch.to_dataset(), out / "trajectories_switch.nc")
    rows = []
    for i, name in enumerate(names):
        shown = present.projections.isel(presentation=i).where(present.projections["epoch"] == "first", drop=True)
        response = shown.values[:, :2]
        modes = linear_modes(response, float(np.diff(shown["time_ms"].values[:2])[0]))
        rows.append({"image": name, "overshoot": response_overshoot(response),
                     "slowest_decay_ms": float(modes["decay_ms"].iloc[0]),
                     "frequency_hz": float(modes["frequency_hz"].iloc[0]),
                     "cycles_per_decay": float(modes["cycles_per_decay"].iloc[0])})
    table = pd.DataFrame(rows)
    with atomic_path(out / "responses.csv") as tmp:
        table.to_csv(tmp, index=False)
    _experiment_figure(present, switch, area, out / "trajectories.png")
    return table


def _experiment_figure(present: Trajectories, switch: Trajectories, area: str, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import atomic_path
    from .plotting import plot_trajectories

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    plot_trajectories(present.projections, axes[0], color_by="stimulus_id").set_title(f"{area}: present, remove")
    plot_trajectories(switch.projections, axes[1], color_by="stimulus_id").set_title(f"{area}: switch")
    proj = present.projections
    for i in range(proj.sizes["presentation"]):
        axes[2].plot(proj["time_ms"], proj.isel(presentation=i, component=0), label=str(proj["stimulus_id"].values[i]))
    axes[2].axvline(0.0, color="k", lw=0.8, ls="--")
    axes[2].set_xlabel("ms after onset")
    axes[2].set_ylabel("PC 1")
    axes[2].legend(frameon=False, fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)
