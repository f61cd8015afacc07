"""`make spec-diff` never crashes on an odd document: any node of the contract replaced by a value of another shape."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounting_conformance.conformance.contract import load_spec
from accounting_conformance.conformance.specdiff import diff

SPEC = load_spec()


def pointers(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path of keys and indexes into a JSON value."""
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from pointers(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from pointers(value, (*path, index))


PATHS = [p for p in pointers(SPEC) if p]
ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=5),
    st.just([]),
    st.just({}),
    st.just([1, "x"]),
    st.just({"$ref": "#/nowhere"}),
    st.just({"$ref": 3}),
)


def replaced(spec: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A copy of the spec with the node at path replaced."""
    out = copy.deepcopy(spec)
    node: Any = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), value=ODD, new_side=st.booleans())
def test_an_odd_node_anywhere_never_crashes_the_differ(path: tuple[Any, ...], value: Any, new_side: bool) -> None:
    odd = replaced(SPEC, path, value)
    old, new = (SPEC, odd) if new_side else (odd, SPEC)
    if isinstance(old.get("paths"), dict) and isinstance(new.get("paths"), dict):
        assert isinstance(diff(old, new), list)
