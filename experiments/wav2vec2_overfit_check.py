"""Can the wav2vec 2.0 objective learn at all? Fit one fixed batch of corpus crops.

    python experiments/wav2vec2_overfit_check.py --speech corpus/train/noisy --steps 120

Runs `pretext_loss` on the same 8 × 2 s crops every step (AdamW, linear warm-up over 30 steps,
gradient clip 10, as `sepssl pretrain`) and prints the contrastive loss and accuracy every 20
steps. A working objective memorises one batch quickly; if it does but a full pre-training run
stays at chance (ln(K+1)), the run is on the known plateau, not broken (README.md, Results).
"""
import argparse

import torch

from sepssl import audio
from sepssl.data.datasets import list_audio
from sepssl.encoders import build_encoder


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--speech", default="corpus/train/noisy")
    ap.add_argument("--size", default="small")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    frames = int(args.seconds * 16000)
    files = [f for f in list_audio(args.speech) if audio.info(f).frames >= frames][: args.batch]
    wav = torch.stack([audio.read(f, 16000)[0].mean(0)[:frames] for f in files])
    torch.manual_seed(args.seed)
    enc = build_encoder("wav2vec2", size=args.size).train()
    opt = torch.optim.AdamW(enc.parameters(), lr=args.lr, weight_decay=0.01)
    window = []
    for step in range(args.steps):
        for group in opt.param_groups:
            group["lr"] = args.lr * min(1.0, (step + 1) / 30)
        loss, stats = enc.pretext_loss(wav)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(enc.parameters(), 10.0)
        opt.step()
        enc.after_step()
        window.append((float(stats["contrastive"]), float(stats["accuracy"])))
        if (step + 1) % 20 == 0:
            c, a = (sum(x[i] for x in window) / len(window) for i in (0, 1))
            print(f"step {step + 1}: contrastive {c:.3f}, accuracy {a:.3f}", flush=True)
            window = []
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
