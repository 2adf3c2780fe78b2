"""Several tasks, one back-end: rule inputs (Yang et al. 2019) on NeuroGym's ``ScheduleEnvs``.

:class:`MultitaskEnv` wraps each task in :class:`UnifiedTask`, which maps its observation into a
layout shared by all tasks, and interleaves them with NeuroGym's ``ScheduleEnvs``
(``env_input=True``), which appends the one-hot **rule input**. The observation at every step is

``[fixation, stimulus channels, rule_0 .. rule_{K-1}]``

* **fixation** (index 0) is the one channel every task shares (each task's ``fixation`` input);
* **stimulus channels**: with ``layout="separate"`` (default) each task's other inputs get a
  block of their own, in task order, and are zero in the other tasks' trials; with
  ``layout="shared"`` every task's inputs start at index 1 (padded with zeros to the widest task),
  so tasks reuse the same input weights (meaningful when their channels mean the same thing);
* **actions** are unified with fixation = 0 and the choices of task ``k`` at ``1 .. n_k - 1``;
  the network has ``max_k n_k`` outputs (a task with fewer choices never targets the others).

Each trial's response periods are also marked as one period ``response`` (the loss mask and the
decision read-out use it), and the trial's ``task`` name and ``rule`` index join its conditions.
Trials are drawn from the tasks independently (:class:`RuleSchedule`, uniform unless weighted);
``with env.only(rule):`` draws trials of one task. Tasks must share ``dt`` and show no images.
"""
from __future__ import annotations

import contextlib

import numpy as np
from neurogym.core import TrialWrapper
from neurogym.utils import spaces
from neurogym.utils.scheduler import BaseSchedule
from neurogym.wrappers.block import ScheduleEnvs

from ..errors import DataError, ScheduleError, ShapeError, UnknownIdError
from .trials import response_periods, seed_env

LAYOUTS = ("separate", "shared")
RESPONSE = "response"


def _channels(where) -> list[int]:
    """Observation indices named by a NeuroGym space name entry (int, list, range or slice)."""
    if isinstance(where, (int, np.integer)):
        return [int(where)]
    if isinstance(where, slice):
        return list(range(where.start or 0, where.stop, where.step or 1))
    return [int(i) for i in where]


def fixation_channel(env, name: str) -> int:
    """Index of ``env``'s fixation input; an error naming the task when it has none."""
    names = getattr(env.observation_space, "name", None) or {}
    if "fixation" not in names or len(_channels(names["fixation"])) != 1:
        raise ShapeError(f"task {name!r} names no single 'fixation' input (its inputs: {dict(names)}); "
                         "multitask training shares that channel between tasks")
    return _channels(names["fixation"])[0]


class UnifiedTask(TrialWrapper):
    """One task seen through the shared layout: ``width`` inputs, ``n_actions`` actions.

    Its stimulus inputs go to ``[offset, offset + n)`` of the unified observation.
    """

    def __init__(self, env, name: str, rule: int, width: int, offset: int, n_actions: int):
        super().__init__(env)
        self.name, self.rule, self.offset = name, rule, offset
        self.task_env = env
        self.fixation = fixation_channel(env, name)
        self.stimulus = [i for i in range(env.observation_space.shape[0]) if i != self.fixation]
        self.periods = response_periods(env)
        self.observation_space = spaces.Box(-np.inf, np.inf, shape=(width,), dtype=np.float32,
                                            name={"fixation": 0})
        self.action_space = spaces.Discrete(n_actions, name={"fixation": 0, "choice": list(range(1, n_actions))})

    def seed(self, seed=None):
        return self.unwrapped.seed(seed)

    def new_trial(self, **kwargs):
        trial = self.env.new_trial(**kwargs) or {}
        base = self.unwrapped
        ob = np.zeros((len(base.ob), self.observation_space.shape[0]), dtype=np.float32)
        ob[:, 0] = base.ob[:, self.fixation]
        ob[:, self.offset:self.offset + len(self.stimulus)] = base.ob[:, self.stimulus]
        base.ob = ob
        missing = [p for p in self.periods if p not in base.start_ind]
        if missing:
            raise DataError(f"task {self.name!r} has no period {missing}; its periods are {list(base.start_ind)}")
        start = min(base.start_ind[p] for p in self.periods)
        end = max(base.end_ind[p] for p in self.periods)
        if sum(base.end_ind[p] - base.start_ind[p] for p in self.periods) != end - start:
            raise DataError(f"task {self.name!r}: response periods {list(self.periods)} are not contiguous")
        base.start_ind[RESPONSE], base.end_ind[RESPONSE] = start, end
        return {**trial, "task": self.name, "rule": self.rule}


class RuleSchedule(BaseSchedule):
    """Draws the next task independently, with probabilities ``weights`` (default uniform);
    ``fixed`` (a rule index) overrides the draw."""

    def __init__(self, n: int, weights=None):
        super().__init__(n)
        p = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
        if p.shape != (n,) or np.any(p < 0) or p.sum() <= 0:
            raise DataError(f"task weights must be {n} non-negative numbers, not all zero; got {weights}")
        self.p = p / p.sum()
        self.fixed: int | None = None

    def __call__(self) -> int:
        self.i = self.fixed if self.fixed is not None else int(self.rng.choice(self.n, p=self.p))
        self.total_count += 1
        return self.i


def _current(name: str) -> property:
    """A read-only view of attribute ``name`` of the task env that drew the current trial."""
    return property(lambda self: getattr(self.unwrapped, name))


