"""Controls the LIP comparison must beat, each scored exactly as the model is.

All keep the trained model's trials, choices and decision times (so the same conditions and
the same truncation before the decision), and change only the activity:

* ``choice-only``: one unit whose rate is 1 on choice-1 trials and 0 otherwise, flat in time;
* ``coherence-shuffled``: the model's own activity with coherence labels permuted among the
  trials of each choice;
* ``untrained seed S``: a back-end of the same architecture with initial weights (seed S) on the
  same front-end features.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from neurovision.backend.evaluation import run_network
from neurovision.errors import DataError


def choice_only(behaviour):
    """Rates (N, T, 1): 1 on choice-1 trials, 0 otherwise, at every step."""
    indicator = (behaviour.table["choice"].to_numpy() == 1).astype(float)
    return dataclasses.replace(behaviour, rates=np.broadcast_to(indicator[:, None, None],
                                                                (len(indicator), behaviour.rates.shape[1], 1)))


def untrained(behaviour, backend, seed: int):
    """The trained model's trials and choices with the rates of the untrained ``backend``."""
    if behaviour.inputs is None:
        raise DataError("the untrained control needs the trials' back-end inputs (ModelBehaviour.inputs)")
    out = run_network(backend, behaviour.inputs, record=True, seed=seed)
    return dataclasses.replace(behaviour, rates=out.rates[backend.output_area].numpy())


def untrained_backend_factory(run):
    """``seed -> back-end`` of a train-task run's architecture with fresh initial weights (input
    standardisation, when the run used it, copied from the trained back-end)."""
    from neurovision.backend.experiment import build

    def make(seed: int, trained=None):
        backend = build(dataclasses.replace(run, seed=seed))[3]
        if trained is not None and getattr(trained, "standardise_inputs", False):
            backend.input_mean.copy_(trained.input_mean)
            backend.input_scale.copy_(trained.input_scale)
        return backend.eval()

    return make
