"""Train data purification's SNR predictor on CLEAN speech + noise (mixed on the fly at
−10…10 dB) and save it as a weights-only file for `task.snr_predictor`.

    python recipes/pseudose/train_snr_predictor.py --speech corpus/train/clean \
        --noise corpus/train/noise --out runs/snr_predictor/snr_predictor.pt --steps 2000

The predictor is generic (trained once, not on the user's recordings); the PseudoSE enhancer
trained with its weights never sees clean speech. Calls
`sepssl.models.snr_predictor.train_snr_predictor`.
"""
import argparse
import sys

from sepssl.errors import SepsslError
from sepssl.models.snr_predictor import train_snr_predictor


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--speech", default="corpus/train/clean",
                   help="folder or file list of CLEAN speech (generic, not the user's)")
    p.add_argument("--noise", default="corpus/train/noise", help="folder or file list of noise")
    p.add_argument("--out", default="runs/snr_predictor/snr_predictor.pt",
                   help="predictor file to write (task.snr_predictor)")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--segment-seconds", type=float, default=2.0)
    p.add_argument("--sample-rate", type=int, default=16000,
                   help="must be the enhancer's sample_rate")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    a = p.parse_args(argv)
    try:
        path = train_snr_predictor(a.speech, a.noise, a.out, a.steps, sample_rate=a.sample_rate,
                                   segment_seconds=a.segment_seconds, batch_size=a.batch_size,
                                   hidden=a.hidden, layers=a.layers, lr=a.lr, seed=a.seed,
                                   device=a.device, progress=not a.quiet)
    except SepsslError as exc:
        print(f"train_snr_predictor: error: {exc}", file=sys.stderr)
        return 2
    print(f"SNR predictor written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
