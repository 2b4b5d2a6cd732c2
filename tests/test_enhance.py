"""`sepssl enhance`: formats, rates, channels, long files in chunks, and the bad-input list."""
import errno
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from sepssl import audio, cli, load_model, losses
from sepssl.enhance import enhance_signal

from conftest import RATE, noise, voiced


@pytest.fixture(scope="module")
def model_file(tmp_path_factory, tiny_model):
    return str(tiny_model.save(tmp_path_factory.mktemp("m") / "tiny.pt"))


def noisy(seconds=1.0, rate=RATE, seed=0):
    return voiced(seconds, rate, seed=seed) + noise(seconds, rate, seed=seed + 10)


def run(args):
    return cli.main(["enhance", "-q", *args])


@pytest.mark.parametrize("rate, channels, subtype, ext", [
    (16000, 1, "PCM_16", "wav"), (44100, 2, "PCM_24", "flac"), (8000, 1, "PCM_32", "wav"),
    (22050, 3, "FLOAT", "wav"), (48000, 1, "DOUBLE", "wav"),
])
def test_output_keeps_rate_length_channels_subtype(tmp_path, model_file, rate, channels, subtype, ext):
    x = np.stack([noisy(0.7, rate, seed=c) for c in range(channels)], axis=1)
    src = tmp_path / f"in.{ext}"
    sf.write(src, x, rate, subtype=subtype)
    assert run([str(src), "-o", str(tmp_path / "out"), "--model", model_file]) == 0
    out = sf.info(tmp_path / "out" / f"in.{ext}")
    assert (out.samplerate, out.frames, out.channels, out.subtype) == (rate, x.shape[0], channels, subtype)


def test_folders_recursive_and_globs_keep_layout(tmp_path, model_file):
    for rel in ["a.wav", "sub/b.wav", "sub/deeper/c.flac"]:
        audio.write(tmp_path / "in" / rel, noisy(0.3), RATE)
    assert run([str(tmp_path / "in"), "-o", str(tmp_path / "o1"), "--model", model_file]) == 0
    assert sorted(p.relative_to(tmp_path / "o1").as_posix() for p in audio.find_audio(tmp_path / "o1")) == \
        ["a.wav", "sub/b.wav", "sub/deeper/c.flac"]
    assert run([str(tmp_path / "in" / "**" / "*.wav"), "-o", str(tmp_path / "o2"), "--model", model_file]) == 0
    # a glob keeps the path below its fixed prefix (in/), as a folder does
    assert sorted(p.relative_to(tmp_path / "o2").as_posix() for p in audio.find_audio(tmp_path / "o2")) == \
        ["a.wav", "sub/b.wav"]


def test_bad_inputs_are_reported_and_the_rest_is_processed(tmp_path, model_file, capsys):
    d = tmp_path / "in"
    audio.write(d / "good.wav", noisy(0.5), RATE)
    (d / "empty.wav").write_bytes(b"")
    (d / "corrupt.wav").write_bytes(b"RIFF$\x00\x00\x00WAVEfmt garbage" * 4)
    sf.write(d / "zeros.wav", np.zeros(8000, np.float32), RATE)
    sf.write(d / "nan.wav", np.r_[noisy(0.5)[:4000], [np.nan], noisy(0.5)[:3999]].astype(np.float32),
             RATE, subtype="FLOAT")
    sf.write(d / "inf.wav", np.r_[noisy(0.5)[:4000], [np.inf]].astype(np.float32), RATE, subtype="FLOAT")
    sf.write(d / "nosamples.wav", np.zeros((0, 1), np.float32), RATE)
    (tmp_path / "noaudio").mkdir()
    (tmp_path / "noaudio" / "readme.txt").write_text("hi")
    out = tmp_path / "out"
    code = run([str(d), str(tmp_path / "missing.wav"), str(tmp_path / "noaudio"), "-o", str(out),
                "--model", model_file])
    captured = capsys.readouterr()
    assert code == 1
    assert "enhanced 1 of 9 file(s)" in captured.out and "8 failed" in captured.out
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 8
    for name, reason in [("empty.wav", "empty file"), ("corrupt.wav", "not a readable audio file"),
                         ("zeros.wav", "all zeros"), ("nan.wav", "NaN or Inf"), ("inf.wav", "NaN or Inf"),
                         ("nosamples.wav", "no samples"), ("missing.wav", "no such file"),
                         ("noaudio", "no audio files")]:
        assert any(name in e and reason in e for e in errors), (name, errors)
    # nothing half-written; beside the output, the record of what made it
    assert sorted(p.name for p in out.rglob("*")) == ["good.wav", "sepssl_enhance.json"]
    assert sorted(p.name for p in d.iterdir()) == sorted(["good.wav", "empty.wav", "corrupt.wav", "zeros.wav",
                                                          "nan.wav", "inf.wav", "nosamples.wav"])


