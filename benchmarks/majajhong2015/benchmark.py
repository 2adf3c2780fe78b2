"""Build ``majajhong2015.{V4,IT}-temporal`` from brainscore-vision or from local files."""
from __future__ import annotations

import os
from pathlib import Path

from neurovision.brain.benchmark import TemporalBenchmark
from neurovision.data.images import IMAGE_SUFFIXES
from neurovision.data.neural import assembly_to_recording, load_assembly_netcdf, load_image_files
from neurovision.errors import DataError

VISUAL_DEGREES = 8.0
STIMULUS_MS = 100.0
BIN_MS = 10
BIBTEX = """@article{majaj2015simple,
  title={Simple learned weighted sums of inferior temporal neuronal firing rates accurately predict
         human core object recognition performance},
  author={Majaj, Najib J and Hong, Ha and Solomon, Ethan A and DiCarlo, James J},
  journal={Journal of Neuroscience}, volume={35}, number={39}, pages={13402--13418}, year={2015}}"""


def temporal_benchmark(region: str, recording, load_stimuli) -> TemporalBenchmark:
    """The benchmark of ``region`` from repetition-level ``recording`` and an image loader."""
    if region not in ("V4", "IT"):
        raise DataError(f"MajajHong2015 recorded V4 and IT, not {region!r}")
    return TemporalBenchmark(
        identifier=f"majajhong2015.{region}-temporal", region=region, recording=recording,
        load_stimuli=load_stimuli, visual_degrees=VISUAL_DEGREES, stimulus_ms=STIMULUS_MS,
        stratify="object_name", bibtex=BIBTEX,
        description=f"Macaque {region} multi-unit responses to 3,200 HvM images (100 ms), "
                    f"{BIN_MS}-ms bins (Majaj, Hong et al. 2015, Brain-Score public set)")


def from_brainscore(region: str) -> TemporalBenchmark:
    """Load the public temporal assembly and HvM stimuli through brainscore-vision (downloads)."""
    try:
        from brainscore_vision.benchmarks.majajhong2015.benchmark import load_assembly
    except ImportError as exc:
        raise DataError("MajajHong2015 loads through brainscore-vision: "
                        "`pip install neurovision-ct[brainscore]`") from exc
    try:
        assembly = load_assembly(average_repetitions=False, region=region, access="public",
                                 time_interval=BIN_MS)
    except Exception as exc:
        raise DataError(
            f"cannot load MajajHong2015.temporal.public through brainscore-vision: "
            f"{type(exc).__name__}: {str(exc)[:200]}. It is downloaded from Brain-Score's S3 storage, "
            "which needs internet access; offline, build the benchmark from a local NetCDF assembly "
            "and image folder with benchmarks/majajhong2015/benchmark.py:from_local"
        ) from exc
    stimulus_set = assembly.stimulus_set
    recording = assembly_to_recording(assembly, region)

    def load_stimuli():
        ids = [str(s) for s in stimulus_set["stimulus_id"].values]
        return load_image_files([stimulus_set.get_stimulus(s) for s in ids]), ids

    return temporal_benchmark(region, recording, load_stimuli)


def from_local(assembly_path: str | os.PathLike, image_folder: str | os.PathLike, region: str) -> TemporalBenchmark:
    """The benchmark from a NetCDF assembly with MajajHong2015's coordinates and a folder of
    images named ``<stimulus_id>.<suffix>``."""
    recording = load_assembly_netcdf(assembly_path, region)
    folder = Path(image_folder)

    def load_stimuli():
        files = {p.stem: p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES}
        ids = sorted(set(recording["stimulus_id"].values) & set(files))
        if not ids:
            raise DataError(f"no image in {folder} is named after a stimulus_id of {assembly_path}")
        return load_image_files([files[s] for s in ids]), ids

    return temporal_benchmark(region, recording, load_stimuli)
