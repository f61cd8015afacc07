"""report.html is one self-contained page: the verdict on top, the score, the coverage heat map, failures first with
their redacted exchanges collapsed and links to the HAR and the contract, then the rules, skipped tests and settings;
everything escaped, any optional part may be missing; and a real headless browser renders it so."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from accounting_conformance.conformance.report_html import render_html
from tests.unit.test_summary_md import conformant_summary, could_not_judge_summary, troubled_summary

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")


def _cells(page: str, operation_id: str) -> list[str]:
    row = re.search(rf"<th><span [^>]*>[^<]*</span> [^<]* <small>\({operation_id}\)</small></th>(.*?)</tr>", page)
    assert row, operation_id
    return re.findall(r"<td class='([^']*)'", row.group(1))


def test_the_page_is_self_contained_with_no_script_and_nothing_fetched() -> None:
    page = render_html(troubled_summary())
    assert page.startswith("<!doctype html>") and "<style>" in page
    assert "<script" not in page and "<link" not in page and "@import" not in page and "url(" not in page
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", page)


def test_the_verdict_comes_first_then_score_coverage_failures_and_the_rules() -> None:
    page = render_html(troubled_summary())
    marks = ["Conformance report: violations", "violations: 2/3 operations, 4/8 documented responses seen"]
    marks += ["id='score'", "id='coverage'", "Failures (1)", "Accepted failures (1)", "By rule", "id='settings'"]
    positions = [page.index(mark) for mark in marks]
    assert positions == sorted(positions) and page.count("By rule") == 1


def test_the_score_shows_overall_and_each_family() -> None:
    page = render_html(troubled_summary())
    assert "<small>overall</small><div class='num'>33.3%</div>" in page
    assert (
        "<small>shape</small><div class='num'>100%</div>" in page
        and "<small>state</small><div class='num'>\u2014" in page
    )


def test_the_heat_map_has_a_row_per_operation_and_a_column_per_documented_status() -> None:
    page = render_html(troubled_summary())
    head = re.search(r"<table class='heat'><thead><tr>(.*?)</tr>", page)
    assert head and re.findall(r"<th>([^<]*)</th>", head.group(1)) == [
        "Operation",
        *["200", "204", "400", "401", "404", "429"],
        "Other statuses seen",
    ]
    assert "<span class='m m-POST'>POST</span> /accounting/invoices <small>(createInvoice)</small>" in page
    # shaded by count, never seen (0) apart, grey where the status is not documented for the operation
    assert _cells(page, "listInvoices") == ["h5", "nd", "nd", "h1", "nd", "zero", "undoc"]
    assert _cells(page, "createInvoice") == ["h1", "nd", "zero", "nd", "zero", "nd", "undoc"]
    assert _cells(page, "deleteBillCreditMemo") == ["nd", "zero", "nd", "nd", "h2", "nd", "undoc"]  # 3 of at most 40
    assert "<td class='undoc'>201 &times;2</td>" in page
    assert "<tr class='nosuccess'><th><span class='m m-DELETE'>" in page


def test_a_failure_shows_expected_received_a_collapsed_exchange_the_har_and_the_contract() -> None:
    data = troubled_summary() | {"contract": "openapi.yaml"}
    page = render_html(data)
    failure = page[page.index("Failures (1)") : page.index("Accepted failures (1)")]
    assert "<pre>Expected: remaining = 5\nReceived: remaining = 10 | &lt;script&gt;" in failure
    assert (
        "<details><summary>Request and response (redacted)</summary><pre>POST /accounting/invoices?access_token=***"
        in failure
    )
    assert "<details open" not in failure
    assert "<a href='recordings/test_writes-test_apply-invoice.har'>" in failure
    assert (
        "<a href='openapi.yaml#/components/schemas/InvoiceCreditMemo/properties/remaining'>"
        "<code>openapi/openapi.yaml#/components/schemas/InvoiceCreditMemo/properties/remaining</code></a>"
    ) in failure


def test_without_a_contract_beside_the_report_the_pointer_is_shown_not_linked() -> None:
    page = render_html(troubled_summary())
    assert "<a href='openapi" not in page and "<code title='a JSON pointer into the contract'>openapi/" in page


def test_accepted_failures_are_marked_with_their_reason_and_the_baseline_lists_fixed_and_expired_entries() -> None:
    page = render_html(troubled_summary())
    accepted = page[page.index("Accepted failures (1)") : page.index("id='baseline'")]
    assert "<span class='pill s-accepted'>accepted</span> APPLY-001" in accepted and "ticket 12" in accepted
    assert "Fixed, remove it (1)" in page and "Expired: these fail the run (1)" in page


def test_every_rule_has_its_status_and_rules_not_claimed_are_counted_apart() -> None:
    page = render_html(troubled_summary())
    for rule_id, status in [("MONEY-003", "failed"), ("APPLY-001", "accepted"), ("ASYNC-001", "not claimed")]:
        assert re.search(rf"<td>{rule_id}</td><td>\w+</td><td><span class='pill s-[a-z-]+'>{status}</span>", page)
    assert "<td><span class='pill s-not-exercised'>not exercised</span>" in page
    assert "Not claimed: 1 rule(s), counted apart" in page and "<code>async_jobs</code>" in page


def test_text_from_the_target_is_escaped_everywhere() -> None:
    page = render_html(troubled_summary())
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_conformant_run_says_so_with_no_failures() -> None:
    page = render_html(conformant_summary())
    assert "<header class='v-conformant' id='verdict'>" in page and "Failures (0)</h2><p>None.</p>" in page


def test_a_run_that_could_not_judge_shows_its_reason_and_settings_only() -> None:
    page = render_html(could_not_judge_summary())
    assert "Conformance report: could not judge" in page and "target unreachable: connection refused" in page
    assert "id='coverage'" not in page and "Failures" not in page and "<pre>null</pre>" in page


@pytest.mark.parametrize("key", sorted(troubled_summary()))
def test_any_key_may_be_missing(key: str) -> None:
    data = troubled_summary()
    del data[key]
    assert render_html(data).endswith("</body></html>\n")


def test_an_empty_summary_still_renders() -> None:
    assert "Conformance report: could not judge" in render_html({})


# ------------------------------------------------------------------------------------------- in a real browser

#: Opened beside report.html with file access between local files allowed: reads what the browser laid out.
HARNESS = """<!doctype html><html><body><pre id="out">not loaded</pre>
<iframe id="f" src="report.html" style="width:1280px;height:3000px"></iframe><script>
const frame = document.getElementById('f');
frame.addEventListener('load', () => {
  const d = frame.contentDocument, w = frame.contentWindow;
  const top = (s) => { const e = d.querySelector(s); return e ? e.getBoundingClientRect().top : null; };
  const look = (s) => { const st = w.getComputedStyle(d.querySelector(s)); return st.backgroundColor + st.backgroundImage; };
  document.getElementById('out').textContent = JSON.stringify({
    title: d.title, text: d.body.innerText, details: [...d.querySelectorAll('details')].map(x => x.open),
    tops: {header: top('header'), coverage: top('#coverage'), failures: top('#failures'), rules: top('#rules')},
    looks: ['td.zero', 'td.nd', 'td.h1', 'td.h5'].map(look),
    har: [...d.querySelectorAll('a')].map(a => a.href).filter(h => h.endsWith('.har')),
    fetched: w.performance.getEntriesByType('resource').length, scripts: d.scripts.length,
  });
});
</script></body></html>"""


def _rendered(report_dir: Path) -> dict[str, Any]:
    assert BROWSER is not None
    (report_dir / "harness.html").write_text(HARNESS, encoding="utf-8")
    done = subprocess.run(
        [BROWSER, "--headless=new", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files"]
        + ["--virtual-time-budget=5000", "--dump-dom", (report_dir / "harness.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(r'<pre id="out">(.*?)</pre>', done.stdout, re.S)
    assert found and found.group(1) != "not loaded", done.stderr[-2000:]
    facts: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return facts


@pytest.mark.skipif(BROWSER is None, reason="no headless browser: install Debian's chromium to render report.html")
def test_a_headless_browser_renders_the_verdict_the_heat_map_failures_first_and_collapsed_exchanges(
    tmp_path: Path,
) -> None:
    (tmp_path / "report.html").write_text(render_html(troubled_summary()), encoding="utf-8")
    facts = _rendered(tmp_path)
    assert facts["title"] == "Conformance report: violations" and facts["scripts"] == 0 and facts["fetched"] == 0
    text = facts["text"]
    assert text.startswith("Conformance report: violations\n") and "4/8 documented responses seen" in text
    assert "GET /accounting/invoices (listInvoices)\t40\t\t\t1\t\t0\t" in text  # the heat map's row as laid out
    assert "Expected: remaining = 5" in text and "<script>alert(1)</script>" in text  # shown as text, not run
    assert "access_token=***\n\n200 OK" not in text  # inside closed <details>: not rendered
    assert facts["details"] == [False, False, False, False, True]  # two per failure collapsed; the short skip list open
    tops = facts["tops"]
    assert tops["header"] == 0 and tops["coverage"] < tops["failures"] < tops["rules"]
    assert len(set(facts["looks"])) == 4, facts["looks"]  # never seen, not documented, few and many all look apart
    assert facts["har"] == [
        (tmp_path / "recordings" / "test_writes-test_apply-invoice.har").as_uri(),
        (tmp_path / "recordings" / "test_applications-test_apply_twice.har").as_uri(),
    ]
