"""Training crops (`Clips`, `RawClips`): lengths, padding rules, which files
items take, and crops from files at another rate read only the span they need."""
import numpy as np
import pytest
import torch

from sepssl import audio
from sepssl.data import datasets
from sepssl.data.datasets import Clips, RawClips
from sepssl.errors import DataError

from conftest import RATE, noise, voiced

pytestmark = pytest.mark.usefixtures("one_thread")


def constant_files(folder, levels, seconds, rate=RATE):
    """One file per level, every sample that level: a crop shows which file it came from."""
    for k, level in enumerate(levels):
        audio.write(folder / f"f{k}.wav", np.full(int(seconds * rate), level, np.float32), rate,
                    subtype="FLOAT")
    return folder


def whole_file_crop(path, rate, frames, seed):
    """The crop the old code made: the whole file decoded and resampled, then cut."""
    torch.manual_seed(seed)
    wav, _ = audio.read(path, rate, check=False)
    want = min(frames, wav.shape[-1])
    start = int(torch.randint(0, wav.shape[-1] - want + 1, (1,)))
    return wav.mean(0)[start:start + want]


@pytest.mark.parametrize("file_rate", [48000, 44100, 22050, 8000])
@pytest.mark.parametrize("seconds", [3.0, 0.4])
def test_crop_from_another_rate_reads_only_its_span_and_matches_the_whole_file(
        tmp_path, monkeypatch, file_rate, seconds):
    x = np.stack([voiced(seconds, file_rate, seed=1) + noise(seconds, file_rate, seed=2),
                  voiced(seconds, file_rate, seed=3)])  # (channels, time)
    path = audio.write(tmp_path / "src" / "a.flac", x, file_rate, subtype="PCM_24")
    frames = int(0.5 * RATE)
    clips = Clips(tmp_path / "src", RATE, frames)
    expected = [whole_file_crop(path, RATE, frames, seed) for seed in range(5)]

    spans = []
    read_span = audio.read_span
    monkeypatch.setattr(audio, "read", lambda *a, **k: pytest.fail("decoded the whole file"))
    monkeypatch.setattr(audio, "read_span",
                        lambda p, s, n: spans.append(n) or read_span(p, s, n))
    for seed, want in enumerate(expected):
        torch.manual_seed(seed)
        crop = clips.crop(0, tile=False)
        assert crop.shape == (frames,)
        n = want.shape[-1]
        assert torch.allclose(crop[:n], want, atol=1e-5)
        assert torch.all(crop[n:] == 0)                       # a short file is zero-padded
    period = file_rate // np.gcd(file_rate, RATE)  # the span starts on a common grid point
    span_limit = frames * file_rate // RATE + 2 * audio.resample_margin(file_rate, RATE) + period + 2
    assert len(spans) == 5 and max(spans) <= span_limit
    if seconds == 3.0:
        assert max(spans) < x.shape[-1] / 2


