"""baseline-gabor-v1: Gabor energy (0.5-4 cycles/deg x 8 orientations), divisive normalisation,
5 x 5 pooling over 8 deg, behind a leaky filter (tau 20 ms, dt 2 ms)."""
from neurovision import model_registry


def _build(**kwargs):
    from neurovision.families.baselines.gabor import GaborV1

    return GaborV1(**kwargs)


model_registry["baseline-gabor-v1"] = _build
