"""Lesions of a multi-area back-end: silence an area's output or cut one projection.

A lesion is named by a string:

* ``"A2"`` (an area): every projection leaving the area is cut, and the read-out too when it
  is the output area, so its activity reaches nothing downstream (as if its rates were clamped
  at zero for every other area);
* ``"A1->A2"`` (a projection between areas) or ``"input->A1"`` (the task input into an area):
  that projection's weights are set to zero.

:func:`lesioned` returns a modified copy (the original is untouched); :func:`lesion_effects`
evaluates the intact and each lesioned network on the same trials with the same noise and tests
every change in accuracy with an exact McNemar test on the trials whose outcome changed.
"""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import torch
from scipy.stats import binomtest

from ..errors import UnknownIdError
from .evaluation import correct_actions, decide, run_network
from .trials import Trials

INPUT = "input"


def lesion_targets(backend) -> list[str]:
    """Every valid lesion of ``backend``: its areas, its projections and its input projections."""
    return ([*backend.areas] + [f"{p.source}->{p.target}" for p in backend.projections]
            + [f"{INPUT}->{a}" for a in backend.inputs])


def _cut(module) -> None:
    with torch.no_grad():
        if hasattr(module, "mask"):
            module.mask.zero_()
        else:
            module.weight.zero_()


def lesioned(backend, targets) -> torch.nn.Module:
    """A copy of ``backend`` with every lesion in ``targets`` (names of :func:`lesion_targets`)."""
    targets = [targets] if isinstance(targets, str) else list(targets)
    valid = lesion_targets(backend)
    for name in targets:
        if name not in valid:
            raise UnknownIdError("lesion target (area or projection)", name, valid)
    out = copy.deepcopy(backend)
    projections = {f"{p.source}->{p.target}": m for p, m in zip(out.projections, out.inter)}
    for name in targets:
        if name in out.areas:
            for p, module in zip(out.projections, out.inter):
                if p.source == name:
                    _cut(module)
            if name == out.output_area:
                _cut(out.readout)
        elif name.startswith(f"{INPUT}->"):
            _cut(out.inputs[name.split("->", 1)[1]])
        else:
            _cut(projections[name])
    return out


def lesion_effects(backend, trials: Trials, targets=None, rule: str = "mean", threshold: float = 0.8,
                   seed: int = 0) -> pd.DataFrame:
    """Accuracy of the intact ``backend`` and of each lesion in ``targets`` (default: every
    valid one) on ``trials`` (back-end inputs), same network noise (``seed``); columns
    ``accuracy`` (a trial without a response is an error), ``responded`` (fraction of trials
    with a response), ``change`` (vs intact), ``n_changed`` (trials whose outcome flipped) and
    ``p_value`` (two-sided exact McNemar)."""
    targets = lesion_targets(backend) if targets is None else list(targets)
    truth = correct_actions(trials)

    def outcome(net):
        logits = run_network(net.eval(), trials.inputs, seed=seed).logits
        choices = decide(logits, trials, rule, threshold)
        return choices["choice"].to_numpy() == truth, choices["responded"].to_numpy(bool)

    intact, answered = outcome(backend)
    rows = [{"lesion": "none", "accuracy": intact.mean(), "responded": answered.mean(), "change": 0.0,
             "n_changed": 0, "p_value": 1.0}]
    for name in targets:
        after, answered = outcome(lesioned(backend, name))
        lost, gained = int(np.sum(intact & ~after)), int(np.sum(~intact & after))
        p = binomtest(lost, lost + gained, 0.5).pvalue if lost + gained else 1.0
        rows.append({"lesion": name, "accuracy": after.mean(), "responded": answered.mean(),
                     "change": after.mean() - intact.mean(), "n_changed": lost + gained, "p_value": float(p)})
    return pd.DataFrame(rows).set_index("lesion")
