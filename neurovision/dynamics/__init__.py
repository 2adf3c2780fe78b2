"""The continuous-time core: schedules, model interface, integration, recording."""
from .activity import load_activity, make_activity, save_activity
from .base import DynamicalModel, SampledModel, State, SteppedModel
from .runner import check_finite, integrate, record, record_batch
from .schedule import Epoch, Schedule, bin_membership, parse_time_bins

__all__ = [
    "DynamicalModel", "Epoch", "SampledModel", "Schedule", "State", "SteppedModel",
    "bin_membership", "check_finite", "integrate", "load_activity", "make_activity",
    "parse_time_bins", "record", "record_batch", "save_activity",
]
