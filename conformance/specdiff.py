"""`make spec-diff BASE=<ref>`: the breaking changes of openapi/openapi.yaml since a git ref.

`python -m conformance.specdiff --base origin/main openapi/openapi.yaml` prints one line per change,
`BREAKING <kind>: <location>: <detail>`; exit 1 when there is any, 0 when there is none, 2 when the
input cannot be judged (unknown ref, unreadable or unparsable spec).

Kinds: removed-operation; removed-field (a request or response property of a component or inline
schema); removed-enum-value; newly-required (request field, parameter or body); type-narrowed (a type
no longer accepted; dropping null counts for requests); made-nullable (a response value may now be null).
Schemas are compared as the operations reach them, following `$ref`s on both sides: a renamed but
unchanged component is not reported, and one shared by requests and responses is judged under both rules.

Why not a library: oasdiff (Go) is the reference tool but a binary we cannot download. On PyPI,
`api-schema-diff` 1.0.4 (fetched with pip download, not installed) reads `type` only as a single string,
so it misses every OpenAPI 3.1 `type: [x, 'null']` change, and has no enum or nullability rules;
`kryptorious-apiguard` 1.0.x is a new single-author tool with a paid tier. Neither fits.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from conformance.contract import parse_spec

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_ANY = frozenset({"string", "number", "integer", "boolean", "array", "object"})


class SpecError(Exception):
    """The spec at a ref or on disk cannot be read."""


class _Differ:
    """Walks two specs side by side and records breaking changes once each."""

    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = old, new
        self.changes: dict[str, None] = {}
        self._seen: set[tuple[int, int, str]] = set()

    def add(self, kind: str, location: str, detail: str) -> None:
        self.changes[f"BREAKING {kind}: {location}: {detail}"] = None

    @staticmethod
    def _deref(spec: dict[str, Any], node: Any, location: str) -> tuple[Any, str]:
        """The node a local $ref chain leads to, and where (the last ref's target, or location)."""
        hops = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            location, hops = node["$ref"][2:], hops + 1
            node = spec
            for part in location.split("/"):
                node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, dict) else {}
            if hops > 50:
                raise SpecError(f"$ref cycle at {location}")
        return node, location

    def _accepts(self, spec: dict[str, Any], schema: Any) -> tuple[frozenset[str], bool, set[str] | None]:
        """(non-null types accepted, null accepted?, enum values or None) of a schema."""
        schema, _ = self._deref(spec, schema, "")
        if not isinstance(schema, dict):
            return _ANY, True, None
        branches = [b for key in ("oneOf", "anyOf") for b in schema.get(key) or []]
        if branches:
            types: frozenset[str] = frozenset()
            nullable, enums = False, []
            for branch in branches:
                b_types, b_null, b_enum = self._accepts(spec, branch)
                types, nullable = types | b_types, nullable or b_null
                enums.append(b_enum if b_enum is not None else (None if b_types else set()))  # set(): null only
            return types, nullable, None if None in enums else set().union(*enums)
        declared = schema.get("type")
        enum_list = schema.get("enum")
        enum = {repr(v) for v in enum_list} if isinstance(enum_list, list) else None
        if declared is None:
            null_ok = enum is None or repr(None) in enum
            return _ANY, null_ok, enum
        names = {declared} if isinstance(declared, str) else set(declared)
        return frozenset(names - {"null"}), "null" in names and (enum is None or repr(None) in enum), enum

    def schema(self, old: Any, new: Any, ctx: str, location: str, judge_value: bool = True) -> None:
        """Compare two schemas reached the same way; ctx is 'request' or 'response'.

        judge_value=False (a oneOf/anyOf branch) skips the type, null and enum checks of this node, which
        the enclosing union has already judged as a whole; its properties and items are still compared.
        """
        old_node, old_loc = self._deref(self.old, old, location)
        new_node, new_loc = self._deref(self.new, new, location)
        here = new_loc if new_loc != location else old_loc
        key = (id(old_node), id(new_node), ctx + str(judge_value))
        if key in self._seen or not isinstance(old_node, dict) or not isinstance(new_node, dict):
            return
        self._seen.add(key)
        if judge_value:
            self._value(old_node, new_node, ctx, here)
        self._properties(old_node, new_node, ctx, here)
        if "items" in old_node and "items" in new_node:
            self.schema(old_node["items"], new_node["items"], ctx, f"{here}[]")
        for combinator in ("oneOf", "anyOf", "allOf"):  # a union's value was judged whole; allOf parts each
            self._branches(old_node.get(combinator) or [], new_node.get(combinator) or [], ctx, here, combinator == "allOf")

    def _value(self, old_node: dict[str, Any], new_node: dict[str, Any], ctx: str, here: str) -> None:
        """The values a schema accepts: types narrowed, null dropped (requests) or added (responses), enum values removed."""
        old_types, old_null, old_enum = self._accepts(self.old, old_node)
        new_types, new_null, new_enum = self._accepts(self.new, new_node)
        lost = {t for t in old_types - new_types if not (t == "integer" and "number" in new_types)}
        if lost:
            self.add("type-narrowed", here, f"{'/'.join(sorted(old_types))} -> {'/'.join(sorted(new_types))} ({ctx})")
        if ctx == "request" and old_null and not new_null:
            self.add("type-narrowed", here, f"null is no longer accepted ({ctx})")
        if ctx == "response" and new_null and not old_null:
            self.add("made-nullable", here, "the response value may now be null")
        if old_enum is not None and new_enum is not None:
            for value in sorted(old_enum - new_enum):
                self.add("removed-enum-value", here, f"{value} removed ({ctx})")

    def _properties(self, old: dict[str, Any], new: dict[str, Any], ctx: str, here: str) -> None:
        old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
        for name, prop in old_props.items():
            if name not in new_props:
                self.add("removed-field", f"{here}.{name}", f"{ctx} field removed")
            else:
                self.schema(prop, new_props[name], ctx, f"{here}.{name}")
        if ctx == "request":
            for name in sorted(set(new.get("required") or []) - set(old.get("required") or [])):
                self.add("newly-required", f"{here}.{name}", "request field is now required")

    def _branches(self, old: list[Any], new: list[Any], ctx: str, here: str, judge_value: bool) -> None:
        new_by_ref = {b["$ref"]: b for b in new if isinstance(b, dict) and "$ref" in b}
        for index, branch in enumerate(old):
            ref = branch.get("$ref") if isinstance(branch, dict) else None
            match = new_by_ref.get(ref) if ref else (new[index] if index < len(new) else None)
            if match is not None:
                self.schema(branch, match, ctx, here, judge_value)

    def _parameters(self, spec: dict[str, Any], path: str, method: str) -> dict[tuple[str, str], tuple[dict[str, Any], str]]:
        """(name, in) -> (parameter, where it is defined: its component, or the operation)."""
        item, label = spec["paths"][path], f"{method.upper()} {path}"
        found = {}
        for raw in [*(item.get("parameters") or []), *(item[method].get("parameters") or [])]:
            param, where = self._deref(spec, raw, "")
            if isinstance(param, dict):
                name, place = str(param.get("name")), str(param.get("in"))
                found[(name, place)] = (param, where or f"{label} parameter {name} ({place})")
        return found

    def operation(self, path: str, method: str) -> None:
        """Compare one operation present in both specs."""
        label = f"{method.upper()} {path}"
        old_op, new_op = self.old["paths"][path][method], self.new["paths"][path][method]
        old_params, new_params = self._parameters(self.old, path, method), self._parameters(self.new, path, method)
        for key, (param, where) in new_params.items():
            before = old_params.get(key, ({}, ""))[0]
            if param.get("required") and not before.get("required"):
                self.add("newly-required", f"{label} parameter {key[0]} ({key[1]})", "parameter is now required")
            if before:
                self.schema(before.get("schema"), param.get("schema"), "request", where)
        old_body, _ = self._deref(self.old, old_op.get("requestBody"), "")
        new_body, _ = self._deref(self.new, new_op.get("requestBody"), "")
        if (new_body or {}).get("required") and not (old_body or {}).get("required"):
            self.add("newly-required", f"{label} request body", "the request body is now required")
        self._content(old_body, new_body, "request", f"{label} request body")
        new_responses = new_op.get("responses") or {}
        for code, raw in (old_op.get("responses") or {}).items():
            if code in new_responses:
                old_resp, _ = self._deref(self.old, raw, "")
                new_resp, _ = self._deref(self.new, new_responses[code], "")
                self._content(old_resp, new_resp, "response", f"{label} {code} response")

    def _content(self, old: Any, new: Any, ctx: str, label: str) -> None:
        old_media, new_media = ((x.get("content") or {}) if isinstance(x, dict) else {} for x in (old, new))
        for media_type, media in old_media.items():
            if isinstance(media, dict) and isinstance(new_media.get(media_type), dict):
                self.schema(media.get("schema"), new_media[media_type].get("schema"), ctx, label)


