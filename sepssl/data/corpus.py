"""The offline corpus builder behind `sepssl data`: one seed gives the same files.

Sources (nothing else; the reserved list of DATA.md is never touched):

- TTS speech: espeak-ng (8 English accents x voice variants), flite (awb, kal16, rms, slt),
  festival (cmu_us_slt_arctic_hts, kal_diphone). A *virtual speaker* is engine + voice +
  variant + prosody (pitch, rate, pitch range, post-hoc shift and pitch-contour wobble).
  Sentences come from a small built-in grammar (`text.py`).
- Real speech: Debian `asterisk-core-sounds-{fr,it,ru}-g722`, one studio voice each.
- Real noise: Debian `lincity-ng-data` (ambience), `minetest-data` (effects, ambience),
  `colobot-common-sounds` (effects, music), `extremetuxracer-data` (effects, music),
  `tuxpaint-data` (effects), `frozen-bubble-data` (arcade effects, music).
- Synthetic noise: white, pink, brown, speech-shaped, babble of 3-6 held-apart TTS talkers,
  hum, fan, clicks/bursts; up to two layers per clip.
- Rooms: pyroomacoustics shoebox RIRs (RT60 0.2-0.8 s by Sabine) on 30% of the speech.

Split logic (speaker- and noise-file-disjoint):

- espeak accents and variants are partitioned between splits (seeded); flite/festival voices
  go by recorded person: slt and rms -> train, awb -> valid, kal -> test.
- Real speakers: fr_CA_f_June and it_IT_m_Carlo -> train, ru_RU_f_IvrvoiceRU -> test; valid
  has no real speaker (three speakers cannot give train, valid and test one each and still
  leave train half real).
- Babble talkers are extra virtual speakers of the split's own voice inventory, never a target
  speaker anywhere.
- Real noise files are split per package by duration (train 70%, valid 10%, test 20%), whole
  files only; `frozen-bubble-data` is held out entirely for test (noise never seen in train).
- Each split has its own rooms.

Mixtures: noisy = speech image + noise at an SNR uniform in -5..20 dB, where the speech image
is the (possibly reverberant) speech; the clean file is the dry speech, time-aligned with the
direct path (see `rooms.py`). Train noise-only clips are separate random segments of the train
noise pool, 3-10 s.

`small` uses espeak-ng and flite and only packages already in the cache (no download), so it
runs offline in seconds and still goes through every code path that the cache allows; `full`
downloads what is missing and uses all engines.
"""
from __future__ import annotations

import csv
import json
import multiprocessing as mp
import os
import platform
import shutil
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import audio
from ..errors import DataError
from . import debian, noise, premix, realspeech, rooms, text, tts

SAMPLE_RATE = 16000
SPLITS = ("train", "valid", "test")
SNR_RANGE = (-5.0, 20.0)
REVERB_FRACTION = 0.3
SPEECH_SECONDS = (2.0, 6.0)
NOISE_SECONDS = (3.0, 10.0)
SPEECH_DBFS = (-32.0, -20.0)
MANIFEST_FIELDS = ("id", "split", "kind", "path", "seconds", "speaker", "speech_source",
                   "noise_name", "noise_source", "snr_db", "reverberant")

NOISE_PACKAGES = ("lincity-ng-data", "minetest-data", "colobot-common-sounds",
                  "extremetuxracer-data", "tuxpaint-data", "frozen-bubble-data")
TEST_ONLY_NOISE = ("frozen-bubble-data",)
NOISE_FILE_SPLIT = {"train": 0.7, "valid": 0.1, "test": 0.2}
REAL_SPEAKER_SPLIT = {"asterisk-core-sounds-fr-g722": "train",
                      "asterisk-core-sounds-it-g722": "train",
                      "asterisk-core-sounds-ru-g722": "test"}
