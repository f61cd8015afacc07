"""The breaking-change checks: a stable ID, a severity and a one-line statement for each.

The IDs follow oasdiff's (kebab-case, direction first) where a check has a counterpart there; the
severities judge a change from the side of a client written against the old contract, as oasdiff
does: a request that was valid must stay valid, a response value the client could read must stay
readable. `breaking` is a change such a client can trip over; `warning` is one that may break some
clients and the document cannot tell (a pattern rewritten, an optional response header removed);
`info` is recorded for the changelog and breaks nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["breaking", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("breaking", "warning", "info")


@dataclass(frozen=True)
class Check:
    """One kind of change the differ reports."""

    id: str
    severity: Severity
    area: str
    statement: str


_TABLE = """
operation-removed                      breaking paths       an operation is gone
operation-removed-after-deprecation    warning  paths       an operation deprecated before is gone
operation-added                        info     paths       a new operation
operation-deprecated                   info     paths       an operation is now deprecated
operation-id-changed                   warning  paths       the operationId changed (generated clients rename the method)
path-parameter-renamed                 info     paths       a path template variable is renamed (the URL is the same)
request-parameter-removed              breaking parameters  a parameter the client may send is gone
request-parameter-renamed              breaking parameters  a parameter is renamed (removed, and one of the same shape added)
request-parameter-moved                breaking parameters  a parameter moved to another location (query, header, path, cookie)
request-parameter-added-required       breaking parameters  a new required parameter
request-parameter-added-optional       info     parameters  a new optional parameter
request-parameter-became-required      breaking parameters  an optional parameter is now required
request-parameter-became-optional      info     parameters  a required parameter is now optional
request-parameter-style-changed        breaking parameters  a parameter's style or explode changed (it is serialised differently)
request-body-added-required            breaking requestBody a required request body where there was none
request-body-added-optional            info     requestBody an optional request body where there was none
request-body-removed                   breaking requestBody the request body is gone
request-body-became-required           breaking requestBody the request body is now required
request-body-became-optional           info     requestBody the request body is now optional
request-media-type-removed             breaking requestBody a request media type is no longer accepted
request-media-type-added               info     requestBody a new request media type is accepted
response-success-status-removed        breaking responses   a documented 1xx/2xx/3xx response status is gone
response-error-status-removed          breaking responses   a documented 4xx/5xx response status is gone (clients branch on it)
response-success-status-added          info     responses   a new success status
response-error-status-added            info     responses   a new error status
response-media-type-removed            breaking responses   a response media type is no longer produced
response-media-type-added              info     responses   a new response media type
response-header-removed                breaking headers     a required response header is gone
response-optional-header-removed       warning  headers     an optional response header is gone
response-header-became-optional        breaking headers     a required response header is now optional
response-header-added                  info     headers     a new response header
security-added                         breaking security    an operation that needed no credentials now needs them
security-requirement-tightened         breaking security    a way to authenticate that worked is no longer enough (scheme or scope added, alternative removed)
security-alternative-added             info     security    a new way to authenticate is accepted
security-removed                       info     security    an operation no longer needs credentials
security-scheme-changed                breaking security    a security scheme in use changed its type, location, name or scheme
request-property-removed               breaking schema      a request property is gone (what the client sends is dropped or rejected)
request-property-added-required        breaking schema      a new required request property
request-property-added-optional        info     schema      a new optional request property
request-property-became-required       breaking schema      an optional request property is now required
request-property-became-optional       info     schema      a required request property is now optional
request-property-became-read-only      breaking schema      a request property is now readOnly (clients may no longer send it)
request-additional-properties-closed   breaking schema      a request object no longer accepts properties it did not declare
request-additional-properties-opened   info     schema      a request object now accepts undeclared properties
response-property-removed              breaking schema      a required response property is gone
response-optional-property-removed     warning  schema      an optional response property is gone (clients that read it when present lose it)
response-property-became-optional      breaking schema      a required response property is now optional
response-property-became-write-only    breaking schema      a response property is now writeOnly (no longer returned)
response-property-added                info     schema      a new response property
response-property-became-required      info     schema      an optional response property is now always present
response-additional-properties-opened  warning  schema      a response object may now hold properties it did not declare
response-additional-properties-closed  info     schema      a response object no longer holds undeclared properties
request-type-narrowed                  breaking schema      a request value type is no longer accepted
request-type-widened                   info     schema      a request value accepts a new type
request-type-changed                   breaking schema      a request value's type changed
response-type-widened                  breaking schema      a response value may have a type it never had
response-type-narrowed                 info     schema      a response value no longer has one of its types
response-type-changed                  breaking schema      a response value's type changed
request-became-not-nullable            breaking schema      a request value no longer accepts null
request-became-nullable                info     schema      a request value now accepts null
response-became-nullable               breaking schema      a response value may now be null
response-became-not-nullable           info     schema      a response value is no longer null
request-format-added                   breaking schema      a request value gains a format
request-format-removed                 info     schema      a request value loses its format
request-format-changed                 breaking schema      a request value's format changed
response-format-added                  info     schema      a response value gains a format
response-format-removed                breaking schema      a response value loses the format clients parse it by
response-format-changed                breaking schema      a response value's format changed
request-enum-value-removed             breaking schema      a request value (enum or const) is no longer accepted
request-enum-value-added               info     schema      a request enum accepts a new value
request-enum-added                     breaking schema      a request value is now limited to an enum (or const)
request-enum-removed                   info     schema      a request value is no longer limited to an enum
response-enum-value-added              breaking schema      a response enum may hold a new value (exhaustive matches break)
response-enum-value-removed            info     schema      a response enum no longer holds a value
response-enum-added                    info     schema      a response value is now limited to an enum
response-enum-removed                  breaking schema      a response value is no longer limited to an enum
request-default-changed                breaking schema      a request default changed (clients that omit the value get another)
request-default-added                  warning  schema      a request default where there was none
request-default-removed                warning  schema      a request default is gone
request-pattern-changed                warning  schema      a request pattern changed (the values it accepts may be fewer)
response-pattern-changed               warning  schema      a response pattern changed (the values it produces may be others)
request-union-branch-removed           breaking schema      a oneOf/anyOf branch of a request is gone
request-union-branch-added             info     schema      a request oneOf/anyOf gains a branch
response-union-branch-added            breaking schema      a response oneOf/anyOf gains a branch clients do not know
response-union-branch-removed          info     schema      a response oneOf/anyOf loses a branch
request-all-of-added                   breaking schema      a request allOf gains a part (more to satisfy)
request-all-of-removed                 info     schema      a request allOf loses a part
response-all-of-added                  info     schema      a response allOf gains a part
response-all-of-removed                warning  schema      a response allOf loses a part (fewer guarantees)
filterable-field-removed               breaking extensions  a field `filter` accepted is no longer filterable (x-filterable, x-filterable-fields)
filterable-field-added                 info     extensions  a field is newly filterable
sortable-field-removed                 breaking extensions  a field `sort` accepted is no longer sortable (x-sortable-fields)
sortable-field-added                   info     extensions  a field is newly sortable
platform-support-removed               breaking extensions  an operation is documented for fewer platforms (x-supported-platforms)
platform-support-added                 info     extensions  an operation is documented for more platforms
amount-rule-added                      breaking extensions  a new money invariant servers must keep (x-amount-rules)
amount-rule-removed                    warning  extensions  a money invariant clients relied on is gone (x-amount-rules)
job-deadline-changed                   warning  extensions  the time an asynchronous job finishes within changed (x-finishes-within-seconds)
api-version-changed                    info     info        info.version changed
"""

_BOUNDS = {  # keyword -> its check-ID spelling; each has request/response x tightened/relaxed checks
    "maximum": "max",
    "exclusiveMaximum": "exclusive-max",
    "minimum": "min",
    "exclusiveMinimum": "exclusive-min",
    "maxLength": "max-length",
    "minLength": "min-length",
    "maxItems": "max-items",
    "minItems": "min-items",
    "maxProperties": "max-properties",
    "minProperties": "min-properties",
    "multipleOf": "multiple-of",
    "pattern": "pattern",
    "uniqueItems": "unique-items",
}
BOUND_IDS = dict(_BOUNDS)


def _bound_rows() -> list[Check]:
    rows = []
    for keyword, name in _BOUNDS.items():
        sides: tuple[tuple[str, Severity, Severity], ...] = (
            ("request", "breaking", "info"),
            ("response", "info", "breaking"),
        )
        for side, tight, loose in sides:
            reader = "accepted" if side == "request" else "produced"
            rows.append(
                Check(
                    f"{side}-{name}-tightened",
                    tight,
                    "schema",
                    f"{side} `{keyword}` tightened or set: fewer values are {reader}",
                )
            )
            rows.append(
                Check(
                    f"{side}-{name}-relaxed",
                    loose,
                    "schema",
                    f"{side} `{keyword}` relaxed or removed: more values are {reader}",
                )
            )
    return rows


def _table_rows() -> list[Check]:
    rows = []
    for line in _TABLE.strip().splitlines():
        check_id, severity, area, statement = line.split(None, 3)
        level = next((s for s in SEVERITIES if s == severity), None)
        assert level is not None, line
        rows.append(Check(check_id, level, area, statement))
    return rows


CHECKS: dict[str, Check] = {check.id: check for check in (*_table_rows(), *_bound_rows())}
