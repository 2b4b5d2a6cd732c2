"""MixIT kernels: same values and gradients as asteroid's wrapper, right partitions, any M."""
import itertools

import pytest
import torch
from asteroid.losses import MixITLossWrapper, multisrc_neg_sisdr

from sepssl import losses
from sepssl.dsp import mixing


def soft_cap_snr_loss(est, ref):
    return -losses.snr(est, ref, soft_cap_db=30.0).mean(-1)


ASTEROID = {"si_sdr": multisrc_neg_sisdr, "snr": soft_cap_snr_loss}


def problem(b=3, m=4, t=4000, seed=0, noise=0.3):
    """Outputs that are noisy versions of sources, mixtures = random binary remixes of them."""
    g = torch.Generator().manual_seed(seed)
    sources = torch.randn(b, m, t, generator=g)
    truth = torch.rand(b, m, generator=g) < 0.5
    mixtures = mixing.remix(sources, truth)
    est = sources + noise * torch.randn(b, m, t, generator=g)
    return est, mixtures, truth


@pytest.mark.parametrize("loss", ["snr", "si_sdr"])
@pytest.mark.parametrize("m", [2, 3, 5])
def test_values_and_gradients_match_asteroid(loss, m):
    est, mixtures, _ = problem(m=m, noise=1.0)
    mine = est.clone().requires_grad_(True)
    theirs = est.clone().requires_grad_(True)
    value, _ = losses.mixit_loss(mine, mixtures, loss=loss)
    reference = MixITLossWrapper(ASTEROID[loss], generalized=True)(theirs, mixtures)
    value.mean().backward()
    reference.backward()
    assert torch.allclose(value.mean(), reference, rtol=1e-5)
    assert torch.allclose(mine.grad, theirs.grad, rtol=1e-4, atol=1e-9)


def brute_force(est, mixtures, loss, only_first=()):
    """The definition: every assignment evaluated in the time domain, one at a time."""
    m = est.shape[1]
    best = None
    for bits in itertools.product([True, False], repeat=m):
        if any(not bits[i] for i in only_first):
            continue
        a = torch.tensor(bits).expand(est.shape[0], m)
        remixed = mixing.remix(est, a)
        v = (soft_cap_snr_loss(remixed, mixtures) if loss == "snr"
             else -losses.si_sdr(remixed, mixtures).mean(-1))
        best = v if best is None else torch.minimum(best, v)
    return best


@pytest.mark.parametrize("loss", ["snr", "si_sdr"])
def test_exact_mixit_is_the_minimum_over_all_assignments(loss):
    est, mixtures, _ = problem(b=6, m=6, noise=2.0, seed=3)
    value, to_first = losses.mixit_loss(est, mixtures, loss=loss)
    assert torch.allclose(value, brute_force(est, mixtures, loss), rtol=1e-6)
    constrained, to_first = losses.mixit_loss(est, mixtures, loss=loss, only_first=(0, 1))
    assert to_first[:, :2].all()
    assert torch.allclose(constrained, brute_force(est, mixtures, loss, (0, 1)), rtol=1e-6)


def test_float64_statistics_find_the_right_partition_near_perfect_estimates():
    # ~78 dB SNR outputs: float32 statistics cancel catastrophically here.
    est, mixtures, truth = problem(b=8, m=8, t=32000, noise=1.3e-4, seed=1)
    for loss in ("snr", "si_sdr"):
        value, to_first = losses.mixit_loss(est, mixtures, loss=loss, soft_cap_db=None)
        flipped = ~truth
        assert ((to_first == truth).all(1) | (to_first == flipped).all(1)).all()
        assert (value < -70).all()


def test_sixteen_outputs_run_with_gradients():
    est, mixtures, truth = problem(b=2, m=16, t=2000, noise=0.05)
    est.requires_grad_(True)
    value, to_first = losses.mixit_loss(est, mixtures)
    value.mean().backward()
    assert ((to_first == truth).all(1) | (to_first == ~truth).all(1)).all()
    assert torch.isfinite(est.grad).all()


def test_efficient_mixit_usually_picks_the_exact_optimum():
    est, mixtures, _ = problem(b=64, m=8, noise=0.5, seed=5)
    exact, a_exact = losses.mixit_loss(est, mixtures, method="exact")
    approx, a_approx = losses.mixit_loss(est, mixtures, method="efficient")
    same = (a_exact == a_approx).all(1).float().mean()
    assert same >= 0.9
    assert (approx >= exact - 1e-5).all()  # never better than the optimum


def test_assignment_table_and_errors():
    table = losses.binary_assignments(5, only_first=(0,))
    assert table.shape == (16, 5) and table[:, 0].all()
    assert len({tuple(r.tolist()) for r in table}) == 16
    with pytest.raises(ValueError, match="exactly two"):
        losses.mixit_loss(torch.randn(1, 3, 100), torch.randn(1, 3, 100))


def test_silent_estimate_scores_badly_not_zero():
    assert losses.si_sdr(torch.zeros(1, 100), torch.randn(1, 100)) < -70


@pytest.mark.gpu
def test_mixit_on_cuda_matches_cpu():
    est, mixtures, _ = problem(m=6, noise=1.0)
    cpu, a_cpu = losses.mixit_loss(est, mixtures)
    gpu, a_gpu = losses.mixit_loss(est.cuda(), mixtures.cuda())
    assert torch.allclose(cpu, gpu.cpu(), rtol=1e-4) and (a_cpu == a_gpu.cpu()).all()
