"""CCA and generalised shape metrics; distance matrices, embeddings, NetCDF results, plots."""
import numpy as np
import pytest
import torch
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import orthogonal_procrustes
from scipy.stats import ortho_group

from neurovision.analysis import (
    StepMap,
    arnoldi_eigs,
    cca,
    characterise_attractor,
    distance_matrix,
    embed,
    find_fixed_points,
    load_result,
    save_result,
    shape_distance,
)
from neurovision.analysis import plotting
from neurovision.analysis.compare import pair_distance, representation
from neurovision.analysis.regimes import simulate
from neurovision.analysis.systems import GaussianTanhRNN, RingRNN
from neurovision.errors import CorruptFileError, ShapeError


@pytest.fixture(autouse=True)
def _one_thread():  # small dense algebra: threads only contend on shared machines
    before = torch.get_num_threads(); torch.set_num_threads(1); yield; torch.set_num_threads(before)  # noqa: E702


def planted(seed, samples=240, units=30, rank=6):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((samples, rank)) @ rng.standard_normal((rank, units)) + 0.05 * rng.standard_normal((samples, units))


def network_trajectories(seed, units=60, steps=3000, every=10):
    """Activity (time, units) of a chaotic Gaussian tanh network from a seeded random state,
    sampled every ``every`` ms (about one sample per autocorrelation time)."""
    model = GaussianTanhRNN(3.0, n=units, seed=seed)
    start = torch.randn(1, units, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return simulate(StepMap(model), start, steps)[::every, 0].numpy()


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("method", ["angular", "euclidean"])
def test_rotated_translated_copy_is_at_distance_zero(alpha, method):
    x = planted(0)
    rotated = x @ ortho_group.rvs(30, random_state=1) + 4.0
    assert shape_distance(x, x, alpha, method, n_components=6) < 1e-6
    assert shape_distance(x, rotated, alpha, method, n_components=6) < 1e-6
    assert cca(x, rotated, n_components=6).correlations == pytest.approx(np.ones(6))


def test_independent_random_networks_are_far_apart():
    a, b = network_trajectories(1), network_trajectories(2)
    noise = np.random.default_rng(0).standard_normal(a.shape)
    chance = shape_distance(noise, np.random.default_rng(1).standard_normal(a.shape), 1.0, "angular")
    assert shape_distance(a, b, 1.0, "angular") > 0.9 * chance > 1.0  # radians; pi/2 = orthogonal
    assert cca(a, b, n_components=5).mean_correlation < 0.5
    same = network_trajectories(1) @ ortho_group.rvs(60, random_state=0)
    assert shape_distance(a, same, 1.0, "angular") < 1e-6


def test_angular_cca_distance_is_the_arccos_of_the_mean_canonical_correlation():
    x, y = planted(0), planted(1)[:, :20]
    rho = cca(x, y, n_components=5).correlations
    assert shape_distance(x, y, 0.0, "angular", n_components=5) == pytest.approx(np.arccos(rho.mean()))


def test_procrustes_distance_equals_the_orthogonal_procrustes_solution():
    x, y = planted(2), planted(3)
    xc, yc = x - x.mean(0), y - y.mean(0)
    rotation, _ = orthogonal_procrustes(yc, xc)
    assert shape_distance(x, y, 1.0, "euclidean") == pytest.approx(np.linalg.norm(xc - yc @ rotation))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.0, 0.5, 1.0]), st.sampled_from(["angular", "euclidean"]))
def test_shape_distances_are_metrics(seed, alpha, method):
    rng = np.random.default_rng(seed)
    x, y, z = (rng.standard_normal((40, 4)) @ rng.standard_normal((4, 8)) for _ in range(3))
    dxy, dyz, dxz = (shape_distance(a, b, alpha, method, n_components=4) for a, b in ((x, y), (y, z), (x, z)))
    assert dxy == pytest.approx(shape_distance(y, x, alpha, method, n_components=4), abs=1e-9)
    assert dxz <= dxy + dyz + 1e-7


def test_representations_must_share_samples():
    with pytest.raises(ShapeError, match="same conditions"):
        shape_distance(np.ones((10, 3)) + np.eye(10, 3), planted(0))
    with pytest.raises(ShapeError, match="n_components"):
        shape_distance(planted(0), planted(1)[:, :10], alpha=0.0)
    padded = shape_distance(planted(0), planted(1)[:, :10], alpha=1.0)  # zero-padding
    assert 0 < padded < np.pi / 2
    with pytest.raises(ValueError, match="metric"):
        pair_distance(planted(0), planted(1), "cosine")


