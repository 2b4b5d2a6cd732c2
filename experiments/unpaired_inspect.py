"""What a `cae_mae` model of task `unpaired` does, on the first paired files of a folder: the CAE's
round trip on the clean speech (how much of speech its latent space keeps), the enhancement,
and how the enhancement's gain on the noisy STFT correlates with the ideal ratio mask
min(|S| / |Y|, 1) (1: it suppresses where the noise is; 0: unrelated).

    python experiments/unpaired_inspect.py runs/unpaired_v2/unpaired/model.pt --pairs corpus_v2/valid --files 30

Prints the mean SI-SDR of the noisy input, the enhancement and the CAE round trip (dB), and the
mean correlation (recipes/unpaired/README.md).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from sepssl import load_model, losses
from sepssl.audio import read
from sepssl.dsp.stft import stft


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--pairs", default="corpus_v2/valid", help="a folder with clean/ and noisy/")
    ap.add_argument("--files", type=int, default=30)
    args = ap.parse_args()
    torch.set_num_threads(1)
    net = load_model(args.model).net
    scores = {"noisy": [], "enhanced": [], "cae_round_trip": [], "gain_vs_ideal_mask": []}
    for clean_file in sorted(Path(args.pairs, "clean").glob("*.wav"))[: args.files]:
        clean = read(clean_file)[0][:1]
        noisy = read(Path(args.pairs, "noisy", clean_file.name))[0][:1]
        with torch.no_grad():
            spec, frames, scale = net.analyse(clean)
            trip = net.synthesize(spec, net.clean.decode(net.clean.encode(frames)), scale,
                                  clean.shape[-1])
            spec_n, frames_n, scale_n = net.analyse(noisy)
            speech = net.clean.decode(net.mixture.encode(frames_n)).pow(1 / net.power)
            gain = (speech / (spec_n.abs() + 1e-8)).clamp(max=1)
            ideal = (stft(clean / scale_n, net.n_fft, net.hop).abs() / (spec_n.abs() + 1e-8)).clamp(max=1)
            scores["noisy"].append(losses.si_sdr(noisy, clean).item())
            scores["enhanced"].append(losses.si_sdr(net(noisy)[:, 0], clean).item())
            scores["cae_round_trip"].append(losses.si_sdr(trip, clean).item())
            scores["gain_vs_ideal_mask"].append(
                torch.corrcoef(torch.stack([gain.flatten(), ideal.flatten()]))[0, 1].item())
    for name, values in scores.items():
        unit = "" if name == "gain_vs_ideal_mask" else " dB"
        print(f"{name}: {sum(values) / len(values):+.2f}{unit} (mean of {len(values)} files)")


if __name__ == "__main__":
    main()