def test_raw_clips_first_source_counts_the_epoch_others_are_random(tmp_path):
    speech = constant_files(tmp_path / "speech", [0.1, 0.2, 0.3], seconds=0.25)  # shorter than a crop
    noise_dir = constant_files(tmp_path / "noise", [-0.5, -0.6], seconds=0.1)
    music = constant_files(tmp_path / "music", [0.7], seconds=1.0)
    data = RawClips({"speech": speech, "noise": noise_dir, "music": music}, RATE, 0.5)
    assert len(data) == 3
    frames = RATE // 2
    torch.manual_seed(0)
    seen_noise = set()
    for i in range(12):
        item = data[i]
        assert list(item) == ["speech", "noise", "music"]
        assert all(v.shape == (frames,) and v.dtype == torch.float32 for v in item.values())
        s = item["speech"]  # file i mod 3, zero-padded after its 0.25 s
        assert torch.allclose(s[:RATE // 4], torch.full((RATE // 4,), 0.1 * (i % 3 + 1)))
        assert torch.all(s[RATE // 4:] == 0)
        n = item["noise"]   # a random noise file, tiled over the whole crop
        assert torch.allclose(n, n[0].expand(frames)) and n[0] < 0
        seen_noise.add(round(float(n[0]), 3))
        assert torch.allclose(item["music"], torch.full((frames,), 0.7))
    assert seen_noise == {-0.5, -0.6}
    assert len(RawClips({"speech": speech}, RATE, 0.5, items_per_epoch=7)) == 7


@pytest.mark.parametrize("file_rate", [RATE, 2 * RATE])
def test_paired_raw_clips_crop_the_same_file_at_the_same_place(tmp_path, file_rate):
    for part, sign in (("speech", 1.0), ("noise", -1.0)):
        for k in range(3):      # a ramp: a crop's first value tells where it starts
            ramp = np.linspace(0, 1, file_rate * 2, dtype=np.float32) + k
            audio.write(tmp_path / part / f"{k:02d}.wav", sign * ramp, file_rate, subtype="FLOAT")
    data = RawClips({"speech": tmp_path / "speech", "noise": tmp_path / "noise"}, RATE, 0.5,
                    paired=True)
    torch.manual_seed(0)
    starts = set()
    for i in range(9):
        item = data[i]
        assert torch.allclose(item["speech"], -item["noise"], atol=1e-6)    # same file, same span
        assert int(item["speech"][RATE // 4]) == i % 3                      # file i mod 3
        starts.add(round(float(item["speech"][0]), 2))
    assert len(starts) > 3                                                   # spans are drawn
    audio.write(tmp_path / "noise" / "99.wav", np.zeros(RATE, np.float32), RATE)
    with pytest.raises(DataError, match="do not hold the same file names"):
        RawClips({"speech": tmp_path / "speech", "noise": tmp_path / "noise"}, RATE, 0.5,
                 paired=True)
    audio.write(tmp_path / "speech" / "99.wav", np.zeros(RATE // 2, np.float32), RATE)
    with pytest.raises(DataError, match="differ in duration"):
        RawClips({"speech": tmp_path / "speech", "noise": tmp_path / "noise"}, RATE, 0.5,
                 paired=True)


def test_paired_raw_clips_pad_a_short_recording_in_every_source(tmp_path):
    for part, value in (("speech", 0.25), ("noise", 0.5)):
        audio.write(tmp_path / part / "a.wav", np.full(RATE // 4, value, np.float32), RATE)
    item = RawClips({"speech": tmp_path / "speech", "noise": tmp_path / "noise"}, RATE, 0.5,
                    paired=True)[0]
    for part, value in (("speech", 0.25), ("noise", 0.5)):    # never tiled: the sum stays
        assert torch.allclose(item[part][:RATE // 4], torch.full((RATE // 4,), value))
        assert torch.all(item[part][RATE // 4:] == 0)


def test_raw_clips_tile_overrides_the_default_per_source(tmp_path):
    speech = constant_files(tmp_path / "speech", [0.1], seconds=0.25)
    noise_dir = constant_files(tmp_path / "noise", [-0.5], seconds=0.25)
    item = RawClips({"speech": speech, "noise": noise_dir}, RATE, 0.5,
                    tile={"speech": True, "noise": False})[0]
    assert torch.allclose(item["speech"], torch.full((RATE // 2,), 0.1))
    assert torch.all(item["noise"][RATE // 4:] == 0)
    with pytest.raises(DataError, match="no source named 'nois'"):
        RawClips({"speech": speech, "noise": noise_dir}, RATE, 0.5, tile={"nois": True})
    with pytest.raises(DataError, match="at least one source"):
        RawClips({}, RATE, 0.5)


def test_speech_only_raw_clips_are_the_pretraining_items(tmp_path):
    speech = constant_files(tmp_path / "speech", [0.1, 0.2], seconds=0.25)
    data = RawClips({"speech": speech}, RATE, 0.5, items_per_epoch=4)
    item = data[3]
    assert list(item) == ["speech"] and item["speech"].shape == (RATE // 2,)
    assert torch.allclose(item["speech"][:RATE // 4], torch.full((RATE // 4,), 0.2))


def test_speech_noise_clips_have_the_same_draws_as_before(toy_set):
    train = toy_set / "train"
    data = RawClips({"speech": train / "noisy", "noise": train / "noise"}, RATE, 0.5,
                    items_per_epoch=10)
    assert len(data) == 10
    speech_clips, noise_clips = data.clips["speech"], data.clips["noise"]
    assert speech_clips.files == datasets.list_audio(train / "noisy")
    assert noise_clips.files == datasets.list_audio(train / "noise")
    for i in (0, 3, 9):
        torch.manual_seed(i)
        item = data[i]
        torch.manual_seed(i)  # the old order: the noise file, then the speech crop, the noise crop
        j = int(torch.randint(0, len(noise_clips.files), (1,)))
        speech = speech_clips.crop(i % len(speech_clips.files), tile=False)
        assert list(item) == ["speech", "noise"]
        assert torch.equal(item["speech"], speech)
        assert torch.equal(item["noise"], noise_clips.crop(j, tile=True))
