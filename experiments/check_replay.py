"""What `sepssl adapt`'s check of clean stretches says of a model file, on a folder it adapted on.

`adapt` builds its check from the recordings' 4 s segments (a fifth held back, `seed` 0) and
keeps a student only if it loses neither STOI nor SI-SDR there against the starting one. This
builds the same check from `DOMAIN/score/noisy` (what `adapt_protocol.py --transductive-only`
adapts on) and scores the shipped default and each model, so that a student refused by another
rule can be asked what the check alone would have said (`metrics/adapt_ensemble/README.md`).

    python experiments/check_replay.py runs/v2_domains/reverberant=path/to/model.refused.pt
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sepssl import audio  # noqa: E402
from sepssl.adapt import as_enhancer, split_for_check  # noqa: E402
from sepssl.data.datasets import list_audio  # noqa: E402
from sepssl.domain_check import CheckSet, check_scores, clean_stretch_pairs  # noqa: E402
from sepssl.models.enhancer import load_model  # noqa: E402


RATE, GUARD_SHARE, SEED = 16000, 0.2, 0      # `adapt`'s defaults


def replayed_checks(recordings: list[torch.Tensor], per_reference: list[int] = (3,)
                    ) -> dict[int, CheckSet]:
    """The check `adapt` builds from mono `(time,)` recordings at `RATE`, with its defaults,
    made with each number of mixtures per reference (3: `adapt`'s)."""
    noisy, found, held = split_for_check(recordings, RATE, GUARD_SHARE, SEED)
    return {n: clean_stretch_pairs([noisy[k] for k in held], [found[k] for k in held], RATE,
                                   seed=SEED, per_reference=n) for n in per_reference}


def main() -> None:
    torch.set_num_threads(1)
    rate = RATE
    for arg in sys.argv[1:]:
        domain, _, model = arg.partition("=")
        recordings = [audio.read(f, rate)[0].mean(0)
                      for f in list_audio(Path(domain) / "score" / "noisy")]
        check = replayed_checks(recordings)[3]
        before = check_scores(as_enhancer(load_model("default")), check, rate)
        after = check_scores(as_enhancer(load_model(model)), check, rate)
        kept = after["stoi"] >= before["stoi"] and after["si_sdr"] >= before["si_sdr"]
        print(f"{domain}: {len(check.pairs)} mixtures, STOI {before['stoi']:.4f} → "
              f"{after['stoi']:.4f}, SI-SDR {before['si_sdr']:.2f} → {after['si_sdr']:.2f} dB: "
              f"{'kept' if kept else 'refused'}", flush=True)


if __name__ == "__main__":
    main()
