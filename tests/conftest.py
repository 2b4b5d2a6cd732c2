"""Shared fixtures and helpers: tiny synthetic audio, generated in milliseconds (no TTS needed),
tiny configs, tiny helper-network files, and the GPU marker's skip. Test modules import helpers
from here (`from conftest import ...`), never from one another."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from sepssl import audio

RATE = 16000
ROOT = Path(__file__).resolve().parent.parent
RECIPES = ROOT / "recipes"

# Tiny sizes of every encoder (seconds to build and pre-train a few steps on the CPU).
W2V_CONV = [[32, 10, 5], [32, 3, 2], [32, 3, 2], [32, 3, 2], [32, 3, 2], [32, 2, 2], [32, 2, 2]]
TINY = {
    "wav2vec2": dict(conv_layers=W2V_CONV, embed_dim=32, num_layers=2, num_heads=2, ff_dim=64,
                     pos_conv_kernel=8, pos_conv_groups=4, codewords=16, codevector_dim=16,
                     final_dim=16, negatives=10, dropout=0.0, projection_dropout=0.0,
                     attention_dropout=0.0),
    "cpc": dict(channels=32, context_dim=32, steps=4, negatives=8),
    "byol_a": dict(conv_channels=8, embed_dim=32, mlp_hidden=64, mlp_out=16, memory_size=8,
                   crop_seconds=0.5),
}


def pytest_collection_modifyitems(config, items):
    """Every test marked `gpu` is skipped without a CUDA device (`pytest -m gpu` selects them)."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


def voiced(seconds: float, rate: int = RATE, f0: float = 140.0, seed: int = 0) -> np.ndarray:
    """A speech-like signal: harmonics of a wandering pitch, syllable-rate amplitude bursts."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    pitch = f0 * (1 + 0.15 * np.sin(2 * math.pi * 0.7 * t + rng.uniform(0, 6)))
    phase = 2 * math.pi * np.cumsum(pitch) / rate
    sig = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = np.clip(np.sin(2 * math.pi * 3.0 * t + rng.uniform(0, 6)), 0, None) ** 2
    return (0.3 * sig * envelope / np.abs(sig).max()).astype(np.float32)


def noise(seconds: float, rate: int = RATE, seed: int = 1, color: float = 0.0) -> np.ndarray:
    """Coloured noise (color 0 white, 1 pink-ish) at about −20 dBFS."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(spec.size) + 1.0
    x = np.fft.irfft(spec / f ** (color / 2), n)
    return (0.1 * x / (x.std() + 1e-9)).astype(np.float32)


