"""Train MixIT's speech detector on NOISY speech against noise-only clips (no clean speech) and
save it as a weights-only file for `task.speech_detector`.

    python recipes/mixit/train_speech_detector.py --speech corpus/train/noisy \
        --noise corpus/train/noise --out runs/speech_detector/speech_detector.pt --steps 1000

Calls `sepssl.models.speech_detector.train_speech_detector`.
"""
import argparse
import sys

from sepssl.errors import SepsslError
from sepssl.models.speech_detector import train_speech_detector


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--speech", default="corpus/train/noisy",
                   help="folder or file list of noisy speech (the user's recordings)")
    p.add_argument("--noise", default="corpus/train/noise", help="folder or file list of noise")
    p.add_argument("--out", default="runs/speech_detector/speech_detector.pt",
                   help="detector file to write (task.speech_detector)")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--segment-seconds", type=float, default=2.0)
    p.add_argument("--sample-rate", type=int, default=16000,
                   help="must be the enhancer's sample_rate")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    a = p.parse_args(argv)
    try:
        path = train_speech_detector(a.speech, a.noise, a.out, a.steps,
                                     sample_rate=a.sample_rate,
                                     segment_seconds=a.segment_seconds,
                                     batch_size=a.batch_size, hidden=a.hidden, layers=a.layers,
                                     lr=a.lr, seed=a.seed, device=a.device,
                                     progress=not a.quiet)
    except SepsslError as exc:
        print(f"train_speech_detector: error: {exc}", file=sys.stderr)
        return 2
    print(f"speech detector written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
