"""The domain-shift protocol of `sepssl adapt` (metrics/adapt.md), built from the corpus test
split so that no number is tuned on its own test.

Each target domain is a part of `corpus/test` the shipped model never trained on (or a channel
applied to it), split by file into recordings to adapt on (`adapt/noisy`, noisy only) and a
disjoint part with clean references (`score/noisy`, `score/clean`):

- `unseen_voice`: the test split's real speech, whose voices and packages training never has
  (corpus v1: the Asterisk ru prompts; v2: 18 voices of three packages);
- `unseen_noise`: files whose noise comes from a test-only package (v1: frozen-bubble-data;
  v2: also hydrogen-drumkits and qabcs-data);
- `reverberant`: the reverberant rooms;
- `telephone`: every test file through a telephone channel (8 kHz, 300–3400 Hz band), noisy and
  clean alike;
- `voice_call`: every test file's noisy recording through a lossy codec round-trip (per file,
  seeded: G.722, or Opus at 6–32 kbit/s), its clean reference cut to the band the codec kept
  (`sepssl.codecs`, as `task.recording_chain.codec_p` trains);
- `rooms`: the dry test files with their speech in a room of `sepssl.data.rooms.varied_rir`
  (small rooms to halls; rooms drawn from seeds training's room bank never uses), direct path
  at gain 1, and the file's own noise added back; the clean reference stays dry;
- `conversations`: long recordings with pauses, as users have them (the corpus's clips are
  3.6 s utterances with little pause): the dry test files of one speaker, 6 at a time, joined
  with pauses of 0.4–1.5 s, in one environment (the first clip's noise, looped with
  crossfades, under the whole recording) at one SNR drawn from −5…15 dB; split by recording.

    python experiments/adapt_domains.py --corpus corpus --out runs/adapt_domains

(needs the full corpus: `sepssl data --size full --out corpus`). Files are split by a seeded
shuffle, half and half; the score part is never adapted on. `--adapt-clean` also writes the
adapt part's references (`adapt/clean`), a disjoint dev set to choose settings on.
"""
from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

import numpy as np
import torch
import torchaudio.functional as AF

from sepssl import audio, codecs
from sepssl.data.rooms import varied_rir
from sepssl.dsp.reverb import reverberate
from sepssl.data import realspeech
from sepssl.data.corpus.splits import TEST_ONLY_NOISE

DOMAINS = {
    # Real test speech: its packages are never in training (v1 had one, the Asterisk ru voice,
    # written "asterisk-ru"; v2 has 18 voices of three packages).
    "unseen_voice": lambda r: (r["speech_source"] == "asterisk-ru"
                               or r["speech_source"] in realspeech.PACKAGES),
    # Noise from a test-only package (v1: frozen-bubble-data; v2 adds two more).
    "unseen_noise": lambda r: any(p in r["noise_source"] for p in TEST_ONLY_NOISE),
    "reverberant": lambda r: r["reverberant"] == "1",
    "telephone": lambda r: True,
    "voice_call": lambda r: True,
    "rooms": lambda r: r["reverberant"] == "0",
}
ROOM_SEED = 10_000   # the rooms' seeds start here; training's bank uses reverb_seed (0) only


def telephone(wav: torch.Tensor, rate: int) -> torch.Tensor:
    """`(channels, time)` through an 8 kHz, 300–3400 Hz channel, back at `rate`."""
    narrow = audio.resample(wav, rate, 8000)
    narrow = AF.lowpass_biquad(AF.highpass_biquad(narrow, 8000, 300.0), 8000, 3400.0)
    return audio.resample(narrow, 8000, rate)[..., : wav.shape[-1]]


