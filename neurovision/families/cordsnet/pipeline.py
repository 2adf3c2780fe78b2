"""The whole CordsNet pipeline with one checkpoint per stage and resume after interruption.

Stages (see :mod:`neurovision.families.cordsnet.stages`): ``cnn``, ``fold``, ``fit``,
``linear``, ``anneal``, ``finetune``, and the control ``direct`` (a randomly initialised ReLU
CordsNet trained with the full loss). In ``out/``:

* ``<stage>.pt`` - the finished stage (neurovision checkpoint; ``meta`` holds the CordsNet
  configuration, the stage's test metrics and wall time). A stage whose file exists is skipped
  and its weights are loaded, so running the same command again resumes the pipeline.
* ``<stage>.progress.pt`` (``anneal-<level>.progress.pt``) - the training loop's own checkpoint
  of an unfinished stage, from which the loop resumes exactly.
* ``<stage>.log.jsonl`` (``anneal-<level>.log.jsonl``) - per-step losses; ``metrics.json`` - every
  finished stage's metrics.

Under ``torchrun`` (``world`` of several ranks) every rank trains on its slice of each global
batch; rank 0 alone evaluates and writes, and the others wait for it after every stage.

Data sets: ``fashion-mnist`` and ``cifar10-subset`` (local files), ``mnist``, ``cifar10``,
``cifar100`` (torchvision downloads) or ``folder:<root>`` (ImageNet layout, read on demand; give
every stage a ``steps_per_epoch``).
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from ...data.datasets import load_dataset
from ...errors import UnknownIdError
from .network import CordsNet, CordsNetConfig
from .cnn import CordsNetCNN
from ...io import atomic_path
from ...seeding import seed_everything
from ...training.checkpoint import load_checkpoint, save_checkpoint
from .augment import make_augment
from .data import FolderSampler, is_folder, load_folder_split
from .protocol import Protocol, evaluate
from .stages import anneal, finetune, fit_steady_state, fold, train_cnn, train_linear
from ...training.distributed import World
from ...training.loop import TrainConfig

STAGES = ("cnn", "fold", "fit", "linear", "anneal", "finetune")
CONTROL = "direct"
#: stages evaluated with the reduced protocol (image from zero rates, no return epoch)
FROM_REST = ("fold", "fit", "linear")
#: image side (px) used when none is given: native size of small data sets, 224 otherwise
NATIVE_SIZE = {"fashion-mnist": 28, "mnist": 28, "cifar10": 32, "cifar10-subset": 32, "cifar100": 32}
NORMALISATION_OF = {"cifar10-subset": "cifar10"}


def _default(**kw):
    return field(default_factory=lambda: TrainConfig(**kw))


@dataclass
class PipelineConfig:
    """Data set, architecture and one :class:`TrainConfig` per training stage.

    Defaults follow the authors' optimisers (SGD with momentum for the CNN, AdamW afterwards)
    with learning rates raised for short CPU runs; ``train_limit``/``eval_limit`` take seeded
    random subsets of the training and test splits.
    """

    dataset: str = "fashion-mnist"
    depth: int = 2
    image_size: int | None = None
    augment: str = "light"
    train_limit: int | None = None
    eval_limit: int | None = 2000
    eval_batch_size: int = 250
    seed: int = 0
    cnn: TrainConfig = _default(epochs=10, optimizer="sgd", lr=0.05, weight_decay=1e-4, lr_milestones=(6, 9),
                                batch_size=128, grad_clip=5.0)
    fit: TrainConfig = _default(epochs=3, optimizer="adamw", lr=1e-3, batch_size=128, grad_clip=1.0)
    linear: TrainConfig = _default(epochs=1, optimizer="adamw", lr=1e-4, batch_size=64, grad_clip=1.0,
                                   steps_per_epoch=200, checkpoint_every=20)
    anneal: TrainConfig = _default(epochs=1, optimizer="adamw", lr=1e-4, batch_size=64, grad_clip=1.0,
                                   steps_per_epoch=10, checkpoint_every=10)
    anneal_levels: int = 20
    #: anneal and fine-tune keep the feed-forward kernel directions of the CNN (stages.trained_parameters)
    freeze_features: bool = False
    finetune: TrainConfig = _default(epochs=1, optimizer="adamw", lr=3e-5, batch_size=64, grad_clip=1.0,
                                     steps_per_epoch=100, checkpoint_every=20)
    direct: TrainConfig = _default(epochs=1, optimizer="adamw", lr=1e-3, batch_size=64, grad_clip=1.0,
                                   steps_per_epoch=100, checkpoint_every=20)
    neumann_iterations: int = 3
    contraction_weight: float = 10.0
    protocol: Protocol = field(default_factory=Protocol)

    def model_config(self, n_classes: int) -> CordsNetConfig:
        """The CordsNet architecture of this pipeline for ``n_classes`` classes."""
        size = self.image_size or NATIVE_SIZE.get(self.dataset, 224)
        norm = "imagenet" if is_folder(self.dataset) else NORMALISATION_OF.get(self.dataset, self.dataset)
        return CordsNetConfig.for_dataset(norm, self.depth, size, n_classes)

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=list)


def seeded_subset(images, labels, limit: int | None, seed: int):
    """``(images, labels)``, or ``limit`` of them drawn by a permutation seeded with ``seed``."""
    if limit is None or limit >= images.shape[0]:
        return images, labels
    index = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(seed))[:limit]
    return images[index], labels[index]


def load_split(config: PipelineConfig, split: str):
    """``(data, classes)`` of ``split``: ``(images, labels)`` fitted to the image size (seeded
    subset when limited), or for a ``folder:`` training split a sampler of random batches."""
    from ...data.images import prepare_images

    size = config.image_size or NATIVE_SIZE.get(config.dataset, 224)
    if is_folder(config.dataset):
        if split == "train":
            sampler = FolderSampler(config.dataset, size)
            return sampler, sampler.classes
        images, labels, classes = load_folder_split(config.dataset, split, size, config.eval_limit, config.seed + 1)
        return (images, labels), classes
    data = load_dataset(config.dataset, split)
    limit = config.train_limit if split == "train" else config.eval_limit
    images, labels = seeded_subset(data.images, data.labels, limit, config.seed + (split == "test"))
    return (prepare_images(images, (images.shape[1], size, size)), labels), data.classes


def check_stages(stages) -> None:
    """Raise :class:`UnknownIdError` (listing the valid stages) for a name that is no stage."""
    for stage in stages:
        if stage not in STAGES + (CONTROL,):
            raise UnknownIdError("stage", stage, list(STAGES + (CONTROL,)))


class Pipeline:
    """Runs stages in order into ``out``; finished stages are loaded instead of re-run.

    Models train on ``device``; ``world`` shards batches across ``torchrun`` ranks.
    """

    def __init__(self, config: PipelineConfig, out: str | Path, progress: bool = True,
                 device: str | torch.device = "cpu", world: World = World()):
        self.config, self.out, self.progress = config, Path(out), progress
        self.device, self.world = torch.device(device), world
        self.out.mkdir(parents=True, exist_ok=True)
        test, classes = load_split(config, "test")
        self._data = {"test": test}
        self.model_config = config.model_config(len(classes))
        self.model_id = f"cordsnet-r{config.depth}-{config.dataset}"

    # -- data and bookkeeping ----------------------------------------------------------------
    def data(self, split: str):
        if split not in self._data:
            self._data[split] = load_split(self.config, split)[0]
        return self._data[split]

    def augment(self):
        return make_augment(self.config.dataset, self.config.augment, self.model_config.n_classes,
                            self.model_config.image_size)

    def path(self, stage: str) -> Path:
        return self.out / f"{stage}.pt"

    def fit_kw(self, stage: str) -> dict:
        return {"model_id": f"{self.model_id}-{stage}", "log": self.out / f"{stage}.log.jsonl",
                "progress": self.progress, "device": self.device, "world": self.world}

    def metrics(self) -> dict:
        path = self.out / "metrics.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def _record(self, stage: str, model, values: dict) -> None:
        config = model.config if isinstance(model, CordsNet) else self.model_config
        save_checkpoint(self.path(stage), model, f"{self.model_id}-{stage}",
                        meta={"cordsnet_config": config.to_dict(), "stage": stage,
                              "metrics": values, "pipeline": self.config.to_json()})
        everything = dict(self.metrics(), **{stage: values})
        with atomic_path(self.out / "metrics.json") as tmp:
            tmp.write_text(json.dumps(everything, indent=2) + "\n")

    def evaluate(self, model, from_rest: bool) -> dict:
        images, labels = self.data("test")
        return evaluate(model, images, labels, self.config.protocol, self.config.eval_batch_size, from_rest)

    def _cnn_accuracy(self, model) -> dict:
        images, labels = self.data("test")
        model.eval()
        with torch.no_grad():
            hits = sum(float((model(images[i:i + 500].to(self.device)).argmax(1).cpu() == labels[i:i + 500]).sum())
                       for i in range(0, images.shape[0], 500))
        return {"acc": hits / images.shape[0]}

    def _load(self, stage: str, model) -> None:
        payload = load_checkpoint(self.path(stage), model, f"{self.model_id}-{stage}")
        if isinstance(model, CordsNet):
            saved = payload["meta"]["cordsnet_config"]
            model.set_activation(saved["activation"], saved["prelu_slope"])

    # -- stages ------------------------------------------------------------------------------
    def run(self, stages=STAGES) -> dict:
        """Run (or load) ``stages`` in order; returns the metrics of every finished stage."""
        check_stages(stages)
        seed_everything(self.config.seed)
        cnn, folded, model = CordsNetCNN(self.model_config).to(self.device), None, None
        for stage in stages:
            if stage == "cnn":
                target = cnn
            elif stage == CONTROL:
                torch.manual_seed(self.config.seed)
                target = CordsNet(self.model_config).to(self.device)
            else:
                if folded is None:
                    if not self.path("cnn").is_file():
                        raise FileNotFoundError(f"stage {stage!r} needs the finished 'cnn' stage in {self.out}")
                    self._load("cnn", cnn)
                    folded, model = fold(cnn, seed=self.config.seed)
                    model.to(self.device)
                target = model
            if self.path(stage).is_file():
                if stage != CONTROL:
                    self._load(stage, target)
                continue
            values = self._timed(stage, lambda: self._train(stage, target, folded))
            if self.world.is_main:
                self._record(stage, target, values)
            self.world.barrier()
        return self.metrics()

    def _timed(self, stage: str, work) -> dict:
        """Run ``work``; its wall time, summed over interrupted runs, goes to ``wall_s`` (rank 0;
        the other ranks only run it)."""
        if not self.world.is_main:
            return work()
        sidecar = self.out / f"{stage}.elapsed_s"
        before = float(sidecar.read_text()) if sidecar.is_file() else 0.0
        start = time.perf_counter()
        try:
            values = work()
        finally:
            with atomic_path(sidecar) as tmp:
                tmp.write_text(f"{before + time.perf_counter() - start:.1f}\n")
        return {**values, "wall_s": float(sidecar.read_text())}

    def _train(self, stage: str, model, folded) -> dict:
        """Train one stage in place; its test metrics on rank 0 ({} on the other ranks)."""
        cfg, augment = self.config, self.augment()
        progress, fit_kw = self.out / f"{stage}.progress.pt", self.fit_kw(stage)
        train = None if stage == "fold" else self.data("train")
        if stage == "cnn":
            train_cnn(model, train, cfg.cnn, augment, progress, **fit_kw)
        elif stage == "fit":
            fit_steady_state(model, folded, train, cfg.fit, cfg.neumann_iterations, cfg.contraction_weight,
                             progress, **fit_kw)
        elif stage == "linear":
            train_linear(model, train, cfg.linear, cfg.protocol, augment, progress, **fit_kw)
        elif stage == "anneal":
            anneal(model, train, cfg.anneal, cfg.anneal_levels, cfg.protocol, augment, self.out,
                   freeze_features=cfg.freeze_features, **fit_kw)
        elif stage == "finetune":
            finetune(model, train, cfg.finetune, cfg.protocol, augment, progress,
                     freeze_features=cfg.freeze_features, **fit_kw)
        elif stage == CONTROL:  # the direct-training control from a random initialisation trains everything
            finetune(model, train, cfg.direct, cfg.protocol, augment, progress, **fit_kw)
        if not self.world.is_main:
            return {}
        if stage == "fold":
            return {"acc_folded_cnn": self._cnn_accuracy(folded)["acc"], **self.evaluate(model, True)}
        return self._stage_metrics(stage, model)

    def _stage_metrics(self, stage: str, model) -> dict:
        """Test metrics of a trained stage: CNN accuracy, reduced or full protocol."""
        if stage == "cnn":
            return self._cnn_accuracy(model)
        if stage in FROM_REST:
            return self.evaluate(model, True)
        return self._full_metrics(model)

    def evaluate_stages(self, stages) -> dict:
        """Re-evaluate finished ``stages`` on the evaluation split (no training); adds them to
        ``evaluation-<n images>.json`` beside the checkpoints (other stages there are kept)."""
        check_stages(stages)
        results = {}
        for stage in stages:
            if not self.path(stage).is_file():
                raise FileNotFoundError(f"stage {stage!r} has not finished in {self.out}")
            model = (CordsNetCNN if stage == "cnn" else CordsNet)(self.model_config).to(self.device)
            self._load(stage, model)
            results[stage] = self._stage_metrics(stage, model)
        n = self.data("test")[0].shape[0]
        path = self.out / f"evaluation-{n}.json"
        earlier = json.loads(path.read_text()) if path.is_file() else {}
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps({**earlier, **results}, indent=2) + "\n")
        return results

    def _full_metrics(self, model: CordsNet) -> dict:
        return {**self.evaluate(model, False), "spontaneous_converged": model.spontaneous_info.get("converged")}


def export(stage_checkpoint: str | Path, path: str | Path, model_id: str, extra_meta: dict | None = None) -> Path:
    """Write a finished stage's CordsNet as a standalone checkpoint loadable by ``load_cordsnet``."""
    from ...io import load_torch

    payload = load_torch(stage_checkpoint)
    meta = payload.get("meta", {})
    model = CordsNet(CordsNetConfig.from_dict(meta["cordsnet_config"]))
    model.load_state_dict(payload["model"])
    return save_checkpoint(path, model, model_id,
                           meta={"cordsnet_config": model.config.to_dict(), "stage": meta.get("stage"),
                                 "metrics": meta.get("metrics", {}), **(extra_meta or {})})
