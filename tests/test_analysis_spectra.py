"""Matrix-free spectra: Arnoldi and power iteration against dense eigendecompositions."""
import numpy as np
import pytest
import torch
from scipy.optimize import linear_sum_assignment

from neurovision.analysis import Operator, arnoldi_eigs, dense_eigvals, power_iteration, recurrent_operator
from neurovision.analysis.spectra import top_k
from neurovision.errors import DataError, ShapeError


@pytest.fixture(autouse=True)
def _one_thread():  # small dense algebra: threads only contend on shared machines
    before = torch.get_num_threads(); torch.set_num_threads(1); yield; torch.set_num_threads(before)  # noqa: E702


def matched_error(found, reference):
    """Largest distance between two eigenvalue sets after optimal one-to-one matching."""
    dist = np.abs(np.asarray(found)[:, None] - np.asarray(reference)[None, :])
    rows, cols = linear_sum_assignment(dist)
    return dist[rows, cols].max()


def random_conv(channels, seed, dtype=torch.float64, scale=1.0):
    gen = torch.Generator().manual_seed(seed)
    return scale * torch.randn(channels, channels, 3, 3, generator=gen, dtype=dtype) / np.sqrt(9 * channels)


@pytest.mark.parametrize("which", ["LM", "LR"])
def test_arnoldi_matches_dense_on_a_convolution(which):
    op = Operator.from_conv2d(random_conv(6, seed=1), 7, 7)  # 294 units
    spectrum = arnoldi_eigs(op, k=15, which=which)
    reference = top_k(dense_eigvals(op), 15, which)
    assert spectrum.all_converged
    assert matched_error(spectrum.eigenvalues, reference) < 1e-4
    assert spectrum.n_applications < op.n * 3  # far fewer than building a Krylov space per eigenvalue


def test_arnoldi_on_float32_conv_module_matches_dense():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(5, 5, 3, padding=1, bias=True)  # the bias must not enter the operator
    op = Operator.from_conv2d(conv, 8, 8)
    spectrum = arnoldi_eigs(op, k=10)
    reference = top_k(dense_eigvals(op), 10)
    assert spectrum.all_converged
    assert matched_error(spectrum.eigenvalues, reference) < 1e-4


def test_arnoldi_recovers_planted_eigenvalues_and_vectors():
    gen = torch.Generator().manual_seed(3)
    planted = np.array([3.0, -2.5, 2.0 + 1.0j, 2.0 - 1.0j])
    n = 120
    block = np.zeros((n, n))
    block[0, 0], block[1, 1] = 3.0, -2.5
    block[2:4, 2:4] = [[2.0, -1.0], [1.0, 2.0]]
    block[4:, 4:] = np.diag(np.linspace(-1, 1, n - 4))
    basis = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))[0].numpy()
    matrix = basis @ block @ basis.T
    spectrum = arnoldi_eigs(Operator.from_matrix(matrix), k=4, return_vectors=True)
    assert matched_error(spectrum.eigenvalues, planted) < 1e-8
    vecs = spectrum.eigenvectors.numpy()
    for lam, v in zip(spectrum.eigenvalues, vecs.T):
        assert np.linalg.norm(matrix @ v - lam * v) < 1e-8 * np.linalg.norm(v)


def test_arnoldi_reports_unconverged_eigenvalues():
    op = Operator.from_conv2d(random_conv(6, seed=2), 8, 8)
    spectrum = arnoldi_eigs(op, k=20, krylov_dim=22, max_restarts=0)
    assert not spectrum.all_converged
    frame = spectrum.to_frame()
    assert list(frame.columns) == ["real", "imag", "modulus", "residual", "converged"]
    assert (frame.loc[~frame["converged"], "residual"] > 0).all()


def test_small_operator_uses_the_whole_space():
    matrix = np.diag([1.0, 2.0, 3.0])
    spectrum = arnoldi_eigs(Operator.from_matrix(matrix), k=3)
    assert np.allclose(np.sort(spectrum.eigenvalues.real), [1, 2, 3])


def test_power_iteration_needs_a_block_for_complex_pairs():
    rotation = 1.5 * np.array([[np.cos(0.7), -np.sin(0.7)], [np.sin(0.7), np.cos(0.7)]])
    matrix = np.zeros((40, 40))
    matrix[:2, :2] = rotation
    matrix[2:, 2:] = np.diag(np.linspace(-1, 1, 38))
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((40, 40)))[0]
    op = Operator.from_matrix(q @ matrix @ q.T)
    paired = power_iteration(op, block=2)
    assert paired.converged and abs(paired.spectral_radius - 1.5) < 1e-8
    assert abs(abs(paired.eigenvalue.imag) - 1.5 * np.sin(0.7)) < 1e-6
    single = power_iteration(op, block=1, max_iter=300)
    assert not single.converged


def test_power_iteration_spectral_radius_of_a_convolution():
    op = Operator.from_conv2d(random_conv(4, seed=5), 6, 6)
    result = power_iteration(op, block=4, max_iter=5000, tol=1e-10)
    assert result.converged
    assert abs(result.spectral_radius - np.abs(dense_eigvals(op)).max()) < 1e-6


def test_operators_must_be_square_and_finite():
    with pytest.raises(ShapeError, match="square"):
        Operator.from_matrix(np.ones((3, 4)))
    with pytest.raises(ShapeError, match="square"):
        Operator.from_conv2d(torch.nn.Conv2d(4, 8, 3, padding=1), 5, 5)
    with pytest.raises(ShapeError, match="square"):
        Operator.from_conv2d(torch.nn.Conv2d(4, 4, 3, stride=2, padding=1), 6, 6)
    with pytest.raises(DataError, match="NaN"):
        Operator.from_matrix(np.array([[1.0, np.nan], [0.0, 1.0]]))
    op = Operator.from_matrix(np.eye(3))
    with pytest.raises(ShapeError, match="length 3"):
        op(torch.ones(4))
    with pytest.raises(ShapeError):
        arnoldi_eigs(op, k=4)
    with pytest.raises(ShapeError, match="dense matrix"):
        dense_eigvals(Operator(lambda v: v, 10_000))


def test_cordsnet_recurrent_operator_matches_its_dense_matrix():
    from neurovision import load_model

    model = load_model("cordsnet-r2", image_size=16)
    op = recurrent_operator(model, "area1")
    assert op.item_shape == model.area_shape("area1")
    spectrum = arnoldi_eigs(op, k=10)
    assert spectrum.all_converged
    assert matched_error(spectrum.eigenvalues, top_k(dense_eigvals(op), 10)) < 1e-4
