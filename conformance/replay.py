"""`conformance replay FILE --target URL`: send a failing test's recorded requests again and re-apply its failed checks.

The requests go in their recorded order, each rewritten for the target: its base URL, the real token where the run
sent its own (a request recorded without one or with a wrong one keeps that), fresh Idempotency-Keys (reused where
the run reused them) and, in paths, queries and JSON bodies, the ids the target created in place of the recorded
ones (each `id` of a recorded response maps to the `id` at the same place of the replayed response). Then each
failed check of `log._conformance.failures` is judged again (conformance/replay_judge.py).
Exit 0 fixed, 1 still failing, 2 could not judge.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus, urlsplit

import httpx

from accounting_conformance.conformance import rules
from accounting_conformance.conformance.client import ApiClient, Exchange, retry_after_seconds, stream_into
from accounting_conformance.conformance.fixtures import FixturesError, load_fixtures
from accounting_conformance.conformance.har import HarError, Recording, load
from accounting_conformance.conformance.recorder import Recorded
from accounting_conformance.conformance.redact import MASK
from accounting_conformance.conformance.replay_judge import Finding, Replayed, judge
from accounting_conformance.conformance.settings import DEFAULT_FIXTURES, ENV, SETTING, Settings, SettingsError, resolve

FIXED, STILL_FAILING, CANNOT_JUDGE = 0, 1, 2
SHOWN = 3  # findings printed per rule
#: Request headers the replay does not copy: the transport's own, and credentials (set from the token, or dropped).
_NOT_COPIED = frozenset({"host", "content-length", "connection", "accept-encoding", "transfer-encoding", "user-agent"})
_WORDS = re.compile(r"[\w-]{8,}")  # an id inside a longer value (a filter) is swapped when it is this long
_ID_VALUES = re.compile(r'("(?:[^"\\]*_)?id"\s*:\s*)"([^"\\]*)"')  # "id": "..." and "<name>_id": "..." in a body


class CannotJudge(RuntimeError):
    """Replay cannot say whether the failure is fixed; the message says why."""


def parser() -> argparse.ArgumentParser:
    """The replay command line; options also read from the environment, as the run's are."""
    p = argparse.ArgumentParser(prog="conformance replay", description=__doc__.split("\n", 1)[0])
    p.add_argument("file", type=Path, metavar="FILE", help="a recording: <report dir>/recordings/<test>.har")
    p.add_argument("--target", metavar="URL", help="base URL of the server to replay against [env TARGET]")
    p.add_argument("--access-token", metavar="TOKEN", help="its token [env ACCESS_TOKEN, or ACCESS_TOKEN_COMMAND]")
    p.add_argument(
        "--token-in",
        choices=("query", "bearer"),
        help="where the token goes [env TOKEN_IN]; default: where the run put it",
    )
    p.add_argument("--fixtures", metavar="FILE", help="the target's fixtures, for its bills [env FIXTURES]")
    return p


@dataclass
class Rewriter:
    """Turns a recorded request into the one to send now: the target's URL, its token, the ids it created."""

    target: str
    recorded_base: str  # the path of the recorded target's base URL
    token: str
    token_in: str  # query | bearer
    ids: dict[str, str] = field(default_factory=dict)  # recorded id -> the target's
    keys: dict[str, str] = field(default_factory=dict)  # recorded Idempotency-Key -> a fresh one

    def swap(self, text: str) -> str:
        """text with every recorded id in it (a whole value, or a word of a filter) replaced by the target's."""
        return self.ids.get(text) or _WORDS.sub(lambda m: self.ids.get(m[0], m[0]), text)

    def request(self, recorded: Recorded, credential: str) -> tuple[str, dict[str, str], str | None]:
        """(URL, headers, body) of a recorded request as it is sent to the target now."""
        parts = urlsplit(recorded.url)
        path = parts.path
        if self.recorded_base and path.startswith(self.recorded_base + "/"):
            path = path[len(self.recorded_base) :]
        path = "/".join(quote(self.ids[unquote(s)], safe="") if unquote(s) in self.ids else s for s in path.split("/"))
        query: list[str] = []
        sent_token, at = None, 0
        for part in filter(None, parts.query.split("&")):
            name, _, value = part.partition("=")
            if unquote_plus(name) == "access_token":
                sent_token, at = part, len(query)
                continue
            swapped = self.swap(unquote_plus(value))
            query.append(part if swapped == unquote_plus(value) else f"{name}={quote_plus(swapped)}")
        headers: dict[str, str] = {}
        for name, value in recorded.request_headers.items():
            if name.lower() == "idempotency-key":
                headers[name] = self.keys.setdefault(value, f"replay-{uuid.uuid4()}")
            elif name.lower() not in _NOT_COPIED | {"authorization", "cookie"}:
                headers[name] = self.swap(value)
            elif name.lower() == "authorization" and credential == "other":
                headers[name] = value  # a wrong credential stays wrong (masked: `***`)
        if credential == "token" and self.token_in == "bearer":
            headers["Authorization"] = f"Bearer {self.token}"
        elif credential == "token":
            query.insert(at, f"access_token={quote(self.token, safe='')}")
        elif credential == "other" and sent_token is not None:
            query.insert(at, sent_token)
        body = recorded.request_body
        if body and self.ids:
            body = _ID_VALUES.sub(lambda m: m[1] + json.dumps(self.ids[m[2]]) if m[2] in self.ids else m[0], body)
        return self.target + path + ("?" + "&".join(query) if query else ""), headers, body

    def learn(self, recorded: str, replayed: str) -> None:
        """Map each `id` of a recorded response to the `id` at the same place of the replayed one (first seen wins)."""
        try:
            pairs: deque[tuple[Any, Any]] = deque([(json.loads(recorded), json.loads(replayed))])
        except (ValueError, RecursionError):
            return
        while pairs:
            old, new = pairs.popleft()
            if isinstance(old, dict) and isinstance(new, dict):
                if isinstance(old.get("id"), str) and isinstance(new.get("id"), str) and old["id"] != new["id"]:
                    self.ids.setdefault(old["id"], new["id"])
                pairs.extend((value, new[key]) for key, value in old.items() if key in new)
            elif isinstance(old, list) and isinstance(new, list):
                pairs.extend(zip(old, new, strict=False))


