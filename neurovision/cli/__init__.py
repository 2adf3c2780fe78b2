"""The ``neurovision`` command line: one module per verb (see :mod:`neurovision.cli.main`)."""
from .main import build_parser, main

__all__ = ["build_parser", "main"]
