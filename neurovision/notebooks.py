"""Run, strip, check and render the notebooks in ``notebooks/``.

Notebooks are stored without outputs. :func:`execute_notebook` runs one headless with nbclient on
the current interpreter (through a kernel spec written to a temporary folder, so nothing is
installed into, or written under, the user's home), after injecting parameter overrides below the
cell tagged ``parameters`` (papermill's convention). ``neurovision notebooks`` offers::

    render  [--out docs/notebooks] [--img docs/img] [-p name=value ...] [NOTEBOOK ...]
    execute [-p name=value ...] NOTEBOOK ...     # run, fail on the first cell error
    strip   NOTEBOOK ...                         # remove outputs in place
    check   NOTEBOOK ...                         # exit 1 if any notebook holds outputs

Needs the ``notebooks`` extra (``pip install neurovision-ct[notebooks]``).
"""
from __future__ import annotations

import ast
import asyncio
import base64
import contextlib
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .errors import DataError, NeurovisionError
from .io import atomic_path

#: folder holding the project's notebooks (source checkout)
NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
KERNEL_NAME = "neurovision-python"
PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
#: cells tagged so give the notebook's screenshot (their last PNG output)
SCREENSHOT_TAG = "screenshot"
#: notebook metadata written by :func:`execute_notebook` (removed by :func:`strip_outputs`)
RUN_KEY = "neurovision_run"
#: default wall-clock budget of one notebook, seconds
DEFAULT_BUDGET_S = 180.0
#: seconds to wait for a message the kernel owes: its first reply (``kernel_info``), the
#: ``busy`` status that shows it has read a cell's request, or the reply to a cell it reported
#: done (``idle``). nbclient waits for a lost one until the budget runs out (without limit at
#: start-up), so the notebook is started once more on a fresh kernel instead
LOST_MESSAGE_S = 60.0


class NotebookError(NeurovisionError, RuntimeError):
    """A notebook cell raised, the notebook ran over its time budget, or it is malformed."""


def _require(module: str):
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as exc:
        raise NeurovisionError(
            f"{module} is needed to run notebooks; install the extra: pip install 'neurovision-ct[notebooks]'"
        ) from exc


def list_notebooks(folder: str | os.PathLike | None = None) -> list[Path]:
    """The ``*.ipynb`` files of ``folder`` (default: the project's notebooks), sorted by name."""
    root = Path(folder) if folder is not None else NOTEBOOK_DIR
    if not root.is_dir():
        raise FileNotFoundError(f"notebook folder {root} does not exist")
    return sorted(p for p in root.glob("*.ipynb") if not p.name.startswith("."))


def read_notebook(path: str | os.PathLike):
    """Read and validate a notebook file (nbformat 4)."""
    nbformat = _require("nbformat")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such notebook: {path}")
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:
        raise NotebookError(f"{path} is not a valid notebook: {type(exc).__name__}: {exc}") from exc
    return nb


# -- parameters ---------------------------------------------------------------------------------
def _tagged(nb, tag: str) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if tag in c.get("metadata", {}).get("tags", [])]


def parameter_names(nb) -> list[str]:
    """Names assigned in the cell tagged ``parameters`` (empty if there is none)."""
    found = _tagged(nb, PARAMETERS_TAG)
    if not found:
        return []
    tree = ast.parse(nb.cells[found[0]].source)
    names = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def inject_parameters(nb, parameters: Mapping[str, Any]):
    """Insert a cell assigning ``parameters`` right after the ``parameters`` cell (in place).

    Values must be Python literals (their ``repr`` is evaluated by the kernel). Unknown names
    raise :class:`NotebookError` listing the notebook's parameters.
    """
    if not parameters:
        return nb
    nbformat = _require("nbformat")
    found = _tagged(nb, PARAMETERS_TAG)
    if not found:
        raise NotebookError(
            "the notebook has no cell tagged 'parameters'; tag the cell that sets its settings"
        )
    valid = parameter_names(nb)
    unknown = [k for k in parameters if k not in valid]
    if unknown:
        raise NotebookError(f"unknown notebook parameters {unknown}; this notebook takes {valid}")
    lines = ["# Parameters injected by neurovision.notebooks"]
    for name, value in parameters.items():
        text = repr(value)
        try:
            ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise NotebookError(f"parameter {name}={value!r} is not a Python literal") from None
        lines.append(f"{name} = {text}")
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": [INJECTED_TAG]})
    nb.cells.insert(found[0] + 1, cell)
    return nb


