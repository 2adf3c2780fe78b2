"""CordsNet R2-R8 (Soo et al., NeurIPS 2024): continuous-time convolutional rate networks.

``cordsnet-r{2,4,6,8}``: the authors' ImageNet architecture (3 x 224 x 224 input, 1000 classes),
randomly initialised; keyword arguments override the configuration (e.g. ``activation='tanh'``,
``rec_gain=1.5``, ``image_size=64``). Trained variants load the checkpoints shipped in
``weights/``. ``cordsnet-r8-imagenet`` loads the authors' released checkpoint from a path.
"""
from neurovision import model_registry

from .model import RELEASED, TRAINED, UNTRAINED, build

DESCRIPTIONS = {
    **{f"cordsnet-r{d}": f"CordsNet-R{d}, {d} recurrent areas, random weights (3 x 224 x 224 input)" for d in (2, 4, 6, 8)},
    "cordsnet-r2-cifar10": "CordsNet-R2 (ReLU) trained on the CIFAR-10 subset by the whole initialisation pipeline, "
                           "fine-tuned with the dynamics loss (shipped weights)",
    "cordsnet-r2-cifar10-linear": "the fit stage (PReLU slope 1, never trained with the dynamics loss) of an earlier "
                                  "run of the same CIFAR-10 recipe; rates may be negative (shipped weights, a control)",
    "cordsnet-r2-fmnist": "CordsNet-R2 trained on Fashion-MNIST by the initialisation pipeline (shipped weights)",
    "cordsnet-r8-imagenet": "CordsNet-R8 with the authors' released ImageNet weights (path= or NEUROVISION_CORDSNET_R8)",
}

for _name in UNTRAINED + tuple(TRAINED) + RELEASED:
    model_registry[_name] = build(_name)
    model_registry.describe(_name, DESCRIPTIONS[_name])
