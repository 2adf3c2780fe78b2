"""Sweeps: many independent scoring or training jobs on a Dask distributed cluster, cached under
a hash of job, configuration and code version, retried and resumable.

Public names are imported on first use (``from neurovision.sweeps import plan, run_jobs``).
"""
from .._lazy import lazy_names

_PUBLIC = {
    "Job": "jobs",
    "ResultCache": "cache",
    "RunFolderCache": "cache",
    "SweepReport": "engine",
    "TrainJob": "jobs",
    "accuracy_table": "merge",
    "connect": "engine",
    "plan": "jobs",
    "plan_training": "jobs",
    "run_jobs": "engine",
}
__all__ = sorted(_PUBLIC)
__getattr__ = lazy_names(__name__, _PUBLIC)
