"""brainscore-vision's own benchmark classes run an exported plugin; scores equal `neurovision score`.

Local assemblies (MajajHong2015-shaped: stimulus_id, repetition, object_name; NeuroidAssembly
and StimulusSet in tmp, nothing downloaded) are scored twice: by brainscore's NeuralBenchmark
(single bin with the `pls` metric and `internal_consistency`, 10-ms bins with `spantime_pls` and
`internal_consistency_temporal`, as MajajHong2015's benchmarks are built) on the exported
plugin, and by `neurovision score` on the same NetCDF and images registered as a benchmark plugin.
"""
import shutil
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

import neurovision
from neurovision.brain.presentation import ModelRecorder
from neurovision.brain.results import load_results
from neurovision.cli import main

SINGLE = [(50, 150)]
TEMPORAL = [(t, t + 10) for t in range(40, 140, 10)]
PLUGIN = '''from pathlib import Path
from neurovision import benchmark_registry

HERE = Path(__file__).parent


def _build():
    from neurovision.brain.assembly import benchmark_from_assembly

    return benchmark_from_assembly(HERE / "assembly.nc", HERE / "images", "mylab.{name}", visual_degrees=8)


benchmark_registry["mylab.{name}"] = _build
'''


def _local(tmp_path, name, bins, n_images=80, repetitions=3, seed=0):
    """Trials, StimulusSet, NetCDF and a neurovision benchmark plugin folder for ``bins``."""
    from brainscore_core.supported_data_standards.brainio.assemblies import NeuronRecordingAssembly
    from brainscore_core.supported_data_standards.brainio.stimuli import StimulusSet

    rng = np.random.default_rng(seed)
    root = tmp_path / "plugins" / "benchmarks" / name
    (root / "images" / "set").mkdir(parents=True)
    pixels = rng.integers(0, 255, (n_images, 8, 8), dtype=np.uint8)
    ids = np.array([f"{h:040x}" for h in rng.integers(0, 2**62, n_images)])  # not in sorted order
    objects = np.array([f"object{i % 4}" for i in range(n_images)])
    paths = {}
    for stimulus, image in zip(ids, pixels):
        paths[stimulus] = root / "images" / "set" / f"{stimulus}.png"
        Image.fromarray(np.repeat(image[..., None], 3, axis=2)).save(paths[stimulus])
    x = torch.as_tensor(pixels, dtype=torch.float32)[:, None] / 255
    model = neurovision.load_model("leaky-linear")
    activity = ModelRecorder(model, reducer=None, progress=False).record(x, list(ids), "rate", bins).values
    weights = rng.normal(size=(activity.shape[1], 12))
    signal = np.einsum("pft,fn->pnt", activity, weights)
    trials = signal[None] + 0.5 * signal.std() * rng.normal(size=(repetitions,) + signal.shape)
    coords = {
        "stimulus_id": ("presentation", np.tile(ids, repetitions)),
        "repetition": ("presentation", np.repeat(np.arange(repetitions), n_images)),
        "object_name": ("presentation", np.tile(objects, repetitions)),
        "neuroid_id": ("neuroid", [f"n{i:02d}" for i in range(12)]), "region": ("neuroid", ["IT"] * 12),
        "time_bin_start": ("time_bin", [b[0] for b in bins]), "time_bin_end": ("time_bin", [b[1] for b in bins])}
    assembly = NeuronRecordingAssembly(trials.reshape(-1, 12, len(bins)),
                                       dims=["presentation", "neuroid", "time_bin"], coords=coords)
    assembly.reset_index(["presentation", "neuroid", "time_bin"]).to_netcdf(root / "assembly.nc")
    (root / "__init__.py").write_text(PLUGIN.format(name=name))
    stimuli = StimulusSet(pd.DataFrame({"stimulus_id": ids, "object_name": objects}))
    stimuli.stimulus_paths = paths
    stimuli.identifier = f"neurovision-local-{name}"
    assembly.attrs["stimulus_set"] = stimuli
    return assembly, tmp_path / "plugins"


def _brainscore_benchmark(trials, temporal: bool):
    """brainscore's NeuralBenchmark built as its MajajHong2015 benchmarks are."""
    from brainscore_vision import load_ceiling, load_metric
    from brainscore_vision.benchmark_helpers.neural_common import NeuralBenchmark, average_repetition

    average = average_repetition(trials)
    if not temporal:
        trials, average = trials.squeeze("time_bin"), average.squeeze("time_bin")
    metric = load_metric("spantime_pls" if temporal else "pls",
                         crossvalidation_kwargs=dict(stratification_coord="object_name"))
    ceiler = load_ceiling("internal_consistency_temporal" if temporal else "internal_consistency")
    return NeuralBenchmark(identifier="local", assembly=average, similarity_metric=metric, visual_degrees=8,
                           number_of_trials=1, ceiling_func=lambda: ceiler(trials), version=1, parent="IT")


