import pytest
import torch

from sepssl import losses
from sepssl.errors import ConfigError
from sepssl.tasks import TASKS, Task, build_task

# the tasks whose step loss is `loss(outputs, batch)` (`unpaired` looks inside its network:
# tests/test_unpaired.py)
SCORED = [n for n in sorted(TASKS) if TASKS[n].loss is not Task.loss]


def raw_batch(b=4, t=8000):
    torch.manual_seed(0)
    return {"speech": 0.1 * torch.randn(b, t), "noise": 0.3 * torch.randn(b, t)}


def test_supervised_builds_mixtures_at_the_sampled_snr():
    task = build_task("supervised", snr_db=[5.0, 5.0], gain_db=[0.0, 0.0])
    raw = raw_batch()
    batch = task.make_batch(raw)
    assert batch.inputs.shape == (4, 8000) and batch.targets.shape == (4, 1, 8000)
    noise = batch.inputs - batch.targets[:, 0]
    snr = 10 * torch.log10(batch.targets[:, 0].pow(2).sum(-1) / noise.pow(2).sum(-1))
    assert torch.allclose(snr, torch.full((4,), 5.0), atol=1e-3)
    assert batch.inputs.abs().max() <= 0.99 + 1e-6


def test_noisy_target_target_is_the_noisy_speech():
    task = build_task("noisy_target", extra_snr_db=[3.0, 3.0], gain_db=[0.0, 0.0])
    raw = raw_batch()
    batch = task.make_batch(raw)
    gain = batch.targets[:, 0, 0] / raw["speech"][:, 0]
    assert torch.allclose(batch.targets[:, 0], raw["speech"] * gain[:, None], atol=1e-6)
    extra = batch.inputs - batch.targets[:, 0]
    snr = 10 * torch.log10(batch.targets[:, 0].pow(2).sum(-1) / extra.pow(2).sum(-1))
    assert torch.allclose(snr, torch.full((4,), 3.0), atol=1e-3)


def default_net():
    from sepssl import load_model

    return load_model("default").net


@pytest.mark.parametrize("name", SCORED)
def test_loss_is_lower_for_the_target_and_has_gradients(name):
    from sepssl.models.enhancer import PRETRAINED

    options = {"remixit": {"teacher": str(PRETRAINED / "default.pt")}}.get(name, {})
    task = build_task(name, **options)
    task.helpers(default_net())  # what the trainer does first (RemixIT loads its teacher)
    batch = task.make_batch(raw_batch())
    m = task.n_outputs
    # the targets on the first outputs, silence on the rest: what a perfect model emits
    perfect = torch.nn.functional.pad(batch.targets, (0, 0, 0, m - batch.targets.shape[1]))
    est = (batch.inputs.unsqueeze(1) / m).repeat(1, m, 1).requires_grad_(True)
    worse = task.loss(est, batch)
    worse.backward()
    assert task.loss(perfect, batch) < worse
    assert est.grad is not None and torch.isfinite(est.grad).all()
    assert task.infer(perfect, batch.inputs).shape == batch.inputs.shape


def test_make_batch_runs_on_the_device_of_the_batch():
    task = build_task("noisy_target")
    batch = task.make_batch({k: v.to(torch.float64) for k, v in raw_batch().items()})
    assert batch.inputs.dtype == torch.float64


def test_unknown_task_and_option_name_the_key():
    with pytest.raises(ConfigError, match="unknown task 'mixitt'"):
        build_task("mixitt")
    with pytest.raises(ConfigError, match="task.snr_dbb"):
        build_task("supervised", snr_dbb=[0, 1])


def test_noisier2noise_correction_is_exported_and_applied():
    from sepssl.models import Enhancer

    task = build_task("noisy_target", correction_alpha=1.0)
    enh = Enhancer({"name": "masker", "hidden": 8, "layers": 1}, rule=task.inference_rule())
    x = torch.randn(1, 4000)
    raw = enh.net(x)[:, 0]
    assert torch.allclose(enh(x), 2 * raw - x, atol=1e-6)
