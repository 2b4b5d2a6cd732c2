"""wav2vec 2.0 (Baevski et al., 2020): torchaudio's network, sepssl's pre-training objective.

The network is `torchaudio.models.wav2vec2_model` — the CNN feature encoder (20 ms frames at
16 kHz), the convolutional position embedding and the transformer — so its weights are
torchaudio's and a torchaudio-format state dict loads as it is (`from_torchaudio`). torchaudio
has no wav2vec 2.0 pre-training loss; it is written here (module `pretext`):

- span masking of the transformer input (p = 0.65, spans of 10 frames, ≈ 49 % masked) with a
  learned mask embedding;
- a Gumbel-softmax product quantiser of the CNN features (G groups × V codewords, straight-
  through hard codes, temperature annealed from 2 to 0.5 by a factor per step);
- the contrastive loss: cosine similarity / 0.1 between the projected context vector of each
  masked frame and its quantised target, against K distractors drawn from the masked frames of
  the same utterance (distractors with the positive's exact codewords are left out);
- the diversity loss (weight 0.1) and the L2 penalty on the CNN features (weight 10), with the
  CNN's gradient scaled by 0.1, as in the paper's BASE recipe.

Sizes: `base` is the paper's BASE model (95 M parameters); `small` keeps the 20 ms frames and
the objective but uses narrow convolutions and 4 transformer layers, for CPU pre-training.
"""
from __future__ import annotations

import math
import re
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError, ModelError
from .base import SSLEncoder
from .objectives import embedding_std, info_nce, perplexity, sample_excluding, scale_grad, span_mask

_CONV_BASE = [[512, 10, 5]] + [[512, 3, 2]] * 4 + [[512, 2, 2]] * 2

DEFAULTS: dict[str, Any] = {
    "sample_rate": 16000,
    "normalize": True,                  # standardise each waveform first (level invariance)
    # network (torchaudio.models.wav2vec2_model's arguments)
    "conv_layers": _CONV_BASE,          # [channels, kernel, stride] per CNN layer (hop 320)
    "extractor_mode": "group_norm",     # group_norm (BASE) | layer_norm (LARGE)
    "conv_bias": False,
    "embed_dim": 768,
    "num_layers": 12,
    "num_heads": 12,
    "ff_dim": 3072,
    "pos_conv_kernel": 128,
    "pos_conv_groups": 16,
    "layer_norm_first": False,
    "projection_dropout": 0.1,
    "attention_dropout": 0.1,
    "ff_dropout": 0.0,
    "dropout": 0.1,
    "layer_drop": 0.05,
    # pre-training objective
    "mask_prob": 0.65,
    "mask_span": 10,
    "groups": 2,
    "codewords": 320,
    "codevector_dim": 256,
    "final_dim": 256,
    "negatives": 100,
    "logit_temperature": 0.1,
    "gumbel_start": 2.0,
    "gumbel_end": 0.5,
    "gumbel_decay": 0.999995,           # per step: reaches 0.5 after ~277 k steps (paper: 400 k)
    "diversity_weight": 0.1,
    "feature_penalty": 10.0,
    "feature_grad_mult": 0.1,
}

SIZES: dict[str, dict[str, Any]] = {
    "base": {},
    "small": {
        "conv_layers": [[128, 10, 5]] + [[128, 3, 2]] * 4 + [[128, 2, 2]] * 2,
        "embed_dim": 192, "num_layers": 4, "num_heads": 4, "ff_dim": 768,
        "pos_conv_kernel": 64, "pos_conv_groups": 16, "layer_drop": 0.0,
        "codevector_dim": 128, "final_dim": 128,
        "gumbel_decay": 0.9995,         # reaches 0.5 after ~2.8 k steps: CPU-length runs
    },
}


