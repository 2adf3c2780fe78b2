"""Recurrent ResNets (Lippl et al. 2024) and hGRU / convLSTM Pathfinder models (Linsley et al. 2020).

Architectures (random weights; keyword arguments override the defaults):

* ``recurrent-resnet``: ordinary ResNet, 3 stages x 16 blocks, widths 16/32/64 (ResNet-101 of the
  paper); ``recurrent-resnet-shared``: soft gradient coupling lambda = 1 with recurrent
  initialisation; ``recurrent-resnet-icr`` / ``recurrent-resnet-pcr``: spectrally normalised
  (mu = 0.95) improperly / properly convergent ResNets.
* ``hgru-pathfinder``, ``convlstm-pathfinder``: 25 channels, 15 x 15 horizontal kernels,
  64 x 64 px Pathfinder images, 8 steps.

Trained at reduced scale (weights in ``weights/``, see docs/convergence.md):
``hgru-pathfinder4-bptt``, ``hgru-pathfinder4-c-rbp`` and
``recurrent-resnet-cifar-w8-lambda{0,0.5,0.9,1}`` (ordinary ResNet for lambda = 0, soft gradient
coupling with recurrent initialisation otherwise), ``recurrent-resnet-cifar-w8-icr`` and
``recurrent-resnet-cifar-w8-pcr`` (spectrally normalised, lambda = 1).
"""
from neurovision import model_registry

from .model import ARCHITECTURES, TRAINED, architecture, trained

for _name in ARCHITECTURES:
    model_registry[_name] = architecture(_name)
for _name in TRAINED:
    model_registry[_name] = trained(_name)