def credential(recording: Recording, index: int) -> str:
    """The credential a recorded request carried ("token", "other", "none"): as written, else read off the redaction."""
    written = recording.auth[index]
    if written is not None:
        return written
    recorded = recording.exchanges[index]
    sent = [
        unquote_plus(p.partition("=")[2])
        for p in urlsplit(recorded.url).query.split("&")
        if p.startswith("access_token=")
    ]
    if sent:
        return "token" if sent[0] == MASK else "other"
    bearer = any(
        k.lower() == "authorization" and v.lower().startswith("bearer") for k, v in recorded.request_headers.items()
    )
    return "token" if bearer else "none"


def send(http: httpx.Client, exchange: Exchange) -> Exchange:
    """Send one request, as the run's client does (429 retried after Retry-After, bodies capped); TargetUnreachable."""
    for _ in range(3):
        started = time.monotonic()
        try:
            stream_into(http, exchange)
        except httpx.ConnectError as exc:
            raise CannotJudge(f"target unreachable: cannot connect to {urlsplit(exchange.url).netloc}: {exc}") from None
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:  # a value httpx cannot send (a non-ASCII header)
            exchange.error = f"transport error: {type(exc).__name__}: {exc}"
        exchange.elapsed = time.monotonic() - started
        if exchange.status != 429:
            break
        time.sleep(retry_after_seconds(exchange.headers.get("retry-after")))
    return exchange


def replay(recording: Recording, rewriter: Rewriter, http: httpx.Client) -> list[Exchange]:
    """Every recorded request sent again in order, rewritten for the target; the exchanges as sent."""
    exchanges = []
    for index, recorded in enumerate(recording.exchanges):
        url, headers, body = rewriter.request(recorded, credential(recording, index))
        exchange = send(http, Exchange(recorded.method, url, headers, body))
        rewriter.learn(recorded.response_body, exchange.text)
        exchanges.append(exchange)
    return exchanges


def main(argv: Sequence[str]) -> int:
    """`conformance replay FILE --target URL [--access-token TOKEN] [--token-in query|bearer]`: 0 fixed, 1 still
    failing, 2 could not judge; no secret is ever printed."""
    try:
        options = parser().parse_args(list(argv))
    except SystemExit as exc:  # --help, or a usage error (argparse said which)
        return exc.code if isinstance(exc.code, int) else CANNOT_JUDGE
    try:
        code, said = _judge(options)
    except (CannotJudge, HarError, SettingsError) as exc:
        sys.stdout.flush()
        print(f"conformance replay: could not judge: {exc}", file=sys.stderr, flush=True)
        code, said = CANNOT_JUDGE, "could not judge"
    print(f"conformance replay: exit {code} ({said})", flush=True)
    return code


def _settings(options: argparse.Namespace, meta: dict[str, Any]) -> Settings:
    """The run's settings for the replay: the command line, then the environment; the recorded token_in by default."""
    cli = {"target": options.target, "access_token": options.access_token, "fixtures": options.fixtures}
    cli["token_in"] = options.token_in or (None if os.environ.get(ENV["token_in"]) else meta.get("token_in"))
    if not cli["fixtures"] and not os.environ.get(ENV["fixtures"]):
        cli["fixtures"] = str(DEFAULT_FIXTURES)  # only bills are read from it, and only when one is applied
    if not (options.target or os.environ.get(ENV["target"])):
        raise SettingsError(f"{ENV['target']} is required: pass --target URL, the server to replay against")
    return resolve(cli)


