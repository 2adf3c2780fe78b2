"""neurovision: continuous-time models of the visual system, scored against the brain over time.

The public API (heavy parts are imported on first use, so ``import neurovision`` stays instant):

* ``load_model(id)``, ``load_task(id)``, ``load_benchmark(id)``: registered plugins;
* ``Schedule``, ``record``, ``load_activity``: run a model under a schedule of epochs (ms) and
  record binned activity (``presentation x neuroid x time_bin``), read it back from NetCDF;
* ``score(model, benchmark)``: time-resolved scores against neural recordings;
* ``train(task, out)``: train a multi-area back-end on a cognitive task;
* ``seed_everything(seed)``: seed torch, numpy and Python for a reproducible run.
"""
from ._lazy import lazy_names
from .registry import (
    add_plugin_folder,
    benchmark_registry,
    load_benchmark,
    load_model,
    load_task,
    model_registry,
    task_registry,
)

__version__ = "0.1.0"

#: public name -> module that defines it (imported on first access)
_LAZY = {"Schedule": "dynamics", "record": "dynamics", "load_activity": "dynamics", "score": "api",
         "train": "api", "seed_everything": "seeding"}

__all__ = [
    "Schedule", "add_plugin_folder", "benchmark_registry", "load_activity", "load_benchmark",
    "load_model", "load_task", "model_registry", "record", "score", "seed_everything",
    "task_registry", "train",
    "__version__",
]

__getattr__ = lazy_names(__name__, _LAZY)
