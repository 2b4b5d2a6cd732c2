import pytest
import torch

from sepssl import losses
from sepssl.dsp import mixing, overlap_add, stft


def test_stft_perfect_reconstruction_batched():
    x = torch.randn(3, 2, 16000)
    spec = stft.stft(x, 512, 128)
    assert spec.shape[:3] == (3, 2, 257)
    y = stft.istft(spec, 512, 128, x.shape[-1])
    assert torch.allclose(x, y, atol=1e-5)


@pytest.mark.parametrize("snr", [-5.0, 0.0, 12.5])
def test_mix_at_snr_hits_the_requested_snr_per_example(snr):
    torch.manual_seed(0)
    s, n = torch.randn(4, 8000), 3 * torch.randn(4, 8000)
    target = torch.tensor([snr, snr + 1, snr + 2, snr + 3])
    mix, scaled = mixing.mix_at_snr(s, n, target)
    assert torch.allclose(mix, s + scaled)
    measured = 10 * torch.log10(s.pow(2).sum(-1) / scaled.pow(2).sum(-1))
    assert torch.allclose(measured, target, atol=1e-3)


def test_uniform_is_within_range_and_seeded():
    like = torch.zeros(1)
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    a, b = mixing.uniform(100, -5, 5, like, g1), mixing.uniform(100, -5, 5, like, g2)
    assert torch.equal(a, b) and a.min() >= -5 and a.max() < 5


def test_peak_normalize_uses_one_gain_per_example():
    a, b = torch.tensor([[0.5, 3.0], [0.1, 0.2]]), torch.tensor([[1.0, 1.0], [0.1, 0.1]])
    na, nb = mixing.peak_normalize(a, b)
    assert na.abs().max() <= 0.99 + 1e-6
    assert torch.allclose(na[0] / a[0], nb[0] / b[0])  # same gain for both signals
    assert torch.equal(na[1], a[1])                      # no gain above 1


def test_mixture_consistency_sums_to_mixture():
    est, mix = torch.randn(2, 4, 100), torch.randn(2, 100)
    out = mixing.mixture_consistency(est, mix)
    assert torch.allclose(out.sum(1), mix, atol=1e-5)


@pytest.mark.parametrize("length, chunk, overlap", [(1000, 100, 20), (100, 100, 20), (50, 100, 20),
                                                     (1001, 97, 31), (999, 100, 0)])
def test_overlap_add_of_identity_is_exact(length, chunk, overlap):
    x = torch.randn(2, length)
    starts = overlap_add.chunk_starts(length, chunk, overlap)
    assert starts[-1] + chunk >= length
    pieces = list(overlap_add.overlap_add((x[:, s:s + chunk] for s in starts), overlap))
    y = torch.cat(pieces, -1)
    assert y.shape == x.shape
    assert torch.allclose(x, y, atol=1e-6)


@pytest.mark.parametrize("fraction", [0.0, 0.25, 0.5, 0.75])
@pytest.mark.parametrize("length", [1, 64, 65, 1000, 1003])
def test_overlap_add_keeps_length_and_reconstructs_at_any_overlap(fraction, length):
    chunk = 64
    overlap = int(fraction * chunk)
    starts = overlap_add.chunk_starts(length, chunk, overlap)
    assert starts[-1] + chunk >= length and length - starts[-1] > min(overlap, length - 1)
    ones = torch.ones(2, length)
    y = torch.cat(list(overlap_add.overlap_add((ones[:, s:s + chunk] for s in starts), overlap)), -1)
    assert y.shape == ones.shape
    assert torch.allclose(y, ones, atol=1e-6)
    x = torch.randn(2, length)
    y = torch.cat(list(overlap_add.overlap_add((x[:, s:s + chunk] for s in starts), overlap)), -1)
    assert torch.allclose(y, x, atol=1e-5)
    # chunk k holds the constant k: the cross-fade rises from one chunk to the next, no steps
    levels = (torch.full((1, min(chunk, length - s)), float(k)) for k, s in enumerate(starts))
    ramp = torch.cat(list(overlap_add.overlap_add(levels, overlap)), -1)[0]
    assert ramp.shape == (length,) and (ramp.diff() >= -1e-6).all()
    if overlap and len(starts) > 1:
        assert ramp.diff().max() < 0.25


