"""Write the measured-figure tables of the docs and experiment READMEs from committed result files.

A page holds a generated table between ``<!-- table:NAME:start -->`` and
``<!-- table:NAME:end -->``; :data:`TABLES` maps every NAME to its page and to the function
that builds it from ``perf/results/*.json`` or ``experiments/**/*.json|csv``.
``python docs/tables.py`` rewrites every block, ``--check`` only compares and exits 1 when a
page disagrees with its result files (``python docs/figures.py`` does both for README too, and
the test suite runs the check). The paper's numbers beside ours are constants of the builders.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import runpy
import statistics
import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"<!-- table:([\w.-]+):start -->\n.*?<!-- table:\1:end -->", re.S)
CORDSNET, DCN = "experiments/soo2024_cordsnet", "experiments/tomen2021_dcn"
LIPPL, CRBP = "experiments/lippl2024_convergence", "experiments/linsley2020_crbp"
TASKS = "experiments/multiarea_tasks"


def load(path: str):
    """Parsed JSON (or CSV rows as dicts) of the committed file ``path`` (repository-relative)."""
    full = ROOT / path
    if full.suffix == ".csv":
        with open(full, newline="") as handle:
            return list(csv.DictReader(handle))
    return json.loads(full.read_text())


def perf(name: str) -> dict:
    """The ``metrics`` of ``perf/results/<name>.json``."""
    return load(f"perf/results/{name}.json")["metrics"]


def med(value) -> float:
    """The median of a repeated metric (a plain number is its own median)."""
    return value["median"] if isinstance(value, dict) else value


def rng(value, digits: int = 2) -> str:
    """``median [min–max]`` of a repeated metric."""
    return f"{value['median']:.{digits}f} [{value['min']:.{digits}f}–{value['max']:.{digits}f}]"


def pct(fraction: float, digits: int = 2) -> str:
    return f"{100 * fraction:.{digits}f} %"


def pval(p: float) -> str:
    """``= 6e-33``, or ``< 1e-300`` where the p-value underflowed to 0."""
    return "< 1e-300" if p == 0 else f"= {p:.0e}"


def signed(value: float, digits: int = 1) -> str:
    return f"{value:+.{digits}f}".replace("-", "−")


def table(header: list, rows: list[list], sources: tuple[str, ...]) -> str:
    """A markdown table followed by the files it was built from."""
    lines = ["| " + " | ".join(str(c) for c in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n\nSource: " + ", ".join(f"`{p}`" for p in sources) + "."


# --- CordsNet (Soo et al. 2024) -------------------------------------------------------------

STAGES = [("cnn", "`cnn` (16 epochs)", "the CNN", "88.44 %"),
          ("fit", "`fit`", "linear CordsNet, image from rest, steps 70–100", "—"),
          ("linear", "`linear` (120 × 32)", "same, after end-to-end training", "—"),
          ("anneal", "`anneal` (20 levels × 60 × 32, lr 3e-4)", "ReLU CordsNet, full 300-step protocol", "85.60 %"),
          ("finetune", "`finetune` (150 × 32)", "ReLU CordsNet, full 300-step protocol", "88.12 %"),
          ("direct", "`direct` (150 × 32), control (C)", "ReLU CordsNet from random init, full protocol", "—")]


def cordsnet_fmnist() -> str:
    folder = f"{CORDSNET}/fmnist-r2"
    fit, full = load(f"{folder}/metrics.json"), load(f"{folder}/evaluation-10000.json")
    fit.update(load(f"{folder}/metrics_direct.json"))
    rows = [[label, what, pct(fit[s]["acc"]), pct(full[s]["acc"]) if s in full else "—", paper,
             f"{fit[s]['wall_s']:,.0f} s"] for s, label, what, paper in STAGES]
    src = (f"{folder}/metrics.json", f"{folder}/evaluation-10000.json", f"{folder}/metrics_direct.json",)
    return table(["stage", "what is evaluated", "2,000 images", "10,000 images", "paper", "wall"], rows, src)


CIFAR_STAGES = [("cnn", "`cnn` (20 epochs)", "the CNN", "73.89 %"),
                ("fit", "`fit` (2 epochs)", "linear CordsNet, image from rest, steps 70–100", "—"),
                ("linear", "`linear` (40 × 32, lr 1e-4)", "same, after end-to-end training", "—"),
                ("anneal", "`anneal` (20 levels × 100 × 16, lr 3e-4)", "ReLU CordsNet, full 300-step protocol", "62.83 %"),
                ("finetune", "`finetune` (2 × 625 × 16, lr 1e-5)", "ReLU CordsNet, full 300-step protocol", "71.83 %")]


#: earlier runs of the recipe, recorded but not shipped: (file, stage, row label). The short-anneal
#: run was shipped before; the others start from its linear stage (an earlier CNN of the same recipe).
CIFAR_UNSHIPPED = [
    ("metrics_short_anneal.json", "anneal", "`anneal` (20 levels × 4 × 16, lr 3e-4), shipped before"),
    ("metrics_short_anneal.json", "finetune", "`finetune` after it (120 × 16, lr 3e-4), shipped before"),
    ("metrics_direct_120.json", "direct", "`direct` from random init (120 × 16, lr 1e-3), the control of the run shipped before"),
    ("metrics_all_parameters.json", "anneal",
     "`anneal` (20 levels × 4 × 16) from the earlier linear stage, every parameter trained"),
    ("metrics_long_anneal.json", "anneal", "`anneal` (20 levels × 25 × 16) from the earlier linear stage"),
    ("metrics_long_anneal.json", "finetune", "`finetune` after it (400 × 16, lr 3e-4)"),
    ("metrics_anneal_100_per_level.json", "anneal", "`anneal` (20 levels × 100 × 16) from the earlier linear stage"),
    ("metrics_anneal_100_per_level.json", "finetune", "`finetune` after it (625 × 16, lr 3e-4)"),
    ("metrics_unfrozen_finetune.json", "finetune",
     "`finetune` after the 25-batch anneal, every parameter trained (625 × 16, lr 3e-4)"),
    ("metrics_finetune_lr3e-5.json", "finetune",
     "`finetune` after the earlier 100-batch anneal (3 × 625 × 16, lr 3e-5, 3e-6 in the last epoch)"),
    ("metrics_finetune_lr1e-5.json", "finetune", "`finetune` after the earlier 100-batch anneal (2 × 625 × 16, lr 1e-5)"),
]


def cordsnet_cifar() -> str:
    folder = f"{CORDSNET}/cifar-r2"
    runs, full = load(f"{folder}/metrics.json"), load(f"{folder}/evaluation-10000.json")
    direct = load(f"{folder}/metrics_direct.json")["direct"]
    rows = [[label, what, pct(runs[s]["acc"]), pct(full[s]["acc"]) if s in full else "—", paper,
             f"{runs[s]['wall_s']:,.0f} s"] for s, label, what, paper in CIFAR_STAGES]
    rows.append(["`direct` (2 × 625 × 16, lr 1e-3), control (C)", "ReLU CordsNet from random init, full protocol",
                 pct(direct["acc"]), "—", "44.44 %", f"{direct['wall_s']:,.0f} s"])
    for name, stage, label in CIFAR_UNSHIPPED:
        recorded = load(f"{folder}/{name}")
        run, full_run = recorded[stage], recorded.get(f"{stage}_10000")
        rows.append([label, CIFAR_STAGES[3][2], pct(run["acc"]), pct(full_run["acc"]) if full_run else "—", "—",
                     f"{run['wall_s']:,.0f} s"])
    src = (f"{folder}/metrics.json", f"{folder}/evaluation-10000.json", f"{folder}/metrics_direct.json", *sorted({f"{folder}/{name}" for name, _, _ in CIFAR_UNSHIPPED}))
    return table(["stage", "what is evaluated", "2,000 test images", "10,000 test images",
                  "paper (224 px, all of CIFAR-10)", "wall"], rows, src)


def cordsnet_return(run: str = "fmnist-r2") -> str:
    path = f"{CORDSNET}/{run}/return_noise.json"
    data = load(path)
    rows = [[f"return, {area}", f"{v['final_over_peak']:.1e} of the peak", f"{v['final_over_spontaneous_rms']:.1e} of the spontaneous RMS ({v['spontaneous_rms']:.3f})", "—"]
            for area, v in data["return"].items()]
    rows += [[f"noise on the {r['where']}, SD {r['level']:g}", "—", f"deviation {r['deviation']:.2e}",
              f"{r['accuracy']:.2f} (clean {r['clean_accuracy']:.2f})"] for r in data["noise"]]
    src = (path,)
    return table([f"{data['images']} images, {data['return_ms']:.0f} ms after the image", "RMS distance", "relative", "accuracy"], rows, src)


def cordsnet_speed() -> str:
    m = perf("cordsnet_step")
    g = lambda d, k: med(m[f"{d}_{k}"])  # noqa: E731
    rows = [["ours / floor (same convolutions called directly)", "≤ 1.1×"] + [rng(m[f"{d}_floor_ratio"]) for d in ("R2", "R8")],
            ["authors / ours, training step (forward + backward)", "≥ 2×"] + [rng(m[f"{d}_authors_speedup"]) for d in ("R2", "R8")],
            ["authors / ours, one training presentation of the 300-step protocol", "≥ 2×"] + [f"**{g(d, 'authors_presentation_speedup'):.2f}×**" for d in ("R2", "R8")],
            ["authors / ours, inference step (no autograd)", "—"] + [rng(m[f"{d}_authors_inference_speedup"]) for d in ("R2", "R8")],
            ["seconds per step, ours / authors: training; inference", "—"] + [
                f"{g(d, 'seconds_per_step'):.3f} / {g(d, 'authors_seconds_per_step'):.3f}; {g(d, 'inference_seconds_per_step'):.3f} / {g(d, 'authors_inference_seconds_per_step'):.3f}" for d in ("R2", "R8")],
            ["spontaneous state per weight update: ours (batch 1, to convergence) / authors (100 blank steps, batch 8)", "—"] + [
                f"{g(d, 'spontaneous_seconds'):.2f} s ({g(d, 'spontaneous_steps'):.0f} steps) / {100 * g(d, 'authors_blank_seconds_per_step'):.1f} s" for d in ("R2", "R8")],
            ["allocator setting, training step with / without", "—"] + [f"{g(d, 'heap_reuse_speedup'):.2f}×" for d in ("R2", "R8")],
            ["BPTT memory per step: ours / floor / authors", "—"] + [
                f"{g(d, 'ours_bptt_mib_per_step'):.0f} / {g(d, 'floor_bptt_mib_per_step'):.0f} / {g(d, 'authors_bptt_mib_per_step'):.0f} MiB" for d in ("R2", "R8")],
            ["200 gradient steps, extrapolated: ours / authors / checkpointed (segment 5)", "—"] + [
                f"{g(d, 'ours_bptt_mib_200_steps') / 1024:.1f} GiB / {g(d, 'authors_bptt_mib_200_steps') / 1024:.1f} GiB / "
                + (f"{g(d, 'checkpointed_bptt_mib_200_steps') / 1024:.1f} GiB" if g(d, "checkpointed_bptt_mib_200_steps") > 0 else "growth below noise")
                for d in ("R2", "R8")],
            ["largest output difference from the authors' (relative)", "—"] + [f"{g(d, 'authors_max_rel_diff'):.1e}" for d in ("R2", "R8")]]
    src = ("perf/results/cordsnet_step.json",)
    return table(["224 px, batch 8, one thread", "target", "R2", "R8"], rows, src)


def regimes() -> str:
    path = f"{CORDSNET}/regimes/regimes.csv"
    groups: dict = {}
    for r in load(path):
        groups.setdefault((r["kind"], float(r["gain"])), []).append(r)
    order = {"dense": 0, "conv": 1, "cordsnet": 2}
    rows = []
    for (kind, gain), runs in sorted(groups.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
        exp = [f"{signed(float(r['lyapunov_per_s']))} ± {float(r['lyapunov_stderr_per_s']):.1f}" for r in runs]
        pr = [f"{float(r['participation_ratio']):.1f}" if r["participation_ratio"] else "–" for r in runs]
        rows.append([kind, f"{gain:g}", " / ".join(r["regime"] for r in runs), " / ".join(exp), " / ".join(pr)])
    src = (path,)
    return table(["kind", "g", "regime (per seed)", "Lyapunov exponent (1/s)", "participation ratio"], rows, src)


def _eig(real: str, imag: str) -> str:
    return f"{signed(float(real), 2)} ± {abs(float(imag)):.2f}i"


def attractors() -> str:
    files = [(f"{CORDSNET}/attractors/attractors.csv", "fixed 600 ms"),
             (f"{CORDSNET}/attractors_long_delay/attractors.csv", "600–2000 ms")]
    rows = [[r["task"], delay, r["expected"], f"{float(r['accuracy']):.3f}",
             f"{r['fixed']} / {r['slow']} / {r['not_converged']}", r["stability"],
             _eig(r["slowest_leading_real_per_s"], r["slowest_leading_imag_per_s"]), f"{r['found']}"
             + (f" ({r['n_points']} points, radius CV {float(r['radius_cv']):.2f})" if r.get("radius_cv") else "")]
            for path, delay in files for r in load(path)]
    src = (*(p for p, _ in files),)
    return table(["task", "delay", "expected", "accuracy", "fixed / slow / not converged (of 200)",
                  "unique points", "slowest point's leading eigenvalue (1/s)", "found"], rows, src)


ARCHS = ["cordsnet", "full", "low-rank", "sparse"]


def cross_accuracy() -> str:
    path = f"{CORDSNET}/cross_architecture/accuracy.csv"
    acc: dict = {}
    for r in load(path):
        acc.setdefault(r["task"], {}).setdefault(r["architecture"], []).append(float(r["accuracy"]))
    rows = [[task] + [" / ".join(f"{a:.2f}" for a in by[arch]) for arch in ARCHS] for task, by in acc.items()]
    src = (path,)
    return table(["task (seed 0 / seed 1)", "CordsNet", "full-rank", "low-rank", "sparse"], rows, src)


def cross_distances() -> str:
    path = f"{CORDSNET}/cross_architecture/summary.csv"
    dist: dict = {}
    for r in load(path):
        dist.setdefault(r["task"], {})[(r["metric"], r["to"])] = float(r["distance"])
    keys = [(metric, arch) for metric in ("cca", "angular") for arch in ARCHS]
    rows = [[task] + [f"{by[k]:.3f}" for k in keys] for task, by in dist.items()]
    rows.append(["mean over tasks"] + [f"{statistics.mean(by[k] for by in dist.values()):.3f}" for k in keys])
    src = (path,)
    return table(["task", "CCA: CordsNet", "full", "low-rank", "sparse", "angular (rad): CordsNet", "full", "low-rank", "sparse"], rows, src)


def early_late() -> str:
    path = f"{CORDSNET}/early_late/early_late.json"
    data = load(path)
    dt = data["dt_ms"]
    times = (20, 30, 40, 100, 200)
    rows = []
    for name, v in data["variants"].items():
        acc = " / ".join(f"{v['accuracy_by_step'][round(t / dt) - 1]:.2f}" for t in times)
        a2 = v["areas"]["area2"]
        rows.append([name, acc, f"{a2['overshoot_mean']:.3f}", f"{a2['peak_over_final']:.3f}",
                     f"{a2['max_abs_imag']:.3f} / {a2['mean_abs_imag']:.3f}", f"{a2['spectral_radius']:.2f}"])
    src = (path,)
    return table(["trained", "accuracy at " + " / ".join(map(str, times)) + " ms", "area2 overshoot",
                  "area2 peak / final", "`W_rec` area2: max / mean \\|Im λ\\|", "spectral radius"], rows, src)


def arnoldi() -> str:
    m = {k: med(v) for k, v in perf("arnoldi").items()}
    rows = [["dense comparison: area1's kernel on small maps", f"{m['dense_units']:,.0f} units"],
            ["`torch.linalg.eigvals` of the dense float64 matrix", f"{m['dense_vs_arnoldi_reference_seconds']:.1f} s, {m['dense_peak_mib']:.0f} MiB peak"],
            ["Arnoldi top-100", f"{m['dense_vs_arnoldi_seconds']:.2f} s, {m['arnoldi_peak_mib']:.1f} MiB peak: **{m['dense_vs_arnoldi_speedup']:.0f}× faster, {m['memory_ratio_dense_over_arnoldi']:.0f}× less memory**"],
            ["largest eigenvalue difference, Arnoldi vs dense top 100", f"**{m['max_eigenvalue_error']:.1e}** ({m['arnoldi_converged']:.0f} converged; spectral radius {m['spectral_radius']:.3f})"],
            ["largest area: area1 at 64 × 56 × 56", f"**{m['largest_area_units']:,.0f} units** (dense float32 matrix {m['largest_area_dense_float32_gib']:.0f} GiB)"],
            ["Arnoldi top-100 on it", f"**{m['largest_area_seconds']:.0f} s, {m['largest_area_peak_mib']:.0f} MiB peak**, {m['largest_area_applications']:,.0f} applications, {m['largest_area_restarts']:.0f} restarts, {m['largest_area_converged']:.0f} converged, spectral radius {m['largest_area_spectral_radius']:.3f}"]]
    src = ("perf/results/arnoldi.json",)
    return table(["measurement", "value"], rows, src)


# --- Deep Continuous Networks (Tomen et al. 2021) ---------------------------------------------

VARIANTS = {"dcn-ode": "DCN-ODE", "odenet": "ODE-Net", "resnet-blocks": "ResNet-blocks"}


def dcn_small_data() -> str:
    path = f"{DCN}/small_data.json"
    data = load(path)
    ks = sorted(next(iter(data.values())), key=int)
    rows = [[VARIANTS.get(v, v)] + [f"{c[k]['mean']:.1f} ± {c[k]['std']:.1f} ({c[k]['paper']['mean']} ± {c[k]['paper']['std']})"
                                    for k in ks] for v, c in data.items()]
    rows += [[f"{VARIANTS.get(v, v)}, CPU s per run"] + [f"{c[k]['cpu_s']:.0f}" for k in ks] for v, c in data.items()]
    src = (path,)
    return table(["model, test accuracy % (paper)"] + [f"k = {k}" for k in ks], rows, src)


def dcn_reconstruction() -> str:
    path = f"{DCN}/reconstruction/summary.json"
    paper = {"resnet-blocks": "21.0 ± 0.4", "odenet": "20.2 ± 1.3", "dcn-ode": "17.1 ± 0.3"}
    rows = []
    for v, r in load(path).items():
        run = load(f"{DCN}/reconstruction/{v}-decoder-seed0.json")
        rows.append([VARIANTS[v], f"{r['mean']:.1f}", paper[v], f"{run['cpu_s']:.0f} s"])
    src = (path, f"{DCN}/reconstruction/*-decoder-seed0.json",)
    return table(["encoder / decoder", "measured, 1e3 · MSE (1 decoder)", "paper, % (3 runs)", "CPU"], rows, src)


def _nfe(blocks: list) -> str:
    return "/".join(f"{b:.0f}" for b in blocks) + f" = {sum(blocks):.0f}"


def dcn_contrast() -> str:
    path = f"{DCN}/contrast/summary.json"
    models = load(path)["models"]
    names = list(models)
    by_c = {r["contrast"]: {} for r in models[names[0]]}
    for name in names:
        for r in models[name]:
            by_c[r["contrast"]][name] = r
    rows = [[f"{c:g}"] + [_nfe(by_c[c][n][p]["nfe_per_block"]) for n in names for p in ("naive", "rescaled")]
            for c in sorted(by_c, reverse=True)]
    src = (path,)
    return table(["c"] + [f"{n}: NFE {p}" for n in names for p in ("naive", "T̂ = cT")], rows, src)


def dcn_contrast_accuracy() -> str:
    paths = [f"{DCN}/contrast/summary.json", f"{DCN}/contrast_rk4/summary.json"]
    rows = []
    for path in paths:
        data = load(path)
        for name, runs in data["models"].items():
            for p in ("naive", "rescaled"):
                rows.append([data["method"], name, p] + [f"{r[p]['accuracy']:.1f}" for r in sorted(runs, key=lambda r: -r["contrast"])])
    contrasts = sorted((r["contrast"] for r in next(iter(load(paths[0])["models"].values()))), reverse=True)
    src = (*paths,)
    return table(["solver", "model", "protocol"] + [f"c = {c:g}" for c in contrasts], rows, src)


def _d_row(run: dict, fractions: tuple) -> list:
    mean = run["mean"]
    return [f"{mean[round(f * (len(mean) - 1))]:.3f}" for f in fractions]


def dcn_completion() -> str:
    half = (0, 0.5, 1)
    rows = []
    for path, label in [(f"{DCN}/pattern_completion/summary.json", "dopri5, k = 128, whole map"),
                        (f"{DCN}/pattern_completion_rk4/summary.json", "one RK4 step, k = 128, whole map"),
                        (f"{DCN}/pattern_completion_k1000/map/summary.json", "one RK4 step, k = 1,000, whole map"),
                        (f"{DCN}/pattern_completion_k1000/mask/summary.json", "one RK4 step, k = 1,000, mask footprint")]:
        for name, run in load(path)["models"].items():
            rows.append([name, label] + _d_row(run, half))
    src = (f"{DCN}/pattern_completion/summary.json", f"{DCN}/pattern_completion_rk4/summary.json",
           f"{DCN}/pattern_completion_k1000/{{map,mask}}/summary.json")
    return table(["network", "solver, training set, region (6 × 6 mask)", "D(0)", "D(T/2)", "D(T)"], rows, src)


def dcn_completion_finetune() -> str:
    folder = f"{DCN}/pattern_completion_finetune"
    rows = []
    for solver, label in (("dopri5", "dopri5"), ("rk4x4", "four RK4 steps")):
        for region in ("map", "mask"):
            for mask in (6, 14):
                run = next(iter(load(f"{folder}/{solver}-{region}-{mask}/summary.json")["models"].values()))
                rows.append([label, "whole map" if region == "map" else "mask footprint", f"{mask} × {mask}"]
                            + _d_row(run, (0, 0.25, 0.5, 0.75, 1)))
    src = (f"{folder}/<solver>-<region>-<mask>/summary.json",)
    return table(["solver", "region", "mask", "t = 0", "T/4", "T/2", "3T/4", "T"], rows, src)


def dcn_mask_accuracy() -> str:
    rows = []
    for path in (f"{DCN}/pattern_completion_rk4/summary.json", f"{DCN}/pattern_completion_k1000/map/summary.json",
                 f"{DCN}/pattern_completion_finetune/dopri5-map-14/summary.json", f"{DCN}/pattern_completion_finetune/rk4x4-map-14/summary.json"):
        data = load(path)
        for name, run in data["models"].items():
            acc = run["accuracy_vs_mask"]
            rows.append([name, data["method"], ", ".join(f"{k} px: {v:.1f}" for k, v in acc.items())])
    src = (f"{DCN}/pattern_completion_rk4/summary.json", f"{DCN}/pattern_completion_k1000/map/summary.json",
           f"{DCN}/pattern_completion_finetune/{{dopri5,rk4x4}}-map-14/summary.json")
    return table(["network", "solver", "accuracy % by mask size (200 test images)"], rows, src)


def dcn_runs() -> str:
    paths = [f"{DCN}/pattern_completion_k1000/dcn-ode-k1000-seed0.json", f"{DCN}/pattern_completion_finetune/rk4x4.json",
             f"{DCN}/pattern_completion_finetune/dopri5.json", f"{DCN}/small_data/dcn-sigma-ji-k128-seed0.json"]
    rows = []
    for path in paths:
        r = load(path)
        c = r["config"]
        rows.append([f"`{Path(path).parent.name}/{Path(path).name}`", c["variant"], f"{r['train_images']:,}",
                     f"{c['epochs']} ({r['steps']} steps)", f"{c['method']} × {c['steps']}" if c["method"] != "dopri5" else "dopri5",
                     f"{r['test']['accuracy']:.2f} % of {r['test_images']:,}", "/".join(f"{n:.0f}" for n in r["test"]["nfe_per_block"]),
                     f"{r['cpu_s'] / 60:.0f} min"])
    src = (*paths,)
    return table(["run", "variant", "training images", "epochs", "solver", "test accuracy", "NFE per block", "CPU"], rows, src)


def dcn_scales() -> str:
    path = f"{DCN}/scales/summary.json"
    scales = load(path)["dcn-ode-k128-seed0"]["scales"]
    header = [name.replace("blocks.", "block ").replace(".func.conv", " conv ") for name in scales]
    src = (path,)
    return table(["layer"] + header, [["σ (px)"] + [f"{s:.2f}" for s in scales.values()]], src)


def dcn_sigma_ji() -> str:
    path = f"{DCN}/scales/summary.json"
    dist = load(path)["dcn-sigma-ji-k128-seed0"]["distribution"]
    rows = [[b.replace("blocks.", ""), f"{len(d['sigmas']):,}", f"{d['skewness']:.2f}", f"{d['lognormal_shape']:.3f}",
             f"{d['lognormal_median']:.2f}", f"{d['ks_statistic']:.3f} ({d['ks_pvalue']:.2f})"] for b, d in dist.items()]
    src = (path,)
    return table(["block (0-based)", "filters", "skewness", "log-normal shape", "median σ (px)", "KS vs log-normal (p)"], rows, src)


def demo() -> str:
    wall, peak = perf("demo")["wall_seconds"], perf("demo")["peak_rss_mib"]
    stages = perf("demo_profile")["after"]
    rows = [["wall (process start to exit)", f"{wall['median']:.1f} s [{wall['min']:.1f}–{wall['max']:.1f}]", "≤ 30 s"],
            ["peak resident memory", f"{peak['median']:,.0f} MiB [{peak['min']:,.0f}–{peak['max']:,.0f}]", "≤ 1 GB"]]
    rows += [[f"stage: {name.replace('_', ' ')}", f"{stages[f'{name}_seconds']:.1f} s ({stages[f'{name}_share']:.0%})", "—"]
             for name in ("record", "shift_search", "fits", "permutation_null", "baselines_and_untrained", "figure")]
    src = ("perf/results/demo.json", "perf/results/demo_profile.json")
    return table(["quantity", "measured: median [min–max] over runs; stages of the profiled run (they overlap)",
                  "target"], rows, src)


def dcn_srf_conv() -> str:
    m = perf("dcn_srf_conv")
    rows = []
    for sigma in ("0.7", "1", "1.5", "2.5"):
        k = med(m[f"sigma_{sigma}_kernel"])
        rows.append([sigma, f"{k:.0f}×{k:.0f}", "separable" if k >= 11 else "direct", rng(m[f"sigma_{sigma}_ratio"]),
                     f"{med(m[f'sigma_{sigma}_build_ms']):.2f} ms"])
    src = ("perf/results/dcn_srf_conv.json",)
    return table(["σ (px)", "kernel", "path", "SRF / plain time (target ≤ 1.05)", "filter build"], rows, src)


def dcn_step() -> str:
    rows = []
    for name, label in (("dcn_step", "batch 32, 2 repeats"), ("dcn_step_quick", "batch 2, 1 repeat (`--quick`)")):
        m = perf(name)
        rows.append([label, f"{rng(m['authors_speedup'], 1)}× ({med(m['authors_reference_seconds']):.1f} s vs {med(m['authors_seconds']):.1f} s)",
                     f"{'/'.join(map(str, m['nfe_ours']))} / {'/'.join(map(str, m['nfe_authors']))} (logits within {m['authors_max_abs_diff']:.1e})",
                     f"{med(m['adjoint_time_ratio']):.2f}×", f"{med(m['adjoint_memory_ratio']):.2f}× ({med(m['adjoint_peak_mib']):,.0f} vs {med(m['direct_peak_mib']):,.0f} MiB; authors' direct {med(m['authors_direct_peak_mib']):,.0f} MiB)"])
    rows.append(["paper (authors' code, batch 32)", "—", "38/32/32", "1.8×", "0.28×"])
    src = ("perf/results/dcn_step.json", "perf/results/dcn_step_quick.json",)
    return table(["run", "authors' time / ours (target ≥ 1.5)", "NFE per block, ours / authors'", "adjoint / direct time", "adjoint / direct peak memory"], rows, src)


# --- convergence (Lippl et al. 2024; Linsley et al. 2020) --------------------------------------

def _index_rows(runs: list) -> list:
    return [[r["run"], r["variant"], r["init"], f"{r['lambda']:g}", f"{r['test_error']:.3f}", f"{r['convergence']:.3f}",
             f"{r['recurrence']:.3f}", f"{r['divergence']:.3f}"] for r in runs]


def lippl_indices() -> str:
    path = f"{LIPPL}/summary/indices.json"
    runs = [r for r in load(path) if r["dataset"] == "cifar10-subset"]
    src = (path,)
    return table(["run", "variant", "init", "λ", "test error", "Convergence", "Recurrence", "Divergence"], _index_rows(runs), src)


def lippl_datasets() -> str:
    names = ["fashion-standard-nonrec-lambda0", "fashion-standard-rec-lambda1",
             "digitclutter3-standard-nonrec-lambda0", "digitclutter3-standard-rec-lambda1"]
    paths = [f"{LIPPL}/resnet/{name}/metrics.json" for name in names]
    rows = []
    for name, path in zip(names, paths):
        r = load(path)
        i = r["indices"]["mean"]
        rows.append([r["run"]["dataset"], name, f"{r['run']['coupling']:g}", f"{r['test_error']:.3f}", f"{r['indices']['chance']:g}",
                     f"{i['convergence']:.3f}", f"{i['recurrence']:.3f}", f"{i['divergence']:.3f}"])
    src = (f"{LIPPL}/resnet/<run>/metrics.json",)
    return table(["data set", "run", "λ", "test error", "chance error", "Convergence", "Recurrence", "Divergence"], rows, src)


def crbp_runs() -> str:
    rows = []
    for task in ("pathfinder", "fashion"):
        data = load(f"{CRBP}/{task}/state_space.json")
        for name, r in data["runs"].items():
            acc = load(f"{CRBP}/{task}/{name}/metrics.json")["accuracy_by_step"]
            after = {int(k): v for k, v in acc.items()} if isinstance(acc, dict) else dict(enumerate(acc, 1))
            worst = min((s for s in after if s > r["train_steps"]), key=lambda s: after[s])
            ks = r["stay_put"]
            rows.append([task, r["algorithm"], r["train_steps"], f"{r['accuracy_at_train_steps']:.3f}", r["eval_steps"],
                         f"{r['accuracy_at_eval_steps']:.3f}", f"{after[worst]:.3f} (step {worst})", f"{r['drift_median']:.3f}",
                         f"D = {ks['ks_statistic']:.3f}, p {pval(ks['p_value'])}"])
    src = (f"{CRBP}/{{pathfinder,fashion}}/state_space.json", f"{CRBP}/*/hgru-*/metrics.json",)
    return table(["task", "training", "trained steps N", "accuracy at N", "evaluated to", "accuracy there",
                  "worst step after N", "median drift N → end", "KS, PC 1 at N vs at the end"], rows, src)


def rbp_memory() -> str:
    m = perf("rbp_memory")
    steps = sorted(m["bptt_peak_mib"], key=int)
    rows = [[label] + [f"{m[key][s]:.{d}f}" for s in steps] for label, key, d in
            (("BPTT peak (MiB)", "bptt_peak_mib", 0), ("C-RBP peak (MiB)", "c_rbp_peak_mib", 0),
             ("BPTT saved for backward (MiB)", "bptt_saved_mib", 0), ("C-RBP saved for backward (MiB)", "c_rbp_saved_mib", 1))]
    rows.append(["slope, peak / saved (MiB per step)", f"BPTT {m['bptt_peak_mib_per_step']:.2f} / {m['bptt_saved_mib_per_step']:.2f}",
                 f"C-RBP {m['c_rbp_peak_mib_per_step']:.2f} / {m['c_rbp_saved_mib_per_step']:.2f}",
                 f"ratio at {steps[-1]} steps: {m['peak_ratio_bptt_over_crbp_at_max_steps']:.1f}× / {m['saved_ratio_bptt_over_crbp_at_max_steps']:.1f}×", "", ""][:len(steps) + 1])
    src = ("perf/results/rbp_memory.json",)
    return table(["recurrent steps"] + steps, rows, src)


# --- tasks, scale-out, reliability, performance --------------------------------------------------

def tasks_classic() -> str:
    path = f"{TASKS}/summary.json"
    rows = [[r["task"], r["backend"], f"{r['accuracy']:.3f}", f"{r['ideal_observer']:.3f}" if r.get("ideal_observer") else "—",
             f"{r['chance']:.2f}", f"{r['p_value']:.0e}", r["n_trials"], r["steps"], f"{r['train_minutes']:.1f}"]
            for r in load(path) if r["group"] == "classic"]
    src = (path,)
    return table(["task", "back-end", "accuracy", "ideal observer", "chance", "p vs chance", "trials", "training steps", "training min"], rows, src)


def multitask() -> str:
    path = f"{TASKS}/multitask/summary.json"
    data = load(path)
    rows = [[task, a["rule"], f"{a['accuracy']:.3f}", f"{a['chance']:.2f}", f"{a['p_value_vs_chance']:.0e}", a["n_trials"]]
            for task, a in data["accuracy"].items()]
    tv = data["task_variance"]
    rows.append([f"task-variance clusters ({tv['method']})", "—", f"k = {tv['k']}", "—",
                 f"silhouette {tv['silhouettes'][str(tv['k'])]:.3f}", f"{tv['trials_per_task']} per task"])
    src = (path,)
    return table([f"task ({data['units']} units, {data['steps']} steps, {data['train_seconds'] / 60:.0f} min)", "rule", "accuracy",
                  "chance", "p vs chance", "trials"], rows, src)


def verb(run: str) -> str:
    """Today's command for a run name recorded before the verb grammar (``train-task`` ...)."""
    run = run.replace("train-", "train ")
    return f"train {run}" if run.startswith("dcn ") else run


