"""Secrets out of everything a user sees: terminal, reports and curl reproductions."""

from __future__ import annotations

import base64
import shlex
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus

MASK = "***"
#: Headers whose value is a credential whatever it says.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
#: Authorization schemes named in a masked header, so that a reproduction says how the credential travels.
SCHEMES = frozenset({"basic", "bearer"})


class LiveSecrets(list[str]):
    """Secrets that may grow while a run goes on (a token fetched again after a 401): a Redactor made from them
    masks the ones added later too. Only ever appended to."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Add each secret not yet known (empty ones are no secret)."""
        with self._lock:
            for secret in secrets:
                if secret and secret not in self:
                    self.append(secret)


def _forms(secret: str) -> set[str]:
    forms = {secret, quote(secret, safe=""), quote_plus(secret)}
    return {f for f in forms if f}


class Redactor:
    """Replaces every known spelling of the run's secrets with a mask."""

    def __init__(self, secrets: Iterable[str], basic_auth: tuple[str, str] | None = None) -> None:
        self._live = secrets if isinstance(secrets, LiveSecrets) else None  # consulted again when it grows
        self._basic_auth = basic_auth
        self._learn(list(secrets))

    def _learn(self, secrets: list[str]) -> None:
        found: set[str] = set()
        for secret in secrets:
            if secret:
                found |= _forms(secret)
        if self._basic_auth:
            found.add(base64.b64encode(f"{self._basic_auth[0]}:{self._basic_auth[1]}".encode()).decode())
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted(found, key=len, reverse=True)
        self._known = len(secrets)

    def __call__(self, text: str) -> str:
        """Return text with every secret masked, those the run learnt since this redactor was made included."""
        if self._live is not None and len(self._live) != self._known:
            self._learn(list(self._live))
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Mask credentials in headers, whatever their value (an Authorization header keeps its scheme's name:
        `Bearer ***`)."""
        masked = {}
        for name, value in headers.items():
            if name.lower() in CREDENTIAL_HEADERS:
                scheme = value.split(" ", 1)[0]
                masked[name] = f"{scheme} {MASK}" if scheme.lower() in SCHEMES and " " in value else MASK
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
