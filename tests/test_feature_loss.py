"""The SSL feature loss (`task.feature_loss`): zero for a perfect estimate, a gradient to the
estimate and none to the frozen encoder, validated with the config, trained and resumed."""
import pytest
import torch

from sepssl.config import load_config
from sepssl.encoders import build_encoder, save_encoder
from sepssl.errors import ConfigError
from sepssl.tasks import build_task
from sepssl.tasks.feature_loss import feature_distance

from conftest import TINY, raw_batch, toy_config

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def encoder_file(tmp_path):
    torch.manual_seed(0)
    return save_encoder(build_encoder("cpc", **TINY["cpc"]), tmp_path / "cpc.pt")


def test_the_distance_is_zero_for_the_target_and_pulls_the_estimate(encoder_file):
    task = build_task("supervised", feature_loss={"encoder": str(encoder_file), "weight": 2.0})
    task.helpers(None)
    batch = task.make_batch(raw_batch())
    assert float(task.feature_term(batch.targets.clone(), batch)) == pytest.approx(0.0, abs=1e-6)
    est = batch.inputs.unsqueeze(1).clone().requires_grad_(True)
    term = task.feature_term(est, batch)
    term.backward()
    encoder = task.helpers(None)["feature_encoder"]
    assert term > 0 and torch.isfinite(est.grad).all() and est.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in encoder.parameters())
    last = feature_distance(encoder, est[:, 0].detach(), batch.targets[:, 0], "last")
    assert float(last) > 0
    assert build_task("supervised").feature_term(est, batch) is None


def test_the_option_is_typed_with_the_config():
    with pytest.raises(ConfigError, match=r"task\.feature_loss\.weight"):
        load_config(None, ["task.feature_loss.encoder=x.pt", "task.feature_loss.weight=-1"])
    with pytest.raises(ConfigError, match=r"task\.feature_loss\.encoder"):
        load_config(None, ["task.feature_loss.weight=1"])
    with pytest.raises(ConfigError, match=r"task\.feature_loss"):
        load_config(None, ["task.name=mixit", "task.feature_loss.encoder=x.pt"])


@pytest.mark.slow
def test_a_run_with_the_feature_loss_trains_logs_it_and_resumes(toy_set, tmp_path, encoder_file):
    from sepssl import load_model
    from sepssl.train import train

    extra = [f"task.feature_loss.encoder={encoder_file}", "trainer.log_every_steps=1"]
    out = tmp_path / "run"
    train(toy_config(toy_set, out, "noisy_target", steps=2, extra=extra))
    model = load_model(train(toy_config(toy_set, out, "noisy_target", steps=4, extra=extra)))
    assert model.card["steps"] == 4
    state = torch.load(out / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    assert any(k.startswith("helpers.feature_encoder.") for k in state)
    assert not any("feature_encoder" in k for k in torch.load(out / "model.pt", weights_only=True)["state_dict"])
    logs = next((out / "logs").rglob("metrics.csv")).read_text()
    assert "train/feature_loss" in logs


def test_random_windows_take_the_same_samples_of_both_signals():
    from sepssl.tasks.feature_loss import random_windows

    est = torch.arange(40.0).reshape(2, 20)
    a, b = random_windows(est, est + 100, 5, torch.Generator().manual_seed(0))
    assert a.shape == (2, 5) and torch.equal(b, a + 100)
    assert torch.equal(a[:, 1:] - a[:, :-1], torch.ones(2, 4))   # contiguous windows
    whole, _ = random_windows(est, est, 50)
    assert torch.equal(whole, est)


def test_a_windowed_feature_term_is_zero_for_the_target(encoder_file):
    task = build_task("supervised", feature_loss={"encoder": str(encoder_file), "seconds": 0.25})
    task.helpers(None)
    batch = task.make_batch(raw_batch())
    assert float(task.feature_term(batch.targets.clone(), batch)) == pytest.approx(0.0, abs=1e-6)
    est = batch.inputs.unsqueeze(1).clone().requires_grad_(True)
    task.feature_term(est, batch).backward()
    touched = (est.grad[:, 0].abs() > 0).sum(-1)
    assert (touched <= 0.25 * 16000 + 1).all() and (touched > 0).all()


def test_the_feature_term_falls_on_a_tiny_problem(encoder_file):
    from sepssl.models import Enhancer

    task = build_task("supervised", feature_loss={"encoder": str(encoder_file), "weight": 5.0})
    task.helpers(None)
    batch = task.make_batch(raw_batch())
    torch.manual_seed(0)
    enh = Enhancer({"name": "masker", "hidden": 16, "layers": 1}, rule=task.inference_rule())
    opt = torch.optim.Adam(enh.parameters(), lr=0.01)
    history = []
    for _ in range(25):
        loss, terms = task.training_loss(enh, batch, 0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(float(terms["feature_loss"]))
    assert history[-1] < 0.8 * history[0], history[::5]
