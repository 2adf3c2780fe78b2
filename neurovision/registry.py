"""Model, task and benchmark registries and plugin discovery.

A plugin is a folder ``models/<name>/``, ``tasks/<name>/`` or ``benchmarks/<name>/`` whose
``__init__.py`` only registers zero-argument factories::

    from neurovision import model_registry
    model_registry["my-model"] = lambda: build_my_model()

Plugins are found in, and only in:

* the plugin folders of the source checkout (``<repo>/models`` ...), or of an installed wheel,
  where they live in the ``neurovision_plugins`` package (never as top-level ``models``);
* folders listed in the ``NEUROVISION_PLUGIN_PATH`` environment variable (``os.pathsep``
  separated; each holds ``models/``, ``tasks/``, ``benchmarks/`` sub-folders) or added with
  :func:`add_plugin_folder`;
* Python entry points of installed packages, groups ``neurovision.models``,
  ``neurovision.tasks`` and ``neurovision.benchmarks``: the entry-point name is the id and its
  object the factory (loaded only when the id is used).
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import os
import re
import sys
import types
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

from .errors import NeurovisionError, UnknownIdError

KINDS = ("models", "tasks", "benchmarks")
_SOURCE_ROOT = Path(__file__).resolve().parent.parent
_extra_folders: list[Path] = []


class Registry(MutableMapping):
    """A mapping ``id -> zero-argument factory`` that discovers plugins on first use."""

    def __init__(self, kind: str):
        if kind not in KINDS:
            raise ValueError(f"registry kind must be one of {KINDS}, got {kind!r}")
        self.kind = kind
        self._factories: dict[str, Callable[..., Any]] = {}
        self._descriptions: dict[str, str] = {}
        self._origins: dict[str, types.ModuleType] = {}  # id -> plugin module that registered it
        self._discovered = False

    # -- registration -------------------------------------------------------------------------
    def __setitem__(self, name: str, factory: Callable[..., Any]) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"{self.kind} ids must be non-empty strings, got {name!r}")
        if not callable(factory):
            raise TypeError(f"the factory registered as {name!r} must be callable")
        self._factories[name] = factory

    def register(self, name: str, description: str | None = None) -> Callable[[Callable], Callable]:
        """Decorator form: ``@model_registry.register("id")`` above a factory function."""

        def decorate(factory: Callable) -> Callable:
            self[name] = factory
            if description:
                self.describe(name, description)
            return factory

        return decorate

    def describe(self, name: str, description: str) -> None:
        """Set the one-line description that ``neurovision list`` shows for ``name``."""
        self._descriptions[name] = " ".join(description.split())

    def description(self, name: str) -> str:
        """One line about ``name``: its registered description, else the first sentence of the
        docstring of the plugin that registered it, else of its factory's docstring."""
        self.discover()
        if name in self._descriptions:
            return self._descriptions[name]
        factory = self[name]
        for doc in (getattr(self._origins.get(name), "__doc__", None), getattr(factory, "__doc__", None)):
            if doc and doc.strip():
                text = _first_sentence(doc)
                return text[len(name) + 2:] if text.startswith(f"{name}: ") else text
        return ""

    # -- lookup -------------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Callable[..., Any]:
        if name not in self._factories:
            self.discover()
        try:
            return self._factories[name]
        except KeyError:
            raise UnknownIdError(self.kind[:-1], name, list(self._factories)) from None

    def __delitem__(self, name: str) -> None:
        del self._factories[name]

    def __iter__(self) -> Iterator[str]:
        self.discover()
        return iter(sorted(self._factories))

    def __len__(self) -> int:
        self.discover()
        return len(self._factories)

    def __contains__(self, name: object) -> bool:
        self.discover()
        return name in self._factories

    def ids(self) -> list[str]:
        """All registered ids, sorted."""
        return list(self)

    def load(self, name: str, **kwargs) -> Any:
        """Build the object registered as ``name`` (keyword arguments go to its factory)."""
        return self[name](**kwargs)

    def discover(self, force: bool = False) -> None:
        """Import the plugin folders and read the entry points (once, unless ``force``)."""
        if self._discovered and not force:
            return
        self._discovered = True
        for root, package in plugin_roots(self.kind):
            _import_plugin_folder(root, package)
        for entry in importlib.metadata.entry_points(group=f"neurovision.{self.kind}"):
            self._factories.setdefault(entry.name, _entry_point_factory(entry))


