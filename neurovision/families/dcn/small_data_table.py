"""The small-data table (Tomen et al. 2021, Table 2): measured runs beside the paper's numbers.

Reads the ``<variant>-k<k>-seed<s>.json`` summaries that :func:`.dcn_classification.small_data`
writes, groups them by (variant, k) and renders mean ± sample std of the test accuracy (%) next
to the paper's mean ± std (3 runs, 100 epochs, full test set).
"""
from __future__ import annotations

import json
from pathlib import Path

from ...errors import NeurovisionError
from .classification import summarise

#: Table 2 of the paper: variant -> k -> (mean, std) validation accuracy (%)
PAPER_TABLE2 = {
    "resnet-blocks": {2: (16.7, 0.8), 4: (19.6, 1.0), 8: (22.0, 1.3), 16: (28.1, 1.7), 32: (35.4, 0.9),
                      52: (39.8, 0.6), 64: (41.6, 1.5), 103: (49.0, 0.2), 128: (50.9, 0.6),
                      512: (70.4, 1.2), 1024: (76.8, 0.7)},
    "odenet": {2: (16.8, 2.8), 4: (20.5, 0.8), 8: (23.1, 2.5), 16: (29.8, 0.8), 32: (36.4, 1.0),
               52: (41.7, 1.2), 64: (42.3, 0.2), 103: (48.6, 0.5), 128: (50.7, 0.7),
               512: (71.7, 1.5), 1024: (77.4, 0.5)},
    "dcn-ode": {2: (16.4, 1.6), 4: (19.8, 0.7), 8: (26.5, 0.9), 16: (31.2, 0.6), 32: (37.7, 0.6),
                52: (44.5, 0.8), 64: (48.0, 1.3), 103: (54.2, 0.8), 128: (58.2, 0.7),
                512: (75.5, 0.8), 1024: (79.7, 0.3)},
}


def load_runs(folder: str | Path) -> list[dict]:
    """Every finished small-data run summary (``*-k*-seed*.json``) in ``folder``."""
    paths = sorted(Path(folder).glob("*-k*-seed*.json"))
    if not paths:
        raise NeurovisionError(f"no finished small-data runs (<variant>-k<k>-seed<s>.json) in {folder}; "
                               "run `neurovision train dcn small-data` first")
    return [json.loads(p.read_text()) for p in paths]


def table(summaries: list[dict]) -> dict:
    """``{variant: {k: {"mean", "std", "n", "runs", "cpu_s", "paper"}}}`` with accuracies in %."""
    cpu: dict[str, list[float]] = {}
    for s in summaries:
        cpu.setdefault(f"{s['config']['variant']}/k{s['train_images'] // 10}", []).append(s["cpu_s"])
    rows: dict[str, dict] = {}
    for key, row in summarise(summaries).items():
        variant, k = key.rsplit("/k", 1)
        paper = PAPER_TABLE2.get(variant, {}).get(int(k))
        rows.setdefault(variant, {})[int(k)] = {
            **row, "cpu_s": sum(cpu[key]) / len(cpu[key]),
            "paper": None if paper is None else {"mean": paper[0], "std": paper[1]}}
    return rows


def markdown(rows: dict) -> str:
    """A markdown table: one row per variant, one column per k, ``measured (paper)``."""
    ks = sorted({k for per_k in rows.values() for k in per_k})
    lines = ["| model | " + " | ".join(f"k = {k}" for k in ks) + " |",
             "|---|" + "---:|" * len(ks)]
    for variant, per_k in rows.items():
        cells = []
        for k in ks:
            row = per_k.get(k)
            if row is None:
                cells.append("—")
                continue
            paper = row["paper"]
            ref = f" ({paper['mean']:.1f} ± {paper['std']:.1f})" if paper else ""
            cells.append(f"{row['mean']:.1f} ± {row['std']:.1f} (n={row['n']}){ref}")
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
