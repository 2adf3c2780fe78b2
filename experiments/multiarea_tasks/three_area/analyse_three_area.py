"""Where coherence and choice become decodable in a 3-area back-end, what each area and
projection contributes, and the fixed points per coherence.

Reads a finished ``train task`` run of ``random-dot-motion`` (see ``run_three_area.sh``),
re-runs its 1,000 evaluation trials (front-end features from the run's cache, network noise
seeded as in the run's report) and writes beside this file:

* ``summary.json``: accuracy (overall and per coherence), decoding scores, shuffled nulls,
  p-values and onsets per area and variable, lesion effects, fixed-point summaries;
* ``fixed_points.json``: every fixed point per signed coherence with its leading eigenvalues;
* ``decoding.png``: decoding over time per area; ``lesions.png``: lesion effects and the
  slowest time constant at the fixed points per coherence.

Run from the repository root::

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python experiments/multiarea_tasks/three_area/analyse_three_area.py RUN
"""
import argparse
import json
from pathlib import Path

import numpy as np
import torch

from neurovision.backend.decoding import decode_over_time, onset
from neurovision.backend.evaluation import correct_actions, decide, decision_rule, run_network
from neurovision.backend.experiment import evaluation_trials, load_run, run_cache_dir
from neurovision.backend.lesion import lesion_effects
from neurovision.backend.task_fixed_points import fixed_points_by_condition
from neurovision.io import atomic_path

HERE = Path(__file__).parent
ROLES = {"A1": "sensory", "A2": "integration", "A3": "motor"}
ALPHA, PERSIST = 0.01, 2


def _finite(value: float):
    """``value``, or None when it is NaN (no onset), for strict JSON."""
    return None if np.isnan(value) else value


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")


