"""The fuzzer's streams: every operation handed to the run's threads, the longest first, reported in the contract's order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import schemathesis

from accounting_conformance.conformance.fuzz_stream import Fuzzing, fuzzed
from accounting_conformance.conformance.resources import contract_path
from accounting_conformance.conformance.streams import STREAM_ATTR, Inline

SCHEMA = schemathesis.openapi.from_path(contract_path(), config=schemathesis.Config())


class Submissions:
    """A stand-in for the run's streams that keeps what was submitted, in order, and runs nothing."""

    def __init__(self) -> None:
        self.order: list[Callable[[], Any]] = []

    def submit(self, nodeid: str, work: Callable[[], Any]) -> Inline:
        self.order.append(work)
        return Inline(work)


class Request:
    """A stand-in for pytest's fixture request: the schema fixture only."""

    def getfixturevalue(self, name: str) -> Any:
        assert name == "api_schema"
        return SCHEMA


class Item:
    nodeid = "tests/conformance/test_fuzz.py::test_fuzz"


def begun() -> tuple[Fuzzing, Submissions]:
    @fuzzed("api_schema")
    def test_fuzz(case: Any) -> None:
        """Fuzz."""

    submissions = Submissions()
    fuzzing: Fuzzing = getattr(test_fuzz, STREAM_ATTR)(submissions, Item(), Request())
    return fuzzing, submissions


def test_every_operation_is_submitted_once_and_reported_in_the_contracts_order() -> None:
    fuzzing, submissions = begun()
    contract_order = [result.ok().label for result in SCHEMA.get_all_operations()]
    reported = [entry[0].label for entry in fuzzing.operations if isinstance(entry, tuple)]
    assert len(reported) == len(fuzzing.operations) > 0
    assert reported == contract_order
    assert len(submissions.order) == len(reported)


def test_operations_with_a_body_are_submitted_before_those_without() -> None:
    _, submissions = begun()
    submitted = [work.args[3] for work in submissions.order]  # type: ignore[attr-defined]
    with_body = [bool(operation.body) for operation in submitted]
    assert any(with_body) and not all(with_body)
    assert with_body == sorted(with_body, reverse=True)
    without = [operation for operation in submitted if not operation.body]
    assert [len(op.query) for op in without] == sorted((len(op.query) for op in without), reverse=True)
