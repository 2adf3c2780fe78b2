"""A trivial model -- raw pixels read 500 ms before the neural bin, i.e. from the blank screen
before the image -- is not reported as beating the Gabor bank on real V4 data."""
import numpy as np
import pytest

import neurovision
from neurovision.brain import ScoreConfig, score_model
from neurovision.brain.compare import compare

pytestmark = pytest.mark.slow


def test_pixels_at_minus_500_ms_do_not_beat_the_gabor_bank(shared_data):
    try:
        benchmark = neurovision.load_benchmark("cowley2023.V4")
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    ids = np.unique(benchmark.recording["stimulus_id"].values)[:160]
    small = benchmark.subset(ids)
    common = dict(regression="ridge", controls=("image",), n_permutations=19, seed=0)
    trivial = score_model("baseline-pixels", small, config=ScoreConfig(shift=-500.0, **common),
                          progress=False)
    gabor = score_model("baseline-gabor-v1", small, config=ScoreConfig(shift=50.0, **common),
                        progress=False)
    verdict = compare(trivial, gabor)
    assert verdict.attrs["verdict"] != "A better"
    assert verdict.attrs["overall_difference"] < 0
