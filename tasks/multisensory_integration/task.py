"""Integrate evidence for one of two choices shown in two modalities at once.

NeuroGym's ``MultiSensoryIntegration``: total coherence ``c`` in {5, 15, 50} split between the
modalities as ``c p`` and ``c (1 - p)``, ``p ~ U(0, 1)``; each modality's two channels carry
``0.5 +- c_m / 200`` plus white noise of std ``sigma / sqrt(dt)`` per step. The ideal observer
computes the posterior of each choice from the summed channel differences ``D_m`` of both
modalities, marginalising the unknown ``c`` and ``p``: with ``mu_m = c_m / 100`` and ``n``
steps, ``log p(x | choice 1, c, p) = (mu_1 D_1 + mu_2 D_2) / (2 s^2) - n (mu_1^2 + mu_2^2) / (4 s^2)``
up to a constant (``s`` = per-step noise std), and ``mu -> -mu`` for choice 2.
"""
import numpy as np
from neurogym.envs.native.multisensory import MultiSensoryIntegration as _MultiSensory
from scipy.special import logsumexp

from neurovision.backend.taskenv import make_env

TIMING = {"fixation": 100, "stimulus": 800, "decision": 100}
PROPORTIONS = np.linspace(0.0, 1.0, 201)


class MultiSensoryIntegration(_MultiSensory):
    __doc__ = _MultiSensory.__doc__

    def ideal_choice(self) -> int:
        """Action of the Bayes-optimal observer on the current trial."""
        stim = self.view_ob("stimulus")
        n, s2 = stim.shape[0], self.sigma**2
        d1, d2 = (stim[:, 1] - stim[:, 2]).sum(), (stim[:, 3] - stim[:, 4]).sum()
        c = np.asarray(self.cohs, dtype=float)[:, None] / 100
        mu1, mu2 = c * PROPORTIONS[None], c * (1 - PROPORTIONS[None])
        prior = -n * (mu1**2 + mu2**2) / (4 * s2)
        drift = (mu1 * d1 + mu2 * d2) / (2 * s2)
        return 1 if logsumexp(prior + drift) >= logsumexp(prior - drift) else 2


def build(dt: float = 20, seed: int = 0, timing: dict | None = None, **kwargs) -> MultiSensoryIntegration:
    """The task with durations ``TIMING`` (ms, updated by ``timing``), seeded with ``seed``."""
    return make_env(MultiSensoryIntegration, TIMING, dt=dt, seed=seed, timing=timing, **kwargs)
