"""The corpus's sources as Markdown tables, from a build's corpus.json (nothing else).

    python metrics/corpus_table.py metrics/corpus.json > metrics/corpus.md

Speech: one row per package (split, licence, voices, minutes of trimmed speech, languages,
the source files' sample rates). Noise: one row per package (licence, files per split).
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict


def speech_table(d: dict) -> str:
    packages = {p["name"]: p for p in d["sources"]["real_speech_packages"]}
    voices = defaultdict(list)
    for split, vs in d["real_voice_details"].items():
        for v in vs:
            voices[v["package"]].append((split, v))
    lines = ["| package | version | split | licence | voices | minutes | languages | source rates (Hz) |",
             "|---|---|---|---|---:|---:|---|---|"]
    for name, p in packages.items():
        vs = [v for _, v in voices[name]]
        rates = sorted({r for v in vs for r in v["source_rates"]})
        langs = sorted({v["language"] for v in vs})
        lines.append(f"| {name} | {p['version']} | {p['split']} | {p['licence']} | {len(vs)} | "
                     f"{sum(v['minutes'] for v in vs):.1f} | {' '.join(langs)} | "
                     f"{', '.join(map(str, rates))} |")
    total = sum(v["minutes"] for vs in voices.values() for _, v in vs)
    lines.append(f"| **all** | | | | **{len(d['real_voices'])}** | **{total:.1f}** "
                 f"({d['real_speech_hours']:.2f} h) | | |")
    return "\n".join(lines)


def noise_table(d: dict) -> str:
    files = d["split_rules"]["noise_files"]
    test_only = set(d["split_rules"]["test_only_noise_packages"])
    lines = ["| package | version | licence | train files | valid files | test files |",
             "|---|---|---|---:|---:|---:|"]
    for p in d["sources"]["real_noise_packages"]:
        n = [files[s].get(p["name"], 0) for s in ("train", "valid", "test")]
        mark = " (test only)" if p["name"] in test_only else ""
        lines.append(f"| {p['name']}{mark} | {p['version']} | {p['licence']} | "
                     + " | ".join(map(str, n)) + " |")
    return "\n".join(lines)


def fullband_table(d: dict) -> str:
    """`sepssl data --fullband`: per split its voices, clips and minutes of 44.1 / 48 kHz
    speech and noise."""
    lines = ["| split | voices | speech clips | speech minutes | noise packages | noise files | "
             "noise minutes |", "|---|---:|---:|---:|---:|---:|---:|"]
    for split, part in d["fullband"]["splits"].items():
        lines.append(f"| {split} | {len(part['voices'])} | {part['speech_files']} | "
                     f"{60 * part['speech_hours']:.1f} | {len(part['noise_packages'])} | "
                     f"{part['noise_files']} | {60 * part['noise_hours']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    d = json.loads(open(sys.argv[1]).read())
    hours = d["hours"]
    flags = " --fullband" if "fullband" in d else ""
    print(f"# Corpus sources (`sepssl data --size {d['size']}{flags}`, seed {d['seed']})\n")
    print(f"Made by `python metrics/corpus_table.py {sys.argv[1]}` from the build's corpus.json "
          f"(built in {d['build_seconds']:.0f} s).\n")
    print(f"Hours: train {hours['train']['noisy']:.2f} noisy (+ the same clean, "
          f"{hours['train']['noise']:.2f} noise-only), valid {hours['valid']['noisy']:.2f}, "
          f"test {hours['test']['noisy']:.2f}. Real voices {len(d['real_voices'])}, real speech "
          f"{d['real_speech_hours']:.2f} h, real-noise packages {len(d['noise_sources'])}. "
          f"Missing sources: {', '.join(m['package'] for m in d['missing_sources']) or 'none'}.\n")
    print("## Real speech (every voice of a package in the package's split)\n")
    print(speech_table(d) + "\n")
    print("## Real noise (files split 70/10/20 by duration within a package, or test only)\n")
    print(noise_table(d) + "\n")
    if "fullband" in d:
        print("## Full band (`--fullband`: real speech and noise recorded at 44.1 / 48 kHz, at "
              "their own rate; speech only where its band above 8 kHz is speech)\n")
        print(fullband_table(d) + "\n")
    print("Text-to-speech: " + ", ".join(f"{k} {v}" for k, v in d["sources"]["tts_engines"].items())
          + ".")


if __name__ == "__main__":
    main()
