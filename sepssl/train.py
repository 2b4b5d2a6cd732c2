"""`sepssl train`: one LightningModule for every task.

sepssl adds to Lightning (set up by `sepssl.trainer`): on-device mixing (`task.make_batch`
inside the step, on the model's device), the task's helper networks as submodules (so they
move, checkpoint and resume with the model), validation on paired files by SI-SDR through the
task's inference rule, and the export of the best checkpoint as a weights-only model file.
"""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader

from . import losses
from .config import Config
from .data.datasets import PairedFiles, RawClips
from .errors import ConfigError
from .files import write_text
from .models.enhancer import Enhancer
from .tasks import Task, build_task
from .trainer import copy_matching_weights, fit, lr_factor, scheduled

# where each kind of raw data a task may need comes from in the `data:` section
DATA_KEYS = {"speech": "train_speech", "noise": "train_noise", "clean": "train_clean"}


class TaskModule(L.LightningModule):
    """A task, the enhancer it trains and the task's helper networks.

    Args:
        config: a validated `Config`.
        task: the task it names, if already built.
    """

    def __init__(self, config: Config, task: Task | None = None):
        super().__init__()
        self.save_hyperparameters({"config": config.dump()})
        self.config = config
        self.task: Task = task if task is not None else build_task(config.task)
        self.enhancer = Enhancer(config.model.model_dump(), rule=self.task.inference_rule(),
                                 sample_rate=config.sample_rate)
        self.helpers = self.task.helpers(self.enhancer.net)   # e.g. RemixIT's teacher

    def training_step(self, raw: dict[str, torch.Tensor], _):
        batch = self.task.recorded(self.task.make_batch(raw), self.config.sample_rate)
        loss, terms = self.task.training_loss(self.enhancer, batch, self.global_step)
        size = batch.inputs.shape[0]
        for name, value in terms.items():
            self.log(f"train/{name}", value, batch_size=size)
        self.log("train/loss", loss, prog_bar=True, batch_size=size)
        return loss

    def validation_step(self, pair, _):
        # files of every length: a compiled network (`trainer.compile`) would recompile for each
        compiled = getattr(self.config.trainer, "compile", "off") != "off"
        with torch.compiler.set_stance("force_eager") if compiled else contextlib.nullcontext():
            self._validate(*pair)

    def _validate(self, noisy: torch.Tensor, refs: torch.Tensor) -> None:
        """Log SI-SDR of `noisy (1, time)` enhanced against `refs (1, references, time)`."""
        if refs.shape[1] == 1:                   # enhancement: the task's inference rule
            si_out = losses.si_sdr(self.enhancer(noisy), refs[:, 0])   # its rule is the task's
        else:                                    # separation: outputs matched to sources
            si_out = losses.pit_si_sdr(self.enhancer.separate(noisy), refs)[0].mean(1)
        si_in = losses.si_sdr(noisy.unsqueeze(1), refs).mean(1)
        kw = dict(batch_size=noisy.shape[0], sync_dist=True)
        self.log("val/si_sdr", si_out.mean(), prog_bar=True, **kw)
        self.log("val/si_sdr_in", si_in.mean(), **kw)
        self.log("val/si_sdri", (si_out - si_in).mean(), prog_bar=True, **kw)

    def on_train_batch_end(self, *_):
        self.task.after_step(self.enhancer.net)

    def configure_optimizers(self):
        o, t = self.config.optim, self.config.trainer
        params = list(self.enhancer.parameters())
        # on a GPU, one fused kernel per step instead of a few per parameter tensor
        fused = True if params and params[0].is_cuda else None
        adam = torch.optim.Adam(params, lr=o.lr, weight_decay=o.weight_decay, fused=fused)
        return scheduled(adam, lr_factor(o.schedule, o.warmup_steps, t.max_steps))

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        meta = self.enhancer.to_dict()
        meta.pop("state_dict")
        checkpoint["sepssl_model"] = meta

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.task.before_restore(self.enhancer.net, checkpoint["state_dict"], "helpers.")


def make_loaders(cfg: Config, task: Task) -> tuple[DataLoader, DataLoader | None]:
    """The training loader (raw clips of exactly the data `task.needs`) and the validation
    loader (whole paired files, or None without `data.valid`).

    Raises:
        ConfigError: a source the task needs is not given, naming its key.
    """
    d = cfg.data
    for need in task.needs:
        if not getattr(d, DATA_KEYS[need]):
            hint = (" (noise-only clips); with noisy recordings alone, use `sepssl adapt` (or "
                    "task remixit from a trained teacher)" if need == "noise" else "")
            raise ConfigError(f"data.{DATA_KEYS[need]}: task {task.name} needs it{hint}")
    sources = {need: getattr(d, DATA_KEYS[need]) for need in task.needs}
    kw = dict(num_workers=d.num_workers, persistent_workers=d.num_workers > 0)
    if d.resident:
        if task.paired:
            raise ConfigError(f"data.resident: task {task.name} crops its sources file by file "
                              "alike, which resident data does not; set data.resident=false")
        train_loader = DataLoader(_resident(cfg, sources), batch_size=None, num_workers=0)
    else:
        train_loader = _clip_loader(cfg, sources, kw, task.paired)
    valid_loader = None
    if d.valid:
        valid = PairedFiles(d.valid, cfg.sample_rate, d.valid_files)
        valid_loader = DataLoader(valid, batch_size=1, **kw)
    return train_loader, valid_loader


