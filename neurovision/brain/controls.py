"""Null distributions of the cross-validated score, each from many draws on the same splits.

* ``image``: the stimuli of the neural data are permuted (the same permutation in every bin
  and neuroid), which breaks the correspondence of images and responses. Its draws give the
  image-shuffled null of every bin's score and of the mean score.
* ``temporal``: the neural time bins are re-paired with the model's bins by a permutation of
  the bins (every permutation of up to ``n`` draws, or all of them when there are fewer):
  each bin keeps its own responses (marginal statistics), only which model time predicts
  which neural time changes. The real pairing is compared with the others (matched minus
  mismatched) and ranked among them for a p-value.

Every draw is fitted on the *same* model activity with the *same* splits and the *same*
per-split temporal shifts as the real data. Ridge mappings are linear in the target, so all
draws are solved at once from one factorisation per split (:func:`ridge_draws`); PLS is
refitted per draw.
"""
from __future__ import annotations

from itertools import islice, permutations

import numpy as np

from .crossval import CrossValidatedMapping
from .ridge_fit import side_by_side_fits, test_r

CONTROLS = ("temporal", "image")
MIN_TIME_BINS = 4  # 4! = 24 pairings: the smallest p-value 1/24 can reach 0.05


def applicable(control: str, target: np.ndarray) -> bool:
    """Whether ``control`` can be tested on ``target`` (presentation, time_bin, neuroid)."""
    if control not in CONTROLS:
        raise ValueError(f"unknown control {control!r}; choose from {CONTROLS}")
    return target.shape[1] >= MIN_TIME_BINS if control == "temporal" else target.shape[0] > 1


def per_split_r(mapping: CrossValidatedMapping, target: np.ndarray, index: np.ndarray,
                chosen: np.ndarray) -> np.ndarray:
    """Test r (split, neuroid, time_bin), split k paired with source bins ``index[chosen[k]]``."""
    out = np.empty((len(mapping.splits), target.shape[2], target.shape[1]))
    for j in np.unique(chosen):
        r = mapping.correlations(target, index[j])
        out[chosen == j] = r[chosen == j]
    return out


def image_permutations(n_stimuli: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random permutations of the stimuli (n, n_stimuli)."""
    return np.stack([rng.permutation(n_stimuli) for _ in range(n)]) if n else np.empty((0, n_stimuli), int)


def time_permutations(n_bins: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Up to ``n`` distinct non-identity permutations of the bins (all when fewer exist)."""
    identity = tuple(range(n_bins))
    total = int(np.prod(np.arange(1, n_bins + 1), dtype=float))
    if total - 1 <= n:
        return np.array([p for p in permutations(identity) if p != identity], dtype=int)
    seen: set = set()
    draws = (tuple(rng.permutation(n_bins)) for _ in iter(int, 1))
    fresh = (p for p in draws if p != identity and not (p in seen or seen.add(p)))
    return np.array(list(islice(fresh, n)), dtype=int)


def ridge_draws(mapping: CrossValidatedMapping, targets: np.ndarray, index: np.ndarray,
                chosen: np.ndarray, max_bytes: float = 4e7) -> np.ndarray:
    """Test r (draw, split, neuroid, time_bin) of ridge mappings for targets (draw, P, T, N).

    Per split the ridge solution is linear in the target, so each split's system is factorised
    once (:meth:`CrossValidatedMapping.ridge_predictor`, primal or dual) and all draws (chunked
    to ``max_bytes``) share it; predictions equal :meth:`CrossValidatedMapping.correlations`
    with ``regression="ridge"``. Dual fits of different splits run side by side.
    """
    K, P, T, N = targets.shape
    out = np.empty((K, len(mapping.splits), N, T))
    chunk = max(1, int(max_bytes // (8 * P * T * N)))
    by_stimulus = np.moveaxis(targets, 0, 2)  # (P, T, draw, N), a view

    def split(k: int) -> None:
        train, test = mapping.splits.train[k], mapping.splits.test[k]
        for group in mapping.fit_groups(T):
            predict = mapping.ridge_predictor(train, test, index[chosen[k]][group])
            for start in range(0, K, chunk):
                draws = slice(start, start + chunk)
                r = test_r(predict, train, test, by_stimulus[:, group, draws])  # (draw * N, g)
                out[draws, k][..., group] = r.reshape(-1, N, r.shape[1])

    if mapping.all_dual(mapping.splits.train, T):
        with side_by_side_fits() as pool:
            list(pool.map(split, range(len(mapping.splits))))
    else:
        for k in range(len(mapping.splits)):
            split(k)
    return out


def draws_r(mapping: CrossValidatedMapping, targets: np.ndarray, index: np.ndarray,
            chosen: np.ndarray) -> np.ndarray:
    """Test r (draw, split, neuroid, time_bin) of every target in ``targets`` (draw, P, T, N)."""
    if mapping.regression == "ridge":
        return ridge_draws(mapping, targets, index, chosen)
    return np.stack([per_split_r(mapping, t, index, chosen) for t in targets])


def image_null(mapping, target, index, chosen, n: int, rng) -> np.ndarray:
    """Test r (draw, split, neuroid, time_bin) of ``n`` image-shuffled copies of ``target``."""
    perms = image_permutations(len(target), n, rng)
    out = []
    for part in np.array_split(perms, max(1, len(perms) // 64)):
        out.append(draws_r(mapping, target[part], index, chosen))
    return np.concatenate(out)


def pairing_null(mapping, target, index, chosen, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """``(perms, r)``: time-bin re-pairings (draw, T) and their test r (draw, split, neuroid, T).

    Draw ``i`` pairs neural bin ``t`` with the model bin of real bin ``perms[i, t]``; ``r`` is
    stored by neural bin.
    """
    perms = time_permutations(target.shape[1], n, rng)
    out = []
    for part in np.array_split(np.arange(len(perms)), max(1, len(perms) // 64)):
        inverse = np.argsort(perms[part], axis=1)  # neural bin shown at source position t
        shuffled = np.stack([target[:, inv] for inv in inverse])
        r = draws_r(mapping, shuffled, index, chosen)
        out.append(np.take_along_axis(r, perms[part][:, None, None, :], axis=3))
    return perms, np.concatenate(out)
