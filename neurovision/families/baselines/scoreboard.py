"""The scoreboard: every trained front-end beside the baselines and its untrained controls.

For each image benchmark, every entry (each trained model, each baseline, each untrained seed
of each trained model) is scored with one :class:`~neurovision.brain.scoring.ScoreConfig`, so
all share the splits. Each finished result is written atomically to
``<work>/<benchmark>/<entry>.nc`` with the settings' fingerprint; a rerun loads the finished
ones and scores only what is missing, so an interrupted run resumes where it stopped. The
summary (:func:`summarise`) gives per trained model its score, its untrained mean ± s.d., and
``model - best baseline`` and ``model - untrained`` with the 95 % CI and p of
:func:`~neurovision.brain.compare.compare` (corrected resampled t-test over splits).
Benchmarks without images (decoding benchmarks) give the neurons' own decoding row and say why
models are not scored.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from ...errors import NeurovisionError
from ...io import atomic_path
from .checkpoint_controls import untrained_for
from .side_by_side import assemble, default_area
from .static import load_time_stepped

#: registered ids of trained image front-ends (weights from a file), matched by pattern
TRAINED_PATTERNS = (r"cordsnet-r\d+-.+", r"recurrent-resnet-cifar-.+", r"hgru-pathfinder\d.*", r"dcn-.+-cifar10")

COLUMNS = ("benchmark", "model", "kind", "area", "n_features", "score", "score_se", "normalized_score",
           "image_shuffled", "permutation_p", "untrained_mean", "untrained_sd", "best_baseline",
           "minus_best_baseline", "minus_best_ci_low", "minus_best_ci_high", "minus_best_p",
           "minus_untrained", "minus_untrained_ci_low", "minus_untrained_ci_high", "minus_untrained_p",
           "status", "settings")


@dataclass(frozen=True)
class Entry:
    """One scored row: ``identifier``, ``kind`` (trained, baseline, untrained), the trained model it
    controls (``of``, '' for baselines) and ``score()`` returning its results Dataset."""

    identifier: str
    kind: str
    of: str
    score: Callable[[], xr.Dataset]


def trained_front_ends(ids=None) -> list[str]:
    """Registered ids matching :data:`TRAINED_PATTERNS` (trained checkpoints taking images)."""
    from ...registry import model_registry

    ids = model_registry.ids() if ids is None else ids
    return sorted(i for i in ids if any(re.fullmatch(p, i) for p in TRAINED_PATTERNS))


def entries(models, benchmark, config, n_seeds: int = 3, cache_folder=None, baselines=None,
            skipped: dict | None = None, **kwargs) -> list[Entry]:
    """Entries of ``benchmark`` (an image benchmark): baselines, then each model and its seeds.

    A model that cannot be built (e.g. weights not on disk) is left out and its reason stored
    in ``skipped``; ``kwargs`` go to ``score_model``.
    """
    from . import BASELINES, score_control
    from ...brain.scoring import score_model

    out = [Entry(b, "baseline", "", lambda b=b: score_control(b, benchmark, None, config, folder=cache_folder, **kwargs))
           for b in (BASELINES if baselines is None else baselines)]
    for model_id in models:
        try:
            model = load_time_stepped(model_id)
            controls = untrained_for(model_id, n_seeds) if n_seeds else []
            area = default_area(model, benchmark.region)
        except (NeurovisionError, OSError, KeyError) as exc:
            if skipped is not None:
                skipped[model_id] = f"not scored: {str(exc).splitlines()[0]}"
            continue
        out.append(Entry(model_id, "trained", model_id,
                         lambda m=model, i=model_id, a=area: _named(score_model(m, benchmark, a, config, **kwargs), i)))
        out += [Entry(c.identifier, "untrained", model_id,
                      lambda c=c, a=area: score_control(c, benchmark, a, config, folder=cache_folder, **kwargs))
                for c in controls]
    return out


def _named(results: xr.Dataset, model_id: str) -> xr.Dataset:
    results.attrs["model"] = model_id
    return results


def fingerprint(settings: dict) -> str:
    """Short hash of the scoring settings; a cached result with another one is scored again."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]