def test_distance_matrix_and_embedding_recover_a_known_geometry():
    base = planted(4, units=8, rank=8)
    reps = {f"net{i}": base * (1 + i) for i in range(4)}  # Procrustes distance grows linearly
    import pandas as pd

    labels = pd.DataFrame({"architecture": ["a", "a", "b", "b"]}, index=list(reps))
    dist = distance_matrix(reps, metric="procrustes", labels=labels)
    norm = np.linalg.norm(base - base.mean(0))
    assert np.allclose(dist.values, norm * np.abs(np.subtract.outer(range(4), range(4))))
    assert list(dist["architecture"].values) == ["a", "a", "b", "b"]
    coords = embed(dist, n_components=2)
    assert np.allclose(np.abs(coords["dim1"] - coords["dim1"].iloc[0]), norm * np.arange(4))
    assert np.allclose(coords["dim2"], 0.0, atol=1e-4 * norm) and list(coords["architecture"]) == ["a", "a", "b", "b"]
    cube = xr.DataArray(base.reshape(24, 10, 8).transpose(0, 2, 1), dims=("presentation", "neuroid", "time_bin"))
    assert np.array_equal(representation(cube), base)  # rows: presentation-major, then time
    turned = cube.copy(data=np.einsum("pnt,nm->pmt", cube.values, ortho_group.rvs(8, random_state=2)))
    assert distance_matrix({"p": cube, "q": turned}, metric="cca").values.max() < 1e-9


def test_results_round_trip_through_netcdf(tmp_path):
    result = find_fixed_points(RingRNN(n=16, coupling=4.0), torch.randn(6, 16, dtype=torch.float64), warmup=50)
    path = save_result(result, tmp_path / "fixed.nc")
    loaded = load_result(path)
    assert np.allclose(loaded["points"].values, result.points)
    assert np.allclose(loaded["eigenvalue_real"].values + 1j * loaded["eigenvalue_imag"].values, result.eigenvalues)
    assert list(loaded["point_stability"].values) == list(result.table["stability"])
    spectrum = arnoldi_eigs(_identity_op(), k=2)
    frame = load_result(save_result(spectrum, tmp_path / "spectrum.nc"))
    assert np.allclose(frame["modulus"].values, np.abs(spectrum.eigenvalues))
    (tmp_path / "broken.nc").write_bytes(b"not netcdf")
    with pytest.raises(CorruptFileError, match="again"):
        load_result(tmp_path / "broken.nc")


def _identity_op():
    from neurovision.analysis import Operator

    return Operator.from_matrix(np.diag([3.0, 2.0, 1.0]))


def test_plot_helpers_draw_each_result():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = find_fixed_points(RingRNN(n=16, coupling=4.0), torch.randn(12, 16, dtype=torch.float64), warmup=50)
    assert len(plotting.plot_fixed_points(result).collections) >= 1
    assert len(plotting.plot_attractor(characterise_attractor(result)).collections) == 1
    spectrum = arnoldi_eigs(_identity_op(), k=3)
    assert len(plotting.plot_spectrum(spectrum, reference=spectrum.eigenvalues).collections) == 2
    proj = xr.DataArray(np.random.rand(3, 10, 2), dims=("presentation", "time", "component"),
                        coords={"component": [1, 2], "label": ("presentation", ["x", "y", "x"])})
    assert len(plotting.plot_trajectories(proj, color_by="label").lines) == 6
    import pandas as pd

    table = pd.DataFrame({"gain": [0.5, 3.0], "lyapunov_per_s": [-50.0, 20.0], "regime": ["stable", "chaotic"]})
    assert len(plotting.plot_regimes(table).collections) == 2
    dist = distance_matrix({"a": planted(0), "b": planted(1), "c": planted(2)})
    plotting.plot_distance_matrix(dist)
    assert len(plotting.plot_embedding(embed(dist)).collections) == 1
    aligned = plotting.plot_aligned(cca(planted(0), planted(1), n_components=3), n_conditions=4, names=("a", "b"))
    assert len(aligned.lines) == 8 and "mean CC" in aligned.get_title()
    plt.close("all")
