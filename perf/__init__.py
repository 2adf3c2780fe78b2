"""Performance benchmarks: each ``perf/<name>.py`` has a ``main()`` that measures ratios in one run
and writes ``perf/results/<name>.json`` (see :mod:`perf._harness`); ``neurovision perf`` runs
them all and regenerates the table in ``docs/performance.md``."""
