import json

import pytest

import neurovision
from neurovision.errors import CorruptFileError
from neurovision.reliability.weights import verify_weights

from .model import RUN


def test_loads_the_run_it_ships():
    model = neurovision.load_model("backend-random-dot-motion")
    run = json.loads((RUN / "evaluation.json").read_text())["run"]
    assert run["task"] == "random-dot-motion" and run["frontend"] == "cordsnet-r2-cifar10:area2"
    assert sum(p.numel() for p in model.parameters()) > 0


def test_a_changed_weights_file_is_refused(tmp_path):
    (tmp_path / "model.pt").write_bytes((RUN / "model.pt").read_bytes()[:-1] + b"x")
    (tmp_path / "MANIFEST.json").write_text((RUN / "MANIFEST.json").read_text())
    with pytest.raises(CorruptFileError, match="sha256"):
        verify_weights(tmp_path / "model.pt")
