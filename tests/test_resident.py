"""Device-resident training data (`data.resident`): batched crops drawn from one int16 tensor,
the same padding / tiling rules as `RawClips`, seeded, and a training run on it."""
import numpy as np
import pytest
import torch

from sepssl import audio
from sepssl.data.resident import ResidentClips, ResidentSource

from conftest import RATE, toy_config

pytestmark = pytest.mark.usefixtures("one_thread")


def ramp_files(folder, lengths):
    for i, n in enumerate(lengths):   # sample k of file i = (i + 1) * 1000 + k, as int16 / 32768
        audio.write(folder / f"f{i}.wav", ((i + 1) * 1000 + np.arange(n)) / 32768.0, RATE,
                    subtype="PCM_16")
    return folder


def test_crops_are_the_files_samples_padded_or_tiled(tmp_path):
    src = ResidentSource(ramp_files(tmp_path / "a", [100, 300]), RATE, "cpu")
    g = torch.Generator().manual_seed(0)
    which = torch.tensor([0, 1, 1, 0])
    padded = src.crops(which, 200, tile=False, generator=g) * 32768
    tiled = src.crops(which, 200, tile=True, generator=g) * 32768
    for row, f in zip(padded.round().long(), which.tolist()):
        n = [100, 300][f]
        vals = row[row != 0]
        assert vals.numel() == min(n, 200) and (vals.diff() == 1).all() and vals[0] >= (f + 1) * 1000
    short = tiled[0].round().long()     # a 100-sample file tiled to 200: its ramp twice
    assert torch.equal(short[:100], short[100:]) and torch.equal(short[:100], 1000 + torch.arange(100))


def test_batches_have_every_source_and_repeat_with_the_seed(toy_set):
    sources = {"speech": toy_set / "train" / "noisy", "noise": toy_set / "train" / "noise"}
    a = next(iter(ResidentClips(sources, RATE, 0.5, batch_size=3, seed=7)))
    b = next(iter(ResidentClips(sources, RATE, 0.5, batch_size=3, seed=7)))
    assert set(a) == {"speech", "noise"} and a["speech"].shape == (3, RATE // 2)
    assert all(torch.equal(a[k], b[k]) for k in a) and a["speech"].dtype == torch.float32


@pytest.mark.slow
def test_a_run_trains_on_resident_data(toy_set, tmp_path):
    from sepssl import load_model
    from sepssl.train import train

    model = load_model(train(toy_config(toy_set, tmp_path / "r", steps=3,
                                        extra=["data.resident=true"])))
    assert model.card["steps"] == 3 and model.card["config"]["data"]["resident"] is True
