"""Drive a model through a schedule, record areas and bin them in milliseconds."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from ..errors import DataError, DivergenceError, ScheduleError
from .base import SampledModel, State, SteppedModel
from .schedule import Schedule, bin_membership, parse_time_bins

Stimuli = torch.Tensor | Mapping[str, torch.Tensor]


def _as_stimulus_dict(stimuli: Stimuli, schedule: Schedule) -> dict[str, torch.Tensor]:
    if isinstance(stimuli, torch.Tensor):
        keys = schedule.stimuli
        if len(keys) > 1:
            raise ScheduleError(
                f"the schedule shows {len(keys)} stimuli {keys}; pass a dict with one tensor each"
            )
        return {keys[0] if keys else "image": stimuli}
    missing = [k for k in schedule.stimuli if k not in stimuli]
    if missing:
        raise ScheduleError(
            f"the schedule shows {missing} but only {list(stimuli)} were given; pass a dict "
            "with one image tensor per stimulus key of the schedule"
        )
    return dict(stimuli)


def check_finite(state: State, step: int, time_ms: float) -> None:
    """Raise :class:`DivergenceError` naming the step and area if a state is NaN/Inf."""
    for area, value in state.items():
        if not torch.isfinite(value.sum()) and not torch.isfinite(value).all():  # a NaN/Inf makes the sum one
            raise DivergenceError(
                f"dynamics diverged: area {area!r} holds NaN/Inf after step {step} "
                f"(t = {time_ms:g} ms); lower the initialisation variance, the input scale or dt"
            )


def integrate(
    model: SteppedModel,
    stimuli: Stimuli,
    schedule: Schedule,
    state: State | None = None,
    check_every: int = 1,
) -> Iterator[tuple[int, float, State]]:
    """Yield ``(step, time_ms, state)`` after every Euler step of ``schedule``.

    Times are relative to stimulus onset. Gradients flow when called with grad enabled, which
    training loops use; :func:`record` calls it without grad and keeps no history.
    """
    stim = _as_stimulus_dict(stimuli, schedule)
    batch = next(iter(stim.values())).shape[0] if stim else None
    times, keys = schedule.step_times(model.dt), schedule.step_stimuli(model.dt)
    first = 0
    if state is None:
        if batch is None:
            raise ScheduleError("a schedule with no stimulus needs an explicit initial state")
        lead = shared_blank(model, batch, keys, times, check_every)
        for first, (state, time_ms) in enumerate(lead, start=1):
            yield first, time_ms, state
        if not lead:
            state = model.initial_state(batch)
    drives: dict[str, Any] = {}
    for k, key in enumerate(keys[first:], start=first):
        if key is not None and key not in drives:
            drives[key] = model.encode(stim[key])
        state = model.step(state, None if key is None else drives[key])
        if check_every and (k + 1) % check_every == 0:
            check_finite(state, k + 1, float(times[k]))
        yield k + 1, float(times[k]), state


def _broadcast(state: State, batch: int) -> State:
    return type(state)((a, x[:1].expand(batch, *x.shape[1:])) for a, x in state.items())


def _rows_alike(state: State) -> bool:
    return all(torch.equal(x[0], x[1]) for x in state.values())


def shared_blank(model, batch: int, keys: list, times, check_every: int = 1) -> list[tuple[State, float]]:
    """``[(state, time_ms)]`` after each blank step that opens a schedule, shared by the batch.

    Before the first stimulus every presentation starts from the same initial state and gets
    the same (blank) input, so the opening blank is integrated for two rows and broadcast to
    ``batch`` (views; the last one a real copy, which later steps may write). Returns ``[]``
    (the caller integrates the whole batch) when there is no opening blank, gradients are on,
    the batch is small, or the two rows differ (per-row initial states or noisy dynamics).
    """
    lead = next((k for k, key in enumerate(keys) if key is not None), len(keys))
    if lead == 0 or batch < 3 or torch.is_grad_enabled():
        return []
    state = model.initial_state(2)
    if not _rows_alike(state):
        return []
    states = []
    for k in range(lead):
        state = model.step(state, None)
        if check_every and (k + 1) % check_every == 0:
            check_finite(state, k + 1, float(times[k]))
        states.append(state)
    if not _rows_alike(state):
        return []
    out = [(_broadcast(s, batch), float(times[k])) for k, s in enumerate(states)]
    out[-1] = (type(state)((a, x.contiguous()) for a, x in out[-1][0].items()), out[-1][1])
    return out


Reducer = Callable[[str, torch.Tensor], torch.Tensor]


def _flat(area: str, x: torch.Tensor) -> torch.Tensor:
    return x.reshape(x.shape[0], -1)


def record_batch(
    model,
    stimuli: Stimuli,
    schedule: Schedule,
    areas: list[str],
    bins: list[tuple[float, float]],
    reducer: Reducer | None = None,
) -> dict[str, torch.Tensor]:
    """Binned activity of one batch: dict area -> (batch, features, n_bins), no grad."""
    reduce = reducer or _flat
    schedule.check_bins(bins)
    with torch.no_grad():
        if isinstance(model, SampledModel):
            return _record_sampled(model, stimuli, schedule, areas, bins, reduce)
        times = schedule.step_times(model.dt)
        member = bin_membership(times, bins)
        counts = member.sum(0)
        empty = [bins[j] for j in np.flatnonzero(counts == 0)]
        if empty:
            raise ScheduleError(
                f"time bins {empty} contain no integration step at dt = {model.dt:g} ms; "
                "widen them or reduce dt"
            )
        sums: dict[str, torch.Tensor] = {}  # area -> (bin, batch, features), each bin contiguous
        members = [np.flatnonzero(row) for row in member]
        for step, _, state in integrate(model, stimuli, schedule):
            which = members[step - 1]
            if len(which) == 0:
                continue
            for area in areas:
                x = reduce(area, model.activity(state, area))
                if area not in sums:
                    sums[area] = x.new_zeros(len(bins), *x.shape)
                for j in which:
                    sums[area][j] += x
        scale = torch.as_tensor(1.0 / counts, dtype=torch.float32)
        return {a: s.permute(1, 2, 0) * scale.to(s) for a, s in sums.items()}


def _record_sampled(model, stimuli, schedule, areas, bins, reduce):
    stim = _as_stimulus_dict(stimuli, schedule)
    if len(stim) != 1:
        raise ScheduleError("adaptive-solver models take one stimulus per presentation")
    images = next(iter(stim.values()))
    h = model.sample_interval
    grids = [np.arange(start + h, end + 1e-9, h) for start, end in bins]
    if any(len(g) == 0 for g in grids):
        raise ScheduleError(f"time bins narrower than the sampling interval {h:g} ms")
    times = np.unique(np.concatenate(grids))
    traj = model.trajectory(images, torch.as_tensor(times, dtype=torch.float32), areas)
    out = {}
    for area in areas:
        x = traj[area]
        flat = torch.stack([reduce(area, x[i]) for i in range(x.shape[0])], -1)
        member = torch.as_tensor(bin_membership(times, bins), dtype=flat.dtype)
        out[area] = flat @ (member / member.sum(0, keepdim=True))
    return out


def record(
    model,
    stimuli: Stimuli,
    schedule: Schedule | str,
    areas: list[str] | str | None = None,
    time_bins="0:100:10",
    stimulus_ids=None,
    batch_size: int = 32,
    device: str | torch.device = "cpu",
    reducer: Reducer | None = None,
    neuroid_coords: Callable[[str, int], dict] | None = None,
    progress: bool = True,
):
    """Run ``model`` on every presentation and return binned activity as a DataArray.

    ``stimuli``: (N, C, H, W) float images in [0, 1] (or a dict of them for schedules showing
    several stimuli). Time bins are ms relative to stimulus onset. Returns an
    :class:`xarray.DataArray` ``presentation x neuroid x time_bin``
    (see :func:`neurovision.dynamics.activity.make_activity`).
    """
    from .activity import make_activity

    schedule = Schedule.parse(schedule) if isinstance(schedule, str) else schedule
    bins = parse_time_bins(time_bins)
    schedule.check_bins(bins)
    areas = [areas] if isinstance(areas, str) else list(areas or model.areas[-1:])
    for area in areas:
        model.check_area(area)
    stim = _as_stimulus_dict(stimuli, schedule)
    n = next(iter(stim.values())).shape[0]
    if n == 0:
        raise DataError("no stimuli given; pass at least one image")
    for key, value in stim.items():
        if value.shape[0] != n:
            raise DataError(
                f"stimulus {key!r} has {value.shape[0]} presentations, expected {n}; give every "
                "stimulus key the same number of images"
            )
        if not torch.isfinite(value).all():
            raise DataError(f"stimulus {key!r} contains NaN/Inf pixels; clean or drop those images")
    model = model.to(device).eval()
    chunks: dict[str, list[torch.Tensor]] = {a: [] for a in areas}
    starts = range(0, n, batch_size)
    for start in tqdm(starts, desc="recording", disable=not progress, unit="batch"):
        batch = {k: v[start : start + batch_size].to(device) for k, v in stim.items()}
        binned = record_batch(model, batch, schedule, areas, bins, reducer)
        for area in areas:
            chunks[area].append(binned[area].cpu())
    values = {a: torch.cat(c).numpy() for a, c in chunks.items()}
    ids = list(stimulus_ids) if stimulus_ids is not None else [f"stim{i:05d}" for i in range(n)]
    if len(ids) != n:
        raise DataError(f"{len(ids)} stimulus ids for {n} stimuli; pass one id per image (or none)")
    return make_activity(
        values,
        ids,
        bins,
        model=model,
        neuroid_coords=neuroid_coords,
        attrs={"schedule": str(schedule), "dt_ms": float(getattr(model, "dt", 0.0))},
    )