def scaleout() -> str:
    path = "experiments/scaleout/agreement.json"
    rows = [[f"`{verb(name)}`", r["steps"], f"{r['max_abs_loss_gap']:.1e}", f"{r['max_abs_weight_gap']:.1e}",
             f"{r['loss_first_last'][0]:.3f} → {r['loss_first_last'][1]:.3f}"] for name, r in load(path).items()]
    src = (path,)
    return table(["command (2 processes vs 1, CPU, gloo)", "steps", "largest loss gap", "largest weight gap", "loss, first → last step"], rows, src)


def memory_stability() -> str:
    m = perf("memory_stability")
    rec, train = m["recording_rss_start_end_mib"], m["training_rss_start_end_mib"]
    rows = [["time-resolved recording (CordsNet-R2, 3,200 stimuli × 25 bins, 10 chunks), results kept",
             f"{rec[0]:,.0f} → {rec[1]:,.0f} MiB, of which {m['recording_results_mib']:.0f} MiB are the results held",
             f"RSS minus results: **{m['recording_leak_mib_per_1000_stimuli_second_half']:.3f} MiB per 1,000 stimuli** over the second half "
             f"({m['recording_leak_mib_per_1000_stimuli']:.1f} over the whole run); raw RSS {m['recording_raw_mib_per_1000_stimuli']:.0f} MiB per 1,000 stimuli"],
            ["back-end training on fresh trials (full-rank, 64 units, 10,000 trials)", f"{train[0]:,.0f} → {train[1]:,.0f} MiB",
             f"**{m['training_mib_per_1000_trials_second_half']:.3f} MiB per 1,000 trials** over the second half "
             f"({m['training_mib_per_1000_trials_whole']:.3f} over the whole run)"]]
    src = ("perf/results/memory_stability.json",)
    return table(["run", "RSS start → end", "slope (≈ 0: no growth across batches)"], rows, src)


