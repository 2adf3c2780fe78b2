"""Score a baseline or an untrained control on a benchmark, its recorded activity cached."""
from __future__ import annotations

import os

import xarray as xr

from ...brain.benchmark import TemporalBenchmark
from ...errors import DataError
from ...registry import load_benchmark, load_model
from .static import as_time_stepped
from .untrained import UntrainedControl


def image_benchmark(benchmark) -> TemporalBenchmark:
    """``benchmark`` (id or object) if image-computable baselines apply to it; DataError saying why not."""
    if isinstance(benchmark, str):
        benchmark = load_benchmark(benchmark)
    if not isinstance(benchmark, TemporalBenchmark):
        name = getattr(benchmark, "identifier", repr(benchmark))
        raise DataError(
            f"baselines do not apply to {name}: it holds neural responses without the images shown "
            f"to the animal ({type(benchmark).__name__}: labels are decoded from the neurons), so "
            "there is nothing to show a pixel, Gabor or untrained model and no model score to "
            "compare them with. Baselines apply to benchmarks with images, e.g. cowley2023.V4"
        )
    return benchmark


def score_control(control, benchmark, area: str | None = None, config=None, *,
                  cache: bool = True, folder: str | os.PathLike | None = None, **kwargs) -> xr.Dataset:
    """Score ``control`` (a baseline id or an :class:`UntrainedControl`) on ``benchmark``.

    The recorded activity is cached per benchmark (see :mod:`neurovision.brain.activity_cache`,
    ``folder`` overrides the cache folder) unless ``cache`` is false; ``kwargs`` go to
    :func:`~neurovision.brain.scoring.score_model`. The result's ``model`` attribute is the
    control's id (``<model>.untrained-seed<k>`` for untrained controls).
    """
    from ...brain.activity_cache import cached_recorder
    from ...brain.scoring import score_model

    benchmark = image_benchmark(benchmark)
    if isinstance(control, UntrainedControl):
        model, model_id, seed = as_time_stepped(control()), control.identifier, control.seed
        extra = {"architecture": control.architecture, "overrides": control.overrides}
    else:
        model, model_id, seed, extra = load_model(control), control, None, {}
    record_fn = cached_recorder(model_id, seed, folder=folder, extra=extra) if cache else None
    results = score_model(model, benchmark, area, config, record_fn=record_fn, **kwargs)
    results.attrs["model"] = model_id
    return results
