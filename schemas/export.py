"""Export the published contracts: JSON Schema per event version, and the AsyncAPI document.

The AsyncAPI document declares what the services publish (every registered event
on its topic) and subscribes exactly the consumer groups the services' apps run.

`python -m schemas.export` rewrites ``schemas/json/`` and ``schemas/asyncapi.json``;
a unit test fails when the committed files differ from what the models say.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

import schemas.audit
import schemas.booking
import schemas.notifications
import schemas.reference
import schemas.roster  # noqa: F401  (importing registers the events)
from schemas.base import DomainEvent, registered_events
from schemas.envelope import Envelope
from schemas.topics import (
    BOOKING_EVENTS,
    CONTROLROOM_REQUESTS,
    DEADLETTER,
    NOTIFICATIONS_EVENTS,
    ROSTER_EVENTS,
    SMS_INBOUND,
    SMS_OUTBOUND,
    SMS_RECEIPTS,
)

if TYPE_CHECKING:
    from services.common.wiring import Consumer

HERE = Path(__file__).parent
JSON_DIR = HERE / "json"
ASYNCAPI_FILE = HERE / "asyncapi.json"


def json_schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema, for the envelope and every registered event version."""
    out = {"Envelope.json": Envelope.model_json_schema()}
    for (name, version), model in sorted(registered_events().items()):
        if not model.__module__.startswith("schemas."):
            continue  # events defined by tests, not published contracts
        schema = model.model_json_schema()
        schema["x-event-type"] = name
        schema["x-schema-version"] = version
        schema["x-topic"] = model.topic
        out[f"{name}.v{version}.json"] = schema
    return out


def _events_on(topic: str) -> list[type[DomainEvent]]:
    return [
        m for m in registered_events().values() if m.topic == topic and m.__module__.startswith("schemas.")
    ]


def _union(models: list[type[DomainEvent]]) -> Any:
    return Union[tuple(models)]  # noqa: UP007  (a runtime union of a list of classes)


def asyncapi() -> dict[str, Any]:
    """The AsyncAPI document of every topic the project writes and reads."""
    broker = KafkaBroker("127.0.0.1:9092", description="Station Appointments event backbone")
    for topic, writer in (
        (BOOKING_EVENTS, "booking"),
        (ROSTER_EVENTS, "roster"),
        (NOTIFICATIONS_EVENTS, "notifications"),
    ):
        models = _events_on(topic)
        if models:
            broker.publisher(
                topic,
                title=f"{writer}:{topic}",
                description=f"Domain events of the {writer} service, keyed by the contract's key; "
                "CloudEvents Kafka binding headers (ce_id, ce_type, ce_source, ce_subject, ce_time, "
                "ce_specversion) plus correlation_id, causation_id, schema_version and actor.",
                schema=_union(models),
            )
    # The SMS gateway's messages (GOV.UK Notify's shapes): texts out, receipts and replies back.
    for topic, writer, what in (
        (
            SMS_OUTBOUND,
            "notifications",
            "Texts for the SMS gateway, keyed by message id (the number in E.164).",
        ),
        (SMS_RECEIPTS, "gateway", "Notify's delivery receipts, keyed by message id (no number)."),
        (SMS_INBOUND, "gateway", "Texts from the public, keyed by the keyed hash of the sender's number."),
    ):
        broker.publisher(topic, title=f"{writer}:{topic}", description=what, schema=_union(_events_on(topic)))
    broker.publisher(
        DEADLETTER,
        title=f"every-consumer:{DEADLETTER}",
        description="Records a consumer could not read or apply: the original value and headers plus "
        "dlq_reason, dlq_consumer, dlq_source_topic, dlq_source_partition, dlq_source_offset.",
    )
    broker.publisher(
        CONTROLROOM_REQUESTS,
        title=f"control-room:{CONTROLROOM_REQUESTS}",
        description="Appointment requests from control-room systems, keyed by request id.",
    )
    _declare_consumers(broker)
    spec = AsyncAPI(
        broker,
        title="Station Appointments",
        version="1.0.0",
        schema_version="3.0.0",
        description="Hertfordshire Constabulary's station and diary-car appointments.",
    )
    document: dict[str, Any] = spec.to_specification().to_jsonable()
    return document


def _declare_consumers(broker: KafkaBroker) -> None:
    """Subscribe the document's broker exactly as the services' apps do (topic and group)."""
    # Imported here: the services import these contracts, not the other way round.
    from services.booking.main import CONSUMERS as BOOKING
    from services.notifications.main import CONSUMERS as NOTIFICATIONS
    from services.notifications.main import GATEWAY
    from services.projections.main import CONSUMERS as PROJECTIONS
    from services.roster.main import CONSUMERS as ROSTER

    subscribers: tuple[tuple[str, tuple[Consumer[Any], ...]], ...] = (
        ("booking", BOOKING),
        ("notifications", (*NOTIFICATIONS, GATEWAY)),
        ("projections", PROJECTIONS),
        ("roster", ROSTER),
    )
    for service, consumers in subscribers:
        for consumer in consumers:

            async def handle(_: bytes) -> None:
                """Declared for the document only; the service's consumer does the work."""

            broker.subscriber(
                consumer.topic,
                group_id=consumer.name,
                title=f"{service}:{consumer.name}:{consumer.topic}",
                description=f"The {service} service's consumer group {consumer.name}: idempotent "
                "(offsets and event ids stored with its change), poison records to deadletter.",
            )(handle)


def render(data: Any) -> str:
    """Stable JSON text for committed files."""
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def main() -> None:
    """Rewrite the exported files."""
    JSON_DIR.mkdir(exist_ok=True)
    wanted = json_schemas()
    for stale in JSON_DIR.glob("*.json"):
        if stale.name not in wanted:
            stale.unlink()
    for name, schema in wanted.items():
        (JSON_DIR / name).write_text(render(schema))
    ASYNCAPI_FILE.write_text(render(asyncapi()))
    print(f"wrote {len(wanted)} JSON Schemas and {ASYNCAPI_FILE.name}")


if __name__ == "__main__":
    main()
