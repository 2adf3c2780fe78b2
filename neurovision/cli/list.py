"""``neurovision list [models|tasks|benchmarks]``: registered ids with a one-line description.

Plugins only register factories, so listing imports no model code (and no torch).
"""
from __future__ import annotations

KINDS = ("benchmarks", "models", "tasks")


def register(sub) -> None:
    parser = sub.add_parser("list", help="list registered models, tasks or benchmarks, one line each",
                            description=__doc__)
    parser.add_argument("kind", nargs="?", choices=KINDS, default=None,
                        help="what to list (default: all three)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from ..registry import benchmark_registry, model_registry, task_registry

    registries = {"benchmarks": benchmark_registry, "models": model_registry, "tasks": task_registry}
    for kind in [args.kind] if args.kind else KINDS:
        registry = registries[kind]
        names = registry.ids()
        width = max((len(n) for n in names), default=0)
        print(f"{kind}:")
        for name in names:
            print(f"  {name:<{width}}  {registry.description(name) or '(no description)'}")
    return 0