@pytest.mark.parametrize("overlap", [0, 16, 32, 48])
def test_overlap_add_yields_each_sample_once_no_later_chunk_can_change_it(overlap):
    chunk, length = 64, 1000
    starts = overlap_add.chunk_starts(length, chunk, overlap)
    fed = []

    def chunks():
        for k, s in enumerate(starts):
            fed.append(k)
            yield torch.ones(1, min(chunk, length - s))

    done = 0
    for piece in overlap_add.overlap_add(chunks(), overlap):
        done += piece.shape[-1]
        k = fed[-1]   # chunks 0..k are in; chunk k + 1 starts at starts[k + 1]
        assert done <= (starts[k + 1] if k + 1 < len(starts) else length)
        if k >= 1:
            assert done >= starts[k - 1]   # output stays at most about a chunk behind the input
    assert done == length


def test_overlap_add_rejects_an_inner_chunk_no_longer_than_the_overlap():
    with pytest.raises(ValueError, match="longer than the overlap"):
        list(overlap_add.overlap_add([torch.ones(1, 10), torch.ones(1, 10)], 10))


def test_overlap_add_fades_are_complementary():
    w = overlap_add.fade_in(64, torch.zeros(1))
    assert torch.allclose(w + w.flip(0), torch.ones(64), atol=1e-6)


def test_chunk_starts_rejects_bad_overlap():
    with pytest.raises(ValueError):
        overlap_add.chunk_starts(100, 10, 10)


def test_si_sdr_and_snr_values():
    ref = torch.randn(3, 4000)
    noise = torch.randn(3, 4000)
    noise = noise - (noise * ref).sum(-1, keepdim=True) / ref.pow(2).sum(-1, keepdim=True) * ref
    est = ref + 0.1 * noise * ref.norm(dim=-1, keepdim=True) / noise.norm(dim=-1, keepdim=True)
    assert torch.allclose(losses.si_sdr(est, ref, zero_mean=False), torch.full((3,), 20.0), atol=1e-3)
    assert torch.allclose(losses.si_sdr(3 * est, ref, zero_mean=False), torch.full((3,), 20.0), atol=1e-3)
    assert torch.allclose(losses.snr(est, ref), torch.full((3,), 20.0), atol=1e-3)
    capped = losses.snr(ref, ref, soft_cap_db=30.0)           # perfect estimate: capped at 30 dB
    assert torch.allclose(capped, torch.full((3,), 30.0), atol=1e-3)


def test_si_sdr_matches_asteroid():
    from asteroid.losses import pairwise_neg_sisdr

    ref = torch.randn(4, 1, 3000)
    est = ref + torch.linspace(0.1, 3, 4).reshape(4, 1, 1) * torch.randn(4, 1, 3000)
    ours = losses.si_sdr(est[:, 0], ref[:, 0])
    theirs = -pairwise_neg_sisdr(est, ref)[:, 0, 0]
    assert torch.allclose(ours, theirs, atol=1e-3)


@pytest.mark.gpu
def test_kernels_run_on_cuda_with_the_same_code():
    x = torch.randn(2, 16000, device="cuda")
    y = stft.istft(stft.stft(x, 512, 128), 512, 128, 16000)
    assert torch.allclose(x, y, atol=1e-4)
    mix, _ = mixing.mix_at_snr(x, torch.randn_like(x), mixing.uniform(2, 0, 5, x))
    assert mix.device.type == "cuda"
    assert losses.si_sdr(mix, x).device.type == "cuda"


def test_limit_attenuation_bounds_the_attenuation_and_keeps_what_the_model_keeps():
    from sepssl.dsp.mixing import limit_attenuation

    noisy = torch.randn(2, 800)
    assert limit_attenuation(noisy * 0.3, noisy, None).equal(noisy * 0.3)
    silenced = limit_attenuation(torch.zeros_like(noisy), noisy, 12.0)  # all taken for noise
    gain_db = 10 * torch.log10(silenced.pow(2).sum() / noisy.pow(2).sum())
    assert torch.isclose(gain_db, torch.tensor(-12.0), atol=1e-4)
    assert torch.allclose(limit_attenuation(noisy, noisy, 6.0), noisy)  # kept is kept
    for bad in (0.0, -3.0, float("nan")):
        with pytest.raises(ValueError, match="positive"):
            limit_attenuation(noisy, noisy, bad)
