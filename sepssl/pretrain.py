"""`sepssl pretrain`: pre-train an SSL encoder (wav2vec 2.0, CPC, BYOL-A) on folders of audio.

The same Lightning machinery as `sepssl.train` (checkpoints, resume, DDP, AMP, CSV logs), around
one `PretrainModule` whose step is the encoder's own `pretext_loss`. Every logged step carries
the loss and the encoder's collapse indicators (`train/embed_std`, and for wav2vec 2.0
`train/code_perplexity`, `train/prob_perplexity`, `train/temperature`). The result is a
weights-only encoder file (out_dir/encoder.pt, `sepssl.encoders.load_encoder`) and a JSON card;
an enhancer uses it through the model option `encoder: {checkpoint: out_dir/encoder.pt}`.

Unlabeled audio is enough: noisy speech (`data.train_speech`) is fine.
"""
from __future__ import annotations

import json
import os
import time
import warnings
from dataclasses import dataclass, field
import dataclasses
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from .config import TrainerConfig, _build, read_recipe
from .data.datasets import _Clips
from .encoders import FORMAT, build_encoder, load_encoder, save_encoder
from .errors import ConfigError
from .train import _yaml, copy_matching_weights, lr_factor


@dataclass
class PretrainDataConfig:
    train_speech: str = ""           # folder or file list of (noisy) speech
    segment_seconds: float = 2.0     # random crop per item
    batch_size: int = 8
    num_workers: int = 2
    items_per_epoch: int | None = None


@dataclass
class PretrainOptimConfig:
    lr: float = 5e-4
    weight_decay: float = 0.01       # AdamW (decoupled)
    grad_clip: float | None = 10.0
    warmup_steps: int = 0            # linear warm-up of the learning rate, then constant


@dataclass
class PretrainConfig:
    name: str = "pretrain"
    encoder: dict[str, Any] = field(default_factory=lambda: {"name": "cpc"})
    data: PretrainDataConfig = field(default_factory=PretrainDataConfig)
    optim: PretrainOptimConfig = field(default_factory=PretrainOptimConfig)
    trainer: TrainerConfig = field(default_factory=lambda: TrainerConfig(out_dir="runs/pretrain"))
    # trainer.val_every_steps: checkpoint interval here (there is no validation);
    # trainer.init_from: an encoder file (or torchaudio wav2vec 2.0 state dict) to start from

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_pretrain_config(path: str | os.PathLike | None = None,
                         overrides: list[str] | None = None) -> PretrainConfig:
    """A pre-training recipe (YAML + `--set key=value`), validated: unknown keys are errors."""
    cfg = _build(PretrainConfig, read_recipe(path, overrides), "")
    if "name" not in cfg.encoder:
        raise ConfigError("encoder.name: missing (wav2vec2, cpc or byol_a)")
    return cfg


class SpeechClips(Dataset):
    """Item i: a random `segment_seconds` crop of file i mod N (zero-padded if shorter)."""

    def __init__(self, source, sample_rate: int, segment_seconds: float,
                 items_per_epoch: int | None = None):
        self.clips = _Clips(source, sample_rate, int(segment_seconds * sample_rate))
        self.items = items_per_epoch or len(self.clips.files)

    def __len__(self) -> int:
        return self.items

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"speech": self.clips.crop(i % len(self.clips.files), tile=False)}


class PretrainModule(L.LightningModule):
    def __init__(self, config: dict[str, Any]):
        super().__init__()
        self.save_hyperparameters({"config": config})
        self.config = config
        options = dict(config["encoder"])
        self.encoder = build_encoder(options.pop("name"), **options)

    def training_step(self, raw: dict[str, torch.Tensor], _):
        wav = raw["speech"]
        loss, stats = self.encoder.pretext_loss(wav)
        kw = dict(batch_size=wav.shape[0])
        self.log("train/loss", loss, prog_bar=True, **kw)
        for key, value in stats.items():
            self.log(f"train/{key}", torch.as_tensor(value, dtype=torch.float32, device=self.device),
                     prog_bar=key in ("embed_std", "code_perplexity"), **kw)
        return loss

    def on_train_batch_end(self, *_):
        self.encoder.after_step()

    def configure_optimizers(self):
        o = self.config["optim"]
        params = [p for p in self.encoder.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=o["lr"], weight_decay=o["weight_decay"])
        factor = lr_factor("constant", int(o["warmup_steps"]), self.config["trainer"]["max_steps"])
        sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["sepssl_encoder"] = {"format": FORMAT, **self.encoder.spec()}


