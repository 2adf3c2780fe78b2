"""How well the frozen front-end itself tells cats from dogs, and what that bounds.

The delayed match-to-category task needs the category of two photographs. If the front-end's
own read-out classifies a test-split cat or dog correctly with probability p (its CIFAR-10
logits restricted to the two classes, at the end of a 200-ms presentation from the spontaneous
state), a back-end that relies on that information matches correctly with probability at most
about p^2 + (1 - p)^2 (both right or both wrong). Writes ``category_bound.json``.

Run from the repository root: ``.venv/bin/python experiments/multiarea_tasks/category_bound.py``.
"""
import json
from pathlib import Path

import torch

import neurovision
from neurovision.data.datasets import load_dataset
from neurovision.data.images import prepare_images
from neurovision.families.cordsnet.protocol import Protocol, present

MODEL = "cordsnet-r2-cifar10"


def main() -> None:
    torch.set_num_threads(1)
    model = neurovision.load_model(MODEL).eval()
    data = load_dataset("cifar10-subset", "test")
    cat, dog = data.classes.index("cat"), data.classes.index("dog")
    chosen = (data.labels == cat) | (data.labels == dog)
    images, labels = prepare_images(data.images[chosen], model.input_shape), data.labels[chosen]
    with torch.no_grad():
        logits, _, _ = present(model, images, Protocol(), from_rest=False)
    pair = logits[-1][:, [cat, dog]]
    predicted = torch.where(pair[:, 0] > pair[:, 1], cat, dog)
    p = float((predicted == labels).float().mean())
    result = {"model": MODEL, "test_images": int(labels.numel()), "cat_dog_accuracy": p,
              "match_accuracy_bound": p * p + (1 - p) ** 2}
    path = Path(__file__).with_name("category_bound.json")
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
