"""Every recipe YAML under recipes/: it validates (training recipes with `load_config`,
pre-training ones, those with a top-level `encoder:` section, with `load_pretrain_config`), and
it trains a step on the tiny `toy_set` through the CLI with tiny sizes (the recipe smoke test:
data paths, sizes, budget and helper files replaced by `--set`, everything else as shipped)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

from sepssl import cli, load_model
from sepssl.config import load_config, load_pretrain_config
from sepssl.encoders import build_encoder, load_encoder, save_encoder
from sepssl.models import build_model
from sepssl.tasks import build_task

from conftest import RECIPES, ROOT, TINY

ALL = sorted(RECIPES.rglob("*.yaml"))


def is_pretrain(path: Path) -> bool:
    return "encoder" in (yaml.safe_load(path.read_text()) or {})


TRAINING = [p for p in ALL if not is_pretrain(p)]
PRETRAINING = [p for p in ALL if is_pretrain(p)]


def ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


def test_every_recipe_is_found():
    assert len(TRAINING) >= 10 and len(PRETRAINING) >= 3, ids(ALL)


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_recipe_is_valid(path):
    assert (path.parent / "README.md").is_file()
    if is_pretrain(path):
        cfg = load_pretrain_config(path)
        enc = build_encoder(cfg.encoder.name, **cfg.encoder_options())  # the recipe's sizes
        assert enc.name == cfg.encoder.name == path.parent.name
        assert cfg.data.train_speech == "corpus/train/noisy"
        return
    cfg = load_config(path)
    task = build_task(cfg.task)
    assert task.n_outputs >= 1
    if getattr(cfg.model, "encoder", None) is None:   # a front-end needs its encoder file:
        build_model(cfg.model, task.n_outputs, cfg.sample_rate)   # built in the smoke test


# --- the smoke test: one step of every recipe on the toy set ----------------------------------

COMMON = ["data.segment_seconds=0.5", "data.batch_size=2", "data.num_workers=0",
          "optim.warmup_steps=0", "trainer.max_steps=1", "trainer.val_every_steps=1",
          "trainer.max_minutes=null", "trainer.progress=false"]


@pytest.fixture
def tiny_encoder(tmp_path) -> Path:
    """An untrained TINY CPC encoder file (what `model.encoder.checkpoint` names)."""
    torch.manual_seed(0)
    return save_encoder(build_encoder("cpc", **TINY["cpc"]), tmp_path / "cpc.pt", {"steps": 0})


def training_overrides(path, toy_set, two_talker_valid, helper_files, tiny_encoder) -> list[str]:
    raw = yaml.safe_load(path.read_text())
    task, model, trainer = raw.get("task", {}), raw.get("model", {}), raw.get("trainer", {})
    separates = task.get("name") == "separation" or task.get("mode") == "separate"
    clean = task.get("name") in ("supervised", "separation")
    sets = [f"data.train_speech={toy_set}/train/{'clean' if clean else 'noisy'}",
            f"data.train_noise={toy_set}/train/noise", f"data.train_clean={toy_set}/train/clean",
            f"data.valid={two_talker_valid if separates else toy_set / 'valid'}",
            "data.valid_files=2", "model.hidden=16", "model.layers=1"]
    if "snr_predictor" in task:
        sets.append(f"task.snr_predictor={helper_files['predictor']}")
    if "speech_detector" in task:
        sets.append(f"task.speech_detector={helper_files['detector']}")
    if "teacher" in task:
        sets.append(f"task.teacher={helper_files['same']}")
    if trainer.get("init_from"):
        sets.append(f"trainer.init_from={helper_files['same']}")
    if (model.get("encoder") or {}).get("checkpoint"):
        sets.append(f"model.encoder.checkpoint={tiny_encoder}")
    if (task.get("feature_loss") or {}).get("encoder"):
        sets.append(f"task.feature_loss.encoder={tiny_encoder}")
    return sets


@pytest.mark.slow
@pytest.mark.parametrize("path", TRAINING, ids=ids(TRAINING))
def test_training_recipe_trains_a_step(path, toy_set, two_talker_valid, helper_files,
                                       tiny_encoder, tmp_path, capsys):
    out = tmp_path / "run"
    sets = training_overrides(path, toy_set, two_talker_valid, helper_files, tiny_encoder)
    args = ["train", "-q", str(path)]
    for item in [*sets, *COMMON, f"trainer.out_dir={out}"]:
        args += ["--set", item]
    assert cli.main(args) == 0, capsys.readouterr().err
    model = load_model(out / "model.pt")
    recipe = load_config(path)
    assert model.card["steps"] == 1 and model.card["trained_with"] == recipe.task.name
    x = 0.1 * torch.randn(1, 4000)
    assert torch.isfinite(model.separate(x)).all() and torch.isfinite(model(x)).all()


@pytest.mark.slow
@pytest.mark.parametrize("path", PRETRAINING, ids=ids(PRETRAINING))
def test_pretraining_recipe_trains_a_step(path, toy_set, tmp_path, capsys):
    out = tmp_path / "run"
    name = yaml.safe_load(path.read_text())["encoder"]["name"]
    sets = [f"encoder.{k}={json.dumps(v)}" for k, v in TINY[name].items()]
    sets += [f"data.train_speech={toy_set}/train/noisy", "data.segment_seconds=0.75",
             *COMMON[1:], f"trainer.out_dir={out}"]
    args = ["pretrain", "-q", str(path)]
    for item in sets:
        args += ["--set", item]
    assert cli.main(args) == 0, capsys.readouterr().err
    enc = load_encoder(out / "encoder.pt")
    assert enc.card["steps"] == 1 and enc.card["pretrained_with"] == name
    assert torch.isfinite(enc.layer_features(0.1 * torch.randn(1, 8000))[-1]).all()


def test_distill_teacher_split_writes_estimates_that_sum_to_the_input(toy_set, tiny_model,
                                                                     tmp_path):
    """recipes/distill/teacher_split.py: speech/ + noise/ give back each noisy file, and a
    second run (resuming) leaves what is there."""
    import subprocess
    import sys

    from sepssl import audio

    model = tiny_model.save(tmp_path / "teacher.pt")
    out = tmp_path / "split"
    cmd = [sys.executable, str(RECIPES / "distill" / "teacher_split.py"), "--teacher", str(model),
           "--noisy", str(toy_set / "train" / "noisy"), "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True)
    noisy = sorted((toy_set / "train" / "noisy").glob("*.wav"))
    assert sorted(p.name for p in (out / "speech").iterdir()) == [p.name for p in noisy]
    for src in noisy:
        y = audio.read(src)[0]
        s, n = audio.read(out / "speech" / src.name)[0], audio.read(out / "noise" / src.name)[0]
        assert torch.allclose(s + n, y, atol=1e-6) and not torch.allclose(s, y, atol=1e-3)
    stamp = (out / "noise" / noisy[0].name).stat().st_mtime_ns
    subprocess.run(cmd, check=True, capture_output=True)
    assert (out / "noise" / noisy[0].name).stat().st_mtime_ns == stamp
