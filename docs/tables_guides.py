"""Generated tables of the scoring and task pages and their experiment READMEs.

Run by docs/tables.py, which adds :func:`tables` to its ``TABLES``; each builder takes that
module's helpers (``load``, ``table``, ``pval`` ...) as ``h`` and reads only committed files.
"""
from __future__ import annotations

from collections import Counter
from functools import partial
from types import SimpleNamespace
from typing import Callable

BRAIN, TASKS = "experiments/brainscore", "experiments/multiarea_tasks"
BRAIN_README, TASKS_README = f"{BRAIN}/README.md", f"{TASKS}/README.md"
SPANTIME = ("scoring_spantime", "scoring_spantime_168n", "scoring_spantime_quick")


def _ci(v: dict, digits: int = 3) -> str:
    """``estimate [low, high]`` of a bootstrap statistic; ``—`` where there is none."""
    if v is None:
        return "—"
    return f"{v['estimate']:.{digits}f} [{v['ci'][0]:.{digits}f}, {v['ci'][1]:.{digits}f}]"


def _p(h, p: float) -> str:
    return f"{p:.2f}" if p >= 0.01 else h.pval(p).removeprefix("= ")


# --- time-resolved Brain-Score --------------------------------------------------------------------

def scoring_speed(h) -> str:
    rows = []
    for name in SPANTIME:
        run = h.load(f"perf/results/{name}.json")
        m, c = run["metrics"], run["config"]
        ref = m.get("spantime_vs_brainscore_reference_seconds", m.get("brainscore_seconds"))
        ours = m.get("spantime_vs_brainscore_seconds", m.get("ours_seconds"))
        brainscore = (f"{h.med(ref):,.1f} s, {m['brainscore_peak_mib']:,.0f} MiB" if ref else "not run")
        speed = f"{h.med(m['spantime_vs_brainscore_speedup']):,.1f}×" if ref else "—"
        diff = (f"{m['max_abs_score_difference']:.1e} / {m['max_abs_neuroid_r_difference']:.1e}"
                if "max_abs_score_difference" in m else "—")
        floor = h.rng(m["floor_ratio"]) + "×" if "floor_ratio" in m else "—"
        rows.append([f"`{name}`", f"{c['images']:,} × {c['features']:,} × {c['bins']} × {c['neuroids']}",
                     f"{c['threads']} ({run['machine']['processor']})",
                     f"{h.med(ours):,.2f} s, {m['ours_peak_mib']:,.0f} MiB", brainscore, speed, diff,
                     f"{h.med(m['perbin_seconds']):,.2f} s, {m['perbin_peak_mib']:,.0f} MiB", floor])
    src = tuple(f"perf/results/{n}.json" for n in SPANTIME)
    return h.table(["run", "images × features × bins × neuroids", "threads (CPU)", "span-time, ours: time, peak",
                    "brainscore `spantime_pls`: time, peak", "speed-up", "max |Δ| score / neuroid r",
                    "per-bin mode: time, peak", "ours / floor (X'X, X'Y once)"], rows, src)


def scoring_memory(h) -> str:
    m = h.perf("scoring_memory")
    rows = [[f"stand-in with R8 area1's shape ({m['area_units']:,} units)", f"{m['standin_images']:,} × {m['standin_bins']}",
             f"{m['reduced_features']:,} (pooled)", f"{m['standin_peak_mib']:,.0f} MiB", f"{m['standin_seconds']:,.0f} s",
             f"{m['unreduced_binned_gib']:.1f} GiB unreduced"],
            ["real CordsNet-R8 area1", f"{m['cordsnet_images']} × {m['standin_bins']}", f"{m['reduced_features']:,} (pooled)",
             f"{m['cordsnet_peak_mib']:,.0f} MiB", f"{m['cordsnet_seconds']:,.0f} s", "—"]]
    return h.table(["recorded model", "images × bins", "features", "peak RSS", "time", "without pooling"], rows,
                   ("perf/results/scoring_memory.json",))


def baselines(h) -> str:
    path = f"{BRAIN}/baselines_cowley.json"
    rows = []
    for r in h.load(path)["rows"]:
        cached = f"{r['seconds_from_cache']:.0f} s" if r.get("seconds_from_cache") else "—"
        rows.append([f"`{r['model']}`", r["kind"], f"{r['area']} ({r['n_features']:.0f})",
                     f"{r['score']:.3f} ± {r['score_error']:.3f}", f"{r['normalized_score']:.3f}",
                     f"{r['null_mean']:.3f}", f"{r['permutation_p_value']:.3f}", f"{r['shift_ms']:.0f} ms",
                     f"{r['seconds']:.0f} s / {cached}"])
    return h.table(["model", "kind", "area (features)", "r ± s.e.", "normalised", "image-shuffled", "permutation p",
                    "shift", "time recording / from the cache"], rows, (path,))