def test_never_writes_over_an_input(tmp_path, model_file, capsys):
    src = tmp_path / "a.wav"
    audio.write(src, noisy(0.3), RATE)
    before = src.read_bytes()
    assert run([str(src), "-o", str(tmp_path), "--model", model_file]) == 1
    assert "refusing to write over an input" in capsys.readouterr().err
    assert src.read_bytes() == before


def test_same_output_name_from_two_inputs_is_an_error_not_an_overwrite(tmp_path, model_file, capsys):
    audio.write(tmp_path / "x" / "a.wav", noisy(0.3), RATE)
    audio.write(tmp_path / "y" / "a.wav", noisy(0.3, seed=5), RATE)
    assert run([str(tmp_path / "x" / "a.wav"), str(tmp_path / "y" / "a.wav"), "-o", str(tmp_path / "o"),
                "--model", model_file]) == 1
    assert "would also be written" in capsys.readouterr().err


def test_chunked_equals_whole_file_within_boundary_tolerance(tiny_model):
    x = torch.from_numpy(noisy(6.0)).unsqueeze(0)
    whole = enhance_signal(tiny_model, x, RATE, chunk_seconds=100)
    chunked = enhance_signal(tiny_model, x, RATE, chunk_seconds=1.5)
    assert chunked.shape == whole.shape == x.shape
    err = (chunked - whole).pow(2).sum() / whole.pow(2).sum()
    assert err < 1e-2, float(err)  # below −20 dB


def test_default_model_streamed_is_as_good_as_whole_file():
    """A BiGRU whose features are centred per input sees other context in a 10 s chunk than in
    the whole file, so outputs differ everywhere a little (about −27 dB here, −17…−23 dB on the
    benchmark's corpus files, metrics/streaming.md); what matters is that quality does not drop."""
    model = load_model()
    clean = torch.from_numpy(voiced(25, seed=3))
    x = (clean + torch.from_numpy(noise(25, seed=4, color=1.0))).unsqueeze(0)
    whole = enhance_signal(model, x, RATE, chunk_seconds=100)
    streamed = enhance_signal(model, x, RATE, chunk_seconds=10)
    err = (streamed - whole).pow(2).sum() / whole.pow(2).sum()
    assert err < 10 ** (-1.5), float(err)  # below −15 dB
    assert losses.si_sdr(streamed[0], clean) > losses.si_sdr(whole[0], clean) - 0.5


def test_streaming_file_output_equals_in_memory_api(tmp_path, tiny_model):
    x = noisy(4.0, rate=22050)
    src = audio.write(tmp_path / "a.wav", x, 22050, subtype="FLOAT")
    from sepssl.enhance import enhance_file

    enhance_file(tiny_model, src, tmp_path / "o.wav", chunk_seconds=1.0)
    streamed, _ = audio.read(tmp_path / "o.wav")
    api = tiny_model.enhance(src, chunk_seconds=1.0)
    assert torch.allclose(streamed, api, atol=1e-6)
    assert tiny_model.enhance(torch.from_numpy(x), sample_rate=22050, chunk_seconds=1.0).shape == (x.size,)


