"""deploy/k8s: every manifest valid against Kubernetes' schemas and the operators' CRDs, offline.

Core kinds are checked by kubernetes-validate (strict: an unknown field is an error, as
`kubectl apply`'s server-side field validation makes it); Strimzi's custom resources by the
openAPIV3Schema of the CRDs vendored in deploy/k8s/crds (their source in SOURCES.md), made
strict the same way; CloudNativePG's Cluster by the hand-written subset there (its CRD could not
be fetched). Then what the schemas cannot see: the topics match schemas/topics.py, the Kafka
cluster is replicated, every service has probes, resources, a Service and a budget, no more
consumer instances than partitions, and every setting of the services is given or kept on purpose.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from schemas.topics import TOPICS, TopicSpec, topic_configs
from services.booking.app.waitlist.forms import WaitlistSettings
from services.common.config import SERVICE_DATABASES, SERVICE_PORTS, Settings
from services.notifications.settings import NotifySettings
from web.oidc import OidcSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
CRDS = K8S / "crds"
# The newest Kubernetes the validator knows; the manifests use only GA APIs (apps/v1, batch/v1,
# policy/v1), served unchanged since 1.21.
KUBERNETES = "1.37"
# The operators' API groups, validated against their CRDs rather than Kubernetes' own schemas.
STRIMZI = "kafka.strimzi.io/v1"
CNPG = "postgresql.cnpg.io/v1"
SERVICES = ("booking", "roster", "notifications", "projections", "web")
# Kustomization fields the in-test renderer below understands; another one fails the test
# rather than being silently ignored.
KUSTOMIZE_FIELDS = {"apiVersion", "kind", "namespace", "resources", "configMapGenerator", "images", "labels"}
CLUSTER_SCOPED = {"Namespace"}
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

Manifest = dict[str, Any]


# --- rendering: what `kubectl apply -k deploy/k8s` applies, without kustomize's name hashes -------


def _env_file(path: Path) -> dict[str, str]:
    """A kustomize env file: KEY=VALUE lines; blank lines and # comments skipped."""
    pairs: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"{path.name}: not KEY=VALUE: {line!r}"
            pairs[key] = value
    return pairs


def _generated_config_map(generator: dict[str, Any]) -> Manifest:
    data: dict[str, str] = {}
    for env in generator.get("envs", []):
        data |= _env_file(K8S / env)
    for file in generator.get("files", []):
        data[Path(file).name] = (K8S / file).read_text()
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}, "data": data}


def _containers(doc: Manifest) -> list[dict[str, Any]]:
    if doc["kind"] in ("Deployment", "Job"):
        spec = doc["spec"]["template"]["spec"]
        return list(spec.get("initContainers", [])) + list(spec["containers"])
    return []


def render(kustomization: Path = K8S / "kustomization.yaml") -> list[Manifest]:
    """The kustomization's resources and generated ConfigMaps, with its namespace, labels and images."""
    spec = yaml.safe_load(kustomization.read_text())
    unknown = set(spec) - KUSTOMIZE_FIELDS
    assert not unknown, f"kustomization.yaml uses {sorted(unknown)}, which this test does not render"
    docs: list[Manifest] = []
    for resource in spec["resources"]:
        docs += [doc for doc in yaml.safe_load_all((K8S / resource).read_text()) if doc]
    docs += [_generated_config_map(generator) for generator in spec.get("configMapGenerator", [])]
    images = {image["name"]: image for image in spec.get("images", [])}
    for doc in docs:
        if doc["kind"] not in CLUSTER_SCOPED:
            doc["metadata"]["namespace"] = spec["namespace"]
        for label in spec.get("labels", []):
            doc["metadata"].setdefault("labels", {}).update(label["pairs"])
        for container in _containers(doc):
            image = images.get(container["image"])
            if image is not None:
                container["image"] = f"{image['newName']}:{image['newTag']}"
    return docs


@cache
def _rendered() -> tuple[Manifest, ...]:
    return tuple(render())


@pytest.fixture
def docs() -> list[Manifest]:
    """A fresh copy of every rendered manifest (tests may change theirs)."""
    return copy.deepcopy(list(_rendered()))