def scoreboard_answers(h) -> str:
    """The scoreboard's two questions answered from its CSV: each scored trained model against the
    best baseline and against its untrained seeds, best first."""
    path = f"{BRAIN}/scoreboard/scoreboard.csv"
    scored = [r for r in h.load(path) if r["kind"] == "trained" and r["status"].startswith("scored")]

    def diff(r, value, prefix):
        """``value`` column with the CI and p of the columns named ``<prefix>_ci_low`` ..."""
        low, high, p = (float(r[f"{prefix}_ci_low"]), float(r[f"{prefix}_ci_high"]), float(r[f"{prefix}_p"]))
        verdict = "higher" if low > 0 else "lower" if high < 0 else "not different"
        return f"{float(r[value]):+.3f} [{low:+.3f}, {high:+.3f}], p {'< 1e-4' if p < 1e-4 else f'= {p:.2g}'}: {verdict}"

    rows = [[r["benchmark"], f"`{r['model']}`", f"{float(r['score']):.3f}", f"{r['best_baseline']}",
             diff(r, "minus_best_baseline", "minus_best"), diff(r, "minus_untrained", "minus_untrained")]
            for r in sorted(scored, key=lambda r: -float(r["score"]))]
    return h.table(["benchmark", "trained model", "r", "best baseline", "model − best baseline [95 % CI]",
                    "model − its untrained seeds [95 % CI]"], rows, (path,))


CALIBRATION = [("image permutation p, mean score", "false-positive rate", "null", "image_mean_score"),
               ("some bin above the image null (max-statistic)", "false-positive rate", "null", "image_some_bin"),
               ("time-specificity p, no relation", "false-positive rate", "null", "time_specificity"),
               ("time-specificity p, stable selectivity (strong signal, unequal neural gains)", "false-positive rate",
                "stable", "time_specificity"),
               ("image permutation p, modest signal (0.35)", "power", "modest", "image_mean_score"),
               ("some bin above the image null, modest signal", "power", "modest", "image_some_bin"),
               ("time-specificity p, tuning 30 % bin-specific", "power", "time_specific", "time_specificity"),
               ("compare, two equally good models", "false-positive rate", "compare_null", "reported_different"),
               ("compare, feature noise 1.0 vs 1.8: A reported better", "power", "compare_better", "a_reported_better"),
               ("compare, noise features vs the real model: noise reported better", "wrong verdicts", "compare_trivial",
                "a_reported_better")]


def calibration(h) -> str:
    path = f"{BRAIN}/calibration.json"
    runs = h.load(path)
    cell = lambda reg, s, k: f"{runs[reg]['rates'][s][k]:.3f}" if s in runs[reg]["rates"] else "—"  # noqa: E731
    rows = [[test, rate, cell("ridge", s, k), cell("pls", s, k)] for test, rate, s, k in CALIBRATION]
    return h.table(["test", "rate", f"ridge ({runs['ridge']['permutations']} draws)",
                    f"PLS, 4 components ({runs['pls']['permutations']} draws)"], rows, (path,))


# --- multi-area back-ends on tasks ----------------------------------------------------------------

VISUAL = ("delayed-saccade", "random-dot-motion", "numerosity", "cat-dog-category", "cat-dog-photographs")


def visual_tasks(h) -> str:
    rows = []
    for run in VISUAL:
        e = h.load(f"{TASKS}/visual/{run}/evaluation.json")
        r = e["run"]
        responded = f"{e['responded']:.3f}" if "responded" in e else "all"
        rows.append([run, f"`{r['frontend']}`", f"{e['accuracy']:.3f}", responded, f"{e['chance']:.3f}",
                     _p(h, e["p_value_vs_chance"]), f"{r['train_trials']:,} / {r['steps']:,}",
                     f"{e['feature_seconds']:.0f} s", f"{e['train_seconds']:.0f} s"])
    src = (f"{TASKS}/visual/<run>/evaluation.json",)
    return h.table(["run", "front-end", "accuracy (1,000 new trials)", "responded", "chance", "p vs chance",
                    "training trials / steps", "front-end features", "training"], rows, src)


