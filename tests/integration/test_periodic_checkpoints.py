"""A running service signs its own database's chain heads every period, and `audit verify` holds by them.

The roster, on topics and a database of its own, signs a checkpoint every second into a folder of
this test. The command accepts it (the chains hold against the heads it signed); once a signed
event is cut off by someone with the owner's rights, the running service says so on /metrics and
signs nothing over it, and the same command names it as gone.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from schemas.envelope import Envelope
from services.common.checkpoints import CheckpointSettings, latest_heads, public_key
from services.common.config import Settings
from services.common.db import drop_database
from services.common.eventstore import Outgoing, StreamAppend, append_streams
from tests.integration.test_consumer_positions_metrics import metric
from tests.support.services import ServiceProcess, service
from tests.support.topics import create_topics, delete_topics

pytestmark = pytest.mark.integration
APPOINTMENTS = Path(sys.executable).with_name("appointments")


def envelope(stream: str, n: int) -> Envelope:
    return Envelope(
        event_id=uuid.uuid4(), event_type="OfficerRegistered", schema_version=1, source="urn:test",
        subject=stream, time=datetime.now(UTC), correlation_id=f"corr-{n}", causation_id=None,
        actor="supervisor:test", data={"officer_id": stream, "n": n},
    )  # fmt: skip


def audit(own: Settings, folder: Path, keys: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`appointments audit ...` on this test's database and checkpoint folder."""
    env = {
        **os.environ,
        "APPOINTMENTS_DB_SUFFIX": own.db_suffix,
        "APPOINTMENTS_CHECKPOINT_DIR": str(folder),
        "APPOINTMENTS_CHECKPOINT_KEYS_DIR": str(keys),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [str(APPOINTMENTS), "audit", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


async def signed_heads(folder: Path, keys: Path, own: Settings, stream: str) -> dict[str, object]:
    """The roster heads of the latest checkpoint once it signs ``stream``; TimeoutError otherwise."""
    key = public_key(own, CheckpointSettings(checkpoint_dir=folder, checkpoint_keys_dir=keys))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        latest = latest_heads(folder, key, ["roster"]).get("roster")
        if latest is not None and stream in latest.heads["roster"]:
            return dict(latest.heads["roster"])
        await asyncio.sleep(0.2)
    raise TimeoutError(f"no checkpoint signed the roster's stream {stream}")


async def scraped(svc: ServiceProcess, holds: Callable[[str], bool]) -> str:
    """The service's /metrics once ``holds`` says yes of it; TimeoutError otherwise."""
    deadline = time.monotonic() + 60
    async with httpx.AsyncClient(base_url=svc.url) as client:
        while time.monotonic() < deadline:
            text = (await client.get("/metrics")).text
            if holds(text):
                return text
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{svc.name}'s /metrics never showed what was waited for")


async def test_a_running_service_signs_checkpoints_that_audit_verify_holds_its_database_to(
    test_settings: Settings, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    prefix, suffix = f"chk-{run}.", f"{test_settings.db_suffix}chk{run}"
    own = test_settings.model_copy(update={"db_suffix": suffix})
    folder, keys = tmp_path / "checkpoints", tmp_path / "checkpoint-keys"
    await create_topics(test_settings.kafka_bootstrap, prefix)
    roster = service(
        "roster",
        tmp_path / "logs",
        APPOINTMENTS_TOPIC_PREFIX=prefix,
        APPOINTMENTS_DB_SUFFIX=suffix,
        APPOINTMENTS_CHECKPOINT_DIR=str(folder),
        APPOINTMENTS_CHECKPOINT_KEYS_DIR=str(keys),
        APPOINTMENTS_CHECKPOINT_EVERY_SECONDS="1",
    )
    try:
        await roster.start()
        # An event appended as the services append (chained), while the service runs.
        stream = f"officer:{uuid.uuid4()}"
        conn = await asyncpg.connect(own.database_url("roster"))
        try:
            prev = None
            for version in range(2):
                out = Outgoing(envelope(stream, version), "roster.events", stream)
                (done,) = await append_streams(conn, [StreamAppend(stream, version, prev, [out])])
                prev = done.hash
            version, event_id = await conn.fetchrow(
                "select version, event_id from events where stream_id = $1 order by version desc limit 1",
                stream,
            )
        finally:
            await conn.close()

        heads = await signed_heads(folder, keys, own, stream)
        assert heads[stream].version == version and heads[stream].event_id == str(event_id)  # type: ignore[attr-defined]

        verified = audit(own, folder, keys, "verify", "--database", "roster")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "every chain holds" in verified.stdout
        assert "No signed checkpoint yet" not in verified.stdout
        text = await scraped(roster, lambda t: metric(t, "checkpoint_broken_streams", database="roster") == 0)
        assert (metric(text, "checkpoint_chains_held_timestamp_seconds", database="roster") or 0) > 0

        # The owner cuts the signed event off: the chain left is well made, the checkpoint shows it.
        conn = await asyncpg.connect(own.database_url("roster"))
        try:
            async with conn.transaction():
                await conn.execute("alter table events disable trigger user")
                await conn.execute("delete from outbox where event_id = $1", event_id)
                await conn.execute("delete from events where event_id = $1", event_id)
                await conn.execute("alter table events enable trigger user")
        finally:
            await conn.close()
        # The running service finds it on its next walk, says so on /metrics, and signs nothing over it.
        await scraped(roster, lambda t: metric(t, "checkpoint_broken_streams", database="roster") == 1)
        roster.stop()
        after = await signed_heads(folder, keys, own, stream)
        assert after[stream] == heads[stream]
        broken = audit(own, folder, keys, "verify", "--database", "roster")
        assert broken.returncode == 1, broken.stdout + broken.stderr
        assert stream in broken.stdout and "gone" in broken.stdout
    finally:
        roster.stop()
        await delete_topics(test_settings.kafka_bootstrap, prefix)
        await drop_database(own.database_url("roster"))
