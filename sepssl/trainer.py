"""The one Trainer builder of `sepssl train` and `sepssl pretrain`, and what both share.

Lightning gives the loop, checkpoints, resume, progress bar, mixed precision and DDP. This module
sets it up the same way for both commands: checkpoints under `out_dir/checkpoints` (`last.ckpt`
is resumed when `trainer.resume`), CSV logs, the precision rule (16-mixed on a GPU, 32 on a
CPU), the learning-rate schedule, and an export callback that writes the result file on rank
zero once training ends. Library code prints nothing and leaves the global warning filters
alone: messages go through the `sepssl` logger on rank zero, and the Lightning warnings that
do not apply to sepssl (few loader workers by design, frozen helpers in eval mode) are
silenced only while `fit` runs.
"""
from __future__ import annotations

import contextlib
import json
import logging
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_only

from .config import TrainerConfig, to_yaml
from .errors import ConfigError
from .files import first_line, write_text

log = logging.getLogger("sepssl")

# Lightning warnings that are expected in sepssl runs (silenced while `fit` runs, not globally)
EXPECTED_WARNINGS = (".*does not have many workers.*", ".*module\\(s\\) in eval mode.*",
                     ".*pkg_resources is deprecated.*", ".*smaller than the logging interval.*",
                     ".*LeafSpec.*is deprecated.*", ".*but have no `val_dataloader`.*")


@rank_zero_only
def info(message: str) -> None:
    """Log `message` once (rank zero) through the `sepssl` logger."""
    log.info(message)


def lr_factor(schedule: str, warmup_steps: int, max_steps: int) -> Callable[[int], float]:
    """The learning-rate multiplier at each step: a linear warm-up, then constant or a cosine
    decay that reaches 0 at `max_steps` (a fine-tuning stage settles instead of wandering).

    Args:
        schedule: "constant" or "cosine".
        warmup_steps: steps of linear warm-up from 0.
        max_steps: the run's last step.
    Returns:
        `factor(step) -> float`, for `torch.optim.lr_scheduler.LambdaLR`.
    """
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