def one(docs: list[Manifest], kind: str, name: str) -> Manifest:
    """The manifest of that kind and name."""
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} {kind} named {name}"
    return found[0]


def of_kind(docs: list[Manifest], kind: str) -> list[Manifest]:
    """Every manifest of that kind."""
    return [d for d in docs if d["kind"] == kind]


# --- validation ----------------------------------------------------------------------------------


def _strict(schema: Any) -> Any:
    """A CRD schema that refuses fields it does not name, as the API server's strict validation does.

    Only object schemas with a type and properties are closed: Strimzi's oneOf alternatives name
    properties without a type, and must stay open.
    """
    if isinstance(schema, dict):
        schema = {key: _strict(value) for key, value in schema.items()}
        if (
            schema.get("type") == "object"
            and "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


@cache
def crd_schemas() -> dict[tuple[str, str], Any]:
    """(apiVersion, kind) -> the strict openAPIV3Schema of each vendored CRD's served version."""
    schemas: dict[tuple[str, str], Any] = {}
    for path in sorted(CRDS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        assert crd["kind"] == "CustomResourceDefinition", path.name
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version["served"]:
                schema = _strict(version["schema"]["openAPIV3Schema"])
                schemas[(f"{group}/{version['name']}", kind)] = schema
    if (CNPG, "Cluster") not in schemas:
        subset = json.loads((CRDS / "cnpg-cluster-subset.schema.json").read_text())
        schemas[(CNPG, "Cluster")] = subset
    return schemas


@pytest.fixture(scope="module", autouse=True)
def _schemas_read_once() -> Iterator[None]:
    """kubernetes-validate reads its 1.8 MB definitions file on every call; it cannot change in a run."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            kubernetes_validate.utils, "schema_contents", cache(kubernetes_validate.utils.schema_contents)
        )
        yield


def _validate_metadata(doc: Manifest) -> None:
    # A CRD's schema leaves metadata to the API server: check it as Kubernetes' own ObjectMeta.
    holder = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": doc["metadata"]}
    kubernetes_validate.validate(holder, KUBERNETES, strict=True)


def validate(doc: Manifest) -> None:
    """Raise unless ``doc`` is valid: Kubernetes' schema for core kinds, the CRD's for the operators'."""
    name = doc.get("metadata", {}).get("name", "")
    if not DNS_SUBDOMAIN.match(name) or len(name) > 253:
        raise ValueError(f"{doc.get('kind')} name {name!r} is not a DNS subdomain")
    schema = crd_schemas().get((doc["apiVersion"], doc["kind"]))
    if schema is None:
        if doc["apiVersion"] in (STRIMZI, CNPG):
            raise LookupError(f"no vendored schema for {doc['apiVersion']} {doc['kind']}")
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)
        return
    jsonschema.Draft7Validator(schema).validate(doc)
    _validate_metadata(doc)


def test_kustomization_lists_every_manifest_in_the_folder() -> None:
    spec = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    on_disk = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(spec["resources"]) == on_disk


@pytest.mark.parametrize(
    "kind", ["Namespace", "ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "Job"]
)
def test_core_kinds_are_valid_against_kubernetes_schemas(docs: list[Manifest], kind: str) -> None:
    found = of_kind(docs, kind)
    assert found, f"no {kind}"
    for doc in found:
        assert doc["apiVersion"] not in (STRIMZI, CNPG)
        validate(doc)


@pytest.mark.parametrize("kind", ["Kafka", "KafkaNodePool", "KafkaTopic", "Cluster"])
def test_operator_resources_are_valid_against_their_crds(docs: list[Manifest], kind: str) -> None:
    found = of_kind(docs, kind)
    assert found, f"no {kind}"
    for doc in found:
        assert (doc["apiVersion"], kind) in crd_schemas()
        validate(doc)


def test_every_manifest_has_a_schema(docs: list[Manifest]) -> None:
    # kubernetes-validate raises SchemaNotFoundError for a kind it does not know: none may slip by.
    for doc in docs:
        validate(doc)


def _rule_paths(schema: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Where a CRD schema holds CEL rules (x-kubernetes-validations): property names, "[]" for items."""
    if not isinstance(schema, dict):
        return
    if schema.get("x-kubernetes-validations"):
        yield path
    for name, child in schema.get("properties", {}).items():
        yield from _rule_paths(child, (*path, name))
    if isinstance(schema.get("items"), dict):
        yield from _rule_paths(schema["items"], (*path, "[]"))
    for alternative in schema.get("oneOf", []) + schema.get("anyOf", []) + schema.get("allOf", []):
        yield from _rule_paths(alternative, path)


def _present(node: Any, path: tuple[str, ...]) -> bool:
    if not path:
        return True
    head, rest = path[0], path[1:]
    if head == "[]":
        return isinstance(node, list) and any(_present(item, rest) for item in node)
    return isinstance(node, dict) and head in node and _present(node[head], rest)


def test_no_cel_rule_of_the_crds_applies_to_what_the_manifests_set(docs: list[Manifest]) -> None:
    # The test cannot evaluate CEL (x-kubernetes-validations): it shows none of the rules'
    # objects is set, so the API server has none to apply either.
    rules_seen = 0
    for doc in docs:
        schema = crd_schemas().get((doc["apiVersion"], doc["kind"]))
        for path in _rule_paths(schema):
            rules_seen += 1
            assert not _present(doc, path), f"{doc['kind']} {doc['metadata']['name']} sets {'.'.join(path)}"
    assert rules_seen > 0, "the Kafka CRD has CEL rules (rack, metrics): the walk must find them"


def _set(path: str, value: Any) -> Callable[[Manifest], None]:
    def change(doc: Manifest) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is _DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


_DELETE = object()
CONTAINER = "spec.template.spec.containers.0"

# A broken copy of a real manifest each, in memory: every one must be refused.
BREAKAGES: list[tuple[str, str, str, Callable[[Manifest], None], str]] = [
    (
        "Namespace",
        "station-appointments",
        "labels as a list",
        _set("metadata.labels", ["a"]),
        "is not of type",
    ),
    ("Deployment", "booking", "replicas as words", _set("spec.replicas", "three"), "'three' is not of type"),
    (
        "Deployment",
        "booking",
        "misspelt field",
        _set(f"{CONTAINER}.imagePullPolcy", "Always"),
        "'imagePullPolcy' was unexpected",
    ),
    (
        "Deployment",
        "projections",
        "no containers",
        _set("spec.template.spec.containers", _DELETE),
        "'containers' is a required property",
    ),
    (
        "Deployment",
        "web",
        "probe port as a list",
        _set(f"{CONTAINER}.readinessProbe.httpGet.port", [8000]),
        "is not valid under any",
    ),
    (
        "Service",
        "roster",
        "port as text",
        _set("spec.ports.0.port", "eight thousand"),
        "'eight thousand' is not of type",
    ),
    (
        "PodDisruptionBudget",
        "booking",
        "unknown field",
        _set("spec.maxUnavailible", 1),
        "'maxUnavailible' was unexpected",
    ),
    (
        "Job",
        "appointments-migrate",
        "no template",
        _set("spec.template", _DELETE),
        "'template' is a required property",
    ),
    (
        "Kafka",
        "appointments",
        "listener without tls",
        _set("spec.kafka.listeners.0.tls", _DELETE),
        "'tls' is a required property",
    ),
    ("Kafka", "appointments", "misspelt field", _set("spec.kafka.listener", []), "'listener' was unexpected"),
    (
        "KafkaNodePool",
        "brokers",
        "a ZooKeeper role",
        _set("spec.roles.0", "zookeeper"),
        "'zookeeper' is not one of",
    ),
    (
        "KafkaNodePool",
        "brokers",
        "no storage",
        _set("spec.storage", _DELETE),
        "'storage' is a required property",
    ),
    (
        "KafkaTopic",
        "booking.events",
        "partitions as words",
        _set("spec.partitions", "six"),
        "'six' is not of type",
    ),
    ("KafkaTopic", "deadletter", "misspelt field", _set("spec.partition", 1), "'partition' was unexpected"),
    ("Cluster", "appointments-pg", "no instances", _set("spec.instances", 0), "less than the minimum"),
    ("Cluster", "appointments-pg", "misspelt field", _set("spec.instance", 3), "'instance' was unexpected"),
    (
        "ConfigMap",
        "appointments-config",
        "a value not text",
        _set("data.APPOINTMENTS_LOG_JSON", True),
        "True is not of type",
    ),
    ("Deployment", "roster", "a name with capitals", _set("metadata.name", "Roster"), "not a DNS subdomain"),
]


@pytest.mark.parametrize(
    ("kind", "name", "why", "change", "reason"), BREAKAGES, ids=[b[2] for b in BREAKAGES]
)
def test_a_broken_manifest_is_refused(
    docs: list[Manifest], kind: str, name: str, why: str, change: Callable[[Manifest], None], reason: str
) -> None:
    doc = one(docs, kind, name)
    validate(doc)  # the real one passes
    change(doc)
    with pytest.raises((jsonschema.ValidationError, ValueError)) as refused:
        validate(doc)
    assert reason in str(refused.value), why


# --- Kafka ---------------------------------------------------------------------------------------


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_topics", K8S / "generate_topics.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_topics_yaml_is_what_generate_topics_renders_from_schemas() -> None:
    rendered: str = _generator().render()
    assert (K8S / "topics.yaml").read_text() == rendered, (
        "deploy/k8s/topics.yaml is stale: run .venv/bin/python deploy/k8s/generate_topics.py"
    )


def _personal_retention_ms() -> int:
    hours = float(_env_file(K8S / "config.env")["APPOINTMENTS_PERSONAL_TOPIC_RETENTION_HOURS"])
    return int(hours * 3600 * 1000)


def _topic(docs: list[Manifest], spec: TopicSpec) -> Manifest:
    found = [t for t in of_kind(docs, "KafkaTopic") if t["spec"]["topicName"] == spec.name]
    assert len(found) == 1, spec.name
    return found[0]


def test_every_contract_topic_has_its_partitions_replicas_and_retention(docs: list[Manifest]) -> None:
    assert len(of_kind(docs, "KafkaTopic")) == len(TOPICS)
    for spec in TOPICS:
        topic = _topic(docs, spec)
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "appointments"
        assert topic["spec"]["partitions"] == spec.partitions
        assert topic["spec"]["replicas"] == 3
        config = {key: str(value) for key, value in topic["spec"]["config"].items()}
        # The deployment's own personal-data retention, not only the module's default.
        assert config == topic_configs(spec, _personal_retention_ms()) | {"min.insync.replicas": "2"}


def test_the_kafka_cluster_is_replicated_and_never_elects_an_unclean_leader(docs: list[Manifest]) -> None:
    kafka = one(docs, "Kafka", "appointments")
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert config["unclean.leader.election.enable"] is False
    assert config["offsets.topic.replication.factor"] == 3
    assert config["transaction.state.log.replication.factor"] == 3
    assert config["transaction.state.log.min.isr"] == 2
    assert config["auto.create.topics.enable"] is False
    assert "topicOperator" in kafka["spec"]["entityOperator"]
    pools = [
        p
        for p in of_kind(docs, "KafkaNodePool")
        if p["metadata"]["labels"]["strimzi.io/cluster"] == "appointments"
    ]
    brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
    controllers = sum(p["spec"]["replicas"] for p in pools if "controller" in p["spec"]["roles"])
    assert brokers == 3
    assert controllers >= 3 and controllers % 2 == 1, "a KRaft quorum needs an odd majority"
    assert all(t["spec"]["replicas"] <= brokers for t in of_kind(docs, "KafkaTopic"))


def test_postgresql_runs_three_instances_and_the_owner_may_create_databases_and_roles(
    docs: list[Manifest],
) -> None:
    cluster = one(docs, "Cluster", "appointments-pg")
    assert cluster["spec"]["instances"] == 3
    (owner,) = [r for r in cluster["spec"]["managed"]["roles"] if r["name"] == "appointments"]
    assert owner["login"] and owner["createdb"] and owner["createrole"]
    assert not owner.get("superuser", False)
    assert owner["passwordSecret"]["name"] == "appointments-pg-owner"


# --- the services --------------------------------------------------------------------------------


def _container(doc: Manifest) -> dict[str, Any]:
    (container,) = doc["spec"]["template"]["spec"]["containers"]
    return dict(container)


def _consumed_topics(service: str) -> list[str]:
    if service == "web":
        return []
    module = importlib.import_module(f"services.{service}.main")
    return [consumer.topic for consumer in module.CONSUMERS]


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_is_a_deployment_with_probes_resources_a_service_and_a_budget(
    docs: list[Manifest], service: str
) -> None:
    deployment = one(docs, "Deployment", service)
    container = _container(deployment)
    assert container["command"] == ["python", "-m", f"services.{service}" if service != "web" else "web"]
    assert importlib.util.find_spec(container["command"][-1]) is not None
    (port,) = container["ports"]
    assert port["containerPort"] == SERVICE_PORTS[service]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": port["name"]}, probe
    # /health is 503 while Kafka or PostgreSQL is down: restarting every pod for an outage of
    # theirs would only add a restart storm, so liveness gives up only after minutes.
    live = container["livenessProbe"]
    assert live["periodSeconds"] * live["failureThreshold"] >= 60
    resources = container["resources"]
    for kind in ("cpu", "memory"):
        assert kind in resources["requests"] and kind in resources["limits"], kind
    assert _bytes(resources["limits"]["memory"]) >= _bytes(resources["requests"]["memory"])
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    svc = one(docs, "Service", service)
    assert svc["spec"]["selector"].items() <= labels.items()
    assert [p["port"] for p in svc["spec"]["ports"]] == [SERVICE_PORTS[service]]
    budget = one(docs, "PodDisruptionBudget", service)
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert budget["spec"]["maxUnavailable"] < deployment["spec"]["replicas"]


def _bytes(quantity: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    return int(quantity[:-2]) * units[quantity[-2:]] if quantity[-2:] in units else int(quantity)


def test_replicas_run_several_instances_and_no_more_consumers_than_partitions(docs: list[Manifest]) -> None:
    replicas = {s: one(docs, "Deployment", s)["spec"]["replicas"] for s in SERVICES}
    assert replicas["booking"] >= 2 and replicas["projections"] >= 2 and replicas["notifications"] >= 2
    assert replicas["roster"] == 2 and replicas["web"] == 2
    partitions = {spec.name: spec.partitions for spec in TOPICS}
    for service in SERVICES:
        topics = _consumed_topics(service)
        # One consumer group per consumer: an instance past a topic's partition count gets none
        # of that topic's partitions, so it would only wait to take over.
        if topics:
            assert replicas[service] <= min(partitions[t] for t in topics), service


def _env_names(doc: Manifest) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for container in _containers(doc) for e in container.get("env", [])}


def _secret_key(entry: dict[str, Any]) -> tuple[str, str]:
    ref = entry["valueFrom"]["secretKeyRef"]
    return ref["name"], ref["key"]


@pytest.mark.parametrize("service", [s for s in SERVICES if s in SERVICE_DATABASES])
def test_each_service_gets_its_own_database_password_and_the_owner_url_from_secrets(
    docs: list[Manifest], service: str
) -> None:
    env = _env_names(one(docs, "Deployment", service))
    assert _secret_key(env[f"APPOINTMENTS_PG_PASSWORD_{service.upper()}"]) == (
        "appointments-secrets",
        f"pg-password-{service}",
    )
    # Least privilege between services: no other service's password.
    others = {f"APPOINTMENTS_PG_PASSWORD_{s.upper()}" for s in SERVICE_DATABASES if s != service}
    assert not others & env.keys()
    assert _secret_key(env["PG_OWNER_PASSWORD"]) == ("appointments-pg-owner", "password")
    names = list(env)
    # $(PG_OWNER_PASSWORD) is expanded only from a variable defined before it.
    assert names.index("PG_OWNER_PASSWORD") < names.index("APPOINTMENTS_PG_URL")
    assert env["APPOINTMENTS_PG_URL"]["value"] == (
        "postgresql://appointments:$(PG_OWNER_PASSWORD)@appointments-pg-rw:5432"
    )
    assert _secret_key(env["APPOINTMENTS_DEADLETTER_KEY"]) == ("appointments-secrets", "deadletter-key")


def test_the_migration_job_runs_migrate_py_as_the_owner_with_every_password(docs: list[Manifest]) -> None:
    job = one(docs, "Job", "appointments-migrate")
    container = _container(job)
    assert container["command"] == ["python", "/opt/migrate/migrate.py"]
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/opt/migrate"]
    (volume,) = [v for v in job["spec"]["template"]["spec"]["volumes"] if v["name"] == mount["name"]]
    program = one(docs, "ConfigMap", volume["configMap"]["name"])
    assert program["data"]["migrate.py"] == (K8S / "migrate.py").read_text()
    env = _env_names(job)
    for service in SERVICE_DATABASES:
        assert _secret_key(env[f"APPOINTMENTS_PG_PASSWORD_{service.upper()}"])[1] == f"pg-password-{service}"
    assert len([d for d in docs if d["kind"] == "Job"]) == 1


def test_migrate_py_migrates_every_service_database_with_its_own_folders() -> None:
    spec = importlib.util.spec_from_file_location("k8s_migrate", K8S / "migrate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for service in SERVICE_DATABASES:
        folders: list[Path] = module.migrations_of(service)
        assert all(folder.is_dir() and any(folder.glob("*.sql")) for folder in folders), service
    # Every service that grants itself read access to the key store's keys at start is granted here too.
    readers = {
        service
        for service in SERVICE_DATABASES
        if (ROOT / "services" / service / "adapters" / "keys.py").is_file()
        and hasattr(importlib.import_module(f"services.{service}.adapters.keys"), "grant_key_reading")
    }
    assert set(module.KEY_READERS) == readers


def test_every_image_is_the_projects_run_as_its_dockerfile_user(docs: list[Manifest]) -> None:
    spec = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    (image,) = spec["images"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    uid = int(re.search(r"--uid (\d+)", dockerfile).group(1))  # type: ignore[union-attr]
    workloads = of_kind(docs, "Deployment") + of_kind(docs, "Job")
    for doc in workloads:
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsUser"] == uid
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in _containers(doc):
            assert container["image"] == f"{image['newName']}:{image['newTag']}"
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            # The image's state folder (Dockerfile's APPOINTMENTS_STATE_DIR) must stay writable.
            assert "/var/lib/appointments" in mounts


# --- settings ------------------------------------------------------------------------------------

# Settings left at their defaults on purpose, and why; every other one is given.
KEPT_DEFAULTS = {
    "APPOINTMENTS_KAFKA_BROKERS": "how many nodes `appointments up` runs locally; Strimzi runs these",
    "APPOINTMENTS_PG_PASSWORD_BOOKING": "each service's own, from the Secret (checked per service)",
    "APPOINTMENTS_PG_PASSWORD_ROSTER": "as above",
    "APPOINTMENTS_PG_PASSWORD_NOTIFICATIONS": "as above",
    "APPOINTMENTS_PG_PASSWORD_PROJECTIONS": "as above",
    "APPOINTMENTS_DB_SUFFIX": "for tests beside a live stack only",
    "APPOINTMENTS_TOPIC_PREFIX": "for tests beside a live stack only: production uses the contract's names",
    "APPOINTMENTS_TOKEN_KEYS_DIR": "the local key pair; production checks the identity provider's JWKS",
    "APPOINTMENTS_RELAY_IN_WORKERS": "default: booking's supervisor runs it when it has several workers",
    "APPOINTMENTS_NOTIFY_SMS_SENDER_ID": "optional: Notify's default sender unless the force has one",
    "APPOINTMENTS_WEB_OIDC_DISCOVERY_URL": "default: the issuer's /.well-known/openid-configuration",
    "APPOINTMENTS_WEB_OIDC_ROLE_MAP": "contract role names map to themselves; config.env shows how",
    "APPOINTMENTS_WEB_OIDC_CLIENT_SECRET": "the pages' own, from the Secret (checked for web)",
}
# Read from the environment outside the settings classes (web/backends.py, web/sign_in.py).
OTHER_VARIABLES = {
    "APPOINTMENTS_BOOKING_URL",
    "APPOINTMENTS_ROSTER_URL",
    "APPOINTMENTS_PROJECTIONS_URL",
    "APPOINTMENTS_WEB_SESSION_KEY",
}
SETTINGS_CLASSES: tuple[type[Any], ...] = (Settings, NotifySettings, WaitlistSettings, OidcSettings)


def _setting_names() -> set[str]:
    names: set[str] = set()
    for cls in SETTINGS_CLASSES:
        prefix = cls.model_config["env_prefix"]
        names |= {f"{prefix}{field}".upper() for field in cls.model_fields}
    return names


def _given(docs: list[Manifest]) -> set[str]:
    given = set(one(docs, "ConfigMap", "appointments-config")["data"])
    for doc in of_kind(docs, "Deployment"):
        given |= set(_env_names(doc))
    return given


def test_every_setting_is_given_or_kept_at_its_default_on_purpose(docs: list[Manifest]) -> None:
    missing = _setting_names() - _given(docs) - KEPT_DEFAULTS.keys()
    assert not missing, f"settings neither given nor in KEPT_DEFAULTS: {sorted(missing)}"


def test_no_variable_given_is_unknown_to_the_services(docs: list[Manifest]) -> None:
    known = _setting_names() | OTHER_VARIABLES
    given = {name for name in _given(docs) if name.startswith("APPOINTMENTS_")}
    assert not given - known, f"misspelt or unknown: {sorted(given - known)}"


def _environment_of(docs: list[Manifest], service: str) -> dict[str, str]:
    """The variables a service's pod sees, with each secret as a stand-in value."""
    environment = dict(one(docs, "ConfigMap", "appointments-config")["data"])
    for name, entry in _env_names(one(docs, "Deployment", service)).items():
        if "value" in entry:
            environment[name] = entry["value"].replace("$(PG_OWNER_PASSWORD)", "stand-in")
        else:
            environment[name] = f"stand-in-{_secret_key(entry)[1]}"
    return environment


@pytest.mark.parametrize("service", SERVICES)
def test_the_settings_given_are_read_by_the_services_in_production(
    docs: list[Manifest], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in _environment_of(docs, service).items():
        monkeypatch.setenv(name, value)
    cfg = Settings()
    assert cfg.is_production
    assert cfg.token_jwks_url.startswith("https://")
    assert cfg.kafka_bootstrap == "appointments-kafka-bootstrap:9092"
    if service in SERVICE_DATABASES:
        # Production refuses to start without these; they come from the environment, not a file.
        assert cfg.login_password(service) == f"stand-in-pg-password-{service}"
        assert cfg.deadletter_secret() == "stand-in-deadletter-key"
    NotifySettings()
    WaitlistSettings()
    if service == "notifications":
        assert NotifySettings().booking_token is not None
    if service == "web":
        # In production nobody has a local password: people sign in through the provider.
        provider = OidcSettings()
        assert provider.enabled and provider.client_secret == "stand-in-web-oidc-client-secret"
        assert provider.role_claim == cfg.token_role_claim


def test_each_value_given_is_one_the_settings_accept(monkeypatch: pytest.MonkeyPatch) -> None:
    # The same reading must refuse a bad value, or the test above would prove nothing.
    monkeypatch.setenv("APPOINTMENTS_TOKEN_ALGORITHMS", '["HS256"]')
    with pytest.raises(ValueError, match="token algorithms"):
        Settings()


def iter_secret_keys(docs: list[Manifest]) -> Iterator[tuple[str, str]]:
    """Every (Secret, key) a workload reads."""
    for doc in of_kind(docs, "Deployment") + of_kind(docs, "Job"):
        for entry in _env_names(doc).values():
            if "valueFrom" in entry:
                yield _secret_key(entry)


def test_the_readme_creates_every_secret_key_the_workloads_read(docs: list[Manifest]) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Running on Kubernetes", 1)[1].split("\n## ", 1)[0]
    for secret, key in set(iter_secret_keys(docs)):
        assert secret in section and f"{key}=" in section, (secret, key)
