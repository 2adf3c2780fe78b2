"""Any recording as a benchmark: a NetCDF assembly plus a folder of the images shown.

The assembly is ``presentation x neuroid`` or ``presentation x neuroid x time_bin`` (brainio's
NetCDF layout, MultiIndex coordinates flattened or not) with these coordinates:

* ``stimulus_id`` on ``presentation`` (required) and ``repetition`` when stimuli repeat
  (trials; the split-half ceiling needs it; without it the responses are taken as averages);
* ``neuroid_id`` on ``neuroid`` (required) and ``region`` (or pass ``region=``);
* ``time_bin_start``/``time_bin_end`` in ms after onset, on ``time_bin`` or as scalars for one
  bin (or pass ``window=(start, end)``).

Images are found by file name: ``<stimulus_id>.<suffix>`` anywhere under ``image_folder``.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from ..data.images import IMAGE_SUFFIXES
from ..errors import DataError
from .benchmark import TemporalBenchmark

REQUIRED = {"presentation": ("stimulus_id",), "neuroid": ("neuroid_id",)}


def find_images(folder: str | os.PathLike, stimulus_ids) -> list[Path]:
    """The image file of every stimulus id (file stem == id, any sub-folder), in id order.

    Raises :class:`DataError` naming stimulus ids without an image or with several.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"image folder {folder} does not exist")
    files: dict[str, list[Path]] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            files.setdefault(path.stem, []).append(path)
    missing = [s for s in stimulus_ids if s not in files]
    if missing:
        raise DataError(
            f"{len(missing)} stimuli have no image in {folder}, e.g. stimulus_id {missing[0]!r}"
            f"{' and ' + repr(missing[1:4]) if len(missing) > 1 else ''}; images must be named "
            f"<stimulus_id>{{{','.join(IMAGE_SUFFIXES)}}} (any sub-folder)"
        )
    doubled = [s for s in stimulus_ids if len(files[s]) > 1]
    if doubled:
        raise DataError(f"stimulus_id {doubled[0]!r} matches several images: {files[doubled[0]][:3]}")
    return [files[s][0] for s in stimulus_ids]


def _open(assembly) -> xr.DataArray:
    if isinstance(assembly, xr.DataArray):
        return assembly
    path = Path(assembly)
    if not path.is_file():
        raise DataError(f"no such assembly file: {path}")
    try:
        with xr.open_dataarray(path) as opened:
            return opened.load()
    except Exception as exc:
        raise DataError(f"cannot read {path} as a NetCDF assembly ({type(exc).__name__}: {exc}); "
                        "write it with DataArray.to_netcdf (one data variable)") from exc


def _check_layout(data: xr.DataArray, region: str | None, window) -> None:
    names = set(data.coords) | {level for index in data.indexes.values() for level in (index.names or [])}
    dims = set(data.dims)
    if not {"presentation", "neuroid"} <= dims or not dims <= {"presentation", "neuroid", "time_bin"}:
        raise DataError(f"the assembly's dims are {data.dims}; expected presentation x neuroid "
                        "[x time_bin]")
    missing = [f"{c} (on {d})" for d, cs in REQUIRED.items() for c in cs if c not in names]
    if region is None and "region" not in names:
        missing.append("region (on neuroid), or pass region=")
    if window is None and "time_bin_start" not in names:
        missing.append("time_bin_start and time_bin_end (ms after onset), or pass window=(start, end)")
    if missing:
        raise DataError(
            f"the assembly lacks required coordinates: {', '.join(missing)}. Required: stimulus_id on "
            "presentation (plus repetition when stimuli repeat), neuroid_id and region on neuroid, "
            f"time_bin_start/time_bin_end; it has {sorted(names)}"
        )


def recording_from_assembly(assembly, region: str | None = None, window=None) -> xr.DataArray:
    """A recording (see :mod:`neurovision.brain.recordings`) from a NetCDF path or DataArray."""
    from ..data.neural import assembly_to_recording
    from .recordings import check_recording

    data = _open(assembly)
    _check_layout(data, region, window)
    if window is not None and "time_bin" not in data.dims:
        data = data.assign_coords(time_bin_start=float(window[0]), time_bin_end=float(window[1]))
    if "region" not in data.coords and not any("region" in (i.names or []) for i in data.indexes.values()):
        data = data.assign_coords(region=("neuroid", np.full(data.sizes["neuroid"], region)))
    recording = assembly_to_recording(data, region)
    recording["stimulus_id"] = recording["stimulus_id"].astype(str)
    check_recording(recording)
    return recording


def benchmark_from_assembly(assembly, image_folder: str | os.PathLike, identifier: str, *,
                            region: str | None = None, visual_degrees: float = 8.0,
                            stimulus_ms: float = 100.0, window=None, stratify: str | None = "auto",
                            description: str = "", bibtex: str = "") -> TemporalBenchmark:
    """A :class:`TemporalBenchmark` from an assembly and its images (see the module doc).

    ``region``: the neuroids' region (required when the assembly has several or none);
    ``stratify``: presentation coordinate for stratified splits, ``"auto"`` = ``object_name``
    when present, None for plain shuffle splits (brainscore's choice for each case).
    """
    from ..data.neural import load_image_files

    recording = recording_from_assembly(assembly, region, window)
    regions = sorted(set(recording["region"].values.tolist()))
    if region is None and len(regions) > 1:
        raise DataError(f"the assembly holds regions {regions}; pass region= to choose one")
    if stratify == "auto":
        stratify = "object_name" if "object_name" in recording.coords else None
    ids = sorted(set(recording["stimulus_id"].values.tolist()))
    paths = find_images(image_folder, ids)  # fail now, not when scoring

    def load_stimuli():
        return load_image_files(paths), ids

    return TemporalBenchmark(identifier=identifier, region=regions[0] if region is None else region,
                             recording=recording, load_stimuli=load_stimuli,
                             visual_degrees=float(visual_degrees), stimulus_ms=float(stimulus_ms),
                             stratify=stratify, description=description, bibtex=bibtex,
                             meta={"image_folder": str(image_folder)})