def decoding_figure(results: dict, path: Path) -> None:
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(results), figsize=(3.3 * len(results), 3.2), squeeze=False)
    for ax, (name, ds) in zip(axes[0], results.items()):
        t = ds["time"].values + ds.attrs["bin_ms"] / 2
        for area in ds["area"].values:
            line, = ax.plot(t, ds["score"].sel(area=area), label=f"{area} ({ROLES.get(area, area)})")
            ax.plot(t, ds["null_95"].sel(area=area), ":", color=line.get_color(), linewidth=0.8)
            sig = ds["p_value"].sel(area=area).values < ALPHA
            ax.plot(t[sig], ds["score"].sel(area=area).values[sig], "o", color=line.get_color(), markersize=3)
        ax.set(title=name, xlabel="ms from motion onset", ylabel=ds.attrs["metric"])
    axes[0][0].legend(frameon=False, fontsize=7)
    fig.suptitle("decoding per area (dots: p < 0.01 vs shuffled labels; dotted: null 95th pct)", fontsize=9)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def lesion_figure(lesions, fixed: dict, path: Path) -> None:
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.3))
    y = np.arange(len(lesions))[::-1]
    left.barh(y + 0.2, lesions["accuracy"], height=0.4, label="correct (no response = error)")
    left.barh(y - 0.2, lesions["responded"], height=0.4, label="responded")
    left.axvline(lesions.loc["none", "accuracy"], color="k", linewidth=0.8)
    left.set(yticks=y, yticklabels=lesions.index, xlabel="fraction of 1,000 trials", xlim=(0, 1.0))
    left.legend(frameon=False, fontsize=7, loc="lower right")
    levels = sorted(fixed, key=float)
    slowest = [max((p["time_constants_ms"][0] for p in fixed[c]["points"] if p["kind"] == "fixed"), default=np.nan)
               for c in levels]
    right.plot([float(c) for c in levels], slowest, "o-")
    right.set(xlabel="signed coherence (%)", ylabel="slowest time constant (ms)", yscale="log",
              title="fixed points (missing: not converged)")
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="`train task` folder of the 3-area random-dot run")
    parser.add_argument("--shuffles", type=int, default=200)
    parser.add_argument("--bin-ms", type=float, default=40.0)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    torch.set_num_threads(1)
    run, env, model = load_run(args.run)
    backend = model.backend
    trials = evaluation_trials(run, env, model, run_cache_dir(args.run))
    out = run_network(backend, trials.inputs, record=True, seed=run.seed)
    rates = {a: r.numpy() for a, r in out.rates.items()}
    table = trials.info.reset_index(drop=True).copy()
    table = table.join(decide(out.logits, trials, decision_rule(env), run.threshold))
    table["correct"] = table["choice"] == correct_actions(trials)
    start = int(table["stimulus_start"].iloc[0])
    if not (table["stimulus_start"] == start).all():
        raise ValueError("motion onsets differ between trials; align them before decoding")
    decision_ms = table["decision_ms"] if "decision_ms" in table else table["rt_ms"]  # after motion onset
    answered = table["responded"].to_numpy(bool)  # choices: trials whose choice reached the threshold
    zero = answered & (table["coherence"] == 0).to_numpy()
    variables = {
        "signed coherence": (rates, table["signed_coherence"].to_numpy(float), False),
        "unsigned coherence": (rates, table["coherence"].to_numpy(float), False),
        "choice": ({a: r[answered] for a, r in rates.items()}, table["choice"].to_numpy()[answered], True),
        "choice at 0% coherence": ({a: r[zero] for a, r in rates.items()}, table["choice"].to_numpy()[zero], True),
    }
    decoded, decoding = {}, {}
    for name, (r, y, categorical) in variables.items():
        if categorical and (len(np.unique(y)) < 2 or np.unique(y, return_counts=True)[1].min() < 5):
            decoding[name] = {"skipped": f"choices {dict(zip(*np.unique(y, return_counts=True)))}: "
                                         "fewer than 5 trials of a class"}
            continue
        ds = decode_over_time(r, y, trials.dt, args.bin_ms, start, categorical, n_shuffles=args.shuffles)
        decoded[name] = ds
        decoding[name] = {
            "metric": ds.attrs["metric"], "n_trials": int(len(y)), "time_ms": ds["time"].values.tolist(),
            **{area: {"onset_ms": _finite(onset(ds["p_value"].sel(area=area).values, ds["time"].values, ALPHA, PERSIST)),
                      "score": ds["score"].sel(area=area).values.round(4).tolist(),
                      "null_95": ds["null_95"].sel(area=area).values.round(4).tolist(),
                      "p_value": ds["p_value"].sel(area=area).values.round(4).tolist(),
                      "peak": float(ds["score"].sel(area=area).max())} for area in ds["area"].values}}
    decoding_figure(decoded, args.out / "decoding.png")
    lesions = lesion_effects(backend, trials, rule=decision_rule(env), threshold=run.threshold, seed=run.seed)
    fixed = fixed_points_by_condition(backend, trials, rates, "signed_coherence", "stimulus_start", n_initial=16,
                                      warmup=100, seed=run.seed)
    lesion_figure(lesions, fixed, args.out / "lesions.png")
    with atomic_path(args.out / "fixed_points.json") as tmp:
        tmp.write_text(json.dumps(fixed, indent=1) + "\n")
    summary = {
        "run": {k: getattr(run, k) for k in ("task", "frontend", "backend", "units", "n_areas", "tau", "ff_density",
                                             "fb_density", "dt", "steps", "train_trials", "eval_trials", "seed")},
        "roles": ROLES, "accuracy_responded": float(table["correct"][answered].mean()),
        "accuracy_no_response_as_error": float(table["correct"].mean()),
        "accuracy_by_coherence": {str(c): float(v) for c, v in
                                  table[answered].groupby("coherence")["correct"].mean().items()},
        "decided": float(answered.mean()), "mean_decision_time_ms": float(decision_ms[answered].mean()),
        "decoding": {"bin_ms": args.bin_ms, "n_shuffles": args.shuffles, "alpha": ALPHA, "persist_bins": PERSIST,
                     "model": "ridge", "folds": 5, "variables": decoding},
        "lesions": {k: {c: float(v) for c, v in row.items()} for k, row in lesions.iterrows()},
        "fixed_points": {c: {"converged": r["converged"], "best_relative_step": r["best_relative_step"],
                             "n_points": len(r["points"]), "kinds": [p["kind"] for p in r["points"]],
                             "stability": [p["stability"] for p in r["points"]],
                             "slowest_tau_ms": [p["time_constants_ms"][0] for p in r["points"]],
                             "leading_mode_area_share": [p["leading_mode_area_share"] for p in r["points"]]}
                         for c, r in fixed.items()},
    }
    with atomic_path(args.out / "summary.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k not in ("decoding", "fixed_points")}, indent=1))
    print(json.dumps({n: {a: v[a]["onset_ms"] for a in ROLES} if "skipped" not in v else v
                      for n, v in decoding.items()}, indent=1, default=str))


if __name__ == "__main__":
    main()
