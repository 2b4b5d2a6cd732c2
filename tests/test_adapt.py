"""`sepssl adapt` and its teachers: the wrappers against their libraries (length, rate, delay),
the guard, end to end on tiny generated audio, and the bad-input cases."""
import math

import numpy as np
import pytest
import torch

from sepssl import audio, cli, load_model, losses
from sepssl.adapt import adapt, segments, training_pairs, write_sets
from sepssl.errors import ConfigError
from sepssl.teachers import check_teacher, load_teacher

from conftest import RATE, noise, voiced


def best_lag(est: torch.Tensor, ref: torch.Tensor, reach: int = 8) -> int:
    """The shift of `est` against `ref` (samples) that correlates best."""
    return max(range(-reach, reach + 1), key=lambda l: float((torch.roll(est, -l) * ref).sum()))


@pytest.mark.parametrize("name", ["dfn3", "rnnoise"])
@pytest.mark.parametrize("rate", [16000, 44100])
def test_external_teacher_keeps_length_rate_and_alignment(name, rate):
    clean = torch.from_numpy(voiced(2.0, rate=rate, seed=3, f0=150))
    noisy = clean + torch.from_numpy(0.05 * noise(2.0, rate=rate, seed=4, color=1.0))
    est = load_teacher(name).enhance(noisy, rate)
    assert est.shape == noisy.shape and est.dtype == noisy.dtype and torch.isfinite(est).all()
    # its delay is removed; RNNoise's pitch filter shifts the phase of these synthetic
    # harmonics by up to a sample (on the corpus's real speech its lag is exactly 960 at 48 kHz)
    assert abs(best_lag(est, clean)) <= (0 if name == "dfn3" else 1)


def test_dfn3_improves_noisy_speech_and_is_aligned_to_the_sample():
    clean = torch.from_numpy(voiced(3.0, seed=1))
    noisy = clean + torch.from_numpy(0.3 * noise(3.0, seed=2, color=1.0))
    est = load_teacher("dfn3").enhance(noisy, RATE)
    by_lag = {l: float(losses.si_sdr(torch.roll(est, -l)[None], clean[None])) for l in (-1, 0, 1)}
    assert by_lag[0] > max(by_lag[-1], by_lag[1])
    assert by_lag[0] > float(losses.si_sdr(noisy[None], clean[None])) + 5


def test_model_teacher_is_the_model_without_its_limit(tiny_model, tmp_path):
    from sepssl.enhance import enhance_signal

    path = tiny_model.save(tmp_path / "m.pt")
    wav = torch.from_numpy(voiced(1.0) + noise(1.0))
    est = load_teacher(str(path)).enhance(wav, RATE)
    assert torch.allclose(est, enhance_signal(tiny_model, wav[None], RATE, atten_lim_db=None)[0],
                          atol=1e-6)


def test_teachers_joined_by_plus_are_the_mean_of_their_estimates(tiny_model, tmp_path):
    path = str(tiny_model.save(tmp_path / "m.pt"))
    wav = torch.from_numpy(voiced(1.0) + noise(1.0))
    joined = load_teacher(f"rnnoise+{path}")
    want = (load_teacher("rnnoise").enhance(wav, RATE) + load_teacher(path).enhance(wav, RATE)) / 2
    assert joined.enhance(wav, RATE).shape == wav.shape
    assert torch.allclose(joined.enhance(wav, RATE), want, atol=1e-6)
    assert joined.name == f"rnnoise+{path}" and joined.describe().startswith("mean of RNNoise")
    odd = tmp_path / "a+b.pt"              # a model file whose name holds "+" is one teacher
    tiny_model.save(odd)
    assert load_teacher(str(odd)).name == str(odd)


def test_a_teacher_is_scored_as_a_student_with_its_limit_would_sound():
    from sepssl.adapt import heard_as_student

    wav = torch.randn(RATE)
    silent = Halves("silent")
    silent.enhance = lambda w, rate: torch.zeros_like(w)     # removes everything
    assert torch.allclose(heard_as_student(silent, 20.0)(wav, RATE), 0.1 * wav)
    assert torch.equal(heard_as_student(silent, None)(wav, RATE), torch.zeros_like(wav))