LEVERS = [("no_grad", "no-grad inference without history (vs autograd keeping every state)"),
          ("chunked_recording", "chunked recording (batches of 8 vs all 32 images at once)"),
          ("fused_conv", "fused recurrent + input convolution"),
          ("cached_weights", "weight-normalised kernels computed once per run"),
          ("channels_last", "channels-last memory format"),
          ("bf16_autocast", "bf16 autocast (inference)"),
          ("compile", "`torch.compile` of the step")]


def levers() -> str:
    m = perf("levers")
    rows = []
    for key, label in LEVERS:
        speed = f"{m[f'{key}_best_speedup']:.2f}; {rng(m[f'{key}_speedup'])}"
        if f"{key}_peak_mib_default" in m:
            speed += f"; peak {m[f'{key}_peak_mib_default']:.0f} vs {m[f'{key}_peak_mib_lever_off']:.0f} MiB"
        if f"{key}_compile_seconds" in m:
            speed += f" (+{med(m[f'{key}_compile_seconds']):.0f} s to compile)"
        diff = m[f"{key}_relative_difference"]
        rows.append([label, speed, "0 (exact)" if diff == 0 else f"{diff:.1e}", "wins" if m[f"{key}_wins"] else "no clear win"])
    src = ("perf/results/levers.json",)
    return table(["lever", "speed-up: fastest-time ratio; median [min–max] per pair; memory", "relative change of the final state", "measured"], rows, src)