def _clip_loader(cfg: Config, sources: dict[str, str], kw: dict[str, Any],
                 paired: bool = False) -> DataLoader:
    d = cfg.data
    train = RawClips(sources, cfg.sample_rate, d.segment_seconds, d.items_per_epoch,
                     paired=paired)
    if len(train) < d.batch_size:
        raise ConfigError(f"data.batch_size: {d.batch_size} is more than the {len(train)} items "
                          "per epoch; lower it or set data.items_per_epoch")
    return DataLoader(train, batch_size=d.batch_size, shuffle=True, drop_last=True, **kw)


def _resident(cfg: Config, sources: dict[str, str]):
    """`data.resident`: the training set on the training device (one device only)."""
    from .data.resident import ResidentClips

    t = cfg.trainer
    if t.devices not in (1, "auto") or t.num_nodes != 1:
        raise ConfigError("data.resident: holds the data on one device; use trainer.devices=1")
    gpu = t.accelerator in ("gpu", "cuda") or (t.accelerator == "auto" and torch.cuda.is_available())
    return ResidentClips(sources, cfg.sample_rate, cfg.data.segment_seconds, cfg.data.batch_size,
                         device="cuda" if gpu else "cpu", seed=t.seed)


def train(cfg: Config, callbacks: list[L.Callback] = (), card: dict[str, Any] | None = None
          ) -> Path:
    """Train as the config says.

    Args:
        cfg: a validated `Config` (`sepssl.config.load_config`).
        callbacks: more Lightning callbacks (e.g. a progress display).
        card: more entries for the model card (e.g. the teacher of an adaptation).
    Returns:
        The exported model file, `out_dir/model.pt`.
    """
    t = cfg.trainer
    out = Path(t.out_dir)
    L.seed_everything(t.seed, workers=True, verbose=False)
    task = build_task(cfg.task)
    train_loader, valid_loader = make_loaders(cfg, task)
    module = TaskModule(cfg, task)
    if t.init_from:
        init_from(module.enhancer.net, t.init_from)
    if t.compile != "off":   # in place: the state dict keeps its keys, the export is unchanged
        module.enhancer.net.compile(mode=t.compile)
    validating = valid_loader is not None
    checkpoint = L.pytorch.callbacks.ModelCheckpoint(
        dirpath=out / "checkpoints", filename="best",
        monitor="val/si_sdr" if validating else "train/loss",
        mode="max" if validating else "min", save_last=True,
        every_n_train_steps=None if validating else t.val_every_steps)

    def export(module: TaskModule, trainer: L.Trainer, run: dict[str, Any]) -> None:
        export_model(module, checkpoint, cfg, {**run, **(card or {})}, out / "model.pt")

    fit(module, t, cfg.dump(), train_loader, valid_loader, checkpoint=checkpoint,
        export=export, card_name="model_card.json", grad_clip=cfg.optim.grad_clip,
        extra_callbacks=list(callbacks), same_run=("sample_rate", "task", "model"))
    return out / "model.pt"


def init_from(net: torch.nn.Module, path: str) -> list[str]:
    """Copy every weight of the model at `path` whose name and shape match `net`'s (denoising
    pre-training → separation keeps all but the output layer); returns the names left fresh."""
    from .models.enhancer import load_model

    return copy_matching_weights(net, load_model(path).net.state_dict(), path)


def export_model(module: TaskModule, checkpoint, cfg: Config, card: dict[str, Any],
                 path: Path) -> None:
    """Save the best checkpoint's weights (or, if none was kept, the last ones, and say so in
    the card) as a weights-only model file with its card beside it."""
    best = checkpoint.best_model_path
    selected_step = None
    if best and os.path.isfile(best):
        saved = torch.load(best, map_location="cpu", weights_only=True)
        state, selected_step = saved["state_dict"], saved.get("global_step")
        # the enhancer only: helpers may have changed shape since (RemixIT's replaced teacher)
        module.enhancer.load_state_dict({k[len("enhancer."):]: v for k, v in state.items()
                                         if k.startswith("enhancer.")})
        selected_by = checkpoint.monitor
    else:
        selected_by = "last step (no checkpoint was selected)"
    score = checkpoint.best_model_score
    module.enhancer.card = {
        "trained_with": cfg.task.name, "config": cfg.dump(), **card,
        "selected_by": selected_by, "selected_step": selected_step,
        "best_score": None if score is None else float(score)}
    module.enhancer.cpu().save(path)
    write_text(path.parent / "model_card.json", json.dumps(module.enhancer.card, indent=2))
