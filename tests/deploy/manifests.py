"""What the deploy tests read: the Kubernetes manifests, the Dockerfile's environment and the compose file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "k8s"

Resource = dict[str, Any]


def resources() -> list[tuple[Path, Resource]]:
    """Every resource in deploy/k8s/*.yaml, with its file."""
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        found += [(path, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def resource(kind: str, name: str) -> Resource:
    matches = [doc for _, doc in resources() if doc["kind"] == kind and doc["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def of_kind(kind: str) -> list[Resource]:
    return [doc for _, doc in resources() if doc["kind"] == kind]


def pod_templates() -> Iterator[tuple[str, Resource]]:
    """The pod template of every Deployment and Job, by `Kind/name`."""
    for _, doc in resources():
        if doc["kind"] in {"Deployment", "Job"}:
            yield f"{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]


def container(template: Resource, name: str) -> Resource:
    (found,) = [c for c in template["spec"]["containers"] if c["name"] == name]
    return dict(found)


def container_environment(template: Resource, name: str, secrets: dict[str, str]) -> dict[str, str]:
    """The variables the container starts with: its envFrom ConfigMaps (from the manifests) and Secrets (`secrets`
    stands in for every Secret), then its env (values and ConfigMap keys)."""
    spec = container(template, name)
    environment: dict[str, str] = {}
    for source in spec.get("envFrom", []):
        if "configMapRef" in source:
            environment |= resource("ConfigMap", source["configMapRef"]["name"])["data"]
        else:
            environment |= secrets
    for variable in spec.get("env", []):
        if "value" in variable:
            environment[variable["name"]] = variable["value"]
        else:
            ref = variable["valueFrom"]["configMapKeyRef"]
            environment[variable["name"]] = resource("ConfigMap", ref["name"])["data"][ref["key"]]
    return environment


def selects(selector: Resource, labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels, matchExpressions with In/NotIn/Exists) selects `labels`."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        if operator == "In" and labels.get(key) not in expression["values"]:
            return False
        if operator == "NotIn" and labels.get(key) in expression["values"]:
            return False
        if operator == "Exists" and key not in labels:
            return False
    return True


def dockerfile_environment() -> dict[str, str]:
    """The ENV the image sets (deploy/Dockerfile), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    environment = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for pair in line[4:].split():
                key, _, value = pair.partition("=")
                environment[key] = value
    return environment


def compose() -> Resource:
    document = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(document, dict)
    return document
