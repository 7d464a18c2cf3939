"""deploy/prometheus/alerts.yaml: promtool accepts it, each alert fires on its condition (and not on a healthy
engine), and every expression reads only metrics the engine exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.deploy.promtool import ALERTS, EXPORTED_METRICS, alert_rules, metric_names, run_promtool


@dataclass(frozen=True)
class Scenario:
    """Input series (promtool's expanding notation, one sample a minute), a time the alert must still be quiet,
    a later time it must fire, and the labels and summary it fires with."""

    series: dict[str, str]
    quiet_at: str
    firing_at: str
    summary: str
    labels: dict[str, str] = field(default_factory=dict)


def _histogram(name: str, labels: str, buckets: dict[str, str]) -> dict[str, str]:
    return {f'{name}_bucket{{{labels},le="{le}"}}': values for le, values in buckets.items()}


SCENARIOS: dict[str, Scenario] = {
    "ClaimflowClaimsStuck": Scenario(
        {'claimflow_claims_stuck{job="claimflow-api"}': "0 3x60"},
        quiet_at="20m",
        firing_at="45m",
        summary="3 claims have waited longer than expected in their status",
    ),
    "ClaimflowClaimsStuckPilingUp": Scenario(
        {'claimflow_claims_stuck{job="claimflow-api"}': "30x60"},
        quiet_at="10m",
        firing_at="20m",
        summary="30 claims are stuck: claims are piling up",
    ),
    "ClaimflowSlaBreaches": Scenario(
        {'claimflow_sla_breaches{job="claimflow-api"}': "0 0 2x30"},
        quiet_at="4m",
        firing_at="10m",
        summary="2 claims in review are past their review SLA",
    ),
    "ClaimflowFirstPassAcceptanceLow": Scenario(
        {'claimflow_first_pass_acceptance_ratio{job="claimflow-api"}': "0.7x200"},
        quiet_at="60m",
        firing_at="150m",
        summary="First-pass acceptance is 70%",
    ),
    "ClaimflowWebhookDeliveriesFailing": Scenario(
        {'claimflow_webhook_delivery_failures_total{job="claimflow-api"}': "0+60x60"},
        quiet_at="10m",
        firing_at="30m",
        summary="Webhook deliveries to subscribers are failing (1/s)",
    ),
    "ClaimflowApiErrorRate": Scenario(
        {
            'claimflow_http_requests_total{job="claimflow-api",route="/v1/claims",method="POST",status="202"}': "0+540x60",
            'claimflow_http_requests_total{job="claimflow-api",route="/v1/claims",method="POST",status="503"}': "0+60x60",
        },
        quiet_at="5m",
        firing_at="20m",
        summary="10% of API requests fail with 5xx",
    ),
    "ClaimflowApiSlow": Scenario(
        _histogram(
            "claimflow_http_request_duration_seconds",
            'job="claimflow-api",route="/v1/claims",method="POST"',
            {"0.5": "0x60", "5": "0+10x60", "+Inf": "0+10x60"},
        ),
        quiet_at="10m",
        firing_at="25m",
        summary="p99 latency of /v1/claims is 4.955s",
        labels={"route": "/v1/claims"},
    ),
    "ClaimflowApiDown": Scenario(
        {'up{job="claimflow-api",instance="api-1"}': "0x30"},
        quiet_at="3m",
        firing_at="10m",
        summary="No API replica answers Prometheus's scrapes",
    ),
    "ClaimflowWorkersDown": Scenario(
        # No worker series at all (every worker pod gone): the alert still fires.
        {'up{job="claimflow-api",instance="api-1"}': "1x30"},
        quiet_at="3m",
        firing_at="10m",
        summary="No claimflow worker is running",
    ),
    "ClaimflowWorkerInstanceDown": Scenario(
        {
            'up{job="claimflow-worker",instance="worker-1"}': "1x60",
            'up{job="claimflow-worker",instance="worker-2"}': "1 1 1 0x60",
        },
        quiet_at="8m",
        firing_at="20m",
        summary="Worker worker-2 does not answer scrapes",
        labels={"job": "claimflow-worker", "instance": "worker-2"},
    ),
    "ClaimflowActivityScheduleToStartHigh": Scenario(
        _histogram(
            "temporal_activity_schedule_to_start_latency",
            'job="claimflow-worker",task_queue="claims"',
            {"1000": "0x60", "10000": "0+10x60", "+Inf": "0+10x60"},
        ),
        quiet_at="5m",
        firing_at="20m",
        summary="Activities wait 9.55k ms (p95) in claims before a worker takes them",
        labels={"task_queue": "claims"},
    ),
    "ClaimflowWorkflowTaskScheduleToStartHigh": Scenario(
        _histogram(
            "temporal_workflow_task_schedule_to_start_latency",
            'job="claimflow-worker",task_queue="claims"',
            {"100": "0x60", "5000": "0+10x60", "+Inf": "0+10x60"},
        ),
        quiet_at="5m",
        firing_at="20m",
        summary="Workflow tasks wait 4.755k ms (p95) in claims",
        labels={"task_queue": "claims"},
    ),
    "ClaimflowWorkerSlotsExhausted": Scenario(
        {
            'temporal_worker_task_slots_available{instance="worker-1",worker_type="ActivityWorker"}': "0x60",
            'temporal_worker_task_slots_available{instance="worker-1",worker_type="WorkflowWorker"}': "5x60",
        },
        quiet_at="10m",
        firing_at="20m",
        summary="worker-1 has had no free ActivityWorker slot for 15 minutes",
        labels={"instance": "worker-1", "worker_type": "ActivityWorker"},
    ),
}

#: A healthy engine for an hour: two workers and two API replicas up, nothing stuck or overdue, 0.1% errors, fast.
HEALTHY_SERIES: dict[str, str] = {
    'up{job="claimflow-api",instance="api-1"}': "1x60",
    'up{job="claimflow-api",instance="api-2"}': "1x60",
    'up{job="claimflow-worker",instance="worker-1"}': "1x60",
    'up{job="claimflow-worker",instance="worker-2"}': "1x60",
    'claimflow_claims_stuck{job="claimflow-api"}': "0x60",
    'claimflow_sla_breaches{job="claimflow-api"}': "0x60",
    'claimflow_first_pass_acceptance_ratio{job="claimflow-api"}': "0.97x60",
    'claimflow_webhook_delivery_failures_total{job="claimflow-api"}': "0x60",
    'claimflow_http_requests_total{job="claimflow-api",route="/v1/claims",method="POST",status="202"}': "0+999x60",
    'claimflow_http_requests_total{job="claimflow-api",route="/v1/claims",method="POST",status="500"}': "0+1x60",
    **_histogram(
        "claimflow_http_request_duration_seconds",
        'job="claimflow-api",route="/v1/claims",method="POST"',
        {"0.1": "0+10x60", "5": "0+10x60", "+Inf": "0+10x60"},
    ),
    **_histogram(
        "temporal_activity_schedule_to_start_latency",
        'job="claimflow-worker",task_queue="claims"',
        {"50": "0+10x60", "10000": "0+10x60", "+Inf": "0+10x60"},
    ),
    **_histogram(
        "temporal_workflow_task_schedule_to_start_latency",
        'job="claimflow-worker",task_queue="claims"',
        {"50": "0+10x60", "5000": "0+10x60", "+Inf": "0+10x60"},
    ),
    'temporal_worker_task_slots_available{instance="worker-1",worker_type="ActivityWorker"}': "12x60",
}


def _unit_tests(rules: list[dict[str, object]]) -> dict[str, object]:
    """promtool's unit-test file: each scenario's alert quiet, then firing; every alert quiet on a healthy engine."""
    by_name = {str(rule["alert"]): rule for rule in rules}
    tests: list[dict[str, object]] = []
    for name, scenario in SCENARIOS.items():
        rule = by_name[name]
        severity = dict(rule["labels"])  # type: ignore[call-overload]
        description = dict(rule["annotations"])["description"]  # type: ignore[call-overload]
        expected = [
            {
                "exp_labels": {**severity, **scenario.labels},
                "exp_annotations": {"summary": scenario.summary, "description": description},
            }
        ]
        tests.append(
            {
                "interval": "1m",
                "input_series": [{"series": series, "values": values} for series, values in scenario.series.items()],
                "alert_rule_test": [
                    {"eval_time": scenario.quiet_at, "alertname": name, "exp_alerts": []},
                    {"eval_time": scenario.firing_at, "alertname": name, "exp_alerts": expected},
                ],
            }
        )
    tests.append(
        {
            "interval": "1m",
            "input_series": [{"series": series, "values": values} for series, values in HEALTHY_SERIES.items()],
            "alert_rule_test": [{"eval_time": "59m", "alertname": name, "exp_alerts": []} for name in by_name],
        }
    )
    return {"rule_files": [str(ALERTS)], "evaluation_interval": "1m", "tests": tests}


def test_promtool_accepts_the_rules() -> None:
    result = run_promtool("check", "rules", ALERTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


def test_every_alert_has_a_scenario_and_the_issue_topics_are_covered() -> None:
    names = {str(rule["alert"]) for rule in alert_rules()}
    assert names == set(SCENARIOS)
    for topic in ("Stuck", "SlaBreaches", "ErrorRate", "WorkersDown", "ScheduleToStart"):
        assert any(topic in name for name in names), topic


def test_each_alert_fires_on_its_condition_after_its_for_and_none_fires_on_a_healthy_engine(tmp_path: Path) -> None:
    unit_tests = tmp_path / "alerts.test.yaml"
    unit_tests.write_text(yaml.safe_dump(_unit_tests(alert_rules()), sort_keys=False))
    result = run_promtool("test", "rules", unit_tests)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_a_broken_scenario_fails_promtools_unit_test(tmp_path: Path) -> None:
    """The unit test above can fail: a scenario expecting the wrong summary is refused."""
    document = _unit_tests(alert_rules())
    tests = document["tests"]
    assert isinstance(tests, list)
    tests[0]["alert_rule_test"][1]["exp_alerts"][0]["exp_annotations"]["summary"] = "something else"
    unit_tests = tmp_path / "broken.test.yaml"
    unit_tests.write_text(yaml.safe_dump(document, sort_keys=False))
    result = run_promtool("test", "rules", unit_tests)
    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr


def test_rules_read_only_metrics_the_engine_exports_and_carry_a_severity_summary_and_description() -> None:
    for rule in alert_rules():
        read = metric_names(str(rule["expr"]))
        assert read, rule["alert"]
        assert read <= EXPORTED_METRICS, (rule["alert"], read - EXPORTED_METRICS)
        assert dict(rule["labels"])["severity"] in {"warning", "critical"}  # type: ignore[call-overload]
        assert {"summary", "description"} <= set(dict(rule["annotations"]))  # type: ignore[call-overload]
