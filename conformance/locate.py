"""Line numbers in the contract's YAML text for the locations our lint and spec-diff name.

Our lint reports a place as a JSON pointer (`#/components/schemas/X/properties/y`, `/paths/~1jobs~1{id}/get`,
or unescaped as openapi-spec-validator writes it, `paths//jobs/{id}/get`), an operationId (`listInvoices: ...`),
an operation (`GET /jobs/{id}: ...`) or a schema field (`Invoice.amount_due: ...`). Composing the YAML (not
loading it) keeps each node's start mark, so each of those maps to the line a reviewer should look at.
"""

from __future__ import annotations

import re

import yaml

from accounting_conformance.conformance.contract import SpecLoader

_OPERATION = re.compile(r"^(?:operation )?(GET|PUT|POST|DELETE|OPTIONS|HEAD|PATCH|TRACE) (/\S*)")
_FIELD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\b")


def _entry(node: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    """(key node, value node) of key in a mapping node (None if absent or not a mapping)."""
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k, v
    return None


def _value(node: yaml.Node, key: str) -> yaml.Node | None:
    """The value node of key in a mapping node (None if absent or not a mapping)."""
    entry = _entry(node, key)
    return entry[1] if entry else None


def _child(node: yaml.Node, parts: list[str], at: int) -> tuple[yaml.Node, yaml.Node, int] | None:
    """(the node where the child starts, the child, the parts it took) for the child that parts[at:] starts with.

    A mapping's child starts at its key; a key may hold unescaped '/' (the longest match is taken).
    """
    if isinstance(node, yaml.SequenceNode):
        index = parts[at]
        if index.isdigit() and int(index) < len(node.value):
            return node.value[int(index)], node.value[int(index)], 1
        return None
    for count in range(len(parts) - at, 0, -1):  # "paths//jobs/{id}" holds the key "/jobs/{id}"
        entry = _entry(node, "/".join(parts[at : at + count]).replace("~1", "/").replace("~0", "~"))
        if entry is not None:
            return entry[0], entry[1], count
    return None


class Locator:
    """Maps our lint's locations to 1-based line numbers of one YAML document."""

    def __init__(self, text: str) -> None:
        """Compose text (the contract's YAML) once."""
        root = yaml.compose(text, Loader=SpecLoader)
        if root is None:
            raise ValueError("an empty document")
        self.root: yaml.Node = root

    def pointer_line(self, pointer: str) -> int:
        """The line of the deepest node a JSON pointer reaches (the document's first line if none)."""
        parts = pointer.lstrip("#").split("/")
        parts = parts[1:] if parts and parts[0] == "" else parts
        node, start, at = self.root, self.root, 0
        while at < len(parts):
            step = _child(node, parts, at)
            if step is None:
                break
            start, node, at = step[0], step[1], at + step[2]
        return start.start_mark.line + 1

    def _operation_line(self, operation_id: str) -> int | None:
        """The line of the operation whose operationId is operation_id."""
        paths = _value(self.root, "paths")
        for _, item in paths.value if isinstance(paths, yaml.MappingNode) else []:
            for method, operation in item.value if isinstance(item, yaml.MappingNode) else []:
                found = _value(operation, "operationId")
                if isinstance(found, yaml.ScalarNode) and found.value == operation_id:
                    return int(method.start_mark.line) + 1
        return None

    def _is_schema(self, name: str) -> bool:
        """Whether components/schemas holds name."""
        schemas = _value(_value(self.root, "components") or yaml.MappingNode("", []), "schemas")
        return schemas is not None and _value(schemas, name) is not None

    def line(self, location: str) -> int | None:
        """The line of a problem's location (the text before its first ': '), None where it names no place."""
        location = location.strip()
        if location.startswith(("#/", "/")) or re.match(r"^[A-Za-z]+/", location):
            return self.pointer_line(location)
        operation = _OPERATION.match(location)
        if operation:
            method, path = operation.group(1).lower(), operation.group(2)
            return self.pointer_line(f"/paths/{path.replace('~', '~0').replace('/', '~1')}/{method}")
        field = _FIELD.match(location)
        if field and self._is_schema(field.group(1)):
            return self.pointer_line(f"/components/schemas/{field.group(1)}/properties/{field.group(2)}")
        return self._operation_line(location.split(" ", 1)[0]) if location else None
