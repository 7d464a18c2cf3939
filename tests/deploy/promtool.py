"""promtool (Prometheus's rule checker) for the deploy tests: find it, run it, and check PromQL expressions with it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from workers.binaries import find_binary

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ALERTS = DEPLOY / "prometheus" / "alerts.yaml"
DASHBOARD = DEPLOY / "grafana" / "claimflow.json"

#: The metrics the engine exports (the API's and the worker's /metrics) and the Temporal SDK's that deploy/ uses.
EXPORTED_METRICS = frozenset(
    {
        "claimflow_claims",
        "claimflow_claim_status_seconds",
        "claimflow_sla_breaches",
        "claimflow_claims_stuck",
        "claimflow_first_pass_acceptance_ratio",
        "claimflow_denials_total",
        "claimflow_webhook_delivery_failures_total",
        "claimflow_http_requests_total",
        "claimflow_http_request_duration_seconds",
        "temporal_activity_schedule_to_start_latency",
        "temporal_workflow_task_schedule_to_start_latency",
        "temporal_activity_execution_latency",
        "temporal_worker_task_slots_available",
        "temporal_sticky_cache_size",
        "up",
    }
)
_METRIC = re.compile(r"\b((?:claimflow|temporal)_[a-z0-9_]+|up)\b(?!\s*\()")
_HISTOGRAM_SERIES = re.compile(r"_(bucket|sum|count)$")


def promtool() -> Path:
    """promtool from the venv or PATH; CI installs it (deploy/install-promtool.sh), so a missing one fails."""
    try:
        return find_binary("promtool")
    except FileNotFoundError:
        raise AssertionError(
            "promtool is not installed: run `bash deploy/install-promtool.sh` (it puts Debian's promtool into .venv/bin)"
        ) from None


def run_promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool(), *map(str, args)], capture_output=True, text=True, timeout=60, check=False)


def alert_rules() -> list[dict[str, object]]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def metric_names(expression: str) -> set[str]:
    """The metric names an expression reads (a histogram's _bucket/_sum/_count series by the histogram's name);
    label values and strings are left out."""
    without_strings = re.sub(r'"[^"]*"', '""', expression)
    without_labels = re.sub(r"\{[^}]*\}", "", without_strings)
    without_grouping = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", without_labels)
    names = set()
    for name in _METRIC.findall(without_grouping):
        base = _HISTOGRAM_SERIES.sub("", name)
        names.add(base if base in EXPORTED_METRICS else name)
    return names


def check_expressions(expressions: dict[str, str], folder: Path) -> subprocess.CompletedProcess[str]:
    """Run `promtool check rules` over the expressions as recording rules: promtool parses each as PromQL."""
    rules = [
        {"record": "check:" + re.sub(r"\W", "_", name), "expr": expression} for name, expression in expressions.items()
    ]
    path = folder / "expressions.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "expressions", "rules": rules}]}))
    return run_promtool("check", "rules", path)
