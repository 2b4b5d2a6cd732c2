"""SSL encoders (wav2vec 2.0, CPC, BYOL-A): the pretext objectives' shapes and sampling logic,
learning on tiny problems, collapse statistics, encoder files (save → load, torchaudio format)
and the masker's encoder front-end (frozen and fine-tuned, saved inside an enhancer)."""
import math

import numpy as np
import pytest
import torch

from conftest import RATE, TINY, W2V_CONV, noise, voiced
from sepssl.encoders import ENCODERS, build_encoder, front_end, load_encoder, save_encoder
from sepssl.encoders.byol_a import mixup_log_mel, random_resize_crop
from sepssl.encoders.objectives import ema_update, embedding_std, info_nce, sample_excluding, span_mask
from sepssl.encoders.wav2vec2 import masked_distractors
from sepssl.errors import ConfigError, ModelError
from sepssl.models import Enhancer, STFTMasker, load_model


def tiny(name, **options):
    torch.manual_seed(0)
    return build_encoder(name, **{**TINY[name], **options})


def speech(batch=4, seconds=1.0, with_noise=True):
    return torch.stack([torch.from_numpy(voiced(seconds, seed=i, f0=100 + 30 * i)
                                         + (noise(seconds, seed=i) if with_noise else 0))
                        for i in range(batch)])


def _runs(row: torch.Tensor) -> list[int]:
    """Lengths of the runs of True in a 1-D boolean tensor."""
    x = np.concatenate([[0], row.numpy().astype(int), [0]])
    d = np.diff(x)
    return list(np.flatnonzero(d == -1) - np.flatnonzero(d == 1))


# -- pure helpers ------------------------------------------------------------------------------

def test_span_mask_share_and_spans():
    g = torch.Generator().manual_seed(0)
    mask = span_mask(32, 2000, 0.65, 10, generator=g)
    expected = 1 - (1 - 0.65 / 10) ** 10                      # ≈ 0.489: spans overlap
    assert mask.shape == (32, 2000) and mask.dtype == torch.bool
    assert abs(mask.float().mean().item() - expected) < 0.02
    runs = [r for row in mask for r in _runs(row)]
    assert min(runs) >= 10                                     # spans stay whole
    sparse = span_mask(32, 2000, 0.02, 10, generator=g)        # few overlaps: runs of exactly 10
    runs = [r for row in sparse for r in _runs(row)]
    assert min(runs) >= 10 and np.mean(np.array(runs) == 10) > 0.9
    short = span_mask(8, 5, 0.01, 10, generator=g)             # always ≥ 2 masked frames a row
    assert (short.sum(1) >= 2).all()


def test_sample_excluding_never_returns_the_positive():
    g = torch.Generator().manual_seed(0)
    high = torch.randint(2, 8, (500,), generator=g)
    positive = (torch.rand(500, generator=g) * high).long()
    idx = sample_excluding(positive, high, 40, generator=g)
    assert idx.shape == (500, 40)
    assert (idx != positive[:, None]).all()
    assert (idx >= 0).all() and (idx < high[:, None]).all()
    # every other value is reachable: with high = 3 and positive 1, both 0 and 2 appear
    idx = sample_excluding(torch.tensor([1]), 3, 200, generator=g)
    assert set(idx.flatten().tolist()) == {0, 2}


def test_wav2vec2_distractors_are_other_masked_frames_of_the_same_utterance():
    g = torch.Generator().manual_seed(1)
    mask = span_mask(4, 60, 0.65, 10, generator=g)
    row, frame, neg = masked_distractors(mask, 25, generator=g)
    assert row.shape == frame.shape == (int(mask.sum()),) and neg.shape == (row.shape[0], 25)
    assert (row[neg] == row[:, None]).all()                    # same utterance
    assert mask[row[neg], frame[neg]].all()                    # masked frames only
    assert (frame[neg] != frame[:, None]).all()                # never the positive itself


