"""Score a separation model on a two-talker set: SI-SDR improvement under the best matching of
outputs to sources (PIT; spare outputs of a MixIT model are left unmatched).

    python recipes/separation/score.py MODEL corpus/two_talker/test --out runs/X/separation.json

`noisy/` holds the mixtures, `clean/` the 2-channel sources (`sepssl data --two-talker-from`).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import torch
from tqdm import tqdm

from sepssl import audio, load_model, losses
from sepssl.data.datasets import PairedFiles


def score(model_path: str, root: str, limit: int | None = None) -> dict:
    model = load_model(model_path)
    if model.n_outputs < 2:
        raise SystemExit(f"{model_path}: has {model.n_outputs} output; separation needs 2 or more")
    pairs = PairedFiles(root, model.sample_rate, limit)
    out, inp = [], []
    with torch.no_grad():
        for i in tqdm(range(len(pairs)), desc="scoring", file=sys.stderr):
            mix, refs = pairs[i]
            est = model.separate(mix.unsqueeze(0))
            out.append(float(losses.pit_si_sdr(est, refs.unsqueeze(0))[0].mean()))
            inp.append(float(losses.si_sdr(mix.unsqueeze(0).unsqueeze(1), refs.unsqueeze(0)).mean()))
    gain = [o - i for o, i in zip(out, inp)]
    return {"model": model_path, "set": root, "files": len(pairs),
            "si_sdr_input": statistics.mean(inp), "si_sdr_output": statistics.mean(out),
            "si_sdri_mean": statistics.mean(gain), "si_sdri_median": statistics.median(gain),
            "si_sdri_positive_share": sum(g > 0 for g in gain) / len(gain)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("root")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()
    result = score(args.model, args.root, args.limit)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
