"""How big the SSL feature term's gradient is next to the task's own loss: the gradient norms of
both, over the masker's weights, on a few training batches of a recipe — what `task.
feature_loss.weight` was chosen from (recipes/perceptual/README.md).

    python experiments/feature_loss_scale.py recipes/perceptual/conf.yaml --set data.train_speech=... \\
        --model runs/v2cmp/v2_supervised/model.pt --batches 8

Prints, per batch and as the median, |∇ task loss|, |∇ feature distance| (weight 1) and their
ratio; a weight of ratio × r makes the feature term's gradient r times the task loss's.
"""
from __future__ import annotations

import argparse
import statistics

import torch

from sepssl.config import load_config
from sepssl.models.enhancer import load_model
from sepssl.train import TaskModule, make_loaders


def grad_norm(loss: torch.Tensor, params: list[torch.Tensor]) -> float:
    grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
    return float(torch.sqrt(sum(g.pow(2).sum() for g in grads if g is not None)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("--set", action="append", default=[], dest="overrides")
    ap.add_argument("--model", default=None, help="start from this model's weights")
    ap.add_argument("--batches", type=int, default=8)
    args = ap.parse_args()
    torch.manual_seed(0)
    cfg = load_config(args.config, args.overrides + ["data.num_workers=0"])
    module = TaskModule(cfg)
    if args.model:
        module.enhancer.net.load_state_dict(load_model(args.model).net.state_dict())
    task, params = module.task, [p for p in module.enhancer.parameters() if p.requires_grad]
    weight = task.options.feature_loss.weight
    loader, _ = make_loaders(cfg, task)
    ratios = []
    for i, raw in zip(range(args.batches), loader):
        batch = task.make_batch(raw)
        est = module.enhancer.separate(batch.inputs)
        own = grad_norm(task.loss(est, batch), params)
        feature = grad_norm(task.feature_term(est, batch) / weight, params)
        ratios.append(own / feature)
        print(f"batch {i}: |grad loss| {own:.4g}  |grad feature| {feature:.4g}  ratio {own / feature:.3g}")
    print(f"median ratio (task loss / feature distance): {statistics.median(ratios):.3g}")


if __name__ == "__main__":
    main()
