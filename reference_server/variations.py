"""Legitimate variations of a server: ways to differ from the reference server that the contract or HTTP permits.

`python -m reference_server.variations --upstream URL --port P --variation NAME [--variation NAME ...]` starts a
reverse proxy (`variations_proxy`) in front of a running server that applies the named variations. Each
`Variation` in the catalogue names what changes and cites the contract sentence or RFC section that permits
it. A server differing only so must get a clean verdict from the suite: `python -m conformance.variations`
runs the suite through the proxy once per variation and counts every failure as a false alarm.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["CATALOGUE", "UnknownVariation", "Variation", "by_name", "describe", "main", "names", "select"]


@dataclass(frozen=True)
class Variation:
    """One permitted difference: a name for --variation, what the proxy does, and what permits it."""

    name: str
    description: str
    citation: str


CATALOGUE: tuple[Variation, ...] = (
    Variation(
        "identity",
        "the control: every request forwarded and every answer returned unchanged (a failure here is "
        "the proxy's or the suite's, not a variation's)",
        "RFC 9110 §3.7 an intermediary forwarding messages unchanged; openapi.yaml: nothing to permit",
    ),
    Variation(
        "gone-410",
        "an unknown or deleted id on /{kind}/{id} or /jobs/{id} is answered 410 (same Error body) instead of 404",
        'openapi.yaml info.description "Adopted rule: unknown ids ... is answered 404 or 410; both are '
        'conformant"; components.responses.Gone',
    ),
    Variation(
        "opaque-cursors",
        "every next_cursor is a random hex token the proxy maps to the upstream's cursor; a "
        "cursor the proxy never issued is answered 400",
        'openapi.yaml components.parameters.Cursor "it is opaque. A cursor the server did not issue is answered 400."',
    ),
    Variation(
        "reordered-keys",
        "every JSON object's keys in reverse order, values unchanged (numbers textually exact)",
        'RFC 8259 §4 "An object is an unordered collection of zero or more name/value pairs"',
    ),
    Variation(
        "rate-limited",
        "every 40th request (whatever its token: a gateway ahead of authentication) is answered "
        "429 with Retry-After: 1 and the TooManyRequests body, without forwarding",
        "openapi.yaml components.responses.TooManyRequests (429 with Retry-After, declared on every "
        "operation); RFC 6585 §4",
    ),
    Variation(
        "rate-limited-per-org",
        "every 40th request of an organisation (an access token the upstream accepted "
        "before) is answered 429 with Retry-After: 1, without forwarding; unknown tokens are never limited",
        'openapi.yaml components.responses.TooManyRequests "Rate limited (the public service allows 500 requests '
        'per 10 s per organisation)"; RFC 6585 §4',
    ),
    Variation(
        "prefer-sync-async",
        'a write whose body says "response_mode": "prefer_sync" is run as "async" (the asynchronous response, at once)',
        'openapi.yaml components.schemas.ResponseMode "`prefer_sync` answers the result if it is ready in '
        'time, else the asynchronous response"',
    ),
    Variation(
        "slow-jobs",
        "GET /jobs/{id} of an async write reads status prequeued, then pending, without response, "
        "for the first 1.5 s after the job was handed out",
        'openapi.yaml components.schemas.AsynchronousJob "Adopted rule: a job may stay `prequeued` or `pending` '
        'for a while, and reaches one of those final statuses within `x-finishes-within-seconds`" (30)',
    ),
    Variation(
        "extra-platform-data",
        "extra keys inside every platform_data object and inside platform_data.data when it is an object",
        'openapi.yaml components.schemas.PlatformData "additionalProperties: true"; data "Varies by platform."',
    ),
    Variation(
        "undeclared-405",
        "any method the contract does not declare on a path (TRACE, QUERY, PUT, unknown "
        "tokens) is answered 405 with Allow by the proxy, not forwarded",
        'openapi.yaml info.description "Adopted rule: undeclared methods ... is answered 405 with an `Allow` '
        'header"; RFC 9110 §15.5.6',
    ),
    Variation(
        "undeclared-501",
        "a method the contract declares on no path (TRACE, QUERY, PUT, unknown tokens; not "
        "HEAD) is answered 501; a method declared elsewhere 405 with Allow",
        'openapi.yaml info.description "Adopted rule: undeclared methods ... or 501 when the server does not '
        'recognise the method"; RFC 9110 §15.6.2, §9.1 (GET and HEAD must be supported)',
    ),
    Variation(
        "auth-before-dispatch",
        "a method the contract does not declare on a path, sent without an access_token, "
        "is answered 401 (authentication runs before method dispatch)",
        'openapi.yaml info.description "Adopted rule: undeclared methods ... a refusal before method dispatch '
        '(401, 403, 404 for an id that names nothing, 429) is conformant too"',
    ),
    Variation(
        "extra-headers",
        "extra response headers: X-Powered-By, Server-Timing, Cache-Control: no-store, "
        "Vary: Accept-Encoding, Link rel=help, X-Content-Type-Options",
        'RFC 9110 §5.1 "recipients SHOULD ignore unrecognized header and trailer fields"; the contract '
        "requires headers, it forbids none",
    ),
    Variation(
        "gzip",
        "bodies gzip-compressed with Content-Encoding: gzip (and Vary: Accept-Encoding) whenever the "
        "request's Accept-Encoding allows gzip",
        "RFC 9110 §8.4 Content-Encoding, §8.4.1.3 gzip, §12.5.3 Accept-Encoding",
    ),
    Variation(
        "deflate",
        "bodies zlib-deflated with Content-Encoding: deflate whenever Accept-Encoding allows deflate",
        "RFC 9110 §8.4.1.2 deflate, §12.5.3 Accept-Encoding",
    ),
    Variation(
        "connection-close",
        "Connection: close on every response (a new connection for every request)",
        "RFC 9112 §9.6 \"A server that sends a 'close' connection option MUST initiate closure of the "
        'connection ... after it sends the response"',
    ),
    Variation(
        "chunked",
        "bodies sent with chunked transfer coding, in three chunks, without Content-Length",
        "RFC 9112 §7.1 Chunked Transfer Coding; §6.1 Transfer-Encoding",
    ),
    Variation(
        "latency",
        "30-80 ms added before each response",
        "openapi.yaml states no response-time bound (the suite's REQUEST_TIMEOUT defaults to 10 s)",
    ),
    Variation(
        "float-numbers",
        "every JSON number re-serialised through IEEE-754 doubles as JavaScript writes it "
        "(as Prism's proxy does); honest because the contract bounds every amount to 15 significant digits",
        'openapi.yaml info.description "Adopted rule: amount bounds ... A server or proxy that carries JSON '
        'numbers as doubles can therefore meet the exactness rule"; RFC 8259 §6',
    ),
    Variation(
        "next-cursor-absent",
        "next_cursor left out on the last page instead of null",
        'openapi.yaml components.schemas.*List.next_cursor "absent or null on the last page"',
    ),
    Variation(
        "request-id-forms",
        "X-Rutter-Request-ID in other forms, in turn: req_<hex>, ULID-like, a number, an upper-case UUID",
        "openapi.yaml components.headers.RequestId schema {type: string, minLength: 1}",
    ),
    Variation(
        "reworded-errors",
        "every error_message worded differently (its content kept); error_type and error_code unchanged",
        'openapi.yaml components.schemas.Error "`error_type` and `error_code` are stable, machine-readable '
        'strings; `error_message` is for people"',
    ),
    Variation(
        "no-job-id-header",
        "the optional X-Rutter-Job-ID response header left out",
        "openapi.yaml components.headers.JobId required: false",
    ),
    Variation(
        "absolute-response-url",
        "async_response.response_url written as an absolute URL",
        'openapi.yaml components.schemas.AsyncResponse.response_url "(absolute, or relative to the base URL)"',
    ),
    Variation(
        "async-errors-empty",
        "async response envelopes carry the optional errors: []",
        'openapi.yaml components.schemas.AsyncResponseEnvelope.errors "Errors known at once, if any." (not required)',
    ),
    Variation(
        "envelope-without-connection",
        "one-object envelopes (fetch, create, update, job results) leave the optional connection out; lists keep it",
        "openapi.yaml components.schemas.*Envelope required: [<object>] only (connection is required on *List alone)",
    ),
    Variation(
        "padded-decimals",
        'every amount written with at least two decimal places ("3" -> "3.00", 3 -> 3.00): the same exact value',
        'openapi.yaml components.schemas.DecimalString "An exact decimal amount" pattern '
        "^-?[0-9]+(\\.[0-9]+)?$; RFC 8259 §6 numbers",
    ),
    Variation(
        "timestamp-offsets",
        "every UTC timestamp written as the same instant at +05:30 (fraction kept)",
        'openapi.yaml components.schemas.Timestamp "An ISO 8601 timestamp in UTC or with an offset"',
    ),
    Variation(
        "json-charset",
        "Content-Type: application/json; charset=utf-8",
        "RFC 8259 §11 \"No 'charset' parameter is defined for this registration. Adding one really has no "
        'effect on compliant recipients."',
    ),
    Variation(
        "json-string-escapes",
        'strings with non-ASCII as raw UTF-8 instead of \\u escapes, and "/" escaped as "\\/"',
        'RFC 8259 §7 "Any character may be escaped" and the two-character escape \\/; §8.1 UTF-8',
    ),
    Variation(
        "pretty-json",
        "JSON bodies pretty-printed (newlines, two-space indentation, a space after colons)",
        'RFC 8259 §2 "Insignificant whitespace is allowed before or after any of the six structural characters"',
    ),
    Variation(
        "small-body-limit",
        "request bodies over 256 KiB answered 413 (PayloadTooLarge) on the operations that declare 413",
        'openapi.yaml components.responses.PayloadTooLarge "larger than the server accepts (adopted rule; the '
        "reference server's limit is 1 MiB)\"; RFC 9110 §15.5.14",
    ),
    Variation(
        "options-204",
        "OPTIONS on a contract path answered 204 with Allow (the declared methods and OPTIONS)",
        'RFC 9110 §9.3.7 OPTIONS "A server generating a successful response to OPTIONS SHOULD send any header '
        'that might indicate optional features ... (e.g., Allow)"',
    ),
    Variation(
        "head-as-get",
        "HEAD on a path that declares GET answered as GET without content",
        'RFC 9110 §9.3.2 "The HEAD method is identical to GET except that the server MUST NOT send content"; '
        '§9.1 "All general-purpose servers MUST support the methods GET and HEAD"',
    ),
)

_BY_NAME: dict[str, Variation] = {v.name: v for v in CATALOGUE}


class UnknownVariation(ValueError):
    """A variation name that is not in the catalogue; the message lists the names that are."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown variation {name!r}; known variations: {', '.join(names())}")
        self.name = name