@pytest.fixture
def exported(tmp_path, monkeypatch):
    """leaky-linear exported as a plugin inside brainscore_vision/models, loaded by brainscore."""
    import brainscore_vision
    from brainscore_vision.benchmark_helpers import screen

    monkeypatch.setenv("BS_INSTALL_DEPENDENCIES", "no")
    monkeypatch.setattr(screen, "root_path", tmp_path / "on_screen")
    name = f"neurovision_bench_test_{abs(hash(str(tmp_path))) % 10**8}"
    folder = Path(brainscore_vision.__file__).parent / "models" / name
    if main(["export-brainscore", "leaky-linear", str(folder), "--region-areas", "IT=rate",
             "--identifier", f"{name}-leaky"]) != 0:
        pytest.skip("brainscore_vision's models folder is not writable here")
    try:
        yield brainscore_vision.load_model(f"{name}-leaky"), folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        for module in [m for m in sys.modules if m.startswith(f"brainscore_vision.models.{name}")]:
            del sys.modules[module]


def _ours(plugins, name, out):
    neurovision.add_plugin_folder(plugins)
    assert main(["score", "leaky-linear", f"mylab.{name}", "--area", "rate", "--shift", "0",
                 "--controls", "none", "--permutations", "0", "--quiet", "--out", str(out)]) == 0
    return load_results(out / "results.nc").squeeze("region")


@pytest.mark.parametrize("name,bins", [("single", SINGLE), ("temporal", TEMPORAL)])
def test_brainscore_benchmarks_score_the_exported_plugin_as_neurovision_score_does(tmp_path, exported, name, bins):
    brain, folder = exported
    trials, plugins = _local(tmp_path, name, bins)
    benchmark = _brainscore_benchmark(trials, temporal=len(bins) > 1)
    with joblib.parallel_config(backend="threading"):
        theirs = benchmark(brain)
    ours = _ours(plugins, name, tmp_path / f"out-{name}")
    raw, ceiling = np.atleast_1d(theirs.raw.values), np.atleast_1d(theirs.attrs["ceiling"].values)
    kept = ceiling >= 0.1  # below that neurovision leaves the normalised score NaN (min_ceiling)
    differences = {"score": np.abs(ours["score"].values - raw).max(),
                   "ceiling": np.abs(ours["ceiling"].values - ceiling).max(),
                   "normalized": np.abs(ours["normalized_score"].values[kept] - np.atleast_1d(theirs.values)[kept]).max()}
    print(f"max |neurovision - brainscore| ({name}):", differences)
    assert max(differences.values()) < 1e-6 and kept.sum() >= len(bins) - 3
    assert raw[kept].min() > 0.3  # the planted signal is found, so equality is not between two failures
    project = _pyproject()
    assert (folder / "requirements.txt").read_text() == f"{project['name']}[brainscore]=={project['version']}\n"


def _pyproject() -> dict:
    import tomllib

    return tomllib.loads((Path(neurovision.__file__).parents[1] / "pyproject.toml").read_text())["project"]


def test_splits_hold_brainscores_test_stimuli_and_per_split_scores(tmp_path, exported):
    """Averaged stimuli are in brainscore's order, so every split tests the same stimuli."""
    from brainscore_vision.benchmark_helpers.neural_common import average_repetition
    from brainscore_vision.metric_helpers.transformations import Split

    from neurovision.brain.splits import brainscore_splits

    brain, _ = exported
    trials, plugins = _local(tmp_path, "splits", TEMPORAL[:6], seed=3)
    values, splits = Split(stratification_coord="object_name").build_splits(average_repetition(trials))
    theirs_test = [sorted(values[test]["stimulus_id"].values.tolist()) for _, test in splits]
    neurovision.add_plugin_folder(plugins)
    benchmark = neurovision.load_benchmark("mylab.splits")
    ids = benchmark.responses()["stimulus_id"].values
    assert list(ids) == sorted(ids) and list(ids) != list(trials["stimulus_id"].values[:len(ids)])
    ours = brainscore_splits(len(ids), benchmark.strata())
    assert [sorted(ids[test].tolist()) for test in ours.test] == theirs_test
    with joblib.parallel_config(backend="threading"):
        score = _brainscore_benchmark(trials, temporal=True)(brain)
    per_split = score.raw.raw.median("neuroid").transpose("split", "time_bin").values
    result = _ours(plugins, "splits", tmp_path / "out-splits")
    ours_per_split = result["r"].median("neuroid").transpose("split", "time_bin").values
    print("max |per-split difference|:", np.abs(ours_per_split - per_split).max())
    np.testing.assert_allclose(ours_per_split, per_split, atol=1e-6)
