"""Image data sets, stimulus generators and neural data loaders.

Public names are imported on first use (``from neurovision.data import load_dataset``)."""
from .._lazy import lazy_names

_PUBLIC = {
    "LabelledImages": "datasets",
    "data_root": "paths",
    "load_dataset": "datasets",
    "load_image_folder": "images",
    "load_roitman": "lip",
    "pathfinder_images": "pathfinder:pathfinder",
    "prepare_images": "images",
}
__all__ = sorted(_PUBLIC)
__getattr__ = lazy_names(__name__, _PUBLIC)
