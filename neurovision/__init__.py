"""neurovision: continuous-time models of the visual system, scored against the brain over time."""
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

__all__ = [
    "add_plugin_folder",
    "benchmark_registry",
    "load_benchmark",
    "load_model",
    "load_task",
    "model_registry",
    "task_registry",
    "__version__",
]
