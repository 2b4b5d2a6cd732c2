"""Where does the speech go? For each paired file, the SI-SDR against the clean speech of the
input, of the speech output(s) alone, and of the speech outputs plus the best subset of the
other outputs (an oracle choice), with each output's share of the energy.

    python recipes/mixit/inspect_outputs.py MODEL corpus/valid [--files 20]

A MixIT enhancement model whose speech output scores far below "best subset" has let speech
into its noise outputs.
"""
from __future__ import annotations

import argparse
import itertools
import statistics

import torch

from sepssl import load_model, losses
from sepssl.data.datasets import PairedFiles


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("root")
    ap.add_argument("--files", type=int, default=20)
    args = ap.parse_args()
    model = load_model(args.model)
    speech = model.speech_outputs
    others = [m for m in range(model.n_outputs) if m not in speech]
    rows = []
    with torch.no_grad():
        for noisy, refs in PairedFiles(args.root, model.sample_rate, args.files):
            clean = refs[0]
            est = model.separate(noisy.unsqueeze(0))[0]
            energy = est.pow(2).mean(-1)
            best = max(float(losses.si_sdr(est[[*speech, *extra]].sum(0), clean))
                       for r in range(len(others) + 1) for extra in itertools.combinations(others, r))
            rows.append((float(losses.si_sdr(noisy, clean)),
                         float(losses.si_sdr(est[speech].sum(0), clean)), best,
                         (energy / energy.sum()).tolist()))
    print("| input SI-SDR | speech output | speech + best other outputs | energy share per output |")
    print("|---:|---:|---:|---|")
    for r in sorted(rows):
        print(f"| {r[0]:.1f} | {r[1]:.1f} | {r[2]:.1f} | {' / '.join(f'{v:.2f}' for v in r[3])} |")
    for name, i in (("input", 0), ("speech output", 1), ("speech + best others", 2)):
        print(f"mean {name}: {statistics.mean(r[i] for r in rows):.2f} dB")
    high = [r for r in rows if r[0] > 10]
    if high:
        print(f"inputs above 10 dB ({len(high)}): input {statistics.mean(r[0] for r in high):.2f}, "
              f"speech output {statistics.mean(r[1] for r in high):.2f} dB")


if __name__ == "__main__":
    main()
