"""Wall time, phase shares and peak memory of ``neurovision demo`` as a fresh clone runs it.

Each repeat runs the demo in a child process with an empty activity cache (so the baselines and
untrained controls are recorded, as on a first run) and measures, in that one run: the wall time
from process start (imports included), the seconds of each phase (``load``, ``model``: recording
and fitting the trained model, ``baselines``: baselines and untrained seeds, ``output``) and
the child's peak resident memory (``ru_maxrss``). ``--warm-cache`` also times a second run that
reads the cached baseline and untrained activity. ``--profile`` runs the first repeat under cProfile
(its wall time and memory are those measured) and writes ``demo_profile.json``: the wall time, peak RSS and the share of the run spent
in each scoring stage (recording, shift search, fits, permutation null, baselines, output);
``--before-prof FILE --before-wall S --before-peak-mib M`` adds the same summary of an earlier
profile (e.g. of the previous demo, ``python -m cProfile -o FILE -m neurovision demo``).
Demo options follow ``--``.

``neurovision perf demo [--repeats 1] [--warm-cache] [--profile] [-- --untrained-seeds 3 ...]``
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ._harness import RESULTS, Stats, parser, profile_summary, result_name, setup, write_result

ROOT = Path(__file__).resolve().parent.parent


#: scoring stages summarised from a profile: stage -> function names (cumulative time)
STAGES = {"record": ("record_source",), "shift_search": ("choose_shifts",), "fits": ("correlations",),
          "permutation_null": ("image_null",), "baselines_and_untrained": ("side_by_side",),
          "figure": ("save_figure",)}


def child(out: str, timings_file: str, demo_args: list[str], profile: str = "") -> None:
    """Run the demo in this process and write its phase timings (JSON) to ``timings_file``;
    under cProfile (stats to ``profile``) when given."""
    import cProfile

    from neurovision import demo
    from neurovision.allocator import reuse_freed_memory
    from neurovision.cli.main import build_parser

    reuse_freed_memory()  # as the command line does at start-up
    args = build_parser().parse_args(["demo", "--out", out, "--quiet", *demo_args])
    timings: dict = {}
    if profile:
        cProfile.runctx("demo.run(args, timings)", globals(), locals(), profile)
    else:
        demo.run(args, timings)
    Path(timings_file).write_text(json.dumps(timings))


def one_run(cache: str, demo_args: list[str], profile: str = "") -> dict:
    """Wall seconds, phase seconds and peak RSS (MiB) of one demo run in a child process."""
    with tempfile.TemporaryDirectory() as folder:
        timings_file = os.path.join(folder, "timings.json")
        code = f"from perf.demo import child; child({folder!r}, {timings_file!r}, {demo_args!r}, {profile!r})"
        env = {**os.environ, "NEUROVISION_CACHE": cache, "BS_INSTALL_DEPENDENCIES": "no"}
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if status != 0:
            raise SystemExit(f"the demo failed (status {status}); run `neurovision demo` to see why")
        phases = json.loads(Path(timings_file).read_text())
    return {"wall": wall, "phases": phases, "peak_rss_mib": usage.ru_maxrss / 1024}


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    demo_args = argv[argv.index("--") + 1:] if "--" in argv else []
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--warm-cache", action="store_true", help="also time a run reading the activity cache")
    p.add_argument("--profile", action="store_true", help="also profile one run (demo_profile.json)")
    p.add_argument("--before-prof", default=None, help="cProfile file of an earlier demo to summarise beside it")
    p.add_argument("--before-wall", type=float, default=None, help="wall seconds of that earlier run")
    p.add_argument("--before-peak-mib", type=float, default=None, help="peak RSS (MiB) of that earlier run")
    p.set_defaults(repeats=1)
    args = p.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    setup(args)
    if args.device != "cpu":
        print("the demo runs on the CPU; measuring it there")
    summary = measure(args, demo_args) if args.profile or not args.before_prof else \
        json.loads((RESULTS / f"{result_name('demo_profile', args)}.json").read_text())["metrics"]
    if args.before_prof:
        summary["before"] = profile_summary(args.before_prof, STAGES, args.before_wall, args.before_peak_mib)
    if summary:
        write_result(result_name("demo_profile", args), summary, 1, "cpu",
                     notes=f"cProfile of the demo (empty activity cache); cumulative seconds per stage; "
                           f"1-min load average {os.getloadavg()[0]:.2f}",
                     config={"demo_args": demo_args})


def measure(args, demo_args: list[str]) -> dict:
    """Time the demo ``args.repeats`` times, write ``demo.json``; the profile summary (or {})."""
    cold, warm, summary = [], [], {}
    for k in range(args.repeats):
        with tempfile.TemporaryDirectory() as cache:
            prof = os.path.join(cache, "demo.prof") if args.profile and k == 0 else ""
            cold.append(one_run(cache, demo_args, prof))
            if prof:
                summary["after"] = profile_summary(prof, STAGES, cold[-1]["wall"], cold[-1]["peak_rss_mib"])
            if args.warm_cache:
                warm.append(one_run(cache, demo_args))
    metrics = {"wall_seconds": Stats.of([r["wall"] for r in cold], "s"),
               "peak_rss_mib": Stats.of([r["peak_rss_mib"] for r in cold], "MiB")}
    best = min(cold, key=lambda r: r["wall"])
    total = sum(best["phases"].values())
    metrics.update({f"phase_{k}_share": v / total for k, v in best["phases"].items()})
    metrics.update({f"phase_{k}_seconds": v for k, v in best["phases"].items()})
    if warm:
        metrics["warm_cache_wall_seconds"] = Stats.of([r["wall"] for r in warm], "s")
    load = os.getloadavg()[0]
    write_result(result_name("demo", args), metrics, args.repeats, "cpu",
                 notes=f"neurovision demo {' '.join(demo_args)} in a child process, empty activity cache; "
                       f"1-min load average at the end {load:.2f} on {os.cpu_count()} cores",
                 config={"demo_args": demo_args, "load_average_1min": load})
    return summary


if __name__ == "__main__":
    main()
