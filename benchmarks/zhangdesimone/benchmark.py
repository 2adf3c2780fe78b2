"""Build ``zhangdesimone.IT``: a pseudo-population of IT units, object identity decoded over time."""
from __future__ import annotations

from pathlib import Path

from neurovision.brain.decoding import DecodingBenchmark, pseudo_population
from neurovision.data.neural import read_raster_rda
from neurovision.data.paths import data_path
from neurovision.dynamics.schedule import parse_time_bins
from neurovision.errors import DataError

#: 50-ms bins over the whole raster: 500 ms of fixation, then 500 ms with the object on screen
BINS = "-500:500:50"
BIBTEX = """@article{zhang2011object,
  title={Object decoding with attention in inferior temporal cortex},
  author={Zhang, Ying and Meyers, Ethan M and Bichot, Narcisse P and Serre, Thomas and Poggio, Tomaso A
          and Desimone, Robert},
  journal={Proceedings of the National Academy of Sciences}, volume={108}, number={21},
  pages={8850--8855}, year={2011}}"""


def raster_files(folder: Path | None = None) -> list[Path]:
    """The unit raster files (``*_raster_data.rda``), sorted by name."""
    folder = Path(folder) if folder else data_path("zhang-desimone-it", "rasters")
    files = sorted(folder.glob("*_raster_data.rda"))
    if not files:
        raise DataError(f"no *_raster_data.rda files in {folder}")
    return files


def load_units(folder: Path | None = None, limit: int | None = None) -> list[dict]:
    """Rasters and labels of every unit (or the first ``limit``), named after their files."""
    units = []
    for path in raster_files(folder)[:limit]:
        unit = read_raster_rda(path)
        unit["name"] = path.name.replace("_raster_data.rda", "")
        units.append(unit)
    return units


def zhang_desimone_it(bins=BINS, folder: Path | None = None, limit: int | None = None,
                      seed: int = 0) -> DecodingBenchmark:
    """Pseudo-population of the IT units (object x position labels), decoding ``object_name``."""
    units = load_units(folder, limit)
    for unit in units:
        unit["labels"]["object_name"] = unit["labels"].pop("stimulus_ID")
        unit["labels"]["position"] = unit["labels"].pop("stimulus_position")
    recording = pseudo_population(units, "combined_ID_position", parse_time_bins(bins), seed=seed,
                                  extra_labels=("object_name", "position"))
    return DecodingBenchmark(
        "zhangdesimone.IT", recording, "object_name", bibtex=BIBTEX,
        description=f"{len(units)} macaque IT units, 7 objects at 3 positions, spike counts in "
                    f"{bins} ms bins around onset (Zhang et al. 2011, NeuroDecodeR rasters)")
