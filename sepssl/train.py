"""One LightningModule for every task, and the Trainer around it.

Lightning gives the loop, checkpoints, resume, progress bar, mixed precision and DDP; sepssl adds
on-device mixing (`task.make_batch` inside the step, on the model's device), validation on paired
files by SI-SDR, and the export of the best checkpoint as a weights-only model file.
"""
from __future__ import annotations

import json
import math
import os
import time
import warnings
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader

from . import losses
from .config import Config
from .data.datasets import PairedFiles, SpeechNoiseClips
from .errors import ConfigError
from .models.enhancer import Enhancer
from .tasks import build_task


class TaskModule(L.LightningModule):
    def __init__(self, config: dict[str, Any]):
        super().__init__()
        self.save_hyperparameters({"config": config})
        self.config = config
        task_cfg = dict(config["task"])
        self.task = build_task(task_cfg.pop("name"), **task_cfg)
        self.enhancer = Enhancer(config["model"], sample_rate=config["sample_rate"],
                                 **self.task.export())
        self.task_state = self.task.auxiliary(self.enhancer.net)  # e.g. RemixIT's teacher

    def training_step(self, raw: dict[str, torch.Tensor], _):
        batch = self.task.make_batch(raw)
        est = self.enhancer.separate(batch.inputs)
        loss = self.task.loss(est, batch)
        self.log("train/loss", loss, prog_bar=True, batch_size=batch.inputs.shape[0])
        return loss

    def validation_step(self, pair, _):
        noisy, refs = pair                       # (1, time), (1, references, time)
        if refs.shape[1] == 1:                   # enhancement: the speech estimate
            si_out = losses.si_sdr(self.enhancer(noisy), refs[:, 0])
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
        opt = self.config["optim"]
        adam = torch.optim.Adam(self.enhancer.parameters(), lr=opt["lr"],
                                weight_decay=opt["weight_decay"])
        factor = lr_factor(opt.get("schedule", "constant"), opt.get("warmup_steps", 0),
                           self.config["trainer"]["max_steps"])
        sched = torch.optim.lr_scheduler.LambdaLR(adam, factor)
        return {"optimizer": adam, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        meta = self.enhancer.to_dict()
        meta.pop("state_dict")
        checkpoint["sepssl_model"] = meta


def lr_factor(schedule: str, warmup_steps: int, max_steps: int):
    """The learning-rate multiplier at each step: a linear warm-up, then constant or a cosine
    decay that reaches 0 at `max_steps` (a fine-tuning stage settles instead of wandering)."""
    if schedule not in ("constant", "cosine"):
        raise ConfigError(f"optim.schedule: {schedule!r} is not one of constant, cosine")

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        if schedule == "constant":
            return 1.0
        done = min(1.0, (step - warmup_steps) / max(1, max_steps - warmup_steps))
        return 0.5 * (1.0 + math.cos(math.pi * done))
    return factor


def make_loaders(cfg: Config) -> tuple[DataLoader, DataLoader | None]:
    d = cfg.data
    if not d.train_speech or not d.train_noise:
        raise ConfigError("data.train_speech and data.train_noise: both are needed for training")
    train = SpeechNoiseClips(d.train_speech, d.train_noise, cfg.sample_rate, d.segment_seconds,
                             d.items_per_epoch)
    kw = dict(num_workers=d.num_workers, persistent_workers=d.num_workers > 0)
    train_loader = DataLoader(train, batch_size=d.batch_size, shuffle=True, drop_last=True, **kw)
    valid_loader = None
    if d.valid:
        valid = PairedFiles(d.valid, cfg.sample_rate, d.valid_files)
        valid_loader = DataLoader(valid, batch_size=1, **kw)
    return train_loader, valid_loader


def train(cfg: Config) -> Path:
    """Train as the config says; returns the exported model file (out_dir/model.pt)."""
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    warnings.filterwarnings("ignore", ".*pkg_resources is deprecated.*")
    warnings.filterwarnings("ignore", ".*module\\(s\\) in eval mode.*")  # frozen teachers/predictors
    t = cfg.trainer
    lr_factor(cfg.optim.schedule, cfg.optim.warmup_steps, t.max_steps)  # a bad name fails now
    out = Path(t.out_dir)
    L.seed_everything(t.seed, workers=True, verbose=False)
    train_loader, valid_loader = make_loaders(cfg)
    module = TaskModule(cfg.to_dict())
    if t.init_from:
        init_from(module.enhancer.net, t.init_from)
    monitor = "val/si_sdr" if valid_loader is not None else "train/loss"
    ckpt = L.pytorch.callbacks.ModelCheckpoint(
        dirpath=out / "checkpoints", filename="best", monitor=monitor,
        mode="max" if valid_loader is not None else "min", save_last=True,
        every_n_train_steps=None if valid_loader is not None else t.val_every_steps)
    gpu = t.accelerator == "gpu" or (t.accelerator == "auto" and torch.cuda.is_available())
    precision = ("16-mixed" if gpu else "32-true") if t.precision == "auto" else t.precision
    trainer = L.Trainer(
        default_root_dir=out, max_steps=t.max_steps,
        max_time={"minutes": t.max_minutes} if t.max_minutes else None,
        max_epochs=-1, accelerator=t.accelerator, devices=t.devices, num_nodes=t.num_nodes,
        strategy=t.strategy, precision=precision, gradient_clip_val=cfg.optim.grad_clip,
        val_check_interval=t.val_every_steps if valid_loader is not None else None,
        check_val_every_n_epoch=None, log_every_n_steps=t.log_every_steps,
        callbacks=[ckpt, L.pytorch.callbacks.LearningRateMonitor("step")], enable_progress_bar=t.progress,
        logger=L.pytorch.loggers.CSVLogger(out, name="logs"),
        num_sanity_val_steps=0, enable_model_summary=False)
    last = out / "checkpoints" / "last.ckpt"
    resume = str(last) if t.resume and last.is_file() else None
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text(_yaml(cfg.to_dict()))
    started = time.time()
    trainer.fit(module, train_loader, valid_loader, ckpt_path=resume, weights_only=True)
    trainer.save_checkpoint(last, weights_only=False)  # full state: a later run resumes here
    model_path = out / "model.pt"
    if trainer.is_global_zero:
        earlier = _earlier_seconds(out / "model_card.json") if resume else 0.0
        _export(module, ckpt, trainer, model_path, cfg, time.time() - started, earlier)
    return model_path


def init_from(net: torch.nn.Module, path: str) -> list[str]:
    """Copy every weight of the model at `path` whose name and shape match `net`'s (denoising
    pre-training → separation keeps all but the output layer); returns the names left fresh."""
    from .models.enhancer import load_model

    return copy_matching_weights(net, load_model(path).net.state_dict(), path)


def copy_matching_weights(target: torch.nn.Module, source: dict[str, torch.Tensor],
                          origin: str) -> list[str]:
    """Load the tensors of `source` whose name and shape match `target`'s; the rest stay fresh
    (listed and returned). A source that shares nothing is a ConfigError naming `origin`."""
    own = target.state_dict()
    fresh = [k for k, v in own.items() if k not in source or source[k].shape != v.shape]
    if len(fresh) == len(own):
        raise ConfigError(f"trainer.init_from: {origin} shares no weights with this model")
    target.load_state_dict({**own, **{k: source[k] for k in own if k not in fresh}})
    if fresh:
        print(f"init_from {origin}: kept fresh (not in it, or another shape): "
              f"{', '.join(fresh[:6])}{' …' if len(fresh) > 6 else ''}")
    return fresh


def _export(module: TaskModule, ckpt, trainer, path: Path, cfg: Config, seconds: float,
            earlier: float = 0.0) -> None:
    """Save the best checkpoint's weights (or the last ones) as a weights-only model file."""
    best = ckpt.best_model_path
    if best and os.path.isfile(best):
        state = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
        module.load_state_dict(state)
    score = ckpt.best_model_score
    module.enhancer.card = {
        "trained_with": cfg.task["name"], "config": cfg.to_dict(),
        "steps": int(trainer.global_step), "train_seconds_this_run": round(seconds, 1),
        "train_seconds_total": round(seconds + earlier, 1),
        "selected_by": ckpt.monitor, "best_score": None if score is None else float(score),
        "hardware": torch.cuda.get_device_name() if torch.cuda.is_available() else
        f"cpu ({torch.get_num_threads()} threads)", "torch": str(torch.__version__),
    }
    module.enhancer.cpu().save(path)
    (path.parent / "model_card.json").write_text(json.dumps(module.enhancer.card, indent=2))


def _earlier_seconds(card: Path) -> float:
    """Training seconds of the runs before this one in the same out_dir (resumed runs add up)."""
    try:
        data = json.loads(card.read_text())
    except (OSError, ValueError):
        return 0.0
    return float(data.get("train_seconds_total", data.get("train_seconds_this_run", 0.0)))


def _yaml(data: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False)