def pretrain(cfg: PretrainConfig) -> Path:
    """Pre-train as the config says; returns the exported encoder file (out_dir/encoder.pt)."""
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    warnings.filterwarnings("ignore", ".*pkg_resources is deprecated.*")
    warnings.filterwarnings("ignore", ".*module\\(s\\) in eval mode.*")
    t, d = cfg.trainer, cfg.data
    if not d.train_speech:
        raise ConfigError("data.train_speech: a folder or file list of audio is needed")
    out = Path(t.out_dir)
    L.seed_everything(t.seed, workers=True, verbose=False)
    module = PretrainModule(cfg.to_dict())
    if t.init_from:
        init_from(module.encoder, t.init_from)
    data = SpeechClips(d.train_speech, module.encoder.sample_rate, d.segment_seconds,
                       d.items_per_epoch)
    loader = DataLoader(data, batch_size=d.batch_size, shuffle=True, drop_last=True,
                        num_workers=d.num_workers, persistent_workers=d.num_workers > 0)
    if len(loader) == 0:
        raise ConfigError(f"data.batch_size: {d.batch_size} is more than the {len(data)} items "
                          "per epoch; lower it or set data.items_per_epoch")
    ckpt = L.pytorch.callbacks.ModelCheckpoint(
        dirpath=out / "checkpoints", save_top_k=0, save_last=True,
        every_n_train_steps=t.val_every_steps)
    gpu = t.accelerator == "gpu" or (t.accelerator == "auto" and torch.cuda.is_available())
    precision = ("16-mixed" if gpu else "32-true") if t.precision == "auto" else t.precision
    trainer = L.Trainer(
        default_root_dir=out, max_steps=t.max_steps,
        max_time={"minutes": t.max_minutes} if t.max_minutes else None,
        max_epochs=-1, accelerator=t.accelerator, devices=t.devices, num_nodes=t.num_nodes,
        strategy=t.strategy, precision=precision, gradient_clip_val=cfg.optim.grad_clip,
        log_every_n_steps=t.log_every_steps, callbacks=[ckpt], enable_progress_bar=t.progress,
        logger=L.pytorch.loggers.CSVLogger(out, name="logs"), enable_model_summary=False)
    last = out / "checkpoints" / "last.ckpt"
    resume = str(last) if t.resume and last.is_file() else None
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text(_yaml(cfg.to_dict()))
    started = time.time()
    trainer.fit(module, loader, ckpt_path=resume, weights_only=True)
    trainer.save_checkpoint(last, weights_only=False)  # full state: a later run resumes here
    path = out / "encoder.pt"
    if trainer.is_global_zero:
        card = {
            "pretrained_with": module.encoder.name, "config": cfg.to_dict(),
            "steps": int(trainer.global_step), "train_seconds_this_run": round(time.time() - started, 1),
            "selected_by": "last step",
            "last_logged": {k: round(float(v), 6) for k, v in trainer.callback_metrics.items()
                            if k.startswith("train/")},
            "hardware": torch.cuda.get_device_name() if torch.cuda.is_available() else
            f"cpu ({torch.get_num_threads()} threads)", "torch": str(torch.__version__),
        }
        save_encoder(module.encoder, path, card)
        (out / "encoder_card.json").write_text(json.dumps(card, indent=2))
    return path


def init_from(encoder: torch.nn.Module, path: str) -> list[str]:
    """Copy every weight of the encoder at `path` (sepssl file, checkpoint or torchaudio
    wav2vec 2.0 state dict) whose name and shape match; returns the names left fresh."""
    return copy_matching_weights(encoder, load_encoder(path).state_dict(), path)
