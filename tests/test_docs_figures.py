"""README's headline figures are the committed result files' numbers, written by docs/figures.py."""
import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def load_figures():
    spec = importlib.util.spec_from_file_location("docs_figures", DOCS / "figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_headline_table_equals_the_result_files():
    figures = load_figures()
    assert figures.main(["--check"]) == 0, "README.md disagrees with the result files: run python docs/figures.py"


def test_a_changed_number_is_caught():
    figures = load_figures()
    text = figures.README.read_text()
    first = figures.ROWS[0][2]()
    assert first in text
    assert figures.render(text.replace(first, first.replace("×", "x", 1))) == text
