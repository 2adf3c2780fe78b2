"""A model beside its baselines, its untrained controls and the image-shuffled control.

:func:`side_by_side` scores, on one image benchmark with one :class:`ScoreConfig` (so every row
shares the splits): the model; each baseline (``baseline-pixels``, ``baseline-gabor-v1``); the
model's architecture untrained (seeds 0 .. n-1, reported as mean ± s.d. over seeds); and the
image-shuffled control (the mean of the model's image-permutation null). The headline column is
**model − best baseline** (the baseline with the highest mean score) per time bin and overall,
with the 95 % CI and p of :func:`~neurovision.brain.compare.compare` (corrected resampled t-test,
Nadeau & Bengio 2003; per-bin p Holm-adjusted). The model's own p per bin is the image
permutation p, max-statistic adjusted over bins. Baseline and untrained activity is cached per
benchmark (:mod:`neurovision.brain.activity_cache`).
"""
from __future__ import annotations

import dataclasses
import difflib
import math

import numpy as np
import xarray as xr

from ...errors import DataError, NeurovisionError
from ...brain.compare import compare


def check_baselines(ids) -> tuple[str, ...]:
    """``ids`` when every one is a baseline id; NeurovisionError naming the closest valid ids."""
    from . import BASELINES

    for name in ids:
        if name not in BASELINES:
            close = difflib.get_close_matches(name, BASELINES, n=2, cutoff=0.3)
            hint = f"closest: {', '.join(close)}; " if close else ""
            raise NeurovisionError(f"unknown baseline id {name!r}; {hint}valid baselines: {', '.join(BASELINES)}")
    return tuple(ids)


def minimum_stimuli(config) -> int:
    """Fewest stimuli for which every row and the comparison are defined under ``config``.

    Each test set must hold >= 3 stimuli (a correlation over 2 points is always ±1) and >= 3
    training stimuli remain; ``n_permutations`` image permutations need more than that many
    distinct stimulus orders (``n! > n_permutations``).
    """
    n = 5
    while n - math.floor(config.train_size * n) < 3 or math.floor(config.train_size * n) < 3:
        n += 1
    if config.n_permutations:
        while math.factorial(min(n, 20)) <= config.n_permutations:
            n += 1
    return n


def check_stimuli(benchmark, config) -> None:
    """DataError when ``benchmark`` has too few stimuli or ``config`` too few splits to compare."""
    n = int(benchmark.responses().sizes["presentation"])
    need = minimum_stimuli(config)
    if n < need:
        raise DataError(f"{benchmark.identifier} has {n} stimuli; scoring beside baselines with "
                        f"{config.n_splits} splits of {config.train_size:.0%} train and "
                        f"{config.n_permutations} permutations needs >= {need} stimuli")
    if config.n_splits < 3:
        raise DataError(f"comparing with baselines needs >= 3 splits, got n_splits={config.n_splits}")


def default_area(model, region: str) -> str:
    """The area scored beside baselines: the model's declaration for ``region``, else its last area.

    (Choosing it on held-out stimuli would leave those out of the model's score only, and rows
    must share their stimuli and splits to be compared.)
    """
    declared = (getattr(model, "region_areas", None) or {}).get(region)
    if not declared and not getattr(model, "areas", None):
        raise NeurovisionError(f"{type(model).__name__} is not a time-stepped model (no areas to record over "
                               "time), so it cannot be scored bin by bin")
    return declared or model.areas[-1]


def seed_mean(results: list[xr.Dataset], name: str) -> xr.Dataset:
    """One result whose per-split, per-neuroid ``r`` is the mean over ``results`` (same splits)."""
    out = results[0].copy()
    out["r"] = sum(ds["r"] for ds in results) / len(results)
    out.attrs["model"] = name
    return out


def _score(results: xr.Dataset) -> np.ndarray:
    return results["score"].squeeze("region", drop=True).values if "region" in results.dims else results["score"].values


