"""Interactive trajectory explorer for any :class:`~neurovision.dynamics.SteppedModel`.

Choose a model, an area, an image and a condition (a schedule), then scrub through time: the
area's activity map, the state-space trajectory (principal components over all images and times)
and the eigenvalue spectrum of the area's linearised dynamics at that moment update together::

    from neurovision.explorer import explore
    explore(["leaky-linear", "cordsnet-r2"], images)     # ipywidgets in Jupyter

Without ipywidgets (or with ``widgets=False``) :func:`explore` draws the same panels as a static
matplotlib figure with a film strip of activity maps. The pieces are public:
:func:`compute_trajectories` runs the model, :func:`draw` makes the figure,
:func:`area_jacobian` linearises any model's step map.

Conditions are schedules (ms) over the stimulus keys ``image`` (the chosen image), ``other`` (the
next image in the set) and ``noisy`` (the chosen image plus Gaussian pixel noise); see
:data:`CONDITIONS`. Eigenvalues are those of the continuous-time Jacobian
``A = (dF/dr - I) / dt`` of the step map ``F`` restricted to the area (other areas and the drive
held fixed), in 1/ms; ``Re < 0`` is stable.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from .analysis.linearise import area_jacobian, leading_eigenvalues
from .analysis.pca import StreamingPCA, array_source
from .data.images import prepare_images
from .dynamics import Schedule, SteppedModel, integrate
from .errors import NeurovisionError, ScheduleError, ShapeError

#: condition name -> schedule (epochs in ms; ``image``/``other``/``noisy`` are stimulus keys)
CONDITIONS = {
    "present": "spontaneous:40,image:160",
    "present-remove": "spontaneous:40,image:80,return:80",
    "switch": "spontaneous:40,image:80,switch=other:80",
    "noisy": "spontaneous:40,noisy:160",
}
STIMULUS_KEYS = ("image", "other", "noisy")
#: areas up to this many units get all eigenvalues from the dense Jacobian


# -- stimuli and schedules ------------------------------------------------------------------------
def condition_stimuli(images: torch.Tensor, noise_std: float = 0.25, seed: int = 0) -> dict[str, torch.Tensor]:
    """The stimulus keys of every condition for images (B, C, H, W) in [0, 1].

    ``other`` is the next image (cyclically); ``noisy`` adds N(0, noise_std^2) pixel noise
    (seeded) and clips to [0, 1].
    """
    if noise_std < 0:
        raise ValueError(f"noise_std must be >= 0, got {noise_std}")
    gen = torch.Generator().manual_seed(seed)
    noise = torch.randn(images.shape, generator=gen, dtype=images.dtype) * noise_std
    return {"image": images, "other": images.roll(-1, 0), "noisy": (images + noise).clamp(0, 1)}


def condition_schedule(condition: str, conditions: Mapping[str, str] | None = None) -> Schedule:
    """The schedule of a named condition, or ``condition`` itself parsed as a schedule."""
    table = dict(CONDITIONS if conditions is None else conditions)
    text = table.get(condition, condition)
    if condition not in table and ":" not in condition:
        raise ScheduleError(
            f"unknown condition {condition!r}; choose one of {sorted(table)} or give a schedule "
            "such as 'blank:50,image:100,blank:50'"
        )
    schedule = Schedule.parse(text)
    bad = [k for k in schedule.stimuli if k not in STIMULUS_KEYS]
    if bad:
        raise ScheduleError(
            f"condition {condition!r} shows stimuli {bad}; the explorer knows {list(STIMULUS_KEYS)}"
        )
    if not schedule.stimuli:
        raise ScheduleError(f"condition {condition!r} shows no stimulus; add an 'image' epoch")
    return schedule


def default_images(n: int = 8) -> torch.Tensor:
    """``n`` images (n, C, H, W): one Fashion-MNIST test image per class when the data folder
    is there, else sinusoidal gratings of ``n`` orientations (28 x 28, 4 cycles)."""
    from .data.datasets import load_dataset

    try:
        data = load_dataset("fashion-mnist", "test")
        return data.per_class(-(-n // len(data.classes))).images[:n]
    except FileNotFoundError:
        yy, xx = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
        angles = torch.arange(n) * np.pi / n
        phase = (xx[None] * torch.cos(angles)[:, None, None] + yy[None] * torch.sin(angles)[:, None, None])
        return (0.5 + 0.5 * torch.sin(2 * np.pi * 4 * phase / 28))[:, None]


# -- trajectories ---------------------------------------------------------------------------------
@dataclass
class Trajectories:
    """An area's activity over a condition for a set of images, with its principal components.

    ``times`` (T,) ms after stimulus onset of the recorded steps ``steps`` (T,) (1-based step
    numbers); ``activity`` (T, B, n_units); ``scores`` (T, B, k) PCA scores fitted on all images
    and times (:class:`~neurovision.analysis.StreamingPCA`); ``explained`` (k,) their
    explained-variance ratios.
    """

    model: SteppedModel
    area: str
    condition: str
    schedule: Schedule
    stimuli: dict[str, torch.Tensor]
    times: np.ndarray
    steps: np.ndarray
    activity: torch.Tensor
    scores: np.ndarray
    explained: np.ndarray
    _spectra: dict = field(default_factory=dict, repr=False)

    @property
    def n_images(self) -> int:
        return self.activity.shape[1]

    def index_of(self, time_ms: float) -> int:
        """Index of the recorded step closest to ``time_ms`` (ms after onset)."""
        return int(np.argmin(np.abs(self.times - time_ms)))

    def activity_map(self, image: int, t_index: int) -> np.ndarray:
        """2-D map of the area at one time: channel mean of (C, H, W) areas, (H, W) as is, and
        vector areas laid out row by row on the smallest square grid (NaN-padded)."""
        x = self.activity[t_index, image].numpy()
        shape = self.model.area_shape(self.area)
        if len(shape) == 3:
            return x.reshape(shape).mean(0)
        if len(shape) == 2:
            return x.reshape(shape)
        side = int(np.ceil(np.sqrt(x.size)))
        grid = np.full(side * side, np.nan)
        grid[: x.size] = x
        return grid.reshape(side, side)

    def state_at(self, image: int, t_index: int):
        """``(state, stimulus)`` of ``image`` after step ``steps[t_index]``: the state (batch 1)
        re-integrated, and the image on screen during that step ((1, C, H, W) or None)."""
        stim = {k: v[image : image + 1] for k, v in self.stimuli.items() if k in self.schedule.stimuli}
        target = int(self.steps[t_index])
        with torch.no_grad():
            for step, _, state in integrate(self.model, stim, self.schedule):
                if step == target:
                    break
        key = self.schedule.step_stimuli(self.model.dt)[target - 1]
        return state, None if key is None else stim[key]

    def spectrum(self, image: int, t_index: int, k: int = 20) -> np.ndarray:
        """Eigenvalues (1/ms) of the area's linearised dynamics for ``image`` at ``times[t_index]``
        (cached); see :func:`area_jacobian` and :func:`leading_eigenvalues`."""
        key = (image, int(t_index) % len(self.steps), k)
        if key not in self._spectra:
            state, stimulus = self.state_at(image, key[1])
            self._spectra[key] = leading_eigenvalues(area_jacobian(self.model, state, stimulus, self.area), k)
        return self._spectra[key]


def compute_trajectories(
    model: SteppedModel,
    images: torch.Tensor,
    area: str | None = None,
    condition: str = "present-remove",
    conditions: Mapping[str, str] | None = None,
    stride: int = 1,
    n_components: int = 3,
    noise_std: float = 0.25,
    seed: int = 0,
    max_values: float = 5e7,
) -> Trajectories:
    """Run ``model`` on ``images`` under ``condition`` and keep ``area``'s activity every
    ``stride`` steps (default area: the last). Refuses more than ``max_values`` stored floats."""
    if not isinstance(model, SteppedModel):
        raise NeurovisionError(
            f"the explorer steps models in time and needs a SteppedModel, got {type(model).__name__}; "
            "sample adaptive-solver models with neurovision.dynamics.record"
        )
    area = area or model.areas[-1]
    model.check_area(area)
    if stride < 1:
        raise ValueError(f"stride must be >= 1 step, got {stride}")
    schedule = condition_schedule(condition, conditions)
    x = prepare_images(images, model.input_shape)
    stimuli = condition_stimuli(x, noise_std, seed)
    n_steps = sum(schedule.n_steps(model.dt))
    n_units = int(np.prod(model.area_shape(area)))
    stored = (n_steps // stride) * x.shape[0] * n_units
    if stored > max_values:
        raise ShapeError(
            f"{n_steps // stride} steps x {x.shape[0]} images x {n_units} units of {area!r} "
            f"= {stored:.3g} values exceed max_values={max_values:.3g}; use fewer images, a "
            "larger stride, a smaller area or raise max_values"
        )
    times_all = schedule.step_times(model.dt)
    kept, steps = [], []
    model.eval()
    with torch.no_grad():
        used = {k: v for k, v in stimuli.items() if k in schedule.stimuli}
        for step, _, state in integrate(model, used, schedule):
            if step % stride == 0:
                kept.append(model.activity(state, area).reshape(x.shape[0], -1).float().cpu())
                steps.append(step)
    activity = torch.stack(kept)
    rows = activity.reshape(-1, n_units)
    pca = StreamingPCA(min(n_components, n_units), seed=seed).fit(array_source(rows))
    scores, explained = pca.transform(rows).float().numpy(), pca.explained_variance_ratio_
    return Trajectories(
        model=model, area=area, condition=condition, schedule=schedule, stimuli=stimuli,
        times=times_all[np.asarray(steps) - 1], steps=np.asarray(steps), activity=activity,
        scores=scores.reshape(len(steps), x.shape[0], -1), explained=explained,
    )


# -- drawing --------------------------------------------------------------------------------------
def _epoch_spans(schedule: Schedule) -> list[tuple[float, float, str | None]]:
    spans, start = [], -schedule.time_zero
    for epoch in schedule.epochs:
        spans.append((start, start + epoch.duration, epoch.stimulus))
        start += epoch.duration
    return spans


_EPOCH_COLOURS = {"image": "tab:orange", "other": "tab:green", "noisy": "tab:purple"}


def _shade_epochs(ax, schedule: Schedule) -> None:
    for start, end, key in _epoch_spans(schedule):
        if key is not None:
            ax.axvspan(start, end, color=_EPOCH_COLOURS.get(key, "tab:gray"), alpha=0.12, lw=0)


def _show_image(ax, trajectories: Trajectories, image: int, t_index: int) -> None:
    key = trajectories.schedule.step_stimuli(trajectories.model.dt)[int(trajectories.steps[t_index]) - 1]
    if key is None:
        shown = torch.zeros_like(trajectories.stimuli["image"][image])
    else:
        shown = trajectories.stimuli[key][image]
    pixels = shown.permute(1, 2, 0).numpy()
    ax.imshow(pixels[..., 0] if pixels.shape[-1] == 1 else pixels, cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"on screen: {key or 'blank'}")
    ax.axis("off")


def _draw_map(ax, trajectories: Trajectories, image: int, t_index: int, limits) -> None:
    ax.imshow(trajectories.activity_map(image, t_index), cmap="viridis", vmin=limits[0], vmax=limits[1])
    ax.set_title(f"{trajectories.area} at {trajectories.times[t_index]:g} ms")
    ax.axis("off")


def _map_limits(trajectories: Trajectories, image: int) -> tuple[float, float]:
    maps = np.stack([trajectories.activity_map(image, t) for t in range(len(trajectories.times))])
    lo, hi = float(np.nanmin(maps)), float(np.nanmax(maps))
    return (lo, hi if hi > lo else lo + 1e-6)


def _draw_spectrum(ax, values: np.ndarray, model: SteppedModel) -> None:
    ax.axvline(0, color="k", lw=0.8)
    ax.axhline(0, color="0.8", lw=0.5)
    ax.scatter(values.real, values.imag, s=12, color="tab:red")
    tau = getattr(model, "tau", None)
    if tau:
        ax.axvline(-1 / tau, color="0.6", ls=":", lw=0.8, label=f"-1/tau = {-1 / tau:.3g}")
        ax.legend(loc="upper left", fontsize=7, frameon=False)
    ax.set_xlabel("Re lambda (1/ms)")
    ax.set_ylabel("Im lambda (1/ms)")
    ax.set_title(f"spectrum: {len(values)} eigenvalues, max Re {values.real.max():.3g}")


def _draw_state_space(ax, trajectories: Trajectories, image: int, t_index: int) -> None:
    s = trajectories.scores
    for b in range(trajectories.n_images):
        if b != image:
            ax.plot(s[:, b, 0], s[:, b, 1], color="0.75", lw=0.8)
    ax.plot(s[:, image, 0], s[:, image, 1], color="tab:blue", lw=1.6)
    onset = trajectories.index_of(0.0)
    ax.plot(*s[onset, image, :2], "o", color="tab:orange", ms=5, label="onset")
    ax.plot(*s[t_index, image, :2], "o", color="k", ms=7, label=f"{trajectories.times[t_index]:g} ms")
    ev = trajectories.explained
    ax.set_xlabel(f"PC1 ({100 * ev[0]:.0f}%)")
    ax.set_ylabel(f"PC2 ({100 * ev[1]:.0f}%)" if len(ev) > 1 else "PC2")
    ax.set_title("state space (all images, all times)")
    ax.legend(loc="best", fontsize=7, frameon=False)


def _draw_trace(ax, trajectories: Trajectories, image: int, t_index: int) -> None:
    _shade_epochs(ax, trajectories.schedule)
    mean = trajectories.activity.mean(-1).numpy()
    for b in range(trajectories.n_images):
        if b != image:
            ax.plot(trajectories.times, mean[:, b], color="0.75", lw=0.8)
    ax.plot(trajectories.times, mean[:, image], color="tab:blue", lw=1.6)
    ax.axvline(trajectories.times[t_index], color="k", lw=1)
    ax.set_xlabel("time after onset (ms)")
    ax.set_ylabel(f"mean activity of {trajectories.area}")
    ax.set_title(f"condition: {trajectories.condition}")


def draw(
    trajectories: Trajectories,
    image: int = 0,
    t_index: int = -1,
    frames: int = 0,
    spectrum_k: int = 20,
    fig=None,
):
    """The explorer's panels for ``image`` at ``times[t_index]``; ``frames > 0`` adds a row of
    activity maps at evenly spaced times (the static film strip); ``spectrum_k`` eigenvalues
    are shown for large areas (all for small ones; 0 turns the spectrum off). Returns the Figure."""
    import matplotlib.pyplot as plt

    n_t = len(trajectories.times)
    if not -n_t <= t_index < n_t:
        raise IndexError(f"t_index {t_index} outside the {n_t} recorded times")
    if not 0 <= image < trajectories.n_images:
        raise IndexError(f"image {image} outside 0..{trajectories.n_images - 1}")
    t_index %= n_t
    fig = fig or plt.figure(figsize=(12, 7.2 if frames else 6.4))
    fig.clear()
    rows = 3 if frames else 2
    grid = fig.add_gridspec(rows, max(frames, 6), height_ratios=[1, 1, 0.7][:rows])
    wide = max(frames, 6) // 3
    limits = _map_limits(trajectories, image)
    _show_image(fig.add_subplot(grid[0, :wide]), trajectories, image, t_index)
    _draw_map(fig.add_subplot(grid[0, wide : 2 * wide]), trajectories, image, t_index, limits)
    spectrum_ax = fig.add_subplot(grid[0, 2 * wide :])
    if spectrum_k > 0:
        _draw_spectrum(spectrum_ax, trajectories.spectrum(image, t_index, spectrum_k), trajectories.model)
    else:
        spectrum_ax.text(0.5, 0.5, "spectrum off", ha="center", va="center")
        spectrum_ax.axis("off")
    _draw_state_space(fig.add_subplot(grid[1, : max(frames, 6) // 2]), trajectories, image, t_index)
    _draw_trace(fig.add_subplot(grid[1, max(frames, 6) // 2 :]), trajectories, image, t_index)
    for i, t in enumerate(np.linspace(0, n_t - 1, frames).round().astype(int) if frames else []):
        _draw_map(fig.add_subplot(grid[2, i]), trajectories, image, int(t), limits)
    fig.tight_layout()
    return fig


# -- widgets ---------------------------------------------------------------------------------------
ModelSource = str | SteppedModel | Callable[[], SteppedModel]


def _model_table(models) -> dict[str, ModelSource]:
    if models is None:
        from .registry import model_registry

        return {name: name for name in model_registry.ids()}
    if isinstance(models, (str, SteppedModel)):
        models = [models]
    if isinstance(models, Mapping):
        return dict(models)
    return {(m if isinstance(m, str) else type(m).__name__): m for m in models}


def resolve_model(name: str, source: ModelSource) -> SteppedModel:
    """Build ``source`` (a registered id, a model, or a zero-argument factory) and check that
    it is a :class:`SteppedModel`."""
    from .registry import load_model

    model = load_model(source) if isinstance(source, str) else source
    model = model() if callable(model) and not isinstance(model, torch.nn.Module) else model
    if not isinstance(model, SteppedModel):
        raise NeurovisionError(
            f"{name} is a {type(model).__name__}, not a SteppedModel; the explorer steps models "
            "in time (sample adaptive-solver models with neurovision.dynamics.record)"
        )
    return model


def widgets_available() -> bool:
    """True inside a Jupyter kernel with ipywidgets installed."""
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


class Explorer:
    """The ipywidgets explorer: model, area, condition and image selectors, a time slider with
    a play button, and the :func:`draw` panels, which update together.

    ``models``: registered ids, model objects, or a dict name -> id / model / factory
    (default: every registered model; each is built on first selection and kept).
    """

    def __init__(
        self,
        models=None,
        images: torch.Tensor | None = None,
        conditions: Mapping[str, str] | None = None,
        condition: str | None = None,
        area: str | None = None,
        stride: int = 1,
        spectrum_k: int = 10,
        **trajectory_options,
    ):
        import ipywidgets as w

        self._sources = _model_table(models)
        if not self._sources:
            raise NeurovisionError("no models to explore; register one or pass models=[...]")
        self.images = default_images() if images is None else images
        self.conditions = dict(CONDITIONS if conditions is None else conditions)
        self.options = {"stride": stride, **trajectory_options}
        self.spectrum_k = max(spectrum_k, 1)
        self._built: dict[str, SteppedModel] = {}
        self.trajectories: Trajectories | None = None
        self.figure = None
        self._quiet = False
        self.message = w.HTML()
        self.model_box = w.Dropdown(options=list(self._sources), description="model")
        self.area_box = w.Dropdown(options=[], description="area")
        first = condition or next(iter(self.conditions))
        self.condition_box = w.Dropdown(options=list(self.conditions), value=first, description="condition")
        self.image_slider = w.IntSlider(0, 0, len(self.images) - 1, description="image")
        self.time_slider = w.IntSlider(0, 0, 1, description="step", continuous_update=False)
        self.spectrum_box = w.Checkbox(value=spectrum_k > 0, description="spectrum")
        self.play = w.Play(interval=150, step=1)
        w.jslink((self.play, "value"), (self.time_slider, "value"))
        self.output = w.Output()
        self.widget = w.VBox([
            w.HBox([self.model_box, self.area_box, self.condition_box]),
            w.HBox([self.image_slider, self.play, self.time_slider, self.spectrum_box]),
            self.message,
            self.output,
        ])
        self.model_box.observe(lambda _: self._select_model(), names="value")
        self.area_box.observe(lambda _: self._recompute(), names="value")
        self.condition_box.observe(lambda _: self._recompute(), names="value")
        self.image_slider.observe(lambda _: self.redraw(), names="value")
        self.time_slider.observe(lambda _: self.redraw(), names="value")
        self.spectrum_box.observe(lambda _: self.redraw(), names="value")
        self._select_model(area)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    @property
    def model(self) -> SteppedModel | None:
        return self._built.get(self.model_box.value)

    def _build(self, name: str) -> SteppedModel:
        if name not in self._built:
            self._built[name] = resolve_model(name, self._sources[name])
        return self._built[name]

    def _select_model(self, area: str | None = None) -> None:
        try:
            model = self._build(self.model_box.value)
        except Exception as exc:  # shown in the widget: the user picks another model
            self._fail(exc)
            return
        self._quiet = True
        try:
            self.area_box.options = list(model.areas)
            self.area_box.value = area if area in model.areas else model.areas[-1]
        finally:
            self._quiet = False
        self._recompute()

    def _recompute(self) -> None:
        if self._quiet or self.model is None or self.area_box.value is None:
            return
        try:
            self.trajectories = compute_trajectories(
                self.model, self.images, self.area_box.value, self.condition_box.value,
                self.conditions, **self.options,
            )
        except Exception as exc:
            self._fail(exc)
            return
        n_t = len(self.trajectories.times)
        self._quiet = True
        try:
            self.time_slider.max = self.play.max = n_t - 1
            self.time_slider.value = min(self.trajectories.index_of(0.0) + n_t // 4, n_t - 1)
        finally:
            self._quiet = False
        self.message.value = ""
        self.redraw()

    def _fail(self, exc: Exception) -> None:
        import html

        self.trajectories = None
        self.message.value = f"<b style='color:#b00'>{html.escape(type(exc).__name__)}:</b> {html.escape(str(exc))}"
        self.output.clear_output()

    def redraw(self) -> None:
        """Draw the panels for the current selections into the output area."""
        import matplotlib.pyplot as plt
        from IPython.display import display

        if self._quiet or self.trajectories is None:
            return
        k = self.spectrum_k if self.spectrum_box.value else 0
        fig = draw(self.trajectories, self.image_slider.value, self.time_slider.value, spectrum_k=k)
        self.figure = fig
        with self.output:
            self.output.clear_output(wait=True)
            display(fig)
        plt.close(fig)


def explore(
    models=("leaky-linear",),
    images: torch.Tensor | None = None,
    condition: str | None = None,
    area: str | None = None,
    conditions: Mapping[str, str] | None = None,
    widgets: bool | None = None,
    image: int = 0,
    time_ms: float | None = None,
    frames: int = 6,
    **options,
):
    """Open the explorer: an :class:`Explorer` widget when ``widgets`` (default: when available),
    else a static figure (:func:`draw` with ``frames`` activity maps) of the first model for
    ``image`` at ``time_ms`` (default: 50 ms after onset)."""
    use_widgets = widgets_available() if widgets is None else widgets
    if use_widgets:
        return Explorer(models, images, conditions, condition, area, **options)
    table = _model_table(models)
    name, source = next(iter(table.items()))
    model = resolve_model(name, source)
    images = default_images() if images is None else images
    condition = condition or next(iter(conditions or CONDITIONS))
    spectrum_k = options.pop("spectrum_k", 20)
    trajectories = compute_trajectories(model, images, area, condition, conditions, **options)
    t_index = trajectories.index_of(50.0 if time_ms is None else time_ms)
    fig = draw(trajectories, image, t_index, frames=frames, spectrum_k=spectrum_k)
    fig.suptitle(f"{name}: {trajectories.area}, {condition}", y=1.01)
    return fig


__all__ = [
    "CONDITIONS", "Explorer", "Trajectories", "area_jacobian", "compute_trajectories",
    "condition_schedule", "condition_stimuli", "default_images", "draw", "explore",
    "leading_eigenvalues", "resolve_model", "widgets_available",
]