def dynvision() -> str:
    """Ours against DynVision's CordsNet-R8 at one and two threads, one alternating run each."""
    runs = [(threads, perf(name)) for threads, name in ((1, "dynvision"), (2, "dynvision_2threads"))]
    labels = {"forward": "forward step, no grad (5 steps after 10 untimed)",
              "train": "forward+backward per step, 20 steps after 10 untimed, read-out + CE every step",
              "presentation": "training presentation, 300 steps (100 spontaneous, 100 image, 100 return), batch 1"}
    seconds = {"forward": "forward_seconds_per_step", "train": "train_seconds_per_step",
               "presentation": "presentation_seconds"}

    def speed_row(key: str) -> list:
        digits, row = (1 if key == "presentation" else 3), [labels[key]]
        for _, m in runs:
            speedup = f"{rng(m[f'{key}_speedup'])} x"
            row += [f"{med(m[f'ours_{seconds[key]}']):.{digits}f} s", f"{med(m[f'dynvision_{seconds[key]}']):.{digits}f} s",
                    speedup if key == "forward" else f"**{speedup}**"]
        return row

    low = runs[0][1]
    bf16 = [f"forward+backward as above under bfloat16 autocast (opt-in): state off float32's by "
            f"{pct(med(low['ours_bf16_state_relative_difference']))}, gradients by "
            f"{pct(med(low['ours_bf16_gradient_relative_difference']))}"]
    for _, m in runs:
        bf16 += [f"{med(m['ours_bf16_train_seconds_per_step']):.3f} s", f"{med(m['dynvision_train_seconds_per_step']):.3f} s",
                 f"{rng(m['bf16_train_speedup'])} x"]
    memory = ["peak memory of that 20-step BPTT"]
    for _, m in runs:
        ours, theirs = med(m["ours_train_peak_mib"]), med(m["dynvision_train_peak_mib"])
        memory += [f"{ours:,.0f} MiB", f"{theirs:,.0f} MiB", f"{theirs / ours:.1f}x less"]
    rate = ["our forward GFLOP/s over the convolution peak measured in the same processes"]
    for _, m in runs:
        rate += [rng(m["forward_gflops_fraction_of_conv_peak"]), f"peak {med(m['ours_conv_peak_gflops']):.0f} GFLOP/s", "—"]
    header = ["", *[f"{t} thread{'s' * (t > 1)}: {who}" for t, _ in runs for who in ("ours", "DynVision", "speedup")]]
    src = tuple(f"perf/results/{name}.json" for name in ("dynvision", "dynvision_2threads"))
    rows = [speed_row("forward"), speed_row("train"), bf16, speed_row("presentation"), memory, rate]
    return table(header, rows, src)


