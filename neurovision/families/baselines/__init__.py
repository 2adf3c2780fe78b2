"""Baselines every image-computable benchmark is scored against: pixels, a V1-like Gabor bank, and
the scored model's own architecture untrained.

* ``baseline-pixels`` (:class:`~.pixels.PixelBaseline`) and ``baseline-gabor-v1``
  (:class:`~.gabor.GaborV1`): fixed image features behind a leaky temporal filter
  (:class:`~.temporal.LeakyFeatureModel`, tau = 20 ms, dt = 2 ms).
* :func:`untrained_controls`: factories of a model's architecture with random weights, seeds 0, 1, 2.
* :func:`score_control`: score either on a benchmark, the recorded activity cached.
"""
from .gabor import GaborV1
from .pixels import PixelBaseline
from .scoring import image_benchmark, score_control
from .temporal import LeakyFeatureModel
from .untrained import UntrainedControl, untrained_controls, untrained_counterpart

#: registered baseline model ids (plugins models/baseline_pixels, models/baseline_gabor_v1)
BASELINES = ("baseline-pixels", "baseline-gabor-v1")

__all__ = ["BASELINES", "GaborV1", "LeakyFeatureModel", "PixelBaseline", "UntrainedControl",
           "image_benchmark", "score_control", "untrained_controls", "untrained_counterpart"]
