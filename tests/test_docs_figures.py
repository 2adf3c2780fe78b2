"""README's headline figures are the committed result files' numbers, written by docs/figures.py."""
import importlib.util
import json
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def load_script(path: Path, name: str):
    """The module of a script outside the package (docs/, experiments/)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_figures():
    return load_script(DOCS / "figures.py", "docs_figures")


def load_tables():
    """docs/tables.py, as figures.py loads it."""
    return load_figures().TABLES


def test_readme_headline_table_equals_the_result_files():
    figures = load_figures()
    assert figures.main(["--check"]) == 0, "README.md disagrees with the result files: run python docs/figures.py"


def test_a_changed_number_is_caught():
    figures = load_figures()
    text = figures.README.read_text()
    first = figures.ROWS[0][2]()
    assert first in text
    assert figures.render(text.replace(first, first.replace("×", "x", 1))) == text


def test_every_generated_table_is_on_its_page_and_equals_the_result_files():
    tables = load_tables()
    assert tables.missing_blocks() == [], "table blocks missing from their pages"
    assert tables.differing_pages() == [], "run python docs/tables.py"


def test_a_changed_number_in_a_table_block_is_caught():
    tables = load_tables()
    name = "dcn-small-data"
    page = tables.TABLES[name][0]
    text = (tables.ROOT / page).read_text()
    cell = tables.build(name).split("\n")[2].split(" | ")[1]          # DCN-ODE at the smallest k
    tampered = text.replace(cell, cell.replace(".", "0.", 1), 1)
    assert tampered != text
    assert tables.render(tampered, page) == text


def test_every_table_marker_in_the_docs_has_a_builder_for_that_page():
    tables = load_tables()
    pages = [tables.ROOT / "README.md", *sorted(DOCS.glob("*.md")), *sorted((tables.ROOT / "experiments").glob("*/README.md"))]
    for path in pages:
        page = str(path.relative_to(tables.ROOT))
        for name in tables.BLOCK.findall(path.read_text()):
            assert tables.TABLES.get(name, ("", None))[0] == page, f"{page}: no builder for table {name!r}"


def test_the_task_summary_equals_the_runs_it_collects():
    root = DOCS.parent / "experiments" / "multiarea_tasks"
    rows = load_script(root / "summarise.py", "summarise").collect()
    assert {r["group"] for r in rows} >= {"classic", "visual"}
    assert json.loads((root / "summary.json").read_text()) == rows, \
        "run .venv/bin/python experiments/multiarea_tasks/summarise.py"