def gpu_estimate() -> str:
    m = perf("gpu_estimate")
    rows = []
    for gpu in ("H100-SXM-80GB", "A100-80GB"):
        rows.append([gpu, f"{m[f'{gpu}_max_batch_default']} / {m[f'{gpu}_max_batch_cached_weights']}",
                     f"TF32 {rng(m[f'{gpu}_tf32_seconds_per_step'])} s, BF16 {rng(m[f'{gpu}_bf16_seconds_per_step'])} s",
                     f"~{m[f'{gpu}_tf32_images_per_second']:.0f} (TF32), ~{m[f'{gpu}_bf16_images_per_second']:.0f} (BF16)"])
    rows.append([f"this CPU (1 thread, {m['cpu_gflops']:.1f} GFLOP/s measured)", "—", f"{m['this_device_seconds_per_image']:.0f} s per image",
                 f"{1 / m['this_device_seconds_per_image']:.3f}"])
    src = ("perf/results/gpu_estimate.json",)
    return table(["device", "largest batch in 90 % of memory (default / cached kernels)", "step time at 25–50 % of peak [median, range]", "images/s"], rows, src)


def gpu_workload() -> str:
    m = perf("gpu_estimate")
    rows = [["FLOP per Euler step per image (multiply-add = 2)", f"{m['step_gflop']:.2f} GFLOP"],
            ["once-per-image drive", f"{m['encode_gflop']:.2f} GFLOP"],
            ["parameters", f"{m['parameters_millions']:.1f} M"],
            ["one training image (200 back-propagated steps, backward ≈ 2 × forward)", f"{m['train_gflop_per_image'] / 1000:.2f} TFLOP"],
            ["memory kept for backward per step per image: as written / kernels cached", f"{m['bptt_mib_per_step_default']:.1f} / {m['bptt_mib_per_step_cached_weights']:.1f} MiB"]]
    src = ("perf/results/gpu_estimate.json",)
    return table(["CordsNet-R8, 3 × 224 × 224", "measured"], rows, src)


