"""Every service's published OpenAPI document, fuzzed on the real servers with every check.

schemathesis reads each service's `/openapi.json` and sends what it generates from it
(schema-valid and schema-breaking requests, and the edges of every field) to the running
service, with a token of a role the matrix lets call the operation. Every check runs: no
answer is a 5xx, every status and body is the one the document declares, a valid request
is not refused as invalid and an invalid one is, a missing or wrong token answers 401.

The services run on databases and topics of their own, so what the fuzz books or loads
never reaches the other tests. Examples are bounded and derandomized, so a run is the same
each time and fits in CI (`APPOINTMENTS_FUZZ_EXAMPLES` asks for more). The notifications
service is fuzzed too; what it still answers off its document is marked, not hidden.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from schemathesis import AuthContext, Case, CheckContext, Response
from schemathesis.core.failures import Failure
from schemathesis.engine import Status, events, from_schema

from services.common.auth import Role
from services.common.config import Settings
from services.common.http import INVALID_REQUEST
from tests.integration.test_postcodes import NAMES, ONSPD
from tests.integration.test_postcodes import load as load_postcodes
from tests.support import roster
from tests.support.servers import Servers
from tests.support.services import (
    ServiceProcess,
    seed_county,
    service,
    token,
    wait_for_capacity,
    wait_for_roster_county,
)
from tests.support.topics import create_topics, delete_topics

pytestmark = pytest.mark.integration

# Examples per operation and phase; bounded so the three services take a few minutes on 2 cores.
EXAMPLES = int(os.environ.get("APPOINTMENTS_FUZZ_EXAMPLES", "50"))
SEED = 20261208
# A request the document calls valid may still be refused by a rule the schema cannot say (a time
# in the past, a closed day, an urgent incident: 422 with the field and the reason, as the contract
# has it); `valid_requests_pass_validation` below still fails one refused for its shape.
ACCEPTED_WHEN_VALID = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]


@schemathesis.check
def valid_requests_pass_validation(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """A request the document calls valid is never refused as malformed: the schemas say what is read."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    if detail == INVALID_REQUEST:
        raise Failure(
            operation=case.operation.label,
            title="Schema-valid request refused as malformed",
            message=f"The service's validation refused what its document accepts: {response.text[:500]}",
        )
    return None


@pytest.fixture(scope="module")
async def fuzzed(
    servers: Servers, test_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, ServiceProcess]]:
    """Booking, roster and projections on topics and databases of the fuzz's own, the county seeded."""
    prefix = f"{test_settings.topic_prefix}fuzz."
    await create_topics(servers.kafka_bootstrap, prefix)
    own = {"APPOINTMENTS_TOPIC_PREFIX": prefix, "APPOINTMENTS_DB_SUFFIX": f"{test_settings.db_suffix}fz"}
    logs = tmp_path_factory.mktemp("fuzz-logs")
    started: dict[str, ServiceProcess] = {}
    try:
        started["booking"] = await service("booking", logs, **own).start()
        sha256 = await seed_county(started["booking"])
        own_topics = test_settings.model_copy(update={"topic_prefix": prefix})
        await roster.publish(own_topics, roster.county_roster())
        await wait_for_capacity(started["booking"], "stevenage", "2027-02-03")
        started["roster"] = await service("roster", logs, **own).start()
        await wait_for_roster_county(started["roster"], sha256)
        started["projections"] = await service("projections", logs, **own).start()
        # GET /postcodes/{postcode} answers from the ONS Postcode Directory an operator loads.
        loaded, said = await load_postcodes(ONSPD, NAMES, **own)
        assert loaded == 0, said
        yield started
    finally:
        for process in started.values():
            process.stop()
        await delete_topics(servers.kafka_bootstrap, prefix)


@pytest.fixture(scope="module")
async def notifications(
    fuzzed: dict[str, ServiceProcess], test_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServiceProcess]:
    """The notifications service on the fuzz's topics and a database of its own."""
    own = {
        "APPOINTMENTS_TOPIC_PREFIX": f"{test_settings.topic_prefix}fuzz.",
        "APPOINTMENTS_DB_SUFFIX": f"{test_settings.db_suffix}fz",
    }
    process = await service("notifications", tmp_path_factory.mktemp("fuzz-logs"), **own).start()
    yield process
    process.stop()


class RoleTokens:
    """A token of the first role the document names for an operation (``x-roles``): it reaches the handler."""

    def get(self, case: Case[Any], _: AuthContext) -> str:
        allowed = case.operation.definition.raw.get("x-roles") or [Role.ADMIN.value]
        return token(Role(allowed[0]), "fuzz")

    def set(self, case: Case[Any], data: str, _: AuthContext) -> None:
        case.headers["Authorization"] = f"Bearer {data}"


@dataclass(frozen=True)
class Finding:
    """One check that failed on one operation, as the fuzz reports it."""

    operation: str
    check: str
    title: str
    message: str
    reproduce: str

    def __str__(self) -> str:
        return f"{self.operation}: {self.check}: {self.title}\n  {self.message}\n  {self.reproduce}"


def fuzz(process: ServiceProcess) -> tuple[list[Finding], int]:
    """Run every phase but the stateful one with every check (the CLI's `--checks all`)."""
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": EXAMPLES, "deterministic": True, "mode": "all"},
            "phases": {"stateful": {"enabled": False}},
            "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED_WHEN_VALID}},
            "request-timeout": 30,
        }
    )
    config.projects.override.checks.update(included_check_names=["all"])
    schema = schemathesis.openapi.from_url(f"{process.url}/openapi.json", config=config)
    schema.auth(refresh_interval=None)(RoleTokens)
    findings: list[Finding] = []
    scenarios = 0
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            scenarios += 1
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        findings.append(
                            Finding(
                                event.recorder.label,
                                check.name,
                                failure.title,
                                failure.message[:600],
                                check.failure_info.code_sample[:400],
                            )
                        )
        elif isinstance(event, events.NonFatalError):
            findings.append(Finding(event.label, "error", type(event.value).__name__, str(event.value), ""))
        elif isinstance(event, events.FatalError):
            raise event.exception
    return list(dict.fromkeys(findings)), scenarios


def _assert_clean(process: ServiceProcess) -> None:
    started = time.monotonic()
    findings, scenarios = fuzz(process)
    took = time.monotonic() - started
    assert scenarios, f"the fuzz of {process.name} ran no scenario"
    assert not findings, f"{process.name}: {len(findings)} findings in {took:.0f}s:\n" + "\n".join(
        map(str, findings)
    )


def test_booking_answers_every_request_as_its_document_says(fuzzed: dict[str, ServiceProcess]) -> None:
    _assert_clean(fuzzed["booking"])


def test_roster_answers_every_request_as_its_document_says(fuzzed: dict[str, ServiceProcess]) -> None:
    _assert_clean(fuzzed["roster"])


def test_projections_answer_every_request_as_their_document_says(fuzzed: dict[str, ServiceProcess]) -> None:
    _assert_clean(fuzzed["projections"])


def test_notifications_answer_every_request_as_their_document_says(notifications: ServiceProcess) -> None:
    _assert_clean(notifications)
