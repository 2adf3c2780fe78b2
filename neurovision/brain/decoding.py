"""Time-resolved decoding of stimulus labels from neural (or model) responses.

* :func:`pseudo_population`: units recorded in different sessions are combined into
  pseudo-trials: for every label, ``n_per_label`` of each unit's trials with that label are
  drawn at random and row ``k`` of the label joins the k-th draw of every unit.
* :func:`decode_over_time`: in every time bin, a maximum-correlation-coefficient classifier
  (z-score features with training statistics, one template per class = mean training
  pattern, predict the class whose template correlates best) is cross-validated over folds of
  pseudo-trial indices (every fold holds all labels equally). The shuffled-label control
  permutes the labels of the rows before decoding; its accuracy is at chance when the
  pipeline is sound, and its draws give a permutation p-value per bin.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import DataError
from .recordings import make_recording, time_bins
from .stats import permutation_p


def bin_counts(raster: np.ndarray, edges: np.ndarray, bins) -> np.ndarray:
    """Spike counts (trial, bin) of a (trial, time) raster whose columns span ``edges`` (ms)."""
    out = np.empty((raster.shape[0], len(bins)))
    for j, (start, end) in enumerate(bins):
        inside = (edges[:, 0] >= start - 1e-9) & (edges[:, 1] <= end + 1e-9)
        if not inside.any():
            raise DataError(f"time bin ({start:g}, {end:g}] ms lies outside the raster "
                            f"({edges[0, 0]:g} to {edges[-1, 1]:g} ms)")
        out[:, j] = raster[:, inside].sum(axis=1)
    return out


def pseudo_population(units: list[dict], label: str, bins, n_per_label: int | None = None,
                      seed: int = 0, region: str = "IT", extra_labels=()) -> xr.DataArray:
    """Recording (label x pseudo-trial, unit, time_bin) of spike counts from separate units.

    ``units``: dicts with ``raster`` (trial, time), ``times`` (time, 2) edges in ms, ``labels``
    {name: per-trial array} and ``name``. Rows carry ``stimulus_id`` = the label value,
    ``repetition`` = pseudo-trial index and the ``extra_labels`` (constant within a label).
    """
    rng = np.random.default_rng(seed)
    values = sorted(set(units[0]["labels"][label]))
    counts = [min(int(np.sum(u["labels"][label] == v)) for v in values) for u in units]
    n = min(counts) if n_per_label is None else n_per_label
    if n < 2 or n > min(counts):
        raise DataError(f"need 2 <= n_per_label <= {min(counts)} trials of every label in every unit, got {n}")
    data = np.empty((len(values) * n, len(units), len(bins)))
    for i, unit in enumerate(units):
        counts_per_bin = bin_counts(unit["raster"], unit["times"], bins)
        for j, value in enumerate(values):
            trials = rng.choice(np.flatnonzero(unit["labels"][label] == value), size=n, replace=False)
            data[j * n:(j + 1) * n, i] = counts_per_bin[trials]
    first = units[0]["labels"]
    extras = {name: np.repeat([first[name][first[label] == v][0] for v in values], n) for name in extra_labels}
    return make_recording(data, stimulus_ids=np.repeat(values, n), neuroid_ids=[u["name"] for u in units],
                          bins=bins, region=region, repetition=np.tile(np.arange(n), len(values)),
                          presentation_coords=extras, attrs={"units": "spikes per bin", "label": label})


def _max_correlation_accuracy(X: np.ndarray, y: np.ndarray, train, test) -> np.ndarray:
    """Accuracy per time bin of the max-correlation classifier; X (row, feature, bin)."""
    mean = X[train].mean(0)
    std = X[train].std(0)
    Z = (X - mean) / np.where(std > 0, std, 1.0)
    classes = np.unique(y[train])
    templates = np.stack([Z[train][y[train] == c].mean(0) for c in classes])  # (class, feature, bin)

    def centred(a):
        a = a - a.mean(axis=-2, keepdims=True)
        norm = np.sqrt((a**2).sum(axis=-2, keepdims=True))
        return a / np.where(norm > 0, norm, 1.0)

    corr = np.einsum("pft,cft->pct", centred(Z[test]), centred(templates))
    predicted = classes[corr.argmax(axis=1)]  # (test row, bin)
    return (predicted == y[test][:, None]).mean(axis=0)


def cross_validated_accuracy(X: np.ndarray, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Accuracy (fold, time_bin); ``folds`` gives each row's fold number."""
    return np.stack([_max_correlation_accuracy(X, y, folds != k, folds == k) for k in np.unique(folds)])


