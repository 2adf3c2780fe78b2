"""Control targets: neural data with their time or image structure destroyed.

* ``temporal``: the time bins of the neural data are permuted (one random permutation, never
  the identity, applied to every stimulus and neuroid); image-by-image structure within each
  bin is intact, so only the correspondence of model time and neural time is broken.
* ``image``: the stimuli of the neural data are permuted (same permutation in every bin), which
  breaks the correspondence of images and responses.

Controls are fitted on the *same* model activity with the *same* splits as the real data.
"""
from __future__ import annotations

import numpy as np

CONTROLS = ("temporal", "image")


def _derangement(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random permutation of ``range(n)`` that is not the identity (n >= 2)."""
    while True:
        perm = rng.permutation(n)
        if not np.array_equal(perm, np.arange(n)):
            return perm


def applicable(control: str, target: np.ndarray) -> bool:
    """Whether ``control`` changes ``target`` (presentation, time_bin, neuroid) at all."""
    if control not in CONTROLS:
        raise ValueError(f"unknown control {control!r}; choose from {CONTROLS}")
    return target.shape[1 if control == "temporal" else 0] > 1


def shuffled(control: str, target: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A copy of ``target`` (presentation, time_bin, neuroid) with ``control``'s shuffle applied."""
    if not applicable(control, target):
        raise ValueError(f"the {control} control needs more than one "
                         f"{'time bin' if control == 'temporal' else 'stimulus'}")
    if control == "temporal":
        return target[:, _derangement(target.shape[1], rng)]
    return target[_derangement(target.shape[0], rng)]
