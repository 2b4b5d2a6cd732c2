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
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader

from .config import PretrainConfig, load_pretrain_config
from .data.datasets import RawClips
from .encoders import FORMAT, build_encoder, load_encoder, save_encoder
from .errors import ConfigError
from .files import write_text
from .trainer import copy_matching_weights, fit, lr_factor, scheduled


class PretrainModule(L.LightningModule):
    """An encoder and its own pretext objective.

    Args:
        config: a validated `PretrainConfig`.
    """

    def __init__(self, config: PretrainConfig):
        super().__init__()
        self.save_hyperparameters({"config": config.dump()})
        self.config = config
        self.encoder = build_encoder(config.encoder.name, **config.encoder_options())

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
        o, t = self.config.optim, self.config.trainer
        params = [p for p in self.encoder.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=o.lr, weight_decay=o.weight_decay)
        return scheduled(opt, lr_factor("constant", o.warmup_steps, t.max_steps))

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["sepssl_encoder"] = {"format": FORMAT, **self.encoder.spec()}


def pretrain(cfg: PretrainConfig) -> Path:
    """Pre-train as the config says.

    Args:
        cfg: a validated `PretrainConfig` (`sepssl.config.load_pretrain_config`).
    Returns:
        The exported encoder file, `out_dir/encoder.pt`.
    """
    t, d = cfg.trainer, cfg.data
    if not d.train_speech:
        raise ConfigError("data.train_speech: a folder or file list of audio is needed")
    out = Path(t.out_dir)
    L.seed_everything(t.seed, workers=True, verbose=False)
    module = PretrainModule(cfg)
    if t.init_from:
        init_from(module.encoder, t.init_from)
    data = RawClips({"speech": d.train_speech}, module.encoder.sample_rate, d.segment_seconds,
                    d.items_per_epoch)
    loader = DataLoader(data, batch_size=d.batch_size, shuffle=True, drop_last=True,
                        num_workers=d.num_workers, persistent_workers=d.num_workers > 0)
    if len(loader) == 0:
        raise ConfigError(f"data.batch_size: {d.batch_size} is more than the {len(data)} items "
                          "per epoch; lower it or set data.items_per_epoch")
    checkpoint = L.pytorch.callbacks.ModelCheckpoint(
        dirpath=out / "checkpoints", save_top_k=0, save_last=True,
        every_n_train_steps=t.val_every_steps)
    path = out / "encoder.pt"

    def export(module: PretrainModule, trainer: L.Trainer, card: dict[str, Any]) -> None:
        card = {"pretrained_with": module.encoder.name, "config": cfg.dump(), **card,
                "selected_by": "last step",
                "last_logged": {k: round(float(v), 6) for k, v in trainer.callback_metrics.items()
                                if k.startswith("train/")}}
        save_encoder(module.encoder, path, card)
        write_text(out / "encoder_card.json", json.dumps(card, indent=2))

    fit(module, t, cfg.dump(), loader, checkpoint=checkpoint, export=export,
        card_name="encoder_card.json", grad_clip=cfg.optim.grad_clip, same_run=("encoder",))
    return path


def init_from(encoder: torch.nn.Module, path: str) -> list[str]:
    """Copy every weight of the encoder at `path` (sepssl file, checkpoint or torchaudio
    wav2vec 2.0 state dict) whose name and shape match; returns the names left fresh."""
    return copy_matching_weights(encoder, load_encoder(path).state_dict(), path)


__all__ = ["PretrainModule", "pretrain", "load_pretrain_config", "init_from"]
