"""`conformance replay` sends a recorded failing test again and re-judges its failed checks: against the faulty server
the failure is still there (exit 1), against a clean one it is fixed (exit 0), and without a target there is no
verdict (exit 2). The recordings are made here as a run makes them: real exchanges with real reference servers (one
started with a deliberate fault), written with `write_har`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from accounting_conformance.conformance import kinds, replay
from accounting_conformance.conformance.client import ApiClient, Exchange
from accounting_conformance.conformance.embedded import EmbeddedServer, free_port
from accounting_conformance.conformance.fixtures import load_fixtures
from accounting_conformance.conformance.har import load, write_har
from accounting_conformance.conformance.recorder import Recorded, now
from accounting_conformance.conformance.redact import Redactor
from accounting_conformance.conformance.replay_judge import Replayed, judge
from accounting_conformance.conformance.settings import Settings

pytestmark = pytest.mark.slow

TOKEN = "tok-RECOGNISABLE-4b1d2c9e"
SECRETS = (TOKEN, TOKEN[:-1], TOKEN[1:], TOKEN.swapcase())
FIXTURES = load_fixtures()
CUSTOMER = FIXTURES.customers("USD")[0].id
VENDOR = next(v.id for v in FIXTURES.vendors("USD") if FIXTURES.bills_for(v.id))
BILL = FIXTURES.bills_for(VENDOR)[0].id
ICM, BCM, INVOICE = kinds.get("invoice_credit_memo"), kinds.get("bill_credit_memo"), kinds.get("invoice")
UNKNOWN = "00000000-0000-4000-8000-00000000dead"


class Driver:
    """Talks to a server as a run does, keeping every exchange unredacted, as the run's recorder does."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.exchanges: list[Recorded] = []

    def send(self, method: str, path: str, body: Any = None, *, token: str | None = TOKEN, **headers: str) -> Any:
        """Send one request; its parsed JSON answer (None for another)."""
        url = f"{self.base}{path}" + (f"?access_token={token}" if token is not None else "")
        sent = {"Accept": "application/json", **headers} | ({"Content-Type": "application/json"} if body else {})
        text, started, clock = (json.dumps(body) if body else None), now(), time.monotonic()
        response = httpx.request(method, url, headers=sent, content=text, timeout=10)
        answered, elapsed = {k.lower(): v for k, v in response.headers.items()}, time.monotonic() - clock
        status = response.status_code
        self.exchanges.append(
            Recorded(method, url, sent, text, status, answered, response.text, started, elapsed, None)
        )
        return response.json() if answered.get("content-type", "").startswith("application/json") else None

    def har(self, directory: Path, *rules: str, tokens: tuple[str, ...] = (TOKEN,)) -> Path:
        """The recording of what was sent, failing `rules`, as the plugin writes it."""
        failures = [{"rule": r, "title": r, "expected": "", "received": "", "operation": ""} for r in rules]
        meta = {"test": "tests/conformance/test_x.py::test_x", "seed": 42, "target": self.base, "token_in": "query"}
        path = directory / "recordings" / "test_x.har"
        redactor = Redactor(Settings(access_token=TOKEN).secrets())
        write_har(path, self.exchanges, redactor, meta | {"failures": failures, "dropped": 0}, tokens=tokens)
        return path


def lines(*amounts: str) -> list[dict[str, str]]:
    return [{"total_amount": value, "description": f"line {i}"} for i, value in enumerate(amounts)]


def create(d: Driver, kind: kinds.Kind, party: str, *amounts: str, **extra: str) -> str:
    attrs = {"customer_id" if kind is not BCM else "vendor_id": party, "currency_code": "USD"} | extra
    body = d.send("POST", kind.path, {kind.name: attrs | {"line_items": lines(*amounts)}})
    return str(body[kind.name]["id"]) if isinstance(body, dict) and kind.name in body else ""


def apply(d: Driver, kind: kinds.Kind, memo: str, target: str, value: str) -> None:
    applied = kinds.application(kind.name)
    links = [{"id": target, "allocated_amount": value}]
    d.send("POST", applied.path, {applied.key: {applied.memo_field: memo, applied.links: links}})


# ----------------------------------------------------------------------------- the failing sequences, per fault
def one_side(d: Driver) -> None:
    """create invoice, create memo, apply, fetch both: the invoice's amount_due must have moved (APPLY-001)."""
    invoice, memo = create(d, INVOICE, CUSTOMER, "20.00"), create(d, ICM, CUSTOMER, "10.00")
    apply(d, ICM, memo, invoice, "5.00")
    d.send("GET", ICM.item(memo))
    d.send("GET", INVOICE.item(invoice))


