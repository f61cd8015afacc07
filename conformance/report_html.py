"""report.html: one self-contained page (inline CSS, no script, nothing fetched) rendered from summary.json's data:
verdict, score, the coverage heat map, failures first with their redacted exchanges collapsed, then the rules."""

from __future__ import annotations

import html
import json
import math
import re
from typing import Any
from urllib.parse import quote

from accounting_conformance.conformance.score import percent_text, score, status_of, title_of

SUITE_ERROR_NOTE = (
    "a bug of the conformance suite itself, not a finding about the target: please report it to the "
    "suite's maintainers with the traceback below (it is also in summary.json)"
)
CSS = """
:root{--ink:#1f2328;--mute:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--red:#cf222e;--green:#1a7f37;--amber:#9a6700}
*{box-sizing:border-box}body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink);margin:0}
main{max-width:88em;margin:0 auto;padding:0 1.5em 3em}
h2{margin:1.6em 0 .5em;padding-bottom:.2em;border-bottom:1px solid var(--line)}
nav{position:sticky;top:0;background:#fff;border-bottom:1px solid var(--line);padding:.4em 1.5em;z-index:2}
nav a{margin-right:1.2em;color:var(--mute);text-decoration:none}nav a:hover{color:var(--ink)}
header{padding:1.2em 1.5em;color:#fff;background:var(--mute)}header h1{margin:0;font-size:1.7em}
header p{margin:.3em 0 0}header code{background:#ffffff30;color:#fff}.v-conformant{background:#1a7f37}
.v-violations,.v-suite-error{background:#b3261e}.v-insufficient-coverage{background:#bc4c00}
.line{font-size:1.15em;font-weight:600}code,pre{font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace}
code{background:var(--bg);padding:.1em .3em;border-radius:4px}a code{color:inherit}
pre{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.7em;white-space:pre-wrap;word-break:break-all}
.cards{display:flex;flex-wrap:wrap;gap:.7em}
.card{border:1px solid var(--line);border-radius:8px;padding:.6em .9em;min-width:10em}
.card .num{font-size:1.6em;font-weight:700}.card.big .num{font-size:2.4em}.card small{color:var(--mute)}
.bar{height:6px;background:#eaeef2;border-radius:3px;overflow:hidden}
.bar span{display:block;height:100%;background:var(--green)}table{border-collapse:collapse}
th,td{padding:.3em .6em;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
.scroll{overflow-x:auto}.heat td{text-align:center;min-width:2.6em;border:2px solid #fff;border-radius:4px}
.heat th{border-bottom:0}.heat tbody th{white-space:nowrap}.heat thead th{text-align:center}.heat tbody th small{color:var(--mute)}
.h1{background:#dafbe1}.h2{background:#aceebb}.h3{background:#6fdd8b}.h4{background:#2da44e;color:#fff}
.h5{background:#116329;color:#fff}
.zero{background:#ffebe9;color:var(--red);font-weight:700;outline:1px dashed var(--red);outline-offset:-3px}
.nd{background:repeating-linear-gradient(45deg,#eef1f4 0 4px,#f8f9fa 4px 8px)}
.undoc{color:var(--red);text-align:left!important}
.m{display:inline-block;min-width:4.2em;font:600 11px ui-monospace,monospace;color:#fff;border-radius:3px;padding:0 .3em;text-align:center}
.m-GET{background:#0969da}.m-POST{background:#1a7f37}.m-PATCH,.m-PUT{background:#9a6700}
.m-DELETE{background:#cf222e}.nosuccess th{color:var(--red)}
.legend span{display:inline-block;width:1.4em;height:1em;vertical-align:middle;margin:0 .3em 0 1em;border-radius:3px}
.failure{border:1px solid var(--line);border-left:5px solid var(--red);border-radius:6px;padding:.2em 1em .6em;margin:.8em 0}
.failure.accepted{border-left-color:var(--amber);background:#fffbf0}.failure h3{margin:.5em 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;margin:.4em 0}dt{color:var(--mute)}dd{margin:0}
details summary{cursor:pointer;color:#0969da;margin:.3em 0}
.pill{display:inline-block;border-radius:1em;padding:0 .6em;font-size:12px;font-weight:600;white-space:nowrap}
.s-passed{background:#dafbe1;color:#116329}.s-failed{background:#ffebe9;color:#a40e26}
.s-accepted{background:#fff8c5;color:#7d4e00}.s-not-claimed{background:#ddf4ff;color:#0550ae}
.s-not-exercised{background:#eaeef2;color:var(--mute)}
.rules td:nth-child(n+4):nth-child(-n+7){text-align:right;font-variant-numeric:tabular-nums}
.heat thead th:first-child{text-align:left}td small code{font-size:11.5px;word-break:break-all}
"""


