"""The schemathesis state machine over the contract's OpenAPI links, with our checks on every response."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from schemathesis.engine.context import make_session

from accounting_conformance.conformance.checks import CheckFunction
from accounting_conformance.conformance.plugin import ConformancePlugin
from accounting_conformance.conformance.settings import Settings
from accounting_conformance.conformance.streams import stream

pytestmark = pytest.mark.phase("links")


@pytest.mark.rules("SCHEMA-001", "SCHEMA-002", "WRITE-001", "WRITE-003", "MONEY-003", "STATUS-001", "FETCH-001")
@stream  # beside the model and the fuzzer (conformance/streams.py)
def test_linked_operations_conform_to_the_contract(
    api_schema: schemathesis.BaseSchema,
    settings: Settings,
    our_checks: tuple[CheckFunction, ...],
    plugin: ConformancePlugin,
) -> None:
    base = api_schema.as_state_machine()

    class Links(base):  # type: ignore[valid-type,misc]
        def __init__(self) -> None:
            plugin.recorder.begin_example()  # the recording of a failure is its last example
            super().__init__()
            self.kept = make_session(api_schema.config)  # one example's connections kept alive, as schemathesis' runner

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {**super().get_call_kwargs(case), "session": self.kept}

        def teardown(self) -> None:
            self.kept.close()
            super().teardown()

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            super().validate_response(response, case, additional_checks=list(our_checks), **kwargs)

    Links.run(
        settings=hsettings(
            max_examples=settings.profile.stateful_examples,
            stateful_step_count=settings.profile.stateful_steps,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