def parse_assignments(items: list[str] | None) -> dict[str, Any]:
    """``["n_images=4", "dataset='mnist'"]`` -> dict; values are literals, else strings."""
    out: dict[str, Any] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise DataError(f"parameter {item!r} must be written name=value, e.g. n_images=4")
        try:
            out[name.strip()] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[name.strip()] = value
    return out


def missing_data(nb) -> list[str]:
    """Local data sets the notebook needs (``metadata.neurovision.needs_data``, folders under the
    data folder) that are not there."""
    from .data.paths import data_path

    missing = []
    for name in nb.metadata.get("neurovision", {}).get("needs_data", []):
        try:
            data_path(name)
        except FileNotFoundError:
            missing.append(name)
    return missing


# -- kernel ---------------------------------------------------------------------------------------
@contextlib.contextmanager
def kernel_manager(threads: int | None = None) -> Iterator[Any]:
    """A kernel manager (async, as nbclient drives it) for this interpreter whose kernel spec and
    runtime files live in a temporary folder.

    The kernel gets its own IPython, Jupyter and matplotlib folders there (nothing written to
    home), the inline matplotlib backend, and ``OMP_NUM_THREADS=threads`` when given.
    """
    _require("ipykernel")
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    with tempfile.TemporaryDirectory(prefix="neurovision-kernel-") as tmp:
        root = Path(tmp)
        env = {
            "IPYTHONDIR": str(root / "ipython"),
            "JUPYTER_CONFIG_DIR": str(root / "jupyter-config"),
            "JUPYTER_DATA_DIR": str(root / "jupyter-data"),
            "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
            "MPLCONFIGDIR": str(root / "matplotlib"),
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
        if threads is not None:
            env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        spec_dir = root / "kernels" / KERNEL_NAME
        spec_dir.mkdir(parents=True)
        spec = {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": f"neurovision ({Path(sys.executable).name})",
            "language": "python",
            "env": env,
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec))
        specs = KernelSpecManager(kernel_dirs=[str(root / "kernels")])
        yield AsyncKernelManager(
            kernel_name=KERNEL_NAME,
            kernel_spec_manager=specs,
            connection_file=str(root / "connection.json"),
            transport="ipc",
        )


# -- execution ------------------------------------------------------------------------------------
def execute_notebook(
    path: str | os.PathLike,
    parameters: Mapping[str, Any] | None = None,
    budget_s: float = DEFAULT_BUDGET_S,
    threads: int | None = None,
    cwd: str | os.PathLike | None = None,
):
    """Execute the notebook at ``path`` headless and return it with outputs.

    ``parameters`` override the ``parameters`` cell; the whole notebook must finish within
    ``budget_s`` seconds of wall time. Runs in ``cwd`` (default: the notebook's folder). The wall
    time, parameters and number of kernels started are stored in
    ``nb.metadata["neurovision_run"]``. When a message the kernel owes is lost (see
    :data:`LOST_MESSAGE_S`), the notebook runs once more on a fresh kernel. Raises
    :class:`NotebookError` naming the notebook and the failing cell.
    """
    nbclient = _require("nbclient")
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    path = Path(path)
    nb = inject_parameters(read_notebook(path), dict(parameters or {}))
    if budget_s <= 0:
        raise NotebookError(f"budget_s must be > 0 seconds, got {budget_s}")
    deadline = time.monotonic() + budget_s
    start = time.monotonic()
    workdir = Path(cwd) if cwd is not None else path.parent
    client_class = _guarded_client(nbclient.NotebookClient)
    for attempt in (1, 2):
        with kernel_manager(threads) as km:
            client = client_class(
                nb,
                km=km,
                timeout_func=lambda cell: max(1, int(deadline - time.monotonic())),
                startup_timeout=300,
                resources={"metadata": {"path": str(workdir)}},
                store_widget_state=True,
                record_timing=False,
            )
            try:
                client.execute()
                break
            except CellTimeoutError as exc:
                raise NotebookError(
                    f"{path.name} ran past its budget of {budget_s:g} s; lower its parameters "
                    f"or raise budget_s ({str(exc).splitlines()[0]})"
                ) from exc
            except LostMessage as exc:
                if attempt == 2:
                    raise NotebookError(f"{path.name}: on two fresh kernels, {exc}") from exc
            except CellExecutionError as exc:
                raise NotebookError(f"{path.name}: {_failed_cell(nb)} failed:\n{_ANSI.sub('', str(exc))}") from exc
    nb.metadata[RUN_KEY] = {"wall_s": round(time.monotonic() - start, 2), "parameters": dict(parameters or {}),
                            "kernels": attempt}
    return nb


