"""Reference model with a closed-form solution (tests, tutorials)."""
from neurovision import model_registry


def _build(**kwargs):
    from neurovision.dynamics.reference import LeakyLinear

    return LeakyLinear(**kwargs)


model_registry["leaky-linear"] = _build