def test_info_nce_prefers_the_positive_and_ignores_invalid_distractors():
    pos = torch.full((6,), 10.0)
    neg = torch.zeros(6, 5)
    loss, acc = info_nce(pos, neg)
    assert loss < 1e-3 and acc == 1.0
    chance, tied = info_nce(torch.zeros(6), torch.zeros(6, 5))
    assert abs(chance.item() - math.log(6)) < 1e-5
    assert tied == 0.0                            # all alike (collapse) is not a right answer
    neg[:, 0] = 50.0                                           # a copy of the target...
    invalid = torch.zeros(6, 5, dtype=torch.bool)
    invalid[:, 0] = True                                       # ...is left out
    loss_inv, acc_inv = info_nce(pos, neg, invalid)
    assert loss_inv < 1e-3 and acc_inv == 1.0


def test_embedding_std_flags_collapse():
    assert embedding_std(torch.ones(8, 16)).item() == 0.0
    spread = embedding_std(torch.randn(512, 16, generator=torch.Generator().manual_seed(0)))
    assert abs(spread.item() - 1 / math.sqrt(16)) < 0.02


def test_byol_a_augmentations_keep_shapes_and_mix_as_powers():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 64, 50, generator=g)
    assert torch.allclose(mixup_log_mel(x, x, 0.4, g), x, atol=1e-5)   # mixing with itself
    quiet = torch.full_like(x, -40.0)            # a silent partner: only (1 − λ)·x remains
    mixed = mixup_log_mel(x, quiet, 0.4, g)
    assert (mixed <= x + 1e-5).all() and (mixed >= x + math.log(0.6) - 1e-4).all()
    out = random_resize_crop(x.unsqueeze(1), (0.6, 1.5), (1.0, 1.5), g)
    assert out.shape == (3, 1, 64, 50) and torch.isfinite(out).all()
    same = random_resize_crop(x.unsqueeze(1), (1.0, 1.0), (1.0, 1.0), g)  # identity crop
    assert torch.allclose(same, x.unsqueeze(1), atol=1e-4)


# -- the objectives ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_objective_shapes_and_collapse_stats(name):
    enc = tiny(name).train()
    wav = speech(batch=3, seconds=1.0)
    loss, stats = enc.pretext_loss(wav)
    assert loss.dim() == 0 and torch.isfinite(loss) and loss.requires_grad
    loss.backward()
    assert "embed_std" in stats
    assert all(torch.isfinite(torch.as_tensor(v)).all() for v in stats.values())
    if name == "wav2vec2":
        for key in ("code_perplexity", "prob_perplexity", "temperature", "diversity",
                    "feature_penalty", "accuracy"):
            assert key in stats
        assert 1.0 <= stats["code_perplexity"] <= 2 * 16          # G·V at most
        assert 0.3 < stats["masked_share"] < 0.8
    enc.eval()
    layers = enc.layer_features(wav)
    assert len(layers) == len(enc.feature_dims)
    frames = math.ceil(wav.shape[-1] / enc.hop)
    for layer, dim in zip(layers, enc.feature_dims):
        assert layer.shape[0] == 3 and layer.shape[2] == dim
        assert frames - 3 <= layer.shape[1] <= frames + 1
    assert enc.embed(wav).shape == (3, enc.feature_dims[-1])
    assert enc.frame_rate == RATE / enc.hop


def test_frame_rates_are_the_papers():
    assert build_encoder("wav2vec2", size="small", pretext=False).frame_rate == 50.0  # 20 ms
    assert build_encoder("cpc", size="small", pretext=False).frame_rate == 100.0      # 10 ms


def _fit(enc, wav, steps, lr, key=None):
    opt = torch.optim.Adam([p for p in enc.parameters() if p.requires_grad], lr=lr)
    history = []
    for _ in range(steps):
        loss, stats = enc.pretext_loss(wav)
        opt.zero_grad()
        loss.backward()
        opt.step()
        enc.after_step()
        history.append(float(stats[key] if key else loss.detach()))
    return history


