"""`sepssl train`: a few real steps, resume after a kill, DDP over two CPU processes (gloo)."""
import os
import subprocess
import sys

import pytest
import torch

from sepssl import load_model
from sepssl.errors import ConfigError
from sepssl.train import train

from conftest import toy_config


@pytest.mark.slow
@pytest.mark.parametrize("task", ["noisy_target", "supervised"])
def test_train_exports_a_loadable_model(toy_set, tmp_path, task):
    path = train(toy_config(toy_set, tmp_path / task, task))
    model = load_model(path)
    assert model.card["trained_with"] == task and model.card["steps"] == 4
    assert model.card["selected_by"] == "val/si_sdr"
    assert (tmp_path / task / "checkpoints" / "last.ckpt").is_file()
    out = model.enhance(torch.randn(1, 8000) * 0.1)
    assert out.shape == (1, 8000) and torch.isfinite(out).all()
    ckpt_model = load_model(tmp_path / task / "checkpoints" / "best.ckpt")
    x = torch.randn(1, 4000)
    assert torch.allclose(ckpt_model(x), model(x), atol=1e-6)


@pytest.mark.slow
def test_training_lowers_the_loss(toy_set, tmp_path):
    cfg = toy_config(toy_set, tmp_path / "r", "supervised", steps=40,
                     extra=["optim.lr=0.01", "trainer.val_every_steps=40", "trainer.log_every_steps=1"])
    train(cfg)
    import csv

    rows = list(csv.DictReader(open(next((tmp_path / "r" / "logs").rglob("metrics.csv")))))
    losses = [float(r["train/loss"]) for r in rows if r.get("train/loss")]
    first, last = sum(losses[:8]) / 8, sum(losses[-8:]) / 8
    assert last < first - 1.0, (first, last)


@pytest.mark.slow
def test_resume_continues_from_last_checkpoint(toy_set, tmp_path):
    first = load_model(train(toy_config(toy_set, tmp_path / "r", steps=2))).card
    path = train(toy_config(toy_set, tmp_path / "r", steps=5))
    card = load_model(path).card
    assert card["steps"] == 5
    assert card["train_seconds_total"] >= first["train_seconds_total"] + card["train_seconds_this_run"] - 0.2
    ckpt = torch.load(tmp_path / "r" / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 5


@pytest.mark.slow
def test_ddp_two_cpu_processes_gloo(toy_set, tmp_path):
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "sepssl.cli", "train", "-q", str(_write_cfg(toy_set, tmp_path)),
           "--set", "trainer.devices=2", "--set", "trainer.strategy=ddp", "--set", "trainer.accelerator=cpu",
           "--set", f"trainer.out_dir={out}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PL_DISABLE_FORK": "1"}
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    model = load_model(out / "model.pt")
    assert model.card["steps"] == 4


def _write_cfg(toy_set, tmp_path):
    cfg = tmp_path / "ddp.yaml"
    cfg.write_text(f"""
task: {{name: noisy_target}}
model: {{name: masker, hidden: 16, layers: 1}}
data: {{train_speech: {toy_set}/train/noisy, train_noise: {toy_set}/train/noise, valid: {toy_set}/valid,
        segment_seconds: 0.5, batch_size: 2, num_workers: 0}}
trainer: {{max_steps: 4, val_every_steps: 2}}
""")
    return cfg


@pytest.mark.slow
def test_mixed_precision_path_runs(toy_set, tmp_path):
    """bf16 autocast on the CPU exercises the same AMP code path GPUs use with 16-mixed."""
    path = train(toy_config(toy_set, tmp_path / "amp", steps=2, extra=["trainer.precision=bf16-mixed"]))
    out = load_model(path).enhance(torch.randn(1, 4000) * 0.1)
    assert torch.isfinite(out).all()


def test_lr_schedule_warms_up_then_decays_to_zero_by_cosine():
    from sepssl.trainer import lr_factor

    f = lr_factor("cosine", 10, 110)
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(10) == pytest.approx(1.0) and f(60) == pytest.approx(0.5)
    assert f(110) == pytest.approx(0.0, abs=1e-12)
    assert [lr_factor("constant", 0, 100)(s) for s in (0, 50, 99)] == [1.0, 1.0, 1.0]
    with pytest.raises(ConfigError, match="optim.schedule"):
        lr_factor("linear", 0, 100)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["pseudose_purified", "mixit_detector", "remixit_ema",
                                  "remixit_replace_other_shape"])
def test_resume_with_each_helper(toy_set, tmp_path, helper_files, case):
    """Each task's helper network is part of the checkpoint and resumes with it: RemixIT's
    teacher even after a replacement gave it the student's (other) shapes."""
    task, extra, helper_key = {
        "pseudose_purified": ("pseudose", ["task.purification=true",
                                           f"task.snr_predictor={helper_files['predictor']}"],
                              "helpers.snr_predictor.out.weight"),
        "mixit_detector": ("mixit", [f"task.speech_detector={helper_files['detector']}"],
                           "enhancer.rule.detector.out.weight"),
        "remixit_ema": ("remixit", [f"task.teacher={helper_files['same']}"],
                        "helpers.teacher.steps"),
        "remixit_replace_other_shape": ("remixit", [f"task.teacher={helper_files['other']}",
                                                    "task.teacher_update=replace",
                                                    "task.replace_every=1"],
                                        "helpers.teacher.enhancer.net.mask.weight"),
    }[case]
    out = tmp_path / case
    train(toy_config(toy_set, out, task, steps=2, extra=extra))
    model = load_model(train(toy_config(toy_set, out, task, steps=4, extra=extra)))
    assert model.card["steps"] == 4
    state = torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    assert helper_key in state
    if case == "remixit_replace_other_shape":   # the teacher is the student's copy now
        assert state[helper_key].shape == state["enhancer.net.mask.weight"].shape
    if case == "remixit_ema":
        assert int(state[helper_key]) == 4


@pytest.mark.slow
def test_a_finished_run_exports_again_and_another_run_is_refused(toy_set, tmp_path):
    out = tmp_path / "r"
    train(toy_config(toy_set, out, steps=2))
    (out / "model.pt").unlink()
    assert load_model(train(toy_config(toy_set, out, steps=2))).card["steps"] == 2
    with pytest.raises(ConfigError, match="trainer.resume"):
        train(toy_config(toy_set, out, steps=4, extra=["model.hidden=8"]))


@pytest.mark.slow
def test_remixit_exports_a_best_checkpoint_from_before_the_teacher_was_replaced(
        toy_set, tmp_path, helper_files):
    cfg = toy_config(toy_set, tmp_path / "rx", "remixit", steps=3, extra=[
        f"task.teacher={helper_files['other']}", "task.teacher_update=replace",
        "task.replace_every=3"])
    assert load_model(train(cfg)).card["steps"] == 3


def test_a_folder_in_use_by_another_run_is_refused(toy_set, tmp_path):
    from filelock import FileLock

    out = tmp_path / "busy"
    out.mkdir()
    with FileLock(out / ".lock"):
        with pytest.raises(ConfigError, match="in use by another training run"):
            train(toy_config(toy_set, out, steps=1))
    assert not (out / "model.pt").exists()
