"""Baselines beside a trained model on cowley2023.V4: pixels, Gabor V1, the model untrained (3 seeds).

Scores every row with the demo's settings (shift auto among 0, 20, 40, 60 ms on training
stimuli, image-shuffled control, 50 permutations) and writes a JSON summary::

    python experiments/brainscore/baselines_cowley.py --out experiments/brainscore/baselines_cowley.json

Baseline and untrained activity is cached (``$NEUROVISION_CACHE`` or ``--cache``); a second run
with ``--from-cache`` re-scores those rows from the cache, checks that every score is the same
(to 1e-9) and adds the time it took.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from neurovision.brain.scoring import ScoreConfig, score_model
from neurovision.families.baselines import BASELINES, score_control, untrained_controls
from neurovision.io import atomic_path

BENCHMARK = "cowley2023.V4"


KEEP = ("model", "area", "reducer", "n_features", "shift_ms", "permutation_p_value")
#: per-bin variables reported as their mean over bins when the result holds them
PER_BIN = ("score", "ceiling", "normalized_score", "score_error", "null_mean", "null_sd", "p_value")


def summary(results, seconds: float) -> dict:
    """Scalar attributes of a result (scores, ceiling, p-values, shift), its per-bin means, the run time."""
    ds = results.squeeze("region")
    row = {}
    for key, value in ds.attrs.items():
        if (key in KEEP or key.startswith("overall_")) and isinstance(value, (str, int, float, np.number)):
            row[key] = value if isinstance(value, str) else float(value)
    for name in PER_BIN:
        if name in ds:
            row[name] = float(ds[name].mean())
    row["seconds"] = round(seconds, 1)
    return row


def table(payload: dict) -> str:
    """The Markdown table of docs/brainscore.md's Baselines section."""
    lines = ["| model | kind | area (features) | r ± s.e. | normalised | image-shuffled | permutation p | shift "
             "| time recording / from the cache |", "|---|---|---|---|---|---|---|---|---|"]
    for row in payload["rows"]:
        cached = f"{row['seconds_from_cache']:.0f} s" if "seconds_from_cache" in row else "—"
        lines.append(
            f"| `{row['model']}` | {row['kind']} | {row['area']} ({row['n_features']:.0f}) "
            f"| {row['overall_score']:.3f} ± {row['score_error']:.3f} | {row['overall_normalized_score']:.3f} "
            f"| {row['null_mean']:.3f} | {row['permutation_p_value']:.3f} | {row['shift_ms']:.0f} ms "
            f"| {row['seconds']:.0f} s / {cached} |")
    return "\n".join(lines)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def scorers(args, config):
    """``(kind, model id, zero-argument scoring function)`` of every row, in table order."""
    rows = [("baseline", b, lambda b=b: score_control(b, BENCHMARK, config=config, folder=args.cache,
                                                        progress=False)) for b in BASELINES]
    rows += [("untrained", c.identifier, lambda c=c: score_control(c, BENCHMARK, args.area, config,
                                                                   folder=args.cache, progress=False))
             for c in untrained_controls(args.model, args.seeds)]
    rows.append(("trained", args.model, lambda: score_model(args.model, BENCHMARK, args.area, config, progress=False)))
    return rows


def from_cache(args, config) -> dict:
    """Re-score the cached rows of ``args.out``: same scores required (to 1e-9, the regression's
    floating-point noise), time added as ``seconds_from_cache``."""
    payload = json.loads(args.out.read_text())
    previous = {row["model"]: row for row in payload["rows"] if row["kind"] in ("baseline", "untrained", "trained")}
    for kind, model_id, run in scorers(args, config):
        if kind == "trained":
            continue
        results, seconds = timed(run)
        again = summary(results, seconds)
        if not np.isclose(again["overall_score"], previous[model_id]["overall_score"], rtol=1e-9, atol=0):
            raise SystemExit(f"{model_id}: cached score {again['overall_score']} differs from the recorded "
                             f"{previous[model_id]['overall_score']}")
        previous[model_id]["seconds_from_cache"] = again["seconds"]
        print(model_id, again["seconds"], "s from the cache", flush=True)
    payload["rows"] = list(previous.values())
    return payload


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="cordsnet-r2-cifar10")
    parser.add_argument("--area", default="area2", help="the model's area standing for V4")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--permutations", type=int, default=50)
    parser.add_argument("--cache", default=None, help="cache folder (default $NEUROVISION_CACHE or ~/.cache/neurovision)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--from-cache", action="store_true",
                        help="re-score the baseline and untrained rows of --out from the cache and add their times")
    parser.add_argument("--table", action="store_true", help="print the Markdown table of an existing --out file")
    args = parser.parse_args(argv)
    if args.table:
        print(table(json.loads(args.out.read_text())))
        return
    torch.set_num_threads(args.threads)
    config = ScoreConfig(shifts="0:60:20", controls=("image",), n_permutations=args.permutations)
    if args.from_cache:
        payload = from_cache(args, config)
    else:
        rows = []
        for kind, _, run in scorers(args, config):
            results, seconds = timed(run)
            rows.append({"kind": kind, **summary(results, seconds)})
            print(json.dumps(rows[-1]), flush=True)
        payload = {"benchmark": BENCHMARK, "model": args.model, "area": args.area,
                   "config": {"shift": "auto", "shifts": "0:60:20", "controls": ["image"],
                              "n_permutations": args.permutations},
                   "torch_threads": args.threads, "rows": rows}
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(payload, indent=1) + "\n")


if __name__ == "__main__":
    main()
