"""`sepssl adapt`: the user's noisy recordings in, a better enhancer and enhanced files out.

No clean speech and no noise-only clips: a teacher (`sepssl.teachers`: the shipped model, any
sepssl model file, DeepFilterNet3, RNNoise, or the mean of several, e.g. DeepFilterNet3 and the
student) splits every recording into a speech estimate ŝ and a noise estimate n̂ = y − ŝ, once;
a fast sepssl student, started from its trained weights, then learns for a wall-time budget
through the same trainer as `sepssl train`. The teacher by default (`auto`) is the best on the
check below among the installed external teachers, alone and joined with the student. What
the student learns is the method (`METHODS`; by default `distill`, or `remixit` when the
student teaches itself: `default_method`):

- `remixit`: undo remixes ŝ_i + n̂_j of those estimates (task `teacher_remix`, RemixIT with a
  frozen teacher);
- `distill`: give back ŝ_i from the recording itself, nothing remixed (task
  `teacher_distill`): the student learns the teacher's output on exactly what it will enhance;
- `mined_remix`: the same, with noise mined from the recordings' pauses (where the teacher
  finds no speech, `dsp.activity`) instead of n̂, which also holds whatever speech the teacher
  removed;
- `noisy_target`: the recordings themselves plus noise mined from their pauses, back to the
  recordings (task `noisy_target`): the teacher only finds the pauses.

Two guards, neither needs clean speech; a fifth of the recordings' segments (`guard_share`) is
held back from training for them:

- agreement with the teacher: the held-back segments remixed the same way (ŝ_i + n̂_j, fixed);
  the trainer keeps the checkpoint that reconstructs their ŝ best (SI-SDR), and it must do that
  better than the starting student (not with `distill` when there is a check: a distilled
  student reproduces the teacher on its recordings, not on remixes, and the check decides).
  It protects against drifting from, or over-fitting, what the teacher knows; it cannot see
  the teacher's own errors, which the student learns too. (With `noisy_target` the remixes are
  recording + mined noise, the target the recording: a model trained to remove all noise
  scores low at giving back noise, so this guard rarely stops it.)
- the check of clean stretches (`sepssl.domain_check`), which trusts no teacher: the cleanest
  held-back segments (SNR estimated from their pauses, found by the shipped default) with
  noise mined from the other held-back segments' pauses added at the recordings' own SNRs; the
  adapted student must lose neither STOI nor SI-SDR there against the starting one. The
  teacher is scored on it too, before training (`teacher_passes`: joined with the student it
  must not lose STOI there, alone neither STOI nor SI-SDR), and one that does not pass is
  warned about. Where the held-back segments have too few pauses for it, only the first guard
  stands (and `adapt` says so).

A refused student is saved beside the model file (`*.refused.pt`), for a user who wants it.

Then every input is enhanced with `enhance`'s rules (layout, atomic writes, per-file errors):
by the teacher when it passed the check (`outputs_from`), else by the kept model;
and the kept model is saved as a model file `sepssl enhance --model` takes.
"""
from __future__ import annotations

import logging
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import lightning as L
import torch

from . import audio, losses
from .domain_check import CheckSet, check_scores, clean_stretch_pairs, worth_holding_back
from .dsp import activity, mixing
from .enhance import EnhanceReport, collect_inputs, enhance_paths
from .errors import ConfigError, SepsslError
from .teachers import AUTO, JOIN, check_teacher, installed_external, load_teacher

log = logging.getLogger("sepssl")

MIN_SECONDS = 30.0        # less audio than this cannot teach a student anything reliable
SEGMENT_SECONDS = 4.0     # recordings are cut into segments for training and the guard
MIN_MINED_SECONDS = 5.0   # mined noise below this is too little to remix with
MIN_NOISE_SECONDS = 0.25  # a segment's mined noise shorter than this is not used
FADE_SECONDS = 0.005      # crossfade between joined stretches of mined noise
MIN_CHECK_PAIRS = 6       # fewer mixtures than this make no check of clean stretches
PATIENCE_CHECKS = 4       # guard checks (every `val_every_steps`) without a gain before stopping
METHODS = ("remixit", "distill", "mined_remix", "noisy_target")
OUTPUTS = ("auto", "student", "teacher")   # whose estimates of the recordings `adapt` writes
# The attenuation limit of the teacher's estimates when they are the files (`--atten-lim-db
# model`). Chosen on the adapt halves of corpus v2's five domains (their clean references kept
# for it, never scored): for the mean of DeepFilterNet3 and the default, 30 dB gave the best
# mean PESQ without losing mean STOI against the student's 20 dB. On the scored halves it gained
# +0.068 PESQ on long recordings with pauses, was level elsewhere, and lost up to 0.003 STOI
# (`metrics/adapt_limit/README.md`).
TEACHER_LIMIT_DB = 30.0


