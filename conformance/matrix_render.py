"""The matrix where people look: matrix.md (GitHub-flavoured Markdown, for the job summary), matrix.html (one page, no
scripts) and the compact table on the terminal, all rendered from matrix.json's data. Text from runs (names, verdict
lines) is escaped everywhere: it cannot inject HTML or break a table."""

from __future__ import annotations

import html
import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from accounting_conformance.conformance.score import percent_text
from accounting_conformance.conformance.summary_md import STATUS_MARK

CANNOT = "could not judge"
MARK = {**STATUS_MARK, CANNOT: "\u2754"}  # Markdown and HTML cells
WORSE_MARK = "\U0001f53b"
#: HTML cells: marks any text font has (their colour says the rest), where emoji may have no font
SIGN = {"passed": "\u2713", "failed": "\u2717", "accepted": "\u2248", "not claimed": "\u2013"}
SIGN |= {"not exercised": "\u00b7", CANNOT: "?"}
ASCII = {"passed": "+", "failed": "F", "accepted": "A", "not claimed": "-", "not exercised": ".", CANNOT: "?"}
LEGEND = "  ".join(f"{mark} {status}" for status, mark in ASCII.items())
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def _md(value: Any) -> str:
    """Plain text for a Markdown table cell: one line, HTML and Markdown punctuation escaped."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(" ".join(str(value).split()))) or " "


def _plain(text: str) -> str:
    """A line for the terminal: control characters (an escape sequence in a name) shown as ?, the em dash as -."""
    return "".join(c if c.isprintable() else "?" for c in text.replace("\N{EM DASH}", "-"))


def _seconds(value: Any) -> str:
    return "\N{EM DASH}" if value is None else f"{float(value):.1f} s"


def _timing(matrix: Mapping[str, Any]) -> str:
    if matrix.get("seconds") is None:
        return f"the runs took {_seconds(matrix.get('runs_seconds'))} in all (as their junit.xml say)"
    return f"{_seconds(matrix['seconds'])} for the matrix, the runs alone {_seconds(matrix.get('runs_seconds'))}"


def _worse(matrix: Mapping[str, Any]) -> list[dict[str, str]]:
    return list((matrix.get("compare") or {}).get("worse") or [])


def markdown(matrix: Mapping[str, Any]) -> str:
    """matrix.md: the verdict, a line per target (exit, verdict line, score, time), the matrix, then worse cells."""
    targets, rules = matrix["targets"], matrix["rules"]
    lines = [
        f"## Conformance matrix: exit {matrix['exit_code']} ({_md(matrix['verdict'])})",
        "",
        f"{len(targets)} targets \u00b7 {len(rules)} rules \u00b7 {_md(_timing(matrix))}",
        "",
        "| target | exit | score | time | verdict |",
        "| --- | :-: | --: | --: | --- |",
    ]
    for t in targets:
        lines.append(
            f"| {_md(t['name'])} | {t['exit_code']} | {percent_text(t['score'])} | {_seconds(t['seconds'])} "
            f"| {_md(t['verdict_line'])} |"
        )
    lines += ["", "| target | " + " | ".join(_md(r["id"]) for r in rules) + " |"]
    lines.append("| --- |" + " :-: |" * len(rules))
    for t in targets:
        worse = t.get("worse") or {}
        cells = [MARK.get(t["cells"][r["id"]], "?") + (WORSE_MARK if r["id"] in worse else "") for r in rules]
        lines.append(f"| {_md(t['name'])} | " + " | ".join(cells) + " |")
    legend = " \u00b7 ".join(f"{mark} {status}" for status, mark in MARK.items())
    lines += ["", f"{legend} \u00b7 {WORSE_MARK} worse than before", ""]
    compared = matrix.get("compare")
    if compared:
        lines += [f"### Compared with {_md(compared['against'])}", ""]
        if _worse(matrix):
            lines += ["| target | rule | before | now |", "| --- | --- | --- | --- |"]
            lines += [
                f"| {_md(w['target'])} | {_md(w['rule'])} | {_md(w['before'])} | {_md(w['now'])} |"
                for w in _worse(matrix)
            ]
        else:
            lines.append("No cell got worse.")
        for key, said in (("new_targets", "New targets"), ("gone_targets", "Targets gone since")):
            if compared.get(key):
                lines += ["", f"{said}: {', '.join(_md(name) for name in compared[key])}"]
        lines.append("")
    return "\n".join(lines)


_STYLE = """body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;white-space:nowrap}th.rule{writing-mode:vertical-rl;transform:rotate(180deg)}
td.cell{text-align:center;min-width:1.4em}.passed{background:#d7f5dd}.failed{background:#f8c9c4}
.accepted{background:#fbeaa8}.not-claimed{background:#e6e6f2}.not-exercised{background:#f6f6f6;color:#999}
.could-not-judge{background:#ddd}.worse{outline:3px solid #b00;outline-offset:-3px}.code2{color:#777}
.code1{color:#b00}.code0{color:#070}"""


def _h(value: Any) -> str:
    return html.escape(str(value), quote=True)


def render_html(matrix: Mapping[str, Any], links: Mapping[str, str] | None = None) -> str:
    """matrix.html: the same as matrix.md, one table cell per rule, each cell saying its rule and status on hover."""
    links = links or {}
    targets, rules = matrix["targets"], matrix["rules"]
    head = "".join(f'<th class="rule" title="{_h(r["id"] + ": " + r["statement"])}">{_h(r["id"])}</th>' for r in rules)
    body = []
    for t in targets:
        worse = t.get("worse") or {}
        name = _h(t["name"])
        if t["name"] in links:
            name = f'<a href="{_h(links[t["name"]])}">{name}</a>'
        cells = []
        for r in rules:
            status = t["cells"][r["id"]]
            was = f" (before: {worse[r['id']]})" if r["id"] in worse else ""
            css = status.replace(" ", "-") + (" worse" if was else "")
            hover = _h(f"{t['name']} {r['id']}: {status}{was}")
            cells.append(f'<td class="cell {_h(css)}" title="{hover}">{_h(SIGN.get(status, "?"))}</td>')
        body.append(
            f'<tr><th>{name}</th><td class="code{t["exit_code"]}">{t["exit_code"]}</td>'
            f"<td>{_h(percent_text(t['score']))}</td><td>{_h(_seconds(t['seconds']))}</td>{''.join(cells)}</tr>"
        )
    verdicts = "".join(f"<li><b>{_h(t['name'])}</b>: {_h(t['verdict_line'])}</li>" for t in targets)
    worse_rows = "".join(
        f"<tr><td>{_h(w['target'])}</td><td>{_h(w['rule'])}</td><td>{_h(w['before'])}</td><td>{_h(w['now'])}</td></tr>"
        for w in _worse(matrix)
    )
    compared = matrix.get("compare")
    compare_html = ""
    if compared:
        compare_html = f"<h2>Compared with {_h(compared['against'])}</h2>" + (
            f"<table><tr><th>target</th><th>rule</th><th>before</th><th>now</th></tr>{worse_rows}</table>"
            if worse_rows
            else "<p>No cell got worse.</p>"
        )
    legend = " &middot; ".join(
        f'<span class="{_h(s.replace(" ", "-"))}">{_h(m)}</span> {_h(s)}' for s, m in SIGN.items()
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Conformance matrix</title>'
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>Conformance matrix: exit {_h(matrix['exit_code'])} ({_h(matrix['verdict'])})</h1>"
        f"<p>{len(targets)} targets &middot; {len(rules)} rules &middot; {_h(_timing(matrix))}</p>"
        f"<table><tr><th>target</th><th>exit</th><th>score</th><th>time</th>{head}</tr>{''.join(body)}</table>"
        f"<p>{legend} &middot; a red frame: worse than before</p><h2>Verdicts</h2><ul>{verdicts}</ul>"
        f"{compare_html}</body></html>\n"
    )


def terminal(matrix: Mapping[str, Any]) -> list[str]:
    """The compact table: a line per target (exit, score, time, one character per rule), its verdict, worse cells."""
    targets = matrix["targets"]
    width = max([len("target"), *(len(t["name"]) for t in targets)])
    lines = ["", f"Conformance matrix: {len(targets)} targets x {len(matrix['rules'])} rules ({LEGEND})"]
    rules = matrix["rules"]
    gaps = {i for i in range(1, len(rules)) if rules[i]["family"] != rules[i - 1]["family"]}
    lines.append(f"  {'target':<{width}}  exit  score   time     rules as in matrix.md, a space between families")
    for t in targets:
        grid = "".join(" " * (i in gaps) + ASCII.get(t["cells"][r["id"]], "?") for i, r in enumerate(rules))
        lines.append(
            f"  {t['name']:<{width}}  {t['exit_code']:>4}  {percent_text(t['score']):>6}  "
            f"{_seconds(t['seconds']):>7}  {grid}"
        )
    lines.append("")
    for t in targets:
        failed = f"; failed: {', '.join(t['failed'])}" if t.get("failed") else ""
        lines.append(f"  {t['name']}: exit {t['exit_code']} ({t['verdict_line']}){failed}")
    compared = matrix.get("compare")
    if compared:
        worse = _worse(matrix)
        lines += ["", f"Compared with {compared['against']}: {len(worse)} cell(s) worse"]
        lines += [f"  WORSE {w['target']} {w['rule']}: {w['before']} -> {w['now']}" for w in worse]
        for key, said in (("new_targets", "new (not compared)"), ("gone_targets", "gone since")):
            if compared.get(key):
                lines.append(f"  {said}: {', '.join(compared[key])}")
    lines += ["", f"Time: {_timing(matrix)}"]
    return [_plain(line) for line in lines]


def write(matrix: Mapping[str, Any], out: Path, links: Mapping[str, str] | None = None) -> list[Path]:
    """Write matrix.json, matrix.md and matrix.html into out; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "matrix.json", out / "matrix.md", out / "matrix.html"]
    paths[0].write_text(json.dumps(matrix, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths[1].write_text(markdown(matrix), encoding="utf-8")
    paths[2].write_text(render_html(matrix, links), encoding="utf-8")
    return paths


def publish(matrix: Mapping[str, Any], out: Path, links: Mapping[str, str], prog: str) -> int:
    """Write the matrix into out, print its table and exit line, append matrix.md to $GITHUB_STEP_SUMMARY when set
    (the runs of `conformance matrix` do not append their own); the matrix's exit code."""
    try:
        written = write(matrix, out, links)
    except OSError as exc:
        return refuse(prog, f"could not write the matrix into {out}: {exc}")
    for line in terminal(matrix):
        print(line)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        try:
            with open(step_summary, "a", encoding="utf-8") as job_summary:
                job_summary.write(markdown(matrix) + "\n")
        except OSError as exc:
            print(f"{prog}: could not append matrix.md to $GITHUB_STEP_SUMMARY: {exc}", file=sys.stderr)
    print(f"Matrix: {', '.join(str(path) for path in written)}")
    print(_plain(f"{prog}: exit {matrix['exit_code']} ({matrix['verdict']})"), flush=True)
    return int(matrix["exit_code"])


def refuse(prog: str, message: str) -> int:
    """Say why the matrix cannot be made (each line under the command's name) and exit 2."""
    sys.stdout.flush()
    print("\n".join(_plain(f"{prog}: {line}") for line in message.splitlines()), file=sys.stderr)
    print(f"{prog}: exit 2 (could not judge)", flush=True)
    return 2