SCORING_SIZES = (("scoring_spantime", "V4 size (88 neuroids)"), ("scoring_spantime_168n", "IT size (168 neuroids)"))
#: the same sizes on both cores, without the reference (its fit takes half an hour per size)
SCORING_TWO_THREADS = (("scoring_spantime_2threads_floor", "V4 size, 2 threads"),
                       ("scoring_spantime_168n_2threads_floor", "IT size, 2 threads"))


def scoring_targets_met(sizes=SCORING_SIZES) -> dict[str, bool]:
    """Whether every run in ``sizes`` meets each target: span-time <= 1.5x its floor, per-bin <= 2x
    span-time, peak memory <= 1 GB, equal to brainscore-vision to 1e-6 (where the run compared
    with it; medians over repeats)."""
    runs = [perf(name) for name, _ in sizes]
    return {"spantime": all(m["floor_ratio"]["median"] <= 1.5 for m in runs),
            "perbin": all(m["perbin_over_spantime"]["median"] <= 2 for m in runs),
            "memory": all(max(m["ours_peak_mib"], m["perbin_peak_mib"]) <= 1024 for m in runs),
            "equal": all(max(m["max_abs_score_difference"], m["max_abs_neuroid_r_difference"]) <= 1e-6
                         for m in runs if "max_abs_score_difference" in m)}


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _scoring_time_rows(runs: list[dict], met: dict) -> list[list]:
    """Floor, span-time over the floor, per-bin over span-time and peak memory, a column per run."""
    return [["floor: `X'X`, `X'Y` once", *(f"{rng(m['floor_seconds'])} s" for m in runs), ""],
            ["ours (span-time), multiple of the floor",
             *(f"**{rng(m['floor_ratio'])} x** ({med(m['ours_seconds']):.2f} s)" for m in runs),
             f"<= 1.5 x: {_verdict(met['spantime'])}"],
            ["per-bin mode, multiple of span-time",
             *(f"**{rng(m['perbin_over_spantime'])} x** ({med(m['perbin_seconds']):.1f} s)" for m in runs),
             f"<= 2 x: {_verdict(met['perbin'])}"],
            ["peak memory: span-time / per-bin", *(f"{m['ours_peak_mib']:.0f} / {m['perbin_peak_mib']:.0f} MiB" for m in runs),
             f"<= 1 GB: {_verdict(met['memory'])}"]]


