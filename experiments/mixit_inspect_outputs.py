"""Where does the speech go? For each paired file, the SI-SDR against the clean speech of the
input, of the speech output(s) alone, and of the speech outputs plus the best subset of the
other outputs (an oracle choice), with each output's share of the energy; for a model with a
speech detector (`task.speech_detector`) also what inference gives (the other outputs weighted
by their speech probability) and those probabilities.

    python experiments/mixit_inspect_outputs.py MODEL corpus/valid [--files 20]

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
            detected, probs = float("nan"), []
            if model.detector is not None:
                detected = float(losses.si_sdr(model(noisy.unsqueeze(0))[0], clean))
                probs = model.detector.probability(est[others]).tolist()
            rows.append((float(losses.si_sdr(noisy, clean)),
                         float(losses.si_sdr(est[speech].sum(0), clean)), best, detected,
                         (energy / energy.sum()).tolist(), probs))
    print("| input SI-SDR | speech output | speech + best other outputs | with the detector "
          "| energy share per output | speech probability of the others |")
    print("|---:|---:|---:|---:|---|---|")
    for r in sorted(rows):
        print(f"| {r[0]:.1f} | {r[1]:.1f} | {r[2]:.1f} | {r[3]:.1f} | "
              f"{' / '.join(f'{v:.2f}' for v in r[4])} | {' / '.join(f'{v:.2f}' for v in r[5])} |")
    for name, i in (("input", 0), ("speech output", 1), ("speech + best others", 2),
                    ("with the detector", 3))[:4 if model.detector is not None else 3]:
        print(f"mean {name}: {statistics.mean(r[i] for r in rows):.2f} dB")
    high = [r for r in rows if r[0] > 10]
    if high:
        print(f"inputs above 10 dB ({len(high)}): input {statistics.mean(r[0] for r in high):.2f}, "
              f"speech output {statistics.mean(r[1] for r in high):.2f} dB")


if __name__ == "__main__":
    main()