@pytest.fixture
def one_thread():
    """Tiny tensors: one thread is faster than two contending with other jobs for the cores.
    Modules of small-tensor tests use it with `pytestmark = pytest.mark.usefixtures("one_thread")`."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def toy_set(tmp_path_factory) -> Path:
    """train/{noisy,clean,noise}, valid/{noisy,clean}: a few 1.5 s clips of each."""
    root = tmp_path_factory.mktemp("toy")
    for i in range(8):
        clean = voiced(1.5, seed=i, f0=100 + 15 * i)
        n = noise(1.5, seed=100 + i, color=i % 3 * 0.5)
        audio.write(root / "train" / "clean" / f"u{i}.wav", clean, RATE)
        audio.write(root / "train" / "noisy" / f"u{i}.wav", clean + n, RATE)
        audio.write(root / "train" / "noise" / f"n{i}.wav", noise(2.0, seed=200 + i, color=1.0), RATE)
    for i in range(3):
        clean = voiced(1.5, seed=50 + i, f0=120 + 20 * i)
        audio.write(root / "valid" / "clean" / f"v{i}.wav", clean, RATE)
        audio.write(root / "valid" / "noisy" / f"v{i}.wav", clean + noise(1.5, seed=300 + i), RATE)
    return root


@pytest.fixture(scope="session")
def two_talker_valid(tmp_path_factory) -> Path:
    """valid/{noisy, clean (2 channels)}: a separation set in the layout sepssl writes."""
    root = tmp_path_factory.mktemp("sep")
    for i in range(2):
        s1, s2 = voiced(1.0, seed=i, f0=110), voiced(1.0, seed=10 + i, f0=210)
        audio.write(root / "noisy" / f"m{i}.wav", s1 + s2, RATE)
        audio.write(root / "clean" / f"m{i}.wav", torch.from_numpy(np.stack([s1, s2])), RATE)
    return root


@pytest.fixture(scope="session")
def tiny_model():
    """An untrained but real default-architecture enhancer, small and fast."""
    from sepssl.models import Enhancer

    torch.manual_seed(0)
    return Enhancer({"name": "masker", "hidden": 16, "layers": 1}, sample_rate=RATE).eval()


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> Path:
    """`sepssl data --size small`, built once per test session (real TTS, packages, noises)."""
    from sepssl.data.corpus import build_corpus

    out = tmp_path_factory.mktemp("corpus") / "small"
    build_corpus(out, size="small", seed=0, progress=False)
    return out


def fit(task, batch, steps: int = 30, lr: float = 0.01, seed: int = 0) -> list[float]:
    """Train a tiny default-architecture enhancer on one fixed batch; the loss after each step.
    What every task's "the loss falls on a tiny problem" test runs."""
    from sepssl.models import Enhancer

    torch.manual_seed(seed)
    model = Enhancer({"name": "masker", "hidden": 16, "layers": 1}, rule=task.inference_rule())
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for _ in range(steps):
        loss = task.loss(model.separate(batch.inputs), batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    return history


def raw_batch(b=4, t=8000, dtype=torch.float32):
    """A raw training batch of quiet "speech" and louder noise, as the data loader yields it."""
    g = torch.Generator().manual_seed(0)
    return {"speech": (0.01 * torch.randn(b, t, generator=g)).to(dtype),
            "noise": (0.03 * torch.randn(b, t, generator=g)).to(dtype)}


def snr_db(signal, noise):
    return 10 * torch.log10(signal.pow(2).sum(-1) / noise.pow(2).sum(-1))


# --- tiny configs ---------------------------------------------------------------------------

def toy_config(toy_set, out, task="noisy_target", steps=4, extra=()):
    """A training config on the `toy_set` fixture: a tiny masker, 0.5 s segments, batch 2."""
    from sepssl.config import load_config

    speech = "clean" if task == "supervised" else "noisy"
    return load_config(None, [
        f"task.name={task}", "model.hidden=16", "model.layers=1",
        f"data.train_speech={toy_set}/train/{speech}", f"data.train_noise={toy_set}/train/noise",
        f"data.valid={toy_set}/valid", "data.segment_seconds=0.5", "data.batch_size=2",
        "data.num_workers=0", f"trainer.out_dir={out}", f"trainer.max_steps={steps}",
        "trainer.val_every_steps=2", "trainer.progress=false", *extra])


def recipe_config(conf, toy_set, out, extra=()):
    """A recipe file with its data, sizes and budget replaced by the `toy_set` fixture's."""
    from sepssl.config import load_config

    return load_config(conf, [
        "model.hidden=16", "model.layers=1",
        f"data.train_speech={toy_set}/train/noisy", f"data.train_noise={toy_set}/train/noise",
        f"data.valid={toy_set}/valid", "data.segment_seconds=0.5", "data.batch_size=2",
        "data.num_workers=0", f"trainer.out_dir={out}", "trainer.max_steps=3",
        "trainer.val_every_steps=3", "trainer.progress=false", "trainer.max_minutes=null",
        *extra])


def write_cfg(tmp_path, toy_set, name, steps=3):
    """A pre-training YAML file for a TINY encoder on the `toy_set` fixture; returns its path."""
    import yaml

    cfg = {
        "encoder": {"name": name, **TINY[name]},
        "data": {"train_speech": f"{toy_set}/train/noisy", "segment_seconds": 0.75,
                 "batch_size": 2, "num_workers": 0},
        "optim": {"lr": 0.001, "warmup_steps": 2},
        "trainer": {"out_dir": str(tmp_path / name), "max_steps": steps, "val_every_steps": 2,
                    "log_every_steps": 1},
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture
def helper_files(tmp_path):
    """Untrained but real helper files: enough to train, checkpoint and resume with them."""
    from sepssl.models import Enhancer, InferenceRule
    from sepssl.models import snr_predictor as sp
    from sepssl.models import speech_detector as sd

    torch.manual_seed(0)
    return {
        "predictor": sp.save_snr_predictor(sp.SNRPredictor(hidden=8, layers=1), tmp_path / "p.pt"),
        "detector": sd.save_speech_detector(sd.SpeechDetector(hidden=8), tmp_path / "d.pt"),
        "same": Enhancer({"name": "masker", "hidden": 16, "layers": 1}).save(tmp_path / "t1.pt"),
        "other": Enhancer({"name": "masker", "hidden": 8, "layers": 1},
                          rule=InferenceRule(4, [0], True)).save(tmp_path / "t4.pt"),
    }