def result_path(work: Path, benchmark_id: str, entry_id: str) -> Path:
    return Path(work) / re.sub(r"[^A-Za-z0-9._-]+", "_", benchmark_id) / f"{re.sub(r'[^A-Za-z0-9._-]+', '_', entry_id)}.nc"


def compute(entries_: list[Entry], benchmark_id: str, work: Path, settings: dict,
            log: Callable[[str], None] = print, score: bool = True) -> dict[str, xr.Dataset]:
    """Results of every entry: loaded when finished with the same settings, else scored and saved
    (``score=False``: only the finished ones)."""
    from ...brain.results import load_results, save_results

    key, done = fingerprint(settings), {}
    for entry in entries_:
        path = result_path(work, benchmark_id, entry.identifier)
        if path.is_file():
            try:
                cached = load_results(path)
                if cached.attrs.get("scoreboard_settings") == key:
                    done[entry.identifier] = cached
                    log(f"{benchmark_id} {entry.identifier}: finished earlier ({path})")
                    continue
            except NeurovisionError as exc:
                log(f"{benchmark_id} {entry.identifier}: {exc}; scoring again")
        if not score:
            continue
        results = entry.score()
        results.attrs.update(scoreboard_settings=key, scoreboard_kind=entry.kind)
        save_results(results, path)
        done[entry.identifier] = results
        log(f"{benchmark_id} {entry.identifier}: r = {results.attrs['overall_score']:.3f} -> {path}")
    return done


def summarise(benchmark_id: str, entries_: list[Entry], results: dict[str, xr.Dataset], settings: str) -> list[dict]:
    """CSV rows (:data:`COLUMNS`): baselines, then each trained model and its untrained mean."""
    base = {e.identifier: results[e.identifier] for e in entries_ if e.kind == "baseline"}
    rows = [_row(benchmark_id, i, "baseline", ds, settings) for i, ds in base.items()]
    for entry in (e for e in entries_ if e.kind == "trained"):
        seeds = [results[e.identifier] for e in entries_ if e.kind == "untrained" and e.of == entry.identifier]
        table = assemble(results[entry.identifier], base, seeds)
        row = _row(benchmark_id, entry.identifier, "trained", results[entry.identifier], settings)
        row.update(best_baseline=table.attrs["best_baseline"], minus_best_baseline=table.attrs["overall_difference"],
                   minus_best_ci_low=table.attrs["overall_ci_low"], minus_best_ci_high=table.attrs["overall_ci_high"],
                   minus_best_p=table.attrs["overall_p_value"])
        if seeds:
            scores = np.array(table.attrs["untrained_overall_scores"])
            row.update(untrained_mean=scores.mean(), untrained_sd=scores.std(ddof=1) if len(scores) > 1 else np.nan,
                       minus_untrained=table.attrs["untrained_difference"],
                       minus_untrained_ci_low=table.attrs["untrained_ci_low"],
                       minus_untrained_ci_high=table.attrs["untrained_ci_high"],
                       minus_untrained_p=table.attrs["untrained_p_value"])
            row["status"] += f"; untrained: {len(seeds)} seeds of {seeds[0].attrs.get('area', '')}"
        rows.append(row)
    return rows


def groups(entries_: list[Entry]) -> list[list[Entry]]:
    """The baselines, then each trained model with its untrained controls (the order results are written)."""
    out = [[e for e in entries_ if e.kind == "baseline"]]
    out += [[t] + [e for e in entries_ if e.kind == "untrained" and e.of == t.identifier]
            for t in entries_ if t.kind == "trained"]
    return [g for g in out if g]


def pending_rows(benchmark_id: str, pending, skipped: dict, settings: str) -> list[dict]:
    """Rows of models not scored: still to come (``pending``) or refused with a reason (``skipped``)."""
    rows = [{"benchmark": benchmark_id, "model": m, "kind": "trained", "settings": settings,
             "status": "pending: not scored yet (the run resumes from the finished ones)"} for m in pending]
    return rows + [{"benchmark": benchmark_id, "model": m, "kind": "trained", "status": why, "settings": settings}
                   for m, why in skipped.items()]