NAV = ("score", "coverage", "failures", "rules", "settings")  # nav bar anchors ("By rule" only once)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else _e(value)


def _slug(text: Any) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def _pointer(reference: Any, contract: str | None) -> str:
    """A contract pointer, its text the reference: a link into the contract when the summary names where it lies."""
    if not reference:
        return ""
    if not contract:
        return f"<code title='a JSON pointer into the contract'>{_e(reference)}</code>"
    pointer = str(reference).partition("#")[2]
    href = f"{quote(contract)}#{quote(pointer, safe='/~-_.')}" if pointer else quote(contract)
    return f"<a href='{_e(href)}'><code>{_e(reference)}</code></a>"


def _header(data: dict[str, Any]) -> str:
    verdict = data.get("verdict") or "could not judge"
    facts = [f"exit code {_e(data['exit_code'])}"] if data.get("exit_code") is not None else []
    if data.get("tests"):
        facts.append("tests: " + ", ".join(f"{_e(n)} {_e(k)}" for k, n in data["tests"].items()))
    if data.get("first_failure_seconds") is not None:
        facts.append(f"first failure after {_e(data['first_failure_seconds'])} s")
    if data.get("seed") is not None:
        facts.append(f"seed <b>{_e(data['seed'])}</b>")
    if data.get("replay"):
        facts.append(f"replay with <code>{_e(data['replay'])}</code>")
    lines = [f"<h1>Conformance report: {_e(verdict)}</h1>"]
    lines += [f"<p class='line'>{_e(data[key])}</p>" for key in ("verdict_line", "reason") if data.get(key)]
    lines += [f"<p>{' &middot; '.join(facts)}</p>"] if facts else []
    return f"<header class='v-{_slug(verdict)}' id='verdict'>{''.join(lines)}</header>"


def _card(name: str, entry: dict[str, Any], big: bool = False) -> str:
    width = entry.get("percent") or 0
    return (
        f"<div class='card{' big' if big else ''}'><small>{_e(name)}</small><div class='num'>{percent_text(entry)}</div>"
        f"<div class='bar'><span style='width:{float(width):.1f}%'></span></div>"
        f"<small>{_e(entry.get('passed', 0))} of {_e(entry.get('judged', 0))} rules passed</small></div>"
        if entry.get("judged")
        else f"<div class='card'><small>{_e(name)}</small><div class='num'>\u2014</div><small>no rule judged</small></div>"
    )


def _score(data: dict[str, Any]) -> str:
    result = data.get("score") or (score(data["rules"]) if data.get("rules") else None)
    if not result:
        return ""
    cards = [_card("overall", result.get("overall") or {}, big=True)]
    cards += [_card(name, entry) for name, entry in (result.get("families") or {}).items()]
    note = "Accepted failures count as not passed; rules not claimed or not exercised are left out."
    return f"<h2 id='score'>Score</h2><div class='cards'>{''.join(cards)}</div><p><small>{note}</small></p>"


def _status_key(status: str) -> tuple[str, int, str]:
    return (status[:1], 0 if status.isdigit() else 1, status)


def _level(count: int, most: int) -> int:
    return 5 if most <= 1 else 1 + min(4, int(4 * math.log(count) / math.log(most)))


def _heat_row(row: dict[str, Any], columns: list[str], most: int) -> str:
    responses, method = row.get("responses") or {}, str(row.get("method", ""))
    name = f"{_e(method)} {_e(row.get('path', ''))}"
    cells = [
        f"<th><span class='m m-{_e(method.upper())}'>{_e(method)}</span> {_e(row.get('path', ''))} "
        f"<small>({_e(row.get('operation_id', ''))})</small></th>"
    ]
    for status in columns:
        if status not in responses:
            cells.append(f"<td class='nd' title='{name}: {_e(status)} not documented'></td>")
            continue
        n = int(responses[status] or 0)
        css = f"h{_level(n, most)}" if n else "zero"
        cells.append(f"<td class='{css}' title='{name}: {_e(status)} seen {n} times'>{n}</td>")
    undocumented = ", ".join(f"{_e(s)} &times;{_e(n)}" for s, n in (row.get("undocumented") or {}).items())
    cells.append(f"<td class='undoc'>{undocumented}</td>")
    return f"<tr class='{'' if row.get('success') else 'nosuccess'}'>{''.join(cells)}</tr>"