def scoring_floor() -> str:
    """Span-time scoring against its arithmetic floor and brainscore-vision, per-bin against span-time."""
    runs = [perf(name) for name, _ in SCORING_SIZES]
    met = scoring_targets_met()
    rows = _scoring_time_rows(runs, met) + [
            ["brainscore-vision `spantime_pls`: time, peak",
             *(f"{med(m['brainscore_seconds']):,.0f} s, {m['brainscore_peak_mib']:,.0f} MiB: ours "
               f"**{med(m['spantime_vs_brainscore_speedup']):,.0f}x** faster" for m in runs), ""],
            ["largest difference: per-bin score / per-neuroid r",
             *(f"{m['max_abs_score_difference']:.1e} / {m['max_abs_neuroid_r_difference']:.1e}" for m in runs),
             f"<= 1e-6: {_verdict(met['equal'])}"],
            ["PLS component fits stopped by `max_iter` (all timed runs, both modes)",
             *(f"{m['pls_max_iter_reached']} of {m['pls_component_fits']:,} (worst: {m['pls_worst_angle_deg']:.0f} degrees, "
               f"s2/s1 = {m['pls_worst_singular_gap']:.3f})" for m in runs), "recorded"]]
    src = tuple(f"perf/results/{name}.json" for name, _ in SCORING_SIZES)
    return table(["", *(label for _, label in SCORING_SIZES), "target"], rows, src)


def scoring_two_threads() -> str:
    """The same comparison on both cores: span-time and the floor on two BLAS threads, the per-bin
    batches on two workers."""
    runs = [perf(name) for name, _ in SCORING_TWO_THREADS]
    rows = _scoring_time_rows(runs, scoring_targets_met(SCORING_TWO_THREADS))
    src = tuple(f"perf/results/{name}.json" for name, _ in SCORING_TWO_THREADS)
    return table(["", *(label for _, label in SCORING_TWO_THREADS), "target"], rows, src)


