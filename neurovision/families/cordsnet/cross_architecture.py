"""Do CordsNets solve cognitive tasks like other RNNs? (CordsNet paper Fig. 1C, Appendix B.3)

CordsNet's area dynamics are used as a task RNN (:class:`ConvTaskRNN`): the task input at each
step is shown as constant input maps, one per input channel, which the area's input convolution
maps onto its ``channels x size x size`` units. It is trained with the back-end training
function on the five classic tasks next to full-rank, low-rank and sparse RNNs of the same
number of units, several seeds each. For every task, the condition-averaged trajectories of all
trained networks on the same trials are compared pairwise with CCA and the generalised shape
metrics; :func:`run` writes the distance matrices (NetCDF), a 2-D embedding and summary (CSV)
and the figures.

``neurovision analyze cross-architecture --out experiments/soo2024_cordsnet/cross_architecture``
(``--steps`` and ``--seeds`` set the scale).
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr
from torch import nn

from ...backend.build import build_backend
from ...backend.evaluation import decision_rule, evaluate, run_network
from ...backend.network import ACTIVATIONS, BackendOutput
from ...backend.training import train
from ...backend.trials import Trials, draw_trials
from ...dynamics.base import SteppedModel
from ...errors import ShapeError
from .network import wn_conv
from ...io import atomic_path
from ...registry import load_task
from ...training.checkpoint import load_checkpoint, save_checkpoint
from ...analysis.compare import METRICS, cca, distance_matrix, embed
from ...analysis.results import save_result

#: the five tasks of Dubreuil et al. (2022) and the trial variables that define a condition
TASK_CONDITIONS = {
    "perceptual-decision-making": ("ground_truth", "coh"),
    "parametric-working-memory": ("v1", "v2"),
    "multisensory-integration": ("ground_truth", "coh", "coh_prop"),
    "context-decision-making": ("context", "coh_1", "coh_2"),
    "delayed-match-to-sample": ("sample_theta", "test_theta"),
}
#: architecture name -> back-end kind (``cordsnet``: :class:`ConvTaskRNN`)
ARCHITECTURES = {"cordsnet": "cordsnet", "full": "full", "low-rank": "low-rank:2", "sparse": "sparse:0.2"}


class ConvTaskRNN(SteppedModel):
    """A CordsNet area driven by task inputs.

    ``tau dr/dt = -r + f(W_rec * r + b + W_in * U(u)) + noise`` on ``channels x size x size``
    units: ``U(u)`` turns the task input ``u`` (``n_inputs`` values) into ``n_inputs`` constant
    input maps; ``W_rec`` and ``W_in`` are weight-normalised 3 x 3 convolutions (recurrent kernel
    drawn from N(0, gain^2 / (9 channels))), ``b`` a per-unit bias; a linear read-out of all
    units gives the action logits. Euler steps of ``dt`` ms with the back-end's noise
    convention (stationary standard deviation ``noise_std``).
    """

    areas = ("conv",)

    def __init__(self, n_inputs: int, n_outputs: int, channels: int = 8, size: int = 4,
                 tau: float = 100.0, dt: float = 20.0, activation: str = "relu",
                 noise_std: float = 0.05, gain: float = 1.0, seed: int = 0):
        super().__init__()
        if n_inputs < 1 or n_outputs < 1 or channels < 1 or size < 1:
            raise ShapeError("need n_inputs, n_outputs, channels and size >= 1")
        if activation not in ACTIVATIONS:
            raise ShapeError(f"activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
        gen = torch.Generator().manual_seed(seed)
        self.shape = (channels, size, size)
        self.n_inputs, self.n_outputs = n_inputs, n_outputs
        self.dt, self.tau, self.activation, self.noise_std = float(dt), float(tau), activation, float(noise_std)
        self.input_shape = None
        self.rec = wn_conv(channels, channels, 3, 1)
        self.inp = wn_conv(n_inputs, channels, 3, 1)
        with torch.no_grad():
            v = self.rec.parametrizations.weight.original1
            v.copy_(torch.randn(v.shape, generator=gen) * gain / math.sqrt(9 * channels))
            self.rec.parametrizations.weight.original0.copy_(v.flatten(1).norm(dim=1).view(-1, 1, 1, 1))
        self.bias = nn.Parameter(torch.zeros(self.shape))
        self.readout = nn.Linear(channels * size * size, n_outputs)

    def area_shape(self, area):
        self.check_area(area)
        return self.shape

    def recurrent_conv(self, area):
        """``v -> W_rec * v`` on ``(B, channels, size, size)`` tensors."""
        self.check_area(area)
        return self.rec

    def initial_state(self, batch_size):
        return {"conv": self.bias.new_zeros(batch_size, *self.shape)}

    def encode(self, stimulus: torch.Tensor) -> torch.Tensor:
        """Input currents ``(..., C, S, S)`` of task inputs ``(..., n_inputs)``."""
        if stimulus.shape[-1] != self.n_inputs:
            raise ShapeError(f"the network takes {self.n_inputs} inputs per step, got {tuple(stimulus.shape)}")
        lead = stimulus.shape[:-1]
        maps = stimulus.reshape(-1, self.n_inputs, 1, 1).expand(-1, -1, *self.shape[1:])
        return self.inp(maps.contiguous()).reshape(*lead, *self.shape)

    def step(self, state, drive):
        r = state["conv"]
        pre = self.rec(r) + self.bias + (0 if drive is None else drive)
        alpha = self.dt / self.tau
        r = r + alpha * (ACTIVATIONS[self.activation](pre) - r)
        if self.noise_std > 0:
            r = r + math.sqrt(2 * alpha) * self.noise_std * torch.randn_like(r)
        return {"conv": r}

    def forward(self, inputs: torch.Tensor, state=None, record: bool = False) -> BackendOutput:
        """Run on ``inputs`` (B, T, n_inputs); logits (B, T, n_outputs), rates if ``record``."""
        if inputs.ndim != 3:
            raise ShapeError(f"inputs must be (batch, time, {self.n_inputs}); got {tuple(inputs.shape)}")
        drives = self.encode(inputs.to(self.bias.dtype))
        state = self.initial_state(inputs.shape[0]) if state is None else state
        logits, rates = [], []
        for t in range(inputs.shape[1]):
            state = self.step(state, drives[:, t])
            flat = state["conv"].flatten(1)
            logits.append(self.readout(flat))
            if record:
                rates.append(flat)
        return BackendOutput(torch.stack(logits, 1), {"conv": torch.stack(rates, 1)} if record else {})


@dataclass
class ExperimentConfig:
    """Scale of the experiment; times in ms. ``channels * size^2`` must equal ``units``."""

    tasks: tuple[str, ...] = tuple(TASK_CONDITIONS)
    architectures: tuple[str, ...] = tuple(ARCHITECTURES)
    seeds: tuple[int, ...] = (0, 1)
    steps: int = 1500
    units: int = 128
    channels: int = 8
    size: int = 4
    batch_size: int = 32
    lr: float = 3e-3
    tau: float = 100.0
    dt: float = 20.0
    noise_std: float = 0.05
    eval_trials: int = 400
    n_components: int = 8

    def __post_init__(self):
        if self.channels * self.size**2 != self.units:
            raise ShapeError(f"CordsNet units {self.channels} x {self.size}^2 != units {self.units}")
        unknown = [a for a in self.architectures if a not in ARCHITECTURES]
        if unknown:
            raise ShapeError(f"unknown architectures {unknown}; choose from {list(ARCHITECTURES)}")


def build_network(architecture: str, n_inputs: int, n_outputs: int, config: ExperimentConfig, seed: int):
    """An untrained network of ``architecture`` with ``config.units`` units."""
    if architecture == "cordsnet":
        return ConvTaskRNN(n_inputs, n_outputs, config.channels, config.size, config.tau, config.dt,
                           noise_std=config.noise_std, seed=seed)
    return build_backend(ARCHITECTURES[architecture], n_inputs, n_outputs, units=config.units, tau=config.tau,
                         dt=config.dt, noise_std=config.noise_std, seed=seed)


def train_network(task: str, architecture: str, seed: int, config: ExperimentConfig, folder: Path,
                  progress: bool = False, make_env=None):
    """Train (or reload) one network; returns ``(model, accuracy on fresh trials)``.

    ``make_env(seed)`` builds the task (default: the registered task ``task`` at ``config.dt``).
    """
    make_env = make_env or (lambda s: load_task(task, seed=s, dt=config.dt))
    env = make_env(seed)
    model = build_network(architecture, env.observation_space.shape[0], env.action_space.n, config, seed)
    run_id = f"{task}__{architecture}__seed{seed}"
    final = folder / f"{run_id}.pt"
    if final.is_file():
        load_checkpoint(final, model, run_id)
    else:
        train(model, env, steps=config.steps, batch_size=config.batch_size, lr=config.lr, seed=seed,
              checkpoint=folder / f"{run_id}.ckpt", model_id=run_id, progress=progress)
        save_checkpoint(final, model, run_id)
    model.eval()
    test = draw_trials(make_env(10_000 + seed), config.eval_trials)
    return model, float(evaluate(model, test, decision_rule(env)).summary()["accuracy"])


def condition_trajectories(model, trials: Trials, by: tuple[str, ...], seed: int = 0) -> xr.DataArray:
    """Trial-averaged rates per condition: ``condition x time x unit`` (trials truncated to the
    shortest one, aligned at trial start); the networks' noise is drawn from ``seed``."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        rates = next(iter(run_network(model, trials.inputs, record=True).rates.values())).numpy()
    length = int(trials.info["length"].min())
    groups = trials.info.groupby(list(by), sort=True).indices
    mean = np.stack([rates[idx, :length].mean(0) for idx in groups.values()])
    labels = [" ".join(f"{k}={v}" for k, v in zip(by, key if isinstance(key, tuple) else (key,)))
              for key in groups]
    return xr.DataArray(mean, dims=("condition", "time", "unit"),
                        coords={"condition": labels, "time_ms": ("time", np.arange(1, length + 1) * trials.dt)})