class GumbelQuantizer(nn.Module):
    """Product quantiser: G groups of V codewords; each frame picks one codeword per group
    (Gumbel-softmax, hard one-hot forward, soft gradient) and the picks are concatenated.

    Args:
        dim (int): Width of the input features.
        groups (int): Number of groups G.
        codewords (int): Codewords per group V.
        codevector_dim (int): Width of the quantised output (divisible by G).

    Raises:
        ConfigError: If `codevector_dim` is not divisible by `groups`.
    """

    def __init__(self, dim: int, groups: int, codewords: int, codevector_dim: int):
        super().__init__()
        if codevector_dim % groups:
            raise ConfigError(f"encoder.codevector_dim: {codevector_dim} is not divisible by "
                              f"groups={groups}")
        self.groups, self.codewords = groups, codewords
        self.weight_proj = nn.Linear(dim, groups * codewords)
        nn.init.normal_(self.weight_proj.weight, 0.0, 1.0)
        nn.init.zeros_(self.weight_proj.bias)
        self.codevectors = nn.Parameter(torch.rand(groups, codewords, codevector_dim // groups))

    def forward(self, x: torch.Tensor, tau: float):
        """Quantise each frame; Gumbel sampling in training mode, the arg-max in eval mode.

        Args:
            x (torch.Tensor): Features, shape `(batch, frames, dim)`.
            tau (float): Gumbel-softmax temperature.

        Returns:
            tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]: The quantised
            features `(batch, frames, codevector_dim)`, the chosen codes `(batch, frames, G)`,
            the mean soft probabilities `(G, V)` and the mean hard code use `(G, V)` (the last
            two feed the diversity loss and the perplexity statistics).
        """
        batch, frames, _ = x.shape
        logits = self.weight_proj(x).float().reshape(batch * frames, self.groups, self.codewords)
        if self.training:
            onehot = F.gumbel_softmax(logits, tau=tau, hard=True, dim=-1)
        else:
            onehot = F.one_hot(logits.argmax(-1), self.codewords).to(logits.dtype)
        q = torch.einsum("ngv,gvd->ngd", onehot, self.codevectors.float())
        codes = onehot.detach().argmax(-1)
        soft = logits.softmax(-1).mean(0)
        hard = onehot.detach().mean(0)
        return (q.reshape(batch, frames, -1).to(x.dtype), codes.reshape(batch, frames, -1),
                soft, hard)


class _Pretext(nn.Module):
    def __init__(self, o: dict[str, Any]):
        super().__init__()
        conv_dim = o["conv_layers"][-1][0]
        self.mask_emb = nn.Parameter(torch.rand(o["embed_dim"]))
        self.quantizer = GumbelQuantizer(conv_dim, o["groups"], o["codewords"], o["codevector_dim"])
        self.project_q = nn.Linear(o["codevector_dim"], o["final_dim"])
        self.final_proj = nn.Linear(o["embed_dim"], o["final_dim"])
        self.register_buffer("step", torch.zeros((), dtype=torch.long))


class Wav2Vec2Encoder(SSLEncoder):
    """wav2vec 2.0: torchaudio's network (CNN feature encoder, one frame per 320 samples with
    the default layers, and a transformer) with the pre-training objective described above.

    Args:
        size (str, optional): Preset, ``"small"`` or ``"base"`` (see `SIZES`).
            (Default: ``"small"``)
        pretext (bool, optional): Build the quantiser, mask embedding and projections that
            `pretext_loss` needs; ``False`` keeps only the representation, as an enhancer
            front-end does. (Default: ``True``)
        **options: Any key of `DEFAULTS`, overriding the preset.

    Raises:
        ConfigError: If an option is unknown or invalid, or `embed_dim` is not divisible by
            `num_heads` and `pos_conv_groups`.
    """
    name = "wav2vec2"
    kind = "frames"
    DEFAULTS = DEFAULTS
    SIZES = SIZES
    CHOICES = {"extractor_mode": ("group_norm", "layer_norm")}
    FRACTIONS = ("projection_dropout", "attention_dropout", "ff_dropout", "dropout", "layer_drop",
                 "mask_prob", "gumbel_decay")

    def __init__(self, size: str = "small", pretext: bool = True, **options: Any):
        super().__init__(size, options)
        from torchaudio.models import wav2vec2_model

        o = self.options
        if o["embed_dim"] % o["num_heads"] or o["embed_dim"] % o["pos_conv_groups"]:
            raise ConfigError("encoder.embed_dim must be divisible by num_heads and pos_conv_groups")
        if o["extractor_mode"] not in ("group_norm", "layer_norm"):
            raise ConfigError(f"encoder.extractor_mode: {o['extractor_mode']!r} is not "
                              "group_norm or layer_norm")
        conv = [tuple(int(v) for v in layer) for layer in o["conv_layers"]]
        self.model = wav2vec2_model(
            extractor_mode=o["extractor_mode"], extractor_conv_layer_config=conv,
            extractor_conv_bias=o["conv_bias"], encoder_embed_dim=o["embed_dim"],
            encoder_projection_dropout=o["projection_dropout"],
            encoder_pos_conv_kernel=o["pos_conv_kernel"], encoder_pos_conv_groups=o["pos_conv_groups"],
            encoder_num_layers=o["num_layers"], encoder_num_heads=o["num_heads"],
            encoder_attention_dropout=o["attention_dropout"], encoder_ff_interm_features=o["ff_dim"],
            encoder_ff_interm_dropout=o["ff_dropout"], encoder_dropout=o["dropout"],
            encoder_layer_norm_first=o["layer_norm_first"], encoder_layer_drop=o["layer_drop"],
            aux_num_out=None)
        for block in self.model.feature_extractor.conv_layers:   # fairseq's initialisation;
            nn.init.kaiming_normal_(block.conv.weight)           # PyTorch's default shrinks
        self.hop = math.prod(layer[2] for layer in conv)
        field, jump = 1, 1
        for _, kernel, stride in conv:
            field += (kernel - 1) * jump
            jump *= stride
        self.min_samples = field
        self.pretext = _Pretext(o) if pretext else None

    # -- representation -------------------------------------------------------------------
    @property
    def feature_dims(self) -> list[int]:
        """Widths of the `layer_features` outputs: `embed_dim` for each transformer layer."""
        return [self.options["embed_dim"]] * self.options["num_layers"]

    def layer_features(self, wav: torch.Tensor) -> list[torch.Tensor]:
        """Every transformer layer's output, without masking.

        Args:
            wav (torch.Tensor): Waveforms at `sample_rate`, shape `(batch, time)`.

        Returns:
            list[torch.Tensor]: `num_layers` tensors of shape `(batch, frames, embed_dim)`.
        """
        layers, _ = self.model.extract_features(self._prepare(wav))
        return layers

    # -- pre-training ---------------------------------------------------------------------
    @property
    def temperature(self) -> float:
        """Current Gumbel-softmax temperature: `gumbel_start · gumbel_decay^step`, floored at
        `gumbel_end` (`gumbel_start` without pretext heads)."""
        o = self.options
        step = int(self.pretext.step) if self.has_pretext else 0
        return max(o["gumbel_start"] * o["gumbel_decay"] ** step, o["gumbel_end"])

    def pretext_loss(self, wav: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """wav2vec 2.0's pre-training loss: contrastive + weighted diversity loss + weighted L2
        penalty on the CNN features.

        Args:
            wav (torch.Tensor): Waveforms at `sample_rate`, shape `(batch, time)`.

        Returns:
            (torch.Tensor, dict[str, torch.Tensor]): The scalar loss and detached statistics
            for logging (the loss terms, `accuracy`, code and probability perplexities,
            `temperature`, `masked_share`, `embed_std`).

        Raises:
            ConfigError: If the encoder was built with `pretext=False`.
        """
        self._need_pretext()
        o, p, m = self.options, self.pretext, self.model
        feats, _ = m.feature_extractor(self._prepare(wav), None)          # (B, N, C)
        # the CNN's gradient is scaled down for every term, the feature penalty included (as in
        # the released code); unscaled, the penalty outweighed the contrastive term in the CNN
        # and shrank its output (recipes/wav2vec2/README.md)
        feats = scale_grad(feats, o["feature_grad_mult"])
        penalty = feats.float().pow(2).mean()
        proj = m.encoder.feature_projection
        z = proj.layer_norm(feats)                                     # quantiser input
        x = proj.dropout(proj.projection(z))
        batch, frames, _ = x.shape
        mask = span_mask(batch, frames, o["mask_prob"], o["mask_span"], device=x.device)
        x = torch.where(mask.unsqueeze(-1), p.mask_emb.to(x.dtype), x)
        context = m.encoder.transformer(x)                             # (B, N, E)

        tau = self.temperature
        q, codes, soft, hard = p.quantizer(z, tau)
        q = p.project_q(q)                                             # (B, N, F)
        c = p.final_proj(context)                                      # (B, N, F)

        row, frame, neg = masked_distractors(mask, o["negatives"])
        # cosine similarities within each utterance: (B, N, N), then pick rows and columns
        sim = torch.bmm(F.normalize(c.float(), dim=-1),
                        F.normalize(q.float(), dim=-1).transpose(1, 2)) / o["logit_temperature"]
        sim_rows = sim[row, frame]                                     # (M, N)
        pos_logits = sim_rows.gather(1, frame.unsqueeze(1)).squeeze(1)
        neg_logits = sim_rows.gather(1, frame[neg])
        codes_m = codes[row, frame]                                    # (M, G)
        invalid = (codes_m[neg] == codes_m.unsqueeze(1)).all(-1)       # same codewords
        contrastive, acc = info_nce(pos_logits, neg_logits, invalid)

        n_vars = o["groups"] * o["codewords"]
        prob_ppl = perplexity(soft)
        # The paper writes L_d = 1/(GV) Σ_g −H(p̄_g); its released code, on which the weight
        # 0.1 was tuned, uses (GV − Σ_g exp H(p̄_g)) / GV: same minimiser (uniform use of the
        # codewords), a gradient of useful size. We use the latter.
        diversity = (n_vars - prob_ppl) / n_vars
        loss = (contrastive + o["diversity_weight"] * diversity
                + o["feature_penalty"] * penalty)
        stats = {
            "contrastive": contrastive.detach(), "diversity": diversity.detach(),
            "feature_penalty": penalty.detach(), "accuracy": acc,
            "code_perplexity": perplexity(hard), "prob_perplexity": prob_ppl.detach(),
            "temperature": torch.tensor(tau), "masked_share": mask.float().mean(),
            "embed_std": embedding_std(context.detach().mean(1)),
        }
        return loss, stats

    def after_step(self) -> None:
        """Advance the step counter that anneals the Gumbel temperature."""
        if self.has_pretext:
            self.pretext.step += 1

    # -- torchaudio-format weights ----------------------------------------------------------
    @classmethod
    def from_torchaudio(cls, state_dict: dict[str, torch.Tensor], pretext: bool = False,
                        **overrides: Any) -> "Wav2Vec2Encoder":
        """Build an encoder from torchaudio-format weights and load them.

        The architecture is read from the tensor shapes; what shapes do not tell (number of
        heads: embed_dim / 64; layer_norm_first and input standardisation: True for layer_norm
        extractors, as in the released LARGE-LV60 models, False otherwise, as in BASE; strides:
        5 for kernel 10, else 2) can be given in `overrides`. Dropouts default to 0 (a feature
        extractor); a fine-tuned model's CTC head (`aux.*`) is dropped. The pretext heads,
        absent from that format, start fresh.

        Args:
            state_dict (dict[str, torch.Tensor]): A
                `torchaudio.models.wav2vec2_model(...).state_dict()` (or a Wav2Vec2Bundle
                model's).
            pretext (bool, optional): Also build the pretext heads. (Default: ``False``)
            **overrides: Any option of this encoder, overriding what the shapes imply.

        Returns:
            Wav2Vec2Encoder: The encoder with the weights loaded.

        Raises:
            ModelError: If the weights do not fit the inferred architecture.
        """
        sd = torchaudio_keys(state_dict)
        opts = {**infer_torchaudio_options(sd), **overrides}
        enc = cls(size="base", pretext=pretext, **opts)
        sd = {k: v for k, v in sd.items() if not k.startswith("aux.")}
        try:
            enc.model.load_state_dict(sd)
        except RuntimeError as exc:
            raise ModelError("torchaudio wav2vec 2.0 weights do not fit the inferred model "
                             f"({str(exc).splitlines()[0][:200]}); pass the options explicitly") from None
        return enc


def masked_distractors(mask: torch.Tensor, n: int,
                       generator: torch.Generator | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Draw contrastive distractors for every masked frame among the other masked frames of
    the same utterance.

    Why: wav2vec 2.0 draws distractors uniformly from the *other masked* frames of the *same*
    utterance — same speaker and channel, so the model must tell content apart, not recording
    conditions. Rows have different numbers of masked frames; ranks within the row plus the
    row's offset in the flat list keep it one vectorised draw (`sample_excluding` on the rank).

    Args:
        mask (torch.Tensor): Bool mask, shape `(batch, frames)`, every row with at least two
            masked frames.
        n (int): Distractors per masked frame (drawn with replacement).
        generator (torch.Generator or None, optional): Random generator.

    Returns:
        (torch.Tensor, torch.Tensor, torch.Tensor): For the M masked frames in row-major
        order: the utterance `row` `(M,)`, the `frame` `(M,)`, and the distractors `(M, n)` as
        indices into that flat list of masked frames.
    """
    row, frame = mask.nonzero(as_tuple=True)
    counts = mask.sum(1)
    offsets = counts.cumsum(0) - counts
    rank = torch.arange(row.shape[0], device=mask.device) - offsets[row]
    neg = sample_excluding(rank, counts[row], n, generator) + offsets[row].unsqueeze(-1)
    return row, frame, neg


def is_torchaudio_state_dict(data: Any) -> bool:
    """Whether `data` looks like a bare torchaudio wav2vec 2.0 / HuBERT state dict.

    Args:
        data (Any): A loaded file's content.

    Returns:
        bool: True if it has the feature extractor's and feature projection's weights.
    """
    return (isinstance(data, dict) and "feature_extractor.conv_layers.0.conv.weight" in data
            and "encoder.feature_projection.projection.weight" in data)


def torchaudio_keys(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename the old weight-norm names (`weight_g` / `weight_v`, torch < 2.1 saves) of the
    position convolution to the parametrisation names current torchaudio uses.

    Args:
        sd (dict[str, torch.Tensor]): A torchaudio wav2vec 2.0 state dict.

    Returns:
        dict[str, torch.Tensor]: The same tensors under current key names.
    """
    out = {}
    for key, value in sd.items():
        key = re.sub(r"pos_conv_embed\.conv\.weight_g$",
                     "pos_conv_embed.conv.parametrizations.weight.original0", key)
        key = re.sub(r"pos_conv_embed\.conv\.weight_v$",
                     "pos_conv_embed.conv.parametrizations.weight.original1", key)
        out[key] = value
    return out


def infer_torchaudio_options(sd: dict[str, torch.Tensor]) -> dict[str, Any]:
    """The options of `Wav2Vec2Encoder` that a torchaudio state dict's shapes determine.

    Args:
        sd (dict[str, torch.Tensor]): A state dict with current key names (see
            `torchaudio_keys`).

    Returns:
        dict[str, Any]: Encoder options, with the guesses described in `from_torchaudio` and
        all dropouts set to 0.
    """
    conv = []
    i = 0
    while f"feature_extractor.conv_layers.{i}.conv.weight" in sd:
        out_ch, _, kernel = sd[f"feature_extractor.conv_layers.{i}.conv.weight"].shape
        conv.append([int(out_ch), int(kernel), 5 if kernel == 10 else 2])
        i += 1
    layer_norm = "feature_extractor.conv_layers.1.layer_norm.weight" in sd
    embed = int(sd["encoder.feature_projection.projection.weight"].shape[0])
    pos = sd["encoder.transformer.pos_conv_embed.conv.parametrizations.weight.original1"]
    layers = len({int(m.group(1)) for k in sd
                  if (m := re.match(r"encoder\.transformer\.layers\.(\d+)\.", k))})
    ff = int(sd["encoder.transformer.layers.0.feed_forward.intermediate_dense.weight"].shape[0])
    return {
        "conv_layers": conv, "extractor_mode": "layer_norm" if layer_norm else "group_norm",
        "conv_bias": "feature_extractor.conv_layers.0.conv.bias" in sd,
        "embed_dim": embed, "num_layers": layers, "num_heads": max(1, embed // 64),
        "ff_dim": ff, "pos_conv_kernel": int(pos.shape[2]),
        "normalize": layer_norm,  # fairseq: BASE trained on raw waveforms, LARGE-LV60 standardised
        "pos_conv_groups": embed // int(pos.shape[1]), "layer_norm_first": layer_norm,
        "projection_dropout": 0.0, "attention_dropout": 0.0, "ff_dropout": 0.0,
        "dropout": 0.0, "layer_drop": 0.0,
    }
