"""deploy/k8s/: every manifest is valid Kubernetes 1.31 (kubernetes-validate's shipped schemas, strict, offline); the
deploy fixes hold (the processor URL, the search-attribute Job run against a real Temporal server, the sandbox's bind
in the container); configuration is by environment only; pods are locked down, probed, drained, scaled and fenced."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes_validate import utils as kubernetes_validate  # type: ignore[import-untyped]
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from tests.deploy.manifests import (
    DEPLOY,
    compose,
    container,
    container_environment,
    dockerfile_environment,
    of_kind,
    pod_templates,
    resource,
    resources,
    selects,
)
from tests.support.stack import free_port
from workers.binaries import find_binary
from workers.settings import Environment, Settings
from workers.shutdown import STOP_DEADLINE_SECONDS
from workers.worker import ACTIVITY_GRACE, SHUTDOWN_SECONDS
from workflows.claim_contract import SEARCH_ATTRIBUTES

#: The Kubernetes version the manifests are checked against (kubernetes-validate ships its schemas).
KUBERNETES_VERSION = "1.31"
#: Stand-ins for the `claimflow` Secret's keys (deploy/README.md lists them).
SECRET = {
    "CLAIMFLOW_DATABASE_URL": "postgresql://claimflow_app@db.internal:5432/claimflow?sslmode=verify-full",
    "CLAIMFLOW_JWT_SECRET": "j" * 40,
    "CLAIMFLOW_WEBHOOK_SECRET": "w" * 40,
}


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the validator tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.mark.usefixtures("no_network")
def test_every_manifest_is_valid_kubernetes_offline() -> None:
    checked = []
    for path, doc in resources():
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        checked.append(f"{path.name}:{doc['kind']}/{doc['metadata']['name']}")
    kinds = {doc["kind"] for _, doc in resources()}
    assert {"ConfigMap", "Job", "Deployment", "Service"} <= kinds
    assert {"HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"} <= kinds
    assert len(checked) == len(set(checked))


def test_the_validator_refuses_a_misspelt_field() -> None:
    worker = resource("Deployment", "claimflow-worker")
    broken = {**worker, "spec": {**worker["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


# --- configuration by environment ---------------------------------------------------------------------------------


def _claimflow_variables() -> set[str]:
    """Every CLAIMFLOW_* variable the manifests, the image and the compose file set."""
    names = {name for name in resource("ConfigMap", "claimflow")["data"] if name.startswith("CLAIMFLOW_")}
    for _, template in pod_templates():
        for spec in template["spec"]["containers"]:
            names |= {v["name"] for v in spec.get("env", []) if v["name"].startswith("CLAIMFLOW_")}
    names |= {name for name in dockerfile_environment() if name.startswith("CLAIMFLOW_")}
    for service in compose()["services"].values():
        names |= {name for name in service.get("environment", {}) if name.startswith("CLAIMFLOW_")}
    return names


def test_every_claimflow_variable_deploy_sets_is_a_setting() -> None:
    names = _claimflow_variables()
    assert len(names) > 20
    unknown = {name for name in names if name.removeprefix("CLAIMFLOW_").lower() not in Settings.model_fields}
    assert not unknown, f"deploy/ sets variables no setting reads: {sorted(unknown)}"


@pytest.mark.parametrize("name", ["claimflow-worker", "claimflow-api"])
def test_pod_environment_is_a_valid_production_configuration_with_the_processor_url(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ConfigMap, the container's env and the Secret's keys alone make production settings that pass every
    check (https processor and public URL, TLS database, strong secrets); the processor URL is the ConfigMap's."""
    component = name.removeprefix("claimflow-")
    environment = container_environment(resource("Deployment", name)["spec"]["template"], component, SECRET)
    for variable in list(os.environ):
        if variable.startswith("CLAIMFLOW_"):
            monkeypatch.delenv(variable)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    settings = Settings(_env_file=None)
    assert settings.environment is Environment.PRODUCTION
    assert settings.processor_url == resource("ConfigMap", "claimflow")["data"]["CLAIMFLOW_PROCESSOR_URL"]
    assert settings.processor_url.startswith("https://")
    assert settings.temporal_address == "temporal-frontend.temporal.svc:7233"  # Temporal's Helm chart, release temporal


