"""Write the README's headline table and scoreboard from the committed result files.

``python docs/figures.py`` rewrites the block between ``<!-- headline:start -->`` and
``<!-- headline:end -->`` in README.md, and the one between ``<!-- scoreboard:start -->`` and
``<!-- scoreboard:end -->`` from ``experiments/brainscore/scoreboard/scoreboard.csv``, the
table of every perf result in docs/performance.md (as ``python -m perf.run_all --table-only``);
then every generated table of the docs and experiment READMEs (docs/tables.py), so this one
command writes every measured figure; ``--check`` only compares and exits 1 when a page disagrees
with the result files (the test suite runs the check). Each row names the file its numbers come
from, so a figure can be traced to its measurement.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
START, END = "<!-- headline:start -->", "<!-- headline:end -->"
SCOREBOARD_START, SCOREBOARD_END = "<!-- scoreboard:start -->", "<!-- scoreboard:end -->"
SCOREBOARD = "experiments/brainscore/scoreboard/scoreboard.csv"
PERF = "perf/results"
CORDSNET = "experiments/soo2024_cordsnet"
DCN = "experiments/tomen2021_dcn"
TASKS = "experiments/multiarea_tasks"


def _tables():
    """docs/tables.py: every other generated table of the docs and experiment READMEs."""
    spec = importlib.util.spec_from_file_location("docs_tables", Path(__file__).with_name("tables.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TABLES = _tables()
#: parsed JSON (or CSV rows) of a committed file, repository-relative
load = TABLES.load


def metric(name: str, key: str) -> dict:
    """Metric ``key`` of ``perf/results/<name>.json`` as ``{median, min, max}``."""
    value = load(f"{PERF}/{name}.json")["metrics"][key]
    return value if isinstance(value, dict) else {"median": value, "min": value, "max": value}


def x(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}×"


def span(m: dict, digits: int = 2) -> str:
    """``median× [min–max]`` of a repeated ratio."""
    return f"{m['median']:.{digits}f}× [{m['min']:.{digits}f}–{m['max']:.{digits}f}]"


def sci(value: float) -> str:
    return f"{value:.1e}"


def pct(value: float, digits: int = 1) -> str:
    return f"{100 * value:.{digits}f} %"


def _size(name: str) -> str:
    c = load(f"{PERF}/{name}.json")["config"]
    return f"{c['images']:,} images × {c['features']:,} features × {c['bins']} bins × {c['neuroids']} neuroids"


def spantime() -> str:
    speed = metric("scoring_spantime", "spantime_vs_brainscore_speedup")
    ours = metric("scoring_spantime", "ours_seconds")["median"]
    ref = metric("scoring_spantime", "brainscore_seconds")["median"]
    peak, ref_peak = (metric("scoring_spantime", k)["median"] for k in ("ours_peak_mib", "brainscore_peak_mib"))
    diff = metric("scoring_spantime", "max_abs_score_difference")["median"]
    return (f"{x(speed['median'], 0)} ({ours:.1f} s vs {ref:,.0f} s; {_size('scoring_spantime')}), "
            f"{peak:.0f} vs {ref_peak:,.0f} MiB peak; scores equal to {sci(diff)} (one BLAS thread each, "
            "the two runs one after the other on an otherwise idle machine: docs/performance.md)")


def scoring_floor(sizes=TABLES.SCORING_SIZES) -> str:
    parts = []
    for name, label in sizes:
        m = lambda key: metric(name, key)  # noqa: E731
        parts.append(f"{label}: {span(m('floor_ratio'))} the floor, {m('ours_peak_mib')['median']:.0f} MiB; "
                     f"per-bin {span(m('perbin_over_spantime'))} the span-time time, "
                     f"{m('perbin_peak_mib')['median']:.0f} MiB")
    met = TABLES.scoring_targets_met(sizes)
    verdict = lambda ok: "met" if ok else "not met"  # noqa: E731
    return "; ".join(parts) + (f" (span-time target {verdict(met['spantime'])}, per-bin target "
                               f"{verdict(met['perbin'])}, memory {verdict(met['memory'])})")


def dynvision() -> str:
    def run(name: str) -> str:
        m = lambda key: span(metric(name, key))  # noqa: E731
        met = lambda key: "met" if metric(name, key)["median"] >= 1.5 else "not met"  # noqa: E731
        return (f"forward+backward {m('train_speedup')} ({met('train_speedup')}), presentation (batch 1) "
                f"{m('presentation_speedup')} ({met('presentation_speedup')}), forward without gradients "
                f"{m('forward_speedup')}")

    state_off = metric("dynvision", "ours_bf16_state_relative_difference")["median"]
    grads_off = metric("dynvision", "ours_bf16_gradient_relative_difference")["median"]
    return (f"1 thread: {run('dynvision')}; 2 threads: {run('dynvision_2threads')}; with bfloat16 autocast "
            f"(1 thread) forward+backward {span(metric('dynvision', 'bf16_train_speedup'))}, but its state is off "
            f"float32's by {pct(state_off, 2)} and its gradients by {pct(grads_off, 2)}, so it stays opt-in")


def scoring_memory() -> str:
    images = metric("scoring_memory", "standin_images")["median"]
    bins = metric("scoring_memory", "standin_bins")["median"]
    peak = metric("scoring_memory", "standin_peak_mib")["median"]
    return f"{peak:,.0f} MiB peak ({images:,.0f} images × {bins:.0f} bins)"


def cordsnet_floor() -> str:
    return f"R2 {span(metric('cordsnet_step', 'R2_floor_ratio'))}, R8 {span(metric('cordsnet_step', 'R8_floor_ratio'))}"


def cordsnet_authors() -> str:
    m = lambda key: metric("cordsnet_step", key)["median"]  # noqa: E731
    diff = max(m("R2_authors_max_rel_diff"), m("R8_authors_max_rel_diff"))
    return (f"training presentation R2 {x(m('R2_authors_presentation_speedup'))}, "
            f"R8 {x(m('R8_authors_presentation_speedup'))}; per gradient step R2 "
            f"{x(m('R2_authors_speedup'))}, R8 {x(m('R8_authors_speedup'))}; inference R2 "
            f"{x(m('R2_authors_inference_speedup'))}, R8 {x(m('R8_authors_inference_speedup'))}; "
            f"outputs equal to {sci(diff)} (relative)")


def cordsnet_memory() -> str:
    m = lambda key: metric("cordsnet_step", key)["median"]  # noqa: E731
    return (f"R2 {m('R2_ours_bptt_mib_per_step'):.0f} vs {m('R2_authors_bptt_mib_per_step'):.0f} MiB, "
            f"R8 {m('R8_ours_bptt_mib_per_step'):.0f} vs {m('R8_authors_bptt_mib_per_step'):.0f} MiB")


def fashion_mnist() -> str:
    fit = load(f"{CORDSNET}/fmnist-r2/metrics.json")
    full = load(f"{CORDSNET}/fmnist-r2/evaluation-10000.json")
    direct = load(f"{CORDSNET}/fmnist-r2/metrics_direct.json")
    control = direct.get("direct", direct)["acc"]
    return (f"{pct(full['cnn']['acc'], 2)} / {pct(fit['linear']['acc'], 2)} / "
            f"{pct(full['anneal']['acc'], 2)} / {pct(full['finetune']['acc'], 2)} / "
            f"{pct(control)} (linear init and control on 2,000 test images, the rest on 10,000)")


def cifar_relu() -> str:
    full = load(f"{CORDSNET}/cifar-r2/evaluation-10000.json")
    runs = load(f"{CORDSNET}/cifar-r2/metrics.json")
    control = load(f"{CORDSNET}/cifar-r2/metrics_direct.json")["direct"]["acc"]
    gap = 100 * (full["cnn"]["acc"] - full["finetune"]["acc"])
    return (f"{pct(full['cnn']['acc'], 2)} / {pct(full['linear']['acc'], 2)} / {pct(runs['anneal']['acc'], 2)} / "
            f"{pct(full['finetune']['acc'], 2)} / {pct(control, 2)}: fine-tuned ReLU {gap:.2f} points below its CNN "
            "(target ≤ 3; anneal and control on 2,000 test images, the rest on 10,000; the fine-tuning rate was "
            "chosen on the 2,000, which the 10,000 include, with an earlier run of the same recipe)")


def arnoldi() -> str:
    m = lambda key: metric("arnoldi", key)["median"]  # noqa: E731
    return (f"{x(m('dense_vs_arnoldi_speedup'), 0)} faster, {x(m('memory_ratio_dense_over_arnoldi'), 0)} "
            f"less memory, eigenvalues within {sci(m('max_eigenvalue_error'))}; area1 "
            f"({m('largest_area_units'):,.0f} units, {m('largest_area_dense_float32_gib'):.0f} GiB dense) in "
            f"{m('largest_area_seconds'):.0f} s, {m('largest_area_peak_mib'):.0f} MiB")


def classic_tasks() -> str:
    rows = [r for r in load(f"{TASKS}/summary.json") if r["group"] == "classic"]
    acc = [r["accuracy"] for r in rows]
    below = [r for r in rows if r.get("ideal_observer") and r["ideal_observer"] - r["accuracy"] > 0.03]
    return (f"{pct(min(acc))}–{pct(max(acc))} on all {len(rows)} runs; {len(rows) - len(below)} of "
            f"{len(rows)} within 0.03 of the ideal observer")


def attractor() -> str:
    (row,) = [r for r in load(f"{CORDSNET}/attractors_long_delay/attractors.csv") if r["task"] == "memory-pro"]
    return f"{row['found']} ({row['stability']}), accuracy {float(row['accuracy']):.2f}"


def small_data() -> str:
    table = load(f"{DCN}/small_data.json")
    cell = lambda v: f"{table[v]['128']['mean']:.1f} ± {table[v]['128']['std']:.1f} %"  # noqa: E731
    return f"{cell('dcn-ode')} vs {cell('odenet')} (paper: 58.2 ± 0.7 vs 50.7 ± 0.7 %; same ordering)"


def dcn_speed() -> str:
    return f"{span(metric('dcn_step', 'authors_speedup'), 1)} faster, same weights and NFE"


def srf_conv() -> str:
    parts = []
    for sigma in ("0.7", "1", "1.5", "2.5"):
        kernel = metric("dcn_srf_conv", f"sigma_{sigma}_kernel")["median"]
        parts.append(f"{kernel:.0f}×{kernel:.0f}: {x(metric('dcn_srf_conv', f'sigma_{sigma}_ratio')['median'], 2)}")
    return ", ".join(parts)


def scaleout() -> str:
    runs = load("experiments/scaleout/agreement.json")
    loss = max(r["max_abs_loss_gap"] for r in runs.values())
    weights = max(r["max_abs_weight_gap"] for r in runs.values())
    return f"largest loss gap {sci(loss)}, weights within {sci(weights)} over {len(runs)} training runs"


def rbp_memory() -> str:
    m = load(f"{PERF}/rbp_memory.json")["metrics"]
    steps = sorted(m["bptt_peak_mib"], key=float)
    crbp = [m["c_rbp_peak_mib"][s] for s in steps]
    return (f"BPTT {m['bptt_peak_mib'][steps[0]]:.0f} → {m['bptt_peak_mib'][steps[-1]]:.0f} MiB, "
            f"C-RBP {min(crbp):.0f}–{max(crbp):.0f} MiB: {x(m['peak_ratio_bptt_over_crbp_at_max_steps'])} "
            f"less at {steps[-1]} steps")


def pathfinder() -> str:
    runs = load("experiments/linsley2020_crbp/pathfinder/state_space.json")["runs"]
    b, c = runs["hgru-bptt"], runs["hgru-c-rbp"]
    return (f"BPTT {b['accuracy_at_train_steps']:.3f} → {b['accuracy_at_eval_steps']:.3f}, C-RBP "
            f"{c['accuracy_at_train_steps']:.3f} → {c['accuracy_at_eval_steps']:.3f}; state drift "
            f"{b['drift_median']:.2f} vs {c['drift_median']:.2f}")


def _indices() -> dict:
    return {r["run"]: r for r in load("experiments/lippl2024_convergence/summary/indices.json")}


def recurrence_index() -> str:
    runs = _indices()
    coupled = " / ".join(f"{runs[f'standard-rec-lambda{lam}']['recurrence']:.3f}" for lam in ("0", "0.5", "0.9", "1"))
    values = [runs[f"standard-rec-lambda{lam}"]["recurrence"] for lam in ("0", "0.5", "0.9", "1")]
    trend = ("rises with every step" if all(b > a for a, b in zip(values, values[1:]))
             else f"not monotonic: highest at λ = {('0', '0.5', '0.9', '1')[values.index(max(values))]}")
    return f"{coupled} (ordinary ResNet {runs['standard-nonrec-lambda0']['recurrence']:.3f}); {trend}"


def pcr() -> str:
    runs = _indices()
    p, o = runs["pcr-rec-lambda1"], runs["standard-nonrec-lambda0"]
    return (f"{p['convergence']:.2f} / {p['divergence']:.3f} vs {o['convergence']:.2f} / "
            f"{o['divergence']:.2f}")


def calibration() -> str:
    runs = load("experiments/brainscore/calibration.json")
    false_positives = [rates["null"][key] for rates in (r["rates"] for r in runs.values())
                       for key in ("image_mean_score", "image_some_bin", "time_specificity")]
    false_positives += [r["rates"]["stable"]["time_specificity"] for r in runs.values()]
    ridge = runs["ridge"]["rates"]
    power = [ridge["modest"]["image_mean_score"], ridge["modest"]["image_some_bin"],
             ridge["time_specific"]["time_specificity"]]
    return (f"largest false-positive rate {max(false_positives):.3f} (image null, some-bin, "
            f"time-specificity; ridge and PLS, {runs['ridge']['datasets_per_scenario']} data sets each); "
            f"power {min(power):.2f}–{max(power):.2f}; compare(): "
            f"{ridge['compare_null']['reported_different']:.3f} false differences, power "
            f"{ridge['compare_better']['a_reported_better']:.2f}")


def lip() -> str:
    score = load(f"{TASKS}/visual/roitman2002/score.json")
    model, monkey = score["model_normalised_contrast"], score["lip_normalised_contrast"]
    passed = [name for name, c in score["controls"].items() if c["headline_pass"]]
    return (f"LIP {monkey['estimate']:.3f} [{monkey['ci'][0]:.3f}, {monkey['ci'][1]:.3f}] passes; trained "
            f"back-end {model['estimate']:.3f} [{model['ci'][0]:.3f}, {model['ci'][1]:.3f}] "
            f"{'passes' if score['headline_pass'] else 'fails'}; controls passing: "
            f"{', '.join(passed) if passed else 'none'} of {len(score['controls'])} (trajectory r, "
            f"secondary: model {score['trajectory_r']:.3f}, choice-only "
            f"{score['controls']['choice-only'].get('trajectory_r', float('nan')):.3f})")


def feature_cache() -> str:
    speed = metric("feature_cache", "cached_training_step_speedup")
    mib = metric("feature_cache", "cache_mib_per_1000_trials")["median"]
    return f"{speed['median']:.1f}× [{speed['min']:.1f}–{speed['max']:.1f}] on identical trials, {mib:.0f} MiB per 1,000 trials (float16)"


def demo() -> str:
    wall, peak = metric("demo", "wall_seconds"), metric("demo", "peak_rss_mib")
    stages = load(f"{PERF}/demo_profile.json")["metrics"]["after"]
    met = wall["max"] <= 30 and peak["max"] <= 1024
    return (f"{wall['median']:.0f} s wall [{wall['min']:.0f}–{wall['max']:.0f}], {peak['median']:,.0f} MiB peak "
            f"(cold activity cache); profile: recording {pct(stages['record_share'], 0)}, shift search "
            f"{pct(stages['shift_search_share'], 0)}, baselines and untrained control "
            f"{pct(stages['baselines_and_untrained_share'], 0)} of the wall (stages overlap); "
            f"{'targets met in every run (memory read as 1 GiB = 1,024 MiB)' if met else 'targets missed'}")


#: (figure, reference, value function, source files)
ROWS = [
    ("`make demo` after install: CordsNet-R2 on Cowley V4 with baselines, untrained control and a 100-draw null",
     "≤ 30 s, ≤ 1 GB", demo, f"{PERF}/demo.json"),
    ("span-time scoring at full size vs brainscore-vision's own `spantime_pls` (same data and splits)",
     "≥ 10× faster, equal to 1e-6", spantime, f"{PERF}/scoring_spantime.json"),
    ("span-time scoring vs its arithmetic floor (forming X'X and X'Y once, same BLAS, 1 thread), and "
     "per-bin vs span-time", "≤ 1.5× the floor, per-bin ≤ 2×, ≤ 1 GB", scoring_floor,
     f"{PERF}/scoring_spantime.json, {PERF}/scoring_spantime_168n.json"),
    ("the same on both cores: span-time and the floor on 2 BLAS threads, per-bin batches on 2 workers",
     "≤ 1.5× the floor, per-bin ≤ 2×, ≤ 1 GB", lambda: scoring_floor(TABLES.SCORING_TWO_THREADS),
     f"{PERF}/scoring_spantime_2threads_floor.json, {PERF}/scoring_spantime_168n_2threads_floor.json"),
    ("scoring CordsNet-R8 area1 (64×56×56 units)", "< 4 GB", scoring_memory, f"{PERF}/scoring_memory.json"),
    ("CordsNet step vs the same convolutions called directly (224 px, batch 8)", "≤ 1.1×",
     cordsnet_floor, f"{PERF}/cordsnet_step.json"),
    ("CordsNet vs the authors' implementation, same shapes", "≥ 2× faster", cordsnet_authors,
     f"{PERF}/cordsnet_step.json"),
    ("CordsNet-R8 vs DynVision 0.1.0's CordsNet, alternating processes (batch 8, 224 px)",
     "≥ 1.5× faster, equal to the authors' update to 1e-6", dynvision,
     f"{PERF}/dynvision.json, {PERF}/dynvision_2threads.json"),
    ("CordsNet back-propagation memory per step, ours vs the authors' (batch 8, 224 px)", "—",
     cordsnet_memory, f"{PERF}/cordsnet_step.json"),
    ("CordsNet-R2 on Fashion-MNIST: CNN / linear init / annealed ReLU / fine-tuned / direct control",
     "88.44 / — / 85.60 / 88.12 % / —", fashion_mnist, f"{CORDSNET}/fmnist-r2/"),
    ("CordsNet-R2 on the CIFAR-10 subset, 32 px (`cordsnet-r2-cifar10`): CNN / linear / annealed ReLU / "
     "fine-tuned ReLU / direct control", "fine-tuned within 3 points of the CNN", cifar_relu, f"{CORDSNET}/cifar-r2/"),
    ("Arnoldi top-100 eigenvalues vs dense eigendecomposition, CordsNet-R8 (6,400-unit layer)", "—",
     arnoldi, f"{PERF}/arnoldi.json"),
    ("calibration of the scoring's tests on planted data (α = 0.05)", "false positives ≤ 0.07, power ≥ 0.8",
     calibration, "experiments/brainscore/calibration.json"),
    ("Roitman & Shadlen LIP headline: Tin − Tout coherence slope of the build-up rate (95 % CI > 0)",
     "passed by LIP, failed by choice-only and untrained controls", lip,
     f"{TASKS}/visual/roitman2002/score.json"),
    ("back-end training on cached front-end features vs recomputing them", "≥ 20×", feature_cache,
     f"{PERF}/feature_cache.json"),
    ("classic tasks × full-rank / low-rank / sparse-Dale back-ends (128 units)", "≥ 85 %",
     classic_tasks, f"{TASKS}/summary.json"),
    ("memory-pro with 600–2000 ms delays (Soo et al. Fig. 1D)", "ring attractor", attractor,
     f"{CORDSNET}/attractors_long_delay/attractors.csv"),
    ("DCN-ODE vs ODE-Net, small data k = 128, 3 seeds (reduced scale: 6 epochs)", "58.2 vs 50.7 %",
     small_data, f"{DCN}/small_data.json"),
    ("DCN-ODE forward+backward vs the authors' code (batch 32)", "≥ 1.5× faster", dcn_speed,
     f"{PERF}/dcn_step.json"),
    ("SRF conv vs plain conv of the same kernel size, cached filters", "≤ 1.05×", srf_conv,
     f"{PERF}/dcn_srf_conv.json"),
    ("2 torchrun processes vs 1, same global batch", "losses within 1e-5", scaleout,
     "experiments/scaleout/agreement.json"),
    ("training memory vs recurrent steps, hGRU, BPTT vs C-RBP (5 → 80 steps)", "BPTT linear, C-RBP flat",
     rbp_memory, f"{PERF}/rbp_memory.json"),
    ("Pathfinder hGRU run past its training horizon (→ 60 steps), BPTT vs C-RBP (reduced scale)",
     "C-RBP stays accurate", pathfinder, "experiments/linsley2020_crbp/pathfinder/state_space.json"),
    ("Lippl Recurrence Index vs gradient coupling λ = 0 / 0.5 / 0.9 / 1 (CIFAR-10 subset, reduced scale)",
     "rises with coupling", recurrence_index, "experiments/lippl2024_convergence/summary/indices.json"),
    ("spectrally normalised PCR ResNet vs ordinary: Convergence / Divergence Index", "converges, stable",
     pcr, "experiments/lippl2024_convergence/summary/indices.json"),
]


def headline() -> str:
    lines = ["| figure | reference | neurovision | source |", "|---|---|---|---|"]
    for figure, reference, value, source in ROWS:
        files = ", ".join(f"`{part}`" for part in source.split(", "))
        lines.append(f"| {figure} | {reference} | {value()} | {files} |")
    return "\n".join(lines)


def scoreboard() -> str:
    """The scoreboard table of :data:`SCOREBOARD`, its settings and its source."""
    from neurovision.families.baselines.scoreboard import markdown

    rows = load(SCOREBOARD)
    settings = sorted({r["settings"] for r in rows if r["settings"]})
    return (f"{markdown(rows)}\n\nSettings: {'; '.join(settings)}. Source: `{SCOREBOARD}` "
            "(`neurovision score --all`, see docs/brainscore.md).")


def _replace(text: str, start: str, end: str, body: str) -> str:
    if start not in text or end not in text:
        raise ValueError(f"the page lacks the {start} ... {end} markers")
    head, rest = text.split(start, 1)
    return f"{head}{start}\n{body}\n{end}{rest.split(end, 1)[1]}"


def render(text: str) -> str:
    """``text`` (README) with its headline and scoreboard blocks regenerated."""
    return _replace(_replace(text, START, END, headline()), SCOREBOARD_START, SCOREBOARD_END, scoreboard())


def render_scoreboard(text: str) -> str:
    """``text`` (docs/brainscore.md) with its scoreboard block regenerated."""
    return _replace(text, SCOREBOARD_START, SCOREBOARD_END, scoreboard())


def render_perf_table(text: str) -> str:
    """``text`` (docs/performance.md) with its table of every perf result regenerated, as
    ``python -m perf.run_all --table-only`` writes it."""
    if str(ROOT) not in sys.path:  # the perf package, when run as a script
        sys.path.insert(0, str(ROOT))
    from perf import run_all

    body = run_all.table(run_all.prefer_full(run_all.load_results()))
    return _replace(text, run_all.START, run_all.END, body)


#: file -> how its generated blocks are rendered
PAGES = {README: render, ROOT / "docs" / "brainscore.md": render_scoreboard,
         ROOT / "docs" / "performance.md": render_perf_table}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if a page differs")
    args = parser.parse_args(argv)
    for page, rendered in PAGES.items():
        text = page.read_text()
        new = rendered(text)
        if args.check and new != text:
            print(f"{page.relative_to(ROOT)}'s generated tables differ from the result files: run "
                  "python docs/figures.py", file=sys.stderr)
            return 1
        if not args.check:
            page.write_text(new)
            print(f"updated {page.relative_to(ROOT)}")
    return TABLES.main(argv)


if __name__ == "__main__":
    sys.exit(main())
