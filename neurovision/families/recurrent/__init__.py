"""Recurrent vision networks of the convergence literature: recurrent ResNets (Lippl et al. 2024),
hGRU / convLSTM classifiers and contractor-RBP training (Linsley et al. 2020).

``recurrent_resnet``, ``recurrent_classifier`` (``hgru``, ``convlstm`` cells), ``rbp`` and
``recurrent_objective`` (C-RBP), ``resnet_run`` / ``pathfinder_run`` (training and loading),
``state_drift``, ``resnet_report``, ``pathfinder_report``.
"""
from .recurrent_classifier import build_recurrent_classifier
from .recurrent_resnet import RecurrentResNet
from .state_drift import accuracy_by_step, drift, ks_drift, ks_stay_put, rollout, state_space

__all__ = ["RecurrentResNet", "accuracy_by_step", "build_recurrent_classifier", "drift", "ks_drift",
           "ks_stay_put", "rollout", "state_space"]
