"""Fixed points, linearisation and honest reporting on systems with known answers."""
import numpy as np
import pytest
import torch

from neurovision.analysis import (
    FunctionMap,
    NonConvergenceWarning,
    StepMap,
    arnoldi_eigs,
    find_fixed_points,
    jacobian_operator,
    sample_visited_states,
)
from neurovision.analysis.maps import batch_jacobians, tangent
from neurovision.analysis.systems import GaussianTanhRNN, HopfOscillator, LinearRNN
from neurovision.dynamics import Schedule
from neurovision.errors import DataError, ShapeError


@pytest.fixture(autouse=True)
def _one_thread():  # small dense algebra: threads only contend on shared machines
    before = torch.get_num_threads(); torch.set_num_threads(1); yield; torch.set_num_threads(before)  # noqa: E702


def planted_linear(n=12, seed=0):
    """LinearRNN whose W has the planted eigenvalues ``eig``; returns (model, eig)."""
    rng = np.random.default_rng(seed)
    eig = np.concatenate([[0.85 + 0.4j, 0.85 - 0.4j], np.linspace(-0.9, 0.8, n - 2)])
    block = np.diag(eig[2:].real)
    full = np.zeros((n, n))
    full[:2, :2] = [[0.85, -0.4], [0.4, 0.85]]
    full[2:, 2:] = block
    basis = rng.standard_normal((n, n))
    weight = basis @ full @ np.linalg.inv(basis)
    return LinearRNN(weight, rng.standard_normal(n), tau=10.0, dt=1.0), eig


