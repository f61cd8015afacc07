"""Secrets out of everything a user sees: terminal, reports and curl reproductions."""

from __future__ import annotations

import base64
import shlex
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus

MASK = "***"


def _forms(secret: str) -> set[str]:
    forms = {secret, quote(secret, safe=""), quote_plus(secret)}
    return {f for f in forms if f}


class Redactor:
    """Replaces every known spelling of the run's secrets with a mask."""

    def __init__(self, secrets: Iterable[str], basic_auth: tuple[str, str] | None = None) -> None:
        found: set[str] = set()
        for secret in secrets:
            if secret:
                found |= _forms(secret)
        if basic_auth:
            found.add(base64.b64encode(f"{basic_auth[0]}:{basic_auth[1]}".encode()).decode())
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted(found, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """Return text with every secret masked."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Mask credentials in headers, whatever their value."""
        masked = {}
        for name, value in headers.items():
            if name.lower() in ("authorization", "proxy-authorization", "cookie"):
                masked[name] = MASK
            else:
                masked[name] = self(value)
        return masked


def curl(method: str, url: str, headers: Mapping[str, str], body: str | None, redactor: Redactor) -> str:
    """A copy-pasteable curl command for a request, secrets masked."""
    parts = ["curl", "-sS", "-X", method.upper(), shlex.quote(redactor(url))]
    for name, value in redactor.headers(headers).items():
        if name.lower() in ("content-length", "host", "accept-encoding", "connection", "user-agent"):
            continue
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if body:
        parts += ["--data-raw", _quote(redactor(body))]
    return " ".join(parts)


def _quote(text: str) -> str:
    """Shell-quote text; control characters (a form feed, a newline in a body) as bash $'\\x0c' escapes, visible
    and surviving a copy from the terminal."""
    if all(ch.isprintable() or ch == " " for ch in text):
        return shlex.quote(text)
    escaped = "".join(
        ch if ch.isprintable() and ch not in "\\'" else {"\\": "\\\\", "'": "\\'"}.get(ch, _escape(ord(ch)))
        for ch in text
    )
    return f"$'{escaped}'"


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
