"""Comparing two schemas reached the same way, from the side of a client of the old contract.

`ctx` is "request" (the client sends values: accepting fewer breaks it) or "response" (the client
reads values: producing more breaks it). Schemas are followed through `$ref` on both sides, so a
renamed but unchanged component is no change, and one reached by requests and responses is judged
under both.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from accounting_conformance.conformance.specdiff.checks import BOUND_IDS
from accounting_conformance.conformance.specdiff.model import (
    At,
    Recorder,
    canonical,
    deref,
    mapping,
    names,
    sequence,
    shown,
)

_ANY = frozenset({"string", "number", "integer", "boolean", "array", "object"})
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UNIONS = ("oneOf", "anyOf")


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


class SchemaDiffer:
    """Walks two schemas side by side and records what changed, each finding once."""

    def __init__(self, old: dict[str, Any], new: dict[str, Any], recorder: Recorder) -> None:
        self.old, self.new, self.out = old, new, recorder
        self._seen: set[tuple[int, int, str, bool]] = set()
        self._merged: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}

    def resolve(self, spec: dict[str, Any], node: Any, pointer: str) -> tuple[Any, str]:
        """The schema a `$ref` leads to with the keywords beside the `$ref` applied too (JSON Schema 2020-12).

        The siblings are laid over the target (a sibling keyword wins); each merged schema is built once, so
        the walk's identity-based memory still works.
        """
        target, where = deref(spec, node, pointer)
        siblings = {k: v for k, v in node.items() if k != "$ref"} if isinstance(node, dict) and "$ref" in node else {}
        if not siblings or not isinstance(target, dict):
            return target, where
        if id(node) not in self._merged:
            self._merged[id(node)] = (node, {**target, **siblings})
        return self._merged[id(node)][1], where

    def _unwrap(self, spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any] | None:
        """The one non-null branch of a `oneOf`/`anyOf` that at most adds null (`oneOf: [X, {type: 'null'}]`), else None."""
        for key in _UNIONS:
            parts = sequence(node.get(key))
            rest = [p for p in parts if not self._null_only(spec, p)]
            if parts and len(rest) == 1:
                branch, _ = self.resolve(spec, rest[0], "")
                return branch if isinstance(branch, dict) else None
        return None

    # -- the values a schema accepts ------------------------------------------------------------
    def accepts(self, spec: dict[str, Any], schema: Any) -> tuple[frozenset[str], bool, frozenset[str] | None]:
        """(non-null types, null accepted?, enum members as canonical text or None) of a schema, unions included."""
        schema, _ = self.resolve(spec, schema, "")
        if not isinstance(schema, dict):
            return _ANY, schema is not False, None
        branches = [b for key in _UNIONS for b in sequence(schema.get(key))]
        if branches:
            types: frozenset[str] = frozenset()
            nullable, enums = False, []
            for branch in branches:
                b_types, b_null, b_enum = self.accepts(spec, branch)
                types, nullable = types | b_types, nullable or b_null
                enums.append(b_enum if b_enum is not None else (None if b_types else frozenset()))
            merged = None if None in enums else frozenset().union(*[e for e in enums if e is not None])
            own = self._own(schema)
            if own[0] != _ANY or own[2] is not None:  # a type or enum beside the union narrows it
                types, nullable = types & own[0], nullable and own[1]
                merged = own[2] if merged is None else (merged if own[2] is None else merged & own[2])
            return types, nullable, merged
        return self._own(schema)

    @staticmethod
    def _own(schema: dict[str, Any]) -> tuple[frozenset[str], bool, frozenset[str] | None]:
        declared = schema.get("type")
        members = [schema["const"]] if "const" in schema else schema.get("enum")
        enum = frozenset(canonical(v) for v in members) if isinstance(members, list) else None
        if declared is None:
            return _ANY, enum is None or canonical(None) in enum, enum
        declared_names = {declared} if isinstance(declared, str) else names(declared)
        null_ok = "null" in declared_names and (enum is None or canonical(None) in enum)
        return frozenset(declared_names - {"null"}), null_ok, enum

    # -- the walk -------------------------------------------------------------------------------
    def compare(self, old: Any, new: Any, ctx: str, at: At, *, judge_value: bool = True) -> None:
        """Compare two schemas; judge_value=False (a union branch) leaves type, null and enum to the union."""
        old_node, old_ptr = self.resolve(self.old, old, at.old)
        new_node, new_ptr = self.resolve(self.new, new, at.new)
        at = at.moved(old_ptr, new_ptr)
        key = (id(old_node), id(new_node), ctx, judge_value)
        if key in self._seen or not isinstance(old_node, dict) or not isinstance(new_node, dict):
            return
        self._seen.add(key)
        value_changed = self._value(old_node, new_node, ctx, at) if judge_value else False
        old_wrapped, new_wrapped = self._unwrap(self.old, old_node), self._unwrap(self.new, new_node)
        unions = [any(key in node for key in _UNIONS) for node in (old_node, new_node)]
        if unions[0] != unions[1] and (
            old_wrapped or new_wrapped
        ):  # `type: [X, 'null']` rewritten as `oneOf: [X, null]`
            self._constraints(old_wrapped or old_node, new_wrapped or new_node, ctx, at)
            return
        self._constraints(old_node, new_node, ctx, at)
        for key_word in _UNIONS:
            self._parts(old_node, new_node, key_word, ctx, at, report=not value_changed)
        self._parts(old_node, new_node, "allOf", ctx, at, report=True)

    def _constraints(self, old_node: dict[str, Any], new_node: dict[str, Any], ctx: str, at: At) -> None:
        """Everything but the value and the unions: format, bounds, default, extensions, properties, items."""
        self._format(old_node, new_node, ctx, at)
        self._bounds(old_node, new_node, ctx, at)
        if ctx == "request":
            self._default(old_node, new_node, at)
        self._extensions(old_node, new_node, at)
        self._properties(old_node, new_node, ctx, at)
        self._additional(old_node, new_node, ctx, at)
        if isinstance(old_node.get("items"), dict) and isinstance(new_node.get("items"), dict):
            self.compare(old_node["items"], new_node["items"], ctx, at.child("items"))

    def _value(self, old: dict[str, Any], new: dict[str, Any], ctx: str, at: At) -> bool:
        """Types, nullability and enum members; True when any of them changed."""
        old_types, old_null, old_enum = self.accepts(self.old, old)
        new_types, new_null, new_enum = self.accepts(self.new, new)
        before = len(self.out.findings)
        lost = {t for t in old_types - new_types if not (t == "integer" and "number" in new_types)}
        gained = {t for t in new_types - old_types if not (t == "integer" and "number" in old_types)}
        change = f"type {'/'.join(sorted(old_types)) or 'null'} -> {'/'.join(sorted(new_types)) or 'null'}"
        if lost and gained:
            self.out.add(f"{ctx}-type-changed", at, change)
        elif lost:
            self.out.add(f"{ctx}-type-narrowed", at, change)
        elif gained:
            self.out.add(f"{ctx}-type-widened", at, change)
        if old_null != new_null:
            self.out.add(
                f"{ctx}-became-{'nullable' if new_null else 'not-nullable'}",
                at,
                "null is now accepted" if new_null else "null is no longer accepted",
            )
        self._enum(old_enum, new_enum, ctx, at)
        return len(self.out.findings) != before

    def _enum(self, old: frozenset[str] | None, new: frozenset[str] | None, ctx: str, at: At) -> None:
        null = canonical(None)
        if old is not None and new is not None:
            for member in sorted((old - new) - {null}):
                self.out.add(f"{ctx}-enum-value-removed", at, f"enum value {member} removed")
            for member in sorted((new - old) - {null}):
                self.out.add(f"{ctx}-enum-value-added", at, f"enum value {member} added")
        elif old is None and new is not None:
            self.out.add(f"{ctx}-enum-added", at, f"now limited to {', '.join(sorted(new))}")
        elif old is not None and new is None:
            self.out.add(f"{ctx}-enum-removed", at, f"no longer limited to {', '.join(sorted(old))}")

    def _format(self, old: dict[str, Any], new: dict[str, Any], ctx: str, at: At) -> None:
        before, after = old.get("format"), new.get("format")
        if before == after:
            return
        kind = "added" if before is None else "removed" if after is None else "changed"
        self.out.add(f"{ctx}-format-{kind}", at, f"format {shown(before)} -> {shown(after)}")

    def _bounds(self, old: dict[str, Any], new: dict[str, Any], ctx: str, at: At) -> None:
        for keyword in (*_UPPER, *_LOWER):
            before, after = _number(old.get(keyword)), _number(new.get(keyword))
            if before == after:
                continue
            tighter = after is not None and (
                before is None or (after < before if keyword in _UPPER else after > before)
            )
            self._bound(keyword, tighter, ctx, at, old.get(keyword), new.get(keyword))
        before, after = _number(old.get("multipleOf")), _number(new.get("multipleOf"))
        if before != after:  # a new step that divides the old one accepts every old value
            divides = before is not None and after is not None and after != 0 and before % after == 0
            self._bound(
                "multipleOf", after is not None and not divides, ctx, at, old.get("multipleOf"), new.get("multipleOf")
            )
        if bool(old.get("uniqueItems")) != bool(new.get("uniqueItems")):
            self._bound(
                "uniqueItems", bool(new.get("uniqueItems")), ctx, at, old.get("uniqueItems"), new.get("uniqueItems")
            )
        before_p, after_p = old.get("pattern"), new.get("pattern")
        if before_p != after_p:
            if before_p is not None and after_p is not None:
                self.out.add(f"{ctx}-pattern-changed", at, f"pattern {shown(before_p)} -> {shown(after_p)}")
            else:
                self._bound("pattern", after_p is not None, ctx, at, before_p, after_p)

    def _bound(self, keyword: str, tighter: bool, ctx: str, at: At, before: Any, after: Any) -> None:
        verdict = "tightened" if tighter else "relaxed"
        self.out.add(
            f"{ctx}-{BOUND_IDS[keyword]}-{verdict}",
            at,
            f"{keyword} {'unset' if before is None else shown(before)} -> {'unset' if after is None else shown(after)}",
        )

    def _default(self, old: dict[str, Any], new: dict[str, Any], at: At) -> None:
        if "default" not in old and "default" not in new:
            return
        if "default" not in old:
            self.out.add("request-default-added", at, f"default {shown(new['default'])} added")
        elif "default" not in new:
            self.out.add("request-default-removed", at, f"default {shown(old['default'])} removed")
        elif canonical(old["default"]) != canonical(new["default"]):
            self.out.add("request-default-changed", at, f"default {shown(old['default'])} -> {shown(new['default'])}")

    def _extensions(self, old: dict[str, Any], new: dict[str, Any], at: At) -> None:
        old_rules, new_rules = (names(s.get("x-amount-rules")) for s in (old, new))
        for rule in sorted(new_rules - old_rules):
            self.out.add("amount-rule-added", at.child("x-amount-rules"), f"new rule: {rule}")
        for rule in sorted(old_rules - new_rules):
            self.out.add("amount-rule-removed", at.child("x-amount-rules"), f"rule gone: {rule}")
        before, after = old.get("x-finishes-within-seconds"), new.get("x-finishes-within-seconds")
        if before != after:
            self.out.add("job-deadline-changed", at, f"x-finishes-within-seconds {shown(before)} -> {shown(after)}")

    # -- objects --------------------------------------------------------------------------------
    def _properties(self, old: dict[str, Any], new: dict[str, Any], ctx: str, at: At) -> None:
        old_props, new_props = mapping(old.get("properties")), mapping(new.get("properties"))
        old_req, new_req = names(old.get("required")), names(new.get("required"))
        hidden = "readOnly" if ctx == "request" else "writeOnly"  # not part of this direction's values
        for name, raw in old_props.items():
            where = at.child("properties", name)
            before, _ = self.resolve(self.old, raw, "")
            if isinstance(before, dict) and before.get(hidden):
                continue  # not part of this direction before; if it is now, it is new (below)
            if name not in new_props:
                check = (
                    "request-property-removed"
                    if ctx == "request"
                    else "response-property-removed"
                    if name in old_req
                    else "response-optional-property-removed"
                )
                self.out.add(check, where, f"property {name} removed", side="old")
                continue
            after, _ = self.resolve(self.new, new_props[name], "")
            if isinstance(after, dict) and after.get(hidden):
                check = (
                    "request-property-became-read-only" if ctx == "request" else "response-property-became-write-only"
                )
                self.out.add(check, where, f"property {name} is now {hidden}")
                continue
            self._filterable(before, after, name, where)
            self.compare(raw, new_props[name], ctx, where)
        fresh = set(new_props) - set(old_props) | self._unhidden(old_props, new_props, hidden)
        for name in sorted(fresh, key=str):
            after, _ = self.resolve(self.new, new_props[name], "")
            if isinstance(after, dict) and after.get(hidden):
                continue
            where = at.child("properties", name)
            if ctx == "response":
                self.out.add("response-property-added", where, f"property {name} added")
            elif name in new_req:
                self.out.add("request-property-added-required", where, f"required property {name} added")
            else:
                self.out.add("request-property-added-optional", where, f"optional property {name} added")
            if isinstance(after, dict) and after.get("x-filterable"):
                self.out.add("filterable-field-added", where, f"{name} is filterable")
        for name in sorted(new_req - old_req - fresh):
            if ctx == "request" and not self._hidden(new_props.get(name), hidden):
                check = "request-property-became-required" if name in old_props else "request-property-added-required"
                self.out.add(check, at.child("properties", name), f"property {name} is now required")
            elif ctx == "response" and name in old_props:
                self.out.add(
                    "response-property-became-required",
                    at.child("properties", name),
                    f"property {name} is now always present",
                )
        for name in sorted(old_req - new_req):
            if name in new_props and not self._hidden(new_props.get(name), hidden):
                check = "request-property-became-optional" if ctx == "request" else "response-property-became-optional"
                self.out.add(check, at.child("properties", name), f"property {name} is no longer required")

    def _hidden(self, raw: Any, hidden: str, spec: dict[str, Any] | None = None) -> bool:
        node, _ = self.resolve(self.new if spec is None else spec, raw, "")
        return isinstance(node, dict) and bool(node.get(hidden))

    def _unhidden(self, old_props: dict[str, Any], new_props: dict[str, Any], hidden: str) -> set[str]:
        """Properties hidden from this direction before (readOnly in requests, writeOnly in responses) and not now."""
        return {
            name
            for name, raw in old_props.items()
            if name in new_props and self._hidden(raw, hidden, self.old) and not self._hidden(new_props[name], hidden)
        }

    def _filterable(self, before: Any, after: Any, name: str, where: At) -> None:
        was, now = (isinstance(s, dict) and bool(s.get("x-filterable")) for s in (before, after))
        if was and not now:
            self.out.add("filterable-field-removed", where, f"{name} is no longer filterable")
        elif now and not was:
            self.out.add("filterable-field-added", where, f"{name} is filterable")

    @staticmethod
    def _openness(schema: dict[str, Any]) -> str:
        for key in ("additionalProperties", "unevaluatedProperties"):
            if schema.get(key) is False:
                return "closed"
        return "typed" if isinstance(schema.get("additionalProperties"), dict) else "open"

    def _additional(self, old: dict[str, Any], new: dict[str, Any], ctx: str, at: At) -> None:
        rank = {"open": 0, "typed": 1, "closed": 2}
        before, after = self._openness(old), self._openness(new)
        if before == after == "typed":
            self.compare(
                old["additionalProperties"], new["additionalProperties"], ctx, at.child("additionalProperties")
            )
        elif before != after:
            kind = "closed" if rank[after] > rank[before] else "opened"
            self.out.add(f"{ctx}-additional-properties-{kind}", at, f"undeclared properties: {before} -> {after}")

    def _parts(self, old: dict[str, Any], new: dict[str, Any], key: str, ctx: str, at: At, *, report: bool) -> None:
        """Pair the parts of a oneOf/anyOf/allOf (by `$ref`, then by equal shape, then by position) and compare them."""
        old_parts, new_parts = sequence(old.get(key)), sequence(new.get(key))
        if not old_parts and not new_parts:
            return
        pairs, left = self._pair(old_parts, new_parts)
        for i, j in pairs:
            where = at.moved(f"{at.old}/{key}/{i}", f"{at.new}/{key}/{j}")
            self.compare(old_parts[i], new_parts[j], ctx, where, judge_value=key == "allOf")
        if not report or not (old_parts and new_parts) and key != "allOf":
            return
        gone = [i for i in range(len(old_parts)) if i not in {p[0] for p in pairs}]
        for i in gone:
            if key == "allOf":
                self.out.add(f"{ctx}-all-of-removed", at.child(key), f"allOf part {i} removed", side="old")
            elif not self._null_only(self.old, old_parts[i]):
                self.out.add(f"{ctx}-union-branch-removed", at.child(key), f"{key} branch {i} removed", side="old")
        for j in left:
            if key == "allOf":
                self.out.add(f"{ctx}-all-of-added", at.child(key, str(j)), f"allOf part {j} added")
            elif not self._null_only(self.new, new_parts[j]):
                self.out.add(f"{ctx}-union-branch-added", at.child(key, str(j)), f"{key} branch {j} added")

    def _pair(self, old: list[Any], new: list[Any]) -> tuple[list[tuple[int, int]], list[int]]:
        """(old index, new index) pairs and the new indexes left unpaired: same `$ref`, then same shape, then position."""
        free = list(range(len(new)))
        pairs: list[tuple[int, int]] = []
        for matcher in (self._same_ref, self._same_shape):
            for i, part in enumerate(old):
                match = next((j for j in free if matcher(part, new[j])), None) if i not in dict(pairs) else None
                if match is not None:
                    pairs.append((i, match))
                    free.remove(match)
        for i in range(len(old)):
            if i not in dict(pairs) and i in free:
                pairs.append((i, i))
                free.remove(i)
        return pairs, free

    @staticmethod
    def _same_ref(a: Any, b: Any) -> bool:
        return isinstance(a, dict) and isinstance(b, dict) and "$ref" in a and a.get("$ref") == b.get("$ref")

    def _same_shape(self, a: Any, b: Any) -> bool:
        return canonical(self.resolve(self.old, a, "")[0]) == canonical(self.resolve(self.new, b, "")[0])

    def _null_only(self, spec: dict[str, Any], part: Any) -> bool:
        types, null, _ = self.accepts(spec, part)
        return null and not types
