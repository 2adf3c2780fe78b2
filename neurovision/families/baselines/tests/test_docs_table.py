"""docs/brainscore.md's Baselines table is the committed summary's numbers."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
SCRIPT = ROOT / "experiments" / "brainscore" / "baselines_cowley.py"


def test_docs_table_equals_the_committed_summary():
    spec = importlib.util.spec_from_file_location("baselines_cowley", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    payload = json.loads(SCRIPT.with_suffix(".json").read_text())
    assert {row["kind"] for row in payload["rows"]} >= {"baseline", "untrained", "trained"}
    assert module.table(payload) in (ROOT / "docs" / "brainscore.md").read_text()
