"""Build the ``cowley2023.V4`` benchmark from the files in ``data/`` (see data/PROVENANCE.md)."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from neurovision.brain.benchmark import TemporalBenchmark
from neurovision.brain.recordings import make_recording
from neurovision.data.images import to_tensor
from neurovision.errors import CorruptFileError

DATA = Path(__file__).resolve().parent / "data"
SESSION = "210325"
#: spike-count window (ms after image onset); the original readme leaves it unstated
WINDOW = (50.0, 150.0)
VISUAL_DEGREES = 11.2
STIMULUS_MS = 100.0
BIBTEX = """@article{cowley2023compact,
  title={Compact deep neural network models of visual cortex},
  author={Cowley, Benjamin R and Stan, Patricia L and Pillow, Jonathan W and Smith, Matthew A},
  journal={bioRxiv},
  pages={2023.11.22.568315},
  year={2023}}"""


def stimulus_id(index: int) -> str:
    """Stimulus id of 0-based image ``index`` (the zip member name without suffix)."""
    return f"image{index + 1:04d}"


def load_images(folder: Path = DATA, session: str = SESSION):
    """Images (640, 3, 112, 112) in [0, 1] and their stimulus ids, read from the zip."""
    path = folder / f"images_{session}.zip"
    try:
        with zipfile.ZipFile(path) as archive:
            members = {name.split("/")[-1]: name for name in archive.namelist() if name.endswith(".jpg")}
            ids = sorted(n[:-4] for n in members)
            arrays = [np.asarray(Image.open(io.BytesIO(archive.read(members[f"{i}.jpg"]))).convert("RGB"))
                      for i in ids]
    except (OSError, zipfile.BadZipFile, KeyError) as exc:
        raise CorruptFileError(f"cannot read the Cowley images {path}: {exc}") from exc
    return to_tensor(np.stack(arrays)), ids


def load_recording(folder: Path = DATA, session: str = SESSION):
    """Trials (image x repeat, neuron, 1 bin) of spike counts; missing repeats are dropped."""
    counts = np.load(folder / f"responses_{session}.npy", allow_pickle=False)
    n_neurons, n_images, n_repeats = counts.shape
    shown = ~np.isnan(counts).any(axis=0)  # (image, repeat), the same for every neuron
    image, repeat = np.nonzero(shown)
    values = counts[:, image, repeat].T[:, :, None]
    return make_recording(
        values,
        stimulus_ids=[stimulus_id(i) for i in image],
        neuroid_ids=[f"cowley{session}.{n:02d}" for n in range(n_neurons)],
        bins=[WINDOW],
        region="V4",
        repetition=repeat,
        attrs={"units": "spikes per 100 ms", "session": session},
    )


def cowley_v4() -> TemporalBenchmark:
    return TemporalBenchmark(
        identifier="cowley2023.V4",
        region="V4",
        recording=load_recording(),
        load_stimuli=load_images,
        visual_degrees=VISUAL_DEGREES,
        stimulus_ms=STIMULUS_MS,
        stratify=None,
        description="Macaque V4 (50 neurons) spike counts 50-150 ms after onset of 640 natural "
                    "images, 6-10 repeats (Cowley et al. 2023, session 210325)",
        bibtex=BIBTEX,
    )
