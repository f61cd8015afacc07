"""The three YAML slips of issue 12 (fixed in 362c613), put back into the contract's text for the tests.

Each was a flow mapping with an unquoted comma in its description, which YAML reads as a description cut at the
comma plus a stray key: the spec at 362c613^ (`git show 362c613^:openapi/openapi.yaml`) had them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Slip:
    """One slip: the contract's quoted text, the same text unquoted (as it was), its place and its stray key."""

    quoted: str
    unquoted: str
    pointer: str
    stray_key: str


SLIPS = (
    Slip(
        "description: {type: string, description: 'What went wrong, for people.'}",
        "description: {type: string, description: What went wrong, for people.}",
        "#/components/schemas/AsyncError/properties/description",
        "for people.",
    ),
    Slip(
        "body: {description: 'The JSON body of the request, if any.'}",
        "body: {description: The JSON body of the request, if any.}",
        "#/components/schemas/AsynchronousJob/properties/request/properties/body",
        "if any.",
    ),
    Slip(
        "idempotency_key: {type: [string, 'null'], description: 'Its Idempotency-Key, if any.'}",
        "idempotency_key: {type: [string, 'null'], description: Its Idempotency-Key, if any.}",
        "#/components/schemas/AsynchronousJob/properties/request/properties/idempotency_key",
        "if any.",
    ),
)


def put_back(text: str) -> str:
    """The contract's text with the three slips put back (each quoted text must occur exactly once)."""
    for slip in SLIPS:
        if text.count(slip.quoted) != 1:
            raise ValueError(f"the contract no longer holds {slip.quoted!r} exactly once")
        text = text.replace(slip.quoted, slip.unquoted)
    return text


def line_of(text: str, slip: Slip) -> int:
    """The 1-based line of the slipped text (put back) in text."""
    return text[: text.index(slip.unquoted)].count("\n") + 1
