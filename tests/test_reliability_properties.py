"""Property-based tests (hypothesis) of schedule and time-bin parsing and assembly construction."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurovision.dynamics import (Epoch, Schedule, bin_membership, load_activity, make_activity,
                                  parse_time_bins, save_activity)
from neurovision.dynamics.schedule import BLANK_NAMES
from neurovision.errors import ScheduleError

#: generous limits: the shared CI machine can be slow to generate and run examples
RELAXED = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9_\-]{0,8}", fullmatch=True)
DURATIONS = st.one_of(st.integers(1, 10_000).map(float),
                      st.floats(1e-3, 1e7, allow_nan=False, allow_infinity=False))


@st.composite
def epochs(draw):
    name = draw(st.one_of(st.sampled_from(sorted(BLANK_NAMES)), NAMES))
    stimulus = draw(st.one_of(st.none(), st.just(name), NAMES))
    return Epoch(name, draw(DURATIONS), stimulus)


@RELAXED
@given(st.lists(epochs(), min_size=1, max_size=6))
def test_schedule_text_round_trip(items):
    schedule = Schedule(items)
    assert Schedule.parse(str(schedule)) == schedule


@RELAXED
@given(st.lists(st.tuples(st.sampled_from(["blank", "image", "delay", "probe"]), st.integers(1, 50)),
                min_size=1, max_size=5),
       st.sampled_from([0.5, 1.0, 2.0, 5.0]))
def test_steps_tile_the_schedule(parts, dt):
    schedule = Schedule.parse(",".join(f"{name}:{n * dt:g}" for name, n in parts))
    counts = schedule.n_steps(dt)
    assert counts == [n for _, n in parts]
    times = schedule.step_times(dt)
    assert len(times) == sum(counts) == len(schedule.step_stimuli(dt))
    assert np.all(np.diff(times) > 0)
    assert times[-1] == pytest.approx(schedule.duration - schedule.time_zero)
    shown = [key for key in schedule.step_stimuli(dt) if key is not None]
    assert len(shown) == sum(n for name, n in parts if name not in BLANK_NAMES)


@RELAXED
@given(st.text(max_size=40))
def test_schedule_parser_fails_only_with_schedule_error(text):
    try:
        schedule = Schedule.parse(text)
    except ScheduleError as exc:
        assert str(exc)
    else:
        assert all(e.duration > 0 for e in schedule.epochs)


@RELAXED
@given(st.text(alphabet="0123456789:-,. e", max_size=30))
def test_time_bin_parser_fails_only_with_schedule_error(text):
    try:
        bins = parse_time_bins(text)
    except ScheduleError as exc:
        assert str(exc)
    else:
        assert bins and all(end > start for start, end in bins)


@RELAXED
@given(st.integers(-300, 300), st.integers(1, 40), st.integers(1, 50))
def test_regular_bins_are_contiguous(start, n, width):
    bins = parse_time_bins(f"{start}:{start + n * width}:{width}")
    assert len(bins) == n
    assert bins[0][0] == start and bins[-1][1] == start + n * width
    assert all(a[1] == b[0] for a, b in zip(bins, bins[1:]))
    assert parse_time_bins(",".join(f"{a:g}-{b:g}" for a, b in bins)) == bins


@RELAXED
@given(st.integers(1, 30), st.integers(1, 10), st.sampled_from([0.5, 1.0, 2.0]))
def test_each_step_falls_in_exactly_one_contiguous_bin(n, width_steps, dt):
    width = width_steps * dt
    bins = parse_time_bins([(i * width, (i + 1) * width) for i in range(n)])
    times = np.arange(1, n * width_steps + 1) * dt
    member = bin_membership(times, bins)
    assert np.all(member.sum(1) == 1)
    assert np.all(member.sum(0) == width_steps)


@st.composite
def assemblies(draw):
    areas = draw(st.lists(NAMES, min_size=1, max_size=3, unique=True))
    n = draw(st.integers(1, 5))
    bins = [(10.0 * i, 10.0 * (i + 1)) for i in range(draw(st.integers(1, 4)))]
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    values = {a: rng.standard_normal((n, draw(st.integers(1, 6)), len(bins))).astype(np.float32)
              for a in areas}
    ids = draw(st.lists(NAMES, min_size=n, max_size=n, unique=True))
    return values, ids, bins


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(assemblies())
def test_assembly_construction_and_netcdf_round_trip(tmp_path, case):
    values, ids, bins = case
    activity = make_activity(values, ids, bins)
    total = sum(v.shape[1] for v in values.values())
    assert activity.dims == ("presentation", "neuroid", "time_bin")
    assert activity.shape == (len(ids), total, len(bins))
    assert len(set(activity.neuroid_id.values)) == total
    for area, block in values.items():
        np.testing.assert_array_equal(activity.isel(neuroid=activity.region.values == area).values, block)
    assert list(activity.stimulus_id.values) == ids
    back = load_activity(save_activity(activity, tmp_path / "a.nc"))
    np.testing.assert_array_equal(back.values, activity.values)
    for coord in ("stimulus_id", "neuroid_id", "region", "time_bin_start", "time_bin_end"):
        np.testing.assert_array_equal(back[coord].values, activity[coord].values)
