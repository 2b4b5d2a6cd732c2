"""The `sepssl` command: data, train, pretrain, enhance, evaluate.

Each subcommand parses its arguments and calls the library function that tests and recipes call
too. Errors a user can cause print as one line and give a non-zero exit code, never a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from .errors import SepsslError


def _data(args) -> int:
    from .data.corpus import build_corpus

    if args.two_talker_from:
        from .data.two_talker import build_two_talker

        summary = build_two_talker(args.two_talker_from, args.out, seed=args.seed,
                                   progress=not args.quiet)
        print(f"two-talker sets written to {args.out}: {summary['counts']}")
        return 0
    summary = build_corpus(args.out, size=args.size, seed=args.seed, cache_dir=args.cache,
                           progress=not args.quiet)
    print(f"corpus written to {args.out}")
    for key in ("hours", "counts"):
        if key in summary:
            print(f"{key}: {summary[key]}")
    return 0


def _train(args) -> int:
    from .config import load_config
    from .train import train

    cfg = load_config(args.config, args.set)
    if args.quiet:
        cfg.trainer.progress = False
    path = train(cfg)
    print(f"model written to {path}")
    return 0


def _pretrain(args) -> int:
    from .pretrain import load_pretrain_config, pretrain

    cfg = load_pretrain_config(args.config, args.set)
    if args.quiet:
        cfg.trainer.progress = False
    path = pretrain(cfg)
    print(f"encoder written to {path}")
    return 0


def _enhance(args) -> int:
    import torch

    from . import load_model
    from .enhance import enhance_paths

    if args.threads:
        torch.set_num_threads(args.threads)
    model = load_model(args.model, device=args.device)
    report = enhance_paths(model, args.inputs, args.out, chunk_seconds=args.chunk_seconds,
                           subtype=args.subtype, progress=not args.quiet,
                           log=lambda m: print(m, file=sys.stderr),
                           atten_lim_db=args.atten_lim_db)
    print(report.summary(Path(args.out)))
    return 0 if report.ok else 1


def _evaluate(args) -> int:
    from .evaluation import evaluate

    result = evaluate(args.ref, args.est, noisy_dir=args.noisy, report_dir=args.report,
                      jobs=args.jobs, progress=not args.quiet, dnsmos=args.dnsmos)
    md = Path(args.report) / "summary.md"
    if md.is_file():
        print(md.read_text())
    print(f"report written to {args.report}")
    files = result.summary["files"]
    return 1 if files["failed"] or files["unpaired"] else 0


def _atten_limit(text: str) -> float | str | None:
    """`--atten-lim-db`: a positive number of dB, off, or model (the model file's own setting)."""
    if text.lower() in ("off", "none"):
        return None
    if text.lower() == "model":
        return "model"
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of dB, off or model")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sepssl", description=__doc__.splitlines()[0])
    from . import __version__

    p.add_argument("--version", action="version", version=f"sepssl {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("data", help="build the offline training / test corpus")
    d.add_argument("--out", required=True, help="folder to write the corpus into")
    d.add_argument("--size", choices=["small", "full"], default="small")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--two-talker-from", metavar="CORPUS", default=None,
                   help="instead: two-talker mixtures from CORPUS's clean speech (separation)")
    d.add_argument("--cache", default=None, help="download / decode cache (default ~/.cache/sepssl)")
    d.add_argument("-q", "--quiet", action="store_true")
    d.set_defaults(run=_data)

    t = sub.add_parser("train", help="train an enhancer from a YAML recipe")
    t.add_argument("config", help="YAML recipe, e.g. recipes/noisy_target/conf.yaml")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set trainer.max_steps=100 (repeatable)")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    t.set_defaults(run=_train)

    r = sub.add_parser("pretrain", help="pre-train an SSL encoder (wav2vec2, cpc, byol_a) from a YAML recipe")
    r.add_argument("config", help="YAML recipe, e.g. recipes/cpc/conf.yaml")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set encoder.size=base (repeatable)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    r.set_defaults(run=_pretrain)

    e = sub.add_parser("enhance", help="enhance audio files, folders or globs")
    e.add_argument("inputs", nargs="+", metavar="INPUT", help="files, folders (recursive) or globs")
    e.add_argument("-o", "--out", required=True, help="output folder (created; inputs are never overwritten)")
    e.add_argument("--model", default="default", help="'default' (shipped) or a model/checkpoint path")
    e.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    e.add_argument("--chunk-seconds", type=float, default=10.0,
                   help="process long files in chunks of this length (memory stays flat)")
    e.add_argument("--atten-lim-db", type=_atten_limit, default="model", metavar="DB|off",
                   help="attenuate nothing by more than DB dB: mixes the input back under the "
                        "output, trading noise removal for less over-suppression (default: the "
                        "model's own setting, 12 for the shipped model, none for trained runs)")
    e.add_argument("--subtype", default=None, help="output subtype, e.g. PCM_16, FLOAT (default: the input's)")
    e.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    e.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    e.set_defaults(run=_enhance)

    v = sub.add_parser("evaluate", help="score enhanced files against clean references")
    v.add_argument("--ref", required=True, help="clean reference file or folder")
    v.add_argument("--est", required=True, help="enhanced file or folder (paired by relative path)")
    v.add_argument("--noisy", default=None, help="unprocessed input folder: also score it and the improvement")
    v.add_argument("--report", required=True, help="folder for scores.csv, summary.json/.md, report.html")
    v.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    v.add_argument("--dnsmos", action="store_true", help="add no-reference DNSMOS (needs speechmos)")
    v.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    v.set_defaults(run=_evaluate)
    return p


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", ".*pkg_resources is deprecated.*")
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except SepsslError as exc:
        print(f"sepssl {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
