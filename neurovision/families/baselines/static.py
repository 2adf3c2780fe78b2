"""Feed-forward image networks scored bin by bin: their features behind the leaky temporal filter.

A network that maps an image to features in one pass (e.g. a recurrent ResNet of Lippl et al.
2024, whose blocks iterate in depth, not in time) has no time course of its own. It is given the
same one as the baselines (:mod:`.temporal`): ``tau dr/dt = -r + features(image)``, with
``tau = 20`` ms and ``dt = 2`` ms, so its per-bin scores are comparable with theirs. The
network sees ``visual_degrees`` (8 deg, Brain-Score's default) on its own input size.
"""
from __future__ import annotations

import torch

from ...dynamics.base import DynamicalModel
from .temporal import LeakyFeatureModel


class StaticNetworkModel(LeakyFeatureModel):
    """``network.features(images)`` (B, C, H, W) behind the leaky filter; one area, ``features``.

    ``network`` needs ``input_shape`` (C, H, W) and ``features``; ``tau``, ``dt`` in ms.
    """

    areas = ("features",)

    def __init__(self, network: torch.nn.Module, visual_degrees: float = 8.0, tau: float = 20.0, dt: float = 2.0):
        super().__init__(tuple(network.input_shape), visual_degrees, tau, dt)
        self.network = network.eval()
        self.set_blank()

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.network.features(images.to(next(self.network.parameters()).dtype))


def as_time_stepped(model):
    """``model`` itself when it has dynamics (stepped or sampled, e.g. CordsNet, DCN), else a
    :class:`StaticNetworkModel` of it when it has image ``features``; otherwise ``model``
    unchanged (scoring then says why it cannot)."""
    if isinstance(model, DynamicalModel) or not callable(getattr(model, "features", None)):
        return model
    return StaticNetworkModel(model)


def load_time_stepped(model_id: str):
    """The registered model ``model_id`` as scoring records it (:func:`as_time_stepped`)."""
    from ...registry import load_model

    return as_time_stepped(load_model(model_id))
