"""Trained to classify early or late (CordsNet paper Fig. 4B).

Two copies of one trained CordsNet are fine-tuned with the same budget under protocols that
score the read-out at different times after image onset: ``early`` (cross-entropy on image steps
``early_image_steps - early_ce_steps + 1 .. early_image_steps``, e.g. 22-40 ms) and ``late`` (the
paper's last 30 of 100 image steps, 142-200 ms). The paper finds the early-trained network
oscillatory: its response overshoots, which speeds the signal up, and the eigenvalues of
``W_rec - I`` have larger imaginary parts. :func:`measure` reports for a model the read-out
accuracy at every step after onset, the overshoot of every area's response (mean over images)
and the spectrum of every area's recurrent weight; :func:`run` trains, measures and writes
``early_late.json``, ``spectra.nc`` and ``early_late.png``.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from ...io import atomic_path
from ...training.checkpoint import load_checkpoint, save_checkpoint
from .pipeline import seeded_subset
from .protocol import Protocol, run_phase
from .stages import finetune
from ...training.loop import TrainConfig
from ...analysis.maps import recurrent_operator
from ...analysis.spectra import dense_eigvals
from ...analysis.trajectories import response_overshoot


@dataclass(frozen=True)
class EarlyLateConfig:
    """The shared starting model, data and fine-tuning budget; times in steps of ``dt``."""

    model: str = "cordsnet-r2-fmnist"
    dataset: str = "fashion-mnist"
    early_image_steps: int = 20
    early_ce_steps: int = 10
    steps: int = 150
    batch_size: int = 32
    lr: float = 1e-4
    n_train: int = 10000
    n_test: int = 500
    seed: int = 0

    def protocols(self) -> dict[str, Protocol]:
        return {"early": Protocol(image_steps=self.early_image_steps, ce_steps=self.early_ce_steps),
                "late": Protocol()}


def _data(config: EarlyLateConfig, split: str, n: int, shape):
    from ...data.datasets import load_dataset
    from ...data.images import prepare_images

    data = load_dataset(config.dataset, split)
    images, labels = seeded_subset(data.images, data.labels, n, config.seed)
    return prepare_images(images, shape), labels


def train_variant(config: EarlyLateConfig, name: str, out: Path, progress: bool = True):
    """Fine-tune a fresh copy of ``config.model`` under protocol ``name``; reuse ``<name>.pt``."""
    from ...registry import load_model

    model = load_model(config.model)
    path = out / f"{name}.pt"
    if path.is_file():
        load_checkpoint(path, model, f"{config.model}-{name}")
        return model.eval()
    model.train()
    data = _data(config, "train", config.n_train, model.input_shape)
    train = TrainConfig(epochs=1, steps_per_epoch=config.steps, batch_size=config.batch_size, optimizer="adamw",
                        lr=config.lr, grad_clip=1.0, checkpoint_every=10, seed=config.seed)
    finetune(model, data, train, config.protocols()[name], checkpoint=out / f"{name}.progress.pt",
             progress=progress)
    save_checkpoint(path, model, f"{config.model}-{name}", meta={"config": json.dumps(asdict(config))})
    (out / f"{name}.progress.pt").unlink(missing_ok=True)
    return model.eval()


@torch.no_grad()
def image_response(model, images: torch.Tensor, image_steps: int = 100):
    """From the spontaneous state, ``image_steps`` steps of each image: ``(logits (steps, N,
    classes), {area: (steps, N, units)})``."""
    _, seen = run_phase(model, model.initial_state(images.shape[0]), model.encode(images), image_steps,
                        lambda k, state: (model.readout(state), [state[a].flatten(1) for a in model.areas]), "image")
    logits = torch.stack([z for z, _ in seen])
    return logits, {a: torch.stack([r[i] for _, r in seen]) for i, a in enumerate(model.areas)}


def measure(model, images: torch.Tensor, labels: torch.Tensor, image_steps: int = 100) -> dict:
    """Accuracy by step after onset, mean response overshoot per area, and per area the
    eigenvalues of ``W_rec`` (their imaginary parts are those of ``W_rec - I``)."""
    logits, states = image_response(model, images, image_steps)
    accuracy = (logits.argmax(-1) == labels).float().mean(1).numpy()
    result = {"accuracy_by_step": accuracy.tolist(), "areas": {}, "eigenvalues": {}}
    for area, x in states.items():
        x = x.double().numpy()
        overshoots = [response_overshoot(x[:, i]) for i in range(x.shape[1]) if np.any(x[-1, i] != x[0, i])]
        norm = np.linalg.norm(x - x[:1], axis=2).mean(1)  # distance from the first step's state
        eig = dense_eigvals(recurrent_operator(model, area))
        result["eigenvalues"][area] = eig
        result["areas"][area] = {
            "overshoot_mean": float(np.mean(overshoots)), "overshoot_median": float(np.median(overshoots)),
            "response_norm": norm.tolist(), "peak_over_final": float(norm.max() / norm[-1]),
            "spectral_radius": float(np.abs(eig).max()), "max_abs_imag": float(np.abs(eig.imag).max()),
            "mean_abs_imag": float(np.abs(eig.imag).mean()),
            "complex_fraction": float(np.mean(np.abs(eig.imag) > 1e-6)),
        }
    return result


def run(config: EarlyLateConfig, out: str | Path, progress: bool = True) -> dict:
    """Fine-tune both variants (reusing finished ones), measure them on ``n_test`` test images,
    write ``early_late.json``, ``spectra.nc`` and ``early_late.png`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report, spectra = {"config": asdict(config), "dt_ms": None, "variants": {}}, {}
    for name in ("early", "late"):
        model = train_variant(config, name, out, progress)
        report["dt_ms"] = model.dt
        images, labels = _data(config, "test", config.n_test, model.input_shape)
        measured = measure(model, images, labels)
        for area, eig in measured.pop("eigenvalues").items():
            spectra[f"{name}_{area}"] = eig
        report["variants"][name] = measured
    with atomic_path(out / "early_late.json") as tmp:
        tmp.write_text(json.dumps(report, indent=1))
    parts = {**{k: v.real for k, v in spectra.items()}, **{f"{k}_imag": v.imag for k, v in spectra.items()}}
    with atomic_path(out / "spectra.nc") as tmp:
        xr.Dataset({k: ("eigenvalue", v) for k, v in parts.items()}).to_netcdf(tmp)
    _figure(report, spectra, config, out / "early_late.png")
    return report


def _figure(report: dict, spectra: dict, config: EarlyLateConfig, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = report["variants"]
    last = list(variants["late"]["areas"])[-1]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for name, colour in (("early", "tab:orange"), ("late", "tab:blue")):
        v = variants[name]
        t = report["dt_ms"] * np.arange(1, len(v["accuracy_by_step"]) + 1)
        axes[0].plot(t, v["accuracy_by_step"], c=colour, label=f"trained {name}")
        axes[1].plot(t, v["areas"][last]["response_norm"], c=colour, label=f"trained {name}")
        eig = spectra[f"{name}_{last}"] - 1.0
        axes[2].scatter(eig.real, eig.imag, s=4, c=colour, alpha=0.5, label=f"trained {name}")
        scored = config.protocols()[name]  # its cross-entropy window, in ms after onset
        axes[0].axvspan(report["dt_ms"] * (scored.image_steps - scored.ce_steps + 1),
                        report["dt_ms"] * scored.image_steps, color=colour, alpha=0.15)
    axes[0].set(xlabel="ms after image onset", ylabel="read-out accuracy", title="scored windows shaded")
    axes[1].set(xlabel="ms after image onset", ylabel="|r(t) - r(first step)|", title=f"{last} response")
    axes[2].set(xlabel="Re", ylabel="Im", title=f"eigenvalues of W_rec - I ({last})")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
