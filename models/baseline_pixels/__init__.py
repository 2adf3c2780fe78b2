"""baseline-pixels: grayscale pixels (24 x 24 over 8 deg) behind a leaky filter (tau 20 ms, dt 2 ms)."""
from neurovision import model_registry


def _build(**kwargs):
    from neurovision.families.baselines.pixels import PixelBaseline

    return PixelBaseline(**kwargs)


model_registry["baseline-pixels"] = _build
