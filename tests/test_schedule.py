"""Schedules and time bins: parsing, step counts, validation (examples and properties)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from neurovision.dynamics import Epoch, Schedule, bin_membership, parse_time_bins
from neurovision.errors import ScheduleError


def test_parse_and_steps():
    s = Schedule.parse("blank:100, image:100 ,blank:100")
    assert [e.stimulus for e in s.epochs] == [None, "image", None]
    assert s.duration == 300 and s.time_zero == 100
    assert s.n_steps(2.0) == [50, 50, 50]
    keys = s.step_stimuli(2.0)
    assert keys[49] is None and keys[50] == "image" and keys[99] == "image" and keys[100] is None
    times = s.step_times(2.0)
    assert times[0] == -98 and times[-1] == 200


def test_explicit_stimulus_and_roundtrip_text():
    s = Schedule.parse("blank:20,first=a:30,second=b:30,delay:10")
    assert s.stimuli == ["a", "b"]
    assert Schedule.parse(str(s)) == s


@pytest.mark.parametrize("bad", ["", "blank", "blank:-5", "blank:0", "image:abc", "image:nan"])
def test_malformed_schedules(bad):
    with pytest.raises(ScheduleError):
        Schedule.parse(bad)


def test_duration_not_multiple_of_dt_names_the_fix():
    with pytest.raises(ScheduleError, match="not a multiple of dt = 2 ms; use 100 ms"):
        Schedule.parse("image:101").n_steps(2.0)


def test_time_bins_forms():
    assert parse_time_bins("70:100:10") == [(70, 80), (80, 90), (90, 100)]
    assert parse_time_bins("0-50, 50-100") == [(0, 50), (50, 100)]
    assert parse_time_bins([(0, 5)]) == [(0.0, 5.0)]
    for bad in ["70:60:10", "0:100:30", "a-b", "10-5", ""]:
        with pytest.raises(ScheduleError):
            parse_time_bins(bad)


def test_bins_outside_schedule_rejected():
    s = Schedule.parse("blank:50,image:100")
    s.check_bins([(-50, 100)])
    with pytest.raises(ScheduleError, match="outside the schedule"):
        s.check_bins([(90, 110)])


@given(st.floats(-200, 200).map(lambda v: round(v)), st.integers(1, 30), st.integers(1, 20))
def test_range_spec_property(start, width, n):
    bins = parse_time_bins(f"{start}:{start + width * n}:{width}")
    assert len(bins) == n
    assert all(b - a == pytest.approx(width) for a, b in bins)
    assert all(bins[i][1] == pytest.approx(bins[i + 1][0]) for i in range(n - 1))


@given(st.lists(st.tuples(st.sampled_from(["blank", "image", "delay"]), st.integers(1, 50)), min_size=1, max_size=6),
       st.sampled_from([0.5, 1.0, 2.0]))
def test_schedule_property(epochs, dt):
    s = Schedule([Epoch(n, d * dt, None if n != "image" else "image") for n, d in epochs])
    counts = s.n_steps(dt)
    assert sum(counts) * dt == pytest.approx(s.duration)
    assert len(s.step_stimuli(dt)) == sum(counts)
    member = bin_membership(s.step_times(dt), [(-s.time_zero, s.duration - s.time_zero)])
    assert member.all()  # every step lies in the bin spanning the whole schedule
