"""The trajectory explorer: analytic trajectories and spectra, PCA, figures, widgets, errors."""
import math

import matplotlib
import numpy as np
import pytest
import torch

import neurovision
from neurovision import explorer as ex
from neurovision.analysis import linearise
from neurovision.dynamics import SampledModel, SteppedModel
from neurovision.errors import NeurovisionError, ScheduleError, ShapeError

matplotlib.use("Agg")
torch.set_num_threads(1)


class TanhRNN(SteppedModel):
    """``tau dr/dt = -r + tanh(W r + U x)`` on a vector area; a user-defined model."""

    areas = ("hidden",)
    input_shape = (1, 4, 4)

    def __init__(self, n=40, tau=10.0, dt=1.0, gain=1.5, seed=0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.n, self.tau, self.dt = n, tau, dt
        self.w = torch.nn.Parameter(torch.randn(n, n, generator=gen) * gain / math.sqrt(n))
        self.u = torch.nn.Parameter(torch.randn(n, 16, generator=gen))

    def area_shape(self, area):
        self.check_area(area)
        return (self.n,)

    def initial_state(self, batch_size):
        return {"hidden": torch.zeros(batch_size, self.n)}

    def encode(self, images):
        return images.flatten(1) @ self.u.T

    def step(self, state, drive):
        r = state["hidden"]
        x = r @ self.w.T + (0 if drive is None else drive)
        return {"hidden": r + self.dt / self.tau * (torch.tanh(x) - r)}

    def analytic_jacobian(self, r, drive):
        """(-I + diag(1 - tanh^2(W r + u)) W) / tau for one state r (n,)."""
        x = self.w @ r + (0 if drive is None else drive[0])
        return (-torch.eye(self.n) + torch.diag(1 - torch.tanh(x) ** 2) @ self.w) / self.tau


@pytest.fixture
def leaky():
    return neurovision.load_model("leaky-linear")


@pytest.fixture
def images():
    gen = torch.Generator().manual_seed(1)
    return torch.rand(3, 1, 8, 8, generator=gen)


def test_leaky_trajectory_is_the_euler_solution(leaky, images):
    traj = ex.compute_trajectories(leaky, images, condition="switch")
    assert traj.activity.shape == (200, 3, 64)
    np.testing.assert_allclose(traj.times, np.arange(-39, 161))
    drive = (leaky.gain.view(1, -1) * images.flatten(1)).numpy()
    other = np.roll(drive, -1, axis=0)
    decay = 1 - leaky.dt / leaky.tau
    # 80 steps of the image from rest, then 80 steps towards the next image
    at_switch = drive * (1 - decay**80)
    np.testing.assert_allclose(traj.activity[traj.index_of(80.0)].numpy(), at_switch, rtol=1e-4, atol=1e-6)
    final = other + (at_switch - other) * decay**80
    np.testing.assert_allclose(traj.activity[-1].numpy(), final, rtol=1e-4, atol=1e-6)
    assert np.all(traj.activity[: traj.index_of(0.0)].numpy() == 0)


def test_stride_keeps_every_kth_step(leaky, images):
    full = ex.compute_trajectories(leaky, images, condition="present")
    coarse = ex.compute_trajectories(leaky, images, condition="present", stride=5)
    assert list(coarse.steps) == list(range(5, 201, 5))
    np.testing.assert_array_equal(coarse.activity.numpy(), full.activity[4::5].numpy())


def test_leaky_spectrum_is_minus_one_over_tau(leaky, images):
    traj = ex.compute_trajectories(leaky, images, condition="present-remove")
    values = traj.spectrum(image=1, t_index=traj.index_of(30.0))
    assert values.shape == (64,)
    np.testing.assert_allclose(values, -1 / leaky.tau, atol=1e-5)


def test_jacobian_matches_the_analytic_derivative():
    model = TanhRNN()
    gen = torch.Generator().manual_seed(3)
    state = {"hidden": torch.randn(1, model.n, generator=gen) * 0.5}
    image = torch.rand(1, 1, 4, 4, generator=gen)
    dense = linearise.area_jacobian(model, state, image, "hidden").to_dense(dtype=torch.float32)
    expected = model.analytic_jacobian(state["hidden"][0], model.encode(image)).detach()
    torch.testing.assert_close(dense, expected, rtol=1e-4, atol=1e-6)


def test_arnoldi_path_finds_the_rightmost_eigenvalues(monkeypatch):
    model = TanhRNN(n=60, gain=2.0)
    state = {"hidden": torch.full((1, 60), 0.1)}
    op = linearise.area_jacobian(model, state, None, "hidden")
    reference = np.linalg.eigvals(model.analytic_jacobian(state["hidden"][0], None).detach().double().numpy())
    reference = reference[np.argsort(-reference.real)][:6]
    monkeypatch.setattr(linearise, "DENSE_MAX_UNITS", 10)
    found = linearise.leading_eigenvalues(op, k=6)
    assert len(found) == 6
    np.testing.assert_allclose(np.sort(found.real), np.sort(reference.real), atol=1e-4)
    np.testing.assert_allclose(np.sort(np.abs(found.imag)), np.sort(np.abs(reference.imag)), atol=1e-4)


def test_state_space_is_the_pca_of_all_images_and_times(images):
    from sklearn.decomposition import PCA

    traj = ex.compute_trajectories(TanhRNN(n=30), images[:, :, :4, :4], condition="switch", n_components=3)
    rows = traj.activity.reshape(-1, 30).double().numpy()
    pca = PCA(3).fit(rows)
    np.testing.assert_allclose(traj.explained, pca.explained_variance_ratio_, rtol=1e-3, atol=1e-6)
    scores = traj.scores.reshape(-1, 3)
    np.testing.assert_allclose(np.abs(scores), np.abs(pca.transform(rows)), rtol=1e-3, atol=1e-4)


def test_activity_maps_and_condition_stimuli(images):
    traj = ex.compute_trajectories(TanhRNN(n=10), images[:, :, :4, :4], condition="noisy")
    grid = traj.activity_map(0, -1)
    assert grid.shape == (4, 4) and np.isnan(grid).sum() == 6
    stim = ex.condition_stimuli(images, noise_std=0.5, seed=7)
    again = ex.condition_stimuli(images, noise_std=0.5, seed=7)
    assert torch.equal(stim["noisy"], again["noisy"]) and not torch.equal(stim["noisy"], images)
    assert stim["noisy"].min() >= 0 and stim["noisy"].max() <= 1
    assert torch.equal(stim["other"][0], images[1]) and torch.equal(stim["other"][-1], images[0])


def test_conv_area_map_is_the_channel_mean():
    class TwoChannel(TanhRNN):
        areas = ("maps",)

        def area_shape(self, area):
            self.check_area(area)
            return (2, 5, 4)

        def initial_state(self, batch_size):
            return {"maps": torch.zeros(batch_size, 2, 5, 4)}

        def step(self, state, drive):
            ramp = torch.arange(40.0).view(1, 2, 5, 4)
            return {"maps": state["maps"] + ramp}

    traj = ex.compute_trajectories(TwoChannel(), torch.rand(2, 1, 4, 4), condition="present")
    k = int(traj.steps[5])
    expected = k * torch.arange(40.0).view(2, 5, 4).mean(0).numpy()
    np.testing.assert_allclose(traj.activity_map(1, 5), expected)


def test_draw_panels_and_static_explore(leaky, images):
    traj = ex.compute_trajectories(leaky, images, condition="switch", stride=4)
    fig = ex.draw(traj, image=2, t_index=10, frames=4)
    titles = [ax.get_title() for ax in fig.axes]
    assert len(fig.axes) == 9
    assert f"rate at {traj.times[10]:g} ms" in titles
    off = ex.draw(traj, image=0, t_index=-1, spectrum_k=0)
    assert any(t.get_text() == "spectrum off" for ax in off.axes for t in ax.texts)
    static = ex.explore(["leaky-linear"], images, widgets=False, frames=3, condition="noisy")
    assert len(static.axes) == 8 and "noisy" in static._suptitle.get_text()
    with pytest.raises(IndexError):
        ex.draw(traj, image=3)


def test_widget_updates_together(leaky, images):
    widget = ex.explore({"leaky": leaky, "mine": TanhRNN}, images[:, :, :4, :4], widgets=True,
                        stride=2, spectrum_k=4)
    assert isinstance(widget, ex.Explorer)
    assert widget.area_box.options == ("rate",)
    widget.time_slider.value = 30
    assert f"rate at {widget.trajectories.times[30]:g} ms" in [a.get_title() for a in widget.figure.axes]
    widget.model_box.value = "mine"
    assert widget.area_box.options == ("hidden",) and widget.trajectories.area == "hidden"
    assert widget.trajectories.activity.shape[-1] == 40
    widget.condition_box.value = "switch"
    assert widget.trajectories.condition == "switch" and widget.message.value == ""
    widget.spectrum_box.value = False
    assert any(t.get_text() == "spectrum off" for ax in widget.figure.axes for t in ax.texts)


def test_widget_reports_a_model_it_cannot_step(images):
    class Sampled(SampledModel):
        areas = ("a",)

    widget = ex.Explorer({"leaky": "leaky-linear", "ode": Sampled()}, images)
    widget.model_box.value = "ode"
    assert "not a SteppedModel" in widget.message.value and widget.trajectories is None
    widget.model_box.value = "leaky"
    assert widget.message.value == "" and widget.trajectories is not None


def test_bad_inputs_are_rejected(leaky, images):
    with pytest.raises(ScheduleError, match="unknown condition"):
        ex.compute_trajectories(leaky, images, condition="flash")
    with pytest.raises(ScheduleError, match="knows"):
        ex.compute_trajectories(leaky, images, condition="blank:10,probe:10")
    with pytest.raises(ScheduleError, match="no stimulus"):
        ex.compute_trajectories(leaky, images, condition="blank:10")
    with pytest.raises(ShapeError, match="max_values"):
        ex.compute_trajectories(leaky, images, max_values=1000)
    with pytest.raises(ValueError, match="stride"):
        ex.compute_trajectories(leaky, images, stride=0)
    with pytest.raises(NeurovisionError, match="SteppedModel"):
        ex.compute_trajectories(torch.nn.Linear(2, 2), images)
    with pytest.raises(neurovision.errors.UnknownIdError):
        ex.compute_trajectories(leaky, images, area="V4")
    with pytest.raises(ShapeError, match="one state"):
        linearise.area_jacobian(leaky, leaky.initial_state(2), None, "rate")


def test_cordsnet_jacobian_equals_its_analytic_operator():
    if "cordsnet-r2" not in neurovision.model_registry:
        pytest.skip("cordsnet-r2 is not registered")
    model = neurovision.load_model("cordsnet-r2", image_size=32)
    traj = ex.compute_trajectories(model, torch.rand(2, 3, 32, 32), area="area1", condition="present", stride=10)
    state, image = traj.state_at(1, 5)
    assert torch.equal(image, traj.stimuli["image"][1:2])
    for area in model.areas:
        v = torch.randn(2, int(np.prod(model.area_shape(area))))
        ours = linearise.area_jacobian(model, state, image, area)(v)
        with torch.no_grad():
            theirs = model.jacobian_operator(area, state, model.encode(image))(v.view(2, *model.area_shape(area)))
        torch.testing.assert_close(ours, theirs.reshape(2, -1), rtol=1e-4, atol=1e-6)
