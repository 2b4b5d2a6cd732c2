"""The `sepssl` command: data, train, pretrain, helper, adapt, enhance, evaluate.

Each subcommand parses its arguments and calls the library function that tests and recipes call
too. Errors a user can cause print as one line and give a non-zero exit code, never a traceback.
"""
from __future__ import annotations

import argparse
import logging
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
        counts = ", ".join(f"{split} {n}" for split, n in summary["counts"].items())
        print(f"two-talker mixtures written to {args.out}: {counts}")
        return 0
    summary = build_corpus(args.out, size=args.size, seed=args.seed, cache_dir=args.cache,
                           progress=not args.quiet, fullband=args.fullband)
    print(corpus_summary(summary, args.out))
    return 0


def corpus_summary(summary: dict, out) -> str:
    """What `sepssl data` built, in words: per split its files and hours, and the sources."""
    lines = [f"corpus ({summary.get('size', '?')}, seed {summary.get('seed', '?')}) written to {out}:"]
    for split, kinds in summary.get("counts", {}).items():
        hours = summary.get("hours", {}).get(split, {})
        parts = [f"{n} {kind} files ({60 * hours.get(kind, 0):.1f} min)" for kind, n in kinds.items()]
        lines.append(f"  {split}: " + ", ".join(parts))
    for split, part in summary.get("fullband", {}).get("splits", {}).items():
        lines.append(f"  fullband/{split}: {part['speech_files']} speech clips "
                     f"({60 * part['speech_hours']:.1f} min, {len(part['voices'])} voices), "
                     f"{part['noise_files']} noise files ({60 * part['noise_hours']:.1f} min)")
    sources = summary.get("sources", {})
    speech = [p["name"] for p in sources.get("real_speech_packages", [])]
    noise = [p["name"] for p in sources.get("real_noise_packages", [])]
    lines.append(f"  speech: TTS ({', '.join(sources.get('tts_engines', {})) or 'none'}); "
                 f"real: {', '.join(speech) or 'none'}")
    lines.append(f"  noise: real: {', '.join(noise) or 'none'}; synthetic: "
                 f"{', '.join(sources.get('synthetic_noise_kinds', [])) or 'none'}")
    if "real_voices" in summary:
        lines.append(f"  real speech: {len(summary['real_voices'])} voices, "
                     f"{summary['real_speech_hours']:.2f} h")
    missing = [m["package"] for m in summary.get("missing_sources", [])]
    if missing:
        lines.append(f"  MISSING (built without them): {', '.join(missing)}")
    return "\n".join(lines)


def _train(args) -> int:
    from .config import load_config

    def run(cfg):
        from .train import train

        return f"model written to {train(cfg)}"

    return _run_recipe(args, "train", load_config, run)


def _run_recipe(args, kind: str, load, run) -> int:
    """`sepssl train|pretrain`: --list, or the recipe loaded with --set, then --print-config or
    `run(cfg)` (its line is printed)."""
    path = _recipe(args, kind)
    if path is None:
        return 0
    cfg = load(path, args.set)
    if args.print_config:
        return _print_config(cfg)
    if args.quiet:
        cfg.trainer.progress = False
    _threads(args.threads)
    print(run(cfg))
    return 0


def _print_config(cfg) -> int:
    import yaml

    print(yaml.safe_dump(cfg.dump(), sort_keys=False), end="")
    return 0


def _recipe(args, kind: str):
    """The recipe file of `sepssl train|pretrain CONFIG` (a path or a shipped recipe's name);
    None after `--list` printed the shipped ones."""
    from .errors import ConfigError
    from .named_recipes import listing, resolve

    if args.list:
        print(listing(kind))
        return None
    if args.config is None:
        raise ConfigError(f"give a recipe: a YAML file or a name of `sepssl {kind} --list`")
    return resolve(args.config, kind)


def _helper(args) -> int:
    """`sepssl helper`: the tasks' small helper networks (trained once, then named in a recipe)."""
    from .models.snr_predictor import train_snr_predictor
    from .models.speech_detector import load_speech_detector, train_speech_detector

    if args.which == "attach-detector":
        from . import load_model

        load_model(args.model).with_speech_detector(load_speech_detector(args.detector)).save(args.out)
        print(f"model with speech detector written to {args.out}")
        return 0
    train_fn = train_snr_predictor if args.which == "snr-predictor" else train_speech_detector
    path = train_fn(args.speech, args.noise, args.out, args.steps, sample_rate=args.sample_rate,
                    segment_seconds=args.segment_seconds, batch_size=args.batch_size,
                    hidden=args.hidden, layers=args.layers, lr=args.lr, seed=args.seed,
                    device=args.device, progress=not args.quiet)
    print(f"{args.which.replace('-', ' ')} written to {path}")
    return 0


