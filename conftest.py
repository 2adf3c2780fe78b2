"""Test-wide settings: brainscore never pip-installs or writes to home; shared data is optional."""
import os
import tempfile
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="neurovision-tests-"))
os.environ["BS_INSTALL_DEPENDENCIES"] = "no"
os.environ.setdefault("BRAINIO_HOME", str(_TMP / "brainio"))
os.environ.setdefault("RESULTCACHING_HOME", str(_TMP / "resultcaching"))
os.environ.setdefault("RESULTCACHING_DISABLE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def shared_data():
    """The shared data folder; the test is skipped (with the reason) when it is absent."""
    from neurovision.data.paths import data_root

    root = data_root()
    if root is None:
        pytest.skip("shared data folder not found: set NEUROVISION_DATA to the folder with the data sets")
    return root
