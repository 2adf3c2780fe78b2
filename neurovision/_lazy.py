"""Public names of a package imported on first access, so importing the package stays cheap."""
from importlib import import_module


def lazy_names(package: str, table: dict[str, str]):
    """A module ``__getattr__`` serving ``table`` (public name -> submodule of ``package``)."""

    def __getattr__(name: str):
        if name in table:
            return getattr(import_module(f"{package}.{table[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
