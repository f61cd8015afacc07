"""Comparing the operations of two specs: paths, parameters, request bodies, responses, security, extensions."""

from __future__ import annotations

import re
from typing import Any

from accounting_conformance.conformance.specdiff.model import (
    At,
    Recorder,
    canonical,
    deref,
    escape,
    mapping,
    names,
    sequence,
)
from accounting_conformance.conformance.specdiff.schemas import SchemaDiffer
from accounting_conformance.conformance.specdiff.security import compare_security

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_TEMPLATE = re.compile(r"\{[^}/]*\}")
_STYLE = {"query": ("form", True), "cookie": ("form", True), "path": ("simple", False), "header": ("simple", False)}


def _template(path: str) -> str:
    return _TEMPLATE.sub("{}", path)


def _media(content: Any) -> dict[str, tuple[str, Any]]:
    """media type without parameters, lower-cased -> (its key, the media type object)."""
    found = {}
    for key, media in mapping(content).items():
        found[str(key).split(";")[0].strip().lower()] = (str(key), media if isinstance(media, dict) else {})
    return found


class OperationDiffer:
    """Pairs the operations of two specs and compares each pair."""

    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = old, new
        self.out = Recorder()
        self.schemas = SchemaDiffer(old, new, self.out)

    def run(self) -> Recorder:
        """Compare everything; the recorder holds the findings."""
        old_ops, new_ops = self._operations(self.old), self._operations(self.new)
        for key, (path, method, op) in old_ops.items():
            at = At(f"#/paths/{escape(path)}/{method}", f"#/paths/{escape(path)}/{method}", f"{method.upper()} {path}")
            if key not in new_ops:
                check = "operation-removed-after-deprecation" if op.get("deprecated") else "operation-removed"
                self.out.add(check, at, f"operation {op.get('operationId', '?')} is gone", side="old")
                continue
            new_path, _, new_op = new_ops[key]
            at = at.moved(at.old, f"#/paths/{escape(new_path)}/{method}")
            if new_path != path:
                self.out.add("path-parameter-renamed", at, f"path {path} is now written {new_path}")
            self.operation(path, new_path, method, op, new_op, at)
        for key, (path, method, op) in new_ops.items():
            if key not in old_ops:
                where = f"#/paths/{escape(path)}/{method}"
                self.out.add(
                    "operation-added",
                    At(where, where, f"{method.upper()} {path}"),
                    f"new operation {op.get('operationId', '?')}",
                )
        compare_security(self.old, self.new, old_ops, new_ops, self.out)
        old_version, new_version = (str(mapping(s.get("info")).get("version")) for s in (self.old, self.new))
        if old_version != new_version:
            self.out.add(
                "api-version-changed",
                At("#/info/version", "#/info/version"),
                f"info.version {old_version} -> {new_version}",
            )
        return self.out

    @staticmethod
    def _operations(spec: dict[str, Any]) -> dict[tuple[str, str], tuple[str, str, dict[str, Any]]]:
        """(path template with variables blanked, method) -> (path, method, operation)."""
        found = {}
        for path, item in mapping(spec.get("paths")).items():
            for method in METHODS:
                if isinstance(item, dict) and isinstance(item.get(method), dict):
                    found[(_template(path), method)] = (path, method, item[method])
        return found

    def operation(
        self, old_path: str, new_path: str, method: str, old: dict[str, Any], new: dict[str, Any], at: At
    ) -> None:
        """Compare one operation present in both specs."""
        if new.get("deprecated") and not old.get("deprecated"):
            self.out.add("operation-deprecated", at, "the operation is now deprecated")
        if old.get("operationId") != new.get("operationId"):
            self.out.add(
                "operation-id-changed", at, f"operationId {old.get('operationId')} -> {new.get('operationId')}"
            )
        self._platforms(old, new, at)
        self._parameters(old_path, new_path, method, at)
        self._request_body(old.get("requestBody"), new.get("requestBody"), at.child("requestBody"))
        self._responses(mapping(old.get("responses")), mapping(new.get("responses")), at.child("responses"))

    def _platforms(self, old: dict[str, Any], new: dict[str, Any], at: At) -> None:
        if "x-supported-platforms" not in old and "x-supported-platforms" not in new:
            return
        before, after = (names(op.get("x-supported-platforms")) for op in (old, new))
        where = at.child("x-supported-platforms")
        if "ANY" in before and "ANY" not in after:
            self.out.add(
                "platform-support-removed", where, f"documented for ANY platform -> {', '.join(sorted(after))}"
            )
        elif "ANY" not in before and "ANY" not in after:
            for name in sorted(before - after):
                self.out.add("platform-support-removed", where, f"{name} no longer documented")
        if "ANY" in after and "ANY" not in before:
            self.out.add("platform-support-added", where, "now documented for ANY platform")
        elif "ANY" not in after and "ANY" not in before:
            for name in sorted(after - before):
                self.out.add("platform-support-added", where, f"{name} now documented")

    # -- parameters -----------------------------------------------------------------------------
    def _params(
        self, spec: dict[str, Any], path: str, method: str
    ) -> dict[tuple[str, str], tuple[dict[str, Any], str, str]]:
        """(in, name) -> (parameter, its pointer, where the operation lists it); path variables keyed by position,
        header names lower-cased."""
        item = spec["paths"][path]
        variables = [m.group(0)[1:-1] for m in _TEMPLATE.finditer(path)]
        found: dict[tuple[str, str], tuple[dict[str, Any], str, str]] = {}
        for scope, pointer in ((item, f"#/paths/{escape(path)}"), (item[method], f"#/paths/{escape(path)}/{method}")):
            for index, raw in enumerate(sequence(scope.get("parameters"))):
                param, where = deref(spec, raw, f"{pointer}/parameters/{index}")
                if not isinstance(param, dict):
                    continue
                place, name = str(param.get("in")), str(param.get("name"))
                if place == "path" and name in variables:
                    name = f"#{variables.index(name)}"
                elif place == "header":
                    name = name.lower()
                found[(place, name)] = (param, where, f"{pointer}/parameters/{index}")
        return found

    def _parameters(self, old_path: str, new_path: str, method: str, at: At) -> None:
        old, new = self._params(self.old, old_path, method), self._params(self.new, new_path, method)
        gone = [key for key in old if key not in new]
        added = [key for key in new if key not in old]
        for key in list(gone):
            param, _, listed = old[key]
            label = f"parameter {param.get('name')} ({key[0]})"
            moved = next((k for k in added if k[1].lower() == key[1].lower() and k[0] != key[0]), None)
            renamed = next((k for k in added if k[0] == key[0] and self._same_param(param, new[k][0])), None)
            if moved or renamed:
                target = moved or renamed
                assert target is not None
                added.remove(target)
                check = "request-parameter-moved" if moved else "request-parameter-renamed"
                self.out.add(
                    check,
                    at.moved(listed, new[target][2]),
                    f"{label} is now {new[target][0].get('name')} ({target[0]})",
                )
            else:
                self.out.add("request-parameter-removed", at.moved(listed, at.new), f"{label} removed", side="old")
        for key in added:
            param, _, listed = new[key]
            check = "request-parameter-added-required" if param.get("required") else "request-parameter-added-optional"
            self.out.add(check, at.moved(at.old, listed), f"parameter {param.get('name')} ({key[0]}) added")
        for key in old:
            if key in new:
                self._parameter(old[key], new[key], key, at)

    def _same_param(self, old: dict[str, Any], new: dict[str, Any]) -> bool:
        shape = [canonical(deref(spec, p.get("schema"), "")[0]) for spec, p in ((self.old, old), (self.new, new))]
        return shape[0] == shape[1] and bool(old.get("required")) == bool(new.get("required"))

    def _parameter(
        self, old: tuple[dict[str, Any], str, str], new: tuple[dict[str, Any], str, str], key: tuple[str, str], at: At
    ) -> None:
        (before, old_ptr, _), (after, new_ptr, _) = old, new
        where = at.moved(old_ptr, new_ptr)
        label = f"parameter {after.get('name')} ({key[0]})"
        if bool(after.get("required")) != bool(before.get("required")):
            check = (
                "request-parameter-became-required" if after.get("required") else "request-parameter-became-optional"
            )
            self.out.add(check, where, f"{label} is now {'required' if after.get('required') else 'optional'}")
        style, explode = _STYLE.get(key[0], ("form", True))
        styles = [(p.get("style", style), p.get("explode", p.get("style", style) == "form")) for p in (before, after)]
        if styles[0] != styles[1]:
            self.out.add("request-parameter-style-changed", where, f"{label}: style/explode {styles[0]} -> {styles[1]}")
        for ext, added_id, removed_id in (
            ("x-filterable-fields", "filterable-field-added", "filterable-field-removed"),
            ("x-sortable-fields", "sortable-field-added", "sortable-field-removed"),
        ):
            was, now = (names(p.get(ext)) for p in (before, after))
            for name in sorted(was - now):
                self.out.add(removed_id, where.child(ext), f"{label}: {name} no longer accepted")
            for name in sorted(now - was):
                self.out.add(added_id, where.child(ext), f"{label}: {name} now accepted")
        schemas = [(p.get("schema"), f"{ptr}/schema") for p, ptr in ((before, old_ptr), (after, new_ptr))]
        for p, ptr, i in ((before, old_ptr, 0), (after, new_ptr, 1)):
            if "schema" not in p and isinstance(p.get("content"), dict) and p["content"]:
                media_key, media = next(iter(p["content"].items()))
                schemas[i] = (
                    media.get("schema") if isinstance(media, dict) else None,
                    f"{ptr}/content/{escape(media_key)}/schema",
                )
        self.schemas.compare(schemas[0][0], schemas[1][0], "request", where.moved(schemas[0][1], schemas[1][1]))

    # -- bodies and responses -------------------------------------------------------------------
    def _request_body(self, old_raw: Any, new_raw: Any, at: At) -> None:
        old, old_ptr = deref(self.old, old_raw, at.old)
        new, new_ptr = deref(self.new, new_raw, at.new)
        at = at.moved(old_ptr, new_ptr)
        if not isinstance(old, dict) and not isinstance(new, dict):
            return
        if not isinstance(old, dict):
            required = bool(new.get("required"))
            self.out.add(
                f"request-body-added-{'required' if required else 'optional'}", at, "a request body is declared"
            )
            return
        if not isinstance(new, dict):
            self.out.add("request-body-removed", at, "the request body is gone", side="old")
            return
        if bool(old.get("required")) != bool(new.get("required")):
            check = "request-body-became-required" if new.get("required") else "request-body-became-optional"
            self.out.add(check, at, f"the request body is now {'required' if new.get('required') else 'optional'}")
        self._content(old.get("content"), new.get("content"), "request", at.child("content"))

    def _content(self, old: Any, new: Any, ctx: str, at: At) -> None:
        old_media, new_media = _media(old), _media(new)
        for name, (key, media) in old_media.items():
            if name not in new_media:
                self.out.add(f"{ctx}-media-type-removed", at.child(key), f"media type {key} removed", side="old")
                continue
            new_key, new_body = new_media[name]
            self.schemas.compare(
                media.get("schema"),
                new_body.get("schema"),
                ctx,
                at.moved(f"{at.old}/{escape(key)}/schema", f"{at.new}/{escape(new_key)}/schema"),
            )
        for name, (key, _) in new_media.items():
            if name not in old_media:
                self.out.add(f"{ctx}-media-type-added", at.child(key), f"media type {key} added")

    @staticmethod
    def _covering(status: str, responses: dict[str, Any]) -> str | None:
        """The new response that now answers an old status: the same code, its range (4XX), or default."""
        for candidate in (status, f"{status[:1]}XX", f"{status[:1]}xx", "default"):
            if candidate in responses:
                return candidate
        return None

    def _responses(self, old: dict[str, Any], new: dict[str, Any], at: At) -> None:
        new = {str(k): v for k, v in new.items()}
        for code, raw in old.items():
            status = str(code)
            success = status[:1] in "123"
            covering = self._covering(status, new)
            if covering is None:
                check = "response-success-status-removed" if success else "response-error-status-removed"
                self.out.add(check, at.child(status), f"status {status} is no longer documented", side="old")
                continue
            self._response(raw, new[covering], at.moved(f"{at.old}/{escape(status)}", f"{at.new}/{escape(covering)}"))
        old_codes = {str(k) for k in old}
        for status in new:
            if status not in old_codes:
                kind = "success" if status[:1] in "123" else "error"
                self.out.add(f"response-{kind}-status-added", at.child(status), f"status {status} is documented")

    def _response(self, old_raw: Any, new_raw: Any, at: At) -> None:
        old, old_ptr = deref(self.old, old_raw, at.old)
        new, new_ptr = deref(self.new, new_raw, at.new)
        if not isinstance(old, dict) or not isinstance(new, dict):
            return
        at = at.moved(old_ptr, new_ptr)
        self._content(old.get("content"), new.get("content"), "response", at.child("content"))
        old_headers = {
            str(k).lower(): (k, v) for k, v in mapping(old.get("headers")).items() if str(k).lower() != "content-type"
        }
        new_headers = {
            str(k).lower(): (k, v) for k, v in mapping(new.get("headers")).items() if str(k).lower() != "content-type"
        }
        for name, (key, raw) in old_headers.items():
            header, header_ptr = deref(self.old, raw, f"{at.old}/headers/{escape(key)}")
            required = isinstance(header, dict) and bool(header.get("required"))
            where = at.child("headers", key).moved(header_ptr, f"{at.new}/headers/{escape(key)}")
            if name not in new_headers:
                check = "response-header-removed" if required else "response-optional-header-removed"
                self.out.add(check, where, f"header {key} removed", side="old")
                continue
            new_key, new_raw_header = new_headers[name]
            after, after_ptr = deref(self.new, new_raw_header, f"{at.new}/headers/{escape(new_key)}")
            where = where.moved(header_ptr, after_ptr)
            if required and not (isinstance(after, dict) and after.get("required")):
                self.out.add("response-header-became-optional", where, f"header {key} is now optional")
            if isinstance(header, dict) and isinstance(after, dict):
                self.schemas.compare(header.get("schema"), after.get("schema"), "response", where.child("schema"))
        for name, (key, _) in new_headers.items():
            if name not in old_headers:
                self.out.add("response-header-added", at.child("headers", key), f"header {key} added")
