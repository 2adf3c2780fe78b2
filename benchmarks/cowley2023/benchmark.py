"""Build ``cowley2023.V4`` from any session of the Cowley et al. 2023 release (see data/PROVENANCE.md).

A session folder holds, per session ID, ``responses_<ID>.npy`` (neurons x images x repeats,
NaN-padded repeats; or neurons x images, already averaged) and ``images_<ID>.zip`` (image
``i``, 0-based, is the member named ``image%04d`` % (i + 1), any sub-folder, any image suffix).
Several sessions are scored separately and their scores averaged, as brainscore-vision's
``Cowley2026.V4-pls`` does (:class:`neurovision.brain.sessions.CombinedBenchmark`).
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from neurovision.brain.benchmark import TemporalBenchmark
from neurovision.brain.recordings import make_recording
from neurovision.brain.sessions import CombinedBenchmark
from neurovision.data.images import IMAGE_SUFFIXES
from neurovision.errors import CorruptFileError, DataError

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


def session_files(folder: Path, session: str) -> tuple[Path, Path]:
    """``(responses, images)`` paths of ``session``; DataError naming a missing file."""
    folder = Path(folder)
    paths = (folder / f"responses_{session}.npy", folder / f"images_{session}.zip")
    for path in paths:
        if not path.is_file():
            found = sorted(p.name[len("responses_"):-4] for p in folder.glob("responses_*.npy"))
            raise DataError(
                f"session {session!r}: expected file {path.name} in {folder}, which is missing. A "
                f"session needs responses_<ID>.npy and images_<ID>.zip; sessions here: {found or 'none'}"
            )
    return paths


def image_members(archive: zipfile.ZipFile, session: str, n_images: int | None = None) -> dict[str, str]:
    """Stimulus id -> zip member, matched by file name (any sub-folder, any image suffix).

    ``n_images``: how many images the responses hold; DataError naming a stimulus without an
    image or an image without responses.
    """
    members = {}
    for name in archive.namelist():
        member = PurePosixPath(name)
        if member.suffix.lower() in IMAGE_SUFFIXES and not member.name.startswith("."):
            members[member.stem] = name
    if n_images is None:
        return dict(sorted(members.items()))
    wanted = [stimulus_id(i) for i in range(n_images)]
    missing = [s for s in wanted if s not in members]
    extra = sorted(set(members) - set(wanted))
    if missing or extra:
        which = (f"stimulus {missing[0]!r} (response index {wanted.index(missing[0])}) has no image"
                 if missing else f"image {extra[0]!r} has no responses")
        raise DataError(
            f"session {session}: the responses hold {n_images} images but images_{session}.zip has "
            f"{len(members)}; {which}. Image i (0-based) must be named image%04d % (i + 1)")
    return {s: members[s] for s in wanted}


def _open_zip(folder: Path, session: str) -> zipfile.ZipFile:
    path = session_files(folder, session)[1]
    try:
        return zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise CorruptFileError(f"cannot read the Cowley images {path}: {exc}") from exc


def load_images(folder: Path = DATA, session: str = SESSION, n_images: int | None = None):
    """uint8 RGB images (N, H, W, 3), as stored (a quarter of float32's memory), and their
    stimulus ids (see :func:`image_members`)."""
    with _open_zip(folder, session) as archive:
        members = image_members(archive, session, n_images)
        try:
            arrays = [np.asarray(Image.open(io.BytesIO(archive.read(m))).convert("RGB"))
                      for m in members.values()]
        except (OSError, zipfile.BadZipFile) as exc:
            raise CorruptFileError(f"cannot read the Cowley images of session {session}: {exc}") from exc
    return np.stack(arrays), list(members)


def load_recording(folder: Path = DATA, session: str = SESSION):
    """Trials (image x repeat, neuron, 1 bin) of spike counts; missing repeats are dropped.

    A single repeat (neurons x images, or a repeat axis of length 1) is taken as averaged
    responses: no ``repetition`` coordinate, hence no split-half ceiling.
    """
    path = session_files(folder, session)[0]
    try:
        counts = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise CorruptFileError(f"cannot read {path}: {exc}") from exc
    if counts.ndim == 2:
        counts = counts[:, :, None]
    if counts.ndim != 3:
        raise DataError(f"{path.name} has shape {counts.shape}; expected neurons x images x repeats "
                        "(or neurons x images)")
    n_neurons, n_images, n_repeats = counts.shape
    shown = ~np.isnan(counts).any(axis=0)  # (image, repeat), the same for every neuron
    image, repeat = np.nonzero(shown)
    return make_recording(
        counts[:, image, repeat].T[:, :, None],
        stimulus_ids=[stimulus_id(i) for i in image],
        neuroid_ids=[f"cowley{session}.{n:02d}" for n in range(n_neurons)],
        bins=[WINDOW], region="V4", repetition=repeat if n_repeats > 1 else None,
        attrs={"units": "spikes per 100 ms", "session": session},
    )


def session_benchmark(folder: Path = DATA, session: str = SESSION) -> TemporalBenchmark:
    """One session as a benchmark (the shipped 210325 by default)."""
    folder, session = Path(folder), str(session)
    recording = load_recording(folder, session)
    n_images = int(recording["stimulus_id"].to_series().nunique())
    with _open_zip(folder, session) as archive:
        image_members(archive, session, n_images)  # names a mismatch now, not when scoring
    repeats = "single repeat (no ceiling)" if "repetition" not in recording.coords else "repeats"
    return TemporalBenchmark(
        identifier="cowley2023.V4" if session == SESSION and folder == DATA else f"cowley2023.V4.{session}",
        region="V4", recording=recording,
        load_stimuli=lambda: load_images(folder, session, n_images),
        visual_degrees=VISUAL_DEGREES, stimulus_ms=STIMULUS_MS, stratify=None,
        description=f"Macaque V4 ({recording.sizes['neuroid']} neurons) spike counts 50-150 ms after "
                    f"onset of {n_images} natural images, {repeats} (Cowley et al. 2023, session {session})",
        bibtex=BIBTEX, meta={"session": session, "folder": str(folder)},
    )


def cowley_v4(folder=None, session=None):
    """The shipped session, any session in ``folder``, or several (a list or ``"a,b"``) combined."""
    folder = DATA if folder is None else Path(folder)
    sessions = session if session is not None else SESSION
    if isinstance(sessions, str):
        sessions = [s.strip() for s in sessions.split(",") if s.strip()]
    sessions = [str(s) for s in sessions]
    if not sessions:
        raise DataError("no session given; pass session='210325' or a list of session IDs")
    if len(sessions) == 1:
        return session_benchmark(folder, sessions[0])
    return CombinedBenchmark("cowley2023.V4[" + ",".join(sessions) + "]", "V4",
                             [session_benchmark(folder, s) for s in sessions])