EVALUATIONS = [("delayed-saccade: units location-selective in the delay", "visual/delayed-saccade/tuning.json"),
               ("cat/dog, trained morph levels", "visual/cat-dog-category/tuning.json"),
               ("cat/dog, continuum with untrained levels (90 … 10 % cat)", "visual/cat-dog-category/continuum/tuning.json"),
               ("cat/dog, new prototypes (`prototype_seed=1`)", "visual/cat-dog-category/new-prototypes/tuning.json"),
               ("cat/dog, every photograph, disjoint sets (`stimuli=photographs`)", "visual/cat-dog-photographs/tuning.json"),
               ("numerosity, non-matches any other number", "visual/numerosity/tuning.json"),
               ("numerosity, non-matches only ±1 (`nonmatch=adjacent`)", "visual/numerosity/adjacent/tuning.json")]


def visual_evaluations(h) -> str:
    rows = []
    for label, path in EVALUATIONS:
        t = h.load(f"{TASKS}/{path}")
        rows.append([label, f"{t['accuracy']:.3f}", f"{t['selective_fraction']:.3f} ({t['condition']})"])
    bound = h.load(f"{TASKS}/category_bound.json")
    rows.append([f"front-end's own cat/dog read-out ({bound['test_images']:,} test images) → bound on matching new photographs",
                 f"{bound['cat_dog_accuracy']:.3f} → {bound['match_accuracy_bound']:.3f}", "—"])
    src = (f"{TASKS}/visual/<run>/[<evaluation>/]tuning.json", f"{TASKS}/category_bound.json")
    return h.table(["evaluation of the trained back-end (1,000 new trials)", "accuracy", "selective units (ANOVA p < 0.01)"],
                   rows, src)


def lip_headline(h) -> str:
    path = f"{TASKS}/visual/roitman2002/score.json"
    s = h.load(path)
    yes = lambda ok: "yes" if ok else "no"  # noqa: E731
    rows = [["LIP", _ci(s["lip_normalised_contrast"]), yes(s["lip_headline_pass"]), _ci(s["lip_buildup_coherence_slope_tin"], 2),
             _ci(s["lip_buildup_coherence_slope_tout"], 2), "—"],
            ["trained back-end", _ci(s["model_normalised_contrast"]), yes(s["headline_pass"]),
             _ci(s["model_buildup_coherence_slope_tin"]), _ci(s["model_buildup_coherence_slope_tout"]),
             f"{s['trajectory_r']:.3f} (p = {s['trajectory_p']:.3f})"]]
    for name, c in s["controls"].items():
        rows.append([f"control: {name}", _ci(c["normalised_contrast"]), yes(c["headline_pass"]),
                     _ci(c["buildup_coherence_slope_tin"]), _ci(c["buildup_coherence_slope_tout"]), f"{c['trajectory_r']:.3f}"])
    foot = (f"\n\nScore (model contrast / LIP's): {s['score']:.2f}; build-up correlation with LIP across conditions "
            f"{s['buildup_r']:.2f} (p = {s['buildup_p']:.2f}); {s['n_model_units']} model units; {s['n_boot']} bootstrap draws.")
    return h.table(["activity", "normalised Tin − Tout contrast [95 % CI]", "passes", "Tin slope", "Tout slope",
                    "trajectory r (secondary)"], rows, (path,)) + foot


def lip_observations(h) -> str:
    path = f"{TASKS}/visual/roitman2002/score.json"
    s = h.load(path)
    mark = lambda ok: "pass" if ok else "fail"  # noqa: E731
    rows = [[o["observation"], f"{mark(o['model_pass'])}: {_ci(o['model'], 2)}", f"{mark(o['reference_pass'])}: {_ci(o['reference'], 2)}" if o["reference"] else "—"]
            for o in s["observations"]]
    b = s["behaviour"]
    threshold = lambda who: _ci(b[who]["logistic"]["threshold"], 1)  # noqa: E731
    rows.append(["psychometric threshold (% coherence)", threshold("model"), threshold("monkeys")])
    rows.append(["non-decision time added to model decision times (fitted)", f"{b['non_decision_ms']:.0f} ms", "—"])
    rows.append(["trials without a response / accuracy on the others", f"{b['model']['no_response_fraction']:.3f} / "
                 f"{b['model']['accuracy_responded']:.3f}", "every trial ended in a saccade"])
    return h.table(["observation (Roitman & Shadlen 2002)", "model", "LIP / monkeys"], rows, (path,))