def run(config: ExperimentConfig, out: str | Path, progress: bool = False) -> dict:
    """Train every network, compare them per task and write the results to ``out``."""
    out = Path(out)
    (out / "networks").mkdir(parents=True, exist_ok=True)
    rows, matrices, embeddings, aligned = [], {m: [] for m in METRICS}, [], {}
    for task in config.tasks:
        trials = draw_trials(load_task(task, seed=20_000, dt=config.dt), config.eval_trials)
        reps, labels = {}, []
        for arch in config.architectures:
            for seed in config.seeds:
                model, accuracy = train_network(task, arch, seed, config, out / "networks", progress)
                name = f"{arch}-{seed}"
                reps[name] = condition_trajectories(model, trials, TASK_CONDITIONS[task])
                labels.append({"network": name, "architecture": arch, "seed": seed})
                rows.append({"task": task, "architecture": arch, "seed": seed, "accuracy": accuracy})
        table = pd.DataFrame(labels).set_index("network")
        for metric in METRICS:
            dist = distance_matrix(reps, metric, n_components=config.n_components, labels=table)
            matrices[metric].append(dist.expand_dims(task=[task]))
            if metric == "angular":
                embeddings.append(embed(dist).assign(task=task))
        aligned[task] = reps
    accuracy = pd.DataFrame(rows)
    distances = xr.Dataset({m: xr.concat(v, "task") for m, v in matrices.items()},
                           attrs={"config": json.dumps(asdict(config))})
    save_result(distances, out / "distances.nc")
    summary = summarise(distances)
    _write_csv(accuracy, out / "accuracy.csv")
    _write_csv(pd.concat(embeddings), out / "embedding.csv")
    _write_csv(summary, out / "summary.csv")
    figure(distances, pd.concat(embeddings), aligned, config, out)
    return {"accuracy": accuracy, "distances": distances, "summary": summary}


