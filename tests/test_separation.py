"""Separation: on-device two-talker batches, PIT scoring, denoising pre-training (init_from)."""
import pytest
import torch
from asteroid.losses import PITLossWrapper, pairwise_neg_sisdr

from sepssl import audio, load_model, losses
from sepssl.data.two_talker import build_two_talker
from sepssl.errors import ConfigError
from sepssl.models import Enhancer, InferenceRule
from sepssl.tasks import build_task
from sepssl.train import init_from, train

from conftest import noise, toy_config, voiced


def test_batch_is_two_talkers_at_the_sampled_level():
    task = build_task("separation", level_db=[-5.0, 5.0], gain_db=[0.0, 0.0])
    speech = torch.stack([torch.from_numpy(voiced(0.5, seed=i, f0=100 + 20 * i)) for i in range(4)])
    batch = task.make_batch({"speech": speech, "noise": torch.randn(4, 8000)})
    assert batch.targets.shape == (4, 2, 8000)
    assert torch.allclose(batch.inputs, batch.targets.sum(1), atol=1e-6)
    first, second = batch.targets[:, 0], batch.targets[:, 1]
    assert torch.allclose(first / first.norm(dim=1, keepdim=True),
                          speech / speech.norm(dim=1, keepdim=True), atol=1e-5)
    assert torch.allclose(second / second.norm(dim=1, keepdim=True),
                          speech.roll(1, 0) / speech.roll(1, 0).norm(dim=1, keepdim=True), atol=1e-5)
    level = 10 * torch.log10(second.pow(2).sum(-1) / first.pow(2).sum(-1))
    assert ((level >= -5 - 1e-3) & (level <= 5 + 1e-3)).all()


def test_pit_matches_asteroid_and_ignores_the_order_of_outputs():
    g = torch.Generator().manual_seed(0)
    refs = torch.randn(3, 2, 4000, generator=g)
    est = refs.flip(1) + 0.5 * torch.randn(3, 2, 4000, generator=g)
    matched, perm = losses.pit_si_sdr(est, refs)
    reference = PITLossWrapper(pairwise_neg_sisdr, pit_from="pw_mtx")(est, refs)
    assert torch.allclose(-matched.mean(), reference, rtol=1e-5)
    assert (perm == torch.tensor([1, 0])).all()
    task = build_task("separation")
    batch = task.make_batch({"speech": torch.randn(3, 4000), "noise": torch.randn(3, 4000)})
    assert torch.isclose(task.loss(batch.targets, batch), task.loss(batch.targets.flip(1), batch))
    spare, _ = losses.pit_si_sdr(torch.cat([torch.zeros_like(est), est], 1), refs)
    assert torch.allclose(spare, matched)  # extra (silent) outputs are left unmatched
    with pytest.raises(ValueError, match="cannot match"):
        losses.pit_si_sdr(est[:, :1], refs)


def test_init_from_keeps_every_weight_but_the_output_layer(tmp_path):
    torch.manual_seed(0)
    spec = {"name": "masker", "hidden": 16, "layers": 1}
    path = Enhancer(spec).save(tmp_path / "enhancer.pt")
    separator = Enhancer(spec, rule=InferenceRule(2, [0, 1])).net
    fresh = init_from(separator, str(path))
    assert fresh == ["mask.weight", "mask.bias"]
    source = load_model(path).net.state_dict()
    assert torch.equal(separator.state_dict()["rnn.weight_ih_l0"], source["rnn.weight_ih_l0"])
    other = Enhancer({"name": "masker", "hidden": 8, "layers": 1}).save(tmp_path / "other.pt")
    with pytest.raises(ConfigError, match="shares no weights"):
        init_from(Enhancer({"name": "masker", "n_fft": 256, "hidden": 16, "layers": 1}).net,
                  str(other))


@pytest.mark.slow
def test_separation_recipe_smoke_with_denoising_pretraining(toy_set, tmp_path, two_talker_valid):
    pre = train(toy_config(toy_set, tmp_path / "pre", "supervised", steps=2))
    cfg = toy_config(toy_set, tmp_path / "sep", "separation",
                     extra=[f"data.train_speech={toy_set}/train/clean", f"data.valid={two_talker_valid}",
                            f"trainer.init_from={pre}"])
    model = load_model(train(cfg))
    assert model.n_outputs == 2 and model.card["selected_by"] == "val/si_sdr"
    logs = (tmp_path / "sep" / "logs" / "version_0" / "metrics.csv").read_text()
    assert "val/si_sdri" in logs
    assert model.separate(torch.randn(1, 8000)).shape == (1, 2, 8000)


@pytest.mark.slow
def test_mixit_separation_trains_on_mixtures_only(toy_set, tmp_path, two_talker_valid):
    cfg = toy_config(toy_set, tmp_path / "mx", "mixit",
                     extra=["task.mode=separate", f"data.valid={two_talker_valid}"])
    model = load_model(train(cfg))
    assert model.n_outputs == 4 and model.speech_outputs == [0, 1, 2, 3]


@pytest.mark.slow
def test_two_talker_sets_pair_different_speakers(small_corpus, tmp_path):
    summary = build_two_talker(small_corpus, tmp_path / "tt", progress=False)
    assert summary["counts"]["test"] == 200
    assert not (tmp_path / "tt" / "train" / "clean").exists()  # training never sees sources
    mixes = sorted((tmp_path / "tt" / "test" / "noisy").glob("*.wav"))
    mix, _ = audio.read(mixes[0])
    sources, _ = audio.read(tmp_path / "tt" / "test" / "clean" / mixes[0].name)
    assert sources.shape[0] == 2
    assert torch.allclose(sources.sum(0), mix[0], atol=1e-3)
    level = 10 * torch.log10(sources[1].pow(2).sum() / sources[0].pow(2).sum())
    assert -5.5 <= level <= 5.5
