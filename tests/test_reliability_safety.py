"""Safe loading: nothing is ever unpickled, checkpoints load weights only, plugins come only from
declared folders, data files are checked against published checksums."""
import gzip
import os
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import neurovision
from neurovision.data.datasets import FASHION_MD5, load_dataset, read_idx
from neurovision.errors import CorruptFileError
from neurovision.io import load_torch
from neurovision.registry import plugin_roots
from neurovision.reliability import file_digest, verify_digest

ROOT = Path(neurovision.__file__).resolve().parent.parent
SCANNED = ["neurovision", "models", "tasks", "benchmarks", "perf"]
#: code patterns that unpickle (or let a library unpickle) data
UNSAFE = [
    (r"^\s*(import|from)\s+(c?pickle|_pickle|dill|cloudpickle|shelve|marshal)\b", "imports an unpickler"),
    (r"\b(joblib|pickle|dill|cloudpickle)\.(load|loads|Unpickler)\b", "unpickles"),
    (r"^\s*from\s+joblib\s+import\s+.*\b(load|Unpickler)\b", "imports joblib's unpickler"),
    (r"allow_pickle\s*=\s*True", "lets numpy unpickle"),
    (r"weights_only\s*=\s*False", "lets torch unpickle"),
    (r"\bread_pickle\s*\(", "pandas unpickles"),
    (r"\byaml\.load\s*\(", "unsafe YAML loader"),
    (r"\b(all_gather|gather|broadcast|scatter)_object(_list)?\s*\(", "torch.distributed pickles objects"),
]


def _sources():
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "__pycache__" not in path.parts:
                yield path


def test_no_unpickling_anywhere_in_the_package():
    found = []
    for path in _sources():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for pattern, why in UNSAFE:
                if re.search(pattern, line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {why}: {line.strip()}")
    assert not found, "\n".join(found)


def test_every_torch_load_is_weights_only():
    calls = []
    for path in _sources():
        text = path.read_text()
        for match in re.finditer(r"\btorch\.load\s*\(", text):
            depth, end = 0, match.end() - 1
            for end in range(match.end() - 1, len(text)):
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                if depth == 0:
                    break
            call = text[match.start():end + 1]
            if not re.search(r"weights_only\s*=\s*True", call):
                calls.append(f"{path.relative_to(ROOT)}: {call}")
    assert not calls, "torch.load without weights_only=True:\n" + "\n".join(calls)


class _Payload:
    """Unpickling this object would run code (it creates a marker file)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_a_malicious_checkpoint_runs_no_code(tmp_path):
    marker = tmp_path / "code-ran"
    torch.save({"model": _Payload(marker)}, tmp_path / "evil.pt")
    with pytest.raises(CorruptFileError, match="not a weights-only torch checkpoint"):
        load_torch(tmp_path / "evil.pt")
    assert not marker.exists()


def test_plugins_come_only_from_declared_folders(tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    rogue = tmp_path / "models" / "rogue"
    rogue.mkdir(parents=True)
    (rogue / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("NEUROVISION_PLUGIN_PATH", raising=False)
    assert all(root.resolve() != (tmp_path / "models").resolve() for root, _ in plugin_roots("models"))
    neurovision.model_registry.discover(force=True)
    assert "leaky-linear" in neurovision.model_registry
    assert not marker.exists(), "a models/ folder on sys.path was imported as plugins"
    assert "models" not in sys.modules or not str(getattr(sys.modules["models"], "__file__", "")).startswith(str(tmp_path))


def test_digest_verification(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"neurovision")
    verify_digest(path, file_digest(path, "sha256"), "sha256")
    verify_digest(b"neurovision", file_digest(path, "md5"), "md5")
    with pytest.raises(CorruptFileError, match="published checksum .* Delete it and fetch it again"):
        verify_digest(path, "0" * 32, "md5")
    with pytest.raises(ValueError, match="algorithm"):
        file_digest(path, "crc32")


def test_fashion_mnist_is_checked_against_the_published_checksums(tmp_path, shared_data):
    source = shared_data / "fashion-mnist"
    labels = read_idx(source / "t10k-labels-idx1-ubyte.gz", FASHION_MD5["t10k-labels-idx1-ubyte"])
    assert labels.shape == (10000,) and np.bincount(labels).tolist() == [1000] * 10
    copy = tmp_path / "fashion"
    shutil.copytree(source, copy)
    target = copy / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(target.read_bytes()))
    raw[100] = (raw[100] + 1) % 10  # one label changed: the idx header is still valid
    target.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(CorruptFileError, match="t10k-labels-idx1-ubyte.gz has md5 .* published checksum"):
        load_dataset("fashion-mnist", "test", root=copy)
    os.remove(target)
    with pytest.raises(FileNotFoundError):
        load_dataset("fashion-mnist", "test", root=copy)
