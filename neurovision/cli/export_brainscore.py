"""``neurovision export-brainscore MODEL DIR``: write a brainscore-vision plugin folder for a model."""
from __future__ import annotations

from ..errors import NeurovisionError
from ._common import non_negative_float, out_folder, positive_float, positive_int


def register(sub) -> None:
    parser = sub.add_parser(
        "export-brainscore", help="write a brainscore-vision model plugin folder (to submit to Brain-Score)",
        description="Writes DIR/__init__.py (registration), model.py, test.py and requirements.txt. "
                    "Copy DIR into brainscore_vision/models/ of a brain-score/vision checkout.")
    parser.add_argument("model", help="registered model id (see `neurovision list models`)")
    parser.add_argument("dir", type=out_folder, help="plugin folder to write; its name must be a Python identifier")
    parser.add_argument("--region-areas", default=None,
                        help="region=area pairs, e.g. V4=area1,IT=area2 (default: the model's declaration)")
    parser.add_argument("--identifier", default=None, help="Brain-Score model id (default: MODEL)")
    parser.add_argument("--visual-degrees", type=positive_float, default=None,
                        help="width of the images in degrees of visual angle (default: the model's)")
    parser.add_argument("--stimulus-ms", type=positive_float, default=100.0, help="image presentation time in ms")
    parser.add_argument("--latency", type=non_negative_float, default=0.0,
                        help="model-to-neuron shift in ms (e.g. the one `neurovision score` chose)")
    parser.add_argument("--max-features", type=positive_int, default=1024,
                        help="areas with more units are spatially pooled to at most this many features")
    parser.add_argument("--requirement", default=None,
                        help="pip requirement that installs this project in requirements.txt, e.g. a wheel "
                             "path or URL (default: the installed distribution's name and version)")
    parser.set_defaults(func=run)


def parse_region_areas(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    pairs = {}
    for token in text.split(","):
        region, sep, area = token.partition("=")
        if not sep or not region.strip() or not area.strip():
            raise NeurovisionError(f"cannot read {token!r}; write region=area pairs like V4=area1,IT=area2")
        pairs[region.strip()] = area.strip()
    return pairs


def run(args) -> int:
    from ..brain.export import export_plugin

    folder = export_plugin(args.model, args.dir, parse_region_areas(args.region_areas),
                           identifier=args.identifier, visual_degrees=args.visual_degrees,
                           stimulus_ms=args.stimulus_ms, latency_ms=args.latency,
                           max_features=args.max_features, requirement=args.requirement)
    print(f"wrote brainscore-vision plugin {folder} (__init__.py, model.py, test.py, requirements.txt)")
    return 0