def _row(benchmark_id: str, model: str, kind: str, ds: xr.Dataset, settings: str) -> dict:
    ds = ds.squeeze("region", drop=True) if "region" in ds.dims else ds
    return {"benchmark": benchmark_id, "model": model, "kind": kind, "area": ds.attrs.get("area", ""),
            "n_features": ds.attrs.get("n_features", ""), "score": ds.attrs["overall_score"],
            "score_se": float(ds["score_error"].mean()), "normalized_score": ds.attrs.get("overall_normalized_score"),
            "image_shuffled": float(ds["null_mean"].mean()) if "null_mean" in ds else np.nan,
            "permutation_p": ds.attrs.get("permutation_p_value", np.nan), "status": "scored", "settings": settings}


def decoding_path(work: Path, benchmark_id: str, n_shuffles: int) -> Path:
    return Path(work) / benchmark_id / f"decoding-{n_shuffles}.json"


def decoding_rows(benchmark_id: str, load: Callable, n_shuffles: int, work: Path, models, settings: str) -> list[dict]:
    """The neurons' own decoding (peak accuracy, chance, adjusted p) and one row per model saying why
    it is not scored; the decoding result is cached in ``work`` as JSON (``load()`` builds the
    benchmark only when it is not)."""
    from ...brain.stats import max_statistic_p

    path = decoding_path(work, benchmark_id, n_shuffles)
    if path.is_file():
        summary = json.loads(path.read_text())
    else:
        result = load().run(n_shuffles=n_shuffles)
        accuracy = result["accuracy"].values
        peak = int(np.nanargmax(accuracy))
        _, adjusted = max_statistic_p(accuracy, result["null_accuracy"].values)
        summary = {"accuracy": float(accuracy[peak]), "se": float(result["accuracy_error"].values[peak]),
                   "chance": float(result.attrs["chance"]), "null": float(result["control_accuracy"].values[peak]),
                   "p": float(adjusted[peak]), "bin": f"{result['time_bin_start'].values[peak]:g}-"
                                                     f"{result['time_bin_end'].values[peak]:g} ms",
                   "n_neuroids": int(result.attrs["n_neuroids"])}
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(summary))
    why = "not applicable: the benchmark has no images (labels are decoded from the neurons), so models and baselines cannot be shown it"
    rows = [{"benchmark": benchmark_id, "model": f"IT neurons ({summary['n_neuroids']} units)",
             "kind": "neural decoding", "score": summary["accuracy"], "score_se": summary["se"],
             "image_shuffled": summary["null"], "permutation_p": summary["p"],
             "status": f"peak object-decoding accuracy at {summary['bin']} (chance {summary['chance']:.3f}); "
                       "image_shuffled = shuffled-label accuracy; p max-statistic adjusted over bins",
             "settings": settings}]
    rows.append({"benchmark": benchmark_id, "model": f"{len(models)} trained models, baselines, untrained controls",
                 "kind": "models", "status": why, "settings": settings})
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    """``rows`` as CSV with :data:`COLUMNS` (floats to 4 significant decimals), atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _fmt(row.get(k, "")) for k in COLUMNS})
    with atomic_path(path) as tmp:
        tmp.write_text(buffer.getvalue())


def _fmt(value):
    if isinstance(value, (float, np.floating)):
        return "" if not np.isfinite(value) else f"{float(value):.4f}"
    return value


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def markdown(rows: list[dict]) -> str:
    """The Markdown scoreboard of CSV rows (strings as read back by :func:`read_csv`)."""
    head = ("| benchmark | model | kind | score r ± s.e. | image-shuffled | perm. p | untrained (mean ± s.d.) "
            "| model − best baseline [95 % CI], p | model − untrained [95 % CI], p |")
    lines = [head, "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if not r.get("score"):
            lines.append(f"| {r['benchmark']} | `{r['model']}` | {r['kind']} | — | — | — | — | {r['status']} | — |")
            continue
        untrained = f"{float(r['untrained_mean']):.3f} ± {float(r['untrained_sd']):.3f}" if r.get("untrained_sd") else "—"
        lines.append(f"| {r['benchmark']} | `{r['model']}` | {r['kind']} | {float(r['score']):.3f} ± "
                     f"{float(r['score_se']):.3f} | {_num(r.get('image_shuffled'))} | {_num(r.get('permutation_p'))} "
                     f"| {untrained} | {_diff(r, 'minus_best', r.get('best_baseline'))} | {_diff(r, 'minus_untrained')} |")
    return "\n".join(lines)


def _num(text) -> str:
    return f"{float(text):.3f}" if text not in (None, "") else "—"


def _diff(r: dict, prefix: str, against: str | None = None) -> str:
    key = "minus_best_baseline" if prefix == "minus_best" else prefix
    if not r.get(key):
        return "—"
    name = f" (vs {against})" if against else ""
    return (f"{float(r[key]):+.3f} [{float(r[prefix + '_ci_low']):+.3f}, {float(r[prefix + '_ci_high']):+.3f}], "
            f"p {_p(float(r[prefix + '_p']))}{name}")


def _p(value: float) -> str:
    """``= value``, or ``< 1e-4`` where the CSV's 4 decimals round it to 0."""
    return "< 1e-4" if value < 1e-4 else f"= {value:.2g}"