def voice_call(noisy: torch.Tensor, clean: torch.Tensor, rate: int, key: str
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """`noisy` `(1, time)` through a codec chosen by `key`, `clean` cut to the codec's band."""
    pick = random.Random(key)
    name = "g722" if pick.random() < 0.5 else "opus"
    kbps = pick.uniform(6.0, 32.0)
    coded = codecs.round_trip(noisy, [name], [kbps], rate)
    return coded, codecs.cut_band(clean, codecs.codec_band(noisy, coded, rate), rate)


def in_room(noisy: torch.Tensor, clean: torch.Tensor, rate: int, index: int
            ) -> tuple[torch.Tensor, torch.Tensor]:
    """The pair `(1, time)` with its speech in room `ROOM_SEED + index`: the room's speech
    (direct path at gain 1, aligned with the dry reference, the corpus's convention) plus the
    file's noise (noisy − clean); both scaled alike when the mixture would peak above 0.95."""
    rir = varied_rir(np.random.default_rng(ROOM_SEED + index), rate)
    wet = reverberate(clean, torch.from_numpy(rir.h)[None], torch.tensor([rir.direct]))
    mixed = wet + (noisy - clean)
    scale = min(1.0, 0.95 / float(mixed.abs().max().clamp_min(1e-8)))
    return mixed * scale, clean * scale


def looped(noise: torch.Tensor, length: int, fade: int) -> torch.Tensor:
    """`noise (1, n)` repeated to `length` samples, each repeat crossfaded (sin²) into the last."""
    fade = min(fade, noise.shape[-1] // 2)
    ramp = torch.sin(torch.linspace(0, torch.pi / 2, fade)) ** 2
    out = noise
    while out.shape[-1] < length:
        joint = out[..., -fade:] * (1 - ramp) + noise[..., :fade] * ramp
        out = torch.cat([out[..., :-fade], joint, noise[..., fade:]], dim=-1)
    return out[..., :length]


def conversations(corpus: Path, rows: list[dict], out: Path, seed: int,
                  per_recording: int = 6, adapt_clean: bool = False) -> dict[str, int]:
    """The `conversations` domain (module docstring); returns the recordings per part."""
    rng = random.Random(f"{seed}-conversations")
    by_speaker: dict[str, list[dict]] = {}
    for r in sorted((r for r in rows if r["reverberant"] == "0"), key=lambda r: r["id"]):
        by_speaker.setdefault(r["speaker"], []).append(r)
    groups = [items[i:i + per_recording] for _, items in sorted(by_speaker.items())
              for i in range(0, len(items), per_recording)]
    groups = [g for g in groups if len(g) >= per_recording // 2]
    rng.shuffle(groups)
    half = len(groups) // 2
    counts = {"adapt": half, "score": len(groups) - half}
    for k, group in enumerate(groups):
        part = "adapt" if k < half else "score"
        pieces, noise, rate = [], None, None
        for r in group:
            name = Path(r["path"]).name
            clean, rate = audio.read(corpus / "test" / "clean" / name)
            if noise is None:
                noise = audio.read(corpus / "test" / "noisy" / name)[0] - clean
            pause = torch.zeros(1, round(rng.uniform(0.4, 1.5) * rate))
            pieces += [clean, pause]
        clean = torch.cat(pieces[:-1], dim=-1)
        noise = looped(noise, clean.shape[-1], round(0.05 * rate))
        speaking = clean.abs() > 0
        snr = rng.uniform(-5.0, 15.0)
        gain = (clean[speaking].square().mean() / noise.square().mean().clamp_min(1e-12)
                / 10 ** (snr / 10)).sqrt()
        noisy = clean + gain * noise
        scale = min(1.0, 0.95 / float(noisy.abs().max().clamp_min(1e-8)))
        name = f"conversation-{k:03d}.wav"
        audio.write(out / "conversations" / part / "noisy" / name, noisy * scale, rate)
        if part == "score" or adapt_clean:
            audio.write(out / "conversations" / part / "clean" / name, clean * scale, rate)
    return counts


def build(corpus: Path, out: Path, seed: int = 0, only: list[str] | None = None,
          adapt_clean: bool = False) -> dict[str, dict[str, int]]:
    rows = [r for r in csv.DictReader(open(corpus / "manifests" / "test.csv")) if r["kind"] == "noisy"]
    counts = {}
    if only is None or "conversations" in only:
        counts["conversations"] = conversations(corpus, rows, out, seed,
                                                adapt_clean=adapt_clean)
    for domain, keep in DOMAINS.items():
        if only is not None and domain not in only:
            continue
        chosen = sorted((r for r in rows if keep(r)), key=lambda r: r["id"])
        random.Random(f"{seed}-{domain}").shuffle(chosen)
        half = len(chosen) // 2
        parts = {"adapt": chosen[:half], "score": chosen[half:]}
        for part, items in parts.items():
            for r in items:
                name = Path(r["path"]).name
                kinds = ("noisy",) if part == "adapt" and not adapt_clean else ("noisy", "clean")
                wavs = {}
                for kind in ("noisy", "clean"):
                    wavs[kind], rate = audio.read(corpus / "test" / kind / name)
                if domain == "telephone":
                    wavs = {kind: telephone(w, rate) for kind, w in wavs.items()}
                elif domain == "voice_call":
                    wavs["noisy"], wavs["clean"] = voice_call(wavs["noisy"], wavs["clean"], rate,
                                                              f"{seed}-{r['id']}")
                elif domain == "rooms":
                    number = int(r["id"].rsplit("-", 1)[1])
                    wavs["noisy"], wavs["clean"] = in_room(wavs["noisy"], wavs["clean"], rate,
                                                           number)
                for kind in kinds:
                    audio.write(out / domain / part / kind / name, wavs[kind], rate)
        counts[domain] = {part: len(items) for part, items in parts.items()}
    return counts


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=Path("corpus"))
    p.add_argument("--out", type=Path, default=Path("runs/adapt_domains"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--domains", nargs="+", choices=[*DOMAINS, "conversations"],
                   help="build only these (default: all)")
    p.add_argument("--adapt-clean", action="store_true",
                   help="also write the adapt part's clean references (adapt/clean), a dev set "
                        "for choices such as an output limit; `adapt` itself never reads them")
    a = p.parse_args()
    for domain, count in build(a.corpus, a.out, a.seed, a.domains, a.adapt_clean).items():
        print(f"{domain}: {count['adapt']} files to adapt on, {count['score']} to score")


if __name__ == "__main__":
    main()
