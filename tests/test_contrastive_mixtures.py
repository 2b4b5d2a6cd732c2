"""Contrastive mixtures: the (anchor, positive, negative) batch layout, the loss terms, the recipe."""
import math
from pathlib import Path

import pytest
import torch

from sepssl import load_model
from sepssl.config import load_config
from sepssl.errors import ConfigError
from sepssl.models import Enhancer
from sepssl.tasks import build_task
from sepssl.tasks.contrastive_mixtures import negative_hinge, positive_distance
from sepssl.train import train

from conftest import fit, raw_batch, snr_db

RECIPE = Path(__file__).resolve().parent.parent / "recipes" / "contrastive_mixtures" / "conf.yaml"


pytestmark = pytest.mark.usefixtures("one_thread")


def cosine(a, b):
    return torch.nn.functional.cosine_similarity(a, b, dim=-1)


def test_batch_layout_anchor_positive_negative():
    b = 16
    task = build_task("contrastive_mixtures", gain_db=[0.0, 0.0])
    raw = raw_batch(b)
    batch = task.make_batch(raw, generator=torch.Generator().manual_seed(1))
    assert batch.inputs.shape == (3 * b, 8000) and batch.targets.shape == (3 * b, 1, 8000)
    t = batch.targets[:, 0]
    added = batch.inputs - t
    anchor, pos, neg = slice(0, b), slice(b, 2 * b), slice(2 * b, 3 * b)
    # targets are the premixtures themselves (noisy speech; no clean speech anywhere)
    assert torch.allclose(t[anchor], raw["speech"]) and torch.equal(t[pos], t[anchor])
    assert torch.allclose(t[neg], raw["speech"].roll(1, 0))
    # positives: same premixture, a different noise (another example's)
    assert torch.allclose(cosine(added[anchor], raw["noise"]), torch.ones(b), atol=1e-4)
    assert torch.allclose(cosine(added[pos], raw["noise"].roll(1, 0)), torch.ones(b), atol=1e-4)
    assert cosine(added[anchor], added[pos]).abs().max() < 0.1
    # negatives: a different premixture, the same noise at the same SNR
    assert torch.allclose(cosine(added[neg], added[anchor]), torch.ones(b), atol=1e-4)
    assert cosine(t[neg], t[anchor]).abs().max() < 0.1
    snr = snr_db(t, added)
    assert torch.allclose(snr[neg], snr[anchor], atol=1e-3)
    assert snr.min() >= -5 - 1e-3 and snr.max() <= 5 + 1e-3
    assert (snr[pos] - snr[anchor]).abs().max() > 0.1                   # SNRs drawn apart


def test_one_gain_per_triplet_and_options_are_used():
    b = 4
    task = build_task("contrastive_mixtures", snr_db=[3.0, 3.0], gain_db=[-20.0, 0.0])
    raw = raw_batch(b)
    batch = task.make_batch(raw, torch.Generator().manual_seed(0))
    t = batch.targets[:, 0]
    gain = t[:b, 0] / raw["speech"][:, 0]
    assert torch.allclose(t[2 * b:, 0] / raw["speech"].roll(1, 0)[:, 0], gain, rtol=1e-4)
    assert gain.std() > 0.01
    snr = snr_db(t, batch.inputs - t)
    assert torch.allclose(snr, torch.full((3 * b,), 3.0), atol=1e-3)
    again = task.make_batch(raw, torch.Generator().manual_seed(0))
    assert torch.equal(again.inputs, batch.inputs)


def test_dtype_batch_size_and_option_errors():
    task = build_task("contrastive_mixtures")
    batch = task.make_batch(raw_batch(dtype=torch.float64))
    assert batch.inputs.dtype == torch.float64 and batch.targets.dtype == torch.float64
    with pytest.raises(ConfigError, match="data.batch_size"):
        task.make_batch(raw_batch(b=1))
    with pytest.raises(ConfigError, match="task.lambda_poss"):
        build_task("contrastive_mixtures", lambda_poss=1.0)
    with pytest.raises(ConfigError, match="task.lambda_neg"):
        build_task("contrastive_mixtures", lambda_neg=-1.0)