PERSON_SPLIT = {"slt": "train", "rms": "train", "awb": "valid", "kal": "test"}
ACCENTS_PER_SPLIT = {"train": 5, "valid": 1, "test": 2}
VARIANT_FRACTION = {"train": 0.6, "valid": 0.15, "test": 0.25}
#: Probability of real noise for a clip (when the split has real noise), and the weights of
#: the synthetic kinds for the rest.
REAL_NOISE_P = 0.55
SYNTHETIC_WEIGHTS = {"white": 1.0, "pink": 1.5, "brown": 1.0, "speech_shaped": 2.0,
                     "babble": 2.5, "hum": 1.0, "fan": 1.5, "clicks": 1.0}
SECOND_LAYER_P = 0.25


@dataclass(frozen=True)
class Plan:
    """How much of what a size builds."""
    engines: tuple[str, ...]
    download: bool
    train_hours: float | None          # train noisy speech by hours ...
    train_clips: int | None            # ... or by count
    real_fraction: float               # of train and test speech, when real speakers exist
    valid_pairs: int
    test_pairs: int
    train_noise_minutes: float | None
    train_noise_clips: int | None
    targets: dict = field(default_factory=dict)   # split -> engine -> speaker count
    babble_talkers: dict = field(default_factory=dict)
    babble_utts: int = 4
    rirs: dict = field(default_factory=dict)


PLANS = {
    "small": Plan(
        engines=("espeak-ng", "flite"), download=False, train_hours=None, train_clips=40,
        real_fraction=0.5, valid_pairs=10, test_pairs=10, train_noise_minutes=None,
        train_noise_clips=10,
        targets={"train": {"espeak-ng": 3, "flite": 1}, "valid": {"espeak-ng": 2, "flite": 1},
                 "test": {"espeak-ng": 2, "flite": 1}},
        babble_talkers={"train": 3, "valid": 3, "test": 3}, babble_utts=2,
        rirs={"train": 4, "valid": 2, "test": 2}),
    "full": Plan(
        engines=("espeak-ng", "flite", "festival"), download=True, train_hours=2.1,
        train_clips=None, real_fraction=0.5, valid_pairs=150, test_pairs=200,
        train_noise_minutes=45.0, train_noise_clips=None,
        targets={"train": {"espeak-ng": 28, "flite": 8, "festival": 4},
                 "valid": {"espeak-ng": 8, "flite": 3},
                 "test": {"espeak-ng": 8, "flite": 2, "festival": 2}},
        babble_talkers={"train": 16, "valid": 6, "test": 6}, babble_utts=5,
        rirs={"train": 40, "valid": 10, "test": 15}),
}