def _coverage(data: dict[str, Any]) -> str:
    cov = data.get("coverage")
    if not cov:
        return ""
    text = (
        f"Operations exercised with a success: <b>{_e(cov.get('operations_exercised', 0))}/"
        f"{_e(cov.get('operations_total', 0))}</b> &middot; documented responses seen: "
        f"<b>{_e(cov.get('responses_seen', 0))}/{_e(cov.get('responses_total', 0))}</b>"
    )
    minimum = cov.get("minimum")
    if minimum:
        met = (
            "<span class='pill s-passed'>met</span>" if cov.get("met") else "<span class='pill s-failed'>not met</span>"
        )
        text += f" &middot; minimum {_number(minimum.get('operations'))}% / {_number(minimum.get('responses'))}% {met}"
    rows = cov.get("operations") or []
    columns = sorted({str(s) for row in rows for s in row.get("responses") or {}}, key=_status_key)
    most = max([int(n or 0) for row in rows for n in (row.get("responses") or {}).values()] + [1])
    legend = (
        "<p class='legend'><small>Responses seen per documented status:<span class='h2'></span>few "
        "<span class='h5'></span>many <span class='zero'></span>documented, never seen "
        "<span class='nd'></span>not documented; an operation in red never answered a success.</small></p>"
    )
    head = "".join(f"<th>{_e(s)}</th>" for s in columns)
    body = "".join(_heat_row(row, columns, most) for row in rows)
    table = f"<div class='scroll'><table class='heat'><thead><tr><th>Operation</th>{head}<th>Other statuses seen</th></tr></thead><tbody>{body}</tbody></table></div>"
    return f"<h2 id='coverage'>Coverage</h2><p>{text}</p>{legend if rows else ''}{table if rows else ''}"


def _failure(failure: dict[str, Any], contract: str | None) -> str:
    accepted = bool(failure.get("accepted"))
    mark = "<span class='pill s-accepted'>accepted</span> " if accepted else ""
    facts = [("Test", f"<code>{_e(failure.get('test', ''))}</code>"), ("Operation", _e(failure.get("operation", "")))]
    facts += [("Contract", _pointer(failure.get("reference"), contract))]
    if failure.get("recording"):
        har, href = _e(failure["recording"]), _e(quote(str(failure["recording"])))
        replay = (
            f"<br><small>every exchange, redacted; replay: <code>conformance replay {har} --target URL</code></small>"
        )
        facts.append(("Recording", f"<a href='{href}'>{har}</a> (HAR){replay}"))
    if accepted:
        facts.append(("Accepted because", _e(failure.get("reason", ""))))
    parts = [f"<article class='failure{' accepted' if accepted else ''}'>"]
    parts.append(f"<h3>{mark}{_e(failure.get('rule', ''))}: {_e(title_of(failure))}</h3><dl>")
    parts += [f"<dt>{label}</dt><dd>{value}</dd>" for label, value in facts if value]
    parts.append("</dl>")
    if failure.get("expected") or failure.get("received"):
        parts.append(
            f"<pre>Expected: {_e(failure.get('expected', ''))}\nReceived: {_e(failure.get('received', ''))}</pre>"
        )
    if failure.get("detail"):
        parts.append(
            f"<details><summary>Request and response (redacted)</summary><pre>{_e(failure['detail'])}</pre></details>"
        )
    if failure.get("reproduction"):
        parts.append(
            f"<details><summary>Reproduce with curl</summary><pre>{_e(failure['reproduction'])}</pre></details>"
        )
    return "".join(parts) + "</article>"


def _failures(data: dict[str, Any], contract: str | None) -> str:
    failures = data.get("failures") or []
    new = [_failure(f, contract) for f in failures if not f.get("accepted")]
    accepted = [_failure(f, contract) for f in failures if f.get("accepted")]
    parts = [f"<h2 id='failures'>Failures ({len(new)})</h2>", *(new or ["<p>None.</p>"])] if "failures" in data else []
    parts += [f"<h2 id='accepted'>Accepted failures ({len(accepted)})</h2>", *accepted] if accepted else []
    for error in data.get("suite_errors") or []:
        parts.append(
            f"<article class='failure'><h3>Suite error in <code>{_e(error.get('test', ''))}</code></h3>"
            f"<p>{_e(SUITE_ERROR_NOTE)}</p><pre>{_e(error.get('traceback', ''))}</pre></article>"
        )
    return "".join(parts)


