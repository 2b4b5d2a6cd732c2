"""Shared fixtures: tiny synthetic audio, generated in milliseconds (no TTS needed)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from sepssl import audio

RATE = 16000


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