def names() -> list[str]:
    """Every variation name, in catalogue order."""
    return [v.name for v in CATALOGUE]


def by_name(name: str) -> Variation:
    """The variation of this name; UnknownVariation if there is none."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownVariation(name) from None


def select(spec: str | None) -> list[str]:
    """The variations named by `all`, `none` or a comma-separated list; UnknownVariation for a bad name."""
    if spec is None or spec.strip() == "all":
        return names()
    if spec.strip() == "none":
        return []
    chosen = [n.strip() for n in spec.split(",") if n.strip()]
    for name in chosen:
        by_name(name)
    return list(dict.fromkeys(chosen))


def describe(chosen: Sequence[str]) -> list[str]:
    """Two lines per named variation: what it does, and what permits it."""
    return [
        line
        for v in map(by_name, chosen)
        for line in (f"{v.name:<28} {v.description}", f"{'':<28} permitted by: {v.citation}")
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and proxy until stopped."""
    parser = argparse.ArgumentParser(
        prog="python -m reference_server.variations",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--upstream", help="base URL of the server to put the proxy in front of (required)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8901, help="TCP port (default 8901)")
    parser.add_argument(
        "--variation",
        action="append",
        default=[],
        metavar="NAME",
        help="a variation to apply (repeatable, or comma-separated)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the randomised variations (latency)")
    parser.add_argument("--list", action="store_true", help="list the variations and exit")
    options = parser.parse_args(argv)
    if options.list:
        print("\n".join(describe(names())))
        return 0
    if not options.upstream:
        parser.error("--upstream is required")
    chosen = [n.strip() for item in options.variation for n in item.split(",") if n.strip()]
    for name in chosen:
        if name not in _BY_NAME:
            parser.error(f"unknown --variation {name!r}; choose one of:\n  " + "\n  ".join(names()))
    if not 0 < options.port < 65536:
        parser.error(f"--port must be between 1 and 65535, got {options.port}")
    import uvicorn

    from accounting_conformance.reference_server.variations_proxy import Proxy

    print(
        f"reference_server.variations: {options.upstream} behind :{options.port} with {', '.join(chosen) or 'no variation'}",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        Proxy(options.upstream, chosen, seed=options.seed),
        host=options.host,
        port=options.port,
        log_level="warning",
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