def over_application(d: Driver) -> None:
    invoice, memo = create(d, INVOICE, CUSTOMER, "50.00"), create(d, ICM, CUSTOMER, "10.00")
    apply(d, ICM, memo, invoice, "12.00")


def revert(d: Driver) -> None:
    memo = create(d, BCM, VENDOR, "10.00")
    apply(d, BCM, memo, BILL, "4.00")
    unapply = kinds.revert(BCM.name)
    d.send("POST", unapply.path, {unapply.key: {"bill_credit_memo_id": memo, unapply.target_field: BILL}})
    d.send("GET", BCM.item(memo))


def new_lines(d: Driver) -> None:
    invoice, memo = create(d, INVOICE, CUSTOMER, "20.00"), create(d, ICM, CUSTOMER, "10.00")
    apply(d, ICM, memo, invoice, "4.00")
    d.send("PATCH", ICM.item(memo), {ICM.name: {"line_items": lines("8.00")}})
    d.send("GET", ICM.item(memo))


def two_memos(d: Driver) -> None:
    first, second = create(d, ICM, CUSTOMER, "10.00"), create(d, ICM, CUSTOMER, "7.00")
    d.send("GET", ICM.item(first))
    d.send("GET", ICM.item(second))


def exact_bill_credit(d: Driver) -> None:
    """The contract's largest and smallest amounts sent as lines: the total is their exact sum (MONEY-010)."""
    d.send("GET", BCM.item(create(d, BCM, VENDOR, "999999999.9999", "0.0001")))


#: (fault, the rule it fails, the requests that show it)
SEQUENCES: list[tuple[str, str, Callable[[Driver], None]]] = [
    ("application-one-side", "APPLY-001", one_side),
    ("over-application-accepted", "APPLY-002", over_application),
    ("revert-keeps-remaining", "APPLY-003", revert),
    ("update-remaining-reset", "APPLY-004", new_lines),
    ("total-skips-last-line", "MONEY-004", lambda d: d.send("GET", ICM.item(create(d, ICM, CUSTOMER, "3", "4")))),
    ("total-skips-last-line", "MONEY-010", exact_bill_credit),
    ("icm-status-lowercase", "SCHEMA-001", lambda d: create(d, ICM, CUSTOMER, "10.00") and None),
    ("create-answers-201", "SCHEMA-001", lambda d: create(d, ICM, CUSTOMER, "10.00") and None),
    ("request-id-header-missing", "SCHEMA-001", lambda d: d.send("GET", ICM.item(UNKNOWN))),
    ("unicode-memo-500", "SCHEMA-002", lambda d: create(d, ICM, CUSTOMER, "10.00", memo="\U0001f389") and None),
    ("fetch-cached-by-route", "FETCH-001", two_memos),
]


# ------------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def clean() -> Iterator[str]:
    """A reference server without faults."""
    with EmbeddedServer(TOKEN) as server:
        yield server.url


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The token in the environment, as the run takes it; nothing else of a developer's environment."""
    for name in ("TARGET", "ACCESS_TOKEN_COMMAND", "TOKEN_IN", "CONFIG", "BASIC_AUTH", "FIXTURES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ACCESS_TOKEN", TOKEN)


def recorded(
    directory: Path,
    fault: str = "application-one-side",
    rule: str = "APPLY-001",
    sequence: Callable[[Driver], None] = one_side,
    *,
    keep: bool = False,
) -> tuple[Path, EmbeddedServer | None]:
    """The recording of a failing sequence against a server with its fault (kept running with `keep`)."""
    server = EmbeddedServer(TOKEN, fault=fault)
    try:
        driver = Driver(server.start())
        sequence(driver)
    except BaseException:
        server.stop()
        raise
    if not keep:
        server.stop()
    return driver.har(directory, rule), server if keep else None


