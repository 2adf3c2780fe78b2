"""The generic training loop, checkpoints and distributed helpers (no model family).

Public names are imported on first use (``from neurovision.training import fit``)."""
from .._lazy import lazy_names

_PUBLIC = {
    "TrainConfig": "loop",
    "TrainResult": "loop",
    "fit": "loop",
    "load_checkpoint": "checkpoint",
    "save_checkpoint": "checkpoint",
}
__all__ = sorted(_PUBLIC)
__getattr__ = lazy_names(__name__, _PUBLIC)
