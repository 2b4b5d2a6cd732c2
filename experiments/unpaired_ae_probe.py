"""Why task unpaired's auto-encoders got batch norm: the same clean-speech auto-encoder (two
convolutions of width 5, 256 channels, code 128; unit noise on the code while training, as
the CAE phase trains it) with and without batch norm, softplus or PReLU, two learning rates;
STEPS steps of 16 × 3 s of the clean list, then the reconstruction error without noise.

    python experiments/unpaired_ae_probe.py 200 corpus_v2/unpaired/clean_5min.txt

Prints, per variant, the training loss (mean of the last 20 steps) and the reconstruction
error (mean squared difference of compressed magnitudes, `cae_mae`'s analysis) of one fresh
batch. The variants are built here, not from `sepssl.models.cae_mae` (which has batch norm).
"""
from __future__ import annotations

import argparse
import time

import torch
from torch import nn
from torch.utils.data import DataLoader

from sepssl.data.datasets import RawClips
from sepssl.models import Enhancer

VARIANTS = [("plain softplus lr1e-3", False, nn.Softplus, 1e-3),
            ("plain softplus lr3e-3", False, nn.Softplus, 3e-3),
            ("BN softplus lr1e-3", True, nn.Softplus, 1e-3),
            ("BN prelu lr1e-3", True, nn.PReLU, 1e-3)]


def autoencoder(norm: bool, act, n_freq=257, hidden=256, latent=128, k=5):
    def block(i, o):
        return [nn.Conv1d(i, o, k, padding=k // 2), *([nn.BatchNorm1d(o)] if norm else []), act()]
    enc = nn.Sequential(*block(n_freq, hidden), *block(hidden, hidden), nn.Conv1d(hidden, latent, 1))
    dec = nn.Sequential(*block(latent, hidden), *block(hidden, hidden), nn.Conv1d(hidden, n_freq, 1),
                        nn.Softplus())
    return enc, dec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("steps", type=int)
    ap.add_argument("clean", help="a folder or file list of clean speech")
    args = ap.parse_args()
    torch.set_num_threads(1)
    clips = RawClips({"clean": args.clean}, 16000, 3.0, 100000)
    analyse = Enhancer({"name": "cae_mae"}).net.analyse
    for name, norm, act, lr in VARIANTS:
        torch.manual_seed(0)
        enc, dec = autoencoder(norm, act)
        opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=lr)
        batches = iter(DataLoader(clips, batch_size=16, shuffle=True))
        start, history = time.time(), []
        for _ in range(args.steps):
            _, frames, _ = analyse(next(batches)["clean"])
            code = enc(frames)
            loss = (dec(code + torch.randn_like(code)) - frames).pow(2).mean() + 0.01 * code.pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            history.append(loss.item())
        enc.eval()
        dec.eval()
        with torch.no_grad():
            _, frames, _ = analyse(next(batches)["clean"])
            error = (dec(enc(frames)) - frames).pow(2).mean().item()
        print(f"{name}: loss last20 {sum(history[-20:]) / 20:.3f}  no-noise recon L2 {error:.3f}  "
              f"({time.time() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