def three_area_decoding(h) -> str:
    path = f"{TASKS}/three_area/summary.json"
    d = h.load(path)["decoding"]
    rows = []
    for name, v in d["variables"].items():
        cells = [f"{v[a]['onset_ms']:.0f} ms / {v[a]['peak']:.2f}" if v[a]["onset_ms"] is not None else f"— / {v[a]['peak']:.2f}"
                 for a in ("A1", "A2", "A3")]
        null = max(max(v[a]["null_95"]) for a in ("A1", "A2", "A3"))
        rows.append([f"{name} ({v['metric']}, {v['n_trials']} trials)", *cells, f"≤ {null:.3f}"])
    return h.table(["variable", "A1 sensory: onset / peak", "A2 integration: onset / peak", "A3 motor: onset / peak",
                    "null 95th percentile"], rows, (path,))


def three_area_lesions(h) -> str:
    path = f"{TASKS}/three_area/summary.json"
    rows = [[name, f"{r['accuracy']:.3f}", f"{r['responded']:.3f}", "–" if name == "none" else f"{r['change']:+.3f}",
             "–" if name == "none" else f"{r['n_changed']:.0f}", "–" if name == "none" else f"{r['p_value']:.1e}"]
            for name, r in h.load(path)["lesions"].items()]
    return h.table(["lesion", "correct (no response = error)", "responded", "change", "trials changed", "McNemar p"], rows, (path,))


def three_area_fixed_points(h) -> str:
    path = f"{TASKS}/three_area/summary.json"
    rows = []
    for coherence, f in h.load(path)["fixed_points"].items():
        taus = [t for t in f["slowest_tau_ms"] if t != float("inf")]
        shares = f["leading_mode_area_share"]
        rows.append([coherence, "yes" if f["converged"] else f"**no** (best step {f['best_relative_step']:.1e})", f["n_points"],
                     ", ".join(f"{k} × {n}" for k, n in Counter(map("/".join, zip(f["kinds"], f["stability"]))).items()) or "—",
                     f"{max(taus):,.0f}" if taus else "—",
                     f"{max(x['A1'] for x in shares):.2f}" if shares else "—"])
    return h.table(["signed coherence (%)", "converged", "points", "kind / stability", "slowest time constant (ms)",
                    "largest A1 share of the leading mode"], rows, (path,))


def multitask_clusters(h) -> str:
    path = f"{TASKS}/multitask/summary.json"
    tv = h.load(path)["task_variance"]
    tasks = list(next(iter(tv["centroids"].values())))
    rows = [[k, tv["sizes"][k], *(f"{c[t]:.2f}" for t in tasks)] for k, c in tv["centroids"].items()]
    sil = ", ".join(f"k = {k}: {v:.3f}" for k, v in tv["silhouettes"].items())
    return h.table(["cluster", "units", *tasks], rows, (path,)) + f"\n\nMean silhouette ({tv['method']}): {sil}."


def multitask_vs_single(h) -> str:
    multi = h.load(f"{TASKS}/multitask/summary.json")["accuracy"]
    single = {r["task"]: r["accuracy"] for r in h.load(f"{TASKS}/summary.json") if r["group"] == "classic" and r["backend"] == "full"}
    rows = [[t, f"{a['accuracy']:.3f}", f"{single[t]:.3f}", f"{a['accuracy'] - single[t]:+.3f}"] for t, a in multi.items()]
    return h.table(["task", "one network, rule inputs", "single-task full-rank", "difference"], rows,
                   (f"{TASKS}/multitask/summary.json", f"{TASKS}/summary.json"))


def tables(helpers: dict) -> dict[str, tuple[str, Callable[[], str]]]:
    """NAME -> (page, builder) of this module's tables; ``helpers``: docs/tables.py's namespace."""
    h = SimpleNamespace(**helpers)
    pages = {"scoring-speed": (BRAIN_README, scoring_speed), "scoring-memory": (BRAIN_README, scoring_memory),
             "baselines-cowley": (BRAIN_README, baselines),
             "scoreboard-answers": ("docs/brainscore.md", scoreboard_answers), "calibration": ("docs/brainscore_statistics.md", calibration),
             "visual-tasks": (TASKS_README, visual_tasks), "visual-evaluations": (TASKS_README, visual_evaluations),
             "lip-headline": (TASKS_README, lip_headline), "lip-observations": (TASKS_README, lip_observations),
             "three-area-decoding": (TASKS_README, three_area_decoding), "three-area-lesions": (TASKS_README, three_area_lesions),
             "three-area-fixed-points": (TASKS_README, three_area_fixed_points),
             "multitask-clusters": (TASKS_README, multitask_clusters), "multitask-vs-single": (TASKS_README, multitask_vs_single)}
    return {name: (page, partial(build, h)) for name, (page, build) in pages.items()}
