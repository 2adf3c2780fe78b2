"""Streaming PCA trajectories of models and recordings; oscillation measures of responses."""
import numpy as np
import pytest
import torch

from neurovision.analysis import (
    StreamingPCA,
    activity_trajectories,
    linear_modes,
    model_trajectories,
    response_overshoot,
    switch_schedule,
)
from neurovision.analysis.pca import array_source
from neurovision.analysis.systems import LinearRNN
from neurovision.dynamics import Schedule, integrate, record
from neurovision.dynamics.reference import LeakyLinear
from neurovision.errors import DataError, ShapeError


@pytest.fixture(autouse=True)
def _one_thread():  # small dense algebra: threads only contend on shared machines
    before = torch.get_num_threads(); torch.set_num_threads(1); yield; torch.set_num_threads(before)  # noqa: E702


def exact_pca(rows, k):
    centred = rows - rows.mean(0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    return vt[:k], s**2 / len(rows)


def test_streaming_pca_matches_the_full_decomposition():
    rng = np.random.default_rng(0)
    scales = np.array([10.0, 6.0, 3.0, 1.5])
    data = (rng.standard_normal((3000, 4)) * scales) @ np.linalg.qr(rng.standard_normal((300, 4)))[0].T
    data += 0.05 * rng.standard_normal(data.shape) + 3.0
    pca = StreamingPCA(4, n_iter=4).fit(array_source(data, chunk=256))
    components, variance = exact_pca(data, 4)
    assert np.allclose(pca.explained_variance_, variance[:4], rtol=1e-6)
    overlap = np.abs(pca.components_.numpy() @ components.T)
    assert np.allclose(np.diag(overlap), 1.0, atol=1e-6)
    assert pca.explained_variance_ratio_.sum() == pytest.approx(variance[:4].sum() / variance.sum())
    assert pca.n_samples_ == 3000 and pca.n_passes_ == 4
    with pytest.raises(DataError, match="NaN"):
        StreamingPCA(2).fit(array_source(np.full((4, 3), np.nan)))


def leaky_rows(model, images, schedule):
    """Materialised activity rows (presentation-major, then time) for the exact reference."""
    with torch.no_grad():
        frames = [s["rate"].reshape(len(images), -1) for _, _, s in integrate(model, images, schedule)]
    return torch.stack(frames, 1).reshape(-1, frames[0].shape[1]).double().numpy()


def test_model_trajectories_equal_exact_pca_of_the_run():
    model = LeakyLinear((1, 6, 6), tau=10.0, dt=1.0)
    images = torch.rand(5, 1, 6, 6, generator=torch.Generator().manual_seed(0))
    schedule = Schedule.parse("blank:10,image:40,blank:30")
    traj = model_trajectories(model, images, schedule, "rate", n_components=3, batch_size=2,
                              conditions={"label": [0, 1, 0, 1, 2]})
    rows = leaky_rows(model, images, schedule)
    components, _ = exact_pca(rows, 3)
    signs = np.sign(np.sum(traj.pca.components_.numpy() * components, axis=1))
    expected = ((rows - rows.mean(0)) @ components.T * signs).reshape(5, 80, 3)
    assert np.allclose(traj.projections.values, expected, atol=1e-8)
    proj = traj.projections
    assert proj.dims == ("presentation", "time", "component")
    assert proj["time_ms"].values[0] == -9.0 and proj["time_ms"].values[-1] == 70.0  # onset = 0
    assert list(np.unique(proj["epoch"].values)) == ["blank", "image"]
    average = traj.condition_average("label")
    assert average.sizes["label"] == 3
    assert np.allclose(average.sel(label=0), proj.isel(presentation=[0, 2]).mean("presentation"))


def test_switch_experiment_runs_the_second_image_from_where_the_first_left():
    model = LeakyLinear((1, 4, 4), tau=5.0, dt=1.0)
    gen = torch.Generator().manual_seed(1)
    first, second = torch.rand(3, 1, 4, 4, generator=gen), torch.rand(3, 1, 4, 4, generator=gen)
    schedule = switch_schedule(blank_ms=5, first_ms=60, second_ms=60, after_ms=0)
    assert str(schedule) == "blank:5,first:60,second:60"
    # the states span at most 6 (3) dimensions, so that many components reconstruct them exactly
    traj = model_trajectories(model, {"first": first, "second": second}, schedule, "rate", n_components=6)
    alone = model_trajectories(model, {"first": second}, switch_schedule(5, 60, 0, 0), "rate", n_components=3)
    ends = [t.projections.isel(time=-1).values @ t.pca.components_.numpy() + t.pca.mean_.numpy()
            for t in (traj, alone)]
    assert np.allclose(ends[0], ends[1], atol=1e-4)  # 60 ms = 12 tau: both settle on the drive
    assert np.allclose(ends[1], (model.gain * second.reshape(3, -1)).numpy(), atol=1e-4)
    assert set(traj.projections["epoch"].values) == {"blank", "first", "second"}


def test_recorded_activity_trajectories_and_regions():
    model = LeakyLinear((1, 4, 4), tau=10.0, dt=1.0)
    images = torch.rand(6, 1, 4, 4, generator=torch.Generator().manual_seed(2))
    activity = record(model, images, "blank:20,image:50", time_bins="-20:50:10", progress=False)
    activity = activity.assign_coords(category=("presentation", np.array(["a", "b", "a", "b", "c", "c"])))
    traj = activity_trajectories(activity, n_components=2)
    assert traj.projections.sizes == {"presentation": 6, "time": 7, "component": 2}
    assert np.allclose(traj.projections["time_ms"], np.arange(-15, 50, 10))
    assert traj.condition_average("category").sizes["category"] == 3
    with pytest.raises(DataError, match="region"):
        activity_trajectories(activity, region="V4")


def test_linear_modes_of_a_damped_oscillation():
    dt, decay, omega = 1.0, 50.0, 2 * np.pi / 40  # 25 Hz for dt in ms
    t = np.arange(300) * dt
    x = np.exp(-t / decay)[:, None] * np.c_[np.cos(omega * t), np.sin(omega * t)] + np.array([2.0, -1.0])
    modes = linear_modes(x, dt)
    assert np.allclose(modes["real"], -1 / decay) and np.allclose(modes["imag"].abs(), omega)
    assert np.allclose(modes["frequency_hz"], 25.0) and np.allclose(modes["decay_ms"], decay)
    assert np.allclose(modes["cycles_per_decay"], omega * decay / (2 * np.pi))
    with pytest.raises(ShapeError):
        linear_modes(x[:3], dt)


@pytest.mark.parametrize("zeta", [0.2, 0.5])
def test_overshoot_of_an_underdamped_step_response(zeta):
    # second-order system x'' + 2 zeta w x' + w^2 x = w^2: overshoot exp(-zeta pi / sqrt(1 - zeta^2))
    w, tau = 0.3, 1.0
    weight = np.array([[1 - tau * 0.0, tau * 1.0], [-tau * w**2, 1 - tau * 2 * zeta * w]])
    model = LinearRNN(weight, bias=[0.0, tau * w**2], tau=tau, dt=0.01)
    state = {"r": torch.zeros(1, 2, dtype=torch.float64)}
    path = [s["r"][0].numpy() for _, _, s in integrate(model, {}, Schedule.parse("delay:200"), state=state)]
    position = np.array(path)[:, :1]
    assert response_overshoot(position) == pytest.approx(np.exp(-zeta * np.pi / np.sqrt(1 - zeta**2)), rel=0.01)
    with pytest.raises(DataError):
        response_overshoot(np.ones((5, 2)))