def _judge(options: argparse.Namespace) -> tuple[int, str]:
    recording = load(options.file)
    failed = list(dict.fromkeys(f["rule"] for f in recording.meta.get("failures", [])))
    if not failed or not recording.exchanges:
        raise CannotJudge(
            f"{options.file}: nothing to re-judge: no requests, or no failed check (_conformance.failures)"
        )
    settings = _settings(options, recording.meta)
    client = ApiClient(settings)  # its base and redactor serve the judges; the replay sends with its own client
    client.close()
    try:
        return _replay(recording, failed, settings, client)
    except (CannotJudge, FixturesError) as exc:
        raise CannotJudge(client.redactor(str(exc))) from None


def _replay(recording: Recording, failed: list[str], settings: Settings, client: ApiClient) -> tuple[int, str]:
    meta, say, target = recording.meta, client.redactor, client.base
    seed, count = meta.get("seed", "SEED"), len(recording.exchanges)
    where = f"{count} requests against {target}, token in {settings.token_in}"
    print(say(f"conformance replay: {meta.get('test', 'a test')} (seed {seed}): {where}"))
    if meta.get("dropped"):
        print(f"  note: the recording lost the test's first {meta['dropped']} requests; what they created is unknown")
    if isinstance(meta.get("earlier_examples_requests"), int) and meta["earlier_examples_requests"]:
        print(
            f"  the recording is the test's last generated example ({meta['earlier_examples_requests']} requests of "
            "earlier examples are not in it)"
        )
    base = urlsplit(str(meta.get("target", ""))).path.rstrip("/")
    rewriter = Rewriter(target, base, settings.token(), settings.token_in)
    with httpx.Client(timeout=settings.request_timeout, verify=settings.tls_verify, auth=settings.basic_auth) as http:
        exchanges = replay(recording, rewriter, http)
    first = next((e for i, e in enumerate(exchanges) if credential(recording, i) == "token"), None)
    if first is not None and first.status == 401:
        raise CannotJudge(f"the target rejected the token (401): pass the token of a connection on {target}")
    changed = [i for i, (r, e) in enumerate(zip(recording.exchanges, exchanges, strict=True)) if r.status != e.status]
    for i in changed[:SHOWN]:
        was, now = recording.exchanges[i].status, exchanges[i].status
        print(say(f"  note: request {i + 1} ({_where(exchanges[i])}) answered HTTP {now}, recorded HTTP {was}"))
    replayed = Replayed(client, exchanges, bills=lambda: load_fixtures(settings.fixtures).bills)
    still, unjudged = [], []
    for rule in failed:
        findings = judge(rule, replayed) if rule in rules.BY_ID else None
        if findings is None:
            unjudged.append(rule)
            again = f"{SETTING['seed'].option} {seed} ({SETTING['seed'].env}={seed})"
            print(f"{rule} cannot be re-judged by replay: run the suite again with {again} to see it")
        elif findings:
            still.append(rule)
            _show(rule, findings, replayed, say)
        else:
            print(f"{rule} fixed: the replay passes it ({rules.get(rule).statement})")
    lost = [f"request {i + 1} got no response: {e.error}" for i, e in enumerate(exchanges) if e.error and not e.status]
    if still:
        return STILL_FAILING, f"still failing: {', '.join(still)}"
    if lost or unjudged:
        raise CannotJudge(lost[0] if lost else f"replay cannot re-judge {', '.join(unjudged)}")
    return FIXED, f"fixed: {', '.join(failed)}"


def _where(exchange: Exchange) -> str:
    return f"{exchange.method} {urlsplit(exchange.url).path}"


def _show(rule: str, findings: list[Finding], replayed: Replayed, say: Any) -> None:
    """A rule that still fails: each finding with Expected/Received and a curl of the replayed request."""
    print(say(f"{rule} still fails: {rules.get(rule).statement}"))
    for finding in findings[:SHOWN]:
        exchange = replayed.exchanges[finding.index]
        print(say(f"  Expected: {finding.expected}"))
        print(say(f"  Received: {finding.received}"))
        print(say(f"  At request {finding.index + 1} of {len(replayed.exchanges)}: {_where(exchange)}"))
        print(say(f"  Reproduce: {exchange.reproduction(replayed.client.redactor)}"))
    if len(findings) > SHOWN:
        print(f"  ... and {len(findings) - SHOWN} more")
