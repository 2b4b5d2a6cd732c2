"""How clean is the noise `sepssl adapt --method mined_remix / noisy_target` mines from the
recordings' pauses, against the noise estimate RemixIT uses (recording − teacher's speech)?

On a domain's `score/` part (clean references known, never adapted on), for each teacher:
the share of the audio mined, and the speech each noise pool carries, as the speech-to-noise
ratio within it (dB; lower is cleaner): for mined noise, the clean speech's power over the true
noise's power on the mined samples; for the residual y − ŝ = n + (s − ŝ), the power of s − ŝ
(the speech the teacher removed or distorted) over that of n. Pooled over the files.

    python experiments/mined_noise_check.py --domains-dir runs/adapt_domains_v2 \\
        --domains unseen_noise unseen_voice reverberant telephone --teachers default dfn3 \\
        --out metrics/adapt_mined/mined_noise.md
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch

from sepssl import audio
from sepssl.dsp import activity
from sepssl.teachers import load_teacher


def db(num: float, den: float) -> float:
    return 10 * math.log10(max(num, 1e-20) / max(den, 1e-20))


def check(domain: Path, teacher) -> dict[str, float]:
    mined = total = 0
    mined_speech = mined_noise = removed = noise_power = 0.0
    files = sorted((domain / "score" / "noisy").glob("*.wav"))
    if not files:
        raise SystemExit(f"{domain / 'score' / 'noisy'}: no wav files (run adapt_domains.py)")
    for src in files:
        y, rate = audio.read(src)
        s, _ = audio.read(domain / "score" / "clean" / src.name)
        y, s = y.mean(0), s.mean(0)
        n = y - s
        est = teacher.enhance(y, rate)
        free = activity.speech_free(y, est, rate)
        mined += int(free.sum())
        total += y.numel()
        mined_speech += float(s[free].square().sum())
        mined_noise += float(n[free].square().sum())
        removed += float((s - est).square().sum())
        noise_power += float(n.square().sum())
    return {"mined_share": mined / total, "mined_seconds": mined / rate,
            "mined_snr_db": db(mined_speech, mined_noise), "residual_snr_db": db(removed, noise_power)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--domains-dir", type=Path, default=Path("runs/adapt_domains_v2"))
    p.add_argument("--domains", nargs="+", default=["unseen_noise", "unseen_voice"])
    p.add_argument("--teachers", nargs="+", default=["default", "dfn3"])
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args()
    torch.set_num_threads(1)
    lines = ["| domain | teacher | audio mined | speech in mined noise (SNR, dB) | "
             "speech in y − ŝ (SNR, dB) |", "|---|---|---|---|---|"]
    for name in a.domains:
        for t in a.teachers:
            r = check(a.domains_dir / name, load_teacher(t))
            lines.append(f"| {name} | {t} | {100 * r['mined_share']:.0f} % ({r['mined_seconds']:.0f} s) "
                         f"| {r['mined_snr_db']:.1f} | {r['residual_snr_db']:.1f} |")
            print(lines[-1], flush=True)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