def side_by_side(model: str, benchmark, area: str | None = None, config=None, *, baselines=None,
                 n_seeds: int = 3, cache_folder=None, model_results: xr.Dataset | None = None,
                 **kwargs) -> xr.Dataset:
    """The side-by-side Dataset over ``row`` x ``time_bin`` (see the module doc).

    Variables: ``score`` and ``score_sd`` (s.e. over splits for single rows, s.d. over seeds
    for the untrained row), ``p_value`` (the model's adjusted image-permutation p), and the
    comparison with the best baseline: ``difference``, ``ci_low``, ``ci_high``,
    ``difference_p_value``, ``difference_p_value_holm``; attributes name the best baseline and
    carry the overall difference, CI, p and verdict, and the model's untrained comparison.
    ``model_results`` reuses a finished score of the model; ``kwargs`` go to ``score_model``.
    """
    from . import BASELINES, image_benchmark, score_control
    from .checkpoint_controls import untrained_for
    from ...brain.scoring import ScoreConfig, score_model
    from .static import load_time_stepped

    config = config or ScoreConfig()
    benchmark = image_benchmark(benchmark)
    check_stimuli(benchmark, config)
    baselines = check_baselines(BASELINES if baselines is None else baselines)
    if not baselines:
        raise NeurovisionError("side_by_side needs at least one baseline id")
    if model_results is None:
        model_results = score_model(load_time_stepped(model), benchmark, area, config, **kwargs)
        model_results.attrs["model"] = model
    trained = model_results
    # only the model's image-shuffled null is shown: the rows beside it are scored without one
    config = dataclasses.replace(config, n_permutations=0)
    base = {b: score_control(b, benchmark, None, config, folder=cache_folder, **kwargs) for b in baselines}
    try:
        controls = untrained_for(model, n_seeds) if n_seeds else []
    except NeurovisionError:  # no known untrained counterpart: the row is left out
        controls = []
    untrained = [score_control(c, benchmark, trained.attrs["area"], config, folder=cache_folder, **kwargs)
                 for c in controls]
    return assemble(trained, base, untrained)


def assemble(trained: xr.Dataset, base: dict[str, xr.Dataset], untrained: list[xr.Dataset]) -> xr.Dataset:
    """The side-by-side Dataset from finished results (see :func:`side_by_side`)."""
    best = max(base, key=lambda b: base[b].attrs["overall_score"])
    versus = compare(trained, base[best])
    names = [str(trained.attrs["model"]), *base]
    scores = [_score(trained)] + [_score(ds) for ds in base.values()]
    spread = [_squeeze(trained["score_error"])] + [_squeeze(ds["score_error"]) for ds in base.values()]
    attrs = {"model": names[0], "benchmark": str(trained.attrs["benchmark"]), "area": str(trained.attrs["area"]),
             "best_baseline": best, "comparison": versus.attrs["test"], "level": versus.attrs["level"],
             **{f"overall_{k}": versus.attrs[f"overall_{k}"] for k in ("difference", "ci_low", "ci_high", "p_value")},
             "verdict": versus.attrs["verdict"], "n_untrained_seeds": len(untrained)}
    if untrained:
        stacked = np.stack([_score(ds) for ds in untrained])
        names.append(f"untrained ({len(untrained)} seeds)")
        scores.append(stacked.mean(0))
        spread.append(stacked.std(0, ddof=1) if len(untrained) > 1 else np.full(stacked.shape[1], np.nan))
        vs_untrained = compare(trained, seed_mean(untrained, names[-1]))
        attrs.update({f"untrained_{k}": vs_untrained.attrs[f"overall_{k}"]
                      for k in ("difference", "ci_low", "ci_high", "p_value")})
        attrs["untrained_overall_scores"] = [float(ds.attrs["overall_score"]) for ds in untrained]
    if "null_mean" in trained:
        names.append("image-shuffled")
        scores.append(_squeeze(trained["null_mean"]))
        spread.append(_squeeze(trained["null_sd"]))
        attrs["permutation_p_value"] = float(trained.attrs["permutation_p_value"])
    p = _squeeze(trained["p_value"]) if "p_value" in trained else np.full(len(scores[0]), np.nan)
    return xr.Dataset(
        {"score": (("row", "time_bin"), np.stack(scores)), "score_sd": (("row", "time_bin"), np.stack(spread)),
         "p_value": (("time_bin",), p),
         "difference": (("time_bin",), versus["difference"].values),
         "ci_low": (("time_bin",), versus["ci_low"].values), "ci_high": (("time_bin",), versus["ci_high"].values),
         "difference_p_value": (("time_bin",), versus["p_value"].values),
         "difference_p_value_holm": (("time_bin",), versus["p_value_holm"].values)},
        coords={"row": names, "time_bin_start": ("time_bin", versus["time_bin_start"].values),
                "time_bin_end": ("time_bin", versus["time_bin_end"].values)},
        attrs=attrs)