def summarise(distances: xr.Dataset) -> pd.DataFrame:
    """Mean distance from CordsNets to each architecture (seeds pooled, self-pairs excluded),
    per task and metric; the row ``cordsnet`` is the seed-to-seed baseline."""
    rows = []
    for metric in distances.data_vars:
        for task in distances["task"].values:
            d = distances[metric].sel(task=task)
            arch = d["architecture"].values
            for other in np.unique(arch):
                block = d.values[np.ix_(arch == "cordsnet", d["other_architecture"].values == other)]
                if other == "cordsnet":
                    block = block[~np.eye(len(block), dtype=bool)] if len(block) > 1 else np.array([np.nan])
                rows.append({"metric": metric, "task": task, "to": other, "distance": float(np.mean(block))})
    return pd.DataFrame(rows)


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=True)


def figure(distances, embedding, aligned, config, out: Path) -> None:
    """Distance matrices, embeddings and CCA-aligned CordsNet vs low-rank / sparse trajectories."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ...analysis.plotting import plot_aligned, plot_distance_matrix, plot_embedding

    tasks = list(distances["task"].values)
    fig, axes = plt.subplots(3, len(tasks), figsize=(3.4 * len(tasks), 10), squeeze=False)
    for col, task in enumerate(tasks):
        plot_distance_matrix(distances["angular"].sel(task=task), axes[0, col])
        axes[0, col].set_title(task, fontsize=8)
        plot_embedding(embedding[embedding["task"] == task], axes[1, col], hue="architecture")
        reps = aligned[task]
        other = "low-rank" if "low-rank" in config.architectures else config.architectures[-1]
        a, b = reps.get(f"cordsnet-{config.seeds[0]}"), reps.get(f"{other}-{config.seeds[0]}")
        if a is not None and b is not None:
            plot_aligned(cca(a, b, n_components=3), a.sizes["condition"], axes[2, col], ("CordsNet", other))
    fig.tight_layout()
    with atomic_path(out / "cross_architecture.png") as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)

