"""`sepssl enhance` stays light: a fresh process enhancing one short file never imports the
training stack (Lightning, asteroid) or the scoring libraries."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import soundfile as sf

HEAVY = ("lightning", "pytorch_lightning", "asteroid", "pesq", "pystoi", "matplotlib", "jinja2")


def test_enhance_does_not_import_the_training_stack(tmp_path):
    x = 0.1 * np.random.default_rng(0).standard_normal(16000).astype("float32")
    sf.write(tmp_path / "in.wav", x, 16000)
    code = ("import sys; from sepssl.cli import main; "
            "rc = main(['enhance', sys.argv[1], '-o', sys.argv[2], '-q']); "
            "print('\\n', rc, ' '.join(m for m in sys.modules if m.split('.')[0] in sys.argv[3:]))")
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "in.wav"),
                          str(tmp_path / "out"), *HEAVY], capture_output=True, text=True,
                         check=True)
    rc, *loaded = run.stdout.splitlines()[-1].split()
    assert rc == "0" and (tmp_path / "out" / "in.wav").exists()
    assert loaded == [], f"enhance imported {loaded}"


def test_training_threads_default_to_the_free_cores(monkeypatch):
    import os

    import torch

    from sepssl import cli

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    before = torch.get_num_threads()
    try:
        monkeypatch.setattr(os, "getloadavg", lambda: (0.2, 0.0, 0.0))
        assert cli.free_cores() == 2
        monkeypatch.setattr(os, "getloadavg", lambda: (1.1, 0.0, 0.0))
        assert cli.free_cores() == 1
        monkeypatch.setattr(os, "getloadavg", lambda: (7.0, 0.0, 0.0))
        assert cli.free_cores() == 1
        cli._threads(None)
        assert torch.get_num_threads() == 1
        cli._threads(2)                                  # --threads wins
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
