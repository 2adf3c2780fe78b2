"""Plain-language notes under a score table: what a result cannot say and why."""
from __future__ import annotations

import numpy as np
import xarray as xr


def notes(results: xr.Dataset) -> list[str]:
    """One line per caveat of ``results`` (a scoring Dataset); empty when there is none."""
    lines = []
    if "ceiling" in results and not np.isfinite(results["ceiling"].values).any():
        lines.append("note: no ceiling - the recording has a single repeat per stimulus (no split-half "
                     "reliability), so the scores above are raw Pearson r, not normalised")
    if results.attrs.get("time_course") == "flat":
        lines.append(f"note: {results.attrs.get('model', 'the model')} is static (no time bins of its own): "
                     "the same activity stands for every bin, so its time course is flat by construction")
    return lines


def table_with_notes(table: str, results: xr.Dataset) -> str:
    """``table`` followed by :func:`notes` of ``results``."""
    return "\n".join([table, *notes(results)])
