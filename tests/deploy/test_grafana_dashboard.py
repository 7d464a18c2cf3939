"""deploy/grafana/claimflow.json: it loads as a Grafana dashboard, every panel's query parses as PromQL (promtool),
and reads only metrics the engine exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.deploy.promtool import DASHBOARD, EXPORTED_METRICS, check_expressions, metric_names

#: Grafana's variables in queries, with a value Prometheus would see in their place.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def _dashboard() -> dict[str, Any]:
    document = json.loads(DASHBOARD.read_text())
    assert isinstance(document, dict)
    return document


def _queries() -> dict[str, str]:
    """Every panel's queries, by panel title and ref id, with Grafana's variables filled in."""
    queries = {}
    for panel in _dashboard()["panels"]:
        for target in panel.get("targets", []):
            expression = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expression = expression.replace(variable, value)
            queries[f"{panel['title']} {target['refId']}"] = expression
    return queries


def test_dashboard_loads_with_unique_panel_ids_and_a_prometheus_datasource_variable() -> None:
    dashboard = _dashboard()
    assert dashboard["uid"] == "claimflow"
    assert [v["name"] for v in dashboard["templating"]["list"] if v["type"] == "datasource"] == ["datasource"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["targets"], panel["title"]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]


def test_every_panel_query_parses_as_promql(tmp_path: Path) -> None:
    queries = _queries()
    assert len(queries) >= 15
    assert not [q for q in queries.values() if "$" in q], "a Grafana variable is left in a query"
    result = check_expressions(queries, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(queries)} rules found" in result.stdout


def test_a_broken_query_is_refused_by_the_check(tmp_path: Path) -> None:
    """The parse check above can fail: an unbalanced query is refused."""
    result = check_expressions({"broken": "sum(rate(claimflow_http_requests_total[5m])"}, tmp_path)
    assert result.returncode != 0


def test_dashboard_shows_every_exported_metric_and_nothing_else() -> None:
    read: set[str] = set()
    for expression in _queries().values():
        read |= metric_names(expression)
    assert read == EXPORTED_METRICS