def test_the_image_copies_the_code_and_no_settings_file() -> None:
    """Settings read CLAIMFLOW_* variables and a `.env` in the working folder: the image copies none."""
    sources = [
        source
        for line in (DEPLOY / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY")
        for source in line.split()[1:-1]
    ]
    assert "pyproject.toml" in sources and "workers" in sources
    assert not [source for source in sources if source in {".", ".env", ".claimflow"} or source.endswith(".env")]


# --- the search attributes -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def bare_temporal() -> AsyncIterator[WorkflowEnvironment]:
    """A Temporal dev server with none of claimflow's search attributes registered."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(find_binary("temporal")), dev_server_log_level="error"
    )
    yield env
    await env.shutdown()


def _run_container_command(spec: dict[str, Any], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    path = f"{find_binary('temporal').parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        [*spec["command"], *spec.get("args", [])],
        env={"PATH": path, **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def _custom_search_attributes(env: WorkflowEnvironment) -> dict[str, int]:
    response = await env.client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=env.client.namespace)
    )
    return dict(response.custom_attributes)


async def test_search_attribute_job_registers_every_claim_search_attribute_as_keyword_and_runs_again(
    bare_temporal: WorkflowEnvironment, tmp_path: Path
) -> None:
    """The Job's own command, run with the Job's environment pointed at a real server, registers exactly the
    attributes the workflow upserts; run a second time (the next `kubectl apply`) it succeeds and changes nothing."""
    template = resource("Job", "claimflow-search-attributes")["spec"]["template"]
    spec = container(template, "register")
    environment = container_environment(template, "register", SECRET)
    assert environment["TEMPORAL_ADDRESS"] == resource("ConfigMap", "claimflow")["data"]["CLAIMFLOW_TEMPORAL_ADDRESS"]
    environment |= {"TEMPORAL_ADDRESS": bare_temporal.client.service_client.config.target_host, "HOME": str(tmp_path)}
    assert await _custom_search_attributes(bare_temporal) == {}

    for _ in range(2):
        result = _run_container_command(spec, environment)
        assert result.returncode == 0, result.stdout + result.stderr
        expected = {key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for key in SEARCH_ATTRIBUTES}
        assert await _custom_search_attributes(bare_temporal) == expected


def test_compose_registers_the_same_search_attributes_and_workers_wait_for_it() -> None:
    setup = compose()["services"]["temporal-setup"]
    script = " ".join(setup["command"])
    job = " ".join(container(resource("Job", "claimflow-search-attributes")["spec"]["template"], "register")["args"])
    for key in SEARCH_ATTRIBUTES:
        assert key.name in script and key.name in job
    assert "|| true" not in script  # a failure to register is not hidden
    assert compose()["services"]["worker"]["depends_on"]["temporal-setup"]["condition"] == (
        "service_completed_successfully"
    )


# --- the sandbox's bind address --------------------------------------------------------------------------------------


def _listening_on(port: int) -> set[str]:
    """The IPv4 addresses (hex, as /proc/net/tcp writes them) a socket listens on at `port`."""
    addresses = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, _, hex_port = local.partition(":")
        if state == "0A" and int(hex_port, 16) == port:
            addresses.add(address)
    return addresses


@pytest.fixture
def sandbox_process(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.parametrize(
    ("where", "listens_on"),
    [("container", "00000000"), ("laptop", "0100007F")],  # 0.0.0.0 and 127.0.0.1
)
def test_sandbox_listens_on_every_interface_in_the_container_and_on_loopback_outside(
    where: str, listens_on: str, tmp_path: Path, sandbox_process: list[subprocess.Popen[bytes]]
) -> None:
    """`claimflow sandbox` started with the image's environment (deploy/Dockerfile ENV) listens on 0.0.0.0, reachable
    from the other containers; without it (`make dev`), on loopback only."""
    port = free_port()
    environment = {"PATH": os.environ["PATH"], "CLAIMFLOW_DATA_DIR": str(tmp_path), "CLAIMFLOW_SANDBOX_PORT": str(port)}
    if where == "container":
        environment |= dockerfile_environment() | SECRET
        environment |= {
            "CLAIMFLOW_PROCESSOR_URL": "https://sandbox:8100",
            "CLAIMFLOW_PUBLIC_API_URL": "https://api:8000",
        }
    log = (tmp_path / "sandbox.log").open("wb")
    process = subprocess.Popen(
        [str(find_binary("claimflow")), "sandbox"], env=environment, cwd=tmp_path, stdout=log, stderr=log
    )
    sandbox_process.append(process)
    deadline = time.monotonic() + 60
    while not _listening_on(port) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _listening_on(port) == {listens_on}, (tmp_path / "sandbox.log").read_text()


# --- pods: security, probes, drain ------------------------------------------------------------------------------------


def test_every_pod_runs_as_non_root_with_a_read_only_root_and_no_capabilities_within_limits() -> None:
    (image_user,) = [
        line.split()[1] for line in (DEPLOY / "Dockerfile").read_text().splitlines() if line.startswith("USER")
    ]
    for name, template in pod_templates():
        pod = template["spec"]["securityContext"]
        assert pod["runAsNonRoot"] is True, name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert template["spec"]["automountServiceAccountToken"] is False, name
        for spec in template["spec"]["containers"]:
            if spec["image"].startswith("claimflow:"):
                assert str(pod["runAsUser"]) == image_user, name
            security = spec["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"] == {"drop": ["ALL"]}, name
            assert {"cpu", "memory"} <= set(spec["resources"]["requests"]), name
            assert "memory" in spec["resources"]["limits"], name
            assert {"name": "tmp", "mountPath": "/tmp"} in spec["volumeMounts"], name  # the only writable place


def test_api_probes_its_health_routes_and_stops_taking_requests_before_it_stops() -> None:
    from api.routers.health import router

    template = resource("Deployment", "claimflow-api")["spec"]["template"]
    api = container(template, "api")
    routes = {route.path for route in router.routes}  # type: ignore[attr-defined]
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz" in routes
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz" in routes
    assert api["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"  # the API serves TLS in production
    drain = int(api["lifecycle"]["preStop"]["exec"]["command"][1])
    assert template["spec"]["terminationGracePeriodSeconds"] > drain + STOP_DEADLINE_SECONDS


def test_worker_grace_period_outlasts_its_drain() -> None:
    template = resource("Deployment", "claimflow-worker")["spec"]["template"]
    grace = template["spec"]["terminationGracePeriodSeconds"]
    assert grace > STOP_DEADLINE_SECONDS
    assert grace > SHUTDOWN_SECONDS > ACTIVITY_GRACE.total_seconds()


def test_worker_readiness_probe_is_ready_when_temporal_answers_and_not_when_it_does_not(
    bare_temporal: WorkflowEnvironment,
) -> None:
    """The worker serves no health endpoint: its readiness probe checks that Temporal's frontend accepts a
    connection from the pod, and it does (exit 0) against a live server and does not (non-zero) against a dead port."""
    worker = container(resource("Deployment", "claimflow-worker")["spec"]["template"], "worker")
    assert "livenessProbe" not in worker or "exec" not in worker["livenessProbe"]
    command = worker["readinessProbe"]["exec"]["command"]
    assert command[0] == "python"
    for address, ready in (
        (bare_temporal.client.service_client.config.target_host, True),
        (f"127.0.0.1:{free_port()}", False),
    ):
        result = subprocess.run(
            [sys.executable, *command[1:]],
            env={"CLAIMFLOW_TEMPORAL_ADDRESS": address},
            capture_output=True,
            timeout=30,
            check=False,
        )
        assert (result.returncode == 0) is ready, (address, result.stderr)


# --- scaling, disruption, network ---------------------------------------------------------------------------------


def _pod_labels(deployment: str) -> dict[str, str]:
    return dict(resource("Deployment", deployment)["spec"]["template"]["metadata"]["labels"])


def test_hpa_scales_the_worker_and_budgets_keep_one_of_each_serving() -> None:
    (hpa,) = of_kind("HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "claimflow-worker"}
    assert hpa["spec"]["minReplicas"] >= 2
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    budgets = {pdb["metadata"]["name"]: pdb for pdb in of_kind("PodDisruptionBudget")}
    for deployment in ("claimflow-worker", "claimflow-api"):
        assert selects(budgets[deployment]["spec"]["selector"], _pod_labels(deployment))
        assert budgets[deployment]["spec"]["minAvailable"] == 1
        selector = resource("Deployment", deployment)["spec"]["selector"]
        assert selects(selector, _pod_labels(deployment))
    assert selects(
        {"matchLabels": resource("Service", "claimflow-api")["spec"]["selector"]}, _pod_labels("claimflow-api")
    )
    assert not selects(
        {"matchLabels": resource("Service", "claimflow-api")["spec"]["selector"]}, _pod_labels("claimflow-worker")
    )


def _allowed(direction: str, labels: dict[str, str]) -> list[dict[str, Any]]:
    """The rules of every NetworkPolicy that selects pods with `labels` in `direction` (ingress or egress)."""
    rules: list[dict[str, Any]] = []
    for policy in of_kind("NetworkPolicy"):
        spec = policy["spec"]
        if direction.capitalize() in spec["policyTypes"] and selects(spec["podSelector"], labels):
            rules += spec.get(direction, [])
    return rules


def _ports(rules: list[dict[str, Any]]) -> set[int]:
    return {port["port"] for rule in rules for port in rule.get("ports", [])}


def test_network_denies_by_default_and_opens_api_ingress_and_worker_egress_to_temporal_postgresql_and_processor() -> (
    None
):
    default = resource("NetworkPolicy", "claimflow-default-deny")["spec"]
    assert default == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    worker, api = _pod_labels("claimflow-worker"), _pod_labels("claimflow-api")
    assert _ports(_allowed("ingress", api)) == {8000}
    assert _ports(_allowed("ingress", worker)) <= {9464}  # at most Prometheus's scrape of its metrics port
    assert {7233, 5432, 443, 53} <= _ports(_allowed("egress", worker))
    (to_temporal,) = [rule for rule in _allowed("egress", worker) if _ports([rule]) == {7233}]
    (peer,) = to_temporal["to"]
    assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "temporal"}
    assert selects(
        peer["podSelector"],
        {
            "app.kubernetes.io/name": "temporal",
            "app.kubernetes.io/instance": "temporal",
            "app.kubernetes.io/component": "frontend",
        },
    )
    job_labels = resource("Job", "claimflow-search-attributes")["spec"]["template"]["metadata"]["labels"]
    assert 7233 in _ports(_allowed("egress", job_labels))
    migrate_labels = resource("Job", "claimflow-migrate")["spec"]["template"]["metadata"]["labels"]
    assert 5432 in _ports(_allowed("egress", migrate_labels))