def _table(head: list[str], rows: list[list[str]], css: str = "") -> str:
    cells = "".join(f"<tr>{''.join(f'<td>{c}</td>' for c in row)}</tr>" for row in rows)
    return f"<table class='{css}'><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr>{cells}</table>"


def _baseline(data: dict[str, Any]) -> str:
    baseline = data.get("baseline")
    if not baseline:
        return ""
    parts = [f"<h2 id='baseline'>Baseline <code>{_e(baseline.get('file', ''))}</code></h2>"]
    parts.append(f"<p>{_e(baseline.get('new', 0))} new failure(s), not in the baseline, fail the run.</p>")
    for title, key in (("Fixed, remove it", "fixed"), ("Expired: these fail the run", "expired")):
        entries = baseline.get(key) or []
        if entries:
            rows = [
                [_e(x.get("rule")), _e(x.get("operation") or x.get("test")), _e(x.get("reason")), _e(x.get("expires"))]
                for x in entries
            ]
            parts += [
                f"<h3>{title} ({len(entries)})</h3>",
                _table(["Rule", "Operation or test", "Reason", "Expires"], rows),
            ]
    return "".join(parts)


def _not_claimed(data: dict[str, Any]) -> str:
    claims = data.get("claims") or {}
    rules = claims.get("not_claimed_rules") or []
    if not rules and not claims.get("unclaimed_features"):
        return ""
    features = ", ".join(f"<code>{_e(f)}</code>" for f in claims.get("unclaimed_features") or []) or "none"
    tests = len(claims.get("not_claimed_tests") or [])
    return (
        f"<h2 id='claims'>Not claimed: {len(rules)} rule(s), counted apart</h2><p>Features the target does not offer: "
        f"{features}. Rules: {', '.join(_e(r) for r in rules) or 'none'}; {tests} test(s) not run.</p>"
    )


def _rules(data: dict[str, Any], contract: str | None) -> str:
    rows = [
        [
            _e(r.get("id", "")),
            _e(r.get("family", "")),
            f"<span class='pill s-{_slug(status_of(r))}'>{status_of(r)}</span>",
        ]
        + [_e(r.get(k, 0)) for k in ("passed", "failed", "skipped", "accepted")]
        + [f"{_e(r.get('statement', ''))}<br><small>{_pointer(r.get('reference'), contract)}</small>"]
        for r in data.get("rules") or []
    ]
    head = ["Rule", "Family", "Status", "Passed", "Failed", "Skipped", "Accepted", "Statement and contract"]
    return f"<h2 id='rules'>By rule</h2><div class='scroll'>{_table(head, rows, 'rules')}</div>" if rows else ""


def _rest(data: dict[str, Any]) -> str:
    parts, skipped, states = [], data.get("skipped") or [], data.get("states") or {}
    if skipped:
        items = "".join(f"<li><code>{_e(s.get('test', ''))}</code>: {_e(s.get('reason', ''))}</li>" for s in skipped)
        shown = " open" if len(skipped) <= 15 else ""
        parts.append(f"<h2 id='skipped'>Skipped ({len(skipped)})</h2><details{shown}><summary>which and why</summary>")
        parts.append(f"<ul>{items}</ul></details>")
    if states.get("reached"):
        reached = f"{sum(1 for n in states['reached'].values() if n)}/{len(states['reached'])}"
        missing = ", ".join(_e(s) for s in states.get("unreached") or [])
        parts.append(f"<h2>States reached</h2><p>{reached}{'; never reached: ' + missing if missing else ''}</p>")
    settings = json.dumps(data.get("settings"), indent=2, default=str)
    return "".join(parts) + f"<h2 id='settings'>Settings</h2><pre>{_e(settings)}</pre>"


def render_html(data: dict[str, Any]) -> str:
    """The whole page, self-contained: verdict, score, coverage heat map, failures first, rules, skipped, settings."""
    contract = str(data["contract"]) if data.get("contract") else None  # e.g. "openapi.yaml", copied beside it
    body = [_score(data), _coverage(data), _failures(data, contract), _baseline(data), _not_claimed(data)]
    body += [_rules(data, contract), _rest(data)]
    present = [anchor for anchor in NAV if f"id='{anchor}'" in "".join(body)]
    nav = "".join(f"<a href='#{anchor}'>{anchor.capitalize()}</a>" for anchor in present)
    body = [_header(data), f"<nav><a href='#verdict'>Verdict</a>{nav}</nav><main>", *body, "</main>"]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
        f"<title>Conformance report: {_e(data.get('verdict') or 'could not judge')}</title><style>{CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