def write_text(text: str, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def save_figure(rows: list[dict], path: Path) -> None:
    """Per image benchmark: score ± s.e. of every row (baselines dashed), model − best baseline with
    its 95 % CI, and trained vs untrained mean ± s.d.; a small PNG written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scored = [r for r in rows if r.get("score") and r["kind"] in ("trained", "baseline")]
    benchmarks = list(dict.fromkeys(r["benchmark"] for r in scored)) or ["(none)"]
    fig, axes = plt.subplots(len(benchmarks), 3, figsize=(12, 3.6 * len(benchmarks)), squeeze=False)
    for ax, bench in zip(axes, benchmarks):
        trained = [r for r in scored if r["benchmark"] == bench and r["kind"] == "trained"]
        base = [r for r in scored if r["benchmark"] == bench and r["kind"] == "baseline"]
        y = np.arange(len(trained))
        ax[0].errorbar([float(r["score"]) for r in trained], y, xerr=[float(r["score_se"]) for r in trained], fmt="o")
        for r, style in zip(base, ("--", ":", "-.")):
            ax[0].axvline(float(r["score"]), ls=style, color="gray", label=r["model"])
        ax[0].set(yticks=y, yticklabels=[r["model"] for r in trained], xlabel="score r", title=bench)
        ax[0].legend(fontsize=7)
        diff = [r for r in trained if r.get("minus_best_baseline")]
        d = np.array([float(r["minus_best_baseline"]) for r in diff])
        lo, hi = (np.array([float(r[k]) for r in diff]) for k in ("minus_best_ci_low", "minus_best_ci_high"))
        ax[1].errorbar(d, np.arange(len(diff)), xerr=[d - lo, hi - d], fmt="o", color="C1")
        ax[1].axvline(0, color="k", lw=0.8)
        ax[1].set(yticks=np.arange(len(diff)), yticklabels=[], xlabel="model − best baseline (95 % CI)")
        pairs = [r for r in trained if r.get("untrained_mean")]
        ax[2].errorbar([float(r["untrained_mean"]) for r in pairs], [float(r["score"]) for r in pairs],
                       xerr=[float(r["untrained_sd"] or 0) for r in pairs], yerr=[float(r["score_se"]) for r in pairs],
                       fmt="o", color="C2")
        ends = [float(v) for r in pairs for v in (r["untrained_mean"], r["score"])] or [0, 1]
        ax[2].plot([min(ends), max(ends)], [min(ends), max(ends)], "k:", lw=0.8)
        ax[2].set(xlabel="untrained r (mean ± s.d. over seeds)", ylabel="trained r", title="does training help?")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=80, format="png")
    plt.close(fig)
