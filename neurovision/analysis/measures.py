"""Summary statistics of activity ``X`` ``(time, units)`` sampled every ``dt`` ms.

* :func:`participation_ratio`: ``(sum l)^2 / sum l^2`` of the covariance eigenvalues ``l``,
  the effective number of dimensions (1 for a line, ``n`` for isotropic noise).
* :func:`autocorrelation`: the population autocorrelation function and its time scale, the
  lag (ms) at which it first falls below ``1/e``.
* :func:`dominant_frequency`: the frequency (Hz) of the largest peak of the power spectrum.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import DataError, ShapeError


def as_matrix(x, what: str = "activity") -> np.ndarray:
    """``x`` as a finite float64 matrix ``(samples, features)``."""
    arr = np.asarray(x.values if isinstance(x, xr.DataArray) else x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ShapeError(f"{what} must be a (samples, features) matrix, got shape {arr.shape}")
    if arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ShapeError(f"{what} needs at least 2 samples and 1 feature, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise DataError(f"{what} contains NaN/Inf; drop or fill those samples first")
    return arr


def participation_ratio(x) -> float:
    """Participation ratio of ``x`` ``(samples, units)``; NaN if ``x`` does not vary."""
    arr = as_matrix(x)
    arr = arr - arr.mean(0)
    small = arr @ arr.T if arr.shape[0] < arr.shape[1] else arr.T @ arr  # same nonzero spectrum
    lam = np.clip(np.linalg.eigvalsh(small), 0.0, None)
    total = lam.sum()
    if total <= 1e-300:
        return float("nan")
    return float(total**2 / np.sum(lam**2))


def autocorrelation(x, dt: float, max_lag_ms: float | None = None) -> tuple[xr.DataArray, float]:
    """Population autocorrelation ``C(lag)`` of ``x`` ``(time, units)`` and its 1/e time (ms).

    ``C(lag) = sum_i sum_t dx_i(t) dx_i(t + lag) / (T - lag)``, normalised by ``C(0)``
    (``dx``: deviations from each unit's mean). The time scale is NaN if ``x`` is constant
    or ``C`` stays above 1/e up to ``max_lag_ms`` (default: half the recording).
    """
    arr = as_matrix(x)
    arr = arr - arr.mean(0)
    t = arr.shape[0]
    max_lag = int(min(t - 1, (max_lag_ms / dt) if max_lag_ms else t // 2))
    spectrum = np.fft.rfft(arr, n=2 * t, axis=0)
    raw = np.fft.irfft(np.abs(spectrum) ** 2, axis=0)[: max_lag + 1].sum(1)
    raw /= t - np.arange(max_lag + 1)
    lags = np.arange(max_lag + 1) * dt
    if raw[0] <= 1e-300:
        acf = np.full(max_lag + 1, np.nan)
        return xr.DataArray(acf, dims="lag", coords={"lag_ms": ("lag", lags)}, name="autocorrelation"), float("nan")
    acf = raw / raw[0]
    below = np.flatnonzero(acf < np.exp(-1))
    if len(below) == 0:
        scale = float("nan")
    else:
        j = below[0]
        frac = (acf[j - 1] - np.exp(-1)) / (acf[j - 1] - acf[j])
        scale = float((j - 1 + frac) * dt)
    return xr.DataArray(acf, dims="lag", coords={"lag_ms": ("lag", lags)}, name="autocorrelation"), scale


def dominant_frequency(x, dt: float) -> float:
    """Frequency (Hz, ``dt`` in ms) of the largest non-zero peak of the summed power spectrum."""
    arr = as_matrix(x)
    arr = arr - arr.mean(0)
    power = (np.abs(np.fft.rfft(arr, axis=0)) ** 2).sum(1)
    if power[1:].max(initial=0.0) <= 1e-300:
        return float("nan")
    k = 1 + int(np.argmax(power[1:]))
    return float(k / (arr.shape[0] * dt) * 1000.0)
