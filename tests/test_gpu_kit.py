"""The GPU kit's pieces that run on the CPU machine: the packing of the corpus under a byte
budget, and the installer of carried wheels (which must leave what is there alone)."""
import json
import subprocess
import sys

import numpy as np
import soundfile as sf

from conftest import ROOT

KIT = ROOT / "scripts" / "gpu_kit"


def _corpus(root, rng):
    for part, n in (("train/clean", 12), ("train/noise", 6), ("valid/clean", 3), ("valid/noisy", 3)):
        (root / part).mkdir(parents=True)
        for i in range(n):
            sf.write(root / part / f"f{i:02d}.wav",
                     (0.1 * rng.standard_normal(16000)).astype("float32"), 16000, subtype="PCM_16")


def test_pack_data_keeps_the_budget_the_layout_and_the_valid_pairs(tmp_path):
    _corpus(tmp_path / "corpus", np.random.default_rng(0))
    out = tmp_path / "pack"
    res = subprocess.run([sys.executable, str(KIT / "pack_data.py"), "--corpus",
                          str(tmp_path / "corpus"), "--out", str(out), "--mib", "0.25",
                          "--valid-files", "2"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    summary = json.loads((out / "pack.json").read_text())
    written = sum(f.stat().st_size for f in out.rglob("*.flac"))
    assert written <= 0.25 * 2 ** 20 and summary["total_mib"] <= 0.25
    assert sorted(p.name for p in (out / "valid" / "clean").iterdir()) == \
        sorted(p.name for p in (out / "valid" / "noisy").iterdir())
    assert len(list((out / "valid" / "clean").iterdir())) == 2
    assert summary["parts"]["train/clean"]["files"] > 0 and summary["parts"]["train/noise"]["files"] > 0
    x, rate = sf.read(next((out / "train" / "clean").iterdir()), dtype="int16")
    assert rate == 16000 and x.size == 16000      # lossless: the clip as it was


def test_install_missing_installs_nothing_that_imports(tmp_path):
    res = subprocess.run([sys.executable, str(KIT / "install_missing.py"), str(tmp_path / "none"),
                          str(tmp_path / "site")], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr   # all present here: no wheel needed
    lines = res.stdout.splitlines()
    assert lines and all(line.startswith("present") for line in lines)
    assert not any((tmp_path / "site").iterdir())


def _throughput(folder, batch, precision, step_s, compile="off", first_steps_s=1.0):
    folder.mkdir(parents=True, exist_ok=True)
    best = {"batch": batch, "precision": precision, "compile": compile, "step_s": step_s,
            "first_steps_s": first_steps_s}
    (folder / "train_throughput.json").write_text(json.dumps({"best": best}))


def test_budget_settings_fill_the_minutes_with_the_fastest_setting(tmp_path):
    sys.path.insert(0, str(KIT))
    from budget_settings import settings

    assert settings(tmp_path / "none", 4)[1] == "trainer.max_steps=1500"   # nothing measured
    _throughput(tmp_path, 256, "bf16", 0.1)
    got = dict(kv.split("=") for kv in settings(tmp_path, 4))
    assert got == {"data.batch_size": "256", "trainer.precision": "bf16-mixed",
                   "trainer.compile": "off", "trainer.max_steps": "2040",     # 0.85 × 240 s / 0.1
                   "optim.warmup_steps": "200", "optim.schedule": "cosine"}
    _throughput(tmp_path / "compiled", 256, "bf16", 0.095, "reduce-overhead")   # < 10% faster
    assert dict(kv.split("=") for kv in settings(tmp_path, 4))["trainer.compile"] == "off"
    _throughput(tmp_path / "compiled", 256, "bf16", 0.05, "reduce-overhead", first_steps_s=24)
    got = dict(kv.split("=") for kv in settings(tmp_path, 4))
    assert got["trainer.compile"] == "reduce-overhead"
    assert got["trainer.max_steps"] == "3600"                  # (204 s − 24 s of compiling) / 0.05
    _throughput(tmp_path, 64, "fp32", 1.0)                    # a short budget: warm-up shrinks
    got = dict(kv.split("=") for kv in settings(tmp_path, 1))
    assert got["trainer.precision"] == "32-true" and got["trainer.compile"] == "off"
    assert got["trainer.max_steps"] == "51" and got["optim.warmup_steps"] == "5"
