"""Secrets never reach output: every spelling of a token and basic credentials is masked."""

from __future__ import annotations

import base64

import pytest

from accounting_conformance.conformance.redact import MASK, LiveSecrets, Redactor, curl


def test_token_is_masked_in_plain_and_url_encoded_forms() -> None:
    redact = Redactor(["a b/c+d"])
    assert "a b/c+d" not in redact("token=a b/c+d")
    assert redact("token=a%20b%2Fc%2Bd") == f"token={MASK}"
    assert redact("token=a+b%2Fc%2Bd") == f"token={MASK}"


def test_basic_credentials_are_masked_in_headers_and_base64() -> None:
    redact = Redactor(["id", "secret"], ("id", "secret"))
    encoded = base64.b64encode(b"id:secret").decode()
    assert encoded not in redact(f"Authorization: Basic {encoded}")
    assert redact.headers({"Authorization": "Basic xyz", "X-Other": "secret"}) == {
        "Authorization": f"Basic {MASK}",
        "X-Other": MASK,
    }


def test_a_credential_header_is_masked_whole_but_for_the_name_of_its_scheme() -> None:
    redact = Redactor([])
    assert redact.headers(
        {"Authorization": "Bearer tok-unknown-to-the-redactor", "Cookie": "s=1", "Proxy-Authorization": "opaque"}
    ) == {"Authorization": f"Bearer {MASK}", "Cookie": MASK, "Proxy-Authorization": MASK}
    assert redact.headers({"authorization": "tok-without-a-scheme"}) == {"authorization": MASK}


def test_a_curl_reproduction_of_a_bearer_request_masks_the_header() -> None:
    command = curl("GET", "http://h/x", {"Authorization": "Bearer tok-bearer-1"}, None, Redactor([]))
    assert "tok-bearer-1" not in command and "-H 'Authorization: Bearer ***'" in command


def test_a_redactor_made_from_live_secrets_masks_a_secret_added_after_it_was_made() -> None:
    live = LiveSecrets(["tok-first-1"])
    redact = Redactor(live)
    assert redact("tok-first-1 tok-later-2") == f"{MASK} tok-later-2"
    live.add("tok-later-2")
    assert redact("tok-first-1 tok-later-2") == f"{MASK} {MASK}"
    assert redact("a=tok%20later") == "a=tok%20later"
    live.add("tok later")
    assert redact("a=tok%20later&b=tok+later") == f"a={MASK}&b={MASK}"
    assert live == ["tok-first-1", "tok-later-2", "tok later"]


def test_curl_reproduction_carries_no_secret() -> None:
    redact = Redactor(["tok-9"])
    command = curl(
        "post", "http://h/x?access_token=tok-9", {"Content-Type": "application/json"}, '{"a": "tok-9"}', redact
    )
    assert "tok-9" not in command
    assert command.startswith("curl -sS -X POST 'http://h/x?access_token=***'")


@pytest.mark.parametrize("body", ["\x0c", "a\nb\x00", "it's \\ \x0c'", "\u2028x", "\U000e0001", '{"memo": "é"}'])
def test_a_curl_body_with_control_characters_reaches_the_shell_byte_for_byte(body: str) -> None:
    import subprocess

    command = curl("POST", "http://x.test/y", {}, body, Redactor([]))
    argument = command.split("--data-raw ", 1)[1]
    assert argument.isprintable()
    echoed = subprocess.run(["bash", "-c", f"printf %s {argument}"], capture_output=True).stdout
    assert echoed == body.replace("\x00", "").encode()  # bash strings stop at NUL, as curl's would