def test_pair_terms():
    torch.manual_seed(0)
    t_a, t_n = torch.randn(3, 4000), torch.randn(3, 4000)
    # positive distance: −30 dB floor when equal; 2t against t: ‖t‖² / (2.5‖t‖²) → −3.98 dB
    assert torch.allclose(positive_distance(t_a, t_a), torch.full((3,), -30.0), atol=1e-3)
    expected = torch.full((3,), 10 * math.log10((1 + 2.5e-3) / 2.5))
    assert torch.allclose(positive_distance(2 * t_a, t_a), expected, atol=0.01)
    # scale-invariant: outputs that both shrink do not get any closer (the measured failure of
    # a distance relative to the target's level: the network learnt to turn its output down)
    assert torch.allclose(positive_distance(0.1 * t_a, 0.1 * t_n), positive_distance(t_a, t_n),
                          atol=1e-4)
    # hinge: zero once outputs are at least as far apart as the targets, positive if closer
    assert (negative_hinge(t_a, t_n, t_a, t_n) == 0).all()
    assert (negative_hinge(2 * t_a, -2 * t_n, t_a, t_n) == 0).all()
    assert torch.allclose(negative_hinge(0.5 * t_a, 0.5 * t_n, t_a, t_n),
                          torch.full((3,), 20 * torch.log10(torch.tensor(2.0))), atol=1e-4)
    assert (negative_hinge(t_a, t_a, t_a, t_n) > 50).all()             # collapsed outputs


def test_loss_lower_for_the_targets_finite_gradients_and_weighted_terms():
    task = build_task("contrastive_mixtures")
    batch = task.make_batch(raw_batch())
    perfect = task.loss(batch.targets.clone(), batch)
    parts = task.terms(batch.targets.clone(), batch)
    assert parts["negative"] == 0 and torch.allclose(parts["positive"], torch.tensor(-30.0), atol=0.01)
    est = batch.inputs.unsqueeze(1).clone().requires_grad_(True)
    worse = task.loss(est, batch)
    worse.backward()
    assert perfect < worse and torch.isfinite(est.grad).all()
    parts = task.terms(est.detach(), batch)
    weighted = build_task("contrastive_mixtures", lambda_pos=0.5, lambda_neg=2.0)
    assert torch.allclose(weighted.loss(est.detach(), batch),
                          parts["signal"] + 0.5 * parts["positive"] + 2.0 * parts["negative"])
    # a model that maps a negative pair to the same output pays the hinge
    collapsed = batch.targets.clone()
    collapsed[8:] = collapsed[:4]
    assert task.terms(collapsed, batch)["negative"] > 10
    with pytest.raises(ValueError, match="3·B rows"):
        task.loss(est[:5], batch)
    assert task.infer(batch.targets, batch.inputs).shape == batch.inputs.shape


def test_loss_decreases_on_a_tiny_problem():
    torch.manual_seed(0)
    task = build_task("contrastive_mixtures", gain_db=[0.0, 0.0])
    batch = task.make_batch(raw_batch(b=4, t=4000), torch.Generator().manual_seed(0))
    history = fit(task, batch)
    assert history[-1] < history[0] - 1.0, history


@pytest.mark.slow
def test_recipe_trains_a_few_steps(toy_set, tmp_path):
    cfg = load_config(RECIPE, [
        "model.hidden=16", "model.layers=1",
        f"data.train_speech={toy_set}/train/noisy", f"data.train_noise={toy_set}/train/noise",
        f"data.valid={toy_set}/valid", "data.segment_seconds=0.5", "data.batch_size=2",
        "data.num_workers=0", f"trainer.out_dir={tmp_path / 'run'}", "trainer.max_steps=3",
        "trainer.val_every_steps=3", "trainer.progress=false", "trainer.max_minutes=null"])
    assert cfg.task.name == "contrastive_mixtures" and cfg.data.batch_size == 2
    model = load_model(train(cfg))
    assert model.card["trained_with"] == "contrastive_mixtures" and model.card["steps"] == 3
    out = model.enhance(0.1 * torch.randn(1, 4000))
    assert out.shape == (1, 4000) and torch.isfinite(out).all()


@pytest.mark.gpu
def test_batch_and_loss_on_cuda():
    task = build_task("contrastive_mixtures")
    net = Enhancer({"name": "masker", "hidden": 4, "layers": 1}).net.cuda()
    raw = {k: v.cuda() for k, v in raw_batch().items()}
    with torch.autocast("cuda", dtype=torch.float16):
        batch = task.make_batch(raw, torch.Generator("cuda").manual_seed(0))
        loss = task.loss(net(batch.inputs), batch)
    loss.backward()
    assert batch.inputs.device.type == "cuda" and torch.isfinite(loss)
