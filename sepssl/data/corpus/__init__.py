"""The offline corpus builder behind `sepssl data`: one seed gives the same files.

Sources (nothing else; the reserved list of DATA.md is never touched):

- TTS speech: espeak-ng (8 English accents x voice variants), flite (awb, kal16, rms, slt),
  festival (cmu_us_slt_arctic_hts, kal_diphone). A *virtual speaker* is engine + voice +
  variant + prosody (pitch, rate, pitch range, post-hoc shift and pitch-contour wobble).
  Sentences come from a small built-in grammar (`sepssl.data.text`).
- Real speech (`sepssl.data.realspeech.SOURCES`): 40 voices, 6.4 h, from ten Debian
  packages: the Asterisk prompt sets (fr, it, ru in G.722; fr Armelle, GSM; it Menardi, wav),
  Fish Fillets NG's Czech and Dutch dialogue (two actors each), Tux Paint's stamp
  descriptions (eight languages, one recorder each), KLettres' letters and syllables
  (15 voices), Kajongg's Mah Jongg calls (8 voices). A voice is one person, by each
  package's own layout.
- Real noise (`sepssl.data.noise.SOURCES`): 19 Debian packages of game sound effects,
  ambience, machines, animals and music, with per-package rules that leave out voices,
  grunts and crowds.
- Synthetic noise: white, pink, brown, speech-shaped, babble of 3-6 held-apart TTS talkers,
  hum, fan, clicks/bursts; up to two layers per clip.
- Rooms: pyroomacoustics shoebox RIRs (RT60 0.2-0.8 s by Sabine) on 30% of the speech.

Splits are speaker-, noise-file- and package-disjoint (`splits`): a real-speech package goes
wholly to one split, three noise packages are heard in test only; each split has its own
rooms. `test_real/` holds the test pairs with real speech (hard links).

A source that is missing (not cached for `small`, or not downloadable) is named on stderr and
in corpus.json's `missing_sources`; the build goes on without it, never silently.

Mixtures: noisy = speech image + noise at an SNR uniform in -5..20 dB, where the speech image
is the (possibly reverberant) speech; the clean file is the dry speech, time-aligned with the
direct path (see `sepssl.data.rooms`). Train noise-only clips are separate random segments of
the train noise pool, 3-10 s.

`small` uses espeak-ng and flite and a few small packages if they are already in the cache
(no download), so it runs offline in seconds and still goes through every code path that the
cache allows; `full` downloads what is missing (about 2.5 GB of .deb) and uses all engines.

Modules: `splits` (who and what goes where), `plan` (sizes, and every file as a seeded job),
`render` (one job to files), `workers` (the process pool), `manifest` (CSV manifests and
corpus.json), `build` (`build_corpus`, which runs them in turn), `seeds`.
"""
from .build import NOISE_PACKAGES, build_corpus
from .manifest import MANIFEST_FIELDS
from .plan import PLANS, SAMPLE_RATE, Plan
from .splits import SPLITS

__all__ = ["build_corpus", "MANIFEST_FIELDS", "NOISE_PACKAGES", "PLANS", "Plan",
           "SAMPLE_RATE", "SPLITS"]