def decode_over_time(recording: xr.DataArray, label: str = "stimulus_id", n_folds: int = 5,
                     n_shuffles: int = 20, seed: int = 0) -> xr.Dataset:
    """Decoding accuracy of ``label`` per time bin with a shuffled-label control.

    Folds group rows by their ``repetition`` (pseudo-trial index), so every fold holds every
    label. Returns a Dataset with ``accuracy``/``accuracy_error`` (mean, s.e.m. over folds),
    ``control_accuracy`` and ``null_accuracy`` (shuffle draws), ``p_value`` per bin and the
    ``chance`` level (1 / number of labels) as an attribute.
    """
    if label not in recording.coords:
        raise DataError(f"the recording has no {label!r} coordinate to decode")
    if "repetition" not in recording.coords:
        raise DataError("decoding folds need a 'repetition' coordinate (pseudo-trial index)")
    rng = np.random.default_rng(seed)
    X, y = recording.values, recording[label].values
    repetitions = np.unique(recording["repetition"].values)
    if len(repetitions) < n_folds:
        raise DataError(f"{len(repetitions)} trials per label are too few for {n_folds} folds")
    fold_of = dict(zip(rng.permutation(repetitions), np.arange(len(repetitions)) % n_folds))
    folds = np.array([fold_of[r] for r in recording["repetition"].values])
    per_fold = cross_validated_accuracy(X, y, folds)
    accuracy = per_fold.mean(0)
    null = np.stack([cross_validated_accuracy(X, rng.permutation(y), folds).mean(0) for _ in range(n_shuffles)]) \
        if n_shuffles else np.full((0, X.shape[2]), np.nan)
    bins = time_bins(recording)
    return xr.Dataset(
        {
            "accuracy": ("time_bin", accuracy),
            "accuracy_error": ("time_bin", per_fold.std(0) / np.sqrt(len(per_fold))),
            "control_accuracy": ("time_bin", null.mean(0) if n_shuffles else np.full(len(bins), np.nan)),
            "null_accuracy": (("shuffle", "time_bin"), null),
            "p_value": ("time_bin", np.array([permutation_p(a, null[:, t]) if n_shuffles else np.nan
                                               for t, a in enumerate(accuracy)])),
        },
        coords={"time_bin_start": ("time_bin", [b[0] for b in bins]),
                "time_bin_end": ("time_bin", [b[1] for b in bins])},
        attrs={"label": label, "chance": 1.0 / len(np.unique(y)), "n_folds": n_folds,
               "n_shuffles": n_shuffles, "n_neuroids": int(X.shape[1]), "seed": seed,
               "classifier": "maximum correlation coefficient (z-scored features)"},
    )


class DecodingBenchmark:
    """Neural responses over time whose labels are decoded (no images, so no model scoring)."""

    def __init__(self, identifier: str, recording: xr.DataArray, label: str, description: str = "",
                 bibtex: str = ""):
        if label not in recording.coords:
            raise DataError(f"benchmark {identifier}: no {label!r} coordinate to decode")
        self.identifier, self.recording, self.label = identifier, recording, label
        self.description, self.bibtex = description, bibtex
        self.region = str(recording["region"].values[0])

    def run(self, n_folds: int = 5, n_shuffles: int = 20, seed: int = 0) -> xr.Dataset:
        """:func:`decode_over_time` of the benchmark's label."""
        result = decode_over_time(self.recording, self.label, n_folds, n_shuffles, seed)
        result.attrs.update(benchmark=self.identifier, region=self.region)
        return result
