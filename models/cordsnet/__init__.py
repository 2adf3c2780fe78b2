"""CordsNet R2-R8 (Soo et al., NeurIPS 2024): continuous-time convolutional rate networks.

``cordsnet-r{2,4,6,8}``: the authors' ImageNet architecture (3 x 224 x 224 input, 1000 classes),
randomly initialised; keyword arguments override the configuration (e.g. ``activation='tanh'``,
``rec_gain=1.5``, ``image_size=64``). Trained variants load the checkpoints shipped in
``weights/``. ``cordsnet-r8-imagenet`` loads the authors' released checkpoint from a path.
"""
from neurovision import model_registry

from .model import RELEASED, TRAINED, UNTRAINED, build

for _name in UNTRAINED + tuple(TRAINED) + RELEASED:
    model_registry[_name] = build(_name)