SCORING_STAGES = [("moments", "bin_moments", "second moments of all rows (`dsyrk`; span-time: grouped, with the group sums' additions)"),
                  ("pls_fits", "pls_fits", "PLS fits (10 span-time, 290 per-bin), of which:"),
                  (None, "power_iterations", "- power iterations"),
                  (None, "c_products", "- `C w` products with the held-out downdates"),
                  (None, "s_passes", "- passes over `S`"),
                  ("predictions", "predictions", "test predictions (casting the rows included; span-time: the K-column scores `X R` only)"),
                  ("correlations", "correlations", "test correlations (span-time: from the scores' K x N and K x K products, predictions never formed)")]


def scoring_profile() -> str:
    """Where each scoring mode's time goes: one cProfile run of each at the V4 size."""
    m = perf("scoring_spantime_profile")
    cell = lambda run, key: f"{run[key + '_seconds']:.2f} s ({pct(run[key + '_share'], 0)})" if key else "—"  # noqa: E731
    rows = [[label, cell(m["spantime"], span), cell(m["perbin"], perbin)] for span, perbin, label in SCORING_STAGES]
    rows.append(["whole run under the profiler / the floor in the same process",
                 f"{m['spantime']['wall_seconds']:.2f} s / {m['floor_seconds']:.2f} s",
                 f"{m['perbin']['wall_seconds']:.2f} s / {m['floor_seconds']:.2f} s"])
    return table(["stage (cumulative time)", "span-time", "per-bin"], rows, ("perf/results/scoring_spantime_profile.json",))


CORDSNET_README, DCN_README = f"{CORDSNET}/README.md", f"{DCN}/README.md"

#: NAME -> (page holding the block, builder)
TABLES: dict[str, tuple[str, Callable[[], str]]] = {
    "cordsnet-speed": ("docs/cordsnet.md", cordsnet_speed),
    "cordsnet-fmnist": (CORDSNET_README, cordsnet_fmnist),
    "cordsnet-cifar": (CORDSNET_README, cordsnet_cifar),
    "cordsnet-cifar-stages": ("docs/cordsnet.md", cordsnet_cifar),
    "cordsnet-return": (CORDSNET_README, cordsnet_return),
    "cordsnet-cifar-return": (CORDSNET_README, lambda: cordsnet_return("cifar-r2")),
    "regimes": (CORDSNET_README, regimes),
    "attractors": (CORDSNET_README, attractors),
    "cross-architecture-accuracy": (CORDSNET_README, cross_accuracy),
    "cross-architecture-distances": (CORDSNET_README, cross_distances),
    "early-late": (CORDSNET_README, early_late),
    "arnoldi": ("docs/analysis.md", arnoldi),
    "dcn-srf-conv": ("docs/dcn.md", dcn_srf_conv),
    "demo": ("docs/performance.md", demo),
    "scoring-floor": ("docs/performance.md", scoring_floor),
    "scoring-two-threads": ("docs/performance.md", scoring_two_threads),
    "scoring-profile": ("docs/performance.md", scoring_profile),
    "dcn-step": ("docs/dcn.md", dcn_step),
    "dcn-small-data": (DCN_README, dcn_small_data),
    "dcn-reconstruction": (DCN_README, dcn_reconstruction),
    "dcn-contrast": (DCN_README, dcn_contrast),
    "dcn-contrast-accuracy": (DCN_README, dcn_contrast_accuracy),
    "dcn-completion": (DCN_README, dcn_completion),
    "dcn-completion-finetune": (DCN_README, dcn_completion_finetune),
    "dcn-mask-accuracy": (DCN_README, dcn_mask_accuracy),
    "dcn-runs": (DCN_README, dcn_runs),
    "dcn-scales": (DCN_README, dcn_scales),
    "dcn-sigma-ji": (DCN_README, dcn_sigma_ji),
    "lippl-indices": (f"{LIPPL}/README.md", lippl_indices),
    "lippl-datasets": (f"{LIPPL}/README.md", lippl_datasets),
    "crbp-runs": (f"{CRBP}/README.md", crbp_runs),
    "rbp-memory": ("docs/convergence.md", rbp_memory),
    "tasks-classic": (f"{TASKS}/README.md", tasks_classic),
    "multitask": (f"{TASKS}/README.md", multitask),
    "scaleout": ("experiments/scaleout/README.md", scaleout),
    "memory-stability": ("docs/reliability.md", memory_stability),
    "levers": ("docs/performance.md", levers),
    "dynvision": ("docs/performance.md", dynvision),
    "gpu-estimate": ("docs/performance.md", gpu_estimate),
    "gpu-workload": ("docs/performance.md", gpu_workload),
}

TABLES.update(runpy.run_path(str(ROOT / "docs" / "tables_guides.py"))["tables"](globals()))  # scoring and task pages


def build(name: str) -> str:
    """The markdown of table ``name``, its source line included."""
    return TABLES[name][1]()


def render(text: str, page: str) -> str:
    """``text`` of ``page`` with every table block regenerated; an unknown or misplaced NAME is an error."""
    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name not in TABLES or TABLES[name][0] != page:
            where = TABLES[name][0] if name in TABLES else "nowhere"
            raise ValueError(f"{page}: table block {name!r} belongs to {where}; valid names for this page: "
                             f"{', '.join(n for n, (p, _) in TABLES.items() if p == page) or 'none'}")
        return f"<!-- table:{name}:start -->\n{build(name)}\n<!-- table:{name}:end -->"
    return BLOCK.sub(fill, text)


def pages() -> list[str]:
    return sorted({page for page, _ in TABLES.values()})


def missing_blocks() -> list[str]:
    """Names whose page lacks the block's markers."""
    return [name for name, (page, _) in TABLES.items()
            if f"<!-- table:{name}:start -->" not in (ROOT / page).read_text()]


def differing_pages() -> list[str]:
    """Pages whose generated blocks differ from what their result files give."""
    return [page for page in pages() if render((ROOT / page).read_text(), page) != (ROOT / page).read_text()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if a page differs")
    args = parser.parse_args(argv)
    if args.check:
        bad = differing_pages() + [f"(no block {n})" for n in missing_blocks()]
        for page in bad:
            print(f"{page}: generated tables differ from the result files: run python docs/tables.py", file=sys.stderr)
        return 1 if bad else 0
    for page in pages():
        path = ROOT / page
        text = path.read_text()
        new = render(text, page)
        if new != text:
            path.write_text(new)
            print(f"updated {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
