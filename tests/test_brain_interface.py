"""A neurovision model driven through brainscore-vision's own BrainModel interface and benchmark."""
import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from neurovision.brain.brainscore_model import NeurovisionBrainModel
from neurovision.brain.presentation import ModelRecorder, place_on_screen
from neurovision.brain.synthetic import TwoTimescaleModel
from neurovision.errors import NeurovisionError, ScheduleError, UnknownIdError

BINS = [(70, 80), (80, 90), (90, 100), (100, 110)]


@pytest.fixture
def stimulus_set(tmp_path):
    from brainscore_core.supported_data_standards.brainio.stimuli import StimulusSet

    rng = np.random.default_rng(0)
    rows, paths = [], {}
    for i in range(40):
        path = tmp_path / f"img{i:02d}.png"
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(path)
        rows.append({"stimulus_id": f"img{i:02d}", "object_name": f"o{i % 4}", "filename": path.name})
        paths[f"img{i:02d}"] = path
    stimuli = StimulusSet(pd.DataFrame(rows))
    stimuli.stimulus_paths = paths
    stimuli.identifier = "neurovision-test-stimuli"
    return stimuli


def _brain_model(**kw):
    return NeurovisionBrainModel(TwoTimescaleModel(input_shape=(3, 16, 16), units=16), "two-timescale",
                                 region_areas={"IT": "out"}, visual_degrees=8, **kw)


def test_look_at_returns_a_time_resolved_neuroid_assembly(stimulus_set):
    brain = _brain_model()
    brain.start_task(brain.Task.passive)
    brain.start_recording("IT", BINS)
    assembly = brain.look_at(stimulus_set)
    assert assembly.dims == ("presentation", "neuroid", "time_bin")
    assert assembly.shape == (40, 32, 4)
    assert list(assembly["stimulus_id"].values) == list(stimulus_set["stimulus_id"])
    assert set(assembly["object_name"].values) == {"o0", "o1", "o2", "o3"}
    assert list(assembly["time_bin_start"].values) == [70, 80, 90, 100]
    assert set(assembly["region"].values) == {"IT"}
    images = torch.stack([torch.tensor(np.asarray(Image.open(stimulus_set.get_stimulus(s))), dtype=torch.float32)
                          .permute(2, 0, 1) / 255 for s in stimulus_set["stimulus_id"]])
    direct = ModelRecorder(brain.recorder.model, reducer=None, progress=False).record(images, list(
        stimulus_set["stimulus_id"]), "out", BINS)
    np.testing.assert_allclose(assembly.values, direct.values, atol=1e-6)


def test_latency_reads_model_time_earlier(stimulus_set):
    plain, late = _brain_model(), _brain_model(latency_ms=30)
    plain.start_recording("IT", [(40, 50)])
    late.start_recording("IT", [(70, 80)])
    np.testing.assert_allclose(late.look_at(stimulus_set).values, plain.look_at(stimulus_set).values, atol=1e-6)


def test_unsupported_tasks_regions_and_bins_are_clear_errors(stimulus_set):
    brain = _brain_model()
    with pytest.raises(NeurovisionError, match="image_label"):
        brain.start_task(brain.Task.label, "imagenet")
    with pytest.raises(NeurovisionError, match="supports .'passive', 'probabilities', 'label'"):
        brain.start_task(brain.Task.odd_one_out, None)
    with pytest.raises(UnknownIdError, match="region"):
        brain.start_recording("V1", BINS)
    with pytest.raises(ScheduleError, match="before the presentation"):
        brain.start_recording("IT", [(-300, -200)])
    with pytest.raises(NeurovisionError, match="start_recording"):
        brain.look_at(stimulus_set)