def _first_sentence(doc: str) -> str:
    """The first sentence of a docstring's first paragraph, on one line, without its full stop
    (a full stop inside parentheses, as in "(Nat. Neurosci.)", ends nothing)."""
    paragraph = " ".join(doc.strip().split("\n\n")[0].split())
    depth = 0
    for i, char in enumerate(paragraph):
        depth += (char == "(") - (char == ")")
        if char == "." and depth == 0 and re.match(r"\s+[A-Z`*]", paragraph[i + 1:]):
            return paragraph[:i]
    return paragraph.rstrip(".")


def _entry_point_factory(entry) -> Callable[..., Any]:
    def factory(**kwargs):
        return entry.load()(**kwargs)

    factory.__doc__ = f"loads entry point {entry.value}"
    return factory


def add_plugin_folder(folder: str | os.PathLike) -> None:
    """Search ``folder/models``, ``folder/tasks`` and ``folder/benchmarks`` for plugins too."""
    path = Path(folder).resolve()
    if not path.is_dir():
        raise NeurovisionError(
            f"plugin folder {path} does not exist; pass a folder that holds models/, tasks/ "
            "or benchmarks/ sub-folders"
        )
    if path not in _extra_folders:
        _extra_folders.append(path)
    for registry in (model_registry, task_registry, benchmark_registry):
        registry._discovered = False


def plugin_roots(kind: str) -> list[tuple[Path, str]]:
    """``(folder, package name)`` pairs to import plugins of ``kind`` from, without duplicates."""
    roots: list[tuple[Path, str]] = []
    for location in _installed_plugin_locations(kind):
        roots.append((location, f"neurovision_plugins.{kind}"))
    roots.append((_SOURCE_ROOT / kind, f"neurovision_plugins.{kind}"))
    env = [Path(p) for p in os.environ.get("NEUROVISION_PLUGIN_PATH", "").split(os.pathsep) if p]
    for folder in env + _extra_folders:
        tag = hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:8]
        roots.append((folder / kind, f"neurovision_plugins._{kind}_{tag}"))
    seen, unique = set(), []
    for root, package in roots:
        key = root.resolve()
        if root.is_dir() and key not in seen:
            seen.add(key)
            unique.append((root, package))
    return unique


def _installed_plugin_locations(kind: str) -> list[Path]:
    """Folders of the installed ``neurovision_plugins.<kind>`` package (wheel or editable)."""
    if f"neurovision_plugins.{kind}" in sys.modules:
        return [Path(p) for p in getattr(sys.modules[f"neurovision_plugins.{kind}"], "__path__", [])]
    try:
        spec = importlib.util.find_spec(f"neurovision_plugins.{kind}")
    except (ImportError, ValueError):
        return []
    return [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []


def _ensure_package(name: str, path: Path) -> None:
    """Make ``name`` (and its parents) importable as a package rooted at ``path``."""
    parts = name.split(".")
    for depth in range(1, len(parts) + 1):
        sub = ".".join(parts[:depth])
        if sub in sys.modules:
            continue
        try:
            importlib.import_module(sub)
            continue
        except ImportError:
            pass
        module = types.ModuleType(sub)
        module.__path__ = [str(path)] if depth == len(parts) else []
        sys.modules[sub] = module


def _import_plugin_folder(root: Path, package: str) -> None:
    _ensure_package(package, root)
    for folder in sorted(root.iterdir()):
        init = folder / "__init__.py"
        if not init.is_file() or folder.name.startswith((".", "_")):
            continue
        name = f"{package}.{folder.name}"
        if name in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(
            name, init, submodule_search_locations=[str(folder)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        registries = (model_registry, task_registry, benchmark_registry)
        before = [dict(r._factories) for r in registries]
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[name]
            raise NeurovisionError(f"plugin {folder} failed to register: {exc!r}") from exc
        for registry, known in zip(registries, before):  # new ids, and ids this plugin registered again
            registry._origins.update({n: module for n, f in registry._factories.items() if known.get(n) is not f})


model_registry = Registry("models")
task_registry = Registry("tasks")
benchmark_registry = Registry("benchmarks")


def load_model(name: str, **kwargs) -> Any:
    """Build the registered model ``name`` (see ``neurovision list models``).

    ``brainscore:<identifier>`` builds a model of brainscore-vision's registry instead (see
    :mod:`neurovision.brain.brainscore_models`).
    """
    if name.startswith("brainscore:"):
        from .brain.brainscore_models import load_brainscore_model

        return load_brainscore_model(name, **kwargs)
    return model_registry.load(name, **kwargs)


def load_task(name: str, **kwargs) -> Any:
    """Build the registered task ``name`` (see ``neurovision list tasks``)."""
    return task_registry.load(name, **kwargs)


def load_benchmark(name: str, **kwargs) -> Any:
    """Build the registered benchmark ``name`` (see ``neurovision list benchmarks``)."""
    return benchmark_registry.load(name, **kwargs)
