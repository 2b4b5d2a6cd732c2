"""The hot core on CUDA with the same code as on the CPU (skipped without a GPU)."""
import pytest
import torch

from sepssl import losses
from sepssl.dsp import mixing, stft
from sepssl.models.enhancer import PRETRAINED
from sepssl.tasks import TASKS, Task, build_task

# the tasks whose step loss is `loss(outputs, batch)` (`unpaired` looks inside its network:
# tests/test_unpaired.py)
SCORED = [n for n in sorted(TASKS) if TASKS[n].loss is not Task.loss]

pytestmark = pytest.mark.gpu  # skipped without CUDA (conftest); `pytest -m gpu` runs them (metrics/run_gpu.sh)


def pair(x):
    return x, x.cuda()


def test_kernels_match_the_cpu():
    g = torch.Generator().manual_seed(0)
    wav, wav_gpu = pair(torch.randn(4, 16000, generator=g))
    spec = stft.stft(wav_gpu, 512, 128)
    assert torch.allclose(stft.istft(spec, 512, 128, 16000).cpu(), wav, atol=1e-5)
    noise, noise_gpu = pair(torch.randn(4, 16000, generator=g))
    snr = torch.tensor([0.0, 5.0, -5.0, 10.0])
    mixed, _ = mixing.mix_at_snr(wav_gpu, noise_gpu, snr.cuda())
    assert torch.allclose(mixed.cpu(), mixing.mix_at_snr(wav, noise, snr)[0], atol=1e-5)
    est, est_gpu = pair(torch.randn(4, 6, 16000, generator=g))
    mixtures = mixing.remix(est, torch.rand(4, 6, generator=g) < 0.5)
    for method in ("exact", "efficient"):
        cpu, _ = losses.mixit_loss(est, mixtures, method=method)
        gpu, _ = losses.mixit_loss(est_gpu, mixtures.cuda(), method=method)
        assert torch.allclose(cpu, gpu.cpu(), rtol=1e-4)
    cpu, _ = losses.pit_si_sdr(est[:, :2], mixtures)
    gpu, _ = losses.pit_si_sdr(est_gpu[:, :2], mixtures.cuda())
    assert torch.allclose(cpu, gpu.cpu(), rtol=1e-4, atol=1e-4)
    assert torch.allclose(mixing.mixture_consistency(est_gpu, wav_gpu).sum(1).cpu(), wav, atol=1e-4)


@pytest.mark.parametrize("name", SCORED)
def test_every_task_builds_its_batch_and_loss_on_the_gpu(name):
    from sepssl import load_model

    options = {"remixit": {"teacher": str(PRETRAINED / "default.pt")}}.get(name, {})
    task = build_task(name, **options)
    aux = task.helpers(load_model("default").net)
    if aux is not None:
        aux.cuda()
    raw = {"speech": 0.1 * torch.randn(4, 16000, device="cuda"),
           "noise": torch.randn(4, 16000, device="cuda")}
    batch = task.make_batch(raw)
    assert batch.inputs.is_cuda and batch.targets.is_cuda
    est = batch.inputs.unsqueeze(1).repeat(1, task.n_outputs, 1).requires_grad_(True)
    task.loss(est, batch).backward()
    assert torch.isfinite(est.grad).all()


def test_unpaired_trains_both_phases_on_the_gpu():
    from sepssl.models import Enhancer

    task = build_task("unpaired", cae_steps=1, noise_weight=1.0)
    enh = Enhancer({"name": "cae_mae"}, rule=task.inference_rule()).cuda()
    raw = {k: 0.1 * torch.randn(4, 16000, device="cuda") for k in ("speech", "clean", "noise")}
    batch = task.make_batch(raw)
    for step in (0, 1):
        loss, terms = task.training_loss(enh, batch, step)
        loss.backward()
        assert torch.isfinite(loss) and all(t.is_cuda for t in terms.values())
    assert enh(raw["speech"]).is_cuda


@pytest.mark.parametrize("name", ["wav2vec2", "cpc", "byol_a"])
def test_every_encoder_pre_trains_on_the_gpu_in_bf16(name):
    """The recipes' encoders (default sizes), one pretext step under bf16 autocast as
    `trainer.precision: bf16-mixed` runs it: finite loss, finite gradients, stats on the GPU."""
    from sepssl.encoders import build_encoder

    torch.manual_seed(0)
    enc = build_encoder(name).cuda().train()
    wav = 0.1 * torch.randn(4, 32000, device="cuda")
    with torch.autocast("cuda", dtype=torch.bfloat16):
        loss, stats = enc.pretext_loss(wav)
    loss.backward()
    enc.after_step()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in enc.parameters() if p.grad is not None)
    assert all(torch.isfinite(torch.as_tensor(v)).all() for v in stats.values())