def scheduled(optimizer: torch.optim.Optimizer, factor: Callable[[int], float]) -> dict[str, Any]:
    """What `configure_optimizers` returns: the optimiser and a per-step LambdaLR."""
    sched = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    return {"optimizer": optimizer, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def copy_matching_weights(target: torch.nn.Module, source: dict[str, torch.Tensor],
                          origin: str) -> list[str]:
    """Load the tensors of `source` whose name and shape match `target`'s; the rest stay fresh.

    Args:
        target: the network to initialise.
        source: a state dict.
        origin: where `source` came from, for messages.
    Returns:
        The names of `target`'s tensors left fresh (logged once).
    Raises:
        ConfigError: `source` shares no tensor with `target`.
    """
    own = target.state_dict()
    fresh = [k for k, v in own.items() if k not in source or source[k].shape != v.shape]
    if len(fresh) == len(own):
        raise ConfigError(f"trainer.init_from: {origin} shares no weights with this model")
    target.load_state_dict({**own, **{k: source[k] for k in own if k not in fresh}})
    if fresh:
        info(f"init_from {origin}: kept fresh (not in it, or another shape): "
             f"{', '.join(fresh[:6])}{' …' if len(fresh) > 6 else ''}")
    return fresh


def hardware() -> str:
    """What trained: the GPU's name, or the CPU and its torch threads."""
    return (torch.cuda.get_device_name() if torch.cuda.is_available()
            else f"cpu ({torch.get_num_threads()} threads)")


def earlier_seconds(card: Path) -> float:
    """Training seconds of the runs before this one in the same out_dir (resumed runs add up)."""
    try:
        data = json.loads(card.read_text())
    except (OSError, ValueError):
        return 0.0
    return float(data.get("train_seconds_total", data.get("train_seconds_this_run", 0.0)))


class Export(L.Callback):
    """Once training ends: on rank zero, call `export(module, trainer, card)` with the run's
    timing in `card`, then save the full state as `last.ckpt` (a later run resumes there).
    A run resumed at its last step trains nothing and Lightning skips `on_train_end`; `fit`
    then calls `finish` itself, so a finished run always exports.

    Args:
        last: the path of `last.ckpt`.
        export: writes the result file(s).
        card_path: the previous run's card in the same folder, for the total training time.
        resumed: whether this run resumed from `last`.
    """

    def __init__(self, last: Path, export: Callable[..., None], card_path: Path, resumed: bool):
        self.last, self.export, self.card_path, self.resumed = last, export, card_path, resumed
        self.started = time.time()
        self.done = False

    def finish(self, trainer, module, save: bool = True) -> None:
        if self.done:
            return
        self.done = True
        if trainer.is_global_zero:
            seconds = time.time() - self.started
            earlier = earlier_seconds(self.card_path) if self.resumed else 0.0
            self.export(module, trainer, {
                "steps": int(trainer.global_step),
                "train_seconds_this_run": round(seconds, 1),
                "train_seconds_total": round(seconds + earlier, 1),
                "hardware": hardware(), "torch": str(torch.__version__)})
        if save:
            trainer.save_checkpoint(self.last, weights_only=False)

    def on_train_end(self, trainer, module) -> None:
        self.finish(trainer, module)


class StderrProgressBar(L.pytorch.callbacks.TQDMProgressBar):
    """Lightning's progress bar on stderr, like every other sepssl command's (stdout stays for
    results); Lightning writes its bars to stdout."""

    def _on_stderr(self, make):
        with contextlib.redirect_stdout(sys.stderr):
            return make()

    def init_sanity_tqdm(self):
        return self._on_stderr(super().init_sanity_tqdm)

    def init_train_tqdm(self):
        return self._on_stderr(super().init_train_tqdm)

    def init_validation_tqdm(self):
        return self._on_stderr(super().init_validation_tqdm)

    def init_predict_tqdm(self):
        return self._on_stderr(super().init_predict_tqdm)

    def init_test_tqdm(self):
        return self._on_stderr(super().init_test_tqdm)


class StopOnInterrupt(L.Callback):
    """The first Ctrl-C (SIGINT) or SIGTERM stops training after the current step, so the
    checkpoint and the export still happen; a second Ctrl-C aborts at once."""

    SIGNALS = ("SIGINT", "SIGTERM")

    def __init__(self):
        self.previous: dict[int, Any] = {}
        self.stopped = False

    def on_train_start(self, trainer, module) -> None:
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread

        def stop(signum, _frame):
            self.stopped = True
            trainer.should_stop = True
            info("stopping after this step (checkpoint and export follow); "
                 "Ctrl-C again aborts")
            signal.signal(signum, self.previous.get(signum, signal.SIG_DFL))

        for name in self.SIGNALS:
            num = getattr(signal, name)
            self.previous[num] = signal.signal(num, stop)

    def on_train_end(self, trainer, module) -> None:
        import signal

        for num, handler in self.previous.items():
            signal.signal(num, handler)
        self.previous.clear()


def check_same_run(last: Path, config: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Refuse to resume `last` if it was trained with other `keys` of the config (another
    model, task or encoder): its weights would not fit, and mixing runs is never meant.

    Raises:
        ConfigError: naming the first section that differs.
    """
    try:
        saved = torch.load(last, map_location="cpu", weights_only=True)["hyper_parameters"]["config"]
    except Exception:
        return   # an older checkpoint without the config: let Lightning try it
    for key in keys:
        if saved.get(key) != config.get(key):
            raise ConfigError(f"trainer.resume: {last} was trained with another {key} section; "
                              "use a new trainer.out_dir, or trainer.resume=false to start over")


def fit(module: L.LightningModule, t: TrainerConfig, config: dict[str, Any],
        train_loader, valid_loader=None, *, checkpoint: L.Callback, export: Callable[..., None],
        card_name: str, grad_clip: float | None, extra_callbacks: list[L.Callback] = (),
        same_run: tuple[str, ...] = ()) -> L.Trainer:
    """Build the Trainer, write `out_dir/config.yaml`, train (resuming `last.ckpt` if there is
    one and `t.resume`), and export through `export` on rank zero.

    Args:
        module: the LightningModule.
        t: the `trainer:` section.
        config: the complete config, written as `config.yaml`.
        train_loader, valid_loader: the data (no validation if None).
        checkpoint: the ModelCheckpoint callback (what it monitors differs per command).
        export: `export(module, trainer, card)` writes the result.
        card_name: the result's card file in out_dir (for the total time of resumed runs).
        grad_clip: gradient-norm clip (None: off).
        extra_callbacks: more callbacks.
        same_run: config sections a resumed checkpoint must share (see `check_same_run`).
    Returns:
        The Trainer, after `fit`.
    Raises:
        ConfigError: trainer options Lightning refuses, or a checkpoint of another run.
    """
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    out = Path(t.out_dir)
    last = out / "checkpoints" / "last.ckpt"
    resume = str(last) if t.resume and last.is_file() else None
    if resume:
        check_same_run(last, config, same_run)
    gpu = t.accelerator in ("gpu", "cuda") or (t.accelerator == "auto" and torch.cuda.is_available())
    precision = ("16-mixed" if gpu else "32-true") if t.precision == "auto" else t.precision
    validating = valid_loader is not None
    exporter = Export(last, export, out / card_name, resume is not None)
    try:
        trainer = _trainer(t, out, precision, grad_clip, validating,
                           [checkpoint, L.pytorch.callbacks.LearningRateMonitor("step"),
                            *extra_callbacks, StopOnInterrupt(), exporter,
                            *([StderrProgressBar()] if t.progress else [])])
    except (MisconfigurationException, ValueError, TypeError, RuntimeError) as exc:
        raise ConfigError(f"trainer: {first_line(exc)} (accelerator {t.accelerator!r}, devices "
                          f"{t.devices!r}, strategy {t.strategy!r})") from None
    with _locked(out, trainer.is_global_zero):
        if trainer.is_global_zero:
            write_text(out / "config.yaml", to_yaml(config))
        with warnings.catch_warnings():
            for pattern in EXPECTED_WARNINGS:
                warnings.filterwarnings("ignore", pattern)
            trainer.fit(module, train_loader, valid_loader, ckpt_path=resume, weights_only=True)
        exporter.finish(trainer, module, save=False)   # a run resumed at its last step
    return trainer


@contextlib.contextmanager
def _locked(out: Path, owner: bool):
    """Hold `out/.lock` while training (rank zero), so two runs never write one folder."""
    if not owner:
        yield
        return
    from filelock import FileLock, Timeout

    out.mkdir(parents=True, exist_ok=True)
    lock = FileLock(out / ".lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise ConfigError(f"trainer.out_dir: {out} is in use by another training run; wait for "
                          "it or choose another folder") from None
    try:
        yield
    finally:
        lock.release()


def _trainer(t: TrainerConfig, out: Path, precision: str, grad_clip: float | None,
             validating: bool, callbacks: list[L.Callback]) -> L.Trainer:
    return L.Trainer(
        default_root_dir=out, max_steps=t.max_steps,
        max_time={"minutes": t.max_minutes} if t.max_minutes else None,
        max_epochs=-1, accelerator=t.accelerator, devices=t.devices, num_nodes=t.num_nodes,
        strategy=t.strategy, precision=precision, gradient_clip_val=grad_clip,
        val_check_interval=t.val_every_steps if validating else None,
        check_val_every_n_epoch=None, log_every_n_steps=t.log_every_steps,
        callbacks=callbacks, enable_progress_bar=t.progress,
        logger=L.pytorch.loggers.CSVLogger(out, name="logs"),
        num_sanity_val_steps=0, enable_model_summary=False)