def test_linear_system_fixed_point_and_eigenvalues_are_exact():
    model, eig = planted_linear()
    start = torch.randn(6, 12, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 3
    result = find_fixed_points(model, start)
    assert (result.candidates["kind"] == "fixed").all()
    assert len(result.points) == 1 and result.table["n_members"].iat[0] == 6
    assert np.allclose(result.points[0], model.fixed_point().numpy(), atol=1e-9)
    expected = np.sort_complex((eig - 1.0) / model.tau)  # continuous-time: (eig(W) - 1) / tau
    assert np.allclose(np.sort_complex(result.eigenvalues[0]), expected, atol=1e-9)
    assert result.table["stability"].iat[0] == "stable"
    assert result.table["leading_real"].iat[0] == pytest.approx(-0.015, abs=1e-9)
    assert result.table["leading_imag"].iat[0] == pytest.approx(0.04, abs=1e-9)


def test_jacobian_operator_and_arnoldi_on_the_step_map():
    model, eig = planted_linear()
    fmap = StepMap(model)
    op = jacobian_operator(fmap, torch.zeros(12, dtype=torch.float64), continuous=True)
    rightmost = arnoldi_eigs(op, k=4, which="LR").eigenvalues
    expected = sorted((eig - 1.0) / model.tau, key=lambda z: -z.real)[:4]
    assert np.allclose(sorted(rightmost, key=lambda z: (-z.real, z.imag)),
                       sorted(expected, key=lambda z: (-z.real, z.imag)), atol=1e-10)
    x = torch.randn(3, 12, dtype=torch.float64)
    v = torch.randn(3, 12, dtype=torch.float64)
    exact = tangent(fmap, x, v, "jvp")[1]
    assert torch.allclose(tangent(fmap, x, v, "difference")[1], exact, atol=1e-8)
    dense = batch_jacobians(fmap, x)
    assert torch.allclose(torch.einsum("bij,bj->bi", dense, v), exact, atol=1e-12)


def test_hopf_origin_is_an_unstable_focus_with_known_eigenvalues():
    model = HopfOscillator(mu=0.5, omega=2.0, dt=0.01)
    start = torch.tensor([[0.05, -0.02], [0.01, 0.03]], dtype=torch.float64)
    result = find_fixed_points(model, start)
    assert np.allclose(result.points, 0.0, atol=1e-10)
    assert np.allclose(np.sort_complex(result.eigenvalues[0]), [0.5 - 2.0j, 0.5 + 2.0j], atol=1e-9)
    assert result.table["stability"].iat[0] == "unstable"


def test_search_without_fixed_points_reports_residuals_and_never_claims_convergence():
    drift = torch.tensor([0.3, -0.4], dtype=torch.float64)  # F(x) = x + c: no fixed point
    fmap = FunctionMap(lambda x: x + drift, n=2, dt=2.0)
    start = torch.randn(5, 2, dtype=torch.float64)
    with pytest.warns(NonConvergenceWarning, match="no initial state converged"):
        result = find_fixed_points(fmap, start, max_iter=50)
    assert (result.candidates["kind"] == "not converged").all()
    assert np.allclose(result.candidates["speed"], 0.5 / 2.0)  # |c| / dt per ms
    assert len(result.points) == 0 and result.final_states.shape == (5, 2)
    assert "5 not converged" in result.summary()


def test_slow_points_are_reported_as_slow():
    # dx/dt = x^2 + eps has a slow region near 0 but no fixed point
    fmap = FunctionMap(lambda x: x + 0.1 * (x**2 + 1e-5), n=1, dt=0.1)
    with pytest.warns(NonConvergenceWarning):
        result = find_fixed_points(fmap, torch.tensor([[0.5], [-0.7]], dtype=torch.float64))
    assert set(result.candidates["kind"]) == {"slow"}
    assert len(result.points) == 1 and abs(result.points[0, 0]) < 1e-2


def test_diverging_states_are_flagged():
    fmap = FunctionMap(lambda x: x + torch.where(x.abs() > 5, x * 1e308, x - x**3), n=1, dt=1.0)
    result = find_fixed_points(fmap, torch.tensor([[0.5], [50.0]], dtype=torch.float64), stability=False)
    assert list(result.candidates["kind"]) == ["fixed", "diverged"]


def test_bad_input_is_rejected():
    model, _ = planted_linear()
    with pytest.raises(DataError, match="NaN"):
        find_fixed_points(model, torch.full((2, 12), float("nan"), dtype=torch.float64))
    with pytest.raises(ShapeError, match=r"\(B, 12\)"):
        find_fixed_points(model, torch.zeros(2, 5, dtype=torch.float64))
    with pytest.raises(DataError, match="NaN"):
        jacobian_operator(StepMap(model), torch.full((12,), float("nan"), dtype=torch.float64))
    with pytest.raises(TypeError, match="SteppedModel"):
        StepMap(torch.nn.Linear(2, 2))


def test_states_visited_by_a_model_seed_the_search():
    model = GaussianTanhRNN(0.8, n=30, seed=2)
    gen = torch.Generator().manual_seed(0)
    state = {"r": torch.randn(4, 30, generator=gen, dtype=torch.float64)}
    fmap = StepMap(model)
    result = find_fixed_points(model, state)  # a dict state is flattened by the map
    assert np.allclose(result.points, 0.0, atol=1e-8)  # below g = 1 the origin is the only one
    schedule = Schedule.parse("delay:20")
    from neurovision.dynamics import integrate
    visited = torch.stack([fmap.flatten(s) for _, _, s in integrate(model, {}, schedule, state=state)])
    samples = sample_visited_states(model, {}, schedule, n=10, state=state)
    assert samples.shape == (10, 30)
    assert all(torch.isclose(visited.reshape(-1, 30), row).all(1).any() for row in samples)


def test_cordsnet_step_map_linearisation_matches_its_own_jacobian():
    from neurovision import load_model

    model = load_model("cordsnet-r2", image_size=16)
    image = torch.rand(3, 16, 16, generator=torch.Generator().manual_seed(0))
    state = model.initial_state(1)
    fmap = StepMap(model, stimulus=image, keys=["area1"], context=state)
    ours = jacobian_operator(fmap, fmap.flatten(state)[0])
    theirs = model.jacobian_operator("area1", state, model.encode(image[None]), kind="step")
    v = torch.randn(2, *model.area_shape("area1"))
    assert torch.allclose(ours(v.reshape(2, -1)), theirs(v).reshape(2, -1), atol=1e-5)
