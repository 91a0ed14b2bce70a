"""docker-compose.yml's `cluster` profile: three KRaft nodes, replication 3, min ISR 2, given to all.

No Docker engine runs here, so the file is read the way Compose reads it: YAML (anchors and
merges), then variable interpolation (`${VAR}`, `${VAR:-default}`, `${VAR:+replacement}`, `$$`),
then the services of the active profiles. The first node's command is run by /bin/sh with its
final `exec` replaced by `env`, to see the settings it would hand the Kafka image.
"""

from __future__ import annotations

import copy
import re
import subprocess
from typing import Any

import pytest
import yaml

from services.common.config import PROJECT_ROOT

Compose = dict[str, Any]
NODES = ("kafka", "kafka-2", "kafka-3")
APP_SERVICES = ("booking", "roster", "notifications", "projections", "web", "topics", "seed")
KAFKA_RUN = "exec /etc/kafka/docker/run"
_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])((?:[^{}]|\{[^{}]*\})*))?\}")


def interpolate(text: str, environment: dict[str, str]) -> str:
    """One string as Compose interpolates it (the forms this file uses, nested defaults included)."""

    def value(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, word = match.group(1), match.group(2), match.group(3) or ""
        current = environment.get(name)
        given = current is not None and (current != "" or not (operator or "").startswith(":"))
        if operator in (":-", "-"):
            return current if given and current is not None else interpolate(word, environment)
        if operator in (":+", "+"):
            return interpolate(word, environment) if given else ""
        if operator in (":?", "?"):
            if not given:
                raise ValueError(f"{name}: {word}")
            return current or ""
        return current or ""

    return _VARIABLE.sub(value, text)


def _interpolated(node: Any, environment: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, environment)
    if isinstance(node, list):
        return [_interpolated(item, environment) for item in node]
    if isinstance(node, dict):
        return {key: _interpolated(item, environment) for key, item in node.items()}
    return node


def load(
    environment: dict[str, str], profiles: set[str] | None = None, raw: Compose | None = None
) -> Compose:
    """The project as Compose would run it: interpolated, with only the active profiles' services.

    ``profiles`` defaults to COMPOSE_PROFILES (how the file says to choose the cluster).
    """
    if raw is None:
        raw = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    project: Compose = _interpolated(copy.deepcopy(raw), environment)
    if profiles is None:
        profiles = {p for p in environment.get("COMPOSE_PROFILES", "").split(",") if p}
    project["services"] = {
        name: service
        for name, service in project["services"].items()
        if not service.get("profiles") or set(service["profiles"]) & profiles
    }
    return project


def kafka_settings(project: Compose, node: str) -> dict[str, str]:
    """The KAFKA_* (and CLUSTER_ID) variables the Kafka image of ``node`` starts with."""
    service = project["services"][node]
    environment = {key: "" if value is None else str(value) for key, value in service["environment"].items()}
    command = service.get("command")
    if command is None:
        return environment
    # The first node's shell command: run it, with the image's start replaced by printing env.
    assert command[:2] == ["/bin/sh", "-c"] and command[2].rstrip().endswith(KAFKA_RUN)
    script = command[2].replace(KAFKA_RUN, "exec env")
    printed = subprocess.run(
        ["/bin/sh", "-c", script],
        env={**environment, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    seen = dict(line.split("=", 1) for line in printed.splitlines() if "=" in line)
    return {key: value for key, value in seen.items() if key.startswith("KAFKA_") or key == "CLUSTER_ID"}


def _voters(settings: dict[str, str]) -> dict[int, str]:
    voters: dict[int, str] = {}
    for voter in settings["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(","):
        node_id, _, address = voter.partition("@")
        voters[int(node_id)] = address
    return voters


def _listener(settings: dict[str, str], name: str) -> str:
    (address,) = [
        a.split("://")[1] for a in settings["KAFKA_ADVERTISED_LISTENERS"].split(",") if a.startswith(name)
    ]
    return address


def check_cluster(project: Compose) -> None:
    """Raise AssertionError unless the project runs the three nodes as one replicated cluster."""
    assert set(NODES) <= set(project["services"]), "the cluster's nodes are not all running"
    settings = {node: kafka_settings(project, node) for node in NODES}
    ids = {node: int(s["KAFKA_NODE_ID"]) for node, s in settings.items()}
    assert sorted(ids.values()) == [1, 2, 3], ids
    voters = {node: _voters(s) for node, s in settings.items()}
    assert all(v == voters["kafka"] for v in voters.values()), voters
    assert voters["kafka"] == {ids[node]: f"{node}:9093" for node in NODES}
    for node, s in settings.items():
        assert set(s["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}, node
        assert s["CLUSTER_ID"] == settings["kafka"]["CLUSTER_ID"], node
        assert s.get("KAFKA_DEFAULT_REPLICATION_FACTOR") == "3", node
        assert s.get("KAFKA_MIN_INSYNC_REPLICAS") == "2", node
        assert s.get("KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE") == "false", node
        assert s.get("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR") == "3", node
        assert s.get("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR") == "3", node
        assert s.get("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR") == "2", node
        assert s.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE") == "false", node
        assert _listener(s, "INTERNAL") == f"{node}:19092", node
    # The host reaches each node on its own port: 9092, 9094, 9096 as `make run` lays them out.
    published = {node: project["services"][node]["ports"] for node in NODES}
    assert published == {
        "kafka": ["127.0.0.1:9092:9092"],
        "kafka-2": ["127.0.0.1:9094:9092"],
        "kafka-3": ["127.0.0.1:9096:9092"],
    }
    for node in NODES:
        external = _listener(settings[node], "EXTERNAL")
        assert published[node] == [f"{external}:9092"], node
    data = [
        v
        for node in NODES
        for v in project["services"][node]["volumes"]
        if v.endswith(":/var/lib/kafka/data")
    ]
    assert len(set(data)) == 3, "each node keeps its own log"
    every_node = {f"{node}:19092" for node in NODES}
    for name in APP_SERVICES:
        bootstrap = project["services"][name]["environment"]["APPOINTMENTS_KAFKA_BOOTSTRAP"]
        assert set(bootstrap.split(",")) == every_node, name
    topics = project["services"]["topics"]["depends_on"]
    assert all(topics[node]["condition"] == "service_healthy" for node in NODES)


CLUSTER = {"COMPOSE_PROFILES": "cluster"}


def test_the_cluster_profile_runs_three_kraft_nodes_replicated_and_given_to_every_service() -> None:
    project = load(CLUSTER)
    assert set(NODES) <= set(project["services"])
    check_cluster(project)


def test_without_the_profile_one_broker_runs_as_before() -> None:
    project = load({})
    assert "kafka-2" not in project["services"] and "kafka-3" not in project["services"]
    single = kafka_settings(project, "kafka")
    assert _voters(single) == {1: "kafka:9093"}
    assert single["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert single["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "1"
    assert "KAFKA_MIN_INSYNC_REPLICAS" not in single  # Kafka's default: 1
    assert single.get("KAFKA_HEAP_OPTS") is None
    for name in APP_SERVICES:
        assert project["services"][name]["environment"]["APPOINTMENTS_KAFKA_BOOTSTRAP"] == "kafka:19092"
    # The cluster's nodes are waited for only when their profile is on.
    depends = project["services"]["topics"]["depends_on"]
    assert depends["kafka-2"]["required"] is False and depends["kafka-3"]["required"] is False
    with pytest.raises(AssertionError, match="not all running"):
        check_cluster(project)


def test_the_profile_named_by_flag_alone_leaves_the_other_nodes_unable_to_form_a_cluster() -> None:
    # `--profile cluster` without COMPOSE_PROFILES: the first node stays a single broker, and the
    # others' ids are missing from their voters, which Kafka refuses at start, rather than two
    # nodes electing each other into a second cluster.
    project = load({}, profiles={"cluster"})
    for node, node_id in (("kafka-2", 2), ("kafka-3", 3)):
        assert node_id not in _voters(kafka_settings(project, node))
    assert _voters(kafka_settings(project, "kafka")) == {1: "kafka:9093"}


def test_cluster_is_the_only_profile() -> None:
    # The file reads COMPOSE_PROFILES as "the cluster is on": another profile would break that.
    raw = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    used = {p for service in raw["services"].values() for p in service.get("profiles", [])}
    assert used == {"cluster"}


def _broken(change: str) -> Compose:
    raw: Compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    services = raw["services"]
    if change == "two nodes with one id":
        services["kafka-3"]["environment"]["KAFKA_NODE_ID"] = 2
    elif change == "a service given one node":
        services["booking"]["environment"]["APPOINTMENTS_KAFKA_BOOTSTRAP"] = "kafka:19092"
    elif change == "min ISR 1 on a node":
        services["kafka-2"]["environment"]["KAFKA_MIN_INSYNC_REPLICAS"] = 1
    elif change == "the first node's command drops min ISR":
        script = services["kafka"]["command"][2]
        services["kafka"]["command"][2] = script.replace("export KAFKA_MIN_INSYNC_REPLICAS=2\n", "")
    elif change == "another node's voters differ":
        services["kafka-3"]["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"] = (
            "1@kafka:9093,2@kafka-2:9093,3@kafka-2:9093"
        )
    elif change == "two nodes on one host port":
        services["kafka-3"]["ports"] = ["127.0.0.1:9094:9092"]
    return raw


@pytest.mark.parametrize(
    "change",
    [
        "two nodes with one id",
        "a service given one node",
        "min ISR 1 on a node",
        "the first node's command drops min ISR",
        "another node's voters differ",
        "two nodes on one host port",
    ],
)
def test_a_broken_cluster_is_refused(change: str) -> None:
    with pytest.raises(AssertionError):
        check_cluster(load(CLUSTER, raw=_broken(change)))


@pytest.mark.parametrize(
    ("text", "environment", "expected"),
    [
        ("a${X:+,b}", {}, "a"),
        ("a${X:+,b}", {"X": ""}, "a"),
        ("a${X:+,b}", {"X": "1"}, "a,b"),
        ("${X:-d}", {"X": ""}, "d"),
        ("${X-d}", {"X": ""}, ""),
        ("${X:-${Y:-z}}", {}, "z"),
        ("$$X", {"X": "1"}, "$X"),
    ],
)
def test_interpolation_reads_as_compose_does(text: str, environment: dict[str, str], expected: str) -> None:
    assert interpolate(text, environment) == expected
