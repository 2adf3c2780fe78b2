"""Any NetCDF assembly plus an image folder as a benchmark; bad input names what is wrong."""
import numpy as np
import pytest
import xarray as xr
from PIL import Image

from neurovision.brain.assembly import benchmark_from_assembly
from neurovision.errors import DataError


def _write(tmp_path, coords, n=12, images=True):
    rng = np.random.default_rng(0)
    ids = [f"stim{i:02d}" for i in range(n)]
    folder = tmp_path / "images"
    (folder / "nested").mkdir(parents=True, exist_ok=True)
    if images:
        for s in ids:
            Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(folder / "nested" / f"{s}.png")
    values = rng.normal(size=(2 * n, 4))
    base = {"stimulus_id": ("presentation", ids * 2), "repetition": ("presentation", np.repeat([0, 1], n)),
            "neuroid_id": ("neuroid", list("abcd")), "region": ("neuroid", ["V4"] * 4)}
    xr.DataArray(values, dims=["presentation", "neuroid"],
                 coords={k: v for k, v in base.items() if k in coords}).to_netcdf(tmp_path / "a.nc")
    return tmp_path / "a.nc", folder


def test_two_dimensional_assembly_with_a_window(tmp_path):
    path, folder = _write(tmp_path, ("stimulus_id", "repetition", "neuroid_id", "region"))
    benchmark = benchmark_from_assembly(path, folder, "lab.V4", window=(50, 150), visual_degrees=4)
    assert benchmark.time_bins == [(50.0, 150.0)] and benchmark.stratify is None
    assert benchmark.responses().sizes == {"presentation": 12, "neuroid": 4, "time_bin": 1}
    images, ids = benchmark.stimuli()
    assert len(images) == 12 and ids == sorted(ids)


def test_missing_coordinates_and_images_are_named(tmp_path):
    path, folder = _write(tmp_path, ("repetition", "neuroid_id", "region"))
    with pytest.raises(DataError, match="lacks required coordinates: stimulus_id \\(on presentation\\)"):
        benchmark_from_assembly(path, folder, "lab.V4", window=(50, 150))
    path, folder = _write(tmp_path, ("stimulus_id", "repetition", "neuroid_id", "region"))
    with pytest.raises(DataError, match="time_bin_start and time_bin_end"):
        benchmark_from_assembly(path, folder, "lab.V4")
    (folder / "nested" / "stim03.png").unlink()
    with pytest.raises(DataError, match="stimulus_id 'stim03'"):
        benchmark_from_assembly(path, folder, "lab.V4", window=(50, 150))
