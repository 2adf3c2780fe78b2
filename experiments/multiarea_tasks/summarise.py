"""Collect every run's evaluation.json under experiments/multiarea_tasks into summary.json and a markdown table.

Run from the repository root: ``.venv/bin/python experiments/multiarea_tasks/summarise.py``.
"""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def collect() -> list[dict]:
    """One row per ``<group>/<run>/evaluation.json`` under this folder, in path order."""
    rows = []
    for path in sorted(ROOT.glob("*/*/evaluation.json")):
        summary = json.loads(path.read_text())
        run = summary["run"]
        rows.append({
            "group": path.parent.parent.name, "run": path.parent.name, "task": run["task"], "frontend": run["frontend"],
            "backend": run["backend"] + (f" x{run['n_areas']}" if run["n_areas"] > 1 else ""),
            "accuracy": summary["accuracy"], "chance": summary["chance"],
            "ideal_observer": summary.get("ideal_observer_accuracy"),
            "p_value": summary["p_value_vs_chance"], "n_trials": summary["n_trials"],
            "steps": summary["train_steps"], "train_minutes": round(summary["train_seconds"] / 60, 1),
            "feature_minutes": round(summary["feature_seconds"] / 60, 1),
            "mean_rt_ms": summary.get("mean_rt_ms"),
        })
    return rows


def main() -> None:
    rows = collect()
    (ROOT / "summary.json").write_text(json.dumps(rows, indent=2) + "\n")
    print("| group | run | front-end | back-end | accuracy | chance | ideal observer | p vs chance | train min |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ideal = f"{r['ideal_observer']:.3f}" if r["ideal_observer"] is not None else "–"
        print(f"| {r['group']} | {r['run']} | {r['frontend'] or '–'} | {r['backend']} | {r['accuracy']:.3f} | "
              f"{r['chance']:.3f} | {ideal} | {r['p_value']:.1e} | {r['train_minutes']} |")


if __name__ == "__main__":
    main()