@dataclass
class AdaptReport:
    """What `adapt` did: the model file, the enhanced files, the time spent, the guard."""

    model_path: Path | None = None
    enhanced: EnhanceReport = field(default_factory=EnhanceReport)
    skipped: list[tuple[str, str]] = field(default_factory=list)   # unreadable inputs
    seconds_of_audio: float = 0.0
    teacher_seconds: float = 0.0
    mined_seconds: float = float("nan")   # noise mined from pauses (mined methods)
    train_seconds: float = 0.0
    steps: int = 0
    selected_step: int | None = None   # the step of the checkpoint kept
    stopped_early: bool = False        # the guard stopped gaining before the budget ran out
    guard_before_db: float = float("nan")
    guard_after_db: float = float("nan")
    check_pairs: int = 0                # the check of held-back clean stretches (none: 0)
    check_before: dict = field(default_factory=dict)    # {"stoi", "si_sdr"}: the student
    check_after: dict = field(default_factory=dict)     # ... the adapted student
    check_teacher: dict = field(default_factory=dict)   # ... the teacher
    teacher: str = ""                  # the teacher used (`--teacher auto`: the one chosen)
    method: str = ""                   # what the student learned (`METHODS`)
    kept: str = ""                     # "adapted" or "student"
    outputs: str = "student"           # whose estimates the enhanced files are (`OUTPUTS`)
    not_adapted: str = ""              # why nothing was trained (no teacher, no time), if so
    refused_path: Path | None = None   # the adapted student, when it was not kept

    @property
    def ok(self) -> bool:
        return not self.skipped and self.enhanced.ok

    def summary(self) -> str:
        written = ("; the enhanced files are the teacher's estimates"
                   if self.outputs == "teacher" else "")
        if self.not_adapted:
            return (f"did not adapt on {self.seconds_of_audio:.0f} s of audio: "
                    f"{self.not_adapted}; kept the student model ({self.model_path}){written}")
        mined = ("" if math.isnan(self.mined_seconds)
                 else f", {self.mined_seconds:.0f} s of noise mined")
        check = "" if not self.check_pairs else (
            f"; check ({self.check_pairs} mixtures) STOI {self.check_before['stoi']:.3f} → "
            f"{self.check_after['stoi']:.3f}, SI-SDR {self.check_before['si_sdr']:.2f} → "
            f"{self.check_after['si_sdr']:.2f} dB")
        stopped = (f" (stopped early: no gain on the guard after step {self.selected_step})"
                   if self.stopped_early else "")
        return (f"adapted ({self.method} from {self.teacher}) on "
                f"{self.seconds_of_audio:.0f} s of audio{mined}: "
                f"teacher {self.teacher_seconds:.0f} s, student {self.steps} steps in "
                f"{self.train_seconds / 60:.1f} min{stopped}; guard SI-SDR "
                f"{self.guard_before_db:.2f} → {self.guard_after_db:.2f} dB{check}, kept the "
                f"{self.kept} model "
                f"({self.model_path}){written}")


def resolve_device(device: str) -> str:
    """"auto" → "cuda" when a GPU is there, else "cpu"; anything else as given."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def read_recordings(inputs: list[str], rate: int, out_dir: Path,
                    say: Callable[[str], None]) -> tuple[list[tuple[Path, torch.Tensor]],
                                                         list[tuple[str, str]]]:
    """The inputs as mono `(time,)` tensors at `rate`, and (input, reason) for those that fail.
    Files inside `out_dir` are never inputs (a second run must not adapt on its own outputs)."""
    jobs, errors = collect_inputs(inputs)
    out = out_dir.resolve()
    recordings = []
    for src, _ in jobs:
        if out in src.resolve().parents:
            continue
        try:
            wav, _ = audio.read(src, rate)
            recordings.append((src, wav.mean(0)))
        except SepsslError as exc:
            errors.append((str(src), str(exc)))
    for _, reason in errors:
        say(f"error: {reason}")
    return recordings, errors


def segments(wav: torch.Tensor, length: int) -> list[torch.Tensor]:
    """Cut `(time,)` into pieces of `length` samples; a last piece under half is merged."""
    n = max(1, round(wav.shape[-1] / length))
    bounds = [round(i * wav.shape[-1] / n) for i in range(n + 1)]
    return [wav[a:b] for a, b in zip(bounds, bounds[1:])]


def training_pairs(recording: torch.Tensor, speech: torch.Tensor, rate: int,
                   method: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """One recording `(time,)` and the teacher's speech estimate of it, as (target, noise)
    pairs of `SEGMENT_SECONDS` segments for `method` (see the module docstring). A mined noise
    part holds the segment's speech-free stretches joined, and may be empty."""
    length = int(SEGMENT_SECONDS * rate)
    targets = segments(recording if method == "noisy_target" else speech, length)
    if method in ("remixit", "distill"):
        return [(s, y - s) for s, y in zip(targets, segments(recording, length))]
    free = activity.speech_free(recording, speech, rate)
    fade = round(FADE_SECONDS * rate)
    return [(t, activity.join_stretches(y, f, fade))
            for t, y, f in zip(targets, segments(recording, length), segments(free, length))]


