"""Sweeps: many independent scoring jobs on a Dask distributed cluster, cached and resumable."""
