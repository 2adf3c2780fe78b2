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

DESCRIPTIONS = {
    "recurrent-resnet": "ordinary ResNet, 3 stages x 16 blocks (Lippl et al. 2024), random weights",
    "recurrent-resnet-shared": "recurrent ResNet, shared weights (coupling lambda = 1), random weights",
    "recurrent-resnet-icr": "spectrally normalised improperly convergent ResNet (mu = 0.95), random weights",
    "recurrent-resnet-pcr": "spectrally normalised properly convergent ResNet (mu = 0.95), random weights",
    "hgru-pathfinder": "hGRU for 64 x 64 px Pathfinder (Linsley et al. 2020), random weights",
    "convlstm-pathfinder": "convLSTM for 64 x 64 px Pathfinder, random weights",
    "hgru-pathfinder4-bptt": "hGRU trained on 4-dash Pathfinder with BPTT (reduced scale)",
    "hgru-pathfinder4-c-rbp": "hGRU trained on 4-dash Pathfinder with C-RBP (reduced scale)",
    **{f"recurrent-resnet-cifar-w8-lambda{c}": f"width-8 ResNet trained on the CIFAR-10 subset, coupling lambda = {c}"
       for c in ("0", "0.5", "0.9", "1")},
    "recurrent-resnet-cifar-w8-icr": "width-8 improperly convergent ResNet trained on the CIFAR-10 subset",
    "recurrent-resnet-cifar-w8-pcr": "width-8 properly convergent ResNet trained on the CIFAR-10 subset",
}

for _name in ARCHITECTURES:
    model_registry[_name] = architecture(_name)
for _name in TRAINED:
    model_registry[_name] = trained(_name)
for _name, _text in DESCRIPTIONS.items():
    model_registry.describe(_name, _text)
