"""Summarise recurrent-ResNet runs: test error and the three indices against coupling lambda.

Reads the ``metrics.json`` files written by
:func:`neurovision.families.recurrent.resnet_run.train_resnet` and writes ``indices.json`` (one row per
run, sorted by variant, initialisation and lambda) and ``indices.png`` (the three indices and the
test error against lambda, one line per variant and initialisation) into ``out``.
"""
from __future__ import annotations

import json
from pathlib import Path

from ...errors import DataError
from ...io import atomic_path

INDICES = ("convergence", "recurrence", "divergence")


def summary_rows(folders: list[Path]) -> list[dict]:
    """One row per run folder: variant, init, lambda, test error, mean and per-stage indices."""
    rows = []
    for folder in folders:
        path = Path(folder) / "metrics.json"
        if not path.is_file():
            raise DataError(f"{path} not found; run `neurovision train recurrent resnet --out {folder}` first")
        m = json.loads(path.read_text())
        run = m["run"]
        rows.append({
            "run": Path(folder).name, "dataset": run["dataset"], "variant": run["variant"],
            "init": "rec" if (run["recurrent_init"] or run["coupling"] > 0) else "nonrec",
            "lambda": run["coupling"], "width": run["width"], "test_error": m["test_error"],
            **{k: m["indices"]["mean"][k] for k in INDICES},
            "stages": [{k: s[k] for k in INDICES} for s in m["indices"]["stages"]],
        })
    return sorted(rows, key=lambda r: (r["dataset"], r["variant"], r["init"], r["lambda"]))


def resnet_report(folders: list[Path], out: Path) -> list[dict]:
    """Write ``indices.json`` and ``indices.png`` for the runs in ``folders``; return the rows."""
    rows = summary_rows(folders)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "indices.json") as tmp:
        tmp.write_text(json.dumps(rows, indent=1))
    _figure(rows, out / "indices.png")
    return rows


def _figure(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(14, 3.2))
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["variant"], r["init"]), []).append(r)
    for (dataset, variant, init), members in groups.items():
        lams = [r["lambda"] for r in members]
        style = {"marker": "o" if init == "rec" else "s", "ls": "-" if init == "rec" else "none"}
        for ax, key in zip(axes, INDICES + ("test_error",)):
            ax.plot(lams, [r[key] if r[key] is not None else float("nan") for r in members],
                    label=f"{dataset} {variant} {init}", **style)
    for ax, key in zip(axes, INDICES + ("test_error",)):
        ax.set(xlabel="coupling lambda", title=key.replace("_", " "))
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