def replayed(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Exit code and everything `conformance replay` printed (stdout and stderr), checked free of secrets."""
    code = replay.main(list(args))
    out = "".join(capsys.readouterr())
    assert not [secret for secret in SECRETS if secret in out], out
    return code, out


# -------------------------------------------------------------------------------------------------- the story
def test_a_replay_still_fails_against_the_faulty_server(tmp_path: Path, env: None, capsys: Any) -> None:
    har, server = recorded(tmp_path, keep=True)
    assert server is not None
    try:
        code, out = replayed(capsys, str(har), "--target", server.url)
    finally:
        server.stop()
    assert code == 1, out
    assert "APPLY-001 still fails" in out and "amount_due = 15.00" in out and "amount_due = 20" in out
    assert "Reproduce: curl -sS -X GET" in out and "access_token=***" in out
    assert out.rstrip().endswith("conformance replay: exit 1 (still failing: APPLY-001)")


def test_a_replay_passes_against_a_clean_server(tmp_path: Path, env: None, clean: str, capsys: Any) -> None:
    har, _ = recorded(tmp_path)
    code, out = replayed(capsys, str(har), "--target", clean)
    assert code == 0, out
    assert "APPLY-001 fixed" in out and out.rstrip().endswith("exit 0 (fixed: APPLY-001)")


def test_an_unreachable_target_cannot_be_judged(tmp_path: Path, env: None, capsys: Any) -> None:
    har, _ = recorded(tmp_path)
    code, out = replayed(capsys, str(har), "--target", f"http://127.0.0.1:{free_port()}")
    assert code == 2 and "target unreachable" in out and "exit 2 (could not judge)" in out


@pytest.mark.parametrize(("fault", "rule", "sequence"), SEQUENCES[1:], ids=[f"{f}-{r}" for f, r, _ in SEQUENCES[1:]])
def test_each_failed_rule_still_fails_against_its_fault_and_is_fixed_on_a_clean_server(
    tmp_path: Path, env: None, clean: str, capsys: Any, fault: str, rule: str, sequence: Callable[[Driver], None]
) -> None:
    har, server = recorded(tmp_path, fault, rule, sequence, keep=True)
    assert server is not None
    try:
        code, out = replayed(capsys, str(har), "--target", server.url)
    finally:
        server.stop()
    assert code == 1 and f"{rule} still fails" in out, out
    code, out = replayed(capsys, str(har), "--target", clean)
    assert code == 0 and f"{rule} fixed" in out, out


# ------------------------------------------------------------------------------------------------ the rewriting
def test_ids_the_target_creates_replace_the_recorded_ones(tmp_path: Path, env: None, clean: str) -> None:
    har, _ = recorded(tmp_path)
    recording = load(har)
    rewriter = replay.Rewriter(clean, "", TOKEN, "query")
    with httpx.Client() as http:
        sent = replay.replay(recording, rewriter, http)
    invoice = json.loads(recording.exchanges[0].response_body)["invoice"]["id"]
    memo = json.loads(recording.exchanges[1].response_body)["invoice_credit_memo"]["id"]
    assert rewriter.ids[invoice] != invoice and rewriter.ids[memo] != memo
    assert invoice not in json.dumps([(e.url, e.request_body) for e in sent])
    assert json.loads(sent[2].request_body or "")["invoice_credit_application"] == {
        "invoice_credit_memo_id": rewriter.ids[memo],
        "linked_invoices": [{"id": rewriter.ids[invoice], "allocated_amount": "5.00"}],
    }
    assert sent[4].url == f"{clean}{INVOICE.item(rewriter.ids[invoice])}?access_token={TOKEN}"
    assert [e.status for e in sent] == [200] * 5


def test_the_token_goes_only_where_the_run_sent_its_own(tmp_path: Path, env: None, clean: str) -> None:
    driver = Driver(clean)
    for token in (TOKEN, None, "not-a-token", TOKEN[:-1]):
        driver.send("GET", INVOICE.path, token=token)
    rewriter = replay.Rewriter(clean, "", TOKEN, "query")
    with httpx.Client() as http:
        sent = replay.replay(load(driver.har(tmp_path, "AUTH-001")), rewriter, http)
    queries = [e.url.partition("?")[2] for e in sent]
    assert queries == [f"access_token={TOKEN}", "", "access_token=not-a-token", "access_token=***"]
    assert [e.status for e in sent] == [200, 401, 401, 401]  # the near miss stays a wrong token


def test_without_the_entries_credentials_a_masked_token_is_taken_for_the_run_token(
    tmp_path: Path, env: None, clean: str
) -> None:
    driver = Driver(clean)
    for token in (TOKEN, None, "not-a-token", TOKEN[:-1]):
        driver.send("GET", INVOICE.path, token=token)
    rewriter = replay.Rewriter(clean, "", TOKEN, "query")
    with httpx.Client() as http:  # written without the token, the file cannot tell a near miss (masked) from it
        sent = replay.replay(load(driver.har(tmp_path, "AUTH-001", tokens=())), rewriter, http)
    queries = [e.url.partition("?")[2] for e in sent]
    assert queries == [f"access_token={TOKEN}", "", "access_token=not-a-token", f"access_token={TOKEN}"]


def test_a_bearer_target_gets_the_token_in_an_authorization_header() -> None:
    rewriter = replay.Rewriter("http://new.invalid/v2", "/v1", TOKEN, "bearer", ids={"old-id": "new-id"})
    old = Recorded(
        "GET", "http://old.invalid/v1/x/old-id?access_token=***&a=1", {"Accept": "a"}, None, 200, {}, "", now(), 0, None
    )
    url, headers, body = rewriter.request(old, "token")
    assert (url, headers, body) == (
        "http://new.invalid/v2/x/new-id?a=1",
        {"Accept": "a", "Authorization": f"Bearer {TOKEN}"},
        None,
    )


def test_idempotency_keys_are_fresh_and_reused_where_the_run_reused_them() -> None:
    rewriter = replay.Rewriter("http://new.invalid", "", TOKEN, "query")
    keyed = [
        Recorded("POST", "http://old.invalid/x", {"Idempotency-Key": key}, "{}", 200, {}, "", now(), 0, None)
        for key in ("k1", "k1", "k2")
    ]
    keys = [rewriter.request(r, "none")[1]["Idempotency-Key"] for r in keyed]
    assert keys[0] == keys[1] != keys[2] and not {"k1", "k2"} & set(keys)


# ------------------------------------------------------------------------------------------------ no verdict
def test_a_rule_replay_cannot_judge_exits_2_and_names_the_seed(
    tmp_path: Path, env: None, clean: str, capsys: Any
) -> None:
    driver = Driver(clean)
    one_side(driver)
    code, out = replayed(capsys, str(driver.har(tmp_path, "WRITE-002")), "--target", clean)
    assert code == 2 and "WRITE-002 cannot be re-judged by replay" in out and "--seed 42 (SEED=42)" in out


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '{"log": {"version": "1.2"}}',
        '{"log": {"version": "1.2", "creator": {"name": "x", "version": "1"}, "entries": []}}',
    ],
)
def test_a_file_that_is_not_a_usable_recording_cannot_be_judged(
    tmp_path: Path, env: None, capsys: Any, content: str
) -> None:
    path = tmp_path / "odd.har"
    path.write_text(content)
    code, out = replayed(capsys, str(path), "--target", "http://127.0.0.1:9")
    assert code == 2 and "could not judge" in out and str(path) in out


def test_a_missing_token_or_target_cannot_be_judged(
    tmp_path: Path, env: None, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    driver = Driver("http://127.0.0.1:9")
    driver.exchanges.append(
        Recorded("GET", f"http://127.0.0.1:9/x?access_token={TOKEN}", {}, None, 200, {}, "{}", now(), 0, None)
    )
    har = driver.har(tmp_path, "SCHEMA-002")
    code, out = replayed(capsys, str(har))
    assert code == 2 and "TARGET is required" in out
    monkeypatch.delenv("ACCESS_TOKEN")
    code, out = replayed(capsys, str(har), "--target", "http://127.0.0.1:9")
    assert code == 2 and "ACCESS_TOKEN is required" in out


def test_odd_responses_and_requests_never_crash_a_judge() -> None:
    client = ApiClient(Settings(target="http://x.invalid", access_token=TOKEN))
    client.close()
    json_type = {"content-type": "application/json"}
    memo = '{"invoice_credit_memo": {"id": "m", "total_amount": "10", "remaining_amount": "1e99999999", "status": 7}}'
    odd = [
        ("GET", ICM.item("m"), None, 200, json_type, "not json"),
        ("GET", ICM.item("m"), None, 200, json_type, "[" * 5000),
        ("GET", ICM.item("m"), None, 200, {}, ""),
        ("GET", ICM.item("m"), None, 999, json_type, "{}"),
        (
            "POST",
            ICM.path,
            '{"invoice_credit_memo": {"line_items": [{"total_amount": "1e99999999"}, 5]}}',
            200,
            json_type,
            memo,
        ),
        ("POST", ICM.path, '{"invoice_credit_memo": {"line_items": [{"total_amount": "10"}]}}', 200, json_type, memo),
        ("GET", ICM.item("m"), None, 200, json_type, memo.replace('"10"', '"NaN"')),
        (
            "POST",
            kinds.application(ICM.name).path,
            '{"invoice_credit_application": {"linked_invoices": [5, {"id": null}]}}',
            200,
            {},
            "",
        ),
        ("PATCH", ICM.item("m"), '{"invoice_credit_memo": {"line_items": "all of them"}}', 200, json_type, memo),
        ("DELETE", ICM.item("m"), "[]", 500, {"content-type": "text/html"}, "<html>"),
    ]
    exchanges = [Exchange(m, f"http://x.invalid{p}", {}, b, s, h, t) for m, p, b, s, h, t in odd]
    replayed = Replayed(client, exchanges)
    rules = ("SCHEMA-001", "SCHEMA-002", "MONEY-010", "STATE-001", "MONEY-003", "STATUS-001", "FETCH-001", "APPLY-001")
    verdicts = {rule: judge(rule, replayed) for rule in rules}
    assert all(verdicts[rule] for rule in rules[:4]) and all(isinstance(verdicts[rule], list) for rule in rules[4:])
    assert judge("WRITE-002", replayed) is None