class LostMessage(asyncio.TimeoutError):
    """A message the kernel owes did not arrive within :data:`LOST_MESSAGE_S`."""


def _guarded_client(base: type) -> type:
    """``base`` (nbclient's ``NotebookClient``) that raises :class:`LostMessage` when a new kernel
    does not answer its first request, when a cell's request is not read (no ``busy`` status),
    or when a cell the kernel reported done gets no reply, each within :data:`LOST_MESSAGE_S`."""

    class GuardedClient(base):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._status: dict[str, tuple[str, float]] = {}  # request id -> last state, since when

        async def async_wait_for_reply(self, msg_id, cell=None):
            waiting = super().async_wait_for_reply(msg_id, cell)
            if cell is not None:
                return await waiting
            try:
                return await asyncio.wait_for(waiting, LOST_MESSAGE_S)
            except asyncio.TimeoutError:
                raise LostMessage(f"the kernel did not answer its first request within {LOST_MESSAGE_S:g} s") from None

        def process_message(self, msg, cell, cell_index):
            if msg["msg_type"] == "status":
                state = msg["content"]["execution_state"]
                self._status[msg["parent_header"].get("msg_id")] = (state, time.monotonic())
            return super().process_message(msg, cell, cell_index)

        async def _async_poll_for_reply(self, msg_id, cell, timeout, task_poll_output_msg, task_poll_kernel_alive):
            sent = time.monotonic()
            reply = asyncio.ensure_future(
                super()._async_poll_for_reply(msg_id, cell, timeout, task_poll_output_msg, task_poll_kernel_alive))
            try:
                while not (await asyncio.wait({reply}, timeout=1.0))[0]:
                    state, since = self._status.get(msg_id, ("sent", sent))
                    if state != "busy" and time.monotonic() - since > LOST_MESSAGE_S:
                        what = "did not read" if state == "sent" else "finished but did not answer"
                        raise LostMessage(f"the kernel {what} the request of the cell {_first_line(cell)} "
                                          f"within {LOST_MESSAGE_S:g} s")
            except BaseException:
                for task in (reply, task_poll_output_msg, task_poll_kernel_alive):
                    task.cancel()
                raise
            return reply.result()

    return GuardedClient


def _first_line(cell) -> str:
    """A cell's first line (at most 60 characters, quoted), for messages."""
    return repr((cell.source.strip().splitlines() or [""])[0][:60])


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _failed_cell(nb) -> str:
    """Which cell failed: its index in the executed notebook and its first line."""
    for i, cell in enumerate(nb.cells):
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return f"cell {i} ({_first_line(cell)})"
    return "a cell"


# -- stripping ------------------------------------------------------------------------------------
_VOLATILE_CELL_KEYS = ("execution", "collapsed", "scrolled")


def strip_outputs(nb):
    """Remove outputs, execution counts, widget state and run metadata from ``nb`` (in place)."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in _VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
    for key in ("widgets", RUN_KEY, "papermill"):
        nb.metadata.pop(key, None)
    return nb


def unstripped_cells(nb) -> list[int]:
    """Indices of cells that hold outputs, execution counts or run metadata (empty when clean)."""
    dirty = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            dirty.append(i)
        elif any(key in cell.metadata for key in _VOLATILE_CELL_KEYS):
            dirty.append(i)
    return dirty


def is_stripped(nb) -> bool:
    """True when the notebook holds no outputs, counts, widget state or run metadata."""
    return not unstripped_cells(nb) and not any(k in nb.metadata for k in ("widgets", RUN_KEY))


def _write_readable(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` atomically to ``path`` with the usual permissions (rw-r--r--)."""
    with atomic_path(path) as tmp:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding="utf-8")
        tmp.chmod(0o644)
    return Path(path)


