"""Our lint's locations map to the lines of the contract's YAML."""

from __future__ import annotations

import pytest

from accounting_conformance.conformance.locate import Locator

TEXT = """\
openapi: 3.1.0
paths:
  /jobs/{id}:
    get:
      operationId: getJob
      parameters:
        - name: id
          in: path
      responses:
        '200': {description: The job.}
components:
  schemas:
    Job:
      type: object
      properties:
        status: {type: string}
        request:
          type: object
          properties:
            body: {description: The body.}
"""


@pytest.fixture(scope="module")
def locator() -> Locator:
    """A locator over TEXT."""
    return Locator(TEXT)


def test_a_pointer_names_the_line_of_its_key(locator: Locator) -> None:
    assert locator.line("#/components/schemas/Job/properties/request/properties/body") == 20


def test_an_escaped_path_key_and_a_list_index_are_followed(locator: Locator) -> None:
    assert locator.line("/paths/~1jobs~1{id}/get/parameters/0") == 7


def test_an_unescaped_path_key_as_the_spec_validator_writes_it_is_followed(locator: Locator) -> None:
    assert locator.line("paths//jobs/{id}/get/responses/200") == 10


def test_a_pointer_past_the_document_names_the_deepest_node_it_reaches(locator: Locator) -> None:
    assert locator.line("#/components/schemas/Job/properties/missing/type") == 15


def test_an_operation_id_names_its_operation(locator: Locator) -> None:
    assert locator.line("getJob") == 4
    assert locator.line("getJob filter x-filterable-fields") == 4


def test_a_method_and_path_name_their_operation(locator: Locator) -> None:
    assert locator.line("GET /jobs/{id}") == 4
    assert locator.line("operation GET /jobs/{id}") == 4


def test_a_schema_field_names_its_property(locator: Locator) -> None:
    assert locator.line("Job.status") == 16


def test_a_location_that_names_no_place_has_no_line(locator: Locator) -> None:
    assert locator.line("20 operations, expected 21") is None
    assert locator.line("") is None
