"""docker-compose.yml and the Dockerfile describe the contract's stack."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from services.common.config import PROJECT_ROOT, SERVICE_PORTS

APP_SERVICES = {
    "booking": "services.booking",
    "roster": "services.roster",
    "notifications": "services.notifications",
    "projections": "services.projections",
    "web": "web",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def published(service: dict[str, Any]) -> dict[int, int]:
    """Container port -> host port, from "[ip:]host:container" entries."""
    ports: dict[int, int] = {}
    for entry in service.get("ports", []):
        *_, host, container = str(entry).split(":")
        ports[int(container)] = int(host)
    return ports


def test_names_the_servers_and_every_service(compose: dict[str, Any]) -> None:
    assert {"kafka", "postgres", *APP_SERVICES} <= set(compose["services"])


def test_kafka_is_apache_kafka_4_in_kraft_mode(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    env = kafka["environment"]

    assert kafka["image"].startswith("apache/kafka:4.")
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    assert "KAFKA_ZOOKEEPER_CONNECT" not in env
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert published(kafka)[9092] == 9092


def test_postgres_is_published_on_the_contract_port(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]

    assert postgres["image"].startswith("postgres:15")
    assert published(postgres)[5432] == 5432


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_each_service_runs_its_module_on_its_contract_port(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    port = SERVICE_PORTS[name]

    assert service["command"] == ["python", "-m", APP_SERVICES[name]]
    assert published(service) == {port: port}
    assert f":{port}/health" in " ".join(service["healthcheck"]["test"])


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_each_service_is_pointed_at_the_servers(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    env = service["environment"]

    assert env["APPOINTMENTS_KAFKA_BOOTSTRAP"].startswith("kafka:")
    assert "@postgres:5432" in env["APPOINTMENTS_PG_URL"]
    assert env["APPOINTMENTS_TOKEN_SECRET"]
    assert env["APPOINTMENTS_HOST"] == "0.0.0.0"
    assert service["depends_on"]["topics"]["condition"] == "service_completed_successfully"


def test_booking_takes_its_worker_count_from_the_host_else_its_cores(compose: dict[str, Any]) -> None:
    env = compose["services"]["booking"]["environment"]

    # A key without a value: compose passes the host's value when set, else leaves it unset.
    assert env["APPOINTMENTS_BOOKING_WORKERS"] is None


def test_topics_are_created_once_the_broker_is_healthy(compose: dict[str, Any]) -> None:
    topics = compose["services"]["topics"]

    assert topics["command"] == ["appointments", "topics"]
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_the_county_and_roster_are_seeded_once_booking_and_roster_are_healthy(
    compose: dict[str, Any],
) -> None:
    seed = compose["services"]["seed"]

    assert seed["command"][:2] == ["appointments", "seed"]
    assert seed["restart"] == "no"
    assert {name: dep["condition"] for name, dep in seed["depends_on"].items()} == {
        "booking": "service_healthy",
        "roster": "service_healthy",
    }


def test_every_long_running_container_has_a_healthcheck(compose: dict[str, Any]) -> None:
    # One-shot containers (restart: "no") run a command and leave; the rest must say when they are up.
    long_running = {name for name, svc in compose["services"].items() if svc.get("restart") != "no"}
    assert {"topics", "seed"}.isdisjoint(long_running)

    assert all("healthcheck" in compose["services"][name] for name in long_running)


def test_the_image_installs_the_project_on_python_3_11_slim_with_what_it_reads_at_run_time() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()

    assert "FROM python:3.11-slim" in dockerfile
    # In place, so PROJECT_ROOT is /src and the code finds the seed and migrations beside it.
    assert "pip install -e ." in dockerfile
    # The county seed is read at start by web and notifications (services.common.reference).
    for folder in ("seed", "services", "schemas", "cli", "web"):
        assert f"COPY {folder} ./{folder}" in dockerfile, folder
    # GOV.UK Frontend from its npm package, where web/rendering.py is told to look.
    assert "npm ci" in dockerfile
    assert "COPY --from=frontend /web/node_modules/govuk-frontend /opt/govuk-frontend" in dockerfile
    assert "APPOINTMENTS_GOVUK_FRONTEND_DIR=/opt/govuk-frontend/dist/govuk" in dockerfile


def test_every_app_container_shares_one_token_key_pair_and_one_dead_letter_key(
    compose: dict[str, Any],
) -> None:
    keys_dirs, dead_letter_keys = set(), set()
    for name in APP_SERVICES:
        service = compose["services"][name]
        env = service["environment"]
        keys_dir = env["APPOINTMENTS_TOKEN_KEYS_DIR"]
        assert any(str(v).split(":")[1] == keys_dir for v in service.get("volumes", [])), name
        keys_dirs.add((keys_dir, tuple(v for v in service["volumes"] if str(v).endswith(keys_dir))))
        dead_letter_keys.add(env["APPOINTMENTS_DEADLETTER_KEY"])
    assert len(keys_dirs) == 1 and len(dead_letter_keys) == 1
    assert "tokens" in compose["volumes"]
