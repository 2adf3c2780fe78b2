"""One back-end trained on the five classic tasks at once with rule inputs (Yang et al. 2019).

Trains (resumable; checkpoint, metrics and model in ``--run``), then evaluates every task on
new trials and clusters the units by their normalised task variance. Writes ``summary.json``
and ``task_variance.png`` beside this file.

Run from the repository root (one thread)::

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python experiments/multiarea_tasks/multitask/run_multitask.py
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

import neurovision
from neurovision.backend.build import build_backend
from neurovision.backend.multitask import MultitaskEnv, evaluate_tasks
from neurovision.backend.task_variance import cluster_units, network_task_variance, normalised_task_variance
from neurovision.backend.training import train
from neurovision.io import atomic_path
from neurovision.training.checkpoint import load_checkpoint, save_checkpoint

TASKS = ("perceptual-decision-making", "parametric-working-memory", "multisensory-integration",
         "context-decision-making", "delayed-match-to-sample")
HERE = Path(__file__).parent


def tasks(seed: int) -> MultitaskEnv:
    return MultitaskEnv({t: neurovision.load_task(t, seed=seed) for t in TASKS}, seed=seed)


def figure(norm, clusters, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = clusters.labels.sort_values(kind="stable").index
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4), gridspec_kw={"width_ratios": [3, 1.4]})
    image = left.imshow(norm.loc[order].T.to_numpy(), aspect="auto", cmap="hot", vmin=0, vmax=1,
                        interpolation="nearest")
    bounds = np.cumsum(clusters.sizes.to_numpy())[:-1]
    for b in bounds:
        left.axvline(b - 0.5, color="cyan", linewidth=0.8)
    left.set(yticks=range(len(norm.columns)), yticklabels=[c.replace("-", " ") for c in norm.columns],
             xlabel=f"units sorted by cluster ({len(norm)} active units)")
    fig.colorbar(image, ax=left, label="normalised task variance", fraction=0.04)
    ks = sorted(clusters.silhouettes)
    right.plot(ks, [clusters.silhouettes[k] for k in ks], "o-")
    right.axvline(clusters.k, color="grey", linestyle=":")
    right.set(xlabel="number of clusters", ylabel="mean silhouette")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=Path("runs/multitask"))
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--eval-trials", type=int, default=1000)
    parser.add_argument("--tv-trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    env = tasks(args.seed)
    net = build_backend("full", env.observation_space.shape[0], env.action_space.n, units=args.units,
                        seed=args.seed)
    args.run.mkdir(parents=True, exist_ok=True)
    started = time.time()
    train(net, env, steps=args.steps, batch_size=args.batch_size, lr=3e-3, seed=args.seed,
          checkpoint=args.run / "checkpoint.pt", log=args.run / "metrics.jsonl", model_id="multitask",
          progress=False)
    train_s = time.time() - started
    save_checkpoint(args.run / "model.pt", net, "multitask")
    load_checkpoint(args.run / "model.pt", net, model_id="multitask")
    net.eval()
    accuracy = evaluate_tasks(net, tasks(args.seed + 1_000_003), n=args.eval_trials, seed=args.seed)
    tv = network_task_variance(net, tasks(args.seed + 2_000_003), n=args.tv_trials, seed=args.seed)
    norm = normalised_task_variance(tv)
    clusters = cluster_units(norm, range(2, 13), method="kmeans", seed=args.seed)
    figure(norm, clusters, HERE / "task_variance.png")
    summary = {"tasks": list(TASKS), "layout": env.layout, "n_inputs": env.observation_space.shape[0],
               "units": args.units, "steps": args.steps, "batch_size": args.batch_size, "lr": 3e-3,
               "train_seconds": train_s, "accuracy": accuracy,
               "task_variance": {"trials_per_task": args.tv_trials, "active_units": len(norm),
                                 "min_variance": 1e-3, "method": "kmeans", **clusters.summary()}}
    with atomic_path(HERE / "summary.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
