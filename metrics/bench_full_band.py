"""Full band: what `sepssl enhance` keeps above its model's 8 kHz band on 44.1 / 48 kHz speech.

    python metrics/bench_full_band.py --out metrics     # full_band.md, full_band.json

Material (built here, at the sources' own rate, from the package cache `sepssl data` filled):
KLettres' 44.1 kHz letters and syllables of the corpus *test* voices, a few clips of one voice
joined into one utterance (only clips whose band above 8 kHz follows the speech: many carry a
steady hiss floor there, which an enhancer should remove, so they are left out and counted), and the
same utterances resampled to 48 kHz. Noisy versions mix in, at 5 dB SNR over the whole band,
one of: white noise, pink noise, or a clip of `frozen-bubble-data` (a test-only noise package)
at its own 44.1 kHz.

For each file, the shipped model (as shipped, with its own limit) through `sepssl enhance`'s code path
(`enhance_signal`), against the same path without the upper band (the behaviour before it:
only the limit's mix-back is left above 8 kHz):

- clean input: the level of the band above 8 kHz, output against input (dB; 0 = kept);
- noisy input: the SNR above 8 kHz and below, output against input (dB; > 0 = suppressed).

Means with 95% intervals (Student's t over files).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchlib import machine  # noqa: E402

from sepssl import audio, load_model  # noqa: E402
from sepssl.data import noise as noise_data  # noqa: E402
from sepssl.data.realspeech import klettres_voice  # noqa: E402
from sepssl.data.fullband import upper_band_is_speech  # noqa: E402
from sepssl.dsp import mixing  # noqa: E402
from sepssl.enhance import enhance_signal  # noqa: E402
from sepssl.evaluation.summary import stats  # noqa: E402

CACHE = Path.home() / ".cache" / "sepssl" / "unpacked"
SPLIT_HZ = 8000.0
SNR_DB = 5.0


def band_power(x: np.ndarray, rate: int, low: float, high: float) -> float:
    spec = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(x.size, 1 / rate)
    keep = (freqs >= low) & (freqs < high)
    return float(np.sum(np.abs(spec[keep]) ** 2)) + 1e-20


def db(a: float, b: float) -> float:
    return 10 * np.log10(a / b)


def utterances(per_voice: int, clips: int, rng: np.random.Generator) -> tuple[list, dict]:
    """`per_voice` utterances of `clips` joined 44.1 kHz clips for each KLettres test voice,
    from the clips whose upper band is speech; and the clips kept / seen per voice."""
    root = next(CACHE.glob("klettres-data_*"))
    voices: dict[str, list[np.ndarray]] = {}
    seen: dict[str, int] = {}
    for path in sorted(root.rglob("*.ogg")):
        hit = klettres_voice("/" + str(path.relative_to(root)))
        if hit and sf.info(path).samplerate == 44100:
            x = sf.read(path, dtype="float32", always_2d=True)[0].mean(1)
            seen[hit[0]] = seen.get(hit[0], 0) + 1
            if upper_band_is_speech(x, 44100):
                voices.setdefault(hit[0], []).append(x)
    gap = np.zeros(int(0.12 * 44100), dtype=np.float32)
    out = []
    for voice, kept in voices.items():
        for k in range(min(per_voice, len(kept) // clips)):
            pick = rng.choice(len(kept), size=clips, replace=False)
            out.append((f"{voice}_{k}", np.concatenate([p for i in pick for p in (kept[i], gap)])))
    return out, {v: [len(voices.get(v, [])), n] for v, n in seen.items()}


def noises(rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    """Long noise signals at 44.1 kHz: white, pink, and frozen-bubble clips joined."""
    n = 44100 * 30
    root = next(CACHE.glob("frozen-bubble-data_*"))
    want = noise_data.source("frozen-bubble-data")
    parts = []
    for path in sorted(root.rglob("*")):
        rel = "/" + str(path.relative_to(root))
        if path.suffix in (".wav", ".ogg") and want.wants(rel) and sf.info(path).samplerate == 44100:
            x, _ = sf.read(path, dtype="float32", always_2d=True)
            parts.append(x.mean(1))
    bubble = np.concatenate(parts)
    return [("white", noise_data.white(n, rng).astype(np.float32)),
            ("pink", noise_data.coloured(n, rng, 1.0).astype(np.float32)),
            ("frozen-bubble", bubble)]


def upper_dropped(model, wav: torch.Tensor, rate: int) -> torch.Tensor:
    """The path before the upper band: the model's output resampled back, then the limit."""
    with torch.no_grad():
        y = audio.resample(model(audio.resample(wav, rate, model.sample_rate)),
                           model.sample_rate, rate)[..., : wav.shape[-1]]
    y = torch.nn.functional.pad(y, (0, wav.shape[-1] - y.shape[-1]))
    return mixing.limit_attenuation(y, wav, model.atten_lim_db)


