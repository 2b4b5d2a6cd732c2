"""Unpaired clean speech and noisy recordings: the clean / mixture auto-encoders (CAE / MAE) of
Wang, Venkataramani and Smaragdis, "Self-supervised learning for speech enhancement" (2020;
the survey's [120]).

For the user who has some clean speech (an audiobook, a few studio takes) and many noisy
recordings, never of the same utterances. The network is `sepssl.models.cae_mae` (model
`cae_mae`); enhancement is MAE encoder → CAE decoder.

From the paper and the authors' public code: the CAE is trained first, alone, to auto-encode
the clean speech (with Gaussian noise on its latent code while it trains, and a penalty on the
code's size, so that its decoder maps a neighbourhood of every code to speech: a VAE with a
fixed variance); then, with the CAE frozen, the MAE learns on the noisy recordings (its codes
jittered and penalised the same way) with three terms:

1. its own reconstruction, `D_m(E_m(Y)) ≈ Y`;
2. the cycle through the CAE, `D_m(E_c(D_c(E_m(Y)))) ≈ Y`: what the CAE makes of the MAE's
   code must still explain the recording;
3. the latent cycle, `E_c(D_c(E_m(Y))) ≈ E_m(Y)`: the MAE's code is one the CAE keeps, so
   the MAE encodes into the clean speech's latent space;

and, where noise-only clips exist (the authors' code uses them; `noise_weight > 0` with
`data.train_noise`), 4. `D_c(E_m(N)) ≈ 0`: noise alone decodes to silence.

Chosen here: every distance is the mean squared (`distance: l2`, the authors') or absolute
difference of compressed magnitudes (or codes); the two phases are one run of
`trainer.max_steps` (the first `cae_steps` train the CAE, the step counter decides the phase,
so a resumed run continues in the right one); model selection is the trainer's, as for every
task. Each phase leaves half the weights without a gradient: under DDP use
`trainer.strategy=ddp_find_unused_parameters_true`. Written by hand: no library has these
losses.

Measured on corpus v2 it does not enhance (−7.9 dB SI-SDR against the input;
recipes/unpaired/README.md has the versions tried and why).

    task: {name: unpaired, cae_steps: 600}
    model: {name: cae_mae}
    data: {train_speech: NOISY recordings, train_clean: CLEAN speech, unpaired}
"""
from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from ..schema import NonNegativeFloat, Options, PositiveInt
from .base import TASKS, Batch, Task


class UnpairedOptions(Options):
    name: Literal["unpaired"] = "unpaired"
    cae_steps: PositiveInt = 500               # steps training the CAE alone, before the MAE
    latent_noise: NonNegativeFloat = 1.0       # std of the noise on every code while training
    latent_penalty: NonNegativeFloat = 0.01    # weight of the mean squared code
    cycle_weight: NonNegativeFloat = 1.0       # term 2
    latent_cycle_weight: NonNegativeFloat = 1.0   # term 3
    noise_weight: NonNegativeFloat = 0.0       # term 4 (> 0 reads data.train_noise)
    distance: Literal["l2", "l1"] = "l2"       # of compressed magnitudes and of codes


def _distance(a: torch.Tensor, b: torch.Tensor, kind: str) -> torch.Tensor:
    return (a - b).square().mean() if kind == "l2" else (a - b).abs().mean()


@TASKS.register("unpaired", UnpairedOptions)
class Unpaired(Task):
    """`make_batch`: inputs = the noisy recordings `(batch, time)`; targets = the unpaired clean
    speech (and the noise clips, when term 4 is on) `(batch, 1 or 2, time)`: not the
    inputs' clean speech, only what the CAE learns from."""

    name = "unpaired"
    Options = UnpairedOptions

    def __init__(self, options=None, **values):
        super().__init__(options, **values)
        self.needs = ("speech", "clean") + (("noise",) if self.options.noise_weight > 0 else ())

    @classmethod
    def check_model(cls, options, model) -> str | None:
        if model.name != "cae_mae":
            return (f"task unpaired trains the clean / mixture auto-encoders; use "
                    f"model.name=cae_mae (got {model.name})")
        return None

    def make_batch(self, raw, generator=None) -> Batch:
        extra = [raw["noise"]] if "noise" in self.needs else []
        return Batch(inputs=raw["speech"], targets=torch.stack([raw["clean"], *extra], dim=1))

    def training_loss(self, enhancer: nn.Module, batch: Batch, step: int
                      ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        net = enhancer.net
        cae_phase = step < self.options.cae_steps
        net.clean.requires_grad_(cae_phase)        # one of the two learns at each step;
        net.mixture.requires_grad_(not cae_phase)
        net.clean.train(cae_phase)                 # the frozen CAE's batch norms keep their
                                                   # statistics (the trainer sets train mode)
        if cae_phase:
            return self._cae_loss(net, batch.targets[:, 0])
        return self._mae_loss(net, batch)

    def _jittered(self, code: torch.Tensor) -> torch.Tensor:
        return code + self.options.latent_noise * torch.randn_like(code)

    def _cae_loss(self, net, clean: torch.Tensor):
        o = self.options
        _, frames, _ = net.analyse(clean)
        code = net.clean.encode(frames)
        recon = _distance(net.clean.decode(self._jittered(code)), frames, o.distance)
        size = code.square().mean()
        return recon + o.latent_penalty * size, {"cae_recon": recon, "cae_code": size}

    def _mae_loss(self, net, batch: Batch):
        o = self.options
        _, frames, _ = net.analyse(batch.inputs)
        code = net.mixture.encode(frames)
        heard = self._jittered(code)
        recon = _distance(net.mixture.decode(heard), frames, o.distance)
        kept = net.clean.encode(net.clean.decode(heard))   # the code after a trip through the CAE
        cycle = _distance(net.mixture.decode(self._jittered(kept)), frames, o.distance)
        latent_cycle = _distance(kept, code, o.distance)
        size = code.square().mean() + kept.square().mean()
        loss = (recon + o.cycle_weight * cycle + o.latent_cycle_weight * latent_cycle
                + o.latent_penalty * size)
        terms = {"mae_recon": recon, "cycle": cycle, "latent_cycle": latent_cycle,
                 "mae_code": size}
        if o.noise_weight > 0:
            _, noise, _ = net.analyse(batch.targets[:, 1])
            decoded = net.clean.decode(self._jittered(net.mixture.encode(noise)))
            silence = decoded.square().mean() if o.distance == "l2" else decoded.mean()
            loss = loss + o.noise_weight * silence
            terms["noise_to_silence"] = silence
        return loss, terms