def _threads(n: int | None) -> None:
    """--threads: torch's CPU threads for training (None: `free_cores()`, at most torch's own
    choice). Measured (metrics/threads.md): on an idle 2-core machine 2 threads train 1.38x
    faster than 1; beside one busy process 2 threads are 2.6x slower, so the default counts
    only the cores that are free when the run starts."""
    import torch

    torch.set_num_threads(n or min(torch.get_num_threads(), free_cores()))


def free_cores() -> int:
    """The cores this process may use minus the 1-minute load average (rounded), at least 1."""
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) - round(os.getloadavg()[0]))


def _pretrain(args) -> int:
    from .pretrain import load_pretrain_config, pretrain

    return _run_recipe(args, "pretrain", load_pretrain_config,
                       lambda cfg: f"encoder written to {pretrain(cfg)}")


def _enhance(args) -> int:
    import torch

    from . import load_model
    from .enhance import (STDIO, Terminated, check_subtype, enhance_paths, enhance_stdio,
                          resolve_device)
    from .errors import ConfigError

    stdio = args.out == STDIO
    if stdio and args.inputs != [STDIO]:
        raise ConfigError("-o - (stdout) takes exactly one input, - (stdin): "
                          "sepssl enhance - -o - < noisy.wav > enhanced.wav")
    if not stdio and STDIO in args.inputs:
        raise ConfigError("input - (stdin) goes with -o - (stdout); name a file ./- to enhance "
                          "a file called -")
    if stdio and sys.stdout.isatty():
        raise ConfigError("refusing to write audio to a terminal; redirect stdout "
                          "(sepssl enhance - -o - < in.wav > out.wav)")
    check_subtype(args.subtype, {"WAV"} if stdio else set())
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    model = load_model(args.model, device=device)
    try:
        if stdio:
            try:
                enhance_stdio(model, sys.stdin.buffer, sys.stdout.buffer,
                              chunk_seconds=args.chunk_seconds, subtype=args.subtype,
                              progress=not args.quiet, atten_lim_db=args.atten_lim_db)
            except BrokenPipeError:  # `| head`: the reader is gone; say nothing more
                return 141
            except SepsslError as exc:
                if isinstance(exc, ConfigError):
                    raise
                print(f"error: {exc}", file=sys.stderr)
                return 1
            return 0
        report = enhance_paths(model, args.inputs, args.out, chunk_seconds=args.chunk_seconds,
                               subtype=args.subtype, progress=not args.quiet,
                               log=lambda m: print(m, file=sys.stderr),
                               atten_lim_db=args.atten_lim_db, overwrite=args.overwrite)
    except Terminated as exc:
        print("terminated", file=sys.stderr)
        return 128 + exc.signum
    if Path(args.out).is_dir():
        from .provenance import enhance_record, write_enhance_record

        try:
            write_enhance_record(args.out, enhance_record(model, args.model, args.atten_lim_db,
                                                          device))
        except OSError as exc:      # the outputs are written; the record is a courtesy
            print(f"warning: {Path(args.out) / 'sepssl_enhance.json'}: not written "
                  f"({exc.strerror or exc})", file=sys.stderr)
    print(report.summary(Path(args.out)))
    return 0 if report.ok else 1


def _adapt(args) -> int:
    from .adapt import adapt

    _threads(args.threads)
    report = adapt(args.inputs, args.out, teacher=args.teacher, student=args.student,
                   method=args.method, minutes=args.minutes, device=args.device, save_model=args.save_model,
                   max_steps=args.max_steps, atten_lim_db=args.atten_lim_db,
                   outputs=args.outputs, seed=args.seed,
                   progress=not args.quiet, say=lambda m: print(m, file=sys.stderr))
    print(report.summary())
    print(report.enhanced.summary(Path(args.out)))
    return 0 if report.ok else 1


def _evaluate(args) -> int:
    from .evaluation import evaluate

    result = evaluate(args.ref, args.est, noisy_dir=args.noisy, report_dir=args.report,
                      jobs=args.jobs, progress=not args.quiet, dnsmos=args.dnsmos,
                      allow_short=args.allow_short)
    md = Path(args.report) / "summary.md"
    if md.is_file():
        print(md.read_text())
    print(f"report written to {args.report}")
    files = result.summary["files"]
    if not files["scored"]:
        print("sepssl evaluate: error: no file could be scored (see the report)", file=sys.stderr)
    return 1 if files["failed"] or files["unpaired"] or not files["scored"] else 0