def test_cpc_info_nce_decreases_on_a_tiny_problem():
    enc = tiny("cpc").train()
    h = _fit(enc, speech(seconds=0.5), steps=40, lr=0.01)    # measured: 2.20 → 1.19
    assert np.mean(h[-5:]) < np.mean(h[:5]) - 0.3, h


def test_wav2vec2_contrastive_loss_decreases_on_a_tiny_problem():
    enc = tiny("wav2vec2", mask_prob=0.3, mask_span=3, feature_grad_mult=1.0).train()
    h = _fit(enc, speech(), steps=40, lr=0.003, key="contrastive")
    assert np.mean(h[-5:]) < np.mean(h[:5]) - 0.2, h


def test_wav2vec2_feature_penalty_gradient_is_scaled_like_the_rest():
    """The CNN gets `feature_grad_mult` of every term's gradient, the feature penalty's too.
    Unscaled, it outweighed the contrastive term in the CNN and pre-training on the corpus
    never left chance."""
    wav = speech()

    def penalty_grad(mult):
        grads = []
        for weight in (0.0, 10.0):
            enc = tiny("wav2vec2", feature_grad_mult=mult, feature_penalty=weight).train()
            torch.manual_seed(1)                                # same mask, Gumbel noise
            loss, _ = enc.pretext_loss(wav)
            loss.backward()
            grads.append(enc.model.feature_extractor.conv_layers[0].conv.weight.grad.clone())
        return grads[1] - grads[0]                              # the penalty's share

    full, scaled = penalty_grad(1.0), penalty_grad(0.1)
    assert full.abs().max() > 0
    assert torch.allclose(scaled, 0.1 * full, rtol=1e-3, atol=1e-7)


def test_byol_a_loss_decreases_on_a_tiny_problem():
    enc = tiny("byol_a").train()
    h = _fit(enc, speech(), steps=20, lr=0.003)
    assert np.mean(h[-5:]) < np.mean(h[:5]) - 0.3, h
    assert enc.pretext.memory.shape[0] == 8                    # the mixup memory is bounded


def test_byol_a_target_follows_by_ema():
    enc = tiny("byol_a", ema=0.9).train()
    with torch.no_grad():
        for p in enc.net.parameters():
            p.add_(1.0)                                        # online ≠ target
    online = {k: v.clone() for k, v in enc.net.state_dict().items()}
    before = {k: v.clone() for k, v in enc.pretext.target_net.state_dict().items()}
    enc.after_step()
    after = enc.pretext.target_net.state_dict()
    for k, v in before.items():
        if v.is_floating_point():
            assert torch.allclose(after[k], 0.9 * v + 0.1 * online[k], atol=1e-6), k
        else:
            assert torch.equal(after[k], online[k])
    assert not any(p.requires_grad for p in enc.pretext.target_net.parameters())
    a, b = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)       # the helper itself
    expect = 0.5 * a.weight.detach() + 0.5 * b.weight.detach()
    ema_update(a, b, 0.5)
    assert torch.allclose(a.weight, expect)


def test_wav2vec2_temperature_anneals_and_is_saved():
    enc = tiny("wav2vec2", gumbel_decay=0.5)
    assert enc.temperature == 2.0
    enc.after_step()
    assert enc.temperature == 1.0
    for _ in range(5):
        enc.after_step()
    assert enc.temperature == 0.5                              # floor
    assert int(enc.state_dict()["pretext.step"]) == 6


def test_unknown_options_are_config_errors_that_name_them():
    with pytest.raises(ConfigError, match="encoder.bogus"):
        build_encoder("cpc", bogus=1)
    with pytest.raises(ConfigError, match="unknown encoder"):
        build_encoder("hubert")
    with pytest.raises(ConfigError, match="encoder.channels"):
        build_encoder("cpc", channels="wide")
    with pytest.raises(ConfigError, match="model.encoder.frozn"):
        front_end({"name": "cpc", "frozn": True})


