"""The `mixit` task: the mixtures of mixtures it builds, its constraints, and that it learns."""
import pytest
import torch

from sepssl import load_model
from sepssl.errors import ConfigError
from sepssl.tasks import build_task
from sepssl.tasks.mixit import sparsity
from sepssl.train import train

from conftest import fit, toy_config


def raw(b=6, t=8000, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {"speech": 0.1 * torch.randn(b, t, generator=g),
            "noise": 0.5 * torch.randn(b, t, generator=g)}


def test_enhance_batch_is_noisy_speech_plus_a_noise_clip_at_the_sampled_snr():
    task = build_task("mixit", snr_db=[-5.0, 10.0], gain_db=[0.0, 0.0])
    r = raw()
    batch = task.make_batch(r)
    assert batch.inputs.shape == (6, 8000) and batch.targets.shape == (6, 2, 8000)
    assert torch.allclose(batch.inputs, batch.targets.sum(1), atol=1e-6)
    gain = batch.targets[:, 0, 0] / r["speech"][:, 0]
    assert torch.allclose(batch.targets[:, 0], r["speech"] * gain[:, None], atol=1e-6)
    snr = 10 * torch.log10(batch.targets[:, 0].pow(2).sum(-1) / batch.targets[:, 1].pow(2).sum(-1))
    assert ((snr >= -5 - 1e-3) & (snr <= 10 + 1e-3)).all() and snr.std() > 1


def test_separate_batch_pairs_mixtures_of_the_batch():
    task = build_task("mixit", mode="separate", gain_db=[0.0, 0.0])
    r = raw(b=6)
    batch = task.make_batch(r)
    assert batch.targets.shape == (3, 2, 8000)
    ratio = batch.targets[:, 0, 0] / r["speech"][:3, 0]
    assert torch.allclose(batch.targets[:, 1], r["speech"][3:] * ratio[:, None], atol=1e-6)
    assert task.speech_outputs == (0, 1, 2, 3) and task.only_first == ()


def test_speech_outputs_may_not_explain_the_noise_only_mixture():
    task = build_task("mixit", outputs=4, speech_outputs=1, gain_db=[0.0, 0.0])
    batch = task.make_batch(raw())
    # the speech output holds exactly the noise clip: unconstrained MixIT would send it to
    # mixture 1 and score perfectly; the constrained loss must not.
    est = torch.stack([batch.targets[:, 1], batch.targets[:, 0],
                       torch.zeros_like(batch.inputs), torch.zeros_like(batch.inputs)], 1)
    free = build_task("mixit", outputs=4, speech_outputs=1)
    free.only_first = ()
    assert free.loss(est, batch) < -25 < task.loss(est, batch)


def test_options_are_checked_and_exported():
    with pytest.raises(ConfigError, match="task.mode"):
        build_task("mixit", mode="both")
    with pytest.raises(ConfigError, match="speech_outputs"):
        build_task("mixit", outputs=2, speech_outputs=2)
    rule = build_task("mixit", outputs=8, speech_outputs=2).inference_rule()
    assert rule.n_outputs == 8 and rule.speech_outputs == [0, 1]
    assert rule.mixture_consistency is True


def test_sparsity_is_lowest_with_one_active_output():
    x = torch.randn(2, 1, 1000)
    one = torch.cat([x, torch.zeros(2, 3, 1000)], 1)
    spread = x.repeat(1, 4, 1)
    assert (sparsity(one) < sparsity(spread)).all()
    task = build_task("mixit", sparsity_weight=0.1)
    batch = task.make_batch(raw())
    est = torch.randn(6, 4, 8000)
    plain = build_task("mixit").loss(est, batch)
    assert torch.allclose(task.loss(est, batch), plain + 0.1 * sparsity(est).mean())


def test_mixit_loss_falls_on_a_tiny_problem():
    task = build_task("mixit", gain_db=[0.0, 0.0])
    t = torch.linspace(0, 200, 8000)
    r = {"speech": 0.2 * torch.sin(t * torch.arange(1, 7)[:, None]), "noise": torch.randn(6, 8000)}
    history = fit(task, task.make_batch(r))
    assert history[-1] < history[0] - 1.0, history


@pytest.mark.slow
def test_mixit_recipe_smoke(toy_set, tmp_path):
    cfg = toy_config(toy_set, tmp_path / "mixit", "mixit", extra=["task.outputs=4"])
    model = load_model(train(cfg))
    assert model.n_outputs == 4 and model.mixture_consistency
    x = torch.randn(1, 8000) * 0.1
    assert torch.allclose(model.separate(x).sum(1), x, atol=1e-5)
    assert model.enhance(x).shape == (1, 8000)