def test_probabilities_and_label_tasks_read_out_the_behavior_area(tmp_path):
    """A read-out fitted on labelled stimuli separates classes the features carry (dark/bright)."""
    from brainscore_core.supported_data_standards.brainio.stimuli import StimulusSet

    rng = np.random.default_rng(3)
    rows, paths = [], {}
    for i in range(30):
        label = ("dark", "bright")[i % 2]
        level = 60 if label == "dark" else 190
        paths[f"s{i}"] = tmp_path / f"s{i}.png"
        Image.fromarray(np.clip(level + rng.normal(0, 40, (16, 16, 3)), 0, 255).astype(np.uint8)).save(paths[f"s{i}"])
        rows.append({"stimulus_id": f"s{i}", "image_label": label})
    stimuli = StimulusSet(pd.DataFrame(rows))
    stimuli.stimulus_paths, stimuli.identifier = paths, "labelled"
    fitting, test = stimuli.iloc[:20], stimuli.iloc[20:]
    for part in (fitting, test):
        part.stimulus_paths, part.identifier = paths, "labelled"
    brain = _brain_model()
    brain.start_task(brain.Task.probabilities, fitting)
    probabilities = brain.look_at(test)
    assert probabilities.dims == ("presentation", "choice") and list(probabilities["choice"].values) == ["dark", "bright"]
    np.testing.assert_allclose(probabilities.values.sum(axis=1), 1.0, atol=1e-9)
    brain.start_task(brain.Task.label, fitting)
    assert list(brain.look_at(test).values[:, 0]) == list(test["image_label"])
    brain.start_task(brain.Task.passive)
    brain.start_recording("IT", BINS)
    assert brain.look_at(test).dims == ("presentation", "neuroid", "time_bin")


def test_runs_inside_brainscores_neural_benchmark(stimulus_set, tmp_path, monkeypatch):
    """brainscore's NeuralBenchmark places the images on screen, records and scores with spantime_pls."""
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
    from brainscore_vision import load_metric
    from brainscore_vision.benchmark_helpers import neural_common, screen
    from brainscore_vision.metrics import Score

    monkeypatch.setattr(screen, "root_path", tmp_path / "on_screen")
    brain = _brain_model()
    brain.start_recording("IT", BINS)
    truth = brain.look_at(stimulus_set)  # what a perfect 'neural' recording would be at 8 degrees
    rng = np.random.default_rng(1)
    neural = NeuroidAssembly(truth.values[:, :10] + 0.01 * rng.normal(size=(40, 10, 4)),
                             dims=["presentation", "neuroid", "time_bin"], coords={
        "stimulus_id": ("presentation", truth["stimulus_id"].values),
        "object_name": ("presentation", truth["object_name"].values),
        "neuroid_id": ("neuroid", [f"n{i}" for i in range(10)]), "region": ("neuroid", ["IT"] * 10),
        "time_bin_start": ("time_bin", [b[0] for b in BINS]), "time_bin_end": ("time_bin", [b[1] for b in BINS])})
    neural.attrs["stimulus_set"] = stimulus_set
    metric = load_metric("spantime_pls", crossvalidation_kwargs=dict(stratification_coord="object_name"))
    benchmark = neural_common.NeuralBenchmark(
        identifier="neurovision-test", assembly=neural, similarity_metric=metric, visual_degrees=8,
        number_of_trials=1, ceiling_func=lambda: Score(np.ones(4)), version=1, parent="IT")
    with joblib.parallel_config(backend="threading"):
        score = benchmark(brain)
    assert score.shape == (4,) and np.all(score.values > 0.5)


def test_place_on_screen_equals_brainscores_converter(tmp_path):
    from brainscore_vision.benchmark_helpers.screen import ImageConverter

    rng = np.random.default_rng(2)
    array = rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)
    image = torch.as_tensor(array, dtype=torch.float32).permute(2, 0, 1)[None] / 255
    converter = ImageConverter(tmp_path)
    for source, target in ((8.0, 12.0), (10.0, 7.0)):
        theirs = np.asarray(converter.apply_ratio(Image.fromarray(array), target / source)) / 255
        ours = place_on_screen(image, source, target)[0].permute(1, 2, 0).numpy()
        np.testing.assert_allclose(ours, theirs, atol=1e-6)