def write_notebook(nb, path: str | os.PathLike) -> Path:
    """Write ``nb`` atomically to ``path``."""
    nbformat = _require("nbformat")
    return _write_readable(path, nbformat.writes(nb) + "\n")


# -- rendering ------------------------------------------------------------------------------------
def screenshot_png(nb) -> bytes | None:
    """PNG bytes of the last image in the cells tagged ``screenshot`` (else the last in ``nb``)."""
    tagged = _tagged(nb, SCREENSHOT_TAG)
    cells = [nb.cells[i] for i in tagged] or list(nb.cells)
    for cell in reversed(cells):
        for output in reversed(cell.get("outputs", [])):
            data = output.get("data", {})
            if "image/png" in data:
                return base64.b64decode(data["image/png"])
    return None


def to_html(nb) -> str:
    """The executed notebook as a standalone HTML page."""
    _require("nbconvert")
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nb)
    return body


def render(
    paths: list[Path] | None = None,
    out: str | os.PathLike = "docs/notebooks",
    img: str | os.PathLike | None = "docs/img",
    parameters: Mapping[str, Any] | None = None,
    budget_s: float = 900.0,
    threads: int | None = None,
) -> list[dict]:
    """Execute notebooks, write ``<out>/<name>.html`` and ``<img>/<name>.png``; return a summary.

    ``parameters`` apply to every notebook that declares them (others ignore them).
    """
    rows = []
    for path in paths or list_notebooks():
        own = set(parameter_names(read_notebook(path)))
        params = {k: v for k, v in (parameters or {}).items() if k in own}
        nb = execute_notebook(path, params, budget_s=budget_s, threads=threads)
        html_path = _write_readable(Path(out) / f"{path.stem}.html", to_html(nb))
        row = {"notebook": path.name, "html": str(html_path), "wall_s": nb.metadata[RUN_KEY]["wall_s"]}
        png = screenshot_png(nb)
        if img is not None and png is not None:
            row["screenshot"] = str(_write_readable(Path(img) / f"{path.stem}.png", png))
        rows.append(row)
    return rows


# -- command line ---------------------------------------------------------------------------------
def _paths(names: list[str]) -> list[Path]:
    if not names:
        return list_notebooks()
    paths = []
    for name in names:
        path = Path(name)
        if not path.exists() and (NOTEBOOK_DIR / name).exists():
            path = NOTEBOOK_DIR / name
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    """``neurovision notebooks ARGS`` (the command line's ``notebooks`` verb)."""
    from .cli.main import main as cli

    return cli(["notebooks", *(sys.argv[1:] if argv is None else argv)])


def run(args) -> int:
    """Carry out ``args.action`` (render, execute, strip, check) on ``args.notebooks``."""
    paths = _paths(args.notebooks)
    if args.action == "render":
        for row in render(paths, args.out, args.img, parse_assignments(args.param), args.budget, args.threads):
            print(f"{row['notebook']}: {row['wall_s']:.1f} s -> {row['html']} {row.get('screenshot', '')}")
    elif args.action == "execute":
        for path in paths:
            nb = execute_notebook(path, parse_assignments(args.param), args.budget, args.threads)
            print(f"{path.name}: ok in {nb.metadata[RUN_KEY]['wall_s']:.1f} s")
    elif args.action == "strip":
        for path in paths:
            write_notebook(strip_outputs(read_notebook(path)), path)
    else:
        dirty = [p for p in paths if not is_stripped(read_notebook(p))]
        for path in dirty:
            cells = unstripped_cells(read_notebook(path))
            print(f"{path.name}: outputs in cells {cells}; run neurovision notebooks strip {path}")
        return 1 if dirty else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