def _squeeze(da: xr.DataArray) -> np.ndarray:
    return da.squeeze("region", drop=True).values if "region" in da.dims else da.values


def format_side_by_side(table: xr.Dataset) -> str:
    """Plain-text table: one line per bin and the mean; a column per row and the difference."""
    t = table
    rows = [str(r) for r in t["row"].values]
    width = max(12, *(len(r) for r in rows))
    diff = f"model - {t.attrs['best_baseline']}"
    head = f"{'bin (ms)':>12} " + " ".join(f"{r:>{width}}" for r in rows) + f" {'p (adj.)':>9} {diff:>22} {'95 % CI':>18} {'p (Holm)':>9}"
    lines = [f"{t.attrs['model']} ({t.attrs['area']}) on {t.attrs['benchmark']}: score r (median over neuroids, "
             "mean over splits) ± s.e. over splits; untrained ± s.d. over seeds; image-shuffled ± s.d. of the null",
             head]
    for k in range(t.sizes["time_bin"]):
        cells = " ".join(f"{_cell(t.score.values[i, k], t.score_sd.values[i, k]):>{width}}" for i in range(len(rows)))
        lines.append(f"{t.time_bin_start.values[k]:5.0f}-{t.time_bin_end.values[k]:<6.0f} {cells} "
                     f"{float(t.p_value[k]):9.3g} {float(t.difference[k]):22.3f} "
                     f"[{float(t.ci_low[k]):7.3f}, {float(t.ci_high[k]):7.3f}] {float(t.difference_p_value_holm[k]):9.3g}")
    means = " ".join(f"{np.nanmean(t.score.values[i]):>{width}.3f}" for i in range(len(rows)))
    lines.append(f"{'mean':>12} {means} {t.attrs.get('permutation_p_value', np.nan):9.3g} "
                 f"{t.attrs['overall_difference']:22.3f} [{t.attrs['overall_ci_low']:7.3f}, "
                 f"{t.attrs['overall_ci_high']:7.3f}] {t.attrs['overall_p_value']:9.3g}")
    lines.append(f"model - best baseline ({t.attrs['best_baseline']}): {t.attrs['verdict']} "
                 f"({t.attrs['comparison']}; p (adj.): image permutation p, max-statistic adjusted over bins)")
    if "untrained_difference" in t.attrs:
        lines.append(f"model - untrained (seed-mean r): {t.attrs['untrained_difference']:.3f} "
                     f"[{t.attrs['untrained_ci_low']:.3f}, {t.attrs['untrained_ci_high']:.3f}], "
                     f"p = {t.attrs['untrained_p_value']:.3g}")
    return "\n".join(lines)


def _cell(value: float, spread: float) -> str:
    return f"{value:.3f}" if not np.isfinite(spread) else f"{value:.3f} ± {spread:.3f}"
