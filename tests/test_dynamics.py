"""The continuous-time core against the analytic leaky linear model."""
import numpy as np
import pytest
import torch

import neurovision
from neurovision.dynamics import Schedule, integrate, load_activity, record, save_activity
from neurovision.dynamics.reference import LeakyLinear
from neurovision.dynamics.runner import shared_blank
from neurovision.errors import CorruptFileError, DataError, DivergenceError, OutputPathError, ScheduleError

SCHEDULE = Schedule.parse("blank:20,image:40,blank:40")


def _images(n=3, seed=0):
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed))


def _max_error(dt):
    model = LeakyLinear(tau=10.0, dt=dt)
    times, states = [], []
    for _, t, state in integrate(model, _images(), SCHEDULE):
        times.append(t)
        states.append(state["rate"])
    exact = model.exact(_images(), SCHEDULE, np.array(times))
    return (torch.stack(states) - exact).abs().max().item()


def test_euler_converges_first_order():
    errors = [_max_error(dt) for dt in (2.0, 1.0, 0.5, 0.25)]
    ratios = [errors[i] / errors[i + 1] for i in range(3)]
    assert errors[-1] < 0.01
    assert all(1.8 < r < 2.2 for r in ratios), ratios  # halving dt halves the error


def test_binning_is_the_mean_of_samples_in_each_bin():
    model = LeakyLinear(dt=1.0)
    images = _images(5)
    activity = record(model, images, SCHEDULE, ["rate"], "-10:60:10", batch_size=2, progress=False)
    assert activity.dims == ("presentation", "neuroid", "time_bin")
    assert activity.shape == (5, 64, 7)
    states = torch.stack([s["rate"] for _, _, s in integrate(model, images, SCHEDULE)])
    times = SCHEDULE.step_times(1.0)
    for j, (start, end) in enumerate(zip(activity.time_bin_start.values, activity.time_bin_end.values)):
        inside = (times > start) & (times <= end)
        expected = states[torch.as_tensor(inside)].mean(0).reshape(5, -1)
        np.testing.assert_allclose(activity.values[:, :, j], expected.numpy(), rtol=1e-6, atol=1e-7)
    assert float(activity.sel(time_bin=0).max()) == 0.0  # before onset nothing is on screen


class Decaying(LeakyLinear):
    """Starts away from its blank steady state, so the opening blank changes the state."""

    def initial_state(self, batch_size):
        return {"rate": self.gain.new_ones(batch_size, *self.input_shape)}


class Noisy(Decaying):
    def step(self, state, drive):
        out = super().step(state, drive)
        return {"rate": out["rate"] + 0.01 * torch.randn_like(out["rate"])}


def test_opening_blank_is_integrated_once_for_the_batch_and_equals_per_row():
    model, images = Decaying(dt=1.0), _images(6)
    keys, times = SCHEDULE.step_stimuli(1.0), SCHEDULE.step_times(1.0)
    with torch.no_grad():
        lead = shared_blank(model, 6, keys, times)
        assert len(lead) == 20 and lead[0][0]["rate"].stride(0) == 0  # views of one row until the image
        shared = record(model, images, SCHEDULE, "rate", "-20:60:10", progress=False)
    per_row = record(model, images, SCHEDULE, "rate", "-20:60:10", batch_size=2, progress=False)  # too small to share
    np.testing.assert_allclose(shared.values, per_row.values, rtol=1e-6)
    assert float(shared.sel(time_bin=0).min()) > 0.3  # the blank did decay from 1, not skipped
    with torch.no_grad():
        assert shared_blank(Noisy(dt=1.0), 6, keys, times) == []  # rows would differ: whole batch
        noisy = record(Noisy(dt=1.0), images, SCHEDULE, "rate", "-20:0:10", progress=False)
    assert not np.allclose(noisy.values[0], noisy.values[1])


def test_coordinates_follow_neuroid_assembly():
    activity = record(LeakyLinear(), _images(2), SCHEDULE, "rate", "0:40:20",
                      stimulus_ids=["a", "b"], progress=False)
    assert list(activity.stimulus_id.values) == ["a", "b"]
    assert activity.neuroid_id.values[9] == "rate.9"
    assert (activity.row.values[9], activity.col.values[9]) == (1, 1)
    assert set(activity.region.values) == {"rate"}
    assert list(activity.time_bin_start.values) == [0, 20]


def test_netcdf_roundtrip_is_lossless(tmp_path):
    activity = record(LeakyLinear(), _images(2), SCHEDULE, "rate", "0:40:10", progress=False)
    path = save_activity(activity, tmp_path / "sub" / "a.nc")
    back = load_activity(path)
    assert back.identical(activity)
    assert not list(tmp_path.glob("sub/.*tmp"))


def test_corrupt_and_missing_netcdf(tmp_path):
    activity = record(LeakyLinear(), _images(2), SCHEDULE, "rate", "0:40:10", progress=False)
    path = save_activity(activity, tmp_path / "a.nc")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError, match="truncated"):
        load_activity(path)
    with pytest.raises(FileNotFoundError):
        load_activity(tmp_path / "missing.nc")


def test_unwritable_output_keeps_previous(tmp_path):
    activity = record(LeakyLinear(), _images(2), SCHEDULE, "rate", "0:40:10", progress=False)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputPathError, match="writable"):
        save_activity(activity, blocker / "a.nc")


def test_bad_inputs():
    model = LeakyLinear()
    with pytest.raises(ScheduleError, match="outside the schedule"):
        record(model, _images(), SCHEDULE, "rate", "0:100:10", progress=False)
    nan = _images()
    nan[1, 0, 0, 0] = float("nan")
    with pytest.raises(DataError, match="NaN"):
        record(model, nan, SCHEDULE, "rate", "0:40:10", progress=False)
    with pytest.raises(neurovision.errors.UnknownIdError, match="Valid area ids: rate"):
        record(model, _images(), SCHEDULE, "V4", "0:40:10", progress=False)
    with pytest.raises(ScheduleError, match="not a multiple"):
        record(LeakyLinear(dt=3.0), _images(), SCHEDULE, "rate", "0:40:10", progress=False)


def test_divergence_names_step_and_area():
    class Exploding(LeakyLinear):
        def step(self, state, drive):
            return {"rate": state["rate"] * 0 + (float("inf") if drive is not None else 0.0)}

    with pytest.raises(DivergenceError, match=r"area 'rate' .* after step 21 \(t = 1 ms\)"):
        record(Exploding(), _images(), SCHEDULE, "rate", "0:40:10", progress=False)
