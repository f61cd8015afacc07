"""Fixtures of a conformance run: the settings, a client, the target's reference data and the contract."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from accounting_conformance.conformance import kinds
from accounting_conformance.conformance.checks import REPLACED_BUILTINS, CheckFunction, Checks
from accounting_conformance.conformance.claims import without_unclaimed
from accounting_conformance.conformance.client import ApiClient
from accounting_conformance.conformance.contract import component, load_spec
from accounting_conformance.conformance.plugin import ConformancePlugin
from accounting_conformance.conformance.recording import RecordingClient, record_schema
from accounting_conformance.conformance.resources import contract_path, schemathesis_config_path
from accounting_conformance.conformance.responses import ResponseContract
from accounting_conformance.conformance.settings import Settings
from accounting_conformance.conformance.states import StateLog
from accounting_conformance.conformance.streams import Streams
from accounting_conformance.conformance.transport import honour_retry_after

if TYPE_CHECKING:
    from accounting_conformance.conformance.fixtures import Fixtures

SPEC = contract_path()


def _plugin(config: pytest.Config) -> ConformancePlugin | None:
    for plugin in config.pluginmanager.get_plugins():
        if isinstance(plugin, ConformancePlugin):
            return plugin
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without a run's settings these tests cannot judge anything: say how to run them."""
    if _plugin(config) is None:
        skip = pytest.mark.skip(reason="conformance tests run through `make conformance` / `python -m conformance`")
        for item in items:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def plugin(request: pytest.FixtureRequest) -> ConformancePlugin:
    """The run's plugin: its settings, redactor and state log."""
    found = _plugin(request.config)
    assert found is not None
    return found


@pytest.fixture(scope="session")
def settings(plugin: ConformancePlugin) -> Settings:
    """The run's settings."""
    return plugin.settings


@pytest.fixture(scope="session")
def our_checks(plugin: ConformancePlugin) -> tuple[CheckFunction, ...]:
    """The suite's schemathesis checks, their reproductions masked by the run's redactor."""
    return Checks(plugin.redactor).all()


@pytest.fixture(scope="session")
def states(plugin: ConformancePlugin) -> StateLog:
    """Where the tests record the document states the target was driven through (and agreed with the model)."""
    return plugin.states


@pytest.fixture(scope="session")
def streams(request: pytest.FixtureRequest, settings: Settings, plugin: ConformancePlugin) -> Iterator[Streams]:
    """The generated phases' threads: set up by the first of them, it starts all of them (conformance/streams.py)."""
    runner = Streams(settings.concurrency, plugin.recorder, plugin.pacer)
    try:
        runner.begin(request)
        yield runner
    finally:
        runner.close()


@pytest.fixture(scope="session")
def client(settings: Settings, plugin: ConformancePlugin, api_schema: schemathesis.BaseSchema) -> Iterator[ApiClient]:
    """A client for the suite's own requests; every response a test accepts is held to the contract."""
    api = RecordingClient(settings, plugin.recorder, ResponseContract(api_schema), pacer=plugin.pacer)
    yield api
    api.close()


@pytest.fixture(scope="session")
def fixtures(settings: Settings) -> Fixtures:
    """The target's customers, vendors, accounts, items and bills."""
    from accounting_conformance.conformance.fixtures import load_fixtures

    return load_fixtures(settings.fixtures)


@pytest.fixture(scope="session")
def tag(settings: Settings) -> str:
    """The per-run tag every created object carries, so shared targets see no collisions."""
    return settings.run_tag


@pytest.fixture(scope="session")
def api_schema(settings: Settings, tag: str, plugin: ConformancePlugin) -> Iterator[schemathesis.BaseSchema]:
    """The contract, loaded for schemathesis and pointed at the target, without what the target does not claim; while
    it is in use, every case schemathesis sends carries the run's tag and every exchange is recorded."""
    # conformance/schemathesis.toml serves the plain command line (`st run --config-file`) too; the run takes its operation
    # overrides and supplies the token itself.
    data = tomllib.loads(schemathesis_config_path().read_text())
    data.pop("auth", None)
    data["seed"] = settings.seed
    if settings.profile.name == "quick":  # the coverage phase's exhaustive boundary cases do not fit in 30 s
        data.setdefault("phases", {})["coverage"] = {"enabled": False}
    for name in REPLACED_BUILTINS:
        data.setdefault("checks", {}).setdefault(name, {})["enabled"] = False
    # Through the security scheme, so that schemathesis knows the token is real and probes without it.
    data["auth"] = {"openapi": {"accessToken": {"api_key": settings.access_token}}}
    config = SchemathesisConfig.from_dict(data)
    project = config.projects.default
    project.update(
        base_url=settings.target,
        request_timeout=settings.request_timeout,
        tls_verify=settings.tls_verify,
        basic_auth=settings.basic_auth,
        max_redirects=0,
    )
    project.generation.update(max_examples=settings.profile.max_examples)
    hook = schemathesis.hook("before_call")(tagging(tag))  # schemathesis calls before_call hooks of its global set only
    try:
        if settings.unclaimed:
            loaded = schemathesis.openapi.from_dict(without_unclaimed(load_spec(), settings.unclaimed), config=config)
        else:
            loaded = schemathesis.openapi.from_path(SPEC, config=config)
        # RATE_LIMIT is kept by the run's one pacer (conformance/pacing.py), not by schemathesis' own limiter, so that
        # the suite's client, schemathesis and every thread of them keep to it together.
        yield record_schema(honour_retry_after(loaded, plugin.pacer), plugin.recorder)
    finally:
        schemathesis.hooks.unregister(hook)


def tagged_field(kind: str) -> str:
    """The field of a kind's create body that carries the run's tag: `memo` where the create has one."""
    create = kinds.get(kind).create_schema
    return "memo" if create and "memo" in component(create).get("properties", {}) else "document_number"


def tagging(tag: str) -> Callable[..., None]:
    """A before_call hook that puts the run's tag on every object fuzzing creates or updates, so shared targets can
    tell runs apart."""
    fields = {kind: tagged_field(kind) for kind in kinds.NAMES}

    def before_call(ctx: schemathesis.HookContext, case: schemathesis.Case[Any], **kwargs: object) -> None:
        meta = case.meta
        if meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, dict):
            return
        for key, field in fields.items():
            attributes = case.body.get(key)
            if isinstance(attributes, dict):
                # append, so that the generated text (unicode, long strings) still reaches the server
                generated = attributes.get(field)
                if isinstance(generated, str) and generated.endswith(tag):
                    continue  # the same case sent again (a replay, a retry): tagged already
                kept = generated[: 4000 - len(tag) - 1] + " " if isinstance(generated, str) else ""
                attributes[field] = kept + tag

    return before_call
