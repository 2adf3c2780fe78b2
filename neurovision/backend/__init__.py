"""Multi-area RNN back-ends, front-end to back-end models, task training and evaluation.

* :mod:`.connectivity`, :mod:`.network`, :mod:`.build`: rate areas (full-rank, low-rank,
  sparse, Dale's law) joined by projections;
* :mod:`.multiarea`, :mod:`.cache`: a frozen front-end feeding a back-end, with its features
  cached on disk;
* :mod:`.taskenv`, :mod:`.trials`: NeuroGym task environments and batches of trials;
* :mod:`.training`, :mod:`.evaluation`, :mod:`.behaviour`, :mod:`.experiment`: training,
  decisions, psychometric/chronometric curves, PSTHs and whole runs.
"""
from .behaviour import chronometric, fit_logistic, psychometric
from .build import build_backend, parse_kind
from .cache import FeatureCache, feature_trials
from .evaluation import Evaluation, condition_psth, decide, evaluate
from .experiment import EVAL_SEED_OFFSET, TaskRun, load_run, run_task
from .multiarea import MultiAreaModel
from .network import AreaSpec, MultiAreaBackend, Projection
from .training import task_loss, train
from .trials import TrialSampler, Trials, draw_trials

__all__ = [
    "EVAL_SEED_OFFSET", "AreaSpec", "Evaluation", "FeatureCache", "MultiAreaBackend", "MultiAreaModel",
    "Projection", "TaskRun", "TrialSampler", "Trials", "build_backend", "chronometric",
    "condition_psth", "decide", "draw_trials", "evaluate", "feature_trials", "fit_logistic",
    "load_run", "parse_kind", "psychometric", "run_task", "task_loss", "train",
]
