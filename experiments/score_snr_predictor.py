"""How well does the purification SNR predictor estimate segmental SNR on held-out pairs?

    python experiments/score_snr_predictor.py runs/snr_predictor/snr_predictor.pt corpus/valid

For each (noisy, clean) pair of the folder (`noisy/` and `clean/`, the noise taken as their
difference), the per-frame SNR the predictor is trained to give (`segmental_snr`, clipped to
±30 dB as in training) against its
prediction from the noisy file: mean absolute error in dB, Pearson correlation, and how often it
puts a frame on the right side of 0 dB (what decides whether PseudoSE's weight on the frame is
above or below one half). Baseline: always predicting the mean true frame SNR.
"""
import argparse
import json
import sys

import torch

from sepssl.data.datasets import PairedFiles
from sepssl.errors import SepsslError
from sepssl.models.snr_predictor import load_snr_predictor, segmental_snr


@torch.no_grad()
def score(predictor_path: str, pairs_dir: str, limit: int | None = None) -> dict:
    model = load_snr_predictor(predictor_path).eval()
    pairs = PairedFiles(pairs_dir, model.sample_rate, limit)
    true, pred = [], []
    for i in range(len(pairs)):
        noisy, clean = pairs[i]
        noisy = noisy.reshape(-1, noisy.shape[-1]).mean(0, keepdim=True)      # (1, time)
        clean = clean.reshape(-1, clean.shape[-1]).sum(0, keepdim=True)
        # clipped as in training (train_snr_predictor's target_range_db)
        t = segmental_snr(clean, noisy - clean, model.n_fft, model.hop)[0].clamp(-30.0, 30.0)
        p = model(noisy)[0][: t.shape[-1]]
        true.append(t[: p.shape[-1]])
        pred.append(p)
    t, p = torch.cat(true), torch.cat(pred)
    corr = torch.corrcoef(torch.stack([t, p]))[0, 1]
    return {"files": len(pairs), "frames": int(t.numel()),
            "mae_db": float((p - t).abs().mean()), "pearson": float(corr),
            "sign_agreement": float(((p > 0) == (t > 0)).float().mean()),
            "baseline_mae_db": float((t - t.mean()).abs().mean()),
            "true_mean_db": float(t.mean()), "pred_mean_db": float(p.mean())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("predictor")
    ap.add_argument("pairs", help="folder with noisy/ and clean/ (e.g. corpus/valid)")
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args(argv)
    try:
        print(json.dumps(score(args.predictor, args.pairs, args.limit), indent=2))
    except SepsslError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
