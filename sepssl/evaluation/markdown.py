"""summary.md: the evaluation summary as Markdown, for a terminal, a pull request or a wiki.

Written by hand because it is a few lines of a fixed table; what needs care is escaping, since
file names and paths come from users: every character that makes Markdown markup or breaks a
table row is backslash-escaped (`md_escape`).
"""
from __future__ import annotations

from .formatting import MAX_LIST, NOTE_TEXT, column_heads, headline, mode_text, plural, summary_rows

_MD_SPECIAL = set("\\`*_[]<>|&~")


def md_escape(text) -> str:
    """User text (names, paths, messages) for Markdown.

    The characters that make markup or break a table row are backslash-escaped and line
    breaks flattened. Callers never put such text at the start of a line, so list / heading
    markers need no escaping.

    Args:
        text: anything; it is passed through `str`.

    Returns:
        The escaped text, one line.
    """
    s = " ".join(str(text).splitlines())
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in s)


def summary_markdown(summary: dict) -> str:
    """The summary as Markdown: a table (rows = metrics) and the failures / unpaired lists.

    Args:
        summary: what `summary.summarize` returns (with the ``reference``, ``estimate`` and
            ``input`` folders that `evaluate` adds).

    Returns:
        The Markdown text.
    """
    has_input = summary["has_input"]
    lines = ["# sepssl evaluation", ""]
    lines.append(f"- Reference: {md_escape(summary.get('reference', ''))}")
    lines.append(f"- Enhanced: {md_escape(summary.get('estimate', ''))}")
    if has_input:
        lines.append(f"- Noisy input: {md_escape(summary.get('input', ''))}")
    lines += ["", headline(summary) + " " + mode_text(summary), ""]

    heads = column_heads(has_input)
    lines.append("| Metric | " + " | ".join(f"{h} mean ± std" + (" [95% interval]" if h == "Improvement" else "")
                                        for h in heads)
                 + " | Median " + (" / ".join(["in", "out", "Δ"]) if has_input else "")
                 + " | Scored |")
    lines.append("|---|" + "---:|" * (len(heads) + 2))
    for label, cols, scored, verdict in summary_rows(summary):
        medians = " / ".join(c[1] for c in cols if c[1])
        mark = {"better": " (better)", "worse": " (worse)"}.get(verdict, "")
        lines.append(f"| {label} | " + " | ".join(c[0] for c in cols) + mark
                     + f" | {medians} | {scored} |")
    lines.append("")
    if has_input:
        lines += ["Improvement = enhanced − input, per file, then averaged. "
                  "Mean ± sample standard deviation over the files where the metric could be "
                  "computed; in brackets the mean improvement's 95% interval (Student's t), "
                  "marked better or worse only when it excludes 0.", ""]
    else:
        lines += ["Mean ± sample standard deviation over the files where the metric could be "
                  "computed. No noisy input given, so no improvement.", ""]

    if summary["failure_text"]:
        lines += ["## Failures", ""]
        lines += [f"- {md_escape(t)}" for t in summary["failure_text"]]
        lines += ["", "Per-file reasons are in scores.csv (column `errors`).", ""]
    unpaired = summary.get("unpaired") or []
    if unpaired:
        lines += ["## Unpaired files", ""]
        for u in unpaired[:MAX_LIST]:
            lines.append(f"- no {u['missing']}: {md_escape(u['file'])}")
        if len(unpaired) > MAX_LIST:
            lines.append(f"- … and {len(unpaired) - MAX_LIST} more (see summary.json)")
        lines.append("")
    notes = summary.get("notes") or {}
    if notes:
        lines += ["## Notes", ""]
        for k, n in notes.items():
            lines.append(f"- {plural(n)}: {md_escape(NOTE_TEXT.get(k, k))}")
        lines.append("")
    return "\n".join(lines)
