"""Linear probe of speaker identity on frozen SSL features: did the representation learn anything?

Each utterance of the corpus's train split (noisy speech: what the encoders were pre-trained on)
becomes one vector: frame encoders (wav2vec 2.0, CPC) give the mean and standard deviation over
time of each layer's features, BYOL-A its clip embedding. A logistic regression (scikit-learn,
standardised inputs) learns the speaker from 60% of each speaker's utterances and is scored on
the other 40% by balanced accuracy (the two real voices have far more files than the synthetic
ones). Baselines, scored the same way: the same architecture with random weights (what the
architecture alone gives) and log-mel statistics (no learning at all).

    python experiments/speaker_probe.py --corpus corpus \\
        --encoder runs/cpc/encoder.pt --encoder runs/wav2vec2/encoder.pt --encoder runs/byol_a/encoder.pt

Writes `speaker_probe.json` and `speaker_probe.md` into --out (default: metrics/).
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torchaudio
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

# benchlib (the command line and machine a results file records) lives with the benchmarks
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "metrics"))
import benchlib  # noqa: E402

from sepssl import audio  # noqa: E402
from sepssl.encoders import build_encoder, load_encoder  # noqa: E402


def utterances(corpus: Path, per_speaker: int, seed: int) -> list[tuple[Path, str]]:
    """Up to `per_speaker` noisy train files of every speaker, drawn with a fixed seed."""
    by_speaker: dict[str, list[Path]] = {}
    with open(corpus / "manifests" / "train.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["kind"] == "noisy":
                by_speaker.setdefault(row["speaker"], []).append(corpus / row["path"])
    rng = np.random.default_rng(seed)
    chosen = []
    for speaker in sorted(by_speaker):
        files = sorted(by_speaker[speaker])
        for i in rng.permutation(len(files))[:per_speaker]:
            chosen.append((files[i], speaker))
    return chosen


def split(labels: list[str], train_share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-speaker split of the utterance indices into train and test."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for speaker in sorted(set(labels)):
        idx = rng.permutation([i for i, s in enumerate(labels) if s == speaker])
        cut = max(1, int(round(train_share * len(idx))))
        train.extend(idx[:cut])
        test.extend(idx[cut:])
    return np.array(train), np.array(test)


def read(path: Path, sample_rate: int, max_seconds: float) -> torch.Tensor:
    wav, _ = audio.read(path, sample_rate=sample_rate)
    return wav.mean(0)[: int(max_seconds * sample_rate)]


@torch.no_grad()
def encoder_vectors(encoder, wavs: list[torch.Tensor]) -> dict[str, np.ndarray]:
    """Name → (utterances, dim) pooled features, one entry per layer (or the clip embedding)."""
    out: dict[str, list[np.ndarray]] = {}
    for wav in wavs:
        x = wav[None]
        if encoder.kind == "clip":
            out.setdefault("embedding", []).append(encoder.embed(x)[0].numpy())
            continue
        for i, feats in enumerate(encoder.layer_features(x)):
            pooled = torch.cat([feats[0].mean(0), feats[0].std(0)])
            out.setdefault(f"layer {i}", []).append(pooled.numpy())
    return {k: np.stack(v) for k, v in out.items()}


@torch.no_grad()
def logmel_vectors(wavs: list[torch.Tensor], sample_rate: int) -> np.ndarray:
    mel = torchaudio.transforms.MelSpectrogram(sample_rate, n_fft=1024, hop_length=160, n_mels=64)
    rows = []
    for wav in wavs:
        lm = (mel(wav) + 1e-8).log()
        rows.append(torch.cat([lm.mean(1), lm.std(1)]).numpy())
    return np.stack(rows)


def probe(x: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> float:
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, C=1.0))
    clf.fit(x[train], y[train])
    return float(balanced_accuracy_score(y[test], clf.predict(x[test])))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="corpus")
    ap.add_argument("--encoder", action="append", default=[], help="encoder file (repeatable)")
    ap.add_argument("--per-speaker", type=int, default=20)
    ap.add_argument("--train-share", type=float, default=0.6)
    ap.add_argument("--max-seconds", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="metrics")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    corpus = Path(args.corpus)
    chosen = utterances(corpus, args.per_speaker, args.seed)
    labels = [s for _, s in chosen]
    y = np.array(labels)
    train, test = split(labels, args.train_share, args.seed)
    print(f"{len(chosen)} utterances, {len(set(labels))} speakers, "
          f"{len(train)} train / {len(test)} test", flush=True)

    wavs_by_rate: dict[int, list[torch.Tensor]] = {}

    def wavs(rate: int) -> list[torch.Tensor]:
        if rate not in wavs_by_rate:
            wavs_by_rate[rate] = [read(p, rate, args.max_seconds) for p, _ in chosen]
        return wavs_by_rate[rate]

    rows = []
    t0 = time.perf_counter()
    rows.append({"features": "log-mel mean + std", "weights": "—", "layer": "—",
                 "balanced_accuracy": probe(logmel_vectors(wavs(16000), 16000), y, train, test)})
    for path in args.encoder:
        trained = load_encoder(path, pretext=False)
        steps = trained.card.get("steps")
        torch.manual_seed(args.seed)
        untrained = build_encoder(trained.name, pretext=False, **trained.spec()["options"]).eval()
        for weights, enc in ((f"pre-trained ({steps} steps)", trained), ("random init", untrained)):
            for layer, x in encoder_vectors(enc, wavs(enc.sample_rate)).items():
                acc = probe(x, y, train, test)
                rows.append({"features": trained.name, "weights": weights, "layer": layer,
                             "balanced_accuracy": acc})
                print(f"{trained.name:9s} {weights:24s} {layer:10s} {acc:.3f}", flush=True)

    result = {"command": benchlib.command(), "machine": benchlib.machine(),
              "utterances": len(chosen), "speakers": len(set(labels)), "train": len(train),
              "test": len(test), "chance": 1 / len(set(labels)),
              "seconds": round(time.perf_counter() - t0, 1), "rows": rows}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "speaker_probe.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["# Speaker-identity linear probe on frozen features", "",
             f"`{result['command']}`", "",
             f"{result['utterances']} noisy train utterances of {result['speakers']} speakers "
             f"({result['train']} to fit the logistic regression, {result['test']} to score it); "
             f"balanced accuracy; chance {result['chance']:.3f}.", "",
             "| features | weights | layer | balanced accuracy |", "|---|---|---|---|"]
    lines += [f"| {r['features']} | {r['weights']} | {r['layer']} | {r['balanced_accuracy']:.3f} |"
              for r in rows]
    (out / "speaker_probe.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out / 'speaker_probe.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
