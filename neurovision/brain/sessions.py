"""Several recording sessions as one benchmark: each scored on its own, scores averaged.

Sessions with different images and neurons cannot be pooled into one regression, so (as
brainscore-vision's ``Cowley2026.V4-pls``) a model is scored on every session and the overall
score is the mean over sessions of each session's time-averaged score (raw r, ceiling and
normalised score alike).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..errors import DataError
from .benchmark import TemporalBenchmark


@dataclass
class CombinedBenchmark:
    """``parts``: one :class:`TemporalBenchmark` per session, all of ``region``."""

    identifier: str
    region: str
    parts: list[TemporalBenchmark]

    def __post_init__(self):
        if not self.parts:
            raise DataError(f"benchmark {self.identifier} combines no sessions")
        regions = {p.region for p in self.parts}
        if regions != {self.region}:
            raise DataError(f"sessions of {self.identifier} record regions {sorted(regions)}, not {self.region}")

    @property
    def time_bins(self):
        return self.parts[0].time_bins

    def with_time_bins(self, bins) -> "CombinedBenchmark":
        return CombinedBenchmark(self.identifier, self.region, [p.with_time_bins(bins) for p in self.parts])


SUMMARY = ("score", "score_error", "ceiling", "normalized_score")


def combine_sessions(identifier: str, results: list[xr.Dataset]) -> xr.Dataset:
    """Per-session summaries (session x time_bin) and their means as ``overall_*`` attributes."""
    names = [r.attrs["benchmark"] for r in results]
    parts = []
    for result in results:
        ds = result.squeeze("region", drop=True)[list(SUMMARY)]
        ds = ds.reset_coords(drop=True).assign_coords(time_bin=np.arange(ds.sizes["time_bin"]))
        parts.append(ds)
    combined = xr.concat(parts, dim="session").assign_coords(
        session=names, time_bin_start=("time_bin", results[0]["time_bin_start"].values),
        time_bin_end=("time_bin", results[0]["time_bin_end"].values))
    for key in ("overall_score", "overall_ceiling", "overall_normalized_score"):
        combined[f"session_{key}"] = ("session", [float(r.attrs[key]) for r in results])
        values = combined[f"session_{key}"].values
        combined.attrs[key] = float(np.mean(values)) if np.isfinite(values).all() else float("nan")
    first = results[0].attrs
    combined.attrs.update(benchmark=identifier, model=first.get("model", ""), area=first.get("area", ""),
                          sessions=",".join(names), combination="mean over sessions of each session's score")
    return combined


def score_sessions(model, benchmark: CombinedBenchmark, area=None, config=None, **kwargs) -> xr.Dataset:
    """Score ``model`` on every session of ``benchmark``; see :func:`combine_sessions`.

    ``model``: a registered id or a model (built once); other arguments as
    :func:`neurovision.brain.scoring.score_model`.
    """
    from .scoring import resolve_model, score_model

    instance, model_id = resolve_model(model)
    results = []
    for part in benchmark.parts:
        result = score_model(instance, part, area, config, **kwargs)
        results.append(result.assign_attrs(model=model_id))
    return combine_sessions(benchmark.identifier, results)


def format_sessions(results: xr.Dataset) -> str:
    """Table: one row per session (time-averaged), then the mean over sessions."""
    lines = [f"{results.attrs['benchmark']} <- area {results.attrs.get('area', '?')} of "
             f"{results.attrs.get('model', '?')}: {results.sizes['session']} sessions, scored separately",
             f"{'session':>24} {'score':>8} {'ceiling':>8} {'norm.':>7}"]
    for i, name in enumerate(results["session"].values):
        lines.append(f"{name:>24} {float(results.session_overall_score[i]):8.3f} "
                     f"{float(results.session_overall_ceiling[i]):8.3f} "
                     f"{float(results.session_overall_normalized_score[i]):7.3f}")
    lines.append(f"{'mean over sessions':>24} {results.attrs['overall_score']:8.3f} "
                 f"{results.attrs['overall_ceiling']:8.3f} {results.attrs['overall_normalized_score']:7.3f}")
    return "\n".join(lines)