def _operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, item in (spec.get("paths") or {}).items() if isinstance(item, dict)
            for method in METHODS if isinstance(item.get(method), dict)}


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Every breaking change from the old spec to the new one, one line each, sorted."""
    differ, new_ops = _Differ(old, new), _operations(new)
    for path, method in sorted(_operations(old)):
        if (path, method) not in new_ops:
            op_id = old["paths"][path][method].get("operationId", "?")
            differ.add("removed-operation", f"{method.upper()} {path}", f"operation {op_id} is gone")
        else:
            differ.operation(path, method)
    return sorted(differ.changes)


def _as_spec(text: str, origin: str) -> dict[str, Any]:
    try:
        spec = parse_spec(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"{origin}: not valid YAML or JSON ({exc})") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("paths"), dict):
        raise SpecError(f"{origin}: not an OpenAPI document (no `paths` object)")
    return spec


def spec_at(ref: str, path: Path) -> dict[str, Any]:
    """The spec file at a git ref (`git show REF:path`), path taken inside the repo holding it."""
    git = ["git", "-C", str(path.resolve().parent)]
    try:
        verify = subprocess.run([*git, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
                                capture_output=True, text=True, check=False)
        shown = subprocess.run([*git, "show", f"{ref}:./{path.name}"], capture_output=True, text=True, check=False)
    except OSError as exc:
        raise SpecError(f"cannot run git: {exc}") from None
    if verify.returncode != 0:
        raise SpecError(f"unknown git ref {ref!r} (in the repository holding {path})")
    if shown.returncode != 0:
        raise SpecError(f"cannot read {path.name} at {ref}: {shown.stderr.strip()}")
    return _as_spec(shown.stdout, f"{path.name} at {ref}")


def main(argv: list[str] | None = None) -> int:
    """Print the breaking changes since --base; exit 1 if any, 0 if none, 2 on bad input."""
    parser = argparse.ArgumentParser(prog="python -m conformance.specdiff", description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the git ref to compare against, e.g. origin/main")
    parser.add_argument("spec", nargs="?", default="openapi/openapi.yaml", help="the spec in the working tree")
    args = parser.parse_args(argv)
    path = Path(args.spec)
    try:
        try:
            new = _as_spec(path.read_text(encoding="utf-8"), str(path))
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(f"cannot read {path}: {exc}") from None
        old = spec_at(args.base, path)
        changes = breaking_changes(old, new)
    except SpecError as exc:
        print(f"spec-diff: {exc}", file=sys.stderr)
        return 2
    for line in changes:
        print(line)
    print(f"{len(changes)} breaking change(s) since {args.base}" if changes else f"no breaking changes since {args.base}",
          file=sys.stderr)
    return 1 if changes else 0


if __name__ == "__main__":
    sys.exit(main())
