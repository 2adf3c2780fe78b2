"""Lyapunov exponents, limit cycles, regimes of random tanh networks, and activity statistics."""
import numpy as np
import pytest
import torch

from neurovision.analysis import (
    StepMap,
    autocorrelation,
    characterise,
    dominant_frequency,
    largest_lyapunov,
    linear_modes,
    participation_ratio,
)
from neurovision.analysis.regimes import simulate
from neurovision.analysis.systems import GaussianTanhRNN, HopfOscillator, lorenz_map
from neurovision.errors import DataError, DivergenceError


@pytest.fixture(autouse=True)
def _one_thread():  # small dense algebra: threads only contend on shared machines
    before = torch.get_num_threads(); torch.set_num_threads(1); yield; torch.set_num_threads(before)  # noqa: E702


def test_lorenz_largest_lyapunov_exponent_within_ten_percent():
    gen = torch.Generator().manual_seed(0)
    start = torch.randn(32, 3, generator=gen, dtype=torch.float64) * 5 + torch.tensor([0.0, 0.0, 25.0])
    result = largest_lyapunov(lorenz_map(dt=0.01), start, n_steps=3000, transient=500, renorm_every=5)
    assert result.exponent == pytest.approx(0.9056, rel=0.10)  # literature value (Sprott 2003)
    assert result.stderr < 0.05 and len(result.running) == 600


def test_hopf_limit_cycle_radius_period_and_zero_exponent():
    mu, omega = 1.0, 2.0
    model = HopfOscillator(mu=mu, omega=omega, dt=0.005)
    fmap = StepMap(model)
    start = torch.tensor([[0.1, 0.0], [0.0, 2.0]], dtype=torch.float64)
    settled = simulate(fmap, start, 4000)[-1]
    cycle = simulate(fmap, settled, 4000).numpy()  # 20 time units, ~6 periods
    radius = np.linalg.norm(cycle, axis=2)
    assert np.allclose(radius, np.sqrt(mu), rtol=0.01)  # Euler shifts it by O(dt omega^2)
    freq = dominant_frequency(cycle[:, 0], fmap.dt) / 1000.0  # cycles per time unit
    assert freq == pytest.approx(omega / (2 * np.pi), abs=1 / (4000 * fmap.dt))  # one FFT bin
    modes = linear_modes(cycle[:, 0], fmap.dt)
    assert modes["imag"].abs().max() == pytest.approx(omega, rel=0.01)
    assert modes["real"].abs().max() < 0.01  # a sustained oscillation: no decay
    lyap = largest_lyapunov(fmap, settled, n_steps=4000)
    assert abs(lyap.exponent) < 0.02  # neutral direction along the cycle
    origin = largest_lyapunov(fmap, torch.tensor([[1e-9, 0.0]], dtype=torch.float64), n_steps=200)
    assert origin.exponent == pytest.approx(mu, rel=0.02)  # linear growth rate away from the focus


def test_stable_chaotic_and_oscillatory_regimes():
    stable = characterise(GaussianTanhRNN(0.5, n=100, seed=0), n_trajectories=2, transient=500, n_steps=500)
    weight = GaussianTanhRNN(0.5, n=100, seed=0).weight.numpy()
    rightmost = np.linalg.eigvals(weight)[np.argmax(np.linalg.eigvals(weight).real)]
    assert stable["regime"] == "stable" and stable["lyapunov_per_s"] < -10
    assert stable["leading_real"] == pytest.approx((rightmost.real - 1) / 10.0, abs=1e-10)
    chaotic = characterise(GaussianTanhRNN(3.0, n=100, seed=0), n_trajectories=3, transient=1000, n_steps=1500)
    assert chaotic["regime"] == "chaotic" and chaotic["lyapunov_per_s"] > 5
    assert chaotic["linear_regime"] != "stable" and chaotic["participation_ratio"] > 3
    oscillatory = characterise(GaussianTanhRNN(1.5, n=200, seed=1), n_trajectories=3, transient=2000, n_steps=2000)
    assert oscillatory["regime"] == "oscillatory"
    assert abs(oscillatory["lyapunov_per_s"]) < 3 and 2 < oscillatory["frequency_hz"] < 8


def test_conv_tanh_network_regimes_follow_the_gain():
    low = characterise(GaussianTanhRNN(0.5, kind="conv", channels=8, size=5, seed=0),
                       n_trajectories=2, transient=500, n_steps=500)
    assert low["regime"] == "stable"
    high = characterise(GaussianTanhRNN(3.0, kind="conv", channels=32, size=5, seed=0),
                        n_trajectories=2, transient=800, n_steps=1200)
    assert high["regime"] == "chaotic"


def test_participation_ratio_of_known_spectra():
    rng = np.random.default_rng(0)
    line = np.outer(rng.standard_normal(500), rng.standard_normal(20))
    assert participation_ratio(line) == pytest.approx(1.0)
    scales = np.array([3.0, 2.0, 1.0, 1.0])  # variances 9, 4, 1, 1 -> (15)^2 / 99
    data = rng.standard_normal((200_000, 4)) * scales
    assert participation_ratio(data) == pytest.approx(225 / 99, rel=0.02)
    wide = rng.standard_normal((50, 400)) * np.linspace(0.1, 2, 400)  # Gram-matrix path
    lam = np.linalg.eigvalsh(np.cov(wide, rowvar=False))
    assert participation_ratio(wide) == pytest.approx(lam.sum() ** 2 / (lam**2).sum())
    assert np.isnan(participation_ratio(np.ones((10, 3))))


def test_autocorrelation_time_of_an_ornstein_uhlenbeck_process():
    rng = np.random.default_rng(1)
    dt, tau, n = 1.0, 20.0, 200_000
    x = np.zeros((n, 3))
    a = np.exp(-dt / tau)
    noise = rng.standard_normal((n, 3)) * np.sqrt(1 - a * a)
    for t in range(1, n):
        x[t] = a * x[t - 1] + noise[t]
    acf, scale = autocorrelation(x, dt, max_lag_ms=100)
    assert scale == pytest.approx(tau, rel=0.05)
    assert acf.sel(lag=10).item() == pytest.approx(np.exp(-10 / tau), abs=0.02)
    assert np.isnan(autocorrelation(np.ones((20, 2)), dt)[1])


def test_bad_activity_and_divergence_are_reported():
    with pytest.raises(DataError, match="NaN"):
        participation_ratio(np.array([[1.0, np.nan], [0.0, 1.0]]))
    exploding = StepMap(GaussianTanhRNN(1.0, n=4))
    exploding.model.step = lambda state, drive: {"r": state["r"] * 1e200}
    with pytest.raises(DivergenceError, match="NaN/Inf"):
        largest_lyapunov(exploding, torch.ones(1, 4, dtype=torch.float64), n_steps=5)