def measure(per_voice: int, clips: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    model = load_model("default")
    systems = {"sepssl enhance (upper band kept)": lambda w, r: enhance_signal(model, w, r),
               "upper band dropped (before)": lambda w, r: upper_dropped(model, w, r)}
    band_ok, clips_kept = utterances(per_voice, clips, rng)
    noise_list = noises(rng)
    rows: dict[str, dict[str, list[float]]] = {s: {} for s in systems}
    for i, (name, clean44) in enumerate(band_ok):
        for rate in (44100, 48000):
            clean = clean44 if rate == 44100 else audio.resample(
                torch.from_numpy(clean44), 44100, rate).numpy()
            kind, nz = noise_list[i % len(noise_list)]
            start = rng.integers(0, nz.size - clean44.size)
            nz = nz[start:start + clean44.size]
            if rate != 44100:
                nz = audio.resample(torch.from_numpy(nz), 44100, rate).numpy()
            nz = nz[: clean.size]
            gain = np.sqrt(np.mean(clean ** 2) / (np.mean(nz ** 2) + 1e-20) / 10 ** (SNR_DB / 10))
            noisy = clean + gain * nz
            nyq = rate / 2
            for sysname, enhance in systems.items():
                out_clean = enhance(torch.from_numpy(clean)[None], rate)[0].numpy()
                out_noisy = enhance(torch.from_numpy(noisy)[None], rate)[0].numpy()
                r = rows[sysname]
                key = f"{rate // 1000 if rate % 1000 == 0 else rate / 1000} kHz"
                r.setdefault(f"clean {key}: upper band level (dB)", []).append(
                    db(band_power(out_clean, rate, SPLIT_HZ, nyq), band_power(clean, rate, SPLIT_HZ, nyq)))
                r.setdefault(f"clean {key}: lower band level (dB)", []).append(
                    db(band_power(out_clean, rate, 0, SPLIT_HZ), band_power(clean, rate, 0, SPLIT_HZ)))
                for band, (lo, hi) in (("upper", (SPLIT_HZ, nyq)), ("lower", (0, SPLIT_HZ))):
                    snr_in = db(band_power(clean, rate, lo, hi), band_power(noisy - clean, rate, lo, hi))
                    snr_out = db(band_power(clean, rate, lo, hi), band_power(out_noisy - clean, rate, lo, hi))
                    r.setdefault(f"noisy {key}: {band} band SNR gain (dB)", []).append(snr_out - snr_in)
                for band, (lo, hi) in (("upper", (SPLIT_HZ, nyq)), ("lower", (0, SPLIT_HZ))):
                    r.setdefault(f"noisy {key}: {band} band level (dB)", []).append(
                        db(band_power(out_noisy, rate, lo, hi), band_power(noisy, rate, lo, hi)))
    lim = model.atten_lim_db
    return {"limit": "no limit" if lim is None else f"{lim:g} dB limit",
            "files": len(band_ok), "clips_kept_of_seen": clips_kept,
            "noises": [k for k, _ in noise_list], "snr_db": SNR_DB, "seed": seed,
            "results": {s: {k: stats(v) for k, v in r.items()} for s, r in rows.items()}}


def table(result: dict) -> str:
    systems = list(result["results"])
    keys = list(result["results"][systems[0]])
    lines = ["| measure | " + " | ".join(systems) + " |", "|---|" + "---|" * len(systems)]
    for k in keys:
        cells = []
        for s in systems:
            st = result["results"][s][k]
            cells.append(f"{st['mean']:+.1f} [{st['ci95'][0]:+.1f}, {st['ci95'][1]:+.1f}]")
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=HERE)
    p.add_argument("--per-voice", type=int, default=3, help="utterances per KLettres test voice")
    p.add_argument("--clips", type=int, default=6, help="clips joined into one utterance")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(1)
    result = {**measure(a.per_voice, a.clips, a.seed), "machine": machine()}
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "full_band.json").write_text(json.dumps(result, indent=1) + "\n")
    text = (f"# Full band: the band above 8 kHz through `sepssl enhance`\n\n"
            f"Made by `python metrics/bench_full_band.py --out {a.out}` (per voice "
            f"{a.per_voice}, clips {a.clips}, seed {a.seed}). {result['files']} utterances of "
            f"the KLettres test voices at 44.1 kHz and the same resampled to 48 kHz, joined "
            f"from the {sum(k for k, _ in result['clips_kept_of_seen'].values())} of "
            f"{sum(n for _, n in result['clips_kept_of_seen'].values())} clips whose band above "
            f"8 kHz is speech (its frame levels spread over 20 dB; the others carry a hiss "
            f"floor there); noisy: "
            f"{', '.join(result['noises'])} at {SNR_DB:g} dB. The shipped model as shipped "
            f"({result['limit']}). Mean [95% interval] over files.\n\n" + table(result))
    (a.out / "full_band.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
