"""Public names of a package imported on first access, so importing the package stays cheap."""
from importlib import import_module


def lazy_names(package: str, table: dict[str, str]):
    """A module ``__getattr__`` serving ``table``: public name -> submodule of ``package``, or
    ``"submodule:attribute"`` where the public name differs (e.g. to avoid a submodule's name)."""

    def __getattr__(name: str):
        if name in table:
            module, _, attribute = table[name].partition(":")
            return getattr(import_module(f"{package}.{module}"), attribute or name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
