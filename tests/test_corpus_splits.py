"""The corpus's split rules, on made-up ids: no TTS engine, package or download needed.

Train, valid and test must share no base voice, no real speaker, no noise file, and the
held-out noise package must reach test only; the same seed must give the same split.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sepssl.data import tts
from sepssl.data.corpus import plan, splits
from sepssl.data.noise import NoiseFile
from sepssl.errors import DataError

SPLITS = ("train", "valid", "test")
VARIANTS = tuple(f"v{i:02d}" for i in range(40))


def _speakers(seed: int = 0, size: str = "full", variants=VARIANTS) -> splits.Speakers:
    p = plan.PLANS[size]
    return splits.assign_speakers(seed, tts.ESPEAK_ACCENTS, variants, p.targets,
                                  p.babble_talkers, p.engines)


def _noise_files(package: str, n: int, seed: int = 0) -> list[NoiseFile]:
    rng = np.random.default_rng(seed)
    return [NoiseFile(package, "1.0", f"sounds/{package}-{i:03d}.ogg",
                      Path(f"/nowhere/{package}/{i:03d}.ogg"), round(float(rng.uniform(0.2, 30)), 3))
            for i in range(n)]


def _pool(seed: int = 0) -> dict[str, dict[str, list[NoiseFile]]]:
    files = {"lincity-ng-data": _noise_files("lincity-ng-data", 40, 1),
             "minetest-data": _noise_files("minetest-data", 25, 2),
             "tuxpaint-data": [],
             "frozen-bubble-data": _noise_files("frozen-bubble-data", 12, 3),
             "hydrogen-drumkits": _noise_files("hydrogen-drumkits", 30, 4),
             "qabcs-data": _noise_files("qabcs-data", 5, 5)}
    return splits.split_noise(files, seed)


def _pairs(a: dict, b: dict):
    for s, t in (("train", "valid"), ("train", "test"), ("valid", "test")):
        yield set(a[s]), set(b[t])


@pytest.mark.parametrize("size", ["small", "full"])
def test_base_voices_disjoint(size):
    spk = _speakers(size=size)
    for a, b in _pairs(spk.voices.accents, spk.voices.accents):
        assert not a & b
    for a, b in _pairs(spk.voices.variants, spk.voices.variants):
        assert not a & b
    for a, b in _pairs(spk.voices.persons, spk.voices.persons):
        assert not a & b
    assert set().union(*map(set, spk.voices.variants.values())) == set(VARIANTS)
    for s in SPLITS:
        assert spk.voices.accents[s] and spk.voices.variants[s] and spk.targets[s]
        for sp in spk.targets[s] + spk.babblers[s]:
            assert sp.id.startswith(f"{s}-")
            if sp.engine == "espeak-ng":
                assert sp.voice in spk.voices.accents[s]
                assert sp.variant in spk.voices.variants[s]
            else:
                assert tts.PERSON[sp.engine, sp.voice] in spk.voices.persons[s]


def test_speaker_counts_and_babble_apart():
    p = plan.PLANS["full"]
    spk = _speakers()
    targets = [sp.id for s in SPLITS for sp in spk.targets[s]]
    babble = [sp.id for s in SPLITS for sp in spk.babblers[s]]
    assert len(set(targets)) == len(targets) and len(set(babble)) == len(babble)
    assert not set(targets) & set(babble)
    for s in SPLITS:
        assert len(spk.targets[s]) == sum(n for e, n in p.targets[s].items() if e in p.engines)
        assert len(spk.babblers[s]) == p.babble_talkers[s]
    engines = {sp.engine for sp in spk.targets["valid"]}
    assert "festival" not in engines             # valid's person (awb) has no festival voice


def test_speakers_deterministic():
    assert _speakers(seed=5) == _speakers(seed=5)
    assert _speakers(seed=5).voices != _speakers(seed=6).voices


def test_too_few_variants():
    with pytest.raises(DataError, match="too few"):
        _speakers(variants=VARIANTS[:3])
    assert _speakers(variants=VARIANTS[:4]).voices.variants["valid"]


def test_too_few_accents():
    with pytest.raises(DataError, match="accents, too few"):
        splits.partition_voices(np.random.default_rng(0), tts.ESPEAK_ACCENTS[:7], VARIANTS)


def test_split_without_target_speakers():
    p = plan.PLANS["small"]
    with pytest.raises(DataError, match="no target speakers for the train split"):
        splits.assign_speakers(0, tts.ESPEAK_ACCENTS, VARIANTS, p.targets, p.babble_talkers,
                               ("festival",))


def test_real_speakers():
    voices = {"fr_CA_f_June": "asterisk-core-sounds-fr-g722", "tuxpaint_bg": "tuxpaint-stamps-default",
              "kajongg_en_male1": "kajongg", "klettres_he": "klettres-data",
              "ru_RU_f_IvrvoiceRU": "asterisk-core-sounds-ru-g722"}
    got = splits.split_real_speakers(voices)
    assert got == {"train": ["fr_CA_f_June", "tuxpaint_bg"], "valid": ["kajongg_en_male1"],
                   "test": ["klettres_he", "ru_RU_f_IvrvoiceRU"]}
    assert splits.split_real_speakers({}) == {s: [] for s in SPLITS}
    with pytest.raises(DataError, match="no real-speech rule"):
        splits.split_real_speakers({"x": "asterisk-core-sounds-de-g722"})


def test_speech_sources_package_disjoint_and_allowed():
    from sepssl.data import noise, realspeech
    from sepssl.data.debian import check_allowed

    names = [s.package for s in realspeech.SOURCES]
    assert len(set(names)) == len(names)
    assert {s.split for s in realspeech.SOURCES} == set(SPLITS)   # real speech in every split
    for name in names + list(noise.PACKAGES):
        check_allowed(name)
    assert not set(names) & set(noise.PACKAGES)      # no package is both speech and noise
    assert set(splits.TEST_ONLY_NOISE) <= set(noise.PACKAGES)


@pytest.mark.parametrize("package, rel, voice", [
    ("asterisk-core-sounds-fr-g722", "usr/share/asterisk/sounds/fr_CA_f_June/vm-deleted.g722",
     ("fr_CA_f_June", "fr")),
    ("asterisk-core-sounds-fr-g722", "usr/share/asterisk/sounds/fr_CA_f_June/beep.g722", None),
    ("asterisk-core-sounds-fr-g722", "usr/share/asterisk/sounds/fr_CA_f_June/silence/1.g722", None),
    ("asterisk-prompt-fr-armelle", "usr/share/asterisk/sounds/fr/digits/1.gsm",
     ("fr_FR_f_Armelle", "fr")),
    ("asterisk-prompt-it-menardi-wav", "usr/share/asterisk/sounds/it_IT_f_Menardi/vm-no.wav",
     ("it_IT_f_Menardi", "it")),
    ("fillets-ng-data-cs", "usr/share/games/fillets-ng/sound/city/cs/vit-m-hlava.ogg",
     ("fillets_cs_small", "cs")),
    ("fillets-ng-data-nl", "usr/share/games/fillets-ng/sound/city/nl/vit-v-proc.ogg",
     ("fillets_nl_big", "nl")),
    ("fillets-ng-data-nl", "usr/share/games/fillets-ng/sound/city/nl/vit-pap-x.ogg", None),
    ("tuxpaint-stamps-default", "usr/share/tuxpaint/stamps/animals/cat_desc_bg.ogg",
     ("tuxpaint_bg", "bg")),
    ("tuxpaint-stamps-default", "usr/share/tuxpaint/stamps/symbols/n/1_desc_bg.ogg", None),
    ("tuxpaint-stamps-default", "usr/share/tuxpaint/stamps/animals/cat_desc_fr.ogg", None),
    ("tuxpaint-stamps-default", "usr/share/tuxpaint/stamps/animals/cat.ogg", None),
    ("klettres-data", "usr/share/klettres/de/syllab/ba.ogg", ("klettres_de_syllab", "de")),
    ("klettres-data", "usr/share/klettres/en_GB/alpha/a.ogg", ("klettres_en_GB", "en")),
    ("klettres-data", "usr/share/klettres/nl/alpha/a.ogg", None),
    ("kajongg", "usr/share/kajongg/voices/de/female2/b1.ogg", ("kajongg_de_female2", "de")),
    ("kajongg", "usr/share/kajongg/voices/male1/b1.ogg", ("kajongg_en_male1", "en")),
])
def test_voice_rules(package, rel, voice):
    from sepssl.data import realspeech

    assert realspeech.source(package).voice_of(rel) == voice


@pytest.mark.parametrize("package, rel, wanted", [
    ("tuxpaint-data", "usr/share/tuxpaint/sounds/giggle.wav", False),
    ("tuxpaint-data", "usr/share/tuxpaint/sounds/eraser1.wav", True),
    ("hedgewars-data", "usr/share/games/hedgewars/Data/Sounds/voices/Pirate/Ow.ogg", False),
    ("hedgewars-data", "usr/share/games/hedgewars/Data/Sounds/minigun.ogg", True),
    ("megaglest-data", "usr/share/games/megaglest/techs/megapack/factions/x/die.wav", False),
    ("megaglest-data", "usr/share/games/megaglest/tilesets/forest/sounds/wind.ogg", True),
    ("qabcs-data", "usr/share/qabcs/abcs/all/sounds/cow.ogg", True),
    ("qabcs-data", "usr/share/qabcs/abcs/all/sounds/cheburashka.ogg", False),
    ("qabcs-data", "usr/share/qabcs/abcs/en/sounds/alpha/a.ogg", False),
    ("supertux-data", "usr/share/games/supertux2/sounds/speech/hello.ogg", False),
    ("some-new-package", "a/b.ogg", True),
])
def test_noise_rules(package, rel, wanted):
    from sepssl.data import noise

    assert noise.source(package).wants(rel) is wanted


def test_noise_files_disjoint_and_complete():
    pool = _pool()
    by_split = {s: {f.name for files in pool[s].values() for f in files} for s in SPLITS}
    for a, b in _pairs(by_split, by_split):
        assert not a & b
    for pkg, n in (("lincity-ng-data", 40), ("minetest-data", 25), ("frozen-bubble-data", 12)):
        assert sum(len(pool[s].get(pkg, [])) for s in SPLITS) == n
    assert "tuxpaint-data" not in set().union(*pool.values())   # no files: left out


def test_held_out_noise_package_in_test_only():
    pool = _pool()
    for held_out in splits.TEST_ONLY_NOISE:
        assert held_out in pool["test"]
        assert held_out not in pool["train"] and held_out not in pool["valid"]
    for pkg in ("lincity-ng-data", "minetest-data"):
        assert all(pool[s][pkg] for s in SPLITS)      # enough files: every split gets some


def test_noise_split_deterministic():
    assert _pool(seed=3) == _pool(seed=3)
    assert _pool(seed=3) != _pool(seed=4)


def test_split_by_duration():
    rng = np.random.default_rng(0)
    seconds = [float(s) for s in rng.uniform(1, 5, 300)]
    ids = [f"f{i}" for i in range(300)]
    parts = splits.split_by_duration(ids, seconds, np.random.default_rng(1),
                                     splits.NOISE_FILE_SPLIT)
    assert sorted(sum(parts.values(), [])) == sorted(ids)
    dur = dict(zip(ids, seconds))
    total = sum(seconds)
    for s, share in splits.NOISE_FILE_SPLIT.items():
        assert abs(sum(dur[i] for i in parts[s]) / total - share) < 0.02
    few = splits.split_by_duration(["a", "b"], [1.0, 2.0], np.random.default_rng(0),
                                   splits.NOISE_FILE_SPLIT)
    assert sorted(sum(few.values(), [])) == ["a", "b"]
    with pytest.raises(ValueError):
        splits.split_by_duration(["a"], [1.0, 2.0], np.random.default_rng(0), {"train": 1.0})


def test_jobs_stay_in_their_split():
    p = plan.PLANS["small"]
    spk = _speakers(size="small")
    pool = _pool()
    targets = {s: [sp.id for sp in spk.targets[s]] for s in SPLITS}
    real = {"train": {"a": 600.0, "b": 60.0}, "valid": {}, "test": {"c": 100.0}}
    jobs = plan.plan_jobs(p, 0, targets, real, pool, p.rirs)
    assert jobs == plan.plan_jobs(p, 0, targets, real, pool, p.rirs)
    assert len({j.id for j in jobs}) == len(jobs)
    for j in jobs:
        for layer in j.noise:
            if layer.kind == "real":
                assert layer.what in pool[j.split]
        if isinstance(j, plan.PairJob):
            assert j.speaker in (real[j.split] if j.real else targets[j.split])
            assert -1 <= j.rir < p.rirs[j.split]
    assert not any(j.real for j in jobs if j.split == "valid")
    assert {j.speaker for j in jobs
            if isinstance(j, plan.PairJob) and j.real and j.split == "train"} == {"a", "b"}


def test_real_voices_drawn_by_square_root_of_their_seconds():
    p = plan.Plan(engines=("espeak-ng",), download=False, train_hours=None, train_clips=4000,
                  real_fraction=1.0, valid_pairs=0, test_pairs=0, train_noise_minutes=None,
                  train_noise_clips=0)
    real = {"train": {"long": 3600.0, "short": 36.0}, "valid": {}, "test": {}}
    jobs = plan.plan_jobs(p, 0, {s: ["t"] for s in SPLITS}, real, {s: {} for s in SPLITS},
                          {s: 0 for s in SPLITS})
    share = np.mean([j.speaker == "long" for j in jobs])
    assert abs(share - 10 / 11) < 0.02          # sqrt(3600) : sqrt(36) = 10 : 1


@pytest.mark.parametrize("name", ["asterisk-core-sounds-en-gsm", "asterisk-core-sounds-es-g722",
                                  "asterisk-moh-opsound-wav", "openttd-opensfx",
                                  "pocketsphinx-testdata", "codec2-examples", "linphone-common",
                                  "alsa-utils", "sound-theme-freedesktop", "asterisk-prompt-es-co"])
def test_every_reserved_package_of_data_md_is_refused(name):
    from sepssl.data.debian import check_allowed

    with pytest.raises(DataError, match="reserved"):
        check_allowed(name)