class MultitaskEnv(ScheduleEnvs):
    """Tasks ``{name: env}`` interleaved trial by trial, with a one-hot rule input appended.

    ``layout``: ``separate`` or ``shared`` stimulus channels (module docstring); ``weights``:
    relative frequency of each task. Trials come out of :func:`~neurovision.backend.trials.draw_trials`
    like those of any task (the response period is ``response``).
    """

    response_periods = (RESPONSE,)

    def __init__(self, tasks: dict, layout: str = "separate", weights=None, seed: int = 0):
        if len(tasks) < 1:
            raise DataError("give at least one task")
        if layout not in LAYOUTS:
            raise UnknownIdError("stimulus layout", layout, list(LAYOUTS))
        names = list(tasks)
        dts = {name: float(env.dt) for name, env in tasks.items()}
        if len(set(dts.values())) > 1:
            listed = ", ".join(f"{n} ({dt:g} ms)" for n, dt in dts.items())
            raise ScheduleError(f"tasks step at different dt: {listed}; build them all with the same dt")
        for name, env in tasks.items():
            if hasattr(env, "image_shape"):
                raise ShapeError(f"task {name!r} shows images; multitask rule inputs take tasks "
                                 "whose inputs go straight to the back-end")
            if len(env.observation_space.shape) != 1:
                raise ShapeError(f"task {name!r} has observations of shape {env.observation_space.shape}; need 1-D")
        sizes = [env.observation_space.shape[0] - 1 for env in tasks.values()]
        if layout == "separate":
            offsets = list(1 + np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int))
            width = 1 + sum(sizes)
        else:
            offsets, width = [1] * len(sizes), 1 + max(sizes)
        self.n_choices = {name: int(env.action_space.n) - 1 for name, env in tasks.items()}
        n_actions = 1 + max(self.n_choices.values())
        wrapped = [UnifiedTask(env, name, k, width, off, n_actions)
                   for k, ((name, env), off) in enumerate(zip(tasks.items(), offsets))]
        super().__init__(wrapped, RuleSchedule(len(wrapped), weights), env_input=True)
        self.rule_names, self.layout = names, layout
        self.stimulus_offsets = dict(zip(names, offsets))
        self.action_space = wrapped[0].action_space
        seed_env(self, seed)

    # the trial of the current task, as draw_trials reads it
    ob, gt, start_ind, end_ind = (_current(name) for name in ("ob", "gt", "start_ind", "end_ind"))

    @property
    def dt(self) -> float:
        return float(self.envs[0].unwrapped.dt)

    @property
    def n_rules(self) -> int:
        return len(self.envs)

    def __getattr__(self, name):  # no silent look-ups into whichever task ran last
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def task(self, rule):
        """The original environment of ``rule`` (index or task name)."""
        return self.envs[self.check_rule(rule)].task_env

    def check_rule(self, rule) -> int:
        """The rule index of ``rule`` (index or task name); a clear error when out of range."""
        listed = ", ".join(f"{k} = {n}" for k, n in enumerate(self.rule_names))
        if isinstance(rule, str):
            if rule not in self.rule_names:
                raise UnknownIdError("task", rule, self.rule_names)
            return self.rule_names.index(rule)
        if not isinstance(rule, (int, np.integer)) or not 0 <= rule < self.n_rules:
            raise DataError(f"rule index {rule!r} is out of range: this environment has {self.n_rules} "
                            f"rules ({listed}); give an index from 0 to {self.n_rules - 1} or a task name")
        return int(rule)

    def seed(self, seed=None):
        """Seed every task and the schedule from independent streams of ``seed``."""
        children = np.random.SeedSequence(seed).generate_state(self.n_rules + 1)
        for env, child in zip(self.envs, children):
            env.seed(int(child % (2**31 - 1)))
        self.schedule.seed(int(children[-1] % (2**31 - 1)))
        self.next_i_env = self.schedule()
        return [seed]

    @contextlib.contextmanager
    def only(self, rule):
        """Within the block, every trial is of task ``rule`` (index or name)."""
        k = self.check_rule(rule)
        self.schedule.fixed, self.next_i_env = k, k
        try:
            yield self
        finally:
            self.schedule.fixed = None
            self.next_i_env = self.schedule()


def rule_channels(env: MultitaskEnv) -> slice:
    """Where the rule inputs sit in the observation."""
    width = env.observation_space.shape[0]
    return slice(width - env.n_rules, width)


def task_trials(env: MultitaskEnv, rule, n: int, seed: int, fixation_weight: float = 1.0):
    """``n`` trials of task ``rule`` (index or name), seeded with ``seed``."""
    from .trials import draw_trials

    with env.only(rule):
        seed_env(env, seed)  # the schedule's next draw is the fixed rule
        return draw_trials(env, n, fixation_weight=fixation_weight)


def evaluate_tasks(model, env: MultitaskEnv, n: int = 500, seed: int = 0, threshold: float = 0.8) -> dict:
    """Accuracy of ``model`` on ``n`` new trials of every task, against that task's chance
    (1 / its number of choices, one-sided binomial p); ``{task: summary}``."""
    from scipy.stats import binomtest

    from .evaluation import decision_rule, evaluate

    out = {}
    for k, name in enumerate(env.rule_names):
        trials = task_trials(env, k, n, seed + k)
        result = evaluate(model, trials, decision_rule(env.task(k)), threshold)
        hits, chance = int(result.table["correct"].sum()), 1.0 / env.n_choices[name]
        out[name] = {"rule": k, "accuracy": hits / n, "chance": chance, "n_trials": n,
                     "p_value_vs_chance": float(binomtest(hits, n, chance, alternative="greater").pvalue)}
    return out