@pytest.mark.parametrize("spec", ["dfn3+", "dfn3+auto", "dfn3+dfn3", "dfn3+dfn4"])
def test_a_bad_joined_teacher_is_one_clear_error(spec):
    with pytest.raises(ConfigError, match="join two or more different|not a teacher name"):
        check_teacher(spec)


def test_unknown_teacher_or_missing_extra_is_one_clear_error(monkeypatch, tmp_path):
    with pytest.raises(ConfigError, match="not a teacher name"):
        check_teacher("dfn4")
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyrnnoise" else real(name, *a))
    with pytest.raises(ConfigError, match=r"pip install 'sepssl\[teachers\]'"):
        check_teacher("rnnoise")


def test_segments_cover_the_recording_and_sets_are_disjoint(tmp_path):
    wav = torch.arange(100.0)
    parts = segments(wav, 30)
    assert torch.equal(torch.cat(parts), wav) and len(parts) == 3
    pairs = [(torch.full((40,), float(i)), torch.full((40,), -float(i))) for i in range(10)]
    held, seconds = write_sets(pairs, tmp_path, RATE, guard_share=0.2, seed=0)
    train = {p.name for p in (tmp_path / "train" / "speech").iterdir()}
    guard = {p.name for p in (tmp_path / "guard" / "clean").iterdir()}
    assert {f"{k:05d}.wav" for k in held} == guard
    assert len(held) == 2 and len(train) == 8 and not train & guard and seconds == 8 * 40 / RATE
    # remixit: each training segment keeps its own residual, by name
    assert {p.name for p in (tmp_path / "train" / "noise").iterdir()} == train
    for name in guard:   # guard input = its speech + the other guard segment's noise
        noisy, _ = audio.read(tmp_path / "guard" / "noisy" / name, check=False)
        clean, _ = audio.read(tmp_path / "guard" / "clean" / name, check=False)
        other = ({int(n[:-4]) for n in guard} - {int(name[:-4])}).pop()
        assert torch.allclose(noisy - clean, torch.full((40,), -float(other)))
    held, _ = write_sets(pairs, tmp_path / "first", RATE, guard_share=0.2, seed=0, first=[7, 3])
    assert held == [7, 3]                        # the check's choice goes first
    # distill: the guard is the held-back recordings themselves (target + its own residual)
    held, _ = write_sets(pairs, tmp_path / "own", RATE, guard_share=0.2, seed=0,
                         remixed_guard=False)
    for k in held:
        noisy, _ = audio.read(tmp_path / "own" / "guard" / "noisy" / f"{k:05d}.wav", check=False)
        clean, _ = audio.read(tmp_path / "own" / "guard" / "clean" / f"{k:05d}.wav", check=False)
        assert torch.allclose(noisy - clean, torch.full((40,), -float(k)))   # its own noise


def test_each_method_pairs_its_target_with_its_noise():
    y = torch.randn(3 * RATE)
    s = torch.zeros(3 * RATE)
    s[RATE:2 * RATE] = y[RATE:2 * RATE]          # the teacher finds speech in the middle second
    for method in ("remixit", "distill"):
        for target, noise in training_pairs(y, s, RATE, method):
            assert torch.equal(target + noise, y)    # ŝ + n̂ is the recording
    for method, want in (("mined_remix", s), ("noisy_target", y)):
        (target, noise), = training_pairs(y, s, RATE, method)
        assert torch.equal(target, want)
        # mined noise: only the pauses (less the widening around speech), never the speech
        assert 1.4 * RATE < noise.shape[-1] < 1.9 * RATE