def write_sets(pairs: list[tuple[torch.Tensor, torch.Tensor]], root: Path, rate: int,
               guard_share: float, seed: int, mined: bool = False, first: list[int] = (),
               remixed_guard: bool = True) -> tuple[list[int], float]:
    """Write (target, noise) pairs of segments as the training set (`train/speech`,
    `train/noise`) and the guard (`guard/noisy` = target_i + noise of other held-back
    segments, `guard/clean` = target_i), disjoint in segments.

    Args:
        pairs: (target, noise) per segment, from `training_pairs`.
        root: the folder to write into.
        rate: their sample rate.
        guard_share: the share of segments held back (at least one, and one left to train).
        seed: seeds the choice of the held-back segments.
        first: segments held back before any drawn at random, and never trained on (the
            check's; with `mined`, those without mined noise are held back but not remixed).
        mined: the noise parts were mined from pauses (`mined_remix`, `noisy_target`): a part
            under `MIN_NOISE_SECONDS` is left out, the guard is drawn from segments with one
            (at least two; each is remixed with the others' noise), and the training parts
            are pooled and cut into segments again, so that short pieces are not repeated to
            fill a crop. Otherwise (`remixit`, `distill`) each noise part is the segment's
            residual and guard_i = target_i + noise_(i+1), cut to the shorter.
        remixed_guard: False (`distill`): guard_i = target_i + noise_i, the held-back
            recording itself, so the checkpoint is chosen by what distillation learns (the
            teacher's estimate of recordings it did not train on), not by remixes it never
            learns (+0.0024 STOI on conversations, `metrics/adapt_auto/README.md`).
    Returns:
        The indices of the held-back segments (in `pairs`), and the seconds of noise in the
        training set.
    Raises:
        ConfigError: mined, and less than `MIN_MINED_SECONDS` of noise is left to train on.
    """
    drawn = torch.randperm(len(pairs), generator=torch.Generator().manual_seed(seed)).tolist()
    order = list(first) + [k for k in drawn if k not in set(first)]

    def too_few(seconds: float) -> ConfigError:
        return ConfigError(
            f"the teacher found only {seconds:.1f} s without speech in the recordings to train "
            f"on (at least {MIN_MINED_SECONDS:.0f} s are needed to mine noise from); use "
            "--method remixit")

    with_noise = [k for k in order if pairs[k][1].shape[-1] >= MIN_NOISE_SECONDS * rate]
    if mined:
        if len(with_noise) < 3:   # two to hold back (each remixed with another's), one to train
            raise too_few(sum(pairs[k][1].shape[-1] for k in with_noise) / rate)
        n_guard = min(len(with_noise) - 1, max(2, round(guard_share * len(with_noise))))
        guard = with_noise[:n_guard]
    else:
        n_guard = min(len(pairs) - 1, max(1, round(guard_share * len(pairs))))
        guard = order[:n_guard]
    held = set(guard) | set(first)     # the check's segments never train, remixed or not
    train = [k for k in order if k not in held]
    for k in train:
        audio.write(root / "train" / "speech" / f"{k:05d}.wav", pairs[k][0], rate, subtype="FLOAT")
    if mined:
        pool = [pairs[k][1] for k in with_noise if k not in held]
        noise_seconds = sum(n.shape[-1] for n in pool) / rate
        if noise_seconds < MIN_MINED_SECONDS:
            raise too_few(noise_seconds)
        noises = segments(torch.cat(pool), int(SEGMENT_SECONDS * rate))
        names = [f"pooled{i:05d}" for i in range(len(noises))]
    else:
        noises, names = [pairs[k][1] for k in train], [f"{k:05d}" for k in train]
        noise_seconds = sum(n.shape[-1] for n in noises) / rate
    for name, noise in zip(names, noises):
        audio.write(root / "train" / "noise" / f"{name}.wav", noise, rate, subtype="FLOAT")
    for i, k in enumerate(guard):
        target = pairs[k][0]
        if mined:   # the other held-back segments' noise, the next first, repeated to length
            others = torch.cat([pairs[j][1] for j in guard[i + 1:] + guard[:i]])
            noise = others.repeat(target.shape[-1] // others.shape[-1] + 1)
        else:
            noise = pairs[guard[(i + 1) % len(guard)] if remixed_guard else k][1]
        n = target.shape[-1] if mined else min(target.shape[-1], noise.shape[-1])
        audio.write(root / "guard" / "noisy" / f"{k:05d}.wav", target[:n] + noise[:n], rate,
                    subtype="FLOAT")
        audio.write(root / "guard" / "clean" / f"{k:05d}.wav", target[:n], rate, subtype="FLOAT")
    return guard, noise_seconds


@torch.no_grad()
def guard_score(model, root: Path) -> float:
    """Mean SI-SDR (dB) of `model` on the guard set: how well it gives back the teacher's
    speech from remixes it did not train on (the same score training selects by)."""
    from .data.datasets import PairedFiles

    device = next(model.parameters()).device
    scores = []
    for noisy, clean in PairedFiles(root / "guard", model.sample_rate):
        est = model.eval()(noisy[None].to(device))
        scores.append(float(losses.si_sdr(est, clean.to(device))[0]))
    return sum(scores) / len(scores)


def as_enhancer(model) -> Callable[[torch.Tensor, int], torch.Tensor]:
    """A sepssl model as a teacher-like `enhance(wav (time,), rate) -> (time,)`, chunked as
    `sepssl enhance` runs it, with its own attenuation limit (what the user will hear)."""
    from .enhance import enhance_signal

    @torch.no_grad()
    def enhance(wav: torch.Tensor, rate: int) -> torch.Tensor:
        device = next(model.parameters()).device
        return enhance_signal(model.eval(), wav[None].to(device), rate)[0].cpu()
    return enhance


def pauses_found(segments: list[torch.Tensor], rate: int, device: str = "cpu",
                 progress: bool = False) -> list[torch.Tensor]:
    """The shipped `default`'s speech estimates (no limit) of `segments`, which say where their
    pauses are, whatever the student and the teacher: trained to remove all noise, it is near
    silent where nobody speaks. (A student trained to keep noise, like v1 or `noclean`, finds no
    pauses; DeepFilterNet3 finds pauses inside speech, and the SNRs estimated from them were
    10–20 dB low: `metrics/adapt_guard/README.md`.) A segment of digital silence is its own
    estimate (it has no pause to mine: nothing to measure a noise by)."""
    from tqdm import tqdm

    from .teachers.model import ModelTeacher

    finder = ModelTeacher("default", device)      # the shipped model without its limit
    return [finder.enhance(y, rate).cpu() if bool(y.any()) else y
            for y in tqdm(segments, desc="finding pauses", unit="segment", disable=not progress,
                          dynamic_ncols=True)]


def split_for_check(recordings: list[torch.Tensor], rate: int, guard_share: float, seed: int,
                    device: str = "cpu", progress: bool = False
                    ) -> tuple[list[torch.Tensor], list[torch.Tensor], list[int]]:
    """The recordings `(time,)` cut into `SEGMENT_SECONDS` segments, the shipped default's
    speech estimates of them (`pauses_found`), and the segments to hold back first for the
    check (`worth_holding_back`, a `guard_share` of them)."""
    noisy = [seg for wav in recordings for seg in segments(wav, int(SEGMENT_SECONDS * rate))]
    found = pauses_found(noisy, rate, device, progress)
    return noisy, found, worth_holding_back(noisy, found, rate, round(guard_share * len(noisy)),
                                            seed)


def held_back_check(student, held: list[torch.Tensor], found: list[torch.Tensor], rate: int,
                    seed: int, report: AdaptReport, say: Callable[[str], None]
                    ) -> CheckSet | None:
    """The check of `sepssl.domain_check` on the segments `held` (to be held back from
    training), their pauses told by `found` (`pauses_found`), with the student's score on it.
    None (and a message) when the segments have too few pauses to build it."""
    check = clean_stretch_pairs(held, found, rate, seed=seed)
    if len(check.pairs) < MIN_CHECK_PAIRS:
        say(f"note: the held-back recordings have too few pauses for the check of clean "
            f"stretches ({len(check.pairs)} mixtures, {MIN_CHECK_PAIRS} needed); only agreement "
            "with the teacher guards the result, which cannot see the teacher's own errors")
        return None
    before = check_scores(as_enhancer(student), check, rate)
    if not all(math.isfinite(v) for v in before.values()):
        say(f"note: the check of clean stretches could not be scored ({before}); only agreement "
            "with the teacher guards the result")
        return None
    report.check_pairs, report.check_before = len(check.pairs), before
    return check


def auto_candidates(student: str, device: str) -> dict[str, Callable[[], object]]:
    """What `--teacher auto` chooses among, by name, each with its loader: the student joined
    with each installed external teacher (their mean, e.g. "dfn3+default"), then each external
    teacher alone. The mean beat the shipped default on every domain measured, where
    DeepFilterNet3 alone often did not (`metrics/adapt_ensemble/README.md`)."""
    from .teachers.ensemble import Ensemble

    external = installed_external()
    joined = {f"{name}{JOIN}{student}": lambda name=name: Ensemble(
        [load_teacher(name, device), load_teacher(student, device)]) for name in external}
    return joined | {name: lambda name=name: load_teacher(name, device) for name in external}


def heard_as_student(teach, limit_db: float | None) -> Callable:
    """The teacher's estimate with the student's attenuation limit: what a student that learned
    it would output. The check leans towards output that keeps a little noise (its references
    are recordings, noise and all), so a teacher scored without the student's limit loses
    there to a student it beats against clean speech (`metrics/adapt_ensemble/README.md`)."""
    def enhance(wav: torch.Tensor, rate: int) -> torch.Tensor:
        return mixing.limit_attenuation(teach.enhance(wav, rate), wav, limit_db)
    return enhance


def choose_teacher(spec: str, device: str, check: CheckSet | None, rate: int,
                   report: AdaptReport, say: Callable[[str], None], student: str = "",
                   limit_db: float | None = None) -> tuple[str, object | None]:
    """The teacher `spec` names, scored on the check with the student's limit `limit_db`
    (`heard_as_student`) and warned about when it does not pass (`teacher_passes`; unless it is
    the student itself); for `auto`, the candidate (`auto_candidates`) with the best STOI there
    among those that pass, or None when none does (adapting to it cannot help) — the first
    installed external teacher joined with the student when there is no check, the student
    itself when no external teacher is installed.

    Returns:
        The chosen teacher's spec and the teacher (None: do not adapt).
    """
    b = report.check_before
    if spec == AUTO and not installed_external():
        say("note: --teacher auto: no external teacher is installed, so the student teaches "
            "itself, which gains little; `pip install 'sepssl[teachers]'` adds DeepFilterNet3, "
            "whose mean with the student is a better teacher in every domain measured "
            "(metrics/adapt_ensemble/README.md)")
        spec = student
    if spec != AUTO:
        teach = load_teacher(spec, device)
        if check is not None and spec != student:
            t = report.check_teacher = check_scores(heard_as_student(teach, limit_db), check,
                                                    rate)
            if not teacher_passes(spec, t, b, student):
                say(f"warning: on your recordings' clean stretches with their own noise added, "
                    f"the teacher {teach.name} scores below the student (STOI {t['stoi']:.3f} vs "
                    f"{b['stoi']:.3f}, SI-SDR {t['si_sdr']:.2f} vs {b['si_sdr']:.2f} dB): "
                    "adapting to it is unlikely to help (the check decides at the end); try "
                    "another --teacher, or --teacher auto")
        return spec, teach
    candidates = auto_candidates(student, device)
    if check is None:
        name = next(iter(candidates))
        say(f"note: --teacher auto: no check to choose by; using {name}")
        return name, candidates[name]()
    scored = {}
    for name, load in candidates.items():
        teach = load()
        scored[name] = (check_scores(heard_as_student(teach, limit_db), check, rate), teach)
    def rank(name: str) -> tuple[float, ...]:   # a score that is NaN ranks last
        return tuple(v if math.isfinite(v) else -math.inf for v in
                     (scored[name][0]["stoi"], scored[name][0]["si_sdr"]))
    eligible = [n for n in scored if teacher_passes(n, scored[n][0], b, student)]
    best = max(eligible or scored, key=rank)
    report.check_teacher = scored[best][0]
    listing = ", ".join(f"{n} {s['stoi']:.3f} / {s['si_sdr']:.2f} dB"
                        for n, (s, _) in scored.items())
    if not eligible:
        say(f"--teacher auto: no teacher passes on your recordings' clean stretches with their "
            f"own noise added (joined with the student it must not lose STOI there, alone "
            f"neither STOI nor SI-SDR; student {b['stoi']:.3f} / {b['si_sdr']:.2f} dB, "
            f"{listing}), so the student enhances as it is")
        return best, None
    say(f"--teacher auto: {best} (STOI / SI-SDR on the check: student {b['stoi']:.3f} / "
        f"{b['si_sdr']:.2f} dB, {listing})")
    return best, scored[best][1]


def beats(scores: dict[str, float], student: dict[str, float]) -> bool:
    """Whether check scores lose neither STOI nor SI-SDR to the student's: what an adapted
    student must show to be kept (`refusal`), and a teacher not joined with the student to
    teach (`teacher_passes`). Ranked by STOI alone, `auto` chose DeepFilterNet3 alone on unseen
    noise, whose check SI-SDR is 1.9–8.9 dB below the default's on every domain measured
    (`metrics/adapt_ensemble/check.md`)."""
    return scores["stoi"] >= student["stoi"] and scores["si_sdr"] >= student["si_sdr"]


def teacher_passes(name: str, scores: dict[str, float], student_scores: dict[str, float],
                   student: str) -> bool:
    """Whether the teacher `name` may teach (`auto`) and write the files (`--outputs auto`): a
    teacher joined with the student (their mean) must not lose STOI to the student on the check;
    any other must `beat` it (STOI and SI-SDR). The check's STOI agreed with the truth for the
    mean of DeepFilterNet3 and the default in all five domains, its SI-SDR put that mean up to
    1.6 dB below the student where clean speech put it level or above (band-limited and
    reverberant speech, whose references keep what the teacher removes), and on the domains'
    adapt halves it made the mean ineligible in four of five, in all of which the mean beat
    the default on STOI against clean speech (`metrics/adapt_limit/`); a teacher alone, by STOI
    only, would have been DeepFilterNet3 on unseen noise, 2 dB below the student on the check's
    SI-SDR and below it on STOI against clean speech."""
    if name != student and student in name.split(JOIN):
        return scores["stoi"] >= student_scores["stoi"]    # NaN fails
    return beats(scores, student_scores)


def outputs_from(outputs: str, report: AdaptReport, student: str) -> str:
    """Whose estimates `adapt` writes: as asked, or for "auto" the teacher's when it is not
    the student and passes the check (`teacher_passes`), else the kept model's. On the
    recordings it adapted on, `auto` chose the mean of DeepFilterNet3 and the default in all
    five of corpus v2's domains; its files (`TEACHER_LIMIT_DB`) beat the unadapted default's on
    PESQ and STOI in all five, and every student ended below it on STOI (`metrics/adapt.md`)."""
    if outputs != "auto":
        return outputs
    teacher_won = (report.teacher != student and bool(report.check_teacher)
                   and teacher_passes(report.teacher, report.check_teacher, report.check_before,
                                      student))
    return "teacher" if teacher_won else "student"


def default_method(teacher: str, student: str) -> str:
    """What the student learns when `--method` is not given: `distill` from any teacher but
    itself (on the recordings it adapted on it did no harm that `adapt` kept, and on others it
    kept STOI where `remixit` lost 0.006: `metrics/adapt_ensemble/README.md`); `remixit` from
    itself, which distillation would only copy."""
    return "remixit" if teacher == student else "distill"


def refusal(report: AdaptReport, method: str = "remixit") -> str | None:
    """Why the adapted student is not kept, or None: it must beat the starting student at
    giving back the teacher's speech (the guard), and on the check of clean stretches (when
    there is one) lose neither STOI nor SI-SDR. With `distill` and a check, the check alone
    decides: a student distilled on the recordings reproduces the teacher on them, not on
    held-back remixes, and that guard refused three of five distilled students, two of which
    gained on every metric on their recordings (`metrics/adapt_ensemble/README.md`)."""
    agreement_decides = method != "distill" or not report.check_pairs
    if agreement_decides and not report.guard_after_db > report.guard_before_db:
        return (f"the adapted student did not beat the one it started from at giving back the "
                f"teacher's speech on the held-back segments ({report.guard_after_db:.2f} vs "
                f"{report.guard_before_db:.2f} dB SI-SDR)")
    if report.check_pairs:
        b, a = report.check_before, report.check_after
        if not beats(a, b):   # NaN refuses
            return (f"the adapted student is worse than the one it started from on clean "
                    f"stretches of the held-back recordings with their own noise added (STOI "
                    f"{b['stoi']:.3f} → {a['stoi']:.3f}, SI-SDR {b['si_sdr']:.2f} → "
                    f"{a['si_sdr']:.2f} dB)")
    return None


class BudgetBar(L.Callback):
    """A progress bar over the time budget, with the step and the guard score so far."""

    def __init__(self, seconds: float, enabled: bool):
        self.seconds, self.enabled = seconds, enabled

    def on_train_start(self, trainer, module):
        from tqdm import tqdm

        self.start = time.time()
        self.bar = tqdm(total=round(self.seconds), unit="s", desc="adapting",
                        disable=not self.enabled, dynamic_ncols=True,
                        bar_format="{desc}: {bar}| {n:.0f}/{total:.0f} s [{remaining} left{postfix}]")

    def on_train_batch_end(self, trainer, *_):
        self.bar.n = min(self.bar.total, round(time.time() - self.start))
        score = trainer.callback_metrics.get("val/si_sdr")
        self.bar.set_postfix_str(f"step {trainer.global_step}" + (
            f", guard {float(score):.2f} dB" if score is not None else ""))

    def on_train_end(self, trainer, module):
        self.bar.close()


def adapt(inputs: list[str], out_dir: str | os.PathLike, *, teacher: str = AUTO,
          student: str = "default", method: str | None = None, minutes: float = 10.0,
          device: str = "auto",
          save_model: str | os.PathLike | None = None, max_steps: int | None = None,
          lr: float = 3e-4, batch_size: int = 16, guard_share: float = 0.2,
          remix_snr_db: tuple[float, float] | None = None,
          val_every_steps: int = 50, atten_lim_db: float | str | None = "model",
          outputs: str = "auto", seed: int = 0,
          progress: bool = True, say: Callable[[str], None] = log.warning) -> AdaptReport:
    """Adapt a student to the recordings, then enhance them with it.

    Args:
        inputs: files, folders and globs, as `sepssl enhance` takes them.
        out_dir: where the enhanced files go (the inputs' layout below it).
        teacher: "default", "noclean", "dfn3", "rnnoise", a sepssl model file, several of
            them joined by "+" (the mean of their estimates), or "auto" (the candidate of
            `auto_candidates` that scores best on the check; none, and no adapting, when none
            passes there, `teacher_passes`; the student itself when no external teacher is
            installed).
        student: "default", "noclean" or a one-output sepssl model file to start from.
        method: what the student learns (`METHODS`, the module docstring): "remixit",
            "distill", "mined_remix" or "noisy_target"; None: `default_method` of the teacher
            chosen ("remixit" with `remix_snr_db`).
        minutes: wall-time budget for finding pauses, the check, the teacher pass and the
            adaptation together.
        device: "auto", "cpu", "cuda" or "cuda:N".
        save_model: the adapted model file (default: `out_dir/adapted_model.pt`).
        max_steps: stop after this many steps even within the budget (for tests).
        lr, batch_size, val_every_steps: the student's training settings.
        remix_snr_db: remix each speech estimate with another noise estimate at an SNR drawn
            from this range (None: at the noise estimate's own level, as RemixIT).
        guard_share: share of the segments held back for the two guards.
        atten_lim_db: as `sepssl enhance --atten-lim-db` ("model": the student's own setting,
            which the adapted model keeps, or `TEACHER_LIMIT_DB` for the teacher's files).
        outputs: "student" (the enhanced files are the kept model's), "teacher" (the
            teacher's estimates, limited as `atten_lim_db` says; the model file is still the
            student, for other recordings) or "auto" (`outputs_from`).
        seed: seeds the split, the training and the mixing.
        progress: show progress bars.
        say: where one-line messages go.
    Returns:
        An `AdaptReport`.
    Raises:
        ConfigError: a bad budget, an unknown method or teacher, a teacher whose extra is
            missing, too little audio (raised before anything heavy runs); too few pauses to
            mine noise from (after the teacher's pass).
    """
    from .config import load_config
    from .models.enhancer import load_model
    from .train import train

    if not (minutes > 0 and math.isfinite(minutes)):
        raise ConfigError(f"--minutes: {minutes} — give a positive budget, e.g. --minutes 10")
    if method is None and remix_snr_db is not None:
        method = "remixit"
    if method is not None and method not in METHODS:
        raise ConfigError(f"--method {method}: unknown; choose one of {', '.join(METHODS)}")
    if outputs not in OUTPUTS:
        raise ConfigError(f"--outputs {outputs}: unknown; choose one of {', '.join(OUTPUTS)}")
    check_teacher(teacher)
    started = time.time()
    device = resolve_device(device)
    out_dir = Path(out_dir)
    start_model = load_model(student, device="cpu")
    if start_model.n_outputs != 1:
        raise ConfigError(f"--student {student}: has {start_model.n_outputs} outputs; a student "
                          "must be a one-output enhancer (e.g. the default)")
    if remix_snr_db is not None and method in ("distill", "noisy_target"):
        raise ConfigError(f"remix_snr_db: method {method} remixes nothing; it is for remixit "
                          "and mined_remix")
    if method == "noisy_target" and start_model.card.get("trained_with") != "noisy_target":
        say(f"warning: --method noisy_target teaches a model trained to remove all noise "
            f"({start_model.card.get('trained_with', 'unknown task')}) to keep some; from the "
            "shipped default it lost 0.09 PESQ and 0.7 dB SI-SDR on unseen noise "
            "(metrics/adapt_mined/README.md); "
            "--method remixit or mined_remix keep its target")
    rate = start_model.sample_rate
    report = AdaptReport()
    recordings, report.skipped = read_recordings(inputs, rate, out_dir, say)
    report.seconds_of_audio = sum(w.shape[-1] for _, w in recordings) / rate
    if report.seconds_of_audio < MIN_SECONDS:
        raise ConfigError(f"only {report.seconds_of_audio:.1f} s of readable audio; adapt needs "
                          f"at least {MIN_SECONDS:.0f} s of recordings (more is better)")

    from tqdm import tqdm

    noisy, found, first = split_for_check([wav for _, wav in recordings], rate, guard_share,
                                          seed, device, progress)
    check = held_back_check(start_model, [noisy[k] for k in first], [found[k] for k in first],
                            rate, seed, report, say)
    chosen, teach = choose_teacher(teacher, device, check, rate, report, say, student,
                                   getattr(start_model, "atten_lim_db", None))
    report.teacher = chosen
    method = report.method = method or default_method(chosen, student)
    report.model_path = Path(save_model) if save_model else out_dir / "adapted_model.pt"

    def finish(model) -> AdaptReport:
        """Save `model` as the model file, then write every input enhanced: by the teacher
        when `outputs_from` says so, else by `model`."""
        model.cpu().save(report.model_path)
        writer = model.to(device)
        if teach is not None and outputs_from(outputs, report, student) == "teacher":
            from .teachers.as_model import TeacherModel

            report.outputs = "teacher"
            writer = TeacherModel(teach, rate, atten_lim_db=TEACHER_LIMIT_DB)
        # overwrite: the outputs must come from the model this run just made
        report.enhanced = enhance_paths(writer, inputs, out_dir, progress=progress, log=say,
                                        atten_lim_db=atten_lim_db, overwrite=True)
        return report

    def unadapted(reason: str) -> AdaptReport:
        report.kept, report.not_adapted = "student", reason
        start_model.card["adapt"] = f"not adapted: {reason}"
        return finish(start_model)

    if teach is None:   # `auto`, and no teacher passed the check: adapting cannot help
        if outputs == "teacher":
            say("note: --outputs teacher: no teacher was chosen, so the files are the student's")
        return unadapted("no teacher passed the check")
    pairs = []               # per segment: (target, noise) for `method`
    with tqdm(total=round(report.seconds_of_audio), unit="s", desc=f"teacher {teach.name}",
              disable=not progress, dynamic_ncols=True) as bar:
        for _, wav in recordings:
            pairs += training_pairs(wav, teach.enhance(wav, rate).cpu(), rate, method)
            bar.update(round(wav.shape[-1] / rate))
    report.teacher_seconds = time.time() - started
    left = minutes * 60 - (time.time() - started)
    if left < 10:   # nothing to train in: the files still come (the teacher's, if it passed)
        return unadapted(f"the check and the teacher pass took {report.teacher_seconds / 60:.1f} "
                         f"of the --minutes {minutes:g}, leaving no time to train; give more "
                         "minutes to adapt")

    work = Path(tempfile.mkdtemp(prefix="sepssl-adapt-"))
    try:
        mined = method not in ("remixit", "distill")
        _, noise_seconds = write_sets(pairs, work, rate, guard_share, seed, mined=mined,
                                      first=first, remixed_guard=method != "distill")
        if mined:
            report.mined_seconds = noise_seconds
        report.guard_before_db = guard_score(start_model, work)
        segment = min(3.0, SEGMENT_SECONDS)
        task = {"noisy_target": ["task.name=noisy_target"],
                "distill": ["task.name=teacher_distill"]}.get(method, [
                    "task.name=teacher_remix",
                    f"task.snr_db={list(remix_snr_db) if remix_snr_db else 'null'}"])
        cfg = load_config(None, task + [
            f"sample_rate={rate}",
            f"data.train_speech={work / 'train' / 'speech'}",
            f"data.train_noise={work / 'train' / 'noise'}", f"data.valid={work / 'guard'}",
            "data.valid_files=null", f"data.segment_seconds={segment}",
            f"data.batch_size={batch_size}", "data.num_workers=0",
            f"data.items_per_epoch={max(batch_size, len(pairs))}",
            f"optim.lr={lr}", f"trainer.out_dir={work / 'run'}",
            f"trainer.max_steps={max_steps or 1_000_000}", f"trainer.max_minutes={left / 60}",
            f"trainer.val_every_steps={val_every_steps}", f"trainer.init_from={student}",
            f"trainer.accelerator={'gpu' if device.startswith('cuda') else 'cpu'}",
            "trainer.progress=false", "trainer.resume=false", f"trainer.seed={seed}"])
        cfg.model = start_model.to_dict()["model"]
        t0 = time.time()
        # stop when the guard stops gaining: on 2 minutes of audio the kept checkpoint was at
        # step 100 or before, of 582 (`metrics/adapt_auto/README.md`)
        early = L.pytorch.callbacks.EarlyStopping("val/si_sdr", mode="max",
                                                  patience=PATIENCE_CHECKS)
        model_path = train(cfg, callbacks=[BudgetBar(left, progress), early],
                           card={"adapted_from": str(student), "teacher": teach.describe(),
                                 "method": method,
                                 "adapted_on_seconds": round(report.seconds_of_audio, 1)})
        report.train_seconds = time.time() - t0
        adapted = load_model(model_path)
        report.steps = int(adapted.card.get("steps", 0))
        report.selected_step = adapted.card.get("selected_step")
        report.stopped_early = early.wait_count >= early.patience
        report.guard_after_db = guard_score(adapted, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    # the student's own attenuation limit (20 dB for the shipped model): without it PESQ and
    # SI-SDR gained more but STOI fell in three of the four domains (metrics/adapt_v1.md)
    adapted.atten_lim_db = start_model.atten_lim_db
    adapted.card["guard_si_sdr_db"] = {"before": round(report.guard_before_db, 3),
                                       "after": round(report.guard_after_db, 3)}
    if check is not None:
        report.check_after = check_scores(as_enhancer(adapted), check, rate)
        adapted.card["check"] = {"mixtures": report.check_pairs, "before": report.check_before,
                                 "after": report.check_after}
    reason = refusal(report, method)
    stale = report.model_path.with_suffix(".refused.pt")
    if reason is None:
        report.kept, model = "adapted", adapted
        stale.unlink(missing_ok=True)    # an earlier run's refused student is not this one's
    else:
        report.kept, model = "student", start_model
        report.refused_path = report.model_path.with_suffix(".refused.pt")
        adapted.cpu().save(report.refused_path)
        say(f"warning: {reason}; enhancing with the original student (the adapted one is in "
            f"{report.refused_path})")
    return finish(model)
