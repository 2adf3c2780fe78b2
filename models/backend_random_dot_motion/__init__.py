"""A single-area back-end (128 rate units, tau = 100 ms, dt = 20 ms) trained on random-dot motion
behind the frozen ReLU ``cordsnet-r2-cifar10`` front-end (area2): ``backend-random-dot-motion``.

The weights folder is a finished ``neurovision train task`` run (``model.pt`` + ``evaluation.json``);
``RUN`` is its path, for the Roitman & Shadlen LIP benchmark and ``report-task``.
"""
from neurovision import model_registry

from .model import RUN, build

model_registry["backend-random-dot-motion"] = build
