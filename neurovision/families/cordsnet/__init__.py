"""CordsNet (Soo et al., NeurIPS 2024): convolutional rate dynamics, tau = 10 ms, dt = 2 ms.

``network`` (the model and its checkpoints), ``cnn`` (the CNN stage), ``released`` (the authors'
weights), ``protocol`` / ``stages`` / ``pipeline`` / ``augment`` / ``data`` (the training
protocol and initialisation pipeline), ``experiments`` (present-remove, switch, noise),
``early_late`` / ``cross_architecture`` / ``memory`` (the paper's analyses of trained networks).
"""
from .experiments import noise_robustness, present_remove, switch, trajectory
from .network import CordsNet, CordsNetConfig, load_cordsnet

__all__ = ["CordsNet", "CordsNetConfig", "load_cordsnet", "noise_robustness", "present_remove", "switch",
           "trajectory"]
