"""Comparing the security of two specs: what a client must present to call each operation, and the schemes."""

from __future__ import annotations

from typing import Any

from accounting_conformance.conformance.specdiff.model import At, Recorder, escape, mapping, sequence

Requirement = frozenset[tuple[str, frozenset[str]]]
_SCHEME_FIELDS = ("type", "in", "name", "scheme", "openIdConnectUrl")


def _requirements(spec: dict[str, Any], op: dict[str, Any]) -> list[Requirement]:
    """The alternatives an operation accepts (each a set of schemes with their scopes); [] means no security."""
    declared = op["security"] if "security" in op else spec.get("security")
    found = []
    for alternative in sequence(declared):
        if isinstance(alternative, dict):
            found.append(
                frozenset((str(name), frozenset(map(str, sequence(scopes)))) for name, scopes in alternative.items())
            )
    return found


def _satisfies(held: Requirement, wanted: Requirement) -> bool:
    """A client that can present `held` meets `wanted`: every scheme wanted, with every scope wanted."""
    have = dict(held)
    return all(name in have and scopes <= have[name] for name, scopes in wanted)


def _text(requirement: Requirement) -> str:
    return (
        " + ".join(f"{name}{list(sorted(scopes)) if scopes else ''}" for name, scopes in sorted(requirement)) or "none"
    )


def compare_security(
    old: dict[str, Any],
    new: dict[str, Any],
    old_ops: dict[Any, tuple[str, str, dict[str, Any]]],
    new_ops: dict[Any, tuple[str, str, dict[str, Any]]],
    out: Recorder,
) -> None:
    """Record, per operation in both specs, credentials newly needed or no longer needed, and changed schemes in use."""
    in_use: set[str] = set()
    for key, (path, method, op) in old_ops.items():
        if key not in new_ops:
            continue
        new_path, _, new_op = new_ops[key]
        at = At(f"#/paths/{escape(path)}/{method}", f"#/paths/{escape(new_path)}/{method}", f"{method.upper()} {path}")
        before, after = _requirements(old, op), _requirements(new, new_op)
        in_use |= {name for req in before for name, _ in req} & {name for req in after for name, _ in req}
        open_before = not before or frozenset() in before
        open_after = not after or frozenset() in after
        where = at.child("security")
        if open_before and not open_after:
            out.add("security-added", where, f"credentials now required: {' or '.join(map(_text, after))}")
            continue
        if open_after and not open_before:
            out.add("security-removed", where, "no credentials are needed any more")
            continue
        if open_before:
            continue
        for held in before:
            if not any(_satisfies(held, wanted) for wanted in after):
                out.add("security-requirement-tightened", where, f"{_text(held)} is no longer enough")
        for offered in after:  # a new way in: holding only it met none of the old alternatives
            if not any(_satisfies(offered, wanted) for wanted in before):
                out.add("security-alternative-added", where, f"{_text(offered)} is accepted")
    old_schemes = mapping(mapping(old.get("components")).get("securitySchemes"))
    new_schemes = mapping(mapping(new.get("components")).get("securitySchemes"))
    for name in sorted(in_use):
        old_scheme, new_scheme = old_schemes.get(name), new_schemes.get(name)
        if not isinstance(old_scheme, dict) or not isinstance(new_scheme, dict):
            continue
        changed = [
            f for f in _SCHEME_FIELDS if str(old_scheme.get(f, "")).lower() != str(new_scheme.get(f, "")).lower()
        ]
        if changed:
            pointer = f"#/components/securitySchemes/{escape(name)}"
            out.add("security-scheme-changed", At(pointer, pointer), f"scheme {name}: {', '.join(changed)} changed")
