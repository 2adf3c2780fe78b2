"""Sub-commands of the ``neurovision`` CLI, one module each (see :mod:`neurovision.cli`)."""
