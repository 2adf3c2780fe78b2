"""``neurovision train WHAT``: train a model family, resumably, into an output folder.

* ``cordsnet``: the CordsNet initialisation pipeline (CNN -> fold -> ... -> finetune);
* ``dcn classify | small-data | reconstruct``: Deep Continuous Networks (Tomen et al. 2021);
* ``recurrent resnet | pathfinder``: recurrent ResNets and hGRU / convLSTM (Lippl 2024, Linsley 2020);
* ``task``: a multi-area back-end on a cognitive task, behind an optional frozen front-end.
"""
from __future__ import annotations


def register(sub) -> None:
    from .main import register_children

    parser = sub.add_parser("train", help="train CordsNet, DCN, recurrent or task models (resumable)",
                            description=__doc__)
    register_children(parser.add_subparsers(dest="what", metavar="WHAT", required=True), "train")