def positive_int(text: str) -> int:
    """An argparse type: a whole number above 0."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number above 0")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number above 0")
    return value


def _atten_limit(text: str) -> float | str | None:
    """`--atten-lim-db`: a positive number of dB, off, or model (the model file's own setting)."""
    if text.lower() in ("off", "none"):
        return None
    if text.lower() == "model":
        return "model"
    try:
        return positive_float(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of dB, off or "
                                         "model") from None


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
    d.add_argument("--fullband", action="store_true",
                   help="also write fullband/: the real speech and noise recorded at "
                        "44.1 / 48 kHz, at their own rate, in the same splits")
    d.add_argument("-q", "--quiet", action="store_true")
    d.set_defaults(run=_data)

    t = sub.add_parser("train", help="train an enhancer from a recipe (a YAML file or a name)")
    _recipe_arguments(t, "training", "noisy_target, mixit/conf_detector",
                      "trainer.max_steps=100")
    t.set_defaults(run=_train)

    r = sub.add_parser("pretrain", help="pre-train an SSL encoder (wav2vec2, cpc, byol_a) from a recipe")
    _recipe_arguments(r, "pre-training", "cpc", "encoder.size=base")
    r.set_defaults(run=_pretrain)

    e = sub.add_parser(
        "enhance", formatter_class=argparse.RawDescriptionHelpFormatter,
        help="enhance audio files, folders or globs",
        description="Enhance audio files, folders (recursively) and globs into an output folder\n"
                    "that keeps their layout, or stdin to stdout.",
        epilog="examples:\n  sepssl enhance noisy.wav recordings/ -o enhanced/\n"
               "  sepssl enhance \"calls/**/*.flac\" -o out/ --subtype PCM_16 --overwrite\n"
               "  sepssl enhance - -o - < noisy.wav > enhanced.wav\n\n"
               "Outputs that exist are skipped unless --overwrite, so rerunning a command after "
               "a crash\nfinishes the rest. Exit code: 0 all done, 1 some input failed, 2 bad "
               "arguments, 130/143\ninterrupted (Ctrl-C / SIGTERM).")
    e.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="files, folders (recursive) or globs; - for stdin (with -o -)")
    e.add_argument("-o", "--out", required=True,
                   help="output folder (created; inputs are never written over); - for stdout "
                        "(WAV, with the single input -)")
    e.add_argument("--model", default="default",
                   help="a shipped model: 'default', or 'noclean' (trained without clean "
                        "speech); or a model/checkpoint path (default: %(default)s)")
    e.add_argument("--device", default="auto",
                   help="auto (cuda when available, else cpu), cpu, cuda or cuda:N "
                        "(default: %(default)s)")
    e.add_argument("--chunk-seconds", type=positive_float, default=10.0,
                   help="process long files in chunks of this length (memory stays flat) "
                        "(default: %(default)s)")
    e.add_argument("--atten-lim-db", type=_atten_limit, default="model", metavar="DB|off|model",
                   help="attenuate nothing by more than DB dB: mixes the input back under the "
                        "output, trading noise removal for less over-suppression (default: "
                        "%(default)s, the model's own setting: 12 for the shipped model, none "
                        "for trained runs)")
    e.add_argument("--subtype", default=None,
                   help="output subtype, e.g. PCM_16, FLOAT (default: the input's)")
    e.add_argument("--overwrite", action="store_true",
                   help="enhance again inputs whose output exists (default: skip them)")
    e.add_argument("--threads", type=positive_int, default=None,
                   help="CPU threads for torch (default: torch's own, usually one per core)")
    e.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    e.set_defaults(run=_enhance)

    h = sub.add_parser("helper", help="train a task's helper network: PseudoSE's SNR predictor, "
                       "MixIT's speech detector; or attach a detector to a MixIT model")
    hs = h.add_subparsers(dest="which", required=True)
    for name, speech_help, default_speech, hidden, layers, steps in (
            ("snr-predictor", "folder or file list of CLEAN speech (generic, not the user's): "
             "the predictor learns segmental SNRs of speech + noise mixed on the fly",
             "corpus/train/clean", 128, 2, 2000),
            ("speech-detector", "folder or file list of NOISY speech (the user's recordings), "
             "told apart from the noise-only clips; no clean speech needed",
             "corpus/train/noisy", 64, 1, 1000)):
        task_key = "task.snr_predictor" if name == "snr-predictor" else "task.speech_detector"
        hp = hs.add_parser(name, help=f"train the file for {task_key}",
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        hp.add_argument("--speech", default=default_speech, help=speech_help)
        hp.add_argument("--noise", default="corpus/train/noise", help="folder or file list of noise-only clips")
        hp.add_argument("--out", default=f"runs/{name.replace('-', '_')}/{name.replace('-', '_')}.pt",
                        help=f"file to write ({task_key})")
        hp.add_argument("--steps", type=positive_int, default=steps)
        hp.add_argument("--batch-size", type=positive_int, default=16)
        hp.add_argument("--segment-seconds", type=positive_float, default=2.0)
        hp.add_argument("--sample-rate", type=positive_int, default=16000, help="the enhancer's sample_rate")
        hp.add_argument("--hidden", type=positive_int, default=hidden)
        hp.add_argument("--layers", type=positive_int, default=layers)
        hp.add_argument("--lr", type=positive_float, default=1e-3)
        hp.add_argument("--seed", type=int, default=0)
        hp.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
        hp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    ha = hs.add_parser("attach-detector", help="give a trained MixIT model a speech detector "
                       "(training with task.speech_detector does this itself)")
    ha.add_argument("model", help="a MixIT enhancement model file or checkpoint")
    ha.add_argument("detector", help="a file from `sepssl helper speech-detector`")
    ha.add_argument("--out", required=True, help="model file to write")
    h.set_defaults(run=_helper)

    a = sub.add_parser(
        "adapt", formatter_class=argparse.RawDescriptionHelpFormatter,
        help="adapt an enhancer to your noisy recordings (no clean speech, no noise clips), "
             "then enhance them",
        description="A teacher (by default the best on your recordings of the installed "
                    "external enhancers, alone or joined with the student) splits each "
                    "recording into speech and noise estimates; a fast sepssl student learns "
                    "from them for the time budget (the teacher's speech from the recording "
                    "itself, or with --method remixit undoing remixes of them); it is kept only "
                    "if, on a fifth of the 4 s segments held back, it loses neither STOI nor "
                    "SI-SDR on their clean stretches with their own noise added (and, but for "
                    "distill, beats the starting student at the teacher's remixes); every input "
                    "is then enhanced by the teacher where it passed that check "
                    "(--outputs auto), else by the kept model, which is saved either way.",
        epilog="examples:\n  sepssl adapt recordings/ -o enhanced/\n"
               "  sepssl adapt calls/*.wav -o out/ --teacher dfn3+default --minutes 20\n"
               "  sepssl adapt calls/ -o out/ --teacher rnnoise --method remixit")
    a.add_argument("inputs", nargs="+", metavar="INPUT", help="files, folders (recursive) or globs")
    a.add_argument("-o", "--out", required=True, help="output folder for the enhanced files")
    a.add_argument("--teacher", default="auto",
                   help="default or noclean (shipped models), dfn3 (DeepFilterNet3), rnnoise, "
                        "a sepssl model file, several joined by + (the mean of their "
                        "estimates, e.g. dfn3+default), or auto (among each installed external "
                        "teacher joined with the student and alone, the one that does best on "
                        "the check of your recordings' clean stretches, where one joined with "
                        "the student must not lose STOI to it and one alone neither STOI nor "
                        "SI-SDR; none, and no adapting, when none passes; the first installed "
                        "one joined with the student when the recordings have too few pauses "
                        "for the check; the "
                        "student itself when none is installed); dfn3 and rnnoise need "
                        "`pip install 'sepssl[teachers]'` (default: %(default)s)")
    a.add_argument("--student", default="default",
                   help="the model to adapt: default, noclean or a sepssl model file "
                        "(default: %(default)s)")
    a.add_argument("--method", choices=ADAPT_METHODS, default=None,
                   help="what the student learns: remixit (remixes of the teacher's speech and "
                        "noise estimates), distill (the teacher's speech estimate from the "
                        "recording itself), mined_remix (its speech estimates remixed with noise "
                        "mined from the recordings' pauses), noisy_target (the recordings plus "
                        "mined noise, back to the recordings) (default: distill, or remixit when "
                        "the student is its own teacher)")
    a.add_argument("--minutes", type=positive_float, default=10.0,
                   help="wall-time budget for finding pauses, the check, the teacher pass and "
                        "the adaptation; training stops sooner when its guard has not gained "
                        "for 200 steps (default: %(default)s)")
    a.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: %(default)s)")
    a.add_argument("--save-model", default=None, metavar="PATH",
                   help="the adapted model file (default: OUT/adapted_model.pt)")
    a.add_argument("--atten-lim-db", type=_atten_limit, default="model", metavar="DB|off|model",
                   help="as for enhance (default: the student's own setting, 20 dB for the "
                        "shipped default, and 30 dB for files that are the teacher's; off gains "
                        "PESQ and SI-SDR when the teacher is good, at some STOI)")
    a.add_argument("--outputs", choices=ADAPT_OUTPUTS, default="auto",
                   help="whose estimates the enhanced files are: the kept student's (the model "
                        "file's), the teacher's (a 30 dB limit; the model file is still "
                        "the student, for other recordings), or auto: the teacher's when it is "
                        "not the student and passed the check, else the student's "
                        "(default: %(default)s)")
    a.add_argument("--max-steps", type=positive_int, default=None, help=argparse.SUPPRESS)
    a.add_argument("--seed", type=int, default=0, help="seeds the split and the training")
    a.add_argument("--threads", type=positive_int, default=None,
                   help="CPU threads for torch (default: the cores not busy when it starts)")
    a.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    a.add_argument("-v", "--verbose", action="store_true", help="Lightning's own messages too")
    a.set_defaults(run=_adapt)

    v = sub.add_parser("evaluate", help="score enhanced files against clean references",
                       epilog="exit code: 0 when every file paired and scored; 1 when a file "
                              "failed, was not scored or had no partner (all are listed in the "
                              "report); 2 for a usage error")
    v.add_argument("--ref", required=True, help="clean reference file or folder")
    v.add_argument("--est", required=True, help="enhanced file or folder (paired by relative path)")
    v.add_argument("--noisy", default=None, help="unprocessed input folder: also score it and the improvement")
    v.add_argument("--report", required=True, help="folder for scores.csv, summary.json/.md, report.html")
    v.add_argument("--jobs", type=positive_int, default=None, help="worker processes (default: all cores)")
    v.add_argument("--dnsmos", action="store_true", help="add no-reference DNSMOS (needs speechmos)")
    v.add_argument("--allow-short", action="store_true",
                   help="score estimates shorter than 90%% of their reference on the overlap "
                        "(by default such a file fails)")
    v.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    v.set_defaults(run=_evaluate)
    return p


