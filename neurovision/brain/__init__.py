"""Brain-Score model interface, time alignment, metrics, ceilings, controls, statistics.

Public names are imported on first use (``from neurovision.brain import score_model``)."""
from .._lazy import lazy_names

_PUBLIC = {
    "ScoreConfig": "scoring",
    "TemporalBenchmark": "benchmark",
    "TwoTimescaleModel": "synthetic",
    "format_table": "results",
    "load_results": "results",
    "planted_benchmark": "synthetic",
    "plot_results": "figure",
    "save_results": "results",
    "score_activity": "scoring",
    "score_model": "scoring",
}
__all__ = sorted(_PUBLIC)
__getattr__ = lazy_names(__name__, _PUBLIC)