def test_load_model_errors_are_clean(tmp_path):
    from sepssl.errors import ModelError

    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "nope.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="junk.pt"):
        load_model(tmp_path / "junk.pt")


def test_model_file_cannot_run_code(tmp_path):
    import pickle

    from sepssl.errors import ModelError

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"format": "sepssl-model/1", "x": Evil()}, tmp_path / "evil.pt", pickle_protocol=2)
    with pytest.raises(ModelError):
        load_model(tmp_path / "evil.pt")


@pytest.mark.slow
def test_console_script_exit_codes(tmp_path, model_file):
    audio.write(tmp_path / "a.wav", noisy(0.3), RATE)
    ok = subprocess.run([sys.executable, "-m", "sepssl.cli", "enhance", "-q", str(tmp_path / "a.wav"),
                         "-o", str(tmp_path / "o"), "--model", model_file], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([sys.executable, "-m", "sepssl.cli", "enhance", "-q", str(tmp_path / "a.wav"),
                          "-o", str(tmp_path / "o2"), "--model", str(tmp_path / "missing.pt")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().count("\n") == 0 and "missing.pt" in bad.stderr


@pytest.mark.gpu
def test_enhance_on_cuda_matches_cpu(tiny_model):
    x = torch.from_numpy(noisy(3.0)).unsqueeze(0)
    cpu = enhance_signal(tiny_model, x, RATE, chunk_seconds=1.0)
    gpu = enhance_signal(tiny_model.to("cuda"), x, RATE, chunk_seconds=1.0)
    tiny_model.to("cpu")
    assert torch.allclose(cpu, gpu, atol=1e-4)


def test_atten_lim_mixes_the_input_back_at_the_inputs_rate(tmp_path, model_file, capsys):
    x = np.stack([noisy(1.2, 44100, seed=c) for c in range(2)], axis=1).astype(np.float32)
    src = tmp_path / "in.wav"
    sf.write(src, x, 44100, subtype="FLOAT")
    assert run([str(src), "-o", str(tmp_path / "plain"), "--model", model_file]) == 0
    assert run([str(src), "-o", str(tmp_path / "lim"), "--model", model_file,
                "--atten-lim-db", "10"]) == 0
    plain, _ = sf.read(tmp_path / "plain" / "in.wav")
    limited, _ = sf.read(tmp_path / "lim" / "in.wav")
    g = 10 ** (-10 / 20)
    assert np.allclose(limited, g * x + (1 - g) * plain, atol=1e-5)
    with pytest.raises(SystemExit):
        run([str(src), "-o", str(tmp_path / "bad"), "--model", model_file, "--atten-lim-db", "0"])
    assert "not a positive number of dB" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_a_model_carries_its_own_attenuation_limit_and_the_cli_can_turn_it_off(tmp_path, tiny_model):
    x = torch.from_numpy(noisy(1.0)).unsqueeze(0)
    raw = enhance_signal(tiny_model, x, RATE, atten_lim_db=None)
    tiny_model.atten_lim_db = 10.0
    try:
        path = tiny_model.save(tmp_path / "lim.pt")
        loaded = load_model(path)
        assert loaded.atten_lim_db == 10.0  # saved in the model file
        g = 10 ** (-10 / 20)
        assert torch.allclose(loaded.enhance(x), g * x + (1 - g) * raw, atol=1e-5)
        assert torch.allclose(loaded.enhance(x, atten_lim_db=None), raw, atol=1e-6)
        src = audio.write(tmp_path / "in.wav", x[0].numpy(), RATE, subtype="FLOAT")
        assert run([str(src), "-o", str(tmp_path / "off"), "--model", str(path),
                    "--atten-lim-db", "off"]) == 0
        assert run([str(src), "-o", str(tmp_path / "own"), "--model", str(path)]) == 0
        off, _ = audio.read(tmp_path / "off" / "in.wav")
        own, _ = audio.read(tmp_path / "own" / "in.wav")
        assert torch.allclose(off, raw, atol=1e-5)
        assert torch.allclose(own, g * x + (1 - g) * raw, atol=1e-5)
    finally:
        tiny_model.atten_lim_db = None


class _IrregularReader:
    """Reads from an in-memory signal, returning fewer frames than asked in a fixed pattern
    (as pipes, network files and some decoders do mid-file)."""

    def __init__(self, wav, sizes):
        self.wav, self.sizes, self.calls = wav, sizes, 0

    def __call__(self, start, n):
        k = self.sizes[self.calls % len(self.sizes)]
        self.calls += 1
        return self.wav[:, start:start + min(n, k)]


@pytest.mark.parametrize("sizes", [[7, 16000, 1234, 3, 9999], [15999], [1, 50000]])
@pytest.mark.parametrize("batch_chunks", [1, 3, 8])
def test_short_reads_keep_the_output_aligned_with_the_input(tiny_model, sizes, batch_chunks):
    from sepssl.enhance import enhance_stream

    x = torch.from_numpy(np.stack([noisy(4.3, seed=1), noisy(4.3, seed=2)]))
    whole = enhance_signal(tiny_model, x, RATE, chunk_seconds=1.0)
    read = _IrregularReader(x, sizes)
    pieces = list(enhance_stream(tiny_model, read, x.shape[-1], RATE, chunk_seconds=1.0,
                                 batch_chunks=batch_chunks))
    streamed = torch.cat(pieces, dim=-1)
    assert read.calls > 5
    assert streamed.shape == whole.shape == x.shape
    assert torch.allclose(streamed, whole, atol=1e-5)


def test_input_ending_before_its_length_is_a_clean_error(tiny_model):
    from sepssl.enhance import enhance_stream
    from sepssl.errors import AudioError

    x = torch.from_numpy(noisy(2.0)).unsqueeze(0)
    with pytest.raises(AudioError, match="ends after 32000 of the 40000 frames"):
        list(enhance_stream(tiny_model, lambda s, n: x[:, s:s + n], 40000, RATE, chunk_seconds=1.0))


def test_enhance_file_survives_short_reads_and_names_a_file_that_ends_early(tmp_path, tiny_model,
                                                                             monkeypatch):
    from sepssl.enhance import enhance_file
    from sepssl.errors import AudioError

    src = audio.write(tmp_path / "a.wav", noisy(3.0), RATE, subtype="FLOAT")
    enhance_file(tiny_model, src, tmp_path / "plain.wav", chunk_seconds=1.0)
    full_read = audio.Reader.read
    monkeypatch.setattr(audio.Reader, "read", lambda self, s, n: full_read(self, s, min(n, 4321)))
    enhance_file(tiny_model, src, tmp_path / "short.wav", chunk_seconds=1.0)
    assert torch.equal(audio.read(tmp_path / "plain.wav")[0], audio.read(tmp_path / "short.wav")[0])
    monkeypatch.setattr(audio.Reader, "read",
                        lambda self, s, n: full_read(self, s, min(n, max(0, 30000 - s))))
    with pytest.raises(AudioError, match=r"a\.wav: the audio ends after 30000 of the 48000"):
        enhance_file(tiny_model, src, tmp_path / "cut.wav", chunk_seconds=1.0)
    assert not (tmp_path / "cut.wav").exists()


# --- the edges a careful user hits (issue 17) ---------------------------------------------------

def all_files(folder):
    """Every file under `folder`, hidden ones (temporary `.part` files) included."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if not p.is_dir() and p.name != "sepssl_enhance.json")   # the run's record


def error_lines(err):
    return [line for line in err.splitlines() if line.startswith("error:")]


def test_a_rerun_into_a_folder_inside_the_input_never_enhances_its_own_outputs(tmp_path, model_file, capsys):
    c = tmp_path / "C"
    for rel in ["a.wav", "sub/b.wav"]:
        audio.write(c / rel, noisy(0.3), RATE)
    assert run([str(c), "-o", str(c / "enh"), "--model", model_file]) == 0
    for extra in ([], ["--overwrite"]):
        capsys.readouterr()
        assert run([str(c), "-o", str(c / "enh"), "--model", model_file, *extra]) == 0
        captured = capsys.readouterr()
        assert not (c / "enh" / "enh").exists()
        assert not error_lines(captured.err) and "failed" not in captured.out
        assert "of 2 file(s)" in captured.out, captured.out
    assert run([str(c / "**" / "*.wav"), "-o", str(c / "enh"), "--model", model_file, "--overwrite"]) == 0
    assert all_files(c / "enh") == ["a.wav", "sub/b.wav"]
    assert "enhanced 2 of 2 file(s)" in capsys.readouterr().out


@pytest.mark.parametrize("args, says", [
    (["--subtype", "NONSENSE"], "unknown subtype"),
    (["--subtype", "PCM_24"], "OGG"),      # Vorbis files cannot hold PCM_24
])
def test_a_subtype_that_cannot_be_written_is_one_error_up_front(tmp_path, model_file, capsys, args, says):
    audio.write(tmp_path / "in" / "a.wav", noisy(0.3), RATE)
    sf.write(tmp_path / "in" / "b.ogg", noisy(0.3), RATE, format="OGG", subtype="VORBIS")
    code = run([str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--model", model_file, *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().count("\n") == 0 and says in err and "sepssl enhance: error:" in err, err
    assert not (tmp_path / "out").exists()  # nothing was written, not even a.wav


def test_a_subtype_name_is_not_case_sensitive(tmp_path, model_file):
    audio.write(tmp_path / "a.wav", noisy(0.3), RATE, subtype="FLOAT")
    assert run([str(tmp_path / "a.wav"), "-o", str(tmp_path / "out"), "--model", model_file,
                "--subtype", "pcm_16"]) == 0
    assert sf.info(tmp_path / "out" / "a.wav").subtype == "PCM_16"


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_chunk_seconds_must_be_a_finite_number_above_zero(tmp_path, capsys, value):
    with pytest.raises(SystemExit) as exit:
        run(["a.wav", "-o", str(tmp_path / "out"), "--chunk-seconds", value])
    assert exit.value.code == 2
    assert "not a finite number above 0" in capsys.readouterr().err


def test_the_same_file_named_twice_or_with_its_folder_is_enhanced_once(tmp_path, model_file, capsys,
                                                                        monkeypatch):
    monkeypatch.chdir(tmp_path)
    audio.write(tmp_path / "d" / "a.wav", noisy(0.3), RATE)
    assert run(["d/a.wav", "d/a.wav", "./d/a.wav", "d", str(tmp_path / "d" / "a.wav"), "-o", "out",
                "--model", model_file]) == 0
    captured = capsys.readouterr()
    assert "enhanced 1 of 1 file(s)" in captured.out and not error_lines(captured.err), captured
    assert all_files(tmp_path / "out") == ["a.wav"]


def test_a_glob_keeps_the_layout_below_its_fixed_prefix(tmp_path, model_file, capsys):
    for sub in ["x", "y"]:
        audio.write(tmp_path / "d" / sub / "a.wav", noisy(0.3), RATE)
    assert run([str(tmp_path / "d" / "*" / "a.wav"), "-o", str(tmp_path / "o"), "--model", model_file]) == 0
    assert all_files(tmp_path / "o") == ["x/a.wav", "y/a.wav"]
    assert not error_lines(capsys.readouterr().err)


def test_existing_outputs_are_skipped_unless_overwrite(tmp_path, model_file, tiny_model, capsys):
    from sepssl.enhance import enhance_paths

    d, out = tmp_path / "in", tmp_path / "out"
    audio.write(d / "a.wav", noisy(0.3), RATE)
    assert run([str(d), "-o", str(out), "--model", model_file]) == 0
    (out / "a.wav").write_bytes(b"left as it was")     # a rerun must not touch it
    audio.write(d / "b.wav", noisy(0.3, seed=4), RATE)  # ... and must do what is left
    capsys.readouterr()
    assert run([str(d), "-o", str(out), "--model", model_file]) == 0
    captured = capsys.readouterr()
    assert "skipped 1 existing output(s); --overwrite to redo them" in captured.err
    assert "enhanced 1 of 2 file(s)" in captured.out and "1 skipped" in captured.out
    assert (out / "a.wav").read_bytes() == b"left as it was" and sf.info(out / "b.wav").frames > 0
    report = enhance_paths(tiny_model, [str(d)], out, progress=False, log=lambda m: None)
    assert report.ok and report.written == [] and sorted(p.name for p in report.skipped) == ["a.wav", "b.wav"]
    assert run([str(d), "-o", str(out), "--model", model_file, "--overwrite"]) == 0
    assert "enhanced 2 of 2 file(s)" in capsys.readouterr().out
    assert sf.info(out / "a.wav").frames == int(0.3 * RATE)


class _Sentinel(BaseException):
    pass


@pytest.mark.parametrize("how, code", [("sigterm", 143), ("ctrl-c", 130)])
def test_sigterm_and_ctrl_c_stop_the_run_and_leave_no_temporary_file(tmp_path, model_file, monkeypatch,
                                                                      capsys, how, code):
    def sentinel(signum, frame):  # SIGTERM without sepssl's handler must not kill pytest
        raise _Sentinel()

    def write_block(f, block):
        if how == "sigterm":
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)  # the handler raises here
        else:
            raise KeyboardInterrupt
    audio.write(tmp_path / "in" / "a.wav", noisy(1.0), RATE)
    audio.write(tmp_path / "in" / "b.wav", noisy(1.0), RATE)
    previous = signal.signal(signal.SIGTERM, sentinel)
    try:
        monkeypatch.setattr(audio, "write_block", write_block)
        assert run([str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--model", model_file]) == code
        assert signal.getsignal(signal.SIGTERM) is sentinel  # put back after the run
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert all_files(tmp_path / "out") == []
    assert ("terminated" if how == "sigterm" else "interrupted") in capsys.readouterr().err


def test_stale_temporary_files_of_a_killed_run_are_removed(tmp_path, model_file, capsys):
    d, out = tmp_path / "in", tmp_path / "out"
    audio.write(d / "a.wav", noisy(0.3), RATE)
    out.mkdir()
    old = time.time() - 3600
    stale = out / ".a.wav.k3j_x9q2.wav.part"         # what atomic_write names a.wav's temp file
    kept = {".other.wav.k3j_x9q2.wav.part": old,    # not an output of this run
            ".a.wav.notsepssl.part": old,           # not sepssl's naming
            ".a.wav.zz11zz11.wav.part": time.time() + 3600,  # newer than this run's start
            "notes.txt": old}
    stale.write_bytes(b"half")
    os.utime(stale, (old, old))
    for name, t in kept.items():
        (out / name).write_bytes(b"x")
        os.utime(out / name, (t, t))
    assert run([str(d), "-o", str(out), "--model", model_file]) == 0
    assert all_files(out) == sorted(["a.wav", *kept])
    assert "removed 1 stale partial file(s)" in capsys.readouterr().err


@pytest.mark.parametrize("exc", [lambda: sf.LibsndfileError(2, ""),  # libsndfile: "System error."
                                 lambda: OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))])
def test_a_full_disk_is_said_as_such_naming_the_output(tmp_path, model_file, monkeypatch, capsys, exc):
    def full(f, block):
        raise exc()

    audio.write(tmp_path / "in" / "a.wav", noisy(0.3), RATE)
    monkeypatch.setattr(audio, "write_block", full)
    assert run([str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--model", model_file]) == 1
    errors = error_lines(capsys.readouterr().err)
    assert len(errors) == 1 and "no space left on device" in errors[0], errors
    assert str(tmp_path / "out" / "a.wav") in errors[0]
    assert all_files(tmp_path / "out") == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("ext", ["wav", "flac"])
def test_a_real_full_device_is_said_as_such(tmp_path, tiny_model, monkeypatch, ext):
    """/dev/full fails every write with ENOSPC, as a full disk does: libsndfile says "System
    error." (WAV) or a FLAC encoder error, and closing the file raises again over it."""
    import contextlib

    from sepssl.enhance import enhance_file
    from sepssl.errors import AudioError

    @contextlib.contextmanager
    def onto_dev_full(path, suffix=""):
        yield Path("/dev/full")  # never removed: this stands in for the temporary file only

    src = audio.write(tmp_path / f"a.{ext}", noisy(2.0), RATE)
    monkeypatch.setattr(audio, "atomic_write", onto_dev_full)
    with pytest.raises(AudioError, match=rf"o\.{ext}: cannot write: no space left on device$"):
        enhance_file(tiny_model, src, tmp_path / f"o.{ext}", chunk_seconds=0.5)


def test_a_broken_symlink_in_a_folder_is_an_error_line(tmp_path, model_file, capsys):
    d = tmp_path / "in"
    audio.write(d / "good.wav", noisy(0.3), RATE)
    (d / "gone.wav").symlink_to(tmp_path / "moved-away.wav")
    (d / "ok.wav").symlink_to(d / "good.wav")  # a working link is an input of its own
    assert run([str(d), "-o", str(tmp_path / "out"), "--model", model_file]) == 1
    captured = capsys.readouterr()
    errors = error_lines(captured.err)
    assert len(errors) == 1 and "gone.wav" in errors[0] and "broken symbolic link" in errors[0], errors
    assert "enhanced 2 of 3 file(s)" in captured.out and "1 failed" in captured.out
    assert all_files(tmp_path / "out") == ["good.wav", "ok.wav"]


def test_a_name_with_a_newline_is_quoted_in_its_one_error_line(tmp_path, model_file, capsys):
    d = tmp_path / "in"
    audio.write(d / "fine\nname.wav", noisy(0.3), RATE)
    (d / "bad\nname.wav").write_bytes(b"")
    assert run([str(d), "-o", str(tmp_path / "out"), "--model", model_file]) == 1
    err = capsys.readouterr().err
    errors = error_lines(err)
    assert len(errors) == 1 and repr(str(d / "bad\nname.wav")) in errors[0] and "empty file" in errors[0]
    assert len(err.strip().splitlines()) == 1, err
    assert all_files(tmp_path / "out") == ["fine\nname.wav"]


def test_progress_and_messages_go_to_stderr_only_the_summary_to_stdout(tmp_path, model_file, capsys):
    audio.write(tmp_path / "in" / "a.wav", noisy(0.3), RATE)
    (tmp_path / "in" / "empty.wav").write_bytes(b"")
    assert cli.main(["enhance", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--model", model_file]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [f"enhanced 1 of 2 file(s) into {tmp_path / 'out'}; 1 failed"]
    assert "empty file" in captured.err


def test_device_defaults_to_auto_and_help_shows_every_default(tmp_path, tiny_model, monkeypatch, capsys):
    import sepssl
    from sepssl.enhance import resolve_device

    args = cli.build_parser().parse_args(["enhance", "a.wav", "-o", "out"])
    assert args.device == "auto"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda" and resolve_device("cpu") == "cpu"
    asked = []
    monkeypatch.setattr(sepssl, "load_model", lambda name, device: asked.append(device) or tiny_model)
    audio.write(tmp_path / "a.wav", noisy(0.3), RATE)
    assert run([str(tmp_path / "a.wav"), "-o", str(tmp_path / "out")]) == 0
    assert asked == ["cuda"]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    with pytest.raises(SystemExit):
        cli.main(["enhance", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for default in ["--chunk-seconds CHUNK_SECONDS process long files in chunks of this length "
                    "(memory stays flat) (default: 10.0)", "(default: auto)", "(default: model,",
                    "CPU threads for torch (default: torch's own", "--overwrite", "examples:",
                    "sepssl enhance - -o - < noisy.wav > enhanced.wav"]:
        assert default in text, default


class _Pipe(io.BytesIO):
    """A pipe's end: no seeking (stdin and stdout of `a | sepssl enhance - -o - | b`)."""

    def seekable(self):
        return False

    def seek(self, *args):
        raise io.UnsupportedOperation("seek")

    def tell(self):
        raise io.UnsupportedOperation("tell")


def stdio(monkeypatch, data):
    stdin, stdout = _Pipe(data), _Pipe()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(stdin))
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(stdout, write_through=True))
    return stdout


@pytest.mark.parametrize("fmt, subtype, out_subtype", [("WAV", "FLOAT", "FLOAT"), ("FLAC", "PCM_24", "PCM_24"),
                                                       ("OGG", "VORBIS", "PCM_16")])
def test_stdin_to_stdout(tmp_path, model_file, tiny_model, monkeypatch, capsys, fmt, subtype, out_subtype):
    from sepssl.enhance import enhance_file

    x = np.stack([noisy(1.0, 22050, seed=c) for c in range(2)], axis=1)
    src = tmp_path / f"in.{fmt.lower()}"
    sf.write(src, x, 22050, format=fmt, subtype=subtype)
    monkeypatch.chdir(tmp_path)
    stdout = stdio(monkeypatch, src.read_bytes())
    assert run(["-", "-o", "-", "--model", model_file]) == 0
    out = stdout.getvalue()
    got = sf.info(io.BytesIO(out))
    assert (got.format, got.samplerate, got.channels, got.subtype) == ("WAV", 22050, 2, out_subtype)
    if fmt != "OGG":
        assert got.frames == x.shape[0]
        enhance_file(tiny_model, src, tmp_path / "ref.wav", format="WAV")
        ref = (tmp_path / "ref.wav").read_bytes()
        assert out[:44] == ref[:44]                       # the same header ...
        a, _ = sf.read(io.BytesIO(out))
        b, _ = sf.read(io.BytesIO(ref))
        # ... and the same samples, to the last bit of the format: float sums in torch's
        # kernels may differ in the last place between runs on a loaded machine
        lsb = 2.0 ** -23 if out_subtype == "PCM_24" else 1e-6
        assert np.abs(a - b).max() <= lsb
    assert not (tmp_path / "-").exists() and capsys.readouterr().err == ""


def test_stdin_that_is_not_audio_is_an_error_and_writes_nothing(tmp_path, model_file, monkeypatch, capsys):
    stdout = stdio(monkeypatch, b"")
    assert run(["-", "-o", "-", "--model", model_file]) == 1
    assert stdout.getvalue() == b""
    assert error_lines(capsys.readouterr().err) == ["error: <stdin>: empty file (0 bytes)"]


@pytest.mark.parametrize("args", [["a.wav", "-o", "-"], ["-", "a.wav", "-o", "-"], ["-", "-o", "outdir"]])
def test_stdout_goes_with_stdin_only(tmp_path, model_file, monkeypatch, capsys, args):
    monkeypatch.chdir(tmp_path)
    audio.write(tmp_path / "a.wav", noisy(0.3), RATE)
    stdio(monkeypatch, b"")
    assert run([*args, "--model", model_file]) == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "stdin" in err and "stdout" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav"]  # no folder named "-"


def test_audio_is_not_written_to_a_terminal(tmp_path, model_file, monkeypatch, capsys):
    stdout = stdio(monkeypatch, b"")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert run(["-", "-o", "-", "--model", model_file]) == 2
    assert "terminal" in capsys.readouterr().err and stdout.getvalue() == b""


@pytest.mark.slow
def test_console_script_pipes_stdin_to_stdout(tmp_path, model_file):
    buf = io.BytesIO()
    sf.write(buf, noisy(1.0), RATE, format="WAV", subtype="PCM_16")
    done = subprocess.run([sys.executable, "-m", "sepssl.cli", "enhance", "-", "-o", "-", "--model", model_file],
                          input=buf.getvalue(), capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    got = sf.info(io.BytesIO(done.stdout))
    assert (got.samplerate, got.channels, got.subtype, got.frames) == (RATE, 1, "PCM_16", RATE)
    assert b"Traceback" not in done.stderr