def build_corpus(out_dir: str | os.PathLike, size: str = "small", seed: int = 0,
                 cache_dir: str | os.PathLike | None = None, progress: bool = True,
                 *, workers: int = 2) -> dict:
    """Build the corpus into `out_dir` and return the summary written to `corpus.json`.

    Same seed, size and package versions give byte-identical wav files and manifests, whatever
    the number of `workers` (processes for synthesis and mixing; the machine has 2 cores).
    `out_dir` is replaced if it holds an earlier corpus (a folder with corpus.json or
    manifests/); any other non-empty folder is refused.
    """
    t0 = time.time()
    if size not in PLANS:
        raise DataError(f"unknown corpus size {size!r}: use one of {', '.join(PLANS)}")
    plan = PLANS[size]
    out = Path(out_dir)
    cache = Path(cache_dir).expanduser() if cache_dir else Path("~/.cache/sepssl").expanduser()
    tts.check_engines(plan.engines)
    _prepare_out(out)

    # ---- sources
    speech_pkgs, noise_pkgs = _fetch_sources(plan, cache)
    banks = {}
    for pkg in speech_pkgs:
        banks[pkg.name] = realspeech.load(pkg, cache)
    real_speakers = {s: [n for n, b in banks.items() if REAL_SPEAKER_SPLIT[n] == s] for s in SPLITS}
    noise_pool = _split_noise(noise_pkgs, seed)

    # ---- speakers
    targets, babblers, voice_split = _make_speakers(plan, seed)

    # ---- stage 1: babble banks and rooms (parallel)
    jobs1 = []
    for s in SPLITS:
        for spk in babblers[s]:
            for k in range(plan.babble_utts):
                jobs1.append(("babble", s, spk, _seed(seed, "babble", spk.id, k)))
        for k in range(plan.rirs[s]):
            jobs1.append(("rir", s, None, _seed(seed, "rir", s, k)))
    babble_bank = {s: [] for s in SPLITS}
    rir_pool = {s: [] for s in SPLITS}
    for (kind, s, spk, _), res in zip(jobs1, _run(_stage1, jobs1, workers, progress,
                                                   "voices/rooms")):
        (babble_bank if kind == "babble" else rir_pool)[s].append(
            (spk.id, res) if kind == "babble" else res)

    # ---- stage 2: the corpus files
    jobs2 = _plan_jobs(plan, seed, targets, real_speakers, noise_pool, rir_pool)
    global _CTX
    _CTX = {"out": out, "cache": cache, "banks": banks, "noise_pool": noise_pool,
            "babble": babble_bank, "rirs": rir_pool,
            "speakers": {sp.id: sp for s in SPLITS for sp in targets[s]}}
    rows = []
    for r in _run(_stage2, jobs2, workers, progress, f"corpus {size}"):
        rows.extend(r)
    _CTX = {}

    summary = _summarise(plan, size, seed, rows, targets, babblers, banks, real_speakers,
                         speech_pkgs, noise_pkgs, noise_pool, rir_pool, voice_split, t0)
    _write_manifests(out, rows)
    (out / "corpus.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


# ============================================================================ preparation

def _prepare_out(out: Path) -> None:
    if out.exists():
        if not out.is_dir():
            raise DataError(f"{out}: exists and is not a folder; choose another output folder")
        if any(out.iterdir()):
            if not ((out / "corpus.json").exists() or (out / "manifests").exists()):
                raise DataError(f"{out}: folder is not empty and holds no corpus; "
                                f"choose an empty or new folder")
            for sub in ("train", "valid", "test", "manifests", "corpus.json"):
                p = out / sub
                shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def _fetch_sources(plan: Plan, cache: Path):
    speech, noises = [], []
    for name in realspeech.PACKAGES:
        pkg = debian.fetch(name, cache, download=plan.download)
        if pkg is not None:
            speech.append(pkg)
    for name in NOISE_PACKAGES:
        pkg = debian.fetch(name, cache, download=plan.download)
        if pkg is not None:
            noises.append(pkg)
    return speech, noises


def _split_noise(pkgs, seed: int) -> dict[str, dict[str, list[noise.NoiseFile]]]:
    """split -> package -> files."""
    pool: dict[str, dict[str, list]] = {s: {} for s in SPLITS}
    for pkg in pkgs:
        files = noise.list_files(pkg)
        if not files:
            continue
        if pkg.name in TEST_ONLY_NOISE:
            pool["test"][pkg.name] = files
            continue
        parts = noise.split_files(files, _rng(seed, "noise-split", pkg.name), NOISE_FILE_SPLIT)
        for s in SPLITS:
            if parts[s]:
                pool[s][pkg.name] = parts[s]
    return pool


def _make_speakers(plan: Plan, seed: int):
    """Target speakers and babble talkers per split, disjoint base voices between splits."""
    rng = _rng(seed, "voices")
    accents = [tts.ESPEAK_ACCENTS[i] for i in rng.permutation(len(tts.ESPEAK_ACCENTS))]
    variants = list(tts.espeak_variants())
    variants = [variants[i] for i in rng.permutation(len(variants))]
    voice_split = {"espeak_accents": {}, "espeak_variants": {}, "persons": {}}
    a0 = v0 = 0
    for s in SPLITS:
        na = ACCENTS_PER_SPLIT[s]
        nv = int(round(VARIANT_FRACTION[s] * len(variants))) if s != "test" \
            else len(variants) - v0
        voice_split["espeak_accents"][s] = accents[a0:a0 + na]
        voice_split["espeak_variants"][s] = variants[v0:v0 + nv]
        a0 += na
        v0 += nv
    for s in SPLITS:
        voice_split["persons"][s] = sorted(p for p, sp in PERSON_SPLIT.items() if sp == s)

    targets, babblers = {}, {}
    for s in SPLITS:
        combos = [(a, v) for a in voice_split["espeak_accents"][s]
                  for v in voice_split["espeak_variants"][s]]
        combos = [combos[i] for i in rng.permutation(len(combos))]
        bases = {"espeak-ng": [("espeak-ng", a, v) for a, v in combos]}
        for eng in ("flite", "festival"):
            vs = [v for (e, v), p in tts.PERSON.items()
                  if e == eng and p in voice_split["persons"][s]]
            bases[eng] = [(eng, v, "") for v in sorted(vs)]
        n_espeak = plan.targets[s].get("espeak-ng", 0)
        want = dict(plan.targets[s])
        spk_list = []
        for eng, n in sorted(want.items()):
            if eng not in plan.engines or not bases.get(eng):
                continue
            for k in range(n):
                e, v, var = bases[eng][k % len(bases[eng])]
                sid = f"{s}-{e}-{v}{'+' + var if var else ''}-{k:02d}"
                spk_list.append(tts.random_speaker(rng, sid, e, v, var))
        targets[s] = spk_list
        # Babble: espeak combos not used by targets, and flite voices with other prosody.
        talkers = []
        spare = bases["espeak-ng"][n_espeak:] or bases["espeak-ng"]
        fl = bases.get("flite", []) if "flite" in plan.engines else []
        for k in range(plan.babble_talkers[s]):
            if fl and k % 4 == 3:
                e, v, var = fl[k % len(fl)]
            else:
                e, v, var = spare[k % len(spare)]
            sid = f"{s}-babble-{e}-{v}{'+' + var if var else ''}-{k:02d}"
            talkers.append(tts.random_speaker(rng, sid, e, v, var))
        babblers[s] = talkers
    return targets, babblers, voice_split


def _plan_jobs(plan: Plan, seed: int, targets, real_speakers, noise_pool, rir_pool) -> list:
    jobs = []
    for s in SPLITS:
        rng = _rng(seed, "jobs", s)
        real = real_speakers[s]
        frac = plan.real_fraction if real else 0.0
        if s == "train":
            count, hours = plan.train_clips, plan.train_hours
        else:
            count, hours = (plan.valid_pairs if s == "valid" else plan.test_pairs), None
        total, i = 0.0, 0
        while (count is not None and i < count) or (hours is not None and total < hours * 3600):
            dur = float(rng.uniform(*SPEECH_SECONDS))
            is_real = bool(rng.random() < frac)
            speaker = real[int(rng.integers(len(real)))] if is_real else \
                targets[s][int(rng.integers(len(targets[s])))].id
            rev = bool(rng.random() < REVERB_FRACTION) and bool(rir_pool[s])
            jobs.append({
                "type": "pair", "split": s, "id": f"{s}-{i:06d}", "seconds": dur,
                "real": is_real, "speaker": speaker,
                "snr": round(float(rng.uniform(*SNR_RANGE)), 2),
                "rir": int(rng.integers(len(rir_pool[s]))) if rev else -1,
                "noise": _draw_noise(rng, noise_pool[s]), "seed": _seed(seed, "pair", s, i)})
            total += dur
            i += 1
    rng = _rng(seed, "jobs", "noise")
    total, i = 0.0, 0
    while ((plan.train_noise_clips is not None and i < plan.train_noise_clips)
           or (plan.train_noise_minutes is not None and total < plan.train_noise_minutes * 60)):
        dur = float(rng.uniform(*NOISE_SECONDS))
        jobs.append({"type": "noise", "split": "train", "id": f"train-noise-{i:06d}",
                     "seconds": dur, "noise": _draw_noise(rng, noise_pool["train"]),
                     "seed": _seed(seed, "noise", i)})
        total += dur
        i += 1
    return jobs


def _draw_noise(rng: np.random.Generator, pool: dict) -> list[tuple[str, str, float]]:
    """Noise layers: (real|synthetic, package or kind, gain dB relative to the first)."""
    layers = []
    for layer in range(2 if rng.random() < SECOND_LAYER_P else 1):
        gain = 0.0 if layer == 0 else float(rng.uniform(-12, -3))
        if pool and rng.random() < REAL_NOISE_P:
            names = sorted(pool)
            w = np.array([_package_weight(pool[n]) for n in names])
            layers.append(("real", names[int(rng.choice(len(names), p=w / w.sum()))], gain))
        else:
            kinds = list(SYNTHETIC_WEIGHTS)
            w = np.array([SYNTHETIC_WEIGHTS[k] for k in kinds])
            layers.append(("synthetic", kinds[int(rng.choice(len(kinds), p=w / w.sum()))], gain))
    return layers


def _package_weight(files: list[noise.NoiseFile]) -> float:
    """How often a real-noise package is drawn: sqrt(file count) x minutes**0.25, so many
    distinct sounds count most, long recordings some, and a package of a few tiny effects
    is not replayed as often as one with an hour of material."""
    minutes = sum(f.seconds for f in files) / 60
    return float(np.sqrt(len(files)) * max(minutes, 1e-3) ** 0.25)


# ============================================================================ workers

_CTX: dict = {}


def _stage1(job):
    kind, split, spk, seed = job
    rng = np.random.default_rng(seed)
    if kind == "babble":
        x = tts.synthesize(spk, text.paragraph(rng, int(rng.integers(10, 20))), rng)
        return premix.fade(x, 160)
    return rooms.random_rir(rng)


def _stage2(job) -> list[dict]:
    rng = np.random.default_rng(job["seed"])
    out: Path = _CTX["out"]
    split = job["split"]
    if job["type"] == "noise":
        n = int(job["seconds"] * SAMPLE_RATE)
        y, names, sources = _noise(job["noise"], n, rng, split)
        y = premix.set_level(y, float(rng.uniform(*SPEECH_DBFS)))
        y = premix.limit_peak([y])[0]
        rel = f"train/noise/{job['id']}.wav"
        audio.write(out / rel, y, SAMPLE_RATE, subtype="PCM_16")
        return [_row(job, "noise", rel, len(y), "", "", names, sources, "", 0)]

    if job["real"]:
        bank = _CTX["banks"][job["speaker"]]
        x = realspeech.clip(bank, job["seconds"], rng)
        speaker, source = f"asterisk:{bank.speaker}", job["speaker"].replace(
            "asterisk-core-sounds-", "asterisk-").replace("-g722", "")
    else:
        spk = _CTX["speakers"][job["speaker"]]
        x = _tts_clip(spk, job["seconds"], rng)
        speaker, source = spk.id, spk.engine
    x = premix.fade(x, 80)
    x = premix.set_level(x, float(rng.uniform(*SPEECH_DBFS)))
    image = rooms.reverberate(x, _CTX["rirs"][split][job["rir"]]) if job["rir"] >= 0 else x
    n, names, sources = _noise(job["noise"], len(x), rng, split)
    noisy = premix.add_at_snr(image, n, job["snr"])
    clean, noisy = premix.limit_peak([x, noisy])
    rows = []
    for kind, wav in (("clean", clean), ("noisy", noisy)):
        rel = f"{split}/{kind}/{job['id']}.wav"
        audio.write(out / rel, wav, SAMPLE_RATE, subtype="PCM_16")
        rows.append(_row(job, kind, rel, len(wav), speaker, source, names, sources,
                         f"{job['snr']:.2f}", int(job["rir"] >= 0)))
    return rows


def _tts_clip(spk: tts.Speaker, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """TTS speech of about `seconds` (at least 2 s), cut at a pause."""
    parts: list[np.ndarray] = []
    total = 0
    for _ in range(4):
        words = int(np.ceil((seconds - total / SAMPLE_RATE) * 2.8 * spk.rate)) + 2
        y = tts.synthesize(spk, text.paragraph(rng, words), rng)
        if parts:
            parts.append(np.zeros(int(rng.uniform(0.15, 0.4) * SAMPLE_RATE), np.float32))
        parts.append(y)
        total = sum(len(p) for p in parts)
        if total >= SPEECH_SECONDS[0] * SAMPLE_RATE:
            break
    x = np.concatenate(parts)
    return premix.cut_at_pause(x, int(seconds * SAMPLE_RATE), SAMPLE_RATE,
                               min_len=int(SPEECH_SECONDS[0] * SAMPLE_RATE))


def _noise(layers, n: int, rng: np.random.Generator, split: str):
    total = np.zeros(n, np.float32)
    names, sources = [], []
    for kind, what, gain in layers:
        if kind == "real":
            y, used = noise.real(_CTX["noise_pool"][split][what], n, rng, _CTX["cache"])
            names.append("+".join(used) if len(used) <= 3 else
                         "+".join(used[:3]) + f"+{len(used) - 3}more")
            sources.append(what)
        else:
            y, desc = noise.synthetic(what, n, rng, _CTX["babble"][split])
            names.append(f"synthetic:{desc[0]}")
            sources.append("synthetic")
        total += y / (premix.rms(y) + 1e-12) * 10 ** (gain / 20)
    return total, " & ".join(names), "+".join(dict.fromkeys(sources))


def _row(job, kind, rel, n, speaker, source, names, sources, snr, rev) -> dict:
    return {"id": job["id"], "split": job["split"], "kind": kind, "path": rel,
            "seconds": f"{n / SAMPLE_RATE:.3f}", "speaker": speaker, "speech_source": source,
            "noise_name": names, "noise_source": sources, "snr_db": snr, "reverberant": rev}


def _run(fn, jobs, workers: int, progress: bool, desc: str):
    from tqdm import tqdm
    bar = tqdm(total=len(jobs), desc=desc, disable=not progress, unit="clip")
    try:
        if workers <= 1:
            for j in jobs:
                yield fn(j)
                bar.update()
            return
        with mp.get_context("fork").Pool(workers, initializer=_init_worker) as pool:
            for r in pool.imap(fn, jobs, chunksize=4):
                yield r
                bar.update()
    finally:
        bar.close()


def _init_worker() -> None:
    import torch
    torch.set_num_threads(1)


# ============================================================================ summary

def _write_manifests(out: Path, rows: list[dict]) -> None:
    (out / "manifests").mkdir(parents=True, exist_ok=True)
    for s in SPLITS:
        sel = sorted((r for r in rows if r["split"] == s), key=lambda r: (r["id"], r["kind"]))
        path = out / "manifests" / f"{s}.csv"
        with open(path.with_suffix(".csv.part"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=MANIFEST_FIELDS)
            w.writeheader()
            w.writerows(sel)
        path.with_suffix(".csv.part").replace(path)


def _summarise(plan, size, seed, rows, targets, babblers, banks, real_speakers, speech_pkgs,
               noise_pkgs, noise_pool, rir_pool, voice_split, t0) -> dict:
    counts = defaultdict(lambda: defaultdict(int))
    hours = defaultdict(lambda: defaultdict(float))
    snr = defaultdict(list)
    speakers = defaultdict(set)
    kinds = defaultdict(lambda: defaultdict(int))
    for r in rows:
        counts[r["split"]][r["kind"]] += 1
        hours[r["split"]][r["kind"]] += float(r["seconds"]) / 3600
        if r["kind"] == "noisy":
            snr[r["split"]].append(float(r["snr_db"]))
            speakers[r["split"]].add(r["speaker"])
            kinds[r["split"]][r["speech_source"]] += 1
    return {
        "seed": seed, "size": size, "sample_rate": SAMPLE_RATE, "format": "wav PCM_16 mono",
        "build_seconds": round(time.time() - t0, 1),
        "python": platform.python_version(),
        "sources": {
            "tts_engines": tts.engine_versions(plan.engines),
            "real_speech_packages": [p.describe() for p in speech_pkgs],
            "real_noise_packages": [p.describe() for p in noise_pkgs],
            "synthetic_noise_kinds": list(SYNTHETIC_WEIGHTS),
            "rooms": "pyroomacoustics shoebox, image source method",
        },
        "counts": {s: dict(counts[s]) for s in SPLITS},
        "hours": {s: {k: round(v, 3) for k, v in hours[s].items()} for s in SPLITS},
        "speech_sources": {s: dict(kinds[s]) for s in SPLITS},
        "speakers": {s: sorted(speakers[s]) for s in SPLITS},
        "speaker_settings": {s: [sp.describe() for sp in targets[s]] for s in SPLITS},
        "babble_talkers": {s: [sp.describe() for sp in babblers[s]] for s in SPLITS},
        "split_rules": {
            "real_speakers": {s: [banks[n].speaker for n in real_speakers[s]] for s in SPLITS},
            "real_speaker_choice": "fr and it (2 voices) train, ru test, none valid: three "
                                   "real voices cannot give every split one and keep train "
                                   "about half real",
            "voices": voice_split,
            "noise_files": {s: {p: len(f) for p, f in noise_pool[s].items()} for s in SPLITS},
            "noise_file_split": NOISE_FILE_SPLIT, "test_only_noise_packages": list(TEST_ONLY_NOISE),
            "rooms_per_split": {s: len(rir_pool[s]) for s in SPLITS},
        },
        "mixing": {
            "snr_db_range": list(SNR_RANGE),
            "snr_db_observed": {s: [min(v), max(v)] for s, v in snr.items() if v},
            "snr_definition": "10 log10 of (possibly reverberant) speech energy over noise "
                              "energy, whole clip",
            "speech_level_dbfs": list(SPEECH_DBFS), "peak_limit": 0.95,
            "reverb_fraction": REVERB_FRACTION, "rt60_range_s": [0.2, 0.8],
            "clean_reference": "dry speech, time-aligned with the direct path of the "
                               "reverberant image, direct-path gain 1",
            "real_noise_probability": REAL_NOISE_P, "synthetic_weights": SYNTHETIC_WEIGHTS,
            "second_layer_probability": SECOND_LAYER_P,
            "speech_seconds": list(SPEECH_SECONDS), "noise_seconds": list(NOISE_SECONDS),
            "rirs": {s: [r.describe() for r in rir_pool[s]] for s in SPLITS},
        },
        "layout": {
            "train": "train/noisy, train/clean (oracle only), train/noise (noise-only clips)",
            "valid": "valid/clean, valid/noisy paired by file name",
            "test": "test/clean, test/noisy paired by file name",
            "manifests": "manifests/<split>.csv: " + ", ".join(MANIFEST_FIELDS),
        },
    }


# ============================================================================ seeds

def _seed(seed: int, *keys) -> int:
    """A 63-bit seed from the corpus seed and any keys (stable across runs and machines)."""
    ss = np.random.SeedSequence([seed] + [zlib.crc32(str(k).encode()) for k in keys])
    return int(ss.generate_state(2, np.uint64)[0] >> np.uint64(1))


def _rng(seed: int, *keys) -> np.random.Generator:
    return np.random.default_rng(_seed(seed, *keys))