def test_mined_noise_is_pooled_and_the_guard_remixes_other_segments_noise(tmp_path):
    # segment i: target i, mined noise −i for 0.5 s where i is odd, none where it is even
    pairs = [(torch.full((RATE,), float(i)),
              torch.full((RATE // 2,), -float(i)) if i % 2 else torch.zeros(10)) for i in range(30)]
    held, seconds = write_sets(pairs, tmp_path, RATE, guard_share=0.2, seed=0, mined=True)
    guard = sorted(int(p.stem) for p in (tmp_path / "guard" / "clean").iterdir())
    train = sorted(int(p.stem) for p in (tmp_path / "train" / "speech").iterdir())
    assert sorted(held) == guard and len(guard) == 3 and all(k % 2 for k in guard)   # with noise
    assert not set(guard) & set(train) and len(train) == 27
    # the 12 training segments' noise, pooled: 6 s → two 3 s pieces, not 0.5 s ones repeated
    pooled = [audio.read(p, check=False)[0][0] for p in (tmp_path / "train" / "noise").iterdir()]
    assert seconds == 6.0 and [len(x) for x in pooled] == [3 * RATE] * 2
    assert set(torch.cat(pooled).unique().tolist()) == {-float(k) for k in train if k % 2}
    for k in guard:   # every guard input: its target + the other guard segments' noise
        noisy, _ = audio.read(tmp_path / "guard" / "noisy" / f"{k:05d}.wav", check=False)
        noise = set((noisy[0] - k).unique().tolist())
        assert noise == {-float(j) for j in guard if j != k}


def test_too_little_mined_noise_to_train_on_is_one_clear_error(tmp_path):
    pairs = [(torch.ones(RATE), torch.full((RATE // 2,), 0.5)) for _ in range(4)]
    with pytest.raises(ConfigError, match="found only 1.0 s.*use --method remixit"):
        write_sets(pairs, tmp_path, RATE, guard_share=0.1, seed=0, mined=True)
    with pytest.raises(ConfigError, match="found only 0.5 s"):
        write_sets(pairs[:1] + [(torch.ones(RATE), torch.zeros(0))] * 5, tmp_path, RATE,
                   guard_share=0.1, seed=0, mined=True)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    root = tmp_path_factory.mktemp("rec")
    for i in range(4):
        audio.write(root / "in" / f"r{i}.wav",
                    voiced(9.0, seed=i, f0=110 + 10 * i) + 0.5 * noise(9.0, seed=50 + i, color=1.0),
                    RATE)
    return root


@pytest.mark.slow
def test_adapt_end_to_end_writes_outputs_and_a_model(recordings, tmp_path, tiny_model):
    student = tiny_model.save(tmp_path / "student.pt")
    out = tmp_path / "out"
    report = adapt([str(recordings / "in")], out, teacher="dfn3", student=str(student),
                   method="remixit", minutes=2, device="cpu", max_steps=4, val_every_steps=2,
                   batch_size=4, progress=False, say=lambda m: None)
    assert report.ok and report.steps == 4 and report.kept in ("adapted", "student")
    assert report.summary().startswith("adapted (remixit from dfn3) on 36 s of audio")
    assert sorted(p.name for p in out.glob("*.wav")) == [f"r{i}.wav" for i in range(4)]
    for i in range(4):
        a, _ = audio.read(out / f"r{i}.wav")
        b, _ = audio.read(recordings / "in" / f"r{i}.wav")
        assert a.shape == b.shape
    model = load_model(report.model_path)
    if report.kept == "adapted":
        assert model.card["trained_with"] == "teacher_remix" and "DeepFilterNet3" in model.card["teacher"]
        assert report.guard_after_db > report.guard_before_db


def test_adapt_by_distillation_trains_on_the_recordings_themselves(recordings, tmp_path,
                                                                    tiny_model):
    student = tiny_model.save(tmp_path / "student.pt")
    report = adapt([str(recordings / "in")], tmp_path / "out", teacher="default",
                   student=str(student), method="distill", minutes=2, device="cpu",
                   max_steps=2, batch_size=4, progress=False, say=lambda m: None)
    assert report.ok and report.steps == 2 and len(list((tmp_path / "out").glob("*.wav"))) == 4
    trained = load_model(report.refused_path or report.model_path)
    assert trained.card["trained_with"] == "teacher_distill" and trained.card["method"] == "distill"
    with pytest.raises(ConfigError, match="method distill remixes nothing"):
        adapt([str(recordings / "in")], tmp_path / "x", method="distill", remix_snr_db=(0, 5))


def test_with_distill_and_a_check_the_check_alone_decides():
    from sepssl.adapt import AdaptReport, refusal

    def report(check_pairs, check_after_stoi):
        return AdaptReport(guard_before_db=5.0, guard_after_db=4.0, check_pairs=check_pairs,
                           check_before={"stoi": 0.70, "si_sdr": 5.0},
                           check_after={"stoi": check_after_stoi, "si_sdr": 5.1})
    assert "did not beat" in refusal(report(12, 0.71), "remixit")
    assert refusal(report(12, 0.71), "distill") is None           # agreement lost, check won
    assert "worse than the one it started from" in refusal(report(12, 0.69), "distill")
    assert "did not beat" in refusal(report(0, 0.71), "distill")  # no check: agreement decides
    assert refusal(report(12, float("nan")), "distill")            # a check not scored: refused


@pytest.mark.slow
def test_the_guard_keeps_the_student_when_adapting_did_not_help(recordings, tmp_path, tiny_model,
                                                              monkeypatch):
    import sepssl.adapt as ad

    from sepssl.domain_check import CheckSet

    scores = iter([5.0, 1.0])            # before, after: adapting made it worse
    monkeypatch.setattr(ad, "guard_score", lambda model, root: next(scores))
    monkeypatch.setattr(ad, "clean_stretch_pairs",      # no pauses: no check of clean stretches
                        lambda held, found, rate, seed: CheckSet([], [], [], 0.0))
    student = tiny_model.save(tmp_path / "student.pt")
    said = []
    report = adapt([str(recordings / "in")], tmp_path / "out", teacher=str(student),
                   student=str(student), minutes=2, device="cpu", max_steps=2, batch_size=4,
                   progress=False, say=said.append)
    assert any("too few pauses for the check" in m for m in said) and report.check_pairs == 0
    assert report.kept == "student" and any("did not beat" in m for m in said)
    assert report.refused_path.is_file()
    x = torch.randn(1, 4000)
    assert torch.allclose(load_model(report.model_path)(x), tiny_model(x), atol=1e-6)


@pytest.mark.slow
def test_the_check_of_clean_stretches_refuses_a_student_that_lost_stoi(recordings, tmp_path,
                                                                       tiny_model, monkeypatch):
    import sepssl.adapt as ad
    from sepssl.domain_check import CheckSet

    pairs = [(torch.randn(RATE), torch.randn(RATE)) for _ in range(6)]
    monkeypatch.setattr(ad, "clean_stretch_pairs",
                        lambda held, found, rate, seed: CheckSet(pairs, [20.0] * 2, [0, 1], 3.0))
    guard = iter([1.0, 2.0])                          # the guard: it agrees better after
    monkeypatch.setattr(ad, "guard_score", lambda model, root: next(guard))
    scores = iter([{"stoi": 0.80, "si_sdr": 5.0},     # the student, before
                   {"stoi": 0.70, "si_sdr": 3.0},     # the teacher: below the student
                   {"stoi": 0.79, "si_sdr": 6.0}])    # adapted: SI-SDR up, STOI down
    monkeypatch.setattr(ad, "check_scores", lambda enhance, check, rate: next(scores))
    student = tiny_model.save(tmp_path / "student.pt")
    teacher = tiny_model.save(tmp_path / "teacher.pt")   # not the student: it is warned about
    said = []
    report = adapt([str(recordings / "in")], tmp_path / "out", teacher=str(teacher),
                   student=str(student), minutes=2, device="cpu", max_steps=2, batch_size=4,
                   progress=False, say=said.append)
    assert any("scores below the student (STOI 0.700 vs 0.800" in m for m in said)
    assert report.method == "distill"        # the default from a teacher other than the student
    assert report.outputs == "student"       # the teacher lost on the check: not its files
    assert report.kept == "student" and report.check_pairs == 6
    assert any("STOI 0.800 → 0.790" in m and "refused.pt" in m for m in said)
    assert "check (6 mixtures) STOI 0.800 → 0.790" in report.summary()
    x = torch.randn(1, 4000)
    assert torch.allclose(load_model(report.model_path)(x), tiny_model(x), atol=1e-6)
    refused = load_model(report.refused_path)       # the adapted one, saved for the user
    assert report.refused_path.name == "adapted_model.refused.pt"
    assert refused.card["check"]["after"] == {"stoi": 0.79, "si_sdr": 6.0}


@pytest.mark.slow
def test_adapt_from_noise_mined_in_pauses(tmp_path, tiny_model):
    for i in range(4):    # speech every other second: pauses to mine noise from
        on = np.repeat(np.arange(9) % 2, RATE).astype(np.float32)
        audio.write(tmp_path / "in" / f"r{i}.wav",
                    on * voiced(9.0, seed=i) + 0.3 * noise(9.0, seed=60 + i), RATE)
    student = tiny_model.save(tmp_path / "student.pt")
    said = []
    report = adapt([str(tmp_path / "in")], tmp_path / "out", teacher="default",
                   student=str(student), method="noisy_target", minutes=2, device="cpu",
                   max_steps=2, val_every_steps=1, batch_size=4, progress=False,
                   say=said.append)
    # the tiny student's card names no task: it is warned about, as the shipped default is
    assert any("teaches a model trained to remove all noise" in m for m in said)
    assert report.ok and report.steps == 2 and 8 < report.mined_seconds < 18
    assert "noise mined" in report.summary()
    assert len(list((tmp_path / "out").glob("*.wav"))) == 4
    if report.kept == "adapted":
        card = load_model(report.model_path).card
        assert card["trained_with"] == "noisy_target" and card["method"] == "noisy_target"


def test_too_few_pauses_to_mine_is_one_clear_error(recordings, tmp_path, tiny_model, monkeypatch,
                                                   capsys):
    import sepssl.adapt as ad

    class KeepsEverything:   # a teacher that finds speech everywhere: no pauses
        name = "identity"

        def enhance(self, wav, rate):
            return wav

    monkeypatch.setattr(ad, "load_teacher", lambda name, device: KeepsEverything())
    student = tiny_model.save(tmp_path / "student.pt")
    with pytest.raises(ConfigError, match="use --method remixit"):
        adapt([str(recordings / "in")], tmp_path / "out", teacher="default",
              student=str(student), method="mined_remix", progress=False, say=lambda m: None)
    with pytest.raises(ConfigError, match="--method nope: unknown"):
        adapt([str(recordings / "in")], tmp_path / "out", method="nope")
    assert not (tmp_path / "out").exists()
    rc = cli.main(["adapt", str(recordings / "in"), "-o", str(tmp_path / "o"), "--teacher",
                   "default", "--student", str(student), "--method", "noisy_target", "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and not (tmp_path / "o").exists()
    assert "use --method remixit" in err[-1] and "Traceback" not in "\n".join(err)


def test_the_cli_offers_the_library_methods():
    from sepssl.adapt import OUTPUTS

    assert cli.ADAPT_METHODS == ad_methods() and cli.ADAPT_OUTPUTS == OUTPUTS


def ad_methods():
    from sepssl.adapt import METHODS

    return METHODS


def test_too_little_audio_zero_minutes_and_a_bad_teacher_fail_before_work(tmp_path):
    audio.write(tmp_path / "in" / "short.wav", voiced(5.0) + noise(5.0), RATE)
    with pytest.raises(ConfigError, match="at least 30 s"):
        adapt([str(tmp_path / "in")], tmp_path / "out", progress=False, say=lambda m: None)
    with pytest.raises(ConfigError, match="--minutes"):
        adapt([str(tmp_path / "in")], tmp_path / "out", minutes=0)
    assert cli.main(["adapt", str(tmp_path / "in"), "-o", str(tmp_path / "o"),
                     "--teacher", "nope"]) == 2
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_a_bad_file_is_reported_and_the_rest_goes_on(recordings, tmp_path, tiny_model, capsys):
    (recordings / "bad").mkdir(exist_ok=True)
    (recordings / "bad" / "broken.wav").write_bytes(b"not audio at all")
    student = tiny_model.save(tmp_path / "student.pt")
    rc = cli.main(["adapt", str(recordings / "in"), str(recordings / "bad"), "-o",
                   str(tmp_path / "out"), "--teacher", str(student), "--student", str(student),
                   "--minutes", "2", "--max-steps", "2", "--device", "cpu", "-q"])
    err = capsys.readouterr().err
    assert rc == 1 and "broken.wav" in err
    assert len(list((tmp_path / "out").glob("*.wav"))) == 4


def test_train_asks_only_for_the_data_a_task_uses(toy_set, tmp_path, tiny_model):
    from sepssl.config import load_config
    from sepssl.train import make_loaders
    from sepssl.tasks import build_task

    base = [f"data.train_speech={toy_set}/train/noisy", "data.batch_size=2", "data.num_workers=0"]
    cfg = load_config(None, base)
    with pytest.raises(ConfigError, match="data.train_noise: task noisy_target needs it.*sepssl adapt"):
        make_loaders(cfg, build_task(cfg.task))
    teacher = tiny_model.save(tmp_path / "t.pt")
    cfg = load_config(None, base + ["task.name=remixit", f"task.teacher={teacher}"])
    loader, _ = make_loaders(cfg, build_task(cfg.task))
    assert set(next(iter(loader))) == {"speech"}


class Halves:
    """A stand-in teacher: half the input is its speech."""

    def __init__(self, name):
        self.name = name

    def enhance(self, wav, rate):
        return 0.5 * wav

    def describe(self):
        return self.name


@pytest.mark.slow
@pytest.mark.parametrize("candidates, chosen", [  # (STOI, SI-SDR): dfn3+S, rnnoise+S, dfn3, rnnoise
    (((0.70, 6.0), (0.60, 6.0), (0.70, 6.0), (0.60, 6.0)), None),
    (((0.75, 6.0), (0.80, 6.0), (0.70, 6.0), (0.85, 6.0)), "rnnoise"),
    (((0.75, 6.0), (0.85, 6.0), (0.70, 6.0), (0.80, 6.0)), "rnnoise+student"),
    # the best STOI is a teacher alone that loses SI-SDR to the student (5.0): not eligible
    (((0.82, 5.5), (0.81, 5.5), (0.90, 3.0), (0.60, 6.0)), "dfn3+student"),
    # joined with the student, STOI alone decides (the check's SI-SDR is biased against it)
    (((0.82, 4.5), (0.81, 4.0), (0.90, 3.0), (0.85, 4.9)), "dfn3+student"),
    (((0.79, 6.5), (0.78, 7.0), (0.90, 3.0), (0.85, 4.9)), None)])
def test_teacher_auto_takes_the_best_on_the_check_or_none(recordings, tmp_path, tiny_model,
                                                          monkeypatch, candidates, chosen):
    import sepssl.adapt as ad
    from sepssl.domain_check import CheckSet

    pairs = [(torch.randn(RATE), torch.randn(RATE)) for _ in range(6)]
    monkeypatch.setattr(ad, "clean_stretch_pairs",
                        lambda held, found, rate, seed: CheckSet(pairs, [20.0] * 2, [0, 1], 3.0))
    monkeypatch.setattr(ad, "installed_external", lambda: ["dfn3", "rnnoise"])
    monkeypatch.setattr(ad, "load_teacher", lambda name, device: Halves(name))
    scores = iter([{"stoi": 0.80, "si_sdr": 5.0}] +                       # the student
                  [{"stoi": s, "si_sdr": d} for s, d in candidates] +      # the candidates
                  [{"stoi": 0.81, "si_sdr": 5.5}])                        # adapted
    monkeypatch.setattr(ad, "check_scores", lambda enhance, check, rate: next(scores))
    guard = iter([1.0, 2.0])                          # the guard: it agrees better after
    monkeypatch.setattr(ad, "guard_score", lambda model, root: next(guard))
    student = tiny_model.save(tmp_path / "student.pt")
    said = []
    report = adapt([str(recordings / "in")], tmp_path / "out", teacher="auto",
                   student=str(student), minutes=2, device="cpu", max_steps=2, batch_size=4,
                   progress=False, say=said.append)
    assert report.ok and len(list((tmp_path / "out").glob("*.wav"))) == 4
    if chosen is None:      # no teacher passes: nothing is trained
        assert any("no teacher passes" in m for m in said)
        assert report.kept == "student" and report.steps == 0 and report.teacher_seconds == 0
        assert "did not adapt" in report.summary()
        x = torch.randn(1, 4000)
        assert torch.allclose(load_model(report.model_path)(x), tiny_model(x), atol=1e-6)
    else:
        name = chosen.replace("student", str(student))
        assert any(m.startswith(f"--teacher auto: {name} (") for m in said)
        names = ["dfn3+student", "rnnoise+student", "dfn3", "rnnoise"]
        assert report.steps == 2
        assert report.check_teacher["stoi"] == candidates[names.index(chosen)][0]
        # it passed the check: the files are its estimates (half the input), the input
        # mixed back TEACHER_LIMIT_DB below
        assert report.outputs == "teacher"
        out, _ = audio.read(tmp_path / "out" / "r0.wav")
        x, _ = audio.read(recordings / "in" / "r0.wav")
        g = 10 ** (-ad.TEACHER_LIMIT_DB / 20)
        assert torch.allclose(out, (0.5 + 0.5 * g) * x, atol=1e-4)
        assert not torch.allclose(out, 0.5 * x, atol=1e-4)
        assert report.kept == "adapted"
        assert load_model(report.model_path).card["teacher"] == {
            "rnnoise": "rnnoise", "rnnoise+student": f"mean of rnnoise and {student}",
            "dfn3+student": f"mean of dfn3 and {student}"}[chosen]


def test_a_teacher_joined_with_the_student_passes_the_check_on_stoi_alone():
    from sepssl.adapt import teacher_passes

    student = {"stoi": 0.80, "si_sdr": 5.0}
    low_sdr, low_stoi = {"stoi": 0.81, "si_sdr": 3.0}, {"stoi": 0.79, "si_sdr": 9.0}
    assert teacher_passes("dfn3+default", low_sdr, student, "default")
    assert teacher_passes("dfn3+/runs/s.pt", low_sdr, student, "/runs/s.pt")
    assert not teacher_passes("dfn3+default", low_stoi, student, "default")
    assert not teacher_passes("dfn3+default", {"stoi": math.nan, "si_sdr": 9.0}, student,
                              "default")
    # alone (or joined with another model than the student) it must lose neither metric
    assert not teacher_passes("dfn3", low_sdr, student, "default")
    assert not teacher_passes("dfn3+rnnoise", low_sdr, student, "default")
    assert teacher_passes("dfn3", {"stoi": 0.81, "si_sdr": 5.0}, student, "default")


def test_teacher_auto_without_an_external_teacher_is_the_student_itself(monkeypatch, tmp_path,
                                                                        tiny_model):
    import sepssl.adapt as ad
    import sepssl.teachers as teachers

    monkeypatch.setattr(teachers, "installed_external", lambda: [])
    monkeypatch.setattr(ad, "installed_external", lambda: [])
    teachers.check_teacher("auto")                       # no error: it still stands
    student = str(tiny_model.save(tmp_path / "student.pt"))
    said = []
    name, teach = ad.choose_teacher("auto", "cpu", None, RATE, ad.AdaptReport(), said.append,
                                    student)
    assert name == student and teach is not None
    assert "the student teaches itself" in said[0] and "sepssl[teachers]" in said[0]
    # copying itself by distillation would teach it nothing: it remixes; any other teacher
    # is distilled
    assert ad.default_method(name, student) == "remixit"
    assert ad.default_method("dfn3+default", "default") == "distill"


def test_pauses_are_found_in_segments_of_digital_silence_too():
    from sepssl.adapt import pauses_found

    speech = torch.from_numpy(voiced(4.0) + 0.05 * noise(4.0))
    found = pauses_found([speech, torch.zeros(4 * RATE)], RATE)   # a muted stretch of a call
    assert found[0].shape == speech.shape and torch.equal(found[1], torch.zeros(4 * RATE))


def test_a_teacher_enhances_files_as_a_model_would(tmp_path):
    from sepssl.enhance import enhance_paths
    from sepssl.teachers.as_model import TeacherModel

    stereo = np.stack([voiced(3.0, seed=1), 0.5 * voiced(3.0, seed=2)])    # (channels, time)
    audio.write(tmp_path / "in" / "a.wav", stereo, RATE)
    report = enhance_paths(TeacherModel(Halves("half"), RATE), [str(tmp_path / "in")],
                           tmp_path / "out", progress=False)
    assert report.ok and report.written == [tmp_path / "out" / "a.wav"]
    out, rate = audio.read(tmp_path / "out" / "a.wav")
    x, _ = audio.read(tmp_path / "in" / "a.wav")
    assert rate == RATE and out.shape == x.shape
    assert torch.allclose(out, 0.5 * x, atol=1e-4)
    # the model's own limit: nothing more than 3 dB down, so half (−6 dB) is mixed back up
    limited = enhance_paths(TeacherModel(Halves("half"), RATE, atten_lim_db=3.0),
                            [str(tmp_path / "in")], tmp_path / "lim", progress=False)
    y, _ = audio.read(limited.written[0])
    assert y.abs().sum() > out.abs().sum() * 1.2


@pytest.mark.slow
def test_adapt_can_write_the_teachers_estimates(recordings, tmp_path, tiny_model, monkeypatch):
    import sepssl.adapt as ad

    monkeypatch.setattr(ad, "load_teacher", lambda name, device: Halves(name))
    student = tiny_model.save(tmp_path / "student.pt")
    teacher = tiny_model.save(tmp_path / "teacher.pt")
    report = adapt([str(recordings / "in")], tmp_path / "out", teacher=str(teacher),
                   student=str(student), outputs="teacher", atten_lim_db=None, minutes=2,
                   device="cpu", max_steps=2, batch_size=4, progress=False, say=lambda m: None)
    assert report.ok and report.outputs == "teacher" and "teacher's estimates" in report.summary()
    for i in range(4):
        out, _ = audio.read(tmp_path / "out" / f"r{i}.wav")
        x, _ = audio.read(recordings / "in" / f"r{i}.wav")
        assert torch.allclose(out, 0.5 * x, atol=1e-4)
    assert load_model(report.model_path).n_outputs == 1       # the model file is the student
    with pytest.raises(ConfigError, match="--outputs both: unknown"):
        adapt([str(recordings / "in")], tmp_path / "x", outputs="both")


@pytest.mark.slow
def test_a_budget_the_teacher_pass_uses_up_still_writes_the_files(recordings, tmp_path,
                                                                   tiny_model, monkeypatch):
    import sepssl.adapt as ad

    monkeypatch.setattr(ad, "load_teacher", lambda name, device: Halves(name))
    student = tiny_model.save(tmp_path / "student.pt")
    teacher = tiny_model.save(tmp_path / "teacher.pt")
    report = adapt([str(recordings / "in")], tmp_path / "out", teacher=str(teacher),
                   student=str(student), outputs="teacher", atten_lim_db=None, minutes=0.1,
                   device="cpu", progress=False, say=lambda m: None)
    assert report.ok and report.steps == 0 and report.kept == "student"
    assert "no time to train" in report.not_adapted and "did not adapt" in report.summary()
    assert "teacher's estimates" in report.summary()
    for i in range(4):     # the teacher's files all the same
        out, _ = audio.read(tmp_path / "out" / f"r{i}.wav")
        x, _ = audio.read(recordings / "in" / f"r{i}.wav")
        assert torch.allclose(out, 0.5 * x, atol=1e-4)
    x = torch.randn(1, 4000)
    assert torch.allclose(load_model(report.model_path)(x), tiny_model(x), atol=1e-6)


@pytest.mark.slow
def test_adapting_stops_when_the_guard_stops_gaining(recordings, tmp_path, tiny_model,
                                                      monkeypatch):
    import sepssl.adapt as ad

    monkeypatch.setattr(ad, "PATIENCE_CHECKS", 2)
    student = tiny_model.save(tmp_path / "student.pt")
    # a learning rate that moves no float32 weight: the guard never gains after its first check
    report = adapt([str(recordings / "in")], tmp_path / "out", teacher=str(student),
                   student=str(student), lr=1e-30, minutes=2, device="cpu", max_steps=60,
                   val_every_steps=1, batch_size=4, progress=False, say=lambda m: None)
    assert report.stopped_early and report.selected_step == 1 and report.steps == 3
    assert "stopped early: no gain on the guard after step 1" in report.summary()
