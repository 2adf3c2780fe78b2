"""Run every ``perf/*.py`` script and regenerate the performance table in ``docs/performance.md``.

``neurovision perf`` (``make perf``) runs each script's ``main()`` in its own interpreter
(``python -m perf.<name>``), so one script's memory or failure does not affect another, then
reads every ``perf/results/*.json`` and rewrites the markdown table between the
``<!-- perf-table:start -->`` and ``<!-- perf-table:end -->`` markers (a ``<name>_quick`` smoke
run is shown only while no full ``<name>`` result exists).

Options: ``--only a,b`` runs only those scripts, ``--skip a,b`` leaves some out, ``--table-only``
just rebuilds the table, ``--timeout S`` limits each script, ``--quick``/``--device`` are passed
on to the scripts.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ._harness import RESULTS, format_value

PERF = Path(__file__).resolve().parent
ROOT = PERF.parent
DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- perf-table:start -->", "<!-- perf-table:end -->"
NOT_SCRIPTS = {"run_all", "__init__"}


def scripts() -> list[str]:
    """Names of the benchmark scripts (``perf/<name>.py`` not starting with ``_``)."""
    return sorted(p.stem for p in PERF.glob("*.py")
                  if not p.stem.startswith("_") and p.stem not in NOT_SCRIPTS)


def run_script(name: str, extra: list[str], timeout: float) -> tuple[int, float, str]:
    """Run ``python -m perf.<name> *extra`` from the repository root: (exit code, seconds, tail)."""
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", f"perf.{name}", *extra], cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        code, out = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        code, out = 124, f"timed out after {timeout:g} s\n{exc.stdout or ''}"
    return code, time.perf_counter() - start, out[-2000:]


def load_results(folder: Path = RESULTS) -> list[dict]:
    """Every readable result JSON in ``folder``, sorted by name (unreadable ones are reported)."""
    records = []
    for path in sorted(folder.glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            print(f"skipping {path}: {exc}", file=sys.stderr)
            continue
        if isinstance(record, dict) and isinstance(record.get("metrics"), dict):
            record.setdefault("name", path.stem)
            records.append(record)
    return records


def prefer_full(records: list[dict]) -> list[dict]:
    """Drop ``<name>_quick`` smoke-run records whose full ``<name>`` record exists."""
    names = {r["name"] for r in records}
    return [r for r in records if not (r["name"].endswith("_quick") and r["name"][:-6] in names)]


def _machine(record: dict) -> str:
    info = record.get("machine") or {}
    if isinstance(info, str):
        return info
    device = info.get("gpu") or info.get("device") or ""
    cores = info.get("cpu_count")
    return f"{device}{f', {cores} cores' if cores else ''}".strip(", ")


def _flat(metrics: dict, prefix: str = ""):
    """``(name, value)`` pairs; a group of metrics (a dict that is not a median/min/max record,
    such as a profile's stages) gives one pair per entry, named ``group.entry``."""
    for name, value in metrics.items():
        if isinstance(value, dict) and "median" not in value:
            yield from _flat(value, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", value


def table(records: list[dict]) -> str:
    """Markdown table: one row per metric, ``median [min–max] unit``, repeats and machine."""
    lines = ["| benchmark | metric | value: median [min–max] | repeats | machine |",
             "|---|---|---|---|---|"]
    for record in records:
        for metric, value in _flat(record["metrics"]):
            cell = format_value(value).replace("|", "\\|")
            lines.append(f"| {record['name']} | {metric} | {cell} | {record.get('repeats', '')} "
                         f"| {_machine(record)} |")
    return "\n".join(lines)


def update_doc(text_table: str, doc: Path = DOC) -> None:
    """Replace the block between the markers of ``doc`` (appended if the markers are missing)."""
    from neurovision.io import atomic_path

    text = doc.read_text() if doc.is_file() else "# Performance\n"
    block = f"{START}\n{text_table}\n{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with atomic_path(doc) as tmp:
        tmp.write_text(text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--only", default="", help="comma-separated script names to run")
    p.add_argument("--skip", default="", help="comma-separated script names not to run")
    p.add_argument("--table-only", action="store_true", help="only regenerate the table")
    p.add_argument("--timeout", type=float, default=1800, help="seconds allowed per script")
    p.add_argument("--quick", action="store_true", help="pass --quick to every script")
    p.add_argument("--device", default=None, help="pass --device to every script")
    args = p.parse_args(argv)
    names = scripts()
    only = [n for n in args.only.split(",") if n]
    unknown = [n for n in only if n not in names]
    if unknown:
        p.error(f"unknown perf scripts {unknown}; available: {', '.join(names)}")
    chosen = [n for n in (only or names) if n not in set(args.skip.split(","))]
    extra = (["--quick"] if args.quick else []) + (["--device", args.device] if args.device else [])
    failed = []
    if not args.table_only:
        for name in chosen:
            code, seconds, tail = run_script(name, extra, args.timeout)
            status = "ok" if code == 0 else f"FAILED (exit {code})"
            print(f"perf.{name}: {status} in {seconds:.1f} s", flush=True)
            if code:
                failed.append(name)
                print(tail, file=sys.stderr)
    update_doc(table(prefer_full(load_results())))
    print(f"updated {DOC.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
