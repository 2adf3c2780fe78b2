"""``neurovision list [models|tasks|benchmarks]``: show registered ids."""
from __future__ import annotations

from ..registry import benchmark_registry, model_registry, task_registry

REGISTRIES = {"models": model_registry, "tasks": task_registry, "benchmarks": benchmark_registry}


def register(sub) -> None:
    parser = sub.add_parser("list", help="list registered models, tasks or benchmarks")
    parser.add_argument("kind", nargs="?", choices=sorted(REGISTRIES), help="what to list (default: all)")
    parser.set_defaults(func=run)


def run(args) -> int:
    kinds = [args.kind] if args.kind else sorted(REGISTRIES)
    for kind in kinds:
        print(f"{kind}:")
        for name in REGISTRIES[kind].ids():
            print(f"  {name}")
    return 0