# -- files -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_save_load_round_trip(name, tmp_path):
    enc = tiny(name).train()
    enc.pretext_loss(speech(batch=2))[0].backward()            # touch BatchNorm statistics
    enc.after_step()
    path = save_encoder(enc, tmp_path / "enc.pt", card={"note": "test"})
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == "sepssl-encoder/1" and raw["name"] == name
    back = load_encoder(path)
    assert back.card == {"note": "test"}
    for k, v in enc.state_dict().items():
        assert torch.equal(back.state_dict()[k], v), k
    wav = speech(batch=2, seconds=0.6)
    enc.eval()
    for a, b in zip(enc.layer_features(wav), back.layer_features(wav)):
        assert torch.equal(a, b)
    lean = load_encoder(path, pretext=False)                   # representation only
    assert not lean.has_pretext
    assert not any(k.startswith("pretext.") for k in lean.state_dict())
    assert torch.equal(lean.embed(wav), enc.embed(wav))


def test_bad_encoder_files_are_model_errors(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        load_encoder(tmp_path / "nope.pt")
    torch.save({"something": torch.zeros(1)}, tmp_path / "x.pt")
    with pytest.raises(ModelError, match="not a sepssl encoder"):
        load_encoder(tmp_path / "x.pt")


def _torchaudio_tiny():
    from torchaudio.models import wav2vec2_model

    torch.manual_seed(3)
    return wav2vec2_model(
        extractor_mode="group_norm", extractor_conv_layer_config=[tuple(c) for c in W2V_CONV],
        extractor_conv_bias=False, encoder_embed_dim=32, encoder_projection_dropout=0.0,
        encoder_pos_conv_kernel=8, encoder_pos_conv_groups=4, encoder_num_layers=2,
        encoder_num_heads=2, encoder_attention_dropout=0.0, encoder_ff_interm_features=64,
        encoder_ff_interm_dropout=0.0, encoder_dropout=0.0, encoder_layer_norm_first=False,
        encoder_layer_drop=0.0, aux_num_out=None).eval()


def test_loads_a_torchaudio_format_wav2vec2_state_dict(tmp_path):
    ta = _torchaudio_tiny()
    torch.save(ta.state_dict(), tmp_path / "w2v.pt")
    enc = load_encoder(tmp_path / "w2v.pt", num_heads=2)       # heads: not in the shapes
    assert enc.options["embed_dim"] == 32 and enc.options["num_layers"] == 2
    assert enc.options["normalize"] is False                   # BASE-style: raw waveform
    wav = speech(batch=2, seconds=0.5)
    want, _ = ta.extract_features(wav)
    got = enc.layer_features(wav)
    assert len(got) == 2 and all(torch.allclose(a, b, atol=1e-5) for a, b in zip(got, want))
    # older saves name the position convolution's weight norm weight_g / weight_v
    old = {k.replace("parametrizations.weight.original0", "weight_g")
           .replace("parametrizations.weight.original1", "weight_v"): v
           for k, v in ta.state_dict().items()}
    torch.save(old, tmp_path / "old.pt")
    got_old = load_encoder(tmp_path / "old.pt", num_heads=2).layer_features(wav)
    assert torch.allclose(got_old[-1], want[-1], atol=1e-5)
    # pre-training can start from it: the pretext heads are fresh
    full = load_encoder(tmp_path / "w2v.pt", num_heads=2, negatives=5)
    assert torch.isfinite(full.train().pretext_loss(wav)[0])


# -- the masker's front-end ----------------------------------------------------------------------

def test_masker_without_encoder_is_unchanged():
    net = STFTMasker(hidden=8, layers=1)
    assert sorted({k.split(".")[0] for k in net.state_dict()}) == ["mask", "rnn"]
    assert net.rnn.input_size == 257 and net.encoder_spec is None


@pytest.mark.parametrize("name", sorted(ENCODERS))
@pytest.mark.parametrize("frozen", [True, False])
def test_masker_with_encoder_forward_backward(name, frozen, tmp_path):
    path = save_encoder(tiny(name), tmp_path / f"{name}.pt")
    net = STFTMasker(hidden=8, layers=1, encoder={"checkpoint": str(path), "frozen": frozen})
    net.train()
    assert net.encoder.training is not frozen                  # frozen: stays in eval mode
    assert not net.encoder.has_pretext
    wav = speech(batch=2, seconds=0.5)
    out = net(wav)
    assert out.shape == (2, 1, wav.shape[-1]) and torch.isfinite(out).all()
    out.square().mean().backward()
    enc_grads = [p.grad for p in net.encoder.parameters()]
    if frozen:
        assert all(g is None for g in enc_grads)
    else:
        assert any(g is not None and g.abs().sum() > 0 for g in enc_grads)
    if name == "byol_a":
        assert net.film.weight.grad is not None and net.rnn.input_size == 257
    else:
        assert net.rnn.input_size == 257 + net.encoder.feature_dims[-1]
    if name == "wav2vec2":
        assert net.layer_weights.grad is not None              # weighted sum of the layers
    short = net.eval()(torch.randn(1, 200) * 0.1)              # shorter than any field
    assert short.shape == (1, 1, 200)


def test_masker_layer_choice_and_errors(tmp_path):
    path = save_encoder(tiny("cpc"), tmp_path / "cpc.pt")
    last = STFTMasker(hidden=8, layers=1, encoder={"checkpoint": str(path), "layers": "last"})
    assert not hasattr(last, "layer_weights")
    first = STFTMasker(hidden=8, layers=1, encoder={"checkpoint": str(path), "layers": 0})
    assert first(torch.randn(1, 4000)).shape == (1, 1, 4000)
    with pytest.raises(ConfigError, match="out of range"):
        STFTMasker(encoder={"checkpoint": str(path), "layers": 5})
    with pytest.raises(ConfigError, match="holds a cpc encoder"):
        STFTMasker(encoder={"checkpoint": str(path), "name": "wav2vec2"})
    with pytest.raises(ConfigError, match="8000 Hz"):
        STFTMasker(sample_rate=8000, encoder={"checkpoint": str(path)})


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_enhancer_with_encoder_saves_weights_only_and_reloads_identically(name, tmp_path):
    enc_path = save_encoder(tiny(name), tmp_path / "enc.pt")
    torch.manual_seed(1)
    model = Enhancer({"name": "masker", "hidden": 8, "layers": 1,
                      "encoder": {"checkpoint": str(enc_path), "frozen": False}}).eval()
    spec = model.to_dict()["model"]["encoder"]
    assert "checkpoint" not in spec and spec["source"] == str(enc_path)
    assert spec["name"] == name and spec["options"] == model.net.encoder.options
    model.save(tmp_path / "model.pt")
    enc_path.unlink()                                          # not needed to load the model
    torch.load(tmp_path / "model.pt", weights_only=True)
    back = load_model(tmp_path / "model.pt")
    wav = speech(batch=1, seconds=0.7)
    assert torch.equal(back(wav), model(wav))


def test_enhancer_with_a_torchaudio_wav2vec2_front_end(tmp_path):
    torch.save(_torchaudio_tiny().state_dict(), tmp_path / "w2v.pt")
    model = Enhancer({"name": "masker", "hidden": 8, "layers": 1,
                      "encoder": {"checkpoint": str(tmp_path / "w2v.pt"),
                                  "options": {"num_heads": 2}}}).eval()
    model.save(tmp_path / "model.pt")
    wav = speech(batch=1, seconds=0.5)
    assert torch.equal(load_model(tmp_path / "model.pt")(wav), model(wav))