#: The commands that train (and so import Lightning); the others never load it.
TRAINING_COMMANDS = ("train", "pretrain", "adapt", "helper")
#: `sepssl.adapt.METHODS`, named here so that parsing never imports Lightning (a test holds
#: them equal).
ADAPT_METHODS = ("remixit", "distill", "mined_remix", "noisy_target")
ADAPT_OUTPUTS = ("auto", "student", "teacher")


def _recipe_arguments(p: argparse.ArgumentParser, kind: str, names: str, example: str) -> None:
    """The arguments `train` and `pretrain` share: the recipe, --list, --print-config, --set,
    -q, -v, --threads."""
    p.add_argument("config", nargs="?", help=f"a YAML file, or a shipped recipe's name "
                   f"(e.g. {names}; see --list)")
    p.add_argument("--list", action="store_true", help=f"list the shipped {kind} recipes")
    p.add_argument("--print-config", action="store_true",
                   help="print the full config (defaults and --set included) and stop")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help=f"override a config value, e.g. --set {example} (repeatable)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("-v", "--verbose", action="store_true", help="Lightning's own messages too")
    p.add_argument("--threads", type=positive_int, default=None,
                   help="CPU threads for torch (default: the cores not busy when the run "
                        "starts, by the 1-minute load average; metrics/threads.md)")


def _log_to_stderr(command: str, verbose: bool) -> None:
    """The library logs through the `sepssl` logger; the command shows it on stderr. Lightning's
    own notes (accelerator found, tips) only with --verbose, and Lightning is imported (to quiet
    it) only by the commands that train: `enhance` starts without it."""
    if command in TRAINING_COMMANDS and not verbose:
        import lightning.pytorch  # noqa: F401  (its import sets its loggers to INFO; then quiet them)

        logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
        logging.getLogger("lightning.fabric").setLevel(logging.WARNING)
    logger = logging.getLogger("sepssl")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", ".*pkg_resources is deprecated.*")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    from .provenance import set_command

    set_command(["sepssl", *argv])
    _log_to_stderr(args.command, getattr(args, "verbose", False))
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
